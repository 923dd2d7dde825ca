//! Recording a consent decision by hand (the API and the web application): checking the
//! terms, sealing through the ledger, and the proof as the reply.

use crate::problem::Problem;
use crate::state::AppState;

use axum::http::StatusCode;
use consentry_core::ids::{ProofId, SubjectId, TenantId};
use consentry_core::merkle::Hash;
use consentry_core::proof::{Decision, Method, Notice};
use consentry_core::time::Timestamp;
use consentry_ledger::{Evidence, ProofDraft, Sealed, SubmitError};
use serde::Deserialize;

/// The notice shown, as the sender describes it: its text (hashed here) or its hash.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeIn {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    sha256: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

/// A purpose key, by the core's rule ([`consentry_core::consent::Purpose`]).
pub fn check_purpose(p: &str) -> Result<(), Problem> {
    consentry_core::consent::Purpose::parse(p)
        .map(|_| ())
        .map_err(|e| Problem::invalid(e.to_string()))
}

/// Turns the sender's notice description into the proof's notice.
pub fn notice(n: NoticeIn) -> Result<Notice, Problem> {
    let sha256 = match (n.text, n.sha256) {
        (Some(text), None) => Hash::digest(text.as_bytes()).to_hex(),
        (None, Some(h)) if Hash::from_hex(&h).is_some() => h.to_ascii_lowercase(),
        (None, Some(_)) => return Err(Problem::invalid("notice.sha256 must be 64 hex digits")),
        _ => {
            return Err(Problem::invalid(
                "give the notice's text or its sha256, not both",
            ));
        }
    };
    for (what, v, max) in [
        ("version", &n.version, 64),
        ("language", &n.language, 35),
        ("url", &n.url, 2000),
    ] {
        if v.as_ref()
            .is_some_and(|s| s.len() > max || s.chars().any(char::is_control))
        {
            return Err(Problem::invalid(format!(
                "notice.{what} is too long or has control characters"
            )));
        }
    }
    Ok(Notice {
        sha256,
        version: n.version,
        language: n.language,
        url: n.url,
    })
}

/// A manual decision to record, as both the API and the web application give it.
#[derive(Debug)]
pub struct ManualConsent {
    /// The sender.
    pub tenant: TenantId,
    /// The contact.
    pub subject: SubjectId,
    /// Purpose key (checked by [`check_purpose`]).
    pub purpose: String,
    /// The decision.
    pub decision: Decision,
    /// The evidence: the sender's text (committed in the append transaction) or a keyed
    /// commitment already made under the subject's key (a file's).
    pub evidence: Option<Evidence>,
    /// The notice shown.
    pub notice: Option<Notice>,
    /// Validity of a granted consent, in days (1 to 3650).
    pub valid_days: Option<u32>,
    /// Or the instant it lapses.
    pub valid_until: Option<Timestamp>,
    /// When the person gave the decision, if earlier than now (checked by
    /// [`check_given_at`]); `valid_days` then count from it.
    pub given_at: Option<Timestamp>,
}

/// Why a manual decision was not recorded; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The input is not acceptable (an English message for the API).
    #[error("{0}")]
    Invalid(String),
    /// No such contact in the tenant's book.
    #[error("no such contact")]
    UnknownContact,
    /// The contact's data was erased.
    #[error("the contact's data was erased")]
    Erased,
    /// The append failed or the service is stopping.
    #[error("{0}")]
    Unavailable(String),
    /// The storage is full; nothing was written.
    #[error("the storage is full")]
    StorageFull,
}

impl From<RecordError> for Problem {
    fn from(e: RecordError) -> Problem {
        match e {
            RecordError::Invalid(m) => Problem::invalid(m),
            RecordError::UnknownContact => Problem::not_found("contact"),
            RecordError::Erased => Problem::new(
                StatusCode::GONE,
                "erased",
                "Erased",
                "this contact's data was erased; no consent can be recorded for it",
            ),
            RecordError::Unavailable(m) => Problem::unavailable(m),
            RecordError::StorageFull => Problem::storage_full("recording a consent"),
        }
    }
}

