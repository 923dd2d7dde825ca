//! Proof downloads.

use crate::app::AppState;
use crate::auth::TenantAuth;
use crate::problem::Problem;
use crate::routes::consents::proof_response;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use consentry_core::ids::ProofId;

/// `GET /v1/proofs/{id}`: the sealed proof, exactly the log entry's bytes.
pub async fn show(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id = ProofId::parse(&id).map_err(|_| Problem::not_found("proof"))?;
    let (_, entry) = state
        .store
        .proof(&auth.tenant.id, &id)
        .await?
        .ok_or_else(|| Problem::not_found("proof"))?;
    Ok(proof_response(StatusCode::OK, &id, entry))
}
