//! Consentry's verifier for the browser.
//!
//! The public `/verify` page lets anyone check a proof or certificate without sending it
//! anywhere: the page loads this crate compiled to `wasm32-unknown-unknown` and runs the
//! very checks `consentry verify` runs (`consentry_core::verify`), inside the browser.
//!
//! The crate is split in two so that almost all of it is safe, ordinary Rust:
//! - [`verify_json`] (this file) turns a document's bytes into the JSON report the page
//!   renders. It is safe and unit-tested natively, on the documented examples and on
//!   tampered copies of them;
//! - `abi` (`src/abi.rs`) is the raw WebAssembly interface — `alloc`, `dealloc`,
//!   `verify` — and the only place in the workspace where `unsafe` is allowed: without
//!   wasm-bindgen, moving bytes across the JavaScript boundary means handing out and
//!   taking back raw pointers into the module's linear memory.
//!
//! The report is shaped for a page, not for a program that already links the core:
//! `{outcome, kind, proof_id, leaf_hash, anchored_by, checks: [{name, status, detail}],
//! error?}` with `outcome` one of `valid`, `untrusted`, `invalid`, `unusable` — the four
//! results `consentry verify` reports as exit codes 0, 3, 1 and 2.

use consentry_core::verify::{Check, DocumentKind, TrustedKeys, Verdict, verify_document};
use serde::Serialize;

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
#[allow(unsafe_code)]
mod abi;

/// The overall result, as the page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every signature checks against a pinned key and every anchor against a chosen root.
    Valid,
    /// No check failed, but a key or an anchor is not rooted in anything pinned.
    Untrusted,
    /// A check failed: the document was altered, or is not what it claims.
    Invalid,
    /// The input is not a document this verifier can check at all.
    Unusable,
}

/// The report handed to the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebReport {
    /// Valid, invalid or unusable.
    pub outcome: Outcome,
    /// Which document was checked; absent (`null`) when the input was unusable.
    pub kind: Option<DocumentKind>,
    /// The proof's ID (an event's ID for an event), when the document held one.
    pub proof_id: Option<String>,
    /// The proof's log entry hash (hex), when the document held a proof.
    pub leaf_hash: Option<String>,
    /// The earliest time an anchor that passed its checks puts on the checkpoint (RFC
    /// 3339, UTC): the proof existed by then.
    pub anchored_by: Option<String>,
    /// Every check made, in order, with the core's own names and details.
    pub checks: Vec<Check>,
    /// Why the input was unusable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Verifies `bytes` (a `consentry.proof/v1` or `consentry.certificate/v1` JSON document,
/// a `consentry.anchors/v1` history, a sealed log event, or a C2SP tlog-proof) with no
/// pinned keys, as `consentry verify FILE` does without
/// `--seal-key`/`--log-key`: signatures are checked against the keys the document
/// carries, and the report says the keys were not compared with the operator's.
pub fn verify(bytes: &[u8]) -> WebReport {
    report_of(verify_document(bytes, &TrustedKeys::default()))
}

fn report_of(
    result: Result<consentry_core::verify::Report, consentry_core::verify::Unusable>,
) -> WebReport {
    match result {
        Ok(report) => WebReport {
            outcome: match report.verdict {
                Verdict::Valid => Outcome::Valid,
                Verdict::Untrusted => Outcome::Untrusted,
                Verdict::Invalid => Outcome::Invalid,
            },
            kind: Some(report.kind),
            // An anchor history names no proof: the core leaves these empty.
            proof_id: Some(report.proof_id).filter(|s| !s.is_empty()),
            leaf_hash: Some(report.leaf_hash).filter(|s| !s.is_empty()),
            anchored_by: report.anchored_by,
            checks: report.checks,
            error: None,
        },
        Err(unusable) => WebReport {
            outcome: Outcome::Unusable,
            kind: None,
            proof_id: None,
            leaf_hash: None,
            anchored_by: None,
            checks: Vec::new(),
            error: Some(unusable.to_string()),
        },
    }
}

