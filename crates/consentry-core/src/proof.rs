//! The `consentry.proof/v1` document: one sealed consent decision.
//!
//! A proof is sealed (Ed25519 over the RFC 8785 canonical bytes of every member but
//! `seal`) the moment the decision is recorded, and the *whole sealed document* is the
//! log entry: its leaf hash is `SHA-256(0x00 ‖ JCS(proof))`. So the JSON served at
//! `GET /v1/proofs/{id}` is, byte for byte after canonicalisation, what the log commits to.
//! It carries no personal data: a pseudonym, and keyed commitments to the address and the
//! evidence, whose keys die with the subject's erasure.

use crate::canonical::{CanonicalError, to_canonical_bytes};
use crate::ids::{ProofId, RequestId, SubjectId, TenantId};
use crate::keys::{SealKey, SealPublicKey};
use crate::merkle::{Hash, leaf_hash};
use crate::time::Timestamp;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};

/// The `type` of a proof document.
pub const PROOF_TYPE: &str = "consentry.proof/v1";
/// The only seal algorithm of v1.
pub const SEAL_ALG: &str = "Ed25519";

/// What the recipient decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// Consent given.
    Granted,
    /// Consent refused.
    Refused,
    /// A consent given earlier is withdrawn.
    Revoked,
}

impl Decision {
    /// Parses the wire spelling; nothing else.
    pub fn parse(s: &str) -> Option<Decision> {
        [Decision::Granted, Decision::Refused, Decision::Revoked]
            .into_iter()
            .find(|d| d.as_str() == s)
    }

    /// The wire spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            Decision::Granted => "granted",
            Decision::Refused => "refused",
            Decision::Revoked => "revoked",
        }
    }
}

/// How the decision reached the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Recorded by the sender, who holds the evidence.
    Manual,
    /// Collected by Consentry from the recipient through a single-use link.
    Delegated,
    /// Given by the recipient in the self-service portal.
    Portal,
}

/// Whether the recipient acts as a professional or a private person (art. L100 CPCE
/// requires consent from private persons).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecipientCategory {
    /// A private person.
    Private,
    /// A professional.
    Professional,
    /// Not stated by the sender.
    Unspecified,
}

impl RecipientCategory {
    /// The wire and book spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            RecipientCategory::Private => "private",
            RecipientCategory::Professional => "professional",
            RecipientCategory::Unspecified => "unspecified",
        }
    }

    /// The category a book row stores. A spelling this build does not know is read as
    /// [`RecipientCategory::Unspecified`]: a proof never claims more than the book says.
    pub fn from_book(stored: &str) -> RecipientCategory {
        match stored {
            "private" => RecipientCategory::Private,
            "professional" => RecipientCategory::Professional,
            _ => RecipientCategory::Unspecified,
        }
    }
}

/// The recipient the consent covers, without naming them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipient {
    /// Lowercase hex HMAC-SHA-256 of the normalised e-mail address under the subject's
    /// commitment key: binds the consent to that exact address, reveals nothing once the
    /// key is destroyed.
    pub address_commitment: String,
    /// Private person or professional.
    pub category: RecipientCategory,
}

/// The notice the recipient was shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notice {
    /// Lowercase hex SHA-256 of the exact notice text (UTF-8) shown.
    pub sha256: String,
    /// The sender's version label for the notice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// BCP 47 language tag of the text shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Where the notice is published, if it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Every member of a proof but its seal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofBody {
    /// Always [`PROOF_TYPE`].
    #[serde(rename = "type")]
    pub kind: String,
    /// The log origin: which log holds this proof.
    pub log: String,
    /// The proof's ID.
    pub id: ProofId,
    /// The sender.
    pub tenant: TenantId,
    /// The recipient's pseudonym.
    pub subject: SubjectId,
    /// The purpose consented to (the sender's purpose key, e.g. `newsletter`).
    pub purpose: String,
    /// The decision.
    pub decision: Decision,
    /// How it was collected.
    pub method: Method,
    /// Which address it covers, and the recipient's category.
    pub recipient: Recipient,
    /// The notice shown, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<Notice>,
    /// Lowercase hex keyed commitment to the evidence the sender holds, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// The delegated consent request this answers, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestId>,
    /// When a granted consent stops being valid, if the purpose has a validity period
    /// (counted from `given_at` when there is one, else from `recorded_at`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<Timestamp>,
    /// When the person gave the decision, if the sender states it and it is earlier than
    /// the recording (a paper form signed before it was entered): the sender's claim,
    /// checked only to be no later than `recorded_at` and no older than
    /// [`crate::consent::GIVEN_AT_MAX_AGE_DAYS`]. Absent, the member is omitted, so
    /// proofs without it keep their exact canonical bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_at: Option<Timestamp>,
    /// When the decision was recorded.
    pub recorded_at: Timestamp,
    /// The proof's index in the log.
    pub log_index: u64,
}

