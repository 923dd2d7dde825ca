//! Disclosure for a dispute: `consentry.disclosure/v1`.
//!
//! A proof names its recipient only by pseudonym and by `address_commitment`, a keyed
//! commitment to the normalised e-mail address: `HMAC-SHA256(K, "address" ‖ 0x00 ‖
//! address)`, lowercase hex, where `K` is the subject's **commitment key**. To show a court
//! who consented, the operator discloses the address and `K` — the *opening* — in a sealed
//! document; anyone then recomputes the commitment from the disclosure and the proof
//! alone. The evidence file recorded with a manual consent is committed the same way
//! (label `evidence`) and can be disclosed with it.
//!
//! **Scope of the opening.** `K` is per subject, not per commitment: it opens every
//! commitment made for that subject — its address in every proof, its evidence files, the
//! reasons the sender gave for reading its data. The document says so
//! (`opening.scope: "subject"`). Name, postal address and phone are never committed in
//! proofs: a disclosure may carry them under `asserted`, which nothing here checks.

use crate::ids::{EventId, ProofId, SubjectId};
use crate::proof::Seal;
use crate::time::Timestamp;
use hmac::{Hmac, Mac as _};
use serde::{Deserialize, Serialize};

/// The document's `type`.
pub const DISCLOSURE_TYPE: &str = "consentry.disclosure/v1";

/// Why the operator disclosed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ground {
    /// To establish, exercise or defend a legal claim (GDPR art. 17(3)(e), 9(2)(f)).
    LegalClaim,
    /// At the request of a public authority.
    AuthorityRequest,
    /// At the request of the person (their own data).
    SubjectRequest,
}

impl Ground {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Ground::LegalClaim => "legal-claim",
            Ground::AuthorityRequest => "authority-request",
            Ground::SubjectRequest => "subject-request",
        }
    }
}

/// Which commitments an opening opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpeningScope {
    /// Every commitment of the subject (the commitment key is per subject).
    Subject,
}

/// The opening: the key the commitments were made under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Opening {
    /// What it opens.
    pub scope: OpeningScope,
    /// The commitment key, 32 bytes as lowercase hex.
    pub commitment_key: String,
}

/// Identity data disclosed as the operator's statement, not committed in any proof.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Asserted {
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Postal address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_address: Option<String>,
    /// Phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// Every member of a disclosure but its seal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisclosureBody {
    /// [`DISCLOSURE_TYPE`].
    #[serde(rename = "type")]
    pub kind: String,
    /// The log origin.
    pub log: String,
    /// The `data.disclosed` log event that records this disclosure.
    pub event: EventId,
    /// The proof disclosed.
    pub proof: ProofId,
    /// That proof's leaf hash, lowercase hex: which exact entry is opened.
    pub proof_leaf_hash: String,
    /// The proof's subject.
    pub subject: SubjectId,
    /// Why.
    pub ground: Ground,
    /// The normalised e-mail address the proof's `address_commitment` commits to.
    pub address: String,
    /// The opening.
    pub opening: Opening,
    /// The evidence file the proof's `evidence` commits to, standard base64, when the
    /// requester supplied it (the service keeps only its commitment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// Identity data the operator states without any commitment to check it against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asserted: Option<Asserted>,
    /// When.
    pub disclosed_at: Timestamp,
}

/// A sealed disclosure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedDisclosure {
    /// The body.
    #[serde(flatten)]
    pub body: DisclosureBody,
    /// The operator's seal over `JCS(body)`.
    pub seal: Seal,
}

impl DisclosureBody {
    /// Seals the body with `key`.
    pub fn seal(
        self,
        key: &crate::keys::SealKey,
    ) -> Result<SealedDisclosure, crate::canonical::CanonicalError> {
        let seal = crate::proof::seal_message(&crate::canonical::to_canonical_bytes(&self)?, key);
        Ok(SealedDisclosure { body: self, seal })
    }
}

/// `HMAC-SHA256(key, label ‖ 0x00 ‖ data)`, lowercase hex: a Consentry commitment.
pub fn commitment(key: &[u8; 32], label: &str, data: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(key) else {
        // A 32-byte key always fits HMAC; unreachable.
        return String::new();
    };
    mac.update(label.as_bytes());
    mac.update(&[0]);
    mac.update(data);
    hex::encode(mac.finalize().into_bytes())
}

/// The commitment key of an opening, if it is 32 bytes of lowercase hex.
pub fn opening_key(opening: &Opening) -> Option<[u8; 32]> {
    let bytes = hex::decode(&opening.commitment_key).ok()?;
    (opening
        .commitment_key
        .bytes()
        .all(|b| !b.is_ascii_uppercase()))
    .then(|| bytes.try_into().ok())
    .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commitments_are_hmac_sha256_of_label_nul_data() {
        // RFC 4231-style check against an independent computation of the same HMAC.
        let key = [0x0b; 32];
        let c = commitment(&key, "address", b"jean.dupont@example.fr");
        assert_eq!(c.len(), 64);
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
        mac.update(b"address\0jean.dupont@example.fr");
        assert_eq!(c, hex::encode(mac.finalize().into_bytes()));
        assert_ne!(c, commitment(&key, "evidence", b"jean.dupont@example.fr"));
        assert_ne!(
            c,
            commitment(&[0x0c; 32], "address", b"jean.dupont@example.fr")
        );
    }

    #[test]
    fn openings_are_32_bytes_of_lowercase_hex() {
        let o = |k: &str| Opening {
            scope: OpeningScope::Subject,
            commitment_key: k.to_owned(),
        };
        assert_eq!(opening_key(&o(&"ab".repeat(32))), Some([0xab; 32]));
        assert_eq!(opening_key(&o(&"AB".repeat(32))), None);
        assert_eq!(opening_key(&o("ab")), None);
        assert_eq!(opening_key(&o("zz")), None);
    }
}
