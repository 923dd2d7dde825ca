//! Verification of proof, certificate and event documents, check by check.
//!
//! A verifier must say *what* it checked, not just yes or no: a court wants to read that
//! the seal verified under key X, that the path leads to the root signed in checkpoint Y,
//! and which anchors were checked online and which only offline. So verification returns
//! a [`Report`] of named [`Check`]s. Three outcomes are kept apart, as `consentry verify`'s
//! exit codes are: valid (no check failed), invalid (a check failed, with its reason),
//! and unusable input ([`Unusable`]: not JSON, not a Consentry document, truncated).

use crate::anchor::AnchorKind;
use crate::anchor::evm::check_evm_anchor;
use crate::anchor::rfc3161::{TsaChain, check_rfc3161_anchor};
use crate::certificate::{CERTIFICATE_TYPE, Certificate};
use crate::checkpoint::{
    Checkpoint, CheckpointError, parse_signed_checkpoint, verify_signed_checkpoint,
};
use crate::event::{EventType, SealedEvent};
use crate::history::{ANCHORS_TYPE, AnchorHistory};
use crate::keys::SealPublicKey;
use crate::merkle::{Hash, leaf_hash, verify_consistency, verify_inclusion};
use crate::proof::{PROOF_TYPE, Seal, SealedProof, verify_seal_bytes};
use crate::time::Timestamp;
use crate::tlog_proof::{self, TlogProof};
use serde::Serialize;
use std::collections::HashMap;

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
    /// CA certificates (DER) an RFC 3161 anchor's TSA must chain to; empty: the token's
    /// signature is checked against the certificate it carries and the report says the
    /// chain was not checked.
    pub tsa_cas: Vec<Vec<u8>>,
    /// EVM block hashes (`0x…`, lowercase) the verifier trusts to be on the chain it
    /// cares about — from a node or explorer of its choice. An EVM anchor in another
    /// block holds mathematically but is not rooted.
    pub evm_blocks: Vec<String>,
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
    /// The signature or anchor holds, but is not rooted in anything the verifier pinned
    /// (a seal or log key, a TSA's CA, an EVM block): the detail says what to pin and
    /// where to get it. The document is then untrusted, not valid.
    Untrusted,
}

/// What a verification concludes, as `consentry verify`'s exit codes say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every signature checks against a pinned key and every anchor present against a
    /// root the verifier chose.
    Valid,
    /// No check failed, but a key or an anchor is not rooted ([`Status::Untrusted`]).
    Untrusted,
    /// A check failed.
    Invalid,
}

impl Verdict {
    /// The verdict of a list of checks.
    pub fn of(checks: &[Check]) -> Verdict {
        if checks.iter().any(|c| c.status == Status::Failed) {
            Verdict::Invalid
        } else if checks.iter().any(|c| c.status == Status::Untrusted) {
            Verdict::Untrusted
        } else {
            Verdict::Valid
        }
    }
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
    /// A C2SP `tlog-proof@v1` whose `extra` is a Consentry proof.
    TlogProof,
    /// A `consentry.anchors/v1` history of anchored checkpoints.
    AnchorHistory,
    /// A sealed event document (`data.access`, `data.access_denied`, `data.amended`,
    /// `data.erased`).
    Event,
}

/// Everything a verification found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The document kind.
    pub kind: DocumentKind,
    /// True when no check failed (the verdict may still be untrusted).
    pub valid: bool,
    /// Valid, untrusted or invalid.
    pub verdict: Verdict,
    /// The proof's ID; an event's ID for an event (empty for an anchor history).
    pub proof_id: String,
    /// The document's log entry hash, `SHA-256(0x00 ‖ JCS(document))`, lowercase hex
    /// (empty for an anchor history).
    pub leaf_hash: String,
    /// The earliest time an anchor that passed its checks *against a pinned root* puts on
    /// the checkpoint (RFC 3339, UTC): the proof existed by then. `None` when no anchor was
    /// rooted — an unrooted anchor's time is whatever its maker chose.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anchored_by: Option<String>,
    /// The checks, in the order made.
    pub checks: Vec<Check>,
}

