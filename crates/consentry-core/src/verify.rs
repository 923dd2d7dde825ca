//! Verification of proof and certificate documents, check by check.
//!
//! A verifier must say *what* it checked, not just yes or no: a court wants to read that
//! the seal verified under key X, that the path leads to the root signed in checkpoint Y,
//! and which anchors were checked online and which only offline. So verification returns
//! a [`Report`] of named [`Check`]s. Three outcomes are kept apart, as `consentry verify`'s
//! exit codes are: valid (no check failed), invalid (a check failed, with its reason),
//! and unusable input ([`Unusable`]: not JSON, not a Consentry document, truncated).

use crate::certificate::{CERTIFICATE_TYPE, Certificate};
use crate::checkpoint::{parse_signed_checkpoint, verify_signed_checkpoint};
use crate::keys::SealPublicKey;
use crate::merkle::{Hash, leaf_hash, verify_inclusion};
use crate::proof::{PROOF_TYPE, SealedProof, verify_seal};
use serde::Serialize;

/// Documents larger than this are refused before parsing.
pub const MAX_DOCUMENT_BYTES: usize = 4 * 1024 * 1024;

/// Why a document could not be verified at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unusable {
    /// Larger than [`MAX_DOCUMENT_BYTES`].
    #[error("document is larger than {MAX_DOCUMENT_BYTES} bytes")]
    TooLarge,
    /// Not JSON (or truncated JSON).
    #[error("not JSON: {0}")]
    NotJson(String),
    /// JSON, but not an object with a `type`.
    #[error("not a Consentry document: the top level must be a JSON object with a \"type\"")]
    NoType,
    /// A `type` this verifier does not know.
    #[error("unknown document type {0:?} (expected {PROOF_TYPE:?} or {CERTIFICATE_TYPE:?})")]
    UnknownType(String),
    /// The right `type` but members missing or of the wrong shape.
    #[error("malformed {kind}: {reason}")]
    Malformed {
        /// Which document.
        kind: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// The keys a verifier trusts, e.g. from the operator's `/.well-known/consentry.json`.
/// Empty lists mean "not pinned": signatures are still checked, against the keys the
/// document carries, and the report says the keys were not compared.
#[derive(Debug, Clone, Default)]
pub struct TrustedKeys {
    /// Trusted seal public keys.
    pub seal: Vec<SealPublicKey>,
    /// Trusted log verifier keys (`origin+hexid+base64`).
    pub log: Vec<String>,
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The check passed.
    Passed,
    /// The check failed: the document is invalid.
    Failed,
    /// The check was not made (the detail says why); it does not make the document invalid.
    NotChecked,
}

/// One named check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable machine name, e.g. `seal`, `inclusion`.
    pub name: &'static str,
    /// Outcome.
    pub status: Status,
    /// What was checked, or the exact reason it failed.
    pub detail: String,
}

/// Which kind of document was verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// A `consentry.proof/v1`.
    Proof,
    /// A `consentry.certificate/v1`.
    Certificate,
}

/// Everything a verification found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The document kind.
    pub kind: DocumentKind,
    /// True when no check failed.
    pub valid: bool,
    /// The proof's ID.
    pub proof_id: String,
    /// The proof's log entry hash, `SHA-256(0x00 ‖ JCS(proof))`, lowercase hex.
    pub leaf_hash: String,
    /// The checks, in the order made.
    pub checks: Vec<Check>,
}

impl Report {
    /// The first failed check, if any.
    pub fn first_failure(&self) -> Option<&Check> {
        self.checks.iter().find(|c| c.status == Status::Failed)
    }
}

struct Checks(Vec<Check>);