/// The seal: an Ed25519 signature over the canonical bytes of the body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seal {
    /// Always [`SEAL_ALG`].
    pub alg: String,
    /// First 16 hex digits of SHA-256 of the public key.
    pub key_id: String,
    /// Standard base64 of the 32-byte Ed25519 public key.
    pub public_key: String,
    /// Standard base64 of the 64-byte signature.
    pub signature: String,
}

/// A sealed proof: the body's members and `seal`, in one JSON object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedProof {
    /// The sealed members.
    #[serde(flatten)]
    pub body: ProofBody,
    /// The seal.
    pub seal: Seal,
}

/// Why a proof failed verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The seal names an algorithm other than Ed25519.
    #[error("seal algorithm {0:?} is not Ed25519")]
    UnknownAlgorithm(String),
    /// The seal's public key is not an Ed25519 key.
    #[error("seal public key is not a valid Ed25519 key")]
    BadPublicKey,
    /// The key ID does not match the public key.
    #[error("seal key_id {found} does not match the public key (expected {expected})")]
    KeyIdMismatch {
        /// The key ID in the seal.
        found: String,
        /// The key ID of the public key.
        expected: String,
    },
    /// The signature is not 64 bytes of base64.
    #[error("seal signature is not 64 bytes of base64")]
    MalformedSignature,
    /// The signature does not verify.
    #[error("seal signature does not match the proof's content")]
    BadSignature,
    /// The seal key is not the one the verifier trusts.
    #[error("sealed by key {found}, which is not the trusted seal key {expected}")]
    UntrustedKey {
        /// The key ID that sealed.
        found: String,
        /// The key ID trusted.
        expected: String,
    },
    /// The document could not be canonicalised.
    #[error(transparent)]
    Canonical(#[from] CanonicalError),
}

impl ProofBody {
    /// Seals the body with `key`.
    pub fn seal(self, key: &SealKey) -> Result<SealedProof, CanonicalError> {
        let seal = seal_message(&to_canonical_bytes(&self)?, key);
        Ok(SealedProof { body: self, seal })
    }
}

/// The seal of already-canonicalised body bytes (every member but `seal`): what proofs
/// and events alike carry.
pub fn seal_message(body: &[u8], key: &SealKey) -> Seal {
    let public = key.public();
    Seal {
        alg: SEAL_ALG.to_owned(),
        key_id: public.key_id(),
        public_key: public.to_base64(),
        signature: BASE64.encode(key.sign(body)),
    }
}

impl SealedProof {
    /// The canonical bytes of the whole sealed proof: the log entry.
    pub fn entry_bytes(&self) -> Result<Vec<u8>, CanonicalError> {
        to_canonical_bytes(self)
    }

    /// `SHA-256(0x00 ‖ entry_bytes)`.
    pub fn leaf_hash(&self) -> Result<Hash, CanonicalError> {
        Ok(leaf_hash(&self.entry_bytes()?))
    }
}

/// Checks the seal of a proof given as parsed JSON (an object), against the canonical
/// bytes of *that object as given* minus `seal`: any added, removed or changed member
/// breaks it. Returns the sealing key.
pub fn verify_seal(
    proof: &serde_json::Map<String, serde_json::Value>,
    seal: &Seal,
) -> Result<SealPublicKey, ProofError> {
    let mut body = proof.clone();
    body.remove("seal");
    verify_seal_bytes(&to_canonical_bytes(&body)?, seal)
}