impl Report {
    /// Adds a check made outside the core (e.g. an online anchor check) and updates
    /// `valid`.
    pub fn add_check(&mut self, name: &'static str, status: Status, detail: impl Into<String>) {
        self.checks.push(Check {
            name,
            status,
            detail: detail.into(),
        });
        self.valid = self.checks.iter().all(|c| c.status != Status::Failed);
        self.verdict = Verdict::of(&self.checks);
    }

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
    fn unrooted(&mut self, name: &'static str, detail: impl Into<String>) {
        self.0.push(Check {
            name,
            status: Status::Untrusted,
            detail: detail.into(),
        });
    }
}

/// Verifies a proof or certificate given as bytes, with a fresh [`Verifier`].
pub fn verify_document(bytes: &[u8], trusted: &TrustedKeys) -> Result<Report, Unusable> {
    Verifier::new(trusted.clone()).verify(bytes)
}

/// Checkpoint verifications remembered at most, per verifier.
const CHECKPOINT_CACHE: usize = 1024;

/// Verifies documents one after another. Certificates issued from one anchored checkpoint
/// all carry the same signed note, so a verifier remembers the notes it has checked and
/// checks each signature once: an auditor going through a day's certificates pays one
/// Ed25519 verification per certificate instead of two.
#[derive(Debug, Default)]
pub struct Verifier {
    trusted: TrustedKeys,
    checkpoints: HashMap<(String, Hash), Result<Checkpoint, CheckpointError>>,
}

impl Verifier {
    /// A verifier trusting `trusted`.
    pub fn new(trusted: TrustedKeys) -> Verifier {
        Verifier {
            trusted,
            checkpoints: HashMap::new(),
        }
    }

    /// Verifies a `consentry.proof/v1` or `consentry.certificate/v1` JSON document, a
    /// sealed event document (`data.*`), or a C2SP `tlog-proof@v1` text whose `extra` is
    /// a Consentry proof.
    pub fn verify(&mut self, bytes: &[u8]) -> Result<Report, Unusable> {
        if bytes.len() > MAX_DOCUMENT_BYTES {
            return Err(Unusable::TooLarge);
        }
        if bytes.starts_with(tlog_proof::HEADER.as_bytes()) {
            return self.verify_tlog_proof(bytes);
        }
        // Strict: a document that could be read two ways (a repeated member, a lone
        // surrogate, an integer readers round) is refused rather than read one way.
        let value =
            crate::strict_json::parse(bytes).map_err(|e| Unusable::NotJson(e.to_string()))?;
        let serde_json::Value::Object(obj) = value else {
            return Err(Unusable::NoType);
        };
        match obj.get("type").and_then(|t| t.as_str()) {
            Some(PROOF_TYPE) => self.verify_proof_object(obj),
            Some(CERTIFICATE_TYPE) => self.verify_certificate_object(obj),
            Some(ANCHORS_TYPE) => self.verify_history_object(obj),
            Some(t) if EventType::parse(t).is_some() => self.verify_event_object(obj),
            Some(other) => Err(Unusable::UnknownType(other.chars().take(80).collect())),
            None => Err(Unusable::NoType),
        }
    }

