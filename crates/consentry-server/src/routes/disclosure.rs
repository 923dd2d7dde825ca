//! `POST /v1/proofs/{id}/disclosure`: the proof's commitments opened for a dispute
//! ([`crate::disclosures`]).

use crate::auth::TenantAuth;
use crate::disclosures::{DisclosureInput, disclose as make};
use crate::i18n::accept_language;
use crate::problem::{ApiJson, Problem};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use consentry_core::disclosure::Ground;
use consentry_core::ids::ProofId;
use serde::Deserialize;

/// Body of `POST /v1/proofs/{id}/disclosure`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisclosureRequest {
    ground: Ground,
    /// Identity fields to add as the operator's statement: `name`, `postal_address`,
    /// `phone` (no proof commits to them).
    #[serde(default)]
    fields: Vec<String>,
    /// The evidence file (standard base64) the proof's evidence commitment names, when
    /// the requester has it: the service keeps only the commitment.
    #[serde(default)]
    evidence: Option<String>,
}

/// `POST /v1/proofs/{id}/disclosure`.
pub async fn disclose(
    State(state): State<AppState>,
    auth: TenantAuth,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DisclosureRequest>,
) -> Result<Response, Problem> {
    let id = ProofId::parse(&id).map_err(|_| Problem::not_found("proof"))?;
    let evidence = body
        .evidence
        .as_deref()
        .map(|b| base64::engine::general_purpose::STANDARD.decode(b))
        .transpose()
        .map_err(|_| Problem::invalid("evidence: not standard base64"))?;
    let input = DisclosureInput {
        ground: body.ground,
        fields: body.fields,
        evidence,
    };
    let document = make(&state, &auth.tenant.id, auth.key_id.clone(), &id, input).await?;
    // `Accept: application/pdf` asks for the sealed PDF (the JSON attached to it).
    let wants_pdf = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/pdf"));
    let (bytes, media) = if wants_pdf {
        let (_, entry) = state
            .store
            .proof(&auth.tenant.id, &id)
            .await?
            .ok_or_else(|| Problem::not_found("proof"))?;
        let pdf = crate::downloads::disclosure_pdf(
            &state,
            &auth.tenant.name,
            accept_language(&headers),
            &document,
            &entry,
        )
        .await?;
        (pdf, "application/pdf")
    } else {
        (
            serde_json::to_vec(&document).map_err(Problem::unavailable)?,
            "application/json",
        )
    };
    Ok((
        StatusCode::CREATED,
        [
            (header::CONTENT_TYPE, media),
            (header::CACHE_CONTROL, "no-store"),
        ],
        bytes,
    )
        .into_response())
}
