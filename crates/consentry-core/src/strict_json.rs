//! Strict JSON for documents a verifier is handed: I-JSON (RFC 7493) and nothing a
//! reader could take two ways.
//!
//! serde_json, like most parsers, keeps the *last* of two members with the same name, so
//! `{"decision":"granted","decision":"refused"}` reads as a refusal to one program and as
//! a grant to a person or a first-wins parser: a document that says two things must not
//! verify as either. Strict parsing refuses, with the reason:
//!
//! - a member name repeated in an object;
//! - a string that is not valid Unicode (a lone surrogate escape such as `"\ud800"`);
//! - an integer beyond ±(2^53 − 1), which many readers (every JavaScript one) silently
//!   round;
//! - a number that is not finite, bytes after the value, nesting deeper than 128.
//!
//! Where a format requires canonical bytes (a stored log entry, a tlog-proof's `extra`),
//! [`canonical_value`] also refuses any byte that RFC 8785 would change.

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// The largest integer magnitude every JSON reader represents exactly: 2^53 − 1.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Why a document is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StrictJsonError {
    /// Not JSON, or JSON this module refuses (the message says which rule).
    #[error("{0}")]
    Refused(String),
    /// Valid JSON whose bytes are not the RFC 8785 canonical form of its value.
    #[error("not in RFC 8785 canonical form (first difference at byte {0})")]
    NotCanonical(usize),
}

/// Parses `bytes` as one strict JSON value.
pub fn parse(bytes: &[u8]) -> Result<Value, StrictJsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = Strict
        .deserialize(&mut de)
        .map_err(|e| StrictJsonError::Refused(e.to_string()))?;
    de.end()
        .map_err(|e| StrictJsonError::Refused(e.to_string()))?;
    Ok(value)
}

/// Parses `bytes` strictly and requires them to be exactly the RFC 8785 canonical form of
/// the value they hold.
pub fn canonical_value(bytes: &[u8]) -> Result<Value, StrictJsonError> {
    let value = parse(bytes)?;
    let canonical = crate::canonical::to_canonical_bytes(&value)
        .map_err(|e| StrictJsonError::Refused(e.to_string()))?;
    if canonical != bytes {
        let at = canonical
            .iter()
            .zip(bytes)
            .position(|(a, b)| a != b)
            .unwrap_or(canonical.len().min(bytes.len()));
        return Err(StrictJsonError::NotCanonical(at));
    }
    Ok(value)
}

struct Strict;

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

fn too_large<E: de::Error>(shown: impl std::fmt::Display) -> E {
    E::custom(format!(
        "the integer {shown} is beyond ±(2^53 − 1): readers would not all read it the same"
    ))
}

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        if v.unsigned_abs() > MAX_SAFE_INTEGER {
            return Err(too_large(v));
        }
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        if v > MAX_SAFE_INTEGER {
            return Err(too_large(v));
        }
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        // Integers too large for i64/u64 arrive here as floats: refuse those beyond the
        // safe range as well.
        if v.fract() == 0.0 && v.abs() > MAX_SAFE_INTEGER as f64 {
            return Err(too_large(v));
        }
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number that is not finite"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Strict)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                let shown: String = key.chars().take(64).collect();
                return Err(de::Error::custom(format!(
                    "the member {shown:?} appears twice in one object: readers would not agree on its value"
                )));
            }
            let value = map.next_value_seed(Strict)?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> String {
        match parse(text.as_bytes()) {
            Err(StrictJsonError::Refused(m)) => m,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn duplicate_members_are_refused_at_any_depth() {
        assert!(
            refused(r#"{"decision":"granted","decision":"refused"}"#)
                .contains("\"decision\" appears twice")
        );
        assert!(refused(r#"{"a":{"b":1,"b":1}}"#).contains("\"b\" appears twice"));
        assert!(refused(r#"[{"x":1},{"y":2,"y":2}]"#).contains("appears twice"));
        // The same name in sibling objects is fine.
        assert!(parse(br#"[{"x":1},{"x":2}]"#).is_ok());
    }

    #[test]
    fn lone_surrogates_are_refused_and_pairs_accepted() {
        assert!(parse(br#""\ud800""#).is_err());
        assert!(parse(br#""\udc00x""#).is_err());
        assert!(parse(br#"{"k\ud800":1}"#).is_err());
        assert_eq!(
            parse(br#""\ud83d\ude00""#).unwrap(),
            Value::String("😀".into())
        );
    }

    #[test]
    fn integers_beyond_the_safe_range_are_refused() {
        assert!(parse(b"9007199254740991").is_ok());
        assert!(parse(b"-9007199254740991").is_ok());
        assert!(refused("9007199254740992").contains("2^53"));
        assert!(refused("-9007199254740992").contains("2^53"));
        assert!(refused("18446744073709551616").contains("2^53"));
        assert!(parse(b"1e400").is_err(), "not a finite number");
        assert!(parse(b"1.5").is_ok());
    }

    #[test]
    fn trailing_bytes_and_non_json_are_refused() {
        assert!(parse(b"{} {}").is_err());
        assert!(parse(b"{").is_err());
        assert!(parse(b"").is_err());
    }

    #[test]
    fn canonical_bytes_only_where_required() {
        assert!(canonical_value(br#"{"a":1,"b":[true,null]}"#).is_ok());
        assert_eq!(
            canonical_value(br#"{"b":1,"a":2}"#),
            Err(StrictJsonError::NotCanonical(2))
        );
        assert!(matches!(
            canonical_value(br#"{"a": 1}"#),
            Err(StrictJsonError::NotCanonical(_))
        ));
        assert!(matches!(
            canonical_value(br#"{"a":"\u0041"}"#),
            Err(StrictJsonError::NotCanonical(_))
        ));
    }
}
