//! Event documents: what happened to a subject's identity data, on the log.
//!
//! A proof records a consent decision; an event records a use of the vault that the
//! decision governs: a reveal that was allowed (`data.access`), one that was refused
//! (`data.access_denied`), an amendment (`data.amended`) and an erasure (`data.erased`).
//! Events are sealed exactly as proofs are — Ed25519 over the RFC 8785 canonical bytes of
//! every member but `seal`, with the same [`Seal`] — and the whole sealed document is the
//! log entry, so `SHA-256(0x00 ‖ JCS(event))` is its leaf hash.
//!
//! An event names fields, never their values: it holds the tenant, the subject's
//! pseudonym, who acted (an API key ID, or `portal`), the purpose, the *names* of the
//! fields asked for, the proof relied on and the consent state found. A reason the sender
//! gives is kept only as a keyed commitment under the subject's key, which dies with the
//! subject's erasure. So the log stays free of personal data, and an erased subject's
//! events can no longer be linked to the person.

use crate::canonical::{CanonicalError, to_canonical_bytes};
use crate::ids::{EventId, ProofId, SubjectId, TenantId};
use crate::keys::SealKey;
use crate::merkle::{Hash, leaf_hash};
use crate::proof::{Seal, seal_message};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The identity fields a reveal can name, in their wire spelling: the e-mail address,
/// the full name, the postal address, the phone number and the free identity fields
/// (`attributes`) held in the vault.
pub const IDENTITY_FIELDS: [&str; 5] = ["email", "name", "address", "phone", "attributes"];

/// What an event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    /// Identity fields were revealed to the sender for a purpose with a valid consent.
    #[serde(rename = "data.access")]
    Access,
    /// A reveal was refused: no granted, unexpired, unrevoked consent for the purpose.
    #[serde(rename = "data.access_denied")]
    AccessDenied,
    /// The subject's identity data was amended.
    #[serde(rename = "data.amended")]
    Amended,
    /// The subject's identity data was made inaccessible (crypto-shredding).
    #[serde(rename = "data.erased")]
    Erased,
    /// A proof's commitments were opened for a dispute: its address (and evidence) with
    /// the subject's commitment key, in a `consentry.disclosure/v1` document.
    #[serde(rename = "data.disclosed")]
    Disclosed,
}

impl EventType {
    /// Every event type.
    pub const ALL: [EventType; 5] = [
        EventType::Access,
        EventType::AccessDenied,
        EventType::Amended,
        EventType::Erased,
        EventType::Disclosed,
    ];

    /// The wire spelling, the document's `type`.
    pub fn as_str(&self) -> &'static str {
        match self {
            EventType::Access => "data.access",
            EventType::AccessDenied => "data.access_denied",
            EventType::Amended => "data.amended",
            EventType::Erased => "data.erased",
            EventType::Disclosed => "data.disclosed",
        }
    }

    /// The type spelled `s`, if it is an event type.
    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// The consent state a reveal found for its purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConsentState {
    /// Granted, not expired, not revoked: the only state that allows a reveal.
    Granted,
    /// Refused.
    Refused,
    /// Granted once, then withdrawn.
    Revoked,
    /// Granted, but past its `valid_until`; or asked for and never answered in time.
    Expired,
    /// Asked for (a delegated request), not answered yet.
    Pending,
    /// Nothing recorded for this purpose.
    None,
}

impl From<crate::proof::Decision> for ConsentState {
    /// The state a decision leaves in the book.
    fn from(d: crate::proof::Decision) -> ConsentState {
        match d {
            crate::proof::Decision::Granted => ConsentState::Granted,
            crate::proof::Decision::Refused => ConsentState::Refused,
            crate::proof::Decision::Revoked => ConsentState::Revoked,
        }
    }
}

impl ConsentState {
    /// Every state, in the order lists and filters offer them.
    pub const ALL: [ConsentState; 6] = [
        ConsentState::Granted,
        ConsentState::Refused,
        ConsentState::Revoked,
        ConsentState::Pending,
        ConsentState::Expired,
        ConsentState::None,
    ];

    /// Parses the wire spelling (`granted`, `refused`, `revoked`, `expired`, `pending`,
    /// `none`); nothing else.
    pub fn parse(s: &str) -> Option<ConsentState> {
        ConsentState::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The wire spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            ConsentState::Granted => "granted",
            ConsentState::Refused => "refused",
            ConsentState::Revoked => "revoked",
            ConsentState::Expired => "expired",
            ConsentState::Pending => "pending",
            ConsentState::None => "none",
        }
    }
}

