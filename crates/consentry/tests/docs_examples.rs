//! The example documents in `docs/examples/` are real: this test builds them from fixed
//! example keys, checks that the files in the repository are byte-identical (run with
//! `UPDATE_DOCS=1` to rewrite them after a deliberate format change), and runs
//! `consentry verify` on each.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use consentry_core::certificate::Certificate;
use consentry_core::checkpoint::Checkpoint;
use consentry_core::event::{ConsentState, EventBody, EventType};
use consentry_core::ids::{EventId, ProofId, RequestId, SubjectId, TenantId};
use consentry_core::keys::{LogKey, SealKey};
use consentry_core::merkle::{Hash, MemoryLog};
use consentry_core::proof::{
    Decision, Method, Notice, PROOF_TYPE, ProofBody, Recipient, RecipientCategory,
};
use consentry_core::time::Timestamp;
use consentry_core::tlog_proof::TlogProof;
use std::path::PathBuf;
use std::process::Command;

const ORIGIN: &str = "consentry.example/log";

fn examples() -> Vec<(&'static str, String)> {
    // Example keys, from all-0x5e and all-0x10 seeds: public, never use them.
    let seal = SealKey::from_seed(&[0x5e; 32]);
    let log_key = LogKey::from_seed(ORIGIN, &[0x10; 32]).unwrap();
    let mut log = MemoryLog::new();
    for i in 0..41u64 {
        log.append(Hash::digest(format!("earlier entry {i}").as_bytes()));
    }
    let notice = "Nous vous enverrons notre lettre d'information mensuelle.";
    let proof = ProofBody {
        kind: PROOF_TYPE.into(),
        log: ORIGIN.into(),
        id: ProofId::parse("prf_0kx3m9q2v7w4e8r1t6y5u0i").unwrap(),
        tenant: TenantId::parse("ten_acme").unwrap(),
        subject: SubjectId::parse("sub_4f1c9e2a7b3d").unwrap(),
        purpose: "newsletter".into(),
        decision: Decision::Granted,
        method: Method::Delegated,
        recipient: Recipient {
            address_commitment: "5b0e0f4a2e31d83f6a0b1d3f0f3c5c1c52a1a7a0f1e6f0e4d4a5b2c3d4e5f6a7"
                .into(),
            category: RecipientCategory::Private,
        },
        notice: Some(Notice {
            sha256: Hash::digest(notice.as_bytes()).to_hex(),
            version: Some("2026-11".into()),
            language: Some("fr".into()),
            url: None,
        }),
        evidence: None,
        request: Some(RequestId::parse("req_7h2k9d3f").unwrap()),
        valid_until: Some(Timestamp::parse("2029-11-23T19:04:05.123Z").unwrap()),
        recorded_at: Timestamp::parse("2026-11-23T19:04:05.123Z").unwrap(),
        log_index: 41,
    }
    .seal(&seal)
    .unwrap();
    log.append(proof.leaf_hash().unwrap());
    for i in 42..57u64 {
        log.append(Hash::digest(format!("later entry {i}").as_bytes()));
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
    let path = log.inclusion_proof(41, size).unwrap();
    let cert =
        Certificate::new(&proof, &path, note.clone(), log_key.verifier_key(), vec![]).unwrap();
    let tlog = TlogProof::from_certificate(&cert).unwrap().to_text();
    // A reveal that relied on the proof: a later entry of the same log (not under this
    // example's checkpoint).
    let event = EventBody {
        kind: EventType::Access,
        log: ORIGIN.into(),
        id: EventId::parse("evt_0kx3n2b8c5d1f7g4h9j6k0l").unwrap(),
        tenant: TenantId::parse("ten_acme").unwrap(),
        subject: SubjectId::parse("sub_4f1c9e2a7b3d").unwrap(),
        actor: "key_0kx3a1b2c3d4e5f6".into(),
        purpose: Some("newsletter".into()),
        fields: vec!["email".into(), "name".into()],
        proof: Some(proof.body.id.clone()),
        consent: Some(ConsentState::Granted),
        reason_commitment: Some(
            "9d4c2a7e1b0f3d5c8e6a4b2d0f1e3c5a7b9d2e4f6a8c0b1d3e5f7a9c2b4d6e8f".into(),
        ),
        recorded_at: Timestamp::parse("2026-11-30T08:15:42.250Z").unwrap(),
        log_index: 57,
    }
    .seal(&seal)
    .unwrap();
    let keys = format!(
        "seal public key (base64): {}\nseal key fingerprint (sha256): {}\nlog verifier key: {}\n",
        seal.public().to_base64(),
        seal.public().fingerprint(),
        log_key.verifier_key()
    );
    vec![
        (
            "proof.json",
            serde_json::to_string_pretty(&proof).unwrap() + "\n",
        ),
        (
            "proof.canonical.json",
            String::from_utf8(proof.entry_bytes().unwrap()).unwrap(),
        ),
        (
            "certificate.json",
            serde_json::to_string_pretty(&cert).unwrap() + "\n",
        ),
        ("certificate.tlog-proof", tlog),
        ("checkpoint.txt", note),
        (
            "event.json",
            serde_json::to_string_pretty(&event).unwrap() + "\n",
        ),
        ("keys.txt", keys),
        (
            // What the example operator publishes at /.well-known/consentry.json: the
            // keys `consentry verify --trust` and the Python verifier's --trust pin.
            "well-known.json",
            serde_json::to_string_pretty(&serde_json::json!({
                "log": {"origin": ORIGIN, "verifier_key": log_key.verifier_key()},
                "seal_keys": [{
                    "alg": "Ed25519",
                    "key_id": seal.public().key_id(),
                    "public_key": seal.public().to_base64(),
                    "fingerprint": seal.public().fingerprint(),
                }],
                "previous_log_keys": [],
                "public_url": "https://consentry.example",
            }))
            .unwrap()
                + "\n",
        ),
    ]
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples")
}

#[test]
fn docs_examples_are_current_and_verify() {
    let update = std::env::var_os("UPDATE_DOCS").is_some();
    for (name, content) in examples() {
        let path = dir().join(name);
        if update {
            std::fs::write(&path, &content).unwrap();
        }
        let on_disk = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}; run with UPDATE_DOCS=1", path.display()));
        assert_eq!(
            on_disk, content,
            "{name} is stale; run with UPDATE_DOCS=1 after a deliberate change"
        );
    }
    let keys = std::fs::read_to_string(dir().join("keys.txt")).unwrap();
    let field = |label: &str| {
        keys.lines()
            .find_map(|l| l.strip_prefix(label))
            .unwrap()
            .trim()
            .to_owned()
    };
    let (seal_key, log_key) = (
        field("seal public key (base64):"),
        field("log verifier key:"),
    );
    for file in [
        "proof.json",
        "certificate.json",
        "certificate.tlog-proof",
        "event.json",
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_consentry"))
            .args(["verify", "--seal-key", &seal_key, "--log-key", &log_key])
            .arg(dir().join(file))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{file}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // The same keys, pinned on first use from the operator's published document.
        let store = tempfile::tempdir().unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_consentry"))
            .arg("verify")
            .arg("--trust")
            .arg(dir().join("well-known.json"))
            .arg("--trust-store")
            .arg(store.path())
            .arg(dir().join(file))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{file} with --trust: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
