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

/// The example subject's commitment key (all 0x7c: public, never use it) and address.
const COMMITMENT_KEY: [u8; 32] = [0x7c; 32];
const ADDRESS: &str = "jean.dupont@example.fr";

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
            address_commitment: consentry_core::disclosure::commitment(
                &COMMITMENT_KEY,
                "address",
                ADDRESS.as_bytes(),
            ),
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
        given_at: None,
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
        ground: None,
        recorded_at: Timestamp::parse("2026-11-30T08:15:42.250Z").unwrap(),
        log_index: 57,
    }
    .seal(&seal)
    .unwrap();
    // The proof disclosed for a dispute: the address and the opening of its commitment.
    let disclosure = consentry_core::disclosure::DisclosureBody {
        kind: consentry_core::disclosure::DISCLOSURE_TYPE.into(),
        log: ORIGIN.into(),
        event: EventId::parse("evt_0kx3p4q5r6s7t8u9v0w1x2y").unwrap(),
        proof: proof.body.id.clone(),
        proof_leaf_hash: proof.leaf_hash().unwrap().to_hex(),
        subject: proof.body.subject.clone(),
        ground: consentry_core::disclosure::Ground::LegalClaim,
        address: ADDRESS.into(),
        opening: consentry_core::disclosure::Opening {
            scope: consentry_core::disclosure::OpeningScope::Subject,
            commitment_key: hex::encode(COMMITMENT_KEY),
        },
        evidence: None,
        asserted: Some(consentry_core::disclosure::Asserted {
            name: Some("Jean Dupont".into()),
            postal_address: None,
            phone: None,
        }),
        disclosed_at: Timestamp::parse("2026-12-01T09:30:00.000Z").unwrap(),
    }
    .seal(&seal)
    .unwrap();
    // A consent recorded by hand from a paper form signed three weeks before it was
    // entered (`given_at`), with the notice shown and a validity counted from the
    // signature. Sealed by the same key; it stands alone (seal only, not in the example
    // log under the checkpoint).
    let manual_notice = "Nous vous enverrons des photos de l'événement.";
    let manual = ProofBody {
        kind: PROOF_TYPE.into(),
        log: ORIGIN.into(),
        id: ProofId::parse("prf_01jd9m2p7q").unwrap(),
        tenant: TenantId::parse("ten_acme").unwrap(),
        subject: SubjectId::parse("sub_4f1c9e2a7b3d").unwrap(),
        purpose: "photos".into(),
        decision: Decision::Granted,
        method: Method::Manual,
        recipient: Recipient {
            address_commitment: consentry_core::disclosure::commitment(
                &COMMITMENT_KEY,
                "address",
                ADDRESS.as_bytes(),
            ),
            category: RecipientCategory::Private,
        },
        notice: Some(Notice {
            sha256: Hash::digest(manual_notice.as_bytes()).to_hex(),
            version: Some("1".into()),
            language: Some("fr".into()),
            url: None,
        }),
        evidence: Some(consentry_core::disclosure::commitment(
            &COMMITMENT_KEY,
            "evidence",
            b"formulaire papier n 42",
        )),
        request: None,
        valid_until: Some(Timestamp::parse("2027-11-02T23:00:00.000Z").unwrap()),
        given_at: Some(Timestamp::parse("2026-11-02T23:00:00.000Z").unwrap()),
        recorded_at: Timestamp::parse("2026-11-23T19:04:05.123Z").unwrap(),
        log_index: 40,
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
            "proof-manual.json",
            serde_json::to_string_pretty(&manual).unwrap() + "\n",
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
            // The example seal key handing over to the key of seed 0x5f (§7.1).
            "key-rotation.json",
            serde_json::to_string_pretty(
                &consentry_core::rotation::RotationStatement::seal(
                    ORIGIN,
                    &seal,
                    SealKey::from_seed(&[0x5f; 32]).public(),
                    "2026-12-01T00:00:00Z",
                )
                .unwrap(),
            )
            .unwrap()
                + "\n",
        ),
        (
            "disclosure.json",
            serde_json::to_string_pretty(&disclosure).unwrap() + "\n",
        ),
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
        "proof-manual.json",
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
    // The disclosure opens the proof's address commitment, with the proof or its
    // certificate; a changed address does not.
    for doc in ["proof.json", "certificate.json"] {
        let out = Command::new(env!("CARGO_BIN_EXE_consentry"))
            .args([
                "verify",
                "--seal-key",
                &seal_key,
                "--log-key",
                &log_key,
                "--json",
            ])
            .arg(dir().join(doc))
            .arg("--disclosure")
            .arg(dir().join("disclosure.json"))
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(out.status.success(), "{doc}: {report:#}");
        let status = |name: &str| {
            report["checks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == name)
                .unwrap_or_else(|| panic!("no {name}: {report:#}"))["status"]
                .clone()
        };
        for name in [
            "disclosure_seal",
            "disclosure_seal_key",
            "disclosure_proof",
            "address_opening",
        ] {
            assert_eq!(status(name), "passed", "{name}: {report:#}");
        }
    }
    let text = std::fs::read_to_string(dir().join("disclosure.json")).unwrap();
    let forged = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        forged.path(),
        text.replace(ADDRESS, "marie.durand@example.fr"),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(["verify", "--seal-key", &seal_key])
        .arg(dir().join("proof.json"))
        .arg("--disclosure")
        .arg(forged.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAILED  disclosure_seal") && stdout.contains("FAILED  address_opening"),
        "{stdout}"
    );
}
