//! End-to-end tests of `consentry verify`: the real binary on good, tampered and
//! malformed proof and certificate files, checking exit codes and the reasons printed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use consentry_core::certificate::Certificate;
use consentry_core::checkpoint::Checkpoint;
use consentry_core::ids::{ProofId, SubjectId, TenantId};
use consentry_core::keys::{LogKey, SealKey};
use consentry_core::merkle::MemoryLog;
use consentry_core::proof::{
    Decision, Method, PROOF_TYPE, ProofBody, Recipient, RecipientCategory, SealedProof,
};
use consentry_core::time::Timestamp;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

const ORIGIN: &str = "consentry.test/log";

struct Fixture {
    dir: tempfile::TempDir,
    proof: SealedProof,
    cert: Certificate,
    seal_key_b64: String,
    log_vkey: String,
}

fn fixture() -> Fixture {
    let seal = SealKey::from_seed(&[11; 32]);
    let log_key = LogKey::from_seed(ORIGIN, &[12; 32]).unwrap();
    let mut log = MemoryLog::new();
    let mut proofs = Vec::new();
    for i in 0..11u64 {
        let body = ProofBody {
            kind: PROOF_TYPE.into(),
            log: ORIGIN.into(),
            id: ProofId::from_suffix(&format!("p{i}")).unwrap(),
            tenant: TenantId::parse("ten_acme").unwrap(),
            subject: SubjectId::from_suffix(&format!("s{i}")).unwrap(),
            purpose: "newsletter".into(),
            decision: if i % 3 == 0 {
                Decision::Refused
            } else {
                Decision::Granted
            },
            method: Method::Manual,
            recipient: Recipient {
                address_commitment: format!("{i:064x}"),
                category: RecipientCategory::Private,
            },
            notice: None,
            evidence: None,
            request: None,
            valid_until: None,
            given_at: None,
            recorded_at: Timestamp::from_unix_millis(1_795_460_645_000 + i as i64).unwrap(),
            log_index: i,
        };
        let sealed = body.seal(&seal).unwrap();
        log.append(sealed.leaf_hash().unwrap());
        proofs.push(sealed);
    }
    let size = log.size();
    let note = Checkpoint {
        origin: ORIGIN.into(),
        size,
        root: log.root(size).unwrap(),
        extensions: vec![],
    }
    .sign(&log_key)
    .unwrap();
    let proof = proofs[6].clone();
    let path = log.inclusion_proof(6, size).unwrap();
    let cert = Certificate::new(&proof, &path, note, log_key.verifier_key(), vec![]).unwrap();
    Fixture {
        dir: tempfile::tempdir().unwrap(),
        proof,
        cert,
        seal_key_b64: seal.public().to_base64(),
        log_vkey: log_key.verifier_key(),
    }
}

impl Fixture {
    fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        p
    }
    fn cert_json(&self) -> Value {
        serde_json::to_value(&self.cert).unwrap()
    }
    fn proof_json(&self) -> Value {
        serde_json::to_value(&self.proof).unwrap()
    }
}

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

