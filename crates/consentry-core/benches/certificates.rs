//! `cargo bench -p consentry-core --bench certificates`: the time to produce the
//! certificates of 1,000,000 proofs after one anchor, serialized, on one core; and their
//! size at that log size, without and with a real EVM anchor (recorded from anvil).
//!
//! Each certificate is what `GET /v1/proofs/{id}/certificate` serves: the sealed proof,
//! its RFC 9162 inclusion path to the anchored checkpoint, the signed checkpoint, the
//! log key and the anchors, as JSON bytes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]
#![allow(clippy::disallowed_methods)] // a benchmark reads the clock

use consentry_core::certificate::{Certificate, CertificateWriter};
use consentry_core::checkpoint::Checkpoint;
use consentry_core::ids::{ProofId, SubjectId, TenantId};
use consentry_core::keys::{LogKey, SealKey};
use consentry_core::merkle::MemoryLog;
use consentry_core::proof::{
    Decision, Method, PROOF_TYPE, ProofBody, Recipient, RecipientCategory, SealedProof,
};
use consentry_core::time::Timestamp;
use std::hint::black_box;
use std::time::Instant;

const N: u64 = 1_000_000;

fn proof(i: u64, origin: &str, seal: &SealKey) -> SealedProof {
    ProofBody {
        kind: PROOF_TYPE.into(),
        log: origin.into(),
        id: ProofId::parse(&format!("prf_{:026x}", i)).unwrap(),
        tenant: TenantId::parse("ten_acme").unwrap(),
        subject: SubjectId::parse(&format!("sub_{:020x}", i * 7919)).unwrap(),
        purpose: "newsletter".into(),
        decision: Decision::Granted,
        method: Method::Delegated,
        recipient: Recipient {
            address_commitment: "ab".repeat(32),
            category: RecipientCategory::Private,
        },
        notice: None,
        evidence: Some("cd".repeat(32)),
        request: None,
        valid_until: None,
        given_at: None,
        recorded_at: Timestamp::from_unix_millis(1_795_460_645_000 + i as i64).unwrap(),
        log_index: i,
    }
    .seal(seal)
    .unwrap()
}

fn main() {
    let origin = "consentry.example/log";
    let seal = SealKey::from_seed(&[1; 32]);
    let log_key = LogKey::from_seed(origin, &[2; 32]).unwrap();

    let t = Instant::now();
    let proofs: Vec<SealedProof> = (0..N).map(|i| proof(i, origin, &seal)).collect();
    let mut log = MemoryLog::with_capacity(N as usize);
    for p in &proofs {
        log.append(p.leaf_hash().unwrap());
    }
    println!(
        "setup: {N} proofs sealed and appended in {:.1} s (not counted)",
        t.elapsed().as_secs_f64()
    );

    let note = Checkpoint {
        origin: origin.into(),
        size: N,
        root: log.root(N).unwrap(),
        extensions: vec![],
    }
    .sign(&log_key)
    .unwrap();
    let vkey = log_key.verifier_key();
    let evm: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(include_str!("../tests/vectors/evm_anchor.json")).unwrap();

    // What the service stores for each proof: its log entry (canonical JSON).
    let entries: Vec<Vec<u8>> = proofs.iter().map(|p| p.entry_bytes().unwrap()).collect();

    // The straightforward way, for comparison: a JSON tree per certificate.
    let t = Instant::now();
    for p in proofs.iter().take(100_000) {
        let path = log.inclusion_proof(p.body.log_index, N).unwrap();
        let cert = Certificate::new(p, &path, note.clone(), vkey.clone(), vec![]).unwrap();
        black_box(serde_json::to_vec(&cert).unwrap());
    }
    println!(
        "for comparison, through a JSON tree (Certificate::new + serde_json): {:.2} µs each",
        t.elapsed().as_secs_f64() * 1e6 / 100_000.0
    );

    for (label, anchors) in [("no anchor", vec![]), ("one EVM anchor", vec![evm])] {
        let t = Instant::now();
        let writer = CertificateWriter::new(&note, &vkey, &anchors).unwrap();
        let mut total = 0usize;
        let mut sizes = Vec::with_capacity(N as usize);
        let mut out = Vec::with_capacity(8192);
        for (p, entry) in proofs.iter().zip(&entries) {
            let i = p.body.log_index;
            let path = log.inclusion_proof(i, N).unwrap();
            out.clear();
            writer.write(&mut out, entry, i, &path);
            total += out.len();
            sizes.push(out.len());
            black_box(&out);
        }
        let secs = t.elapsed().as_secs_f64();
        sizes.sort_unstable();
        println!(
            "certificates ({label}): {N} in {secs:.2} s ({:.0}/s, {:.2} µs each); JSON size min {} B, median {} B, max {} B; {:.1} MB in all",
            N as f64 / secs,
            secs * 1e6 / N as f64,
            sizes[0],
            sizes[sizes.len() / 2],
            sizes[sizes.len() - 1],
            total as f64 / 1e6
        );
    }
}