/// The keys a page pins: `{"seal": ["<base64 Ed25519 key>", …], "log":
/// ["origin+hexid+base64", …]}`, as the `/verify` page hands them in (the serving
/// operator's, or those a visitor pasted).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Pins {
    #[serde(default)]
    seal: Vec<String>,
    #[serde(default)]
    log: Vec<String>,
}

fn trusted_keys(pins: &[u8]) -> Result<TrustedKeys, String> {
    let value = consentry_core::strict_json::parse(pins).map_err(|e| e.to_string())?;
    let pins: Pins = serde_json::from_value(value).map_err(|e| e.to_string())?;
    let mut trusted = TrustedKeys::default();
    for k in &pins.seal {
        trusted.seal.push(
            consentry_core::keys::SealPublicKey::from_base64(k)
                .map_err(|e| format!("seal key {k}: {e}"))?,
        );
    }
    for k in pins.log {
        consentry_core::checkpoint::verifier_key_label(&k)
            .map_err(|e| format!("log key {k}: {e}"))?;
        trusted.log.push(k);
    }
    Ok(trusted)
}

/// Verifies `bytes` against the keys `pins` names (JSON, see `Pins`): a signature
/// under another key fails, and only pinned keys make a document valid.
pub fn verify_pinned(bytes: &[u8], pins: &[u8]) -> WebReport {
    match trusted_keys(pins) {
        Ok(trusted) => report_of(verify_document(bytes, &trusted)),
        Err(e) => report_of(Err(consentry_core::verify::Unusable::Malformed {
            kind: "pinned keys",
            reason: e,
        })),
    }
}

/// [`verify_pinned`], serialised as the UTF-8 JSON the page reads.
pub fn verify_pinned_json(bytes: &[u8], pins: &[u8]) -> String {
    serde_json::to_string(&verify_pinned(bytes, pins))
        .unwrap_or_else(|_| SERIALISATION_FAILED.to_owned())
}

/// The report of last resort, should serialising the real one ever fail: the page must
/// always receive JSON it can show.
const SERIALISATION_FAILED: &str = r#"{"outcome":"unusable","kind":null,"proof_id":null,"leaf_hash":null,"anchored_by":null,"checks":[],"error":"the verification report could not be written as JSON"}"#;

/// Checks the view of the log a page is shown (`consentry_core::monitor::check_view`):
/// `input` is a `ViewInput` as JSON (the pinned keys, the checkpoint remembered in the
/// browser, the latest checkpoint, the proofs the page fetched); the result is a
/// `ViewReport` as UTF-8 JSON. Input that cannot be read gives an `invalid` report saying
/// why.
pub fn monitor_json(input: &[u8]) -> String {
    use consentry_core::monitor::{Relation, ViewInput, ViewReport, check_view};
    let report = consentry_core::strict_json::parse(input)
        .map_err(|e| e.to_string())
        .and_then(|v| serde_json::from_value::<ViewInput>(v).map_err(|e| e.to_string()))
        .map(|input| check_view(&input))
        .unwrap_or_else(|e| ViewReport {
            relation: Relation::Invalid,
            size: None,
            remembered_size: None,
            cosigned_by: Vec::new(),
            remember: None,
            entries: Vec::new(),
            problem: Some(format!("the page's input could not be read: {e}")),
        });
    serde_json::to_string(&report).unwrap_or_else(|_| MONITOR_FAILED.to_owned())
}

/// [`monitor_json`]'s report of last resort.
const MONITOR_FAILED: &str = r#"{"relation":"invalid","size":null,"remembered_size":null,"cosigned_by":[],"remember":null,"entries":[],"problem":"the report could not be written as JSON"}"#;