    /// Verifies `document` (a proof or its certificate) as [`Verifier::verify`] does, then
    /// the disclosure `disclosure` of its proof: its seal (and seal key), that it names
    /// this very proof, and that its openings recompute the proof's commitments (the
    /// address; the evidence when disclosed). The checks are added to the document's
    /// report.
    pub fn verify_disclosure(
        &mut self,
        document: &[u8],
        disclosure: &[u8],
    ) -> Result<Report, Unusable> {
        use crate::disclosure::{DISCLOSURE_TYPE, SealedDisclosure, commitment, opening_key};
        let mut report = self.verify(document)?;
        let proof_value = match crate::strict_json::parse(document)
            .map_err(|e| Unusable::NotJson(e.to_string()))?
        {
            serde_json::Value::Object(mut obj) => match obj.get("type").and_then(|t| t.as_str()) {
                Some(PROOF_TYPE) => serde_json::Value::Object(obj),
                Some(CERTIFICATE_TYPE) => obj.remove("proof").unwrap_or_default(),
                _ => {
                    return Err(malformed(
                        "disclosure",
                        "a disclosure is checked with its proof or the proof's certificate",
                    ));
                }
            },
            _ => return Err(Unusable::NoType),
        };
        let entry = crate::canonical::to_canonical_bytes(&proof_value)
            .map_err(|e| malformed("proof", e))?;
        let proof: SealedProof =
            serde_json::from_value(proof_value).map_err(|e| malformed("proof", e))?;
        if disclosure.len() > MAX_DOCUMENT_BYTES {
            return Err(Unusable::TooLarge);
        }
        let value = crate::strict_json::parse(disclosure)
            .map_err(|e| Unusable::NotJson(format!("disclosure: {e}")))?;
        if value.get("type").and_then(|t| t.as_str()) != Some(DISCLOSURE_TYPE) {
            return Err(malformed("disclosure", format!("not a {DISCLOSURE_TYPE}")));
        }
        let d: SealedDisclosure =
            serde_json::from_value(value).map_err(|e| malformed("disclosure", e))?;
        let mut checks = Checks(Vec::new());
        let body = crate::canonical::to_canonical_bytes(&d.body)
            .map_err(|e| malformed("disclosure", e))?;
        check_seal(
            &body,
            &d.seal,
            "disclosure",
            &self.trusted,
            &mut checks,
            ("disclosure_seal", "disclosure_seal_key"),
        );
        let leaf = leaf_hash(&entry).to_hex();
        if d.body.proof == proof.body.id
            && d.body.proof_leaf_hash == leaf
            && d.body.subject == proof.body.subject
            && d.body.log == proof.body.log
        {
            checks.pass(
                "disclosure_proof",
                format!(
                    "the disclosure names this proof ({}, leaf {leaf}), its subject and its log",
                    proof.body.id
                ),
            );
        } else {
            checks.fail(
                "disclosure_proof",
                format!(
                    "the disclosure is of proof {} (leaf {}, subject {}), not of this one ({}, leaf {leaf}, subject {})",
                    d.body.proof, d.body.proof_leaf_hash, d.body.subject, proof.body.id, proof.body.subject
                ),
            );
        }
        match opening_key(&d.body.opening) {
            None => checks.fail(
                "address_opening",
                "the opening is not a 32-byte key in lowercase hex",
            ),
            Some(key) => {
                let recomputed = commitment(&key, "address", d.body.address.as_bytes());
                if recomputed == proof.body.recipient.address_commitment {
                    checks.pass(
                        "address_opening",
                        format!("HMAC-SHA256(opening, \"address\" ‖ 0x00 ‖ {:?}) is the proof's address_commitment: the consent is that address's", d.body.address),
                    );
                } else {
                    checks.fail(
                        "address_opening",
                        format!("the opening and address give {recomputed}, not the proof's address_commitment {}", proof.body.recipient.address_commitment),
                    );
                }
                match (&d.body.evidence, &proof.body.evidence) {
                    (Some(b64), Some(committed)) => {
                        use base64::Engine as _;
                        match base64::engine::general_purpose::STANDARD.decode(b64) {
                            Ok(bytes) if commitment(&key, "evidence", &bytes) == *committed => checks.pass(
                                "evidence_opening",
                                format!("the disclosed evidence ({} bytes) is the file the proof's evidence commitment names", bytes.len()),
                            ),
                            Ok(_) => checks.fail("evidence_opening", "the disclosed evidence is not the file the proof commits to"),
                            Err(_) => checks.fail("evidence_opening", "the disclosed evidence is not base64"),
                        }
                    }
                    (Some(_), None) => checks.fail(
                        "evidence_opening",
                        "evidence is disclosed but the proof commits to none",
                    ),
                    (None, Some(_)) => checks.skip(
                        "evidence_opening",
                        "the proof commits to an evidence file; it is not disclosed",
                    ),
                    (None, None) => {}
                }
            }
        }
        if d.body.asserted.is_some() {
            checks.skip(
                "asserted",
                "name, postal address or phone are the operator's statement: no proof commits to them",
            );
        }
        checks.skip(
            "opening_scope",
            "the opening is the subject's commitment key: it opens every commitment made for this subject, in every proof and event",
        );
        for c in checks.0 {
            report.add_check(c.name, c.status, c.detail);
        }
        Ok(report)
    }