/// Checks a manual decision's purpose, validity and evidence text.
pub fn check_manual(m: &ManualConsent) -> Result<(), RecordError> {
    if check_purpose(&m.purpose).is_err() {
        return Err(RecordError::Invalid(
            "purpose must be 1 to 64 of a-z 0-9 . _ -, starting with a letter or digit".into(),
        ));
    }
    let text_len = match &m.evidence {
        Some(Evidence::Text(e)) => e.len(),
        _ => 0,
    };
    check_terms(m.decision, m.valid_days, m.valid_until, text_len)
}

/// Checks a decision's validity terms and the length of its evidence text.
pub fn check_terms(
    decision: Decision,
    valid_days: Option<u32>,
    valid_until: Option<Timestamp>,
    evidence_len: usize,
) -> Result<(), RecordError> {
    if let Some(days) = valid_days {
        consentry_core::consent::valid_days(days)
            .map_err(|e| RecordError::Invalid(e.to_string()))?;
    }
    if valid_until.is_some() && valid_days.is_some() {
        return Err(RecordError::Invalid(
            "give valid_days or valid_until, not both".into(),
        ));
    }
    if valid_until.is_some() && decision != Decision::Granted {
        return Err(RecordError::Invalid(
            "valid_until applies to a granted consent only".into(),
        ));
    }
    if evidence_len > MAX_EVIDENCE_TEXT {
        return Err(RecordError::Invalid(
            "evidence is longer than 16 KiB; keep the document and send a reference to it".into(),
        ));
    }
    Ok(())
}

/// Checks a stated date of consent against `now`: not in the future, not more than
/// [`consentry_core::consent::GIVEN_AT_MAX_AGE_DAYS`] old.
pub fn check_given_at(given_at: Option<Timestamp>, now: i64) -> Result<(), RecordError> {
    match given_at {
        Some(g) => consentry_core::consent::given_at(g.unix_millis(), now)
            .map(|_| ())
            .map_err(|e| RecordError::Invalid(e.to_string())),
        None => Ok(()),
    }
}

/// Longest evidence text: 16 KiB.
pub const MAX_EVIDENCE_TEXT: usize = 16 * 1024;

/// Records a manual decision under a new proof ID (the ID is made first, so that a
/// caller can file evidence under it before the append: see [`record_manual_as`]).
pub async fn record_manual(state: &AppState, m: ManualConsent) -> Result<Sealed, RecordError> {
    let id = new_proof_id(state)?;
    record_manual_as(state, id, m).await
}

/// A new proof ID.
pub fn new_proof_id(state: &AppState) -> Result<ProofId, RecordError> {
    ProofId::from_suffix(&consentry_ledger::random::id_suffix(state.clock.now_ms()))
        .map_err(|e| RecordError::Unavailable(e.to_string()))
}

/// Records a manual decision as proof `id`, and answers once the proof is durable in the
/// log. The contact is read in the append transaction itself (see the sequencer):
/// unknown, foreign and erased contacts are refused there, with nothing written.
pub async fn record_manual_as(
    state: &AppState,
    id: ProofId,
    m: ManualConsent,
) -> Result<Sealed, RecordError> {
    check_manual(&m)?;
    check_given_at(m.given_at, state.clock.now_ms())?;
    let draft = ProofDraft {
        id,
        tenant: m.tenant,
        subject: m.subject,
        purpose: m.purpose,
        decision: m.decision,
        method: Method::Manual,
        recipient: None,
        notice: m.notice,
        evidence: m.evidence,
        request: None,
        link: None,
        valid_days: m.valid_days,
        given_at: m.given_at,
    };
    // A valid_until in the past records a consent that has already lapsed (say, a paper
    // record imported late): the book shows it as expired and it allows no reveal.
    state
        .ledger
        .record_until(draft, m.valid_until)
        .await
        .map_err(|e| match e {
            SubmitError::UnknownContact => RecordError::UnknownContact,
            SubmitError::Erased => RecordError::Erased,
            SubmitError::StorageFull => RecordError::StorageFull,
            other => RecordError::Unavailable(other.to_string()),
        })
}
