//! `cargo bench -p consentry-core`: the core's throughput figures, with ct-merkle and
//! rs_merkle doing the same Merkle work side by side in the same run.
//!
//! Figures printed (criterion's `thrpt`, elements per second):
//! - `log/append_1m`: leaves appended into the in-memory incremental log (leaf hashing
//!   included), target ≥ 1,000,000/s;
//! - `log/inclusion_proof_at_1m`: inclusion proofs generated for a 1,000,000-leaf log,
//!   target ≥ 500,000/s;
//! - `verify/certificate`: certificates verified from their JSON bytes (parse, JCS, seal,
//!   checkpoint signature, inclusion), target ≥ 10,000/s on one core;
//! - `ct_merkle/*` and `rs_merkle/*`: the same appends, roots and proofs by those crates.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use consentry_core::certificate::Certificate;
use consentry_core::checkpoint::Checkpoint;
use consentry_core::ids::{ProofId, SubjectId, TenantId};
use consentry_core::keys::{LogKey, SealKey};
use consentry_core::merkle::{Hash, MemoryLog, leaf_hash};
use consentry_core::proof::{
    Decision, Method, PROOF_TYPE, ProofBody, Recipient, RecipientCategory,
};
use consentry_core::time::Timestamp;
use consentry_core::verify::{TrustedKeys, verify_document};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

const N: u64 = 1_000_000;

fn entries(n: u64) -> Vec<[u8; 32]> {
    (0..n)
        .map(|i| {
            let mut e = [0u8; 32];
            e[..8].copy_from_slice(&i.to_le_bytes());
            e
        })
        .collect()
}

/// A cheap deterministic index sequence (xorshift), so every run proves the same leaves.
fn indices(count: usize, below: u64) -> Vec<u64> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..count)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % below
        })
        .collect()
}

fn log_benches(c: &mut Criterion) {
    let es = entries(N);
    let mut g = c.benchmark_group("log");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N));
    g.bench_function("append_1m", |b| {
        b.iter(|| {
            let mut log = MemoryLog::with_capacity(N as usize);
            for e in &es {
                log.append(leaf_hash(e));
            }
            black_box(log.size())
        })
    });

    let mut log = MemoryLog::with_capacity(N as usize);
    for e in &es {
        log.append(leaf_hash(e));
    }
    let idx = indices(100_000, N);
    g.throughput(Throughput::Elements(idx.len() as u64));
    g.bench_function("inclusion_proof_at_1m", |b| {
        b.iter(|| {
            for &i in &idx {
                black_box(log.inclusion_proof(i, N).unwrap());
            }
        })
    });
    g.throughput(Throughput::Elements(1));
    g.bench_function("root_at_1m", |b| b.iter(|| black_box(log.root(N).unwrap())));
    g.finish();

    let mut g = c.benchmark_group("ct_merkle");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N));
    g.bench_function("append_1m", |b| {
        b.iter(|| {
            let mut t =
                ct_merkle::mem_backed_tree::MemoryBackedTree::<sha2_011::Sha256, [u8; 32]>::new();
            for e in &es {
                t.push(*e);
            }
            black_box(t.root())
        })
    });
    let mut t = ct_merkle::mem_backed_tree::MemoryBackedTree::<sha2_011::Sha256, [u8; 32]>::new();
    for e in &es {
        t.push(*e);
    }
    g.throughput(Throughput::Elements(idx.len() as u64));
    g.bench_function("inclusion_proof_at_1m", |b| {
        b.iter(|| {
            for &i in &idx {
                black_box(t.prove_inclusion(i as usize));
            }
        })
    });
    g.finish();

    let mut g = c.benchmark_group("rs_merkle");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N));
    let leaves: Vec<[u8; 32]> = es.iter().map(|e| leaf_hash(e).0).collect();
    g.bench_function("from_leaves_1m_with_leaf_hashing", |b| {
        b.iter(|| {
            let hashed: Vec<[u8; 32]> = es.iter().map(|e| leaf_hash(e).0).collect();
            let t = rs_merkle::MerkleTree::<rs_merkle::algorithms::Sha256>::from_leaves(&hashed);
            black_box(t.root())
        })
    });
    let t = rs_merkle::MerkleTree::<rs_merkle::algorithms::Sha256>::from_leaves(&leaves);
    g.throughput(Throughput::Elements(idx.len() as u64));
    g.bench_function("inclusion_proof_at_1m", |b| {
        b.iter(|| {
            for &i in &idx {
                black_box(t.proof(&[i as usize]));
            }
        })
    });
    g.finish();
}