    fn verify_proof_object(
        &mut self,
        obj: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Report, Unusable> {
        let mut checks = Checks(Vec::new());
        let entry =
            crate::canonical::to_canonical_bytes(&obj).map_err(|e| malformed("proof", e))?;
        let proof = check_proof(obj, &self.trusted, &mut checks)?;
        let leaf = leaf_hash(&entry);
        checks.skip(
            "inclusion",
            format!(
                "a proof alone is not checked against the log; its leaf hash is {leaf}. Ask for its certificate, or check it with GET /v1/log/proof/inclusion?index={}",
                proof.body.log_index
            ),
        );
        Ok(finish(DocumentKind::Proof, &proof, leaf, checks))
    }

    fn verify_event_object(
        &mut self,
        obj: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Report, Unusable> {
        let mut checks = Checks(Vec::new());
        let entry =
            crate::canonical::to_canonical_bytes(&obj).map_err(|e| malformed("event", e))?;
        let mut body = obj;
        let seal_value = body.remove("seal");
        let msg = crate::canonical::to_canonical_bytes(&body).map_err(|e| malformed("event", e))?;
        if let Some(seal) = seal_value {
            body.insert("seal".to_owned(), seal);
        }
        let event: SealedEvent = serde_json::from_value(serde_json::Value::Object(body))
            .map_err(|e| malformed("event", e))?;
        check_seal(
            &msg,
            &event.seal,
            "event",
            &self.trusted,
            &mut checks,
            ("seal", "seal_key"),
        );
        let leaf = leaf_hash(&entry);
        checks.skip(
            "inclusion",
            format!(
                "an event alone is not checked against the log; its leaf hash is {leaf}. Check it with GET /v1/log/proof/inclusion?index={}",
                event.body.log_index
            ),
        );
        let valid = checks.0.iter().all(|c| c.status != Status::Failed);
        Ok(Report {
            kind: DocumentKind::Event,
            valid,
            verdict: Verdict::of(&checks.0),
            proof_id: event.body.id.to_string(),
            leaf_hash: leaf.to_hex(),
            anchored_by: None,
            checks: checks.0,
        })
    }

    fn verify_certificate_object(
        &mut self,
        obj: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Report, Unusable> {
        let cert: Certificate = serde_json::from_value(serde_json::Value::Object(obj))
            .map_err(|e| malformed("certificate", e))?;
        if cert.proof.get("type").and_then(|t| t.as_str()) != Some(PROOF_TYPE) {
            return Err(malformed(
                "certificate",
                format!("\"proof\" is not a {PROOF_TYPE}"),
            ));
        }
        let path = cert.inclusion_hashes().ok_or_else(|| {
            malformed("certificate", "an inclusion hash is not 32 bytes of base64")
        })?;
        let entry =
            crate::canonical::to_canonical_bytes(&cert.proof).map_err(|e| malformed("proof", e))?;
        let mut checks = Checks(Vec::new());
        let proof = check_proof(cert.proof, &self.trusted, &mut checks)?;
        let leaf = leaf_hash(&entry);
        self.check_inclusion_part(
            &mut checks,
            &proof,
            leaf,
            cert.leaf_index,
            &path,
            &cert.checkpoint,
            &cert.log_key,
            "certificate",
        )?;
        let body = parse_signed_checkpoint(&cert.checkpoint)
            .map(|(cp, _)| cp.body())
            .map_err(|e| malformed("certificate", format!("checkpoint: {e}")))?;
        let anchored_by = self.check_anchors(&mut checks, &cert.anchors, &body);
        let mut report = finish(DocumentKind::Certificate, &proof, leaf, checks);
        report.anchored_by = anchored_by;
        Ok(report)
    }

    /// Checks each anchor of a checkpoint offline; returns the earliest time an anchor
    /// that passed puts on it.
    fn check_anchors(
        &self,
        checks: &mut Checks,
        anchors: &[serde_json::Map<String, serde_json::Value>],
        body: &str,
    ) -> Option<String> {
        if anchors.is_empty() {
            checks.skip(
                "anchors",
                "no anchor: nothing dates the checkpoint beyond the operator's word",
            );
            return None;
        }
        let mut earliest: Option<Timestamp> = None;
        let mut note = |t: Timestamp| {
            if earliest.is_none_or(|e| t < e) {
                earliest = Some(t);
            }
        };
        for anchor in anchors {
            match AnchorKind::of(anchor) {
                Ok(AnchorKind::Evm) => match check_evm_anchor(anchor, body) {
                    Ok(f) => {
                        let time = i64::try_from(f.block_time)
                            .ok()
                            .and_then(|s| s.checked_mul(1000))
                            .and_then(|ms| Timestamp::from_unix_millis(ms).ok());
                        let facts = format!(
                            "transaction {} from {} carries this checkpoint as calldata; it is in block {} ({}) of chain {}, mined {}, by the Merkle-Patricia proofs of its transaction and successful receipt to the block header",
                            f.tx_hash,
                            f.from,
                            f.block_number,
                            f.block_hash,
                            f.chain_id,
                            time.map_or_else(|| f.block_time.to_string(), |t| t.to_string()),
                        );
                        let rooted = self
                            .trusted
                            .evm_blocks
                            .iter()
                            .any(|b| b.eq_ignore_ascii_case(&f.block_hash));
                        if rooted {
                            if let Some(t) = time {
                                note(t);
                            }
                            checks
                                .pass("anchor_evm", format!("{facts}; the block is one you trust"));
                        } else {
                            checks.unrooted(
                                "anchor_evm",
                                format!(
                                    "{facts}. Nothing roots that block: anyone can make a block header and proofs that hold together. Check it against a node of your choice (consentry verify --rpc URL) or pin its hash (--evm-block {}) after comparing it with an explorer of chain {}; until then its time is not counted",
                                    f.block_hash, f.chain_id
                                ),
                            );
                        }
                    }
                    Err(e) => checks.fail("anchor_evm", e.to_string()),
                },
                Ok(AnchorKind::Rfc3161) => {
                    match check_rfc3161_anchor(anchor, body, &self.trusted.tsa_cas) {
                        Ok(f) => {
                            let facts = format!(
                                "RFC 3161 time-stamp token over SHA-256 of this checkpoint, signed by {} at {} (serial {}, policy {})",
                                f.tsa_name, f.gen_time, f.serial, f.policy
                            );
                            match &f.chain {
                                TsaChain::Trusted { ca } => {
                                    note(f.gen_time);
                                    checks.pass(
                                        "anchor_rfc3161",
                                        format!("{facts}; its certificate chains to the trusted CA {ca}"),
                                    );
                                }
                                TsaChain::NotChecked => checks.unrooted(
                                    "anchor_rfc3161",
                                    format!("{facts}. Its certificate chain was not checked, so anyone could have made the token: pass the TSA's CA certificate (--tsa-ca FILE, from the TSA's own site); until then its time is not counted"),
                                ),
                            }
                        }
                        Err(e) => checks.fail("anchor_rfc3161", e.to_string()),
                    }
                }
                Err(other) => checks.skip(
                    "anchor",
                    format!(
                        "anchor of kind {:?}: this verifier does not know it",
                        other.as_deref().unwrap_or("?")
                    ),
                ),
            }
        }
        earliest.map(|t| t.to_string())
    }

    fn verify_history_object(
        &mut self,
        obj: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Report, Unusable> {
        let history: AnchorHistory = serde_json::from_value(serde_json::Value::Object(obj))
            .map_err(|e| malformed("anchors", e))?;
        let mut checks = Checks(Vec::new());
        if history.checkpoints.is_empty() {
            checks.skip("anchors", "the history holds no anchored checkpoint yet");
        }
        let mut previous: Option<Checkpoint> = None;
        let mut anchored_by = None;
        for entry in &history.checkpoints {
            let (unverified, _) = parse_signed_checkpoint(&entry.checkpoint)
                .map_err(|e| malformed("anchors", format!("checkpoint: {e}")))?;
            let cp = match self.checkpoint(&entry.checkpoint, &history.log_key) {
                Ok(cp) => {
                    checks.pass(
                        "checkpoint_signature",
                        format!(
                            "checkpoint of log {} at size {} is signed by log key {}",
                            cp.origin,
                            cp.size,
                            key_label(&history.log_key)
                        ),
                    );
                    cp
                }
                Err(e) => {
                    checks.fail("checkpoint_signature", e.to_string());
                    unverified
                }
            };
            let proof: Option<Vec<Hash>> = entry
                .consistency
                .iter()
                .map(|h| Hash::from_base64(h))
                .collect();
            let proof = proof.ok_or_else(|| {
                malformed("anchors", "a consistency hash is not 32 bytes of base64")
            })?;
            match &previous {
                None if proof.is_empty() => {}
                None => checks.fail(
                    "consistency",
                    "the first anchored checkpoint has a consistency proof from nothing",
                ),
                Some(old) if old.origin != cp.origin => checks.fail(
                    "consistency",
                    format!("checkpoints of two logs: {} then {}", old.origin, cp.origin),
                ),
                Some(old) if old.size > cp.size => checks.fail(
                    "consistency",
                    format!("tree size went down from {} to {}", old.size, cp.size),
                ),
                Some(old) => match verify_consistency(old.size, cp.size, &old.root, &cp.root, &proof) {
                    Ok(()) => checks.pass(
                        "consistency",
                        format!(
                            "the tree of size {} extends the tree of size {} (RFC 9162 consistency proof of {} hashes)",
                            cp.size,
                            old.size,
                            proof.len()
                        ),
                    ),
                    Err(e) => checks.fail(
                        "consistency",
                        format!("from size {} to {}: {e}", old.size, cp.size),
                    ),
                },
            }
            let first = self.check_anchors(&mut checks, &entry.anchors, &cp.body());
            if anchored_by.is_none() {
                anchored_by = first;
            }
            previous = Some(cp);
        }
        if self.trusted.log.is_empty() {
            checks.unrooted(
                "log_key",
                format!(
                    "log key not pinned: anyone can sign checkpoints with a key of their own. Pin the operator's log key (--log-key {}, or --trust with the operator's /.well-known/consentry.json) after comparing it with what the operator publishes",
                    history.log_key
                ),
            );
        } else if self.trusted.log.contains(&history.log_key) {
            checks.pass("log_key", "the log key is a trusted key");
        } else {
            checks.fail("log_key", "the log key is not among the trusted log keys");
        }
        let valid = checks.0.iter().all(|c| c.status != Status::Failed);
        Ok(Report {
            kind: DocumentKind::AnchorHistory,
            valid,
            verdict: Verdict::of(&checks.0),
            proof_id: String::new(),
            leaf_hash: String::new(),
            anchored_by,
            checks: checks.0,
        })
    }

    fn verify_tlog_proof(&mut self, bytes: &[u8]) -> Result<Report, Unusable> {
        let text = std::str::from_utf8(bytes).map_err(|_| malformed("tlog-proof", "not UTF-8"))?;
        let tp = TlogProof::parse(text).map_err(|e| malformed("tlog-proof", e))?;
        let entry = tp.extra.ok_or_else(|| {
            malformed(
                "tlog-proof",
                "no extra line: the Consentry proof it covers is missing",
            )
        })?;
        // `extra` is the log entry itself: canonical bytes, byte for byte.
        let value = crate::strict_json::canonical_value(&entry).map_err(|e| {
            malformed(
                "tlog-proof",
                format!("extra is not a canonical JSON proof: {e}"),
            )
        })?;
        let serde_json::Value::Object(obj) = value else {
            return Err(malformed("tlog-proof", "extra is not a JSON proof object"));
        };
        let (cp, _) = parse_signed_checkpoint(&tp.checkpoint)
            .map_err(|e| malformed("tlog-proof", format!("checkpoint: {e}")))?;
        // A tlog proof names no key: the verifier must bring the log's.
        let log_key = self
            .trusted
            .log
            .iter()
            .find(|k| k.split('+').next() == Some(cp.origin.as_str()))
            .cloned()
            .ok_or_else(|| {
                malformed(
                    "tlog-proof",
                    format!(
                        "it carries no log key; pass the key of log {} (--log-key)",
                        cp.origin
                    ),
                )
            })?;
        let mut checks = Checks(Vec::new());
        let proof = check_proof(obj, &self.trusted, &mut checks)?;
        let leaf = leaf_hash(&entry);
        self.check_inclusion_part(
            &mut checks,
            &proof,
            leaf,
            tp.index,
            &tp.hashes,
            &tp.checkpoint,
            &log_key,
            "tlog-proof",
        )?;
        Ok(finish(DocumentKind::TlogProof, &proof, leaf, checks))
    }

    fn checkpoint(&mut self, note: &str, log_key: &str) -> Result<Checkpoint, CheckpointError> {
        let key = (log_key.to_owned(), Hash::digest(note.as_bytes()));
        if let Some(done) = self.checkpoints.get(&key) {
            return done.clone();
        }
        let result = verify_signed_checkpoint(note, log_key).map(|v| v.checkpoint);
        if self.checkpoints.len() >= CHECKPOINT_CACHE {
            self.checkpoints.clear();
        }
        self.checkpoints.insert(key, result.clone());
        result
    }

    /// The checks shared by certificates and tlog proofs: leaf index, checkpoint
    /// signature, log key, log origin, inclusion path.
    #[allow(clippy::too_many_arguments)]
    fn check_inclusion_part(
        &mut self,
        checks: &mut Checks,
        proof: &SealedProof,
        leaf: Hash,
        leaf_index: u64,
        path: &[Hash],
        note: &str,
        log_key: &str,
        kind: &'static str,
    ) -> Result<(), Unusable> {
        // Parse the note first so that a malformed one is "unusable", not "invalid".
        let (unverified, _) = parse_signed_checkpoint(note)
            .map_err(|e| malformed(kind, format!("checkpoint: {e}")))?;
        if proof.body.log_index == leaf_index {
            checks.pass(
                "leaf_index",
                format!("the proof's log_index is the {kind}'s leaf index {leaf_index}"),
            );
        } else {
            checks.fail(
                "leaf_index",
                format!(
                    "the proof says log_index {} but the {kind} says leaf index {leaf_index}",
                    proof.body.log_index
                ),
            );
        }
        let cp = match self.checkpoint(note, log_key) {
            Ok(cp) => {
                checks.pass(
                    "checkpoint_signature",
                    format!(
                        "checkpoint of log {} at size {} is signed by log key {}",
                        cp.origin,
                        cp.size,
                        key_label(log_key)
                    ),
                );
                cp
            }
            Err(e) => {
                checks.fail("checkpoint_signature", e.to_string());
                unverified
            }
        };
        if self.trusted.log.is_empty() {
            checks.unrooted(
                "log_key",
                format!(
                    "log key not pinned: anyone can sign checkpoints with a key of their own. Pin the operator's log key (--log-key {log_key}, or --trust with the operator's /.well-known/consentry.json) after comparing it with what the operator publishes"
                ),
            );
        } else if self.trusted.log.iter().any(|k| k == log_key) {
            checks.pass(
                "log_key",
                format!("log key {} is a trusted key", key_label(log_key)),
            );
        } else {
            checks.fail(
                "log_key",
                format!(
                    "log key {} is not among the trusted log keys",
                    key_label(log_key)
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
        match verify_inclusion(leaf_index, cp.size, &leaf, path, &cp.root) {
            Ok(()) => checks.pass(
                "inclusion",
                format!(
                    "RFC 9162 inclusion path of {} hashes leads from leaf {leaf} at index {leaf_index} to root {} of the tree of size {}",
                    path.len(),
                    cp.root,
                    cp.size
                ),
            ),
            Err(e) => checks.fail("inclusion", e.to_string()),
        }
        Ok(())
    }
}

fn malformed(kind: &'static str, e: impl std::fmt::Display) -> Unusable {
    Unusable::Malformed {
        kind,
        reason: e.to_string(),
    }
}

/// Parses a proof object and runs the seal checks.
fn check_proof(
    obj: serde_json::Map<String, serde_json::Value>,
    trusted: &TrustedKeys,
    checks: &mut Checks,
) -> Result<SealedProof, Unusable> {
    let mut body = obj;
    let seal_value = body.remove("seal");
    let msg = crate::canonical::to_canonical_bytes(&body).map_err(|e| malformed("proof", e))?;
    if let Some(seal) = seal_value.clone() {
        body.insert("seal".to_owned(), seal);
    }
    let proof: SealedProof = serde_json::from_value(serde_json::Value::Object(body))
        .map_err(|e| malformed("proof", e))?;
    check_seal(
        &msg,
        &proof.seal,
        "proof",
        trusted,
        checks,
        ("seal", "seal_key"),
    );
    Ok(proof)
}

/// The `seal` and `seal_key` checks of a proof or an event, over its body bytes.
fn check_seal(
    msg: &[u8],
    seal: &Seal,
    what: &str,
    trusted: &TrustedKeys,
    checks: &mut Checks,
    (seal_name, key_name): (&'static str, &'static str),
) {
    match verify_seal_bytes(msg, seal) {
        Ok(key) => {
            checks.pass(
                seal_name,
                format!(
                    "Ed25519 seal verifies over the {what}'s RFC 8785 canonical bytes; key {} (SHA-256 fingerprint {})",
                    key.key_id(),
                    key.fingerprint()
                ),
            );
            if trusted.seal.is_empty() {
                checks.unrooted(
                    key_name,
                    format!("seal key not pinned: anyone can seal with a key of their own. Pin the operator's seal key (--seal-key BASE64, or --trust with the operator's /.well-known/consentry.json) after comparing its fingerprint {} with what the operator publishes", key.fingerprint()),
                );
            } else if trusted.seal.contains(&key) {
                checks.pass(
                    key_name,
                    format!("seal key {} is a trusted key", key.key_id()),
                );
            } else {
                checks.fail(
                    key_name,
                    format!(
                        "seal key {} is not among the trusted seal keys",
                        key.key_id()
                    ),
                );
            }
        }
        Err(e) => checks.fail(seal_name, e.to_string()),
    }
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
        verdict: Verdict::of(&checks.0),
        proof_id: proof.body.id.to_string(),
        leaf_hash: leaf.to_hex(),
        anchored_by: None,
        checks: checks.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SealKey;

    fn sealed_event_bytes(key: &SealKey) -> Vec<u8> {
        crate::event::tests::sample_body(41)
            .seal(key)
            .unwrap()
            .entry_bytes()
            .unwrap()
    }

    fn status_of<'a>(r: &'a Report, name: &str) -> &'a Check {
        r.checks.iter().find(|c| c.name == name).unwrap()
    }

    #[test]
    fn a_sealed_event_verifies_like_a_proof() {
        let key = SealKey::from_seed(&[5; 32]);
        let bytes = sealed_event_bytes(&key);
        let trusted = TrustedKeys {
            seal: vec![key.public()],
            ..TrustedKeys::default()
        };
        let r = verify_document(&bytes, &trusted).unwrap();
        assert!(r.valid, "{r:?}");
        assert_eq!(r.kind, DocumentKind::Event);
        assert_eq!(r.proof_id, "evt_01jd7x4k3m");
        assert_eq!(r.leaf_hash, leaf_hash(&bytes).to_hex());
        assert_eq!(status_of(&r, "seal").status, Status::Passed);
        assert!(status_of(&r, "seal").detail.contains("event's"));
        assert_eq!(status_of(&r, "seal_key").status, Status::Passed);
        assert_eq!(status_of(&r, "inclusion").status, Status::NotChecked);
        assert!(status_of(&r, "inclusion").detail.contains("index=41"));

        // Another operator's key: the seal holds, the pinned key does not.
        let other = TrustedKeys {
            seal: vec![SealKey::from_seed(&[6; 32]).public()],
            ..TrustedKeys::default()
        };
        let r = verify_document(&bytes, &other).unwrap();
        assert!(!r.valid);
        assert_eq!(status_of(&r, "seal_key").status, Status::Failed);
    }

    #[test]
    fn a_changed_event_fails_its_seal_and_a_broken_one_is_unusable() {
        let key = SealKey::from_seed(&[5; 32]);
        let text = String::from_utf8(sealed_event_bytes(&key)).unwrap();
        let widened = text.replace(
            "\"fields\":[\"email\",\"name\"]",
            "\"fields\":[\"email\",\"name\",\"phone\"]",
        );
        assert_ne!(widened, text);
        let r = verify_document(widened.as_bytes(), &TrustedKeys::default()).unwrap();
        assert!(!r.valid);
        assert_eq!(status_of(&r, "seal").status, Status::Failed);
        let denied = text.replace("\"data.access\"", "\"data.access_denied\"");
        let r = verify_document(denied.as_bytes(), &TrustedKeys::default()).unwrap();
        assert_eq!(r.kind, DocumentKind::Event);
        assert_eq!(status_of(&r, "seal").status, Status::Failed);

        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v.as_object_mut().unwrap().remove("actor");
        let e = verify_document(v.to_string().as_bytes(), &TrustedKeys::default()).unwrap_err();
        assert!(
            matches!(e, Unusable::Malformed { kind: "event", .. }),
            "{e:?}"
        );
        let unknown = text.replace("\"data.access\"", "\"data.sold\"");
        assert!(matches!(
            verify_document(unknown.as_bytes(), &TrustedKeys::default()),
            Err(Unusable::UnknownType(t)) if t == "data.sold"
        ));
    }

    #[test]
    fn proofs_still_verify_as_proofs() {
        let key = SealKey::from_seed(&[5; 32]);
        let bytes = crate::proof::tests::sample_body(3)
            .seal(&key)
            .unwrap()
            .entry_bytes()
            .unwrap();
        let r = verify_document(&bytes, &TrustedKeys::default()).unwrap();
        assert!(r.valid, "{r:?}");
        assert_eq!(r.kind, DocumentKind::Proof);
        assert!(status_of(&r, "seal").detail.contains("proof's"));
    }
}
