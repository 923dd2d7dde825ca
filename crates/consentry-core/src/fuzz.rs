//! The bodies of the cargo-fuzz targets in `fuzz/`, one function per target.
//!
//! They live in the library, not in the fuzz crate, so that the fuzzer (nightly,
//! libFuzzer) and the corpus replay of the normal test suite (stable,
//! `crates/consentry/tests/fuzz_corpus.rs`) run exactly the same code on the same bytes:
//! a finding committed to a corpus stays a failing test until it is fixed. Each function
//! takes untrusted bytes, must never panic nor hang on them, and asserts the invariants
//! of its parser (a panic here *is* the finding). Nothing calls them outside fuzzing and
//! that replay.

#![allow(
    clippy::expect_used,
    reason = "a broken expectation is exactly the finding the fuzzer reports"
)]

use crate::anchor::rfc3161::{TsaChain, check_token, parse_response, pem_certificates};
use crate::checkpoint::{Checkpoint, parse_signed_checkpoint, verify_signed_checkpoint};
use crate::proof::{SealedProof, verify_seal};
use crate::tlog_proof::TlogProof;
use crate::verify::{TrustedKeys, Unusable, Verdict, Verifier};
use sha2::Digest as _;

/// The log key of `docs/examples`, so the examples reach the signature checks.
pub const EXAMPLE_LOG_VKEY: &str =
    "consentry.example/log+afdc4da7+AVycbfJhycuEBHV3aq782US0BTKPqyj5s6le9ASQ096E";

/// `verify_document`: any bytes given to the verifier (proof, certificate, tlog-proof,
/// anchor history) give a report or an "unusable" error. Returns the verdict, so the
/// replay can check it is one of the four (valid, untrusted, invalid, unusable).
pub fn verify_document(data: &[u8]) -> Result<Verdict, Unusable> {
    let mut v = Verifier::new(TrustedKeys {
        seal: vec![],
        log: vec![EXAMPLE_LOG_VKEY.into()],
        ..TrustedKeys::default()
    });
    let report = v.verify(data)?;
    // A report is valid exactly when no check failed, and its verdict follows its checks.
    assert_eq!(report.valid, report.first_failure().is_none());
    assert_eq!(report.verdict, Verdict::of(&report.checks));
    Ok(report.verdict)
}

/// `signed_note`: signed-note and checkpoint parsing; anything accepted re-serialises to
/// the same body (one spelling per checkpoint).
pub fn signed_note(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(cp) = Checkpoint::parse_body(text) {
        assert_eq!(cp.body(), text);
    }
    if let Ok((cp, _)) = parse_signed_checkpoint(text) {
        assert!(text.starts_with(&cp.body()));
    }
    let _ = verify_signed_checkpoint(text, EXAMPLE_LOG_VKEY);
}

/// `tlog_proof`: `tlog-proof@v1` parsing; anything accepted serialises back byte for byte.
pub fn tlog_proof(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(p) = TlogProof::parse(text) {
        assert_eq!(p.to_text(), text);
    }
}

/// `proof`: typed parsing and seal checking of proof documents; a parsed proof's
/// canonical bytes parse back to the same proof.
pub fn proof(data: &[u8]) {
    let Ok(serde_json::Value::Object(obj)) = serde_json::from_slice::<serde_json::Value>(data)
    else {
        return;
    };
    let Ok(proof) = serde_json::from_value::<SealedProof>(serde_json::Value::Object(obj.clone()))
    else {
        return;
    };
    let _ = verify_seal(&obj, &proof.seal);
    let bytes = proof.entry_bytes().expect("a parsed proof canonicalises");
    let again: SealedProof = serde_json::from_slice(&bytes).expect("canonical bytes parse");
    assert_eq!(again, proof);
}

/// The checkpoint body the seed token of `fuzz/corpus/rfc3161` stamps (the fixture of
/// `anchor::rfc3161`'s tests, made with OpenSSL), so mutations of it reach every check.
const RFC3161_BODY: &str = "example.org/log\n42\nAAAA\n";
/// That token's nonce.
const RFC3161_NONCE: [u8; 8] = [0x89, 0xaa, 0xb1, 0xe7, 0x91, 0xa6, 0x26, 0x47];
/// The CA that issued that token's TSA certificate (test certificate, public).
const RFC3161_CA_PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIBvDCCAWKgAwIBAgIUMo4oAi0yn8CMd1Jb9SJmVSLkJtMwCgYIKoZIzj0EAwIw\nOzEYMBYGA1UECgwPQ29uc2VudHJ5IFRlc3RzMR8wHQYDVQQDDBZDb25zZW50cnkg\nVGVzdCBFQyBSb290MCAXDTI2MTEzMDE2MDkzMFoYDzIxMjYxMTA2MTYwOTMwWjA7\nMRgwFgYDVQQKDA9Db25zZW50cnkgVGVzdHMxHzAdBgNVBAMMFkNvbnNlbnRyeSBU\nZXN0IEVDIFJvb3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATE9ZCknAsWduJ7\nQFa4aGrKCkp16sTG9OR2P+hbV3qFTYPmF8XFqjgRjpoj27cyZGkrE6jMem7tHVe1\noAIRBLvSo0IwQDAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIBBjAdBgNV\nHQ4EFgQU/Kw2n2gNAeEKLDG7SerX5gqk5A4wCgYIKoZIzj0EAwIDSAAwRQIgRi7V\nOwSOpkZq3ZtGp9/U8+6stBI9zoMN6OasIiyKNxACIQDbdeaOlxOq5zDLDn9O5npz\nNb68dEFHgf0zeb58zFhg9w==\n-----END CERTIFICATE-----\n";

/// `rfc3161`: the RFC 3161 parsers on untrusted bytes, read both as a TSA's
/// `TimeStampResp` (what the anchoring service receives) and as a time-stamp token (what a
/// certificate carries and any verifier checks), with and without a pinned CA. A token
/// accepted against the pinned CA is tied to it and is also accepted on its own
/// certificate, with the same facts.
pub fn rfc3161(data: &[u8]) {
    let imprint: [u8; 32] = sha2::Sha256::digest(RFC3161_BODY.as_bytes()).into();
    let ca = pem_certificates(RFC3161_CA_PEM).expect("the pinned CA parses");
    if let Ok(token) = parse_response(data) {
        assert!(token.len() < data.len(), "the token is inside the response");
        let _ = check_token(&token, &imprint, Some(&RFC3161_NONCE), &ca);
    }
    let loose = check_token(data, &imprint, None, &[]);
    if let Ok(facts) = &loose {
        assert_eq!(facts.chain, TsaChain::NotChecked);
    }
    if let Ok(pinned) = check_token(data, &imprint, Some(&RFC3161_NONCE), &ca) {
        assert!(matches!(pinned.chain, TsaChain::Trusted { .. }));
        let loose = loose.expect("a token that checks against its CA checks on its own");
        assert_eq!(
            (
                &loose.gen_time,
                &loose.serial,
                &loose.tsa_name,
                &loose.policy
            ),
            (
                &pinned.gen_time,
                &pinned.serial,
                &pinned.tsa_name,
                &pinned.policy
            )
        );
    }
}