/// [`verify`], serialised as the UTF-8 JSON the page reads.
pub fn verify_json(bytes: &[u8]) -> String {
    serde_json::to_string(&verify(bytes)).unwrap_or_else(|_| SERIALISATION_FAILED.to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::Value;

    const PROOF: &[u8] = include_bytes!("../../../docs/examples/proof.json");
    const CERTIFICATE: &[u8] = include_bytes!("../../../docs/examples/certificate.json");

    fn report(bytes: &[u8]) -> Value {
        serde_json::from_str(&verify_json(bytes)).unwrap()
    }

    fn status<'a>(r: &'a Value, name: &str) -> &'a str {
        r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no check {name} in {r}"))["status"]
            .as_str()
            .unwrap()
    }

    fn json(bytes: &[u8]) -> Value {
        serde_json::from_slice(bytes).unwrap()
    }

    #[test]
    fn monitor_reports_unreadable_input_as_invalid_and_checks_a_real_view() {
        let r: Value = serde_json::from_str(&monitor_json(b"{")).unwrap();
        assert_eq!(r["relation"], "invalid");
        assert!(r["problem"].as_str().unwrap().contains("could not be read"));
        // A real one-entry log: the checkpoint signed by the pinned key, the proof's leaf
        // is the root.
        let key =
            consentry_core::keys::LogKey::from_seed("consentry.example/log", &[5; 32]).unwrap();
        let entry = consentry_core::canonical::to_canonical_bytes(&json(PROOF)).unwrap();
        let cp = consentry_core::checkpoint::Checkpoint {
            origin: "consentry.example/log".into(),
            size: 42,
            root: consentry_core::merkle::leaf_hash(&entry),
            extensions: vec![],
        };
        let input = serde_json::json!({
            "log_keys": [key.verifier_key()],
            "checkpoint": cp.sign(&key).unwrap(),
            "latest": true,
        });
        let r: Value = serde_json::from_str(&monitor_json(input.to_string().as_bytes())).unwrap();
        assert_eq!(r["relation"], "first", "{r}");
        assert_eq!(r["size"], 42);
    }

    #[test]
    fn the_example_proof_is_untrusted_without_a_pinned_key_with_its_seal_passed() {
        let r = report(PROOF);
        assert_eq!(r["outcome"], "untrusted", "{r}");
        assert_eq!(r["kind"], "proof");
        assert_eq!(r["proof_id"], json(PROOF)["id"]);
        assert_eq!(status(&r, "seal"), "passed");
        // No key pinned: the seal holds, but is not rooted.
        assert_eq!(status(&r, "seal_key"), "untrusted");
        assert_eq!(status(&r, "inclusion"), "not_checked");
        assert!(r.get("error").is_none(), "{r}");
        for c in r["checks"].as_array().unwrap() {
            assert!(!c["detail"].as_str().unwrap().is_empty(), "{c}");
        }
    }

    #[test]
    fn the_example_certificate_holds_with_inclusion_and_checkpoint_passed() {
        let r = report(CERTIFICATE);
        assert_eq!(r["outcome"], "untrusted", "{r}");
        assert_eq!(r["kind"], "certificate");
        for name in [
            "seal",
            "leaf_index",
            "checkpoint_signature",
            "log_origin",
            "inclusion",
        ] {
            assert_eq!(status(&r, name), "passed", "{name}: {r}");
        }
    }

    #[test]
    fn a_changed_purpose_breaks_the_seal() {
        let mut doc = json(PROOF);
        doc["purpose"] = "newsletteR".into();
        let r = report(doc.to_string().as_bytes());
        assert_eq!(r["outcome"], "invalid", "{r}");
        assert_eq!(status(&r, "seal"), "failed");
    }

    #[test]
    fn a_changed_inclusion_hash_fails_inclusion_only() {
        let mut doc = json(CERTIFICATE);
        let first = doc["inclusion"][0].as_str().unwrap().to_owned();
        // Flip one bit of the first byte: still 32 bytes of base64, another hash.
        let mut bytes = consentry_core::merkle::Hash::from_base64(&first)
            .unwrap()
            .to_base64()
            .into_bytes();
        bytes[0] = if bytes[0] == b'A' { b'B' } else { b'A' };
        doc["inclusion"][0] = String::from_utf8(bytes).unwrap().into();
        let r = report(doc.to_string().as_bytes());
        assert_eq!(r["outcome"], "invalid", "{r}");
        assert_eq!(status(&r, "inclusion"), "failed");
        assert_eq!(status(&r, "seal"), "passed");
        assert_eq!(status(&r, "checkpoint_signature"), "passed");
    }

    #[test]
    fn a_changed_purpose_inside_a_certificate_fails_seal_and_inclusion() {
        let mut doc = json(CERTIFICATE);
        doc["proof"]["purpose"] = "newsletteR".into();
        let r = report(doc.to_string().as_bytes());
        assert_eq!(r["outcome"], "invalid", "{r}");
        assert_eq!(status(&r, "seal"), "failed");
        assert_eq!(status(&r, "inclusion"), "failed");
    }

    #[test]
    fn garbage_empty_and_foreign_documents_are_unusable_with_a_reason() {
        for input in [
            b"not json at all".as_slice(),
            b"",
            b"{\"type\": \"something/else\"}",
            b"[1, 2, 3]",
            &CERTIFICATE[..CERTIFICATE.len() / 2],
            &[0xff, 0xfe, 0x00],
        ] {
            let r = report(input);
            assert_eq!(r["outcome"], "unusable", "{r}");
            assert!(r["kind"].is_null(), "{r}");
            assert_eq!(r["checks"], Value::Array(Vec::new()));
            assert!(!r["error"].as_str().unwrap().is_empty(), "{r}");
        }
    }

    #[test]
    fn the_report_is_the_cores_report_check_for_check() {
        let core =
            consentry_core::verify::verify_document(CERTIFICATE, &TrustedKeys::default()).unwrap();
        let web = verify(CERTIFICATE);
        assert_eq!(web.checks, core.checks);
        assert_eq!(web.leaf_hash.as_deref(), Some(core.leaf_hash.as_str()));
    }

    #[test]
    fn pinned_keys_make_the_example_valid_and_other_keys_invalid() {
        let keys = include_str!("../../../docs/examples/keys.txt");
        let value = |label: &str| {
            keys.lines()
                .find_map(|l| l.strip_prefix(label).map(|v| v.trim().to_owned()))
                .unwrap_or_else(|| panic!("no {label} in keys.txt"))
        };
        let seal = value("seal public key (base64):");
        let log = value("log verifier key:");
        let pins = serde_json::json!({"seal": [seal], "log": [log]}).to_string();
        let r: Value =
            serde_json::from_str(&verify_pinned_json(CERTIFICATE, pins.as_bytes())).unwrap();
        assert_eq!(r["outcome"], "valid", "{r}");
        assert_eq!(status(&r, "seal_key"), "passed");
        assert_eq!(status(&r, "log_key"), "passed");
        let other = consentry_core::keys::SealKey::from_seed(&[9; 32])
            .public()
            .to_base64();
        let pins = serde_json::json!({"seal": [other]}).to_string();
        let r: Value = serde_json::from_str(&verify_pinned_json(PROOF, pins.as_bytes())).unwrap();
        assert_eq!(r["outcome"], "invalid", "{r}");
        let r: Value =
            serde_json::from_str(&verify_pinned_json(PROOF, b"{\"seal\": [\"x\"]}")).unwrap();
        assert_eq!(r["outcome"], "unusable", "{r}");
        assert!(r["error"].as_str().unwrap().contains("pinned keys"), "{r}");
    }

    #[test]
    fn the_fallback_report_is_valid_json_of_the_same_shape() {
        let v: Value = serde_json::from_str(SERIALISATION_FAILED).unwrap();
        assert_eq!(v["outcome"], "unusable");
        assert!(v["checks"].as_array().unwrap().is_empty());
        assert!(v["error"].is_string());
    }
}