/// Every member of an event but its seal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventBody {
    /// What happened.
    #[serde(rename = "type")]
    pub kind: EventType,
    /// The log origin: which log holds this event.
    pub log: String,
    /// The event's ID.
    pub id: EventId,
    /// The sender.
    pub tenant: TenantId,
    /// The subject's pseudonym.
    pub subject: SubjectId,
    /// Who acted: the sender's API key ID (`key_…`), or `portal` for the subject.
    pub actor: String,
    /// The purpose the data was asked for, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// The names of the fields concerned (see [`IDENTITY_FIELDS`]), never their values.
    pub fields: Vec<String>,
    /// The proof relied on (an access), or the proof that set the state found (a denial).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<ProofId>,
    /// The consent state found for the purpose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<ConsentState>,
    /// Lowercase hex keyed commitment, under the subject's commitment key, to the reason
    /// the actor gave; the text itself is not kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_commitment: Option<String>,
    /// Why a disclosure was made (`data.disclosed` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ground: Option<crate::disclosure::Ground>,
    /// When the event was recorded.
    pub recorded_at: Timestamp,
    /// The event's index in the log.
    pub log_index: u64,
}

/// A sealed event: the body's members and `seal`, in one JSON object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedEvent {
    /// The sealed members.
    #[serde(flatten)]
    pub body: EventBody,
    /// The seal.
    pub seal: Seal,
}

impl EventBody {
    /// Seals the body with `key`.
    pub fn seal(self, key: &SealKey) -> Result<SealedEvent, CanonicalError> {
        let seal = seal_message(&to_canonical_bytes(&self)?, key);
        Ok(SealedEvent { body: self, seal })
    }
}

impl SealedEvent {
    /// The canonical bytes of the whole sealed event: the log entry.
    pub fn entry_bytes(&self) -> Result<Vec<u8>, CanonicalError> {
        to_canonical_bytes(self)
    }

    /// `SHA-256(0x00 ‖ entry_bytes)`.
    pub fn leaf_hash(&self) -> Result<Hash, CanonicalError> {
        Ok(leaf_hash(&self.entry_bytes()?))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::proof::{ProofError, verify_seal};

    pub(crate) fn sample_body(index: u64) -> EventBody {
        EventBody {
            kind: EventType::Access,
            log: "consentry.example/log".into(),
            id: EventId::parse("evt_01jd7x4k3m").unwrap(),
            tenant: TenantId::parse("ten_acme").unwrap(),
            subject: SubjectId::parse("sub_9f2c1e").unwrap(),
            actor: "key_0a1b".into(),
            purpose: Some("invoicing".into()),
            fields: vec!["email".into(), "name".into()],
            proof: Some(ProofId::parse("prf_01jd7x4k3m").unwrap()),
            consent: Some(ConsentState::Granted),
            reason_commitment: None,
            ground: None,
            recorded_at: Timestamp::parse("2026-11-23T19:04:05.123Z").unwrap(),
            log_index: index,
        }
    }

    fn as_object(e: &SealedEvent) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(e).unwrap() {
            serde_json::Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn sealed_event_verifies_and_tampering_breaks_it() {
        let key = SealKey::from_seed(&[9; 32]);
        let e = sample_body(7).seal(&key).unwrap();
        let obj = as_object(&e);
        assert_eq!(verify_seal(&obj, &e.seal).unwrap(), key.public());
        for (member, value) in [
            ("type", serde_json::Value::from("data.access_denied")),
            ("fields", serde_json::json!(["email", "name", "phone"])),
            ("consent", "revoked".into()),
            ("log_index", 8.into()),
        ] {
            let mut changed = obj.clone();
            changed.insert(member.into(), value);
            assert_eq!(
                verify_seal(&changed, &e.seal),
                Err(ProofError::BadSignature),
                "{member}"
            );
        }
    }

    #[test]
    fn wire_form_is_canonical_and_omits_absent_members() {
        let key = SealKey::from_seed(&[9; 32]);
        let mut body = sample_body(3);
        body.kind = EventType::Erased;
        body.purpose = None;
        body.proof = None;
        body.consent = None;
        let e = body.seal(&key).unwrap();
        let text = String::from_utf8(e.entry_bytes().unwrap()).unwrap();
        assert!(
            text.starts_with(
                "{\"actor\":\"key_0a1b\",\"fields\":[\"email\",\"name\"],\"id\":\"evt_01jd7x4k3m\""
            ),
            "{text}"
        );
        assert!(text.contains("\"type\":\"data.erased\""), "{text}");
        for absent in ["purpose", "proof", "consent", "reason_commitment"] {
            assert!(!text.contains(&format!("\"{absent}\"")), "{absent}: {text}");
        }
        let back: SealedEvent = serde_json::from_str(&text).unwrap();
        assert_eq!(back, e);
        assert_eq!(e.leaf_hash().unwrap(), leaf_hash(text.as_bytes()));
    }

    #[test]
    fn types_and_states_have_their_wire_spelling() {
        for t in EventType::ALL {
            assert_eq!(
                serde_json::to_value(t).unwrap(),
                serde_json::Value::from(t.as_str())
            );
            assert_eq!(EventType::parse(t.as_str()), Some(t));
        }
        assert_eq!(EventType::parse("consentry.proof/v1"), None);
        for s in [
            ConsentState::Granted,
            ConsentState::Refused,
            ConsentState::Revoked,
            ConsentState::Expired,
            ConsentState::Pending,
            ConsentState::None,
        ] {
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::Value::from(s.as_str())
            );
        }
    }
}