fn certificate_bytes() -> Vec<u8> {
    let origin = "consentry.bench/log";
    let seal = SealKey::from_seed(&[1; 32]);
    let log_key = LogKey::from_seed(origin, &[2; 32]).unwrap();
    let mut log = MemoryLog::new();
    let mut target = None;
    // A realistic depth: a 1,000,000-entry log, the proof at an arbitrary index.
    for i in 0..N {
        if i == 765_432 {
            let proof = ProofBody {
                kind: PROOF_TYPE.into(),
                log: origin.into(),
                id: ProofId::parse("prf_01jd7x4k3mabcdefghjkmnpqrs").unwrap(),
                tenant: TenantId::parse("ten_acme").unwrap(),
                subject: SubjectId::parse("sub_9f2c1e77aa").unwrap(),
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
                recorded_at: Timestamp::parse("2026-11-23T19:04:05.123Z").unwrap(),
                log_index: i,
            }
            .seal(&seal)
            .unwrap();
            log.append(proof.leaf_hash().unwrap());
            target = Some(proof);
        } else {
            log.append(Hash::digest(&i.to_le_bytes()));
        }
    }
    let proof = target.unwrap();
    let note = Checkpoint {
        origin: origin.into(),
        size: N,
        root: log.root(N).unwrap(),
        extensions: vec![],
    }
    .sign(&log_key)
    .unwrap();
    let path = log.inclusion_proof(proof.body.log_index, N).unwrap();
    let cert = Certificate::new(&proof, &path, note, log_key.verifier_key(), vec![]).unwrap();
    serde_json::to_vec(&cert).unwrap()
}

fn verify_benches(c: &mut Criterion) {
    let bytes = certificate_bytes();
    let trusted = TrustedKeys::default();
    assert!(verify_document(&bytes, &trusted).unwrap().valid);
    println!(
        "certificate JSON at log size 1,000,000: {} bytes",
        bytes.len()
    );
    let mut g = c.benchmark_group("verify");
    g.throughput(Throughput::Elements(1));
    g.bench_function("certificate", |b| {
        b.iter_batched_ref(
            || bytes.clone(),
            |bytes| black_box(verify_document(bytes, &trusted).unwrap().valid),
            BatchSize::SmallInput,
        )
    });
    // An auditor's case: many certificates from one anchored checkpoint, one Verifier.
    let mut verifier = consentry_core::verify::Verifier::new(TrustedKeys::default());
    g.bench_function("certificates_same_checkpoint", |b| {
        b.iter(|| black_box(verifier.verify(&bytes).unwrap().valid))
    });
    let key = SealKey::from_seed(&[5; 32]);
    let msg = vec![7u8; 600];
    let sig = key.sign(&msg);
    let public = key.public();
    g.bench_function("ed25519_verify_strict_600b", |b| {
        b.iter(|| black_box(public.verify(&msg, &sig)))
    });
    let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    g.bench_function("parse_json", |b| {
        b.iter(|| black_box(serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()))
    });
    g.bench_function("jcs_certificate", |b| {
        b.iter(|| black_box(consentry_core::canonical::to_canonical_bytes(&value).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, log_benches, verify_benches);
criterion_main!(benches);