impl Checks {
    fn pass(&mut self, name: &'static str, detail: impl Into<String>) {
        self.0.push(Check {
            name,
            status: Status::Passed,
            detail: detail.into(),
        });
    }
    fn fail(&mut self, name: &'static str, detail: impl Into<String>) {
        self.0.push(Check {
            name,
            status: Status::Failed,
            detail: detail.into(),
        });
    }
    fn skip(&mut self, name: &'static str, detail: impl Into<String>) {
        self.0.push(Check {
            name,
            status: Status::NotChecked,
            detail: detail.into(),
        });
    }
}

/// Verifies a proof or certificate given as bytes.
pub fn verify_document(bytes: &[u8], trusted: &TrustedKeys) -> Result<Report, Unusable> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(Unusable::TooLarge);
    }
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| Unusable::NotJson(e.to_string()))?;
    let serde_json::Value::Object(obj) = value else {
        return Err(Unusable::NoType);
    };
    match obj.get("type").and_then(|t| t.as_str()) {
        Some(PROOF_TYPE) => verify_proof_object(obj, trusted),
        Some(CERTIFICATE_TYPE) => verify_certificate_object(obj, trusted),
        Some(other) => Err(Unusable::UnknownType(other.chars().take(80).collect())),
        None => Err(Unusable::NoType),
    }
}

fn malformed(kind: &'static str, e: impl std::fmt::Display) -> Unusable {
    Unusable::Malformed {
        kind,
        reason: e.to_string(),
    }
}

/// Parses a proof object and runs the proof checks; returns its leaf hash.
fn check_proof(
    obj: &serde_json::Map<String, serde_json::Value>,
    trusted: &TrustedKeys,
    checks: &mut Checks,
) -> Result<(SealedProof, Hash), Unusable> {
    let proof: SealedProof = serde_json::from_value(serde_json::Value::Object(obj.clone()))
        .map_err(|e| malformed("proof", e))?;
    let entry = crate::canonical::to_canonical_bytes(obj).map_err(|e| malformed("proof", e))?;
    let leaf = leaf_hash(&entry);
    match verify_seal(obj, &proof.seal) {
        Ok(key) => {
            checks.pass(
                "seal",
                format!(
                    "Ed25519 seal verifies over the proof's RFC 8785 canonical bytes; key {} (SHA-256 fingerprint {})",
                    key.key_id(),
                    key.fingerprint()
                ),
            );
            if trusted.seal.is_empty() {
                checks.skip(
                    "seal_key",
                    format!("seal key not pinned: compare fingerprint {} with the operator's published seal key", key.fingerprint()),
                );
            } else if trusted.seal.contains(&key) {
                checks.pass(
                    "seal_key",
                    format!("seal key {} is a trusted key", key.key_id()),
                );
            } else {
                checks.fail(
                    "seal_key",
                    format!(
                        "seal key {} is not among the trusted seal keys",
                        key.key_id()
                    ),
                );
            }
        }
        Err(e) => checks.fail("seal", e.to_string()),
    }
    Ok((proof, leaf))
}

fn verify_proof_object(
    obj: serde_json::Map<String, serde_json::Value>,
    trusted: &TrustedKeys,
) -> Result<Report, Unusable> {
    let mut checks = Checks(Vec::new());
    let (proof, leaf) = check_proof(&obj, trusted, &mut checks)?;
    checks.skip(
        "inclusion",
        format!(
            "a proof alone is not checked against the log; its leaf hash is {leaf}. Ask for its certificate, or check it with GET /v1/log/proof/inclusion?index={}",
            proof.body.log_index
        ),
    );
    Ok(finish(DocumentKind::Proof, &proof, leaf, checks))
}

