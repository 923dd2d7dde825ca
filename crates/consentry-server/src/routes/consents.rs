//! `POST /v1/contacts/{id}/consents`: recording a decision by hand; the reply is the sealed
//! proof.

use crate::auth::TenantAuth;
use crate::consents::{
    ManualConsent, NoticeIn, check_given_at, check_purpose, check_terms, new_proof_id, notice,
    record_manual_as,
};
use crate::downloads::proof_response;
use crate::problem::{ApiJson, Problem};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use consentry_core::ids::SubjectId;
use consentry_core::proof::Decision;
use consentry_core::time::Timestamp;
use consentry_ledger::Evidence;
use serde::Deserialize;

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
    /// When the person gave the decision (never in the future, at most ten years ago).
    #[serde(default)]
    given_at: Option<Timestamp>,
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
    check_terms(
        body.decision,
        body.valid_days,
        body.valid_until,
        body.evidence.as_ref().map_or(0, String::len),
    )?;
    check_given_at(body.given_at, state.clock.now_ms())?;
    let notice = body.notice.map(notice).transpose()?;
    let subject = SubjectId::parse(&id).map_err(|_| Problem::not_found("contact"))?;
    let m = ManualConsent {
        tenant: auth.tenant.id.clone(),
        subject,
        purpose: body.purpose,
        decision: body.decision,
        evidence: body.evidence.map(Evidence::Text),
        notice,
        valid_days: body.valid_days,
        valid_until: body.valid_until,
        given_at: body.given_at,
    };
    let proof_id = new_proof_id(&state)?;
    let sealed = record_manual_as(&state, proof_id.clone(), m).await?;
    Ok(proof_response(StatusCode::CREATED, &proof_id, sealed.entry))
}
