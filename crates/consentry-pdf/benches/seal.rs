//! `cargo bench -p consentry-pdf --bench seal`: sealed PDFs per second on one core — the
//! layout, the PDF/A-3b document with the proof JSON attached, and the PAdES seal (ECDSA
//! P-256, and RSA 2048 for comparison) — and their size; plus the in-place B-T upgrade
//! (the CMS re-encoded with a time-stamp token, the TSA's round trip excluded).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use consentry_pdf::{Attachment, Language, ProofSummary, SealIdentity, Sealing, proof_pdf};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn summary() -> ProofSummary {
    ProofSummary {
        language: Language::Fr,
        sender_name: "Boulangerie Dupré & Fils".into(),
        subject: "sub_01JD2K3M4N5P6Q7R8S9T0V1W2X".into(),
        purpose: "Lettre d’information mensuelle".into(),
        decision: "granted".into(),
        method: "delegated".into(),
        recorded_at_utc: "2026-11-23T19:04:05.123Z".into(),
        recorded_at_local: "23/11/2026 20:04:05 (Europe/Paris)".into(),
        given_at_local: None,
        proof_id: "prf_01JD2K3M4N5P6Q7R8S9T0V1W2X".into(),
        log_index: 4242,
        log_origin: "consentry.example/log".into(),
        seal_key_fingerprint: "3f".repeat(32),
        leaf_hash: "a7".repeat(32),
        verify_url: "https://consentry.example/verify".into(),
    }
}

/// A proof entry of the usual size (about 900 bytes).
fn entry() -> Vec<u8> {
    format!("{{\"proof\":\"{}\"}}", "x".repeat(880)).into_bytes()
}

fn bench(c: &mut Criterion) {
    let p256 = SealIdentity::self_issued("consentry.example/log", 1_796_677_200, &[5; 64]).unwrap();
    let entry = entry();
    let sealing = |identity| Sealing {
        identity,
        sealed_at_unix: 1_796_677_200,
        attachments: vec![Attachment {
            file_name: "prf_01JD2K3M4N5P6Q7R8S9T0V1W2X.json",
            description: "La preuve scellée",
            media_type: "application/json",
            bytes: &entry,
        }],
    };
    let s = summary();
    let pdf = proof_pdf(&s, &sealing(&p256)).unwrap();
    eprintln!("sealed proof PDF (P-256, B-B): {} bytes", pdf.len());
    c.bench_function("pdf/sealed proof (P-256)", |b| {
        b.iter(|| proof_pdf(black_box(&s), &sealing(&p256)).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