fn verify_certificate_object(
    obj: serde_json::Map<String, serde_json::Value>,
    trusted: &TrustedKeys,
) -> Result<Report, Unusable> {
    let cert: Certificate = serde_json::from_value(serde_json::Value::Object(obj))
        .map_err(|e| malformed("certificate", e))?;
    if cert.proof.get("type").and_then(|t| t.as_str()) != Some(PROOF_TYPE) {
        return Err(malformed(
            "certificate",
            format!("\"proof\" is not a {PROOF_TYPE}"),
        ));
    }
    let path = cert
        .inclusion_hashes()
        .ok_or_else(|| malformed("certificate", "an inclusion hash is not 32 bytes of base64"))?;
    // Parse the note first so that a malformed one is "unusable", not "invalid".
    let (unverified_cp, _) = parse_signed_checkpoint(&cert.checkpoint)
        .map_err(|e| malformed("certificate", format!("checkpoint: {e}")))?;

    let mut checks = Checks(Vec::new());
    let (proof, leaf) = check_proof(&cert.proof, trusted, &mut checks)?;

    if proof.body.log_index == cert.leaf_index {
        checks.pass(
            "leaf_index",
            format!(
                "the proof's log_index is the certificate's leaf_index {}",
                cert.leaf_index
            ),
        );
    } else {
        checks.fail(
            "leaf_index",
            format!(
                "the proof says log_index {} but the certificate says leaf_index {}",
                proof.body.log_index, cert.leaf_index
            ),
        );
    }

    let cp = match verify_signed_checkpoint(&cert.checkpoint, &cert.log_key) {
        Ok(v) => {
            checks.pass(
                "checkpoint_signature",
                format!(
                    "checkpoint of log {} at size {} is signed by log key {}",
                    v.checkpoint.origin,
                    v.checkpoint.size,
                    key_label(&cert.log_key)
                ),
            );
            v.checkpoint
        }
        Err(e) => {
            checks.fail("checkpoint_signature", e.to_string());
            unverified_cp
        }
    };
    if trusted.log.is_empty() {
        checks.skip(
            "log_key",
            format!(
                "log key not pinned: compare {} with the operator's published log key",
                cert.log_key
            ),
        );
    } else if trusted.log.iter().any(|k| k == &cert.log_key) {
        checks.pass(
            "log_key",
            format!("log key {} is a trusted key", key_label(&cert.log_key)),
        );
    } else {
        checks.fail(
            "log_key",
            format!(
                "log key {} is not among the trusted log keys",
                key_label(&cert.log_key)
            ),
        );
    }
    if cp.origin == proof.body.log {
        checks.pass(
            "log_origin",
            format!(
                "the proof and the checkpoint name the same log, {}",
                cp.origin
            ),
        );
    } else {
        checks.fail(
            "log_origin",
            format!(
                "the proof belongs to log {:?} but the checkpoint is of log {:?}",
                proof.body.log, cp.origin
            ),
        );
    }
    match verify_inclusion(cert.leaf_index, cp.size, &leaf, &path, &cp.root) {
        Ok(()) => checks.pass(
            "inclusion",
            format!(
                "RFC 9162 inclusion path of {} hashes leads from leaf {} at index {} to root {} of the tree of size {}",
                path.len(),
                leaf,
                cert.leaf_index,
                cp.root,
                cp.size
            ),
        ),
        Err(e) => checks.fail("inclusion", e.to_string()),
    }
    if cert.anchors.is_empty() {
        checks.skip("anchors", "the certificate carries no anchor");
    }
    for anchor in &cert.anchors {
        let kind = anchor
            .get("kind")
            .and_then(|k| k.as_str())
            .unwrap_or("unknown");
        checks.skip(
            "anchor",
            format!("{kind} anchor present; this verifier does not check {kind} anchors"),
        );
    }
    Ok(finish(DocumentKind::Certificate, &proof, leaf, checks))
}

fn key_label(vkey: &str) -> String {
    vkey.rsplit_once('+')
        .map_or_else(|| vkey.to_owned(), |(label, _)| label.to_owned())
}

fn finish(kind: DocumentKind, proof: &SealedProof, leaf: Hash, checks: Checks) -> Report {
    let valid = checks.0.iter().all(|c| c.status != Status::Failed);
    Report {
        kind,
        valid,
        proof_id: proof.body.id.to_string(),
        leaf_hash: leaf.to_hex(),
        checks: checks.0,
    }
}