/// Checks a seal over already-canonicalised body bytes (every member but `seal`).
pub fn verify_seal_bytes(body: &[u8], seal: &Seal) -> Result<SealPublicKey, ProofError> {
    if seal.alg != SEAL_ALG {
        return Err(ProofError::UnknownAlgorithm(seal.alg.clone()));
    }
    let public =
        SealPublicKey::from_base64(&seal.public_key).map_err(|_| ProofError::BadPublicKey)?;
    if seal.key_id != public.key_id() {
        return Err(ProofError::KeyIdMismatch {
            found: seal.key_id.clone(),
            expected: public.key_id(),
        });
    }
    let sig = BASE64
        .decode(&seal.signature)
        .ok()
        .filter(|s| s.len() == 64)
        .ok_or(ProofError::MalformedSignature)?;
    if !public.verify(body, &sig) {
        return Err(ProofError::BadSignature);
    }
    Ok(public)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample_body(index: u64) -> ProofBody {
        ProofBody {
            kind: PROOF_TYPE.into(),
            log: "consentry.example/log".into(),
            id: ProofId::parse("prf_01jd7x4k3m").unwrap(),
            tenant: TenantId::parse("ten_acme").unwrap(),
            subject: SubjectId::parse("sub_9f2c1e").unwrap(),
            purpose: "newsletter".into(),
            decision: Decision::Granted,
            method: Method::Manual,
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
            log_index: index,
        }
    }

    fn as_object(p: &SealedProof) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(p).unwrap() {
            serde_json::Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn sealed_proof_verifies_and_tampering_breaks_it() {
        let key = SealKey::from_seed(&[9; 32]);
        let p = sample_body(7).seal(&key).unwrap();
        let obj = as_object(&p);
        assert_eq!(verify_seal(&obj, &p.seal).unwrap(), key.public());

        let mut changed = obj.clone();
        changed.insert("decision".into(), "refused".into());
        assert_eq!(
            verify_seal(&changed, &p.seal),
            Err(ProofError::BadSignature)
        );

        let mut added = obj.clone();
        added.insert("extra".into(), 1.into());
        assert_eq!(verify_seal(&added, &p.seal), Err(ProofError::BadSignature));

        let mut other_key = p.seal.clone();
        other_key.public_key = SealKey::from_seed(&[1; 32]).public().to_base64();
        assert!(matches!(
            verify_seal(&obj, &other_key),
            Err(ProofError::KeyIdMismatch { .. })
        ));
    }

    #[test]
    fn given_at_is_a_sealed_member_and_absent_changes_no_byte() {
        let key = SealKey::from_seed(&[9; 32]);
        let without = sample_body(7).seal(&key).unwrap();
        let text = String::from_utf8(without.entry_bytes().unwrap()).unwrap();
        assert!(!text.contains("given_at"), "{text}");
        // The exact bytes of a proof without the member, as before it existed.
        assert_eq!(
            Hash::digest(&without.entry_bytes().unwrap()).to_hex(),
            Hash::digest(
                &to_canonical_bytes(&serde_json::json!({
                    "type": PROOF_TYPE, "log": "consentry.example/log", "id": "prf_01jd7x4k3m",
                    "tenant": "ten_acme", "subject": "sub_9f2c1e", "purpose": "newsletter",
                    "decision": "granted", "method": "manual",
                    "recipient": {"address_commitment": "ab".repeat(32), "category": "private"},
                    "evidence": "cd".repeat(32),
                    "recorded_at": "2026-11-23T19:04:05.123Z", "log_index": 7,
                    "seal": serde_json::to_value(&without.seal).unwrap(),
                }))
                .unwrap()
            )
            .to_hex()
        );
        let mut body = sample_body(7);
        body.given_at = Some(Timestamp::parse("2026-11-02T00:00:00.000Z").unwrap());
        let with = body.seal(&key).unwrap();
        let obj = as_object(&with);
        assert_eq!(obj["given_at"], "2026-11-02T00:00:00.000Z");
        assert_eq!(verify_seal(&obj, &with.seal).unwrap(), key.public());
        let mut moved = obj.clone();
        moved.insert("given_at".into(), "2026-11-01T00:00:00.000Z".into());
        assert_eq!(
            verify_seal(&moved, &with.seal),
            Err(ProofError::BadSignature)
        );
        let reparsed: SealedProof = serde_json::from_value(serde_json::Value::Object(obj)).unwrap();
        assert_eq!(reparsed, with);
    }

    #[test]
    fn entry_bytes_are_the_canonical_served_document() {
        let key = SealKey::from_seed(&[9; 32]);
        let p = sample_body(7).seal(&key).unwrap();
        let pretty = serde_json::to_string_pretty(&p).unwrap();
        let reparsed: serde_json::Value = serde_json::from_str(&pretty).unwrap();
        assert_eq!(
            to_canonical_bytes(&reparsed).unwrap(),
            p.entry_bytes().unwrap()
        );
        let text = String::from_utf8(p.entry_bytes().unwrap()).unwrap();
        assert!(
            text.starts_with("{\"decision\":\"granted\",\"evidence\":"),
            "{text}"
        );
        assert!(
            !text.contains("\"notice\""),
            "absent members are omitted, not null"
        );
    }
}
