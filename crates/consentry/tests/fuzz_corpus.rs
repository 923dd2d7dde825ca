//! Replays every seed of `fuzz/corpus/<target>/` on the stable toolchain, through the very
//! function each cargo-fuzz target calls (`consentry_core::fuzz::*`,
//! `consentry_server::contacts_csv::fuzz_parse`). The fuzzer needs nightly and minutes;
//! this runs in the normal suite, so a finding committed to a corpus (a crash input from
//! `fuzz/artifacts/`) keeps failing here until it is fixed, and a change that breaks a
//! parser's invariants on the seeds is caught without fuzzing.
//!
//! It fails on a target without a corpus directory, on an empty one, and on a target of
//! `fuzz/Cargo.toml` this file does not know: nothing is skipped silently.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use consentry_core::fuzz;
use consentry_core::verify::Verdict;
use std::path::{Path, PathBuf};

type Body = fn(&[u8]) -> String;

/// Every fuzz target and its body; the returned text is what the replay prints per file.
const TARGETS: &[(&str, Body)] = &[
    ("verify_document", |d| match fuzz::verify_document(d) {
        Ok(Verdict::Valid) => "valid".into(),
        Ok(Verdict::Untrusted) => "untrusted".into(),
        Ok(Verdict::Invalid) => "invalid".into(),
        Err(e) => format!("unusable: {e}"),
    }),
    ("signed_note", |d| {
        fuzz::signed_note(d);
        "ok".into()
    }),
    ("tlog_proof", |d| {
        fuzz::tlog_proof(d);
        "ok".into()
    }),
    ("proof", |d| {
        fuzz::proof(d);
        "ok".into()
    }),
    ("rfc3161", |d| {
        fuzz::rfc3161(d);
        "ok".into()
    }),
    (
        "contacts_csv",
        |d| match consentry_server::contacts_csv::fuzz_parse(d) {
            Ok(rows) => format!("{rows} rows"),
            Err(bad) => format!("{bad} bad lines"),
        },
    ),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("corpus directory {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_fuzz_target_has_a_replayed_corpus() {
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
    let declared: Vec<&str> = manifest
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .filter(|n| *n != "consentry-fuzz")
        .collect();
    let known: Vec<&str> = TARGETS.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        declared, known,
        "fuzz/Cargo.toml's targets and this replay's must be the same, in the same order"
    );
    for target in ["rfc3161", "contacts_csv", "verify_document", "signed_note"] {
        assert!(known.contains(&target), "{target} is fuzzed");
    }
}

#[test]
fn fuzz_corpora_replay_without_panic() {
    let mut total = 0;
    for (target, body) in TARGETS {
        let dir = fuzz_dir().join("corpus").join(target);
        let files = files(&dir);
        assert!(!files.is_empty(), "{} is empty", dir.display());
        for file in files {
            let data = std::fs::read(&file).unwrap();
            let outcome = std::panic::catch_unwind(|| body(&data)).unwrap_or_else(|_| {
                panic!("{target} panicked on {}", file.display());
            });
            println!("{target} {}: {outcome}", file.display());
            total += 1;
        }
    }
    assert!(total > 0);
}

/// The seeds reach the deep end of each parser, not only its first refusal: a fuzzer
/// starting from them mutates accepted documents.
#[test]
fn fuzz_seeds_are_accepted_where_they_should_be() {
    let corpus = fuzz_dir().join("corpus");
    let read = |t: &str, f: &str| std::fs::read(corpus.join(t).join(f)).unwrap();
    assert!(matches!(
        fuzz::verify_document(&read("verify_document", "certificate.json")),
        Ok(Verdict::Valid | Verdict::Untrusted)
    ));
    assert_eq!(
        consentry_server::contacts_csv::fuzz_parse(&read("contacts_csv", "docs-example.csv")),
        Ok(2)
    );
    assert_eq!(
        consentry_server::contacts_csv::fuzz_parse(&read("contacts_csv", "bom.csv")),
        Ok(1)
    );
    assert_eq!(
        consentry_server::contacts_csv::fuzz_parse(&read("contacts_csv", "semicolon.csv")),
        Ok(2)
    );
    assert_eq!(
        consentry_server::contacts_csv::fuzz_parse(&read(
            "contacts_csv",
            "french-excel-windows-1252.csv"
        )),
        Ok(2)
    );
    let token = read("rfc3161", "token-ec.der");
    let imprint: [u8; 32] =
        <sha2::Sha256 as sha2::Digest>::digest(b"example.org/log\n42\nAAAA\n").into();
    let facts = consentry_core::anchor::rfc3161::check_token(&token, &imprint, None, &[]).unwrap();
    assert_eq!(facts.serial.len() % 2, 0);
    assert_eq!(
        consentry_core::anchor::rfc3161::parse_response(&read("rfc3161", "response-granted.der"))
            .unwrap(),
        token
    );
    // The RSA-signed token (openssl ts, over the same body with the same nonce) reaches
    // the RSA signature check and passes it.
    let rsa = read("rfc3161", "token-rsa.der");
    let facts = consentry_core::anchor::rfc3161::check_token(
        &rsa,
        &imprint,
        Some(&[0x89, 0xaa, 0xb1, 0xe7, 0x91, 0xa6, 0x26, 0x47]),
        &[],
    )
    .unwrap();
    assert!(!facts.serial.is_empty());
    assert_eq!(
        consentry_core::anchor::rfc3161::parse_response(&read(
            "rfc3161",
            "response-granted-rsa.der"
        ))
        .unwrap(),
        rsa
    );
}
