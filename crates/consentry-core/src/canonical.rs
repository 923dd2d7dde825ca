//! RFC 8785 (JCS) canonical JSON: the only bytes Consentry ever hashes or signs.
//!
//! Signing canonical bytes rather than "the bytes we happened to send" lets anyone
//! re-serialise a document (pretty-print it, reorder keys) and still check its seal and
//! leaf hash, as long as the JSON *values* are untouched.

use serde::Serialize;

/// Why a value could not be canonicalised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("value cannot be written as RFC 8785 canonical JSON: {0}")]
pub struct CanonicalError(String);

/// The RFC 8785 canonical bytes of a serialisable value.
pub fn to_canonical_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>, CanonicalError> {
    serde_json_canonicalizer::to_vec(value).map_err(|e| CanonicalError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Examples from RFC 8785 §3.2.2 and §3.2.3 (sorting by UTF-16 code units,
    // ES6 number formatting, minimal string escaping).
    #[test]
    fn rfc8785_section_3_2_2_example() {
        let v: serde_json::Value = serde_json::from_str(
            r#"{
              "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
              "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
              "literals": [null, true, false]
            }"#,
        )
        .unwrap();
        let got = String::from_utf8(to_canonical_bytes(&v).unwrap()).unwrap();
        assert_eq!(
            got,
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
    }

    #[test]
    fn rfc8785_section_3_2_3_sorting() {
        let v: serde_json::Value = serde_json::from_str(
            r#"{"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
                "1": "One", "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis"}"#,
        )
        .unwrap();
        let got = String::from_utf8(to_canonical_bytes(&v).unwrap()).unwrap();
        let values: Vec<&str> = got
            .split("\":\"")
            .skip(1)
            .map(|s| s.split('"').next().unwrap())
            .collect();
        assert_eq!(
            values,
            [
                "Carriage Return",
                "One",
                "Control",
                "Latin Small Letter O With Diaeresis",
                "Euro Sign",
                "Emoji: Grinning Face",
                "Hebrew Letter Dalet With Dagesh"
            ]
        );
    }

    #[test]
    fn key_order_and_whitespace_do_not_change_canonical_bytes() {
        let a = json!({"b": 1, "a": [1, 2, {"z": true, "y": null}]});
        let b: serde_json::Value =
            serde_json::from_str("{ \"a\" : [1,2,{\"y\":null,\"z\":true}], \"b\":1 }").unwrap();
        assert_eq!(
            to_canonical_bytes(&a).unwrap(),
            to_canonical_bytes(&b).unwrap()
        );
    }
}
