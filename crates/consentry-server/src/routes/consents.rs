//! Recording a consent decision by hand: the reply is the sealed proof.

use crate::app::AppState;
use crate::auth::TenantAuth;
use crate::problem::{ApiJson, Problem};
use crate::sequencer::{Evidence, ProofDraft, SubmitError};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use consentry_core::ids::{ProofId, SubjectId};
use consentry_core::merkle::Hash;
use consentry_core::proof::{Decision, Method, Notice, RecipientCategory};
use consentry_core::time::Timestamp;
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

/// Body of `POST /v1/contacts/{id}/consents`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordConsent {
    purpose: String,
    decision: Decision,
    #[serde(default)]
    evidence: Option<String>,
    #[serde(default)]
    notice: Option<NoticeIn>,
    #[serde(default)]
    valid_days: Option<u32>,
    #[serde(default)]
    valid_until: Option<Timestamp>,
}

/// A purpose key: 1 to 64 of `a-z 0-9 . _ -`, starting with a letter or digit.
pub fn check_purpose(p: &str) -> Result<(), Problem> {
    let ok = (1..=64).contains(&p.len())
        && p.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && p.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Problem::invalid(
            "purpose must be 1 to 64 of a-z 0-9 . _ -, starting with a letter or digit",
        ))
    }
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

/// The category a contact row stores.
pub fn category(s: &str) -> RecipientCategory {
    match s {
        "private" => RecipientCategory::Private,
        "professional" => RecipientCategory::Professional,
        _ => RecipientCategory::Unspecified,
    }
}

/// A proof response: the canonical sealed proof, with its location.
pub fn proof_response(status: StatusCode, id: &ProofId, entry: Vec<u8>) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::LOCATION, format!("/v1/proofs/{id}")),
        ],
        entry,
    )
        .into_response()
}

/// `POST /v1/contacts/{id}/consents`: records a decision and answers with its proof once
/// the proof is durable in the log.
pub async fn record(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RecordConsent>,
) -> Result<Response, Problem> {
    check_purpose(&body.purpose)?;
    if body.valid_days.is_some_and(|d| !(1..=3650).contains(&d)) {
        return Err(Problem::invalid("valid_days must be between 1 and 3650"));
    }
    if body.valid_until.is_some() && body.valid_days.is_some() {
        return Err(Problem::invalid("give valid_days or valid_until, not both"));
    }
    if body.valid_until.is_some() && body.decision != Decision::Granted {
        return Err(Problem::invalid(
            "valid_until applies to a granted consent only",
        ));
    }
    if body.evidence.as_ref().is_some_and(|e| e.len() > 16 * 1024) {
        return Err(Problem::invalid(
            "evidence is longer than 16 KiB; keep the document and send a reference to it",
        ));
    }
    let notice = body.notice.map(notice).transpose()?;
    let subject = SubjectId::parse(&id).map_err(|_| Problem::not_found("contact"))?;
    let now = state.clock.now_ms();
    let proof_id =
        ProofId::from_suffix(&crate::random::id_suffix(now)).map_err(Problem::unavailable)?;
    // The contact is read in the append transaction itself (see the sequencer): unknown,
    // foreign and erased contacts are refused there, with nothing written.
    let draft = ProofDraft {
        id: proof_id.clone(),
        tenant: auth.tenant.id.clone(),
        subject,
        purpose: body.purpose,
        decision: body.decision,
        method: Method::Manual,
        recipient: None,
        notice,
        evidence: body.evidence.map(Evidence::Text),
        request: None,
        valid_days: body.valid_days,
    };
    // A valid_until in the past records a consent that has already lapsed (say, a paper
    // record imported late): the book shows it as expired and it allows no reveal.
    let submitted = state.sequencer.submit_until(draft, body.valid_until).await;
    let sealed = submitted.map_err(|e| match e {
        SubmitError::UnknownContact => Problem::not_found("contact"),
        SubmitError::Erased => Problem::new(
            StatusCode::GONE,
            "erased",
            "Erased",
            "this contact's data was erased; no consent can be recorded for it",
        ),
        other => Problem::unavailable(other),
    })?;
    Ok(proof_response(StatusCode::CREATED, &proof_id, sealed.entry))
}