fn verify(file: &Path, extra: &[&str]) -> Outcome {
    let out = Command::new(env!("CARGO_BIN_EXE_consentry"))
        .arg("verify")
        .arg(file)
        .args(extra)
        .output()
        .unwrap();
    Outcome {
        code: out.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

#[test]
fn a_proof_is_valid_only_against_a_pinned_seal_key() {
    let f = fixture();
    let p = f.write(
        "proof.json",
        serde_json::to_vec_pretty(&f.proof_json()).unwrap(),
    );
    // No key pinned: the seal holds, but anyone can seal with a key of their own.
    let o = verify(&p, &[]);
    assert_eq!(o.code, 3, "{}{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("ok      seal"), "{}", o.stdout);
    assert!(o.stdout.contains("UNROOTED seal_key"), "{}", o.stdout);
    assert!(o.stdout.contains("--seal-key"), "{}", o.stdout);
    assert!(
        o.stdout
            .trim_end()
            .lines()
            .last()
            .unwrap()
            .starts_with("UNTRUSTED"),
        "{}",
        o.stdout
    );
    // Pinned: valid.
    let o = verify(&p, &["--seal-key", &f.seal_key_b64]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert!(o.stdout.trim_end().ends_with("VALID"), "{}", o.stdout);
    // Another key pinned: invalid.
    let other = consentry_core::keys::SealKey::from_seed(&[0x42; 32])
        .public()
        .to_base64();
    let o = verify(&p, &["--seal-key", &other]);
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
}

#[test]
fn trust_pins_the_operators_published_keys_on_first_use_only() {
    let f = fixture();
    let cert = f.write("cert.json", serde_json::to_vec(&f.cert_json()).unwrap());
    let origin = f.log_vkey.split('+').next().unwrap().to_owned();
    let well_known = |seal: &str, log: &str| {
        serde_json::json!({
            "log": {"origin": origin, "verifier_key": log},
            "seal_keys": [{"alg": "Ed25519", "public_key": seal}],
            "previous_log_keys": [],
        })
        .to_string()
    };
    let store = f.dir.path().join("trust-store");
    let store_arg = store.to_str().unwrap();
    let doc = f.write("well-known.json", well_known(&f.seal_key_b64, &f.log_vkey));
    let o = verify(
        &cert,
        &["--trust", doc.to_str().unwrap(), "--trust-store", store_arg],
    );
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert!(o.stderr.contains("first use of log"), "{}", o.stderr);
    // Later the document lists another seal key: it is named and not trusted, and the
    // pinned keys still are (the certificate, sealed and signed with them, stays valid).
    let other_seal = consentry_core::keys::SealKey::from_seed(&[0x43; 32]);
    let swapped = f.write(
        "well-known-2.json",
        well_known(&other_seal.public().to_base64(), &f.log_vkey),
    );
    let o = verify(
        &cert,
        &[
            "--trust",
            swapped.to_str().unwrap(),
            "--trust-store",
            store_arg,
        ],
    );
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert!(o.stderr.contains("not trusted"), "{}", o.stderr);
    // A document with a duplicate member is refused, not read one way.
    let dup = f.write(
        "well-known-dup.json",
        r#"{"log":{"origin":"a","origin":"b"}}"#,
    );
    let o = verify(
        &cert,
        &["--trust", dup.to_str().unwrap(), "--trust-store", store_arg],
    );
    assert_eq!(o.code, 2, "{}{}", o.stdout, o.stderr);
    assert!(o.stderr.contains("appears twice"), "{}", o.stderr);
    // A malformed block hash is unusable input.
    let o = verify(&cert, &["--evm-block", "0x1234"]);
    assert_eq!(o.code, 2, "{}{}", o.stdout, o.stderr);
    assert!(o.stderr.contains("--evm-block"), "{}", o.stderr);
}

#[test]
fn a_valid_certificate_verifies_with_pinned_keys() {
    let f = fixture();
    let p = f.write("cert.json", serde_json::to_vec(&f.cert_json()).unwrap());
    let o = verify(
        &p,
        &["--seal-key", &f.seal_key_b64, "--log-key", &f.log_vkey],
    );
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    for check in [
        "seal",
        "seal_key",
        "leaf_index",
        "checkpoint_signature",
        "log_key",
        "log_origin",
        "inclusion",
    ] {
        assert!(
            o.stdout.contains(&format!("ok      {check} ")),
            "{check} in {}",
            o.stdout
        );
    }
}

#[test]
fn json_report_lists_every_check() {
    let f = fixture();
    let p = f.write("cert.json", serde_json::to_vec(&f.cert_json()).unwrap());
    let o = verify(&p, &["--json"]);
    // Nothing pinned: untrusted (exit 3), though no check failed.
    assert_eq!(o.code, 3);
    let report: Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(report["valid"], true);
    assert_eq!(report["verdict"], "untrusted");
    assert_eq!(report["kind"], "certificate");
    assert_eq!(report["proof_id"], "prf_p6");
    let names: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"inclusion") && names.contains(&"checkpoint_signature"),
        "{names:?}"
    );
}

#[test]
fn a_changed_decision_breaks_the_seal_and_the_inclusion() {
    let f = fixture();
    let mut c = f.cert_json();
    c["proof"]["decision"] = json!("revoked");
    let o = verify(&f.write("c.json", c.to_string()), &[]);
    assert_eq!(o.code, 1, "{}", o.stdout);
    assert!(
        o.stdout.contains("FAILED  seal")
            && o.stdout
                .contains("seal signature does not match the proof's content"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains("FAILED  inclusion")
            && o.stdout
                .contains("inclusion path does not lead to the checkpoint root"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("INVALID: seal"), "{}", o.stdout);
}

#[test]
fn a_tampered_inclusion_path_is_invalid() {
    let f = fixture();
    let mut c = f.cert_json();
    let first = c["inclusion"][0].as_str().unwrap().to_owned();
    let mut bytes = base64_decode(&first);
    bytes[0] ^= 1;
    c["inclusion"][0] = json!(base64_encode(&bytes));
    let o = verify(&f.write("c.json", c.to_string()), &[]);
    assert_eq!(o.code, 1);
    assert!(
        o.stdout
            .contains("INVALID: inclusion: inclusion path does not lead to the checkpoint root"),
        "{}",
        o.stdout
    );
}

#[test]
fn a_wrong_leaf_index_is_invalid() {
    let f = fixture();
    let mut c = f.cert_json();
    c["leaf_index"] = json!(7);
    let o = verify(&f.write("c.json", c.to_string()), &[]);
    assert_eq!(o.code, 1);
    assert!(o.stdout.contains("FAILED  leaf_index"), "{}", o.stdout);
}

#[test]
fn a_forged_checkpoint_is_invalid() {
    let f = fixture();
    let mut c = f.cert_json();
    let note = c["checkpoint"]
        .as_str()
        .unwrap()
        .replacen("\n11\n", "\n12\n", 1);
    c["checkpoint"] = json!(note);
    let o = verify(&f.write("c.json", c.to_string()), &[]);
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    assert!(
        o.stdout.contains("FAILED  checkpoint_signature")
            && o.stdout.contains("does not verify against log key"),
        "{}",
        o.stdout
    );
}

#[test]
fn a_certificate_from_another_log_key_fails_pinning() {
    let f = fixture();
    let other = LogKey::from_seed(ORIGIN, &[99; 32]).unwrap();
    let p = f.write("c.json", f.cert_json().to_string());
    let o = verify(&p, &["--log-key", &other.verifier_key()]);
    assert_eq!(o.code, 1);
    assert!(o.stdout.contains("FAILED  log_key"), "{}", o.stdout);
}

#[test]
fn unusable_inputs_exit_2_with_a_reason() {
    let f = fixture();
    let full = f.cert_json().to_string();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("not json", b"hello".to_vec(), "not JSON"),
        (
            "truncated",
            full.as_bytes()[..full.len() / 2].to_vec(),
            "not JSON",
        ),
        ("empty", Vec::new(), "not JSON"),
        ("array", b"[1,2]".to_vec(), "not a Consentry document"),
        (
            "wrong type",
            br#"{"type":"something/v1"}"#.to_vec(),
            "unknown document type",
        ),
        (
            "missing members",
            br#"{"type":"consentry.certificate/v1"}"#.to_vec(),
            "malformed certificate",
        ),
        (
            "proof missing seal",
            {
                let mut p = f.proof_json();
                p.as_object_mut().unwrap().remove("seal");
                p.to_string().into_bytes()
            },
            "malformed proof",
        ),
        (
            "bad checkpoint",
            {
                let mut c = f.cert_json();
                c["checkpoint"] = json!("garbage");
                c.to_string().into_bytes()
            },
            "checkpoint",
        ),
        ("binary", vec![0xff, 0xfe, 0x00, 0x01], "not JSON"),
    ];
    for (name, content, reason) in cases {
        let o = verify(&f.write("u.json", content), &[]);
        assert_eq!(o.code, 2, "{name}: {}{}", o.stdout, o.stderr);
        assert!(o.stderr.contains(reason), "{name}: {}", o.stderr);
        assert!(!o.stderr.contains("panicked"), "{name}");
    }
    let o = verify(&f.dir.path().join("does-not-exist.json"), &[]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("cannot read"), "{}", o.stderr);
}

#[test]
fn a_certificate_exports_as_a_tlog_proof_that_verifies_with_the_log_key() {
    let f = fixture();
    let cert = f.write("cert.json", f.cert_json().to_string());
    let out = Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(["tlog-proof"])
        .arg(&cert)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("c2sp.org/tlog-proof@v1\nextra "), "{text}");
    assert!(text.contains("\nindex 6\n"), "{text}");
    assert!(text.ends_with(f.cert.checkpoint.as_str()));
    let tp = f.write("p.tlog-proof", &text);

    let o = verify(
        &tp,
        &["--log-key", &f.log_vkey, "--seal-key", &f.seal_key_b64],
    );
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert!(o.stdout.starts_with("tlog-proof prf_p6"), "{}", o.stdout);
    assert!(o.stdout.contains("ok      inclusion"), "{}", o.stdout);

    // Without the log key there is nothing to check the checkpoint against.
    let o = verify(&tp, &[]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("--log-key"), "{}", o.stderr);

    // A changed path hash is caught.
    let lines: Vec<&str> = text.split('\n').collect();
    let mut h = base64_decode(lines[3]);
    h[31] ^= 0x80;
    let tampered = text.replacen(lines[3], &base64_encode(&h), 1);
    let o = verify(
        &f.write("t.tlog-proof", tampered),
        &["--log-key", &f.log_vkey],
    );
    assert_eq!(o.code, 1, "{}", o.stdout);
    assert!(o.stdout.contains("INVALID: inclusion"), "{}", o.stdout);
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}
