//! Proof downloads over the API: the sealed JSON (exactly the log entry's bytes), its
//! certificate, and their readable PDFs (in the `Accept-Language` language).

use crate::auth::TenantAuth;
use crate::downloads::{Disposition, Document, Download, Format};
use crate::i18n::accept_language;
use crate::problem::Problem;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use consentry_core::ids::ProofId;

/// `GET /v1/proofs/{id}` (JSON) and `GET /v1/proofs/{id}.pdf`.
pub async fn show(
    State(state): State<AppState>,
    auth: TenantAuth,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let (raw, pdf) = match id.strip_suffix(".pdf") {
        Some(stem) => (stem, true),
        None => (id.strip_suffix(".json").unwrap_or(&id), false),
    };
    let id = ProofId::parse(raw).map_err(|_| Problem::not_found("proof"))?;
    let (_, entry) = state
        .store
        .proof(&auth.tenant.id, &id)
        .await?
        .ok_or_else(|| Problem::not_found("proof"))?;
    let format = if pdf { Format::Pdf } else { Format::Json };
    let mut res = download(
        &state,
        &auth,
        &headers,
        &id,
        &entry,
        Document::Proof,
        format,
    )
    .await?;
    if let Ok(v) = HeaderValue::from_str(&format!("/v1/proofs/{id}")) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// `GET /v1/proofs/{id}/certificate`: the certificate JSON, or 409 while pending.
pub async fn certificate(
    State(state): State<AppState>,
    auth: TenantAuth,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    certificate_response(state, auth, headers, id, false).await
}

/// `GET /v1/proofs/{id}/certificate.pdf`: the certificate as a readable page.
pub async fn certificate_pdf(
    State(state): State<AppState>,
    auth: TenantAuth,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    certificate_response(state, auth, headers, id, true).await
}

async fn certificate_response(
    state: AppState,
    auth: TenantAuth,
    headers: HeaderMap,
    id: String,
    pdf: bool,
) -> Result<Response, Problem> {
    let id = ProofId::parse(&id).map_err(|_| Problem::not_found("proof"))?;
    let (_, entry) = state
        .store
        .proof(&auth.tenant.id, &id)
        .await?
        .ok_or_else(|| Problem::not_found("proof"))?;
    let format = if pdf { Format::Pdf } else { Format::Json };
    download(
        &state,
        &auth,
        &headers,
        &id,
        &entry,
        Document::Certificate,
        format,
    )
    .await
}

async fn download(
    state: &AppState,
    auth: &TenantAuth,
    headers: &HeaderMap,
    id: &ProofId,
    entry: &[u8],
    document: Document,
    format: Format,
) -> Result<Response, Problem> {
    Download {
        id,
        entry,
        sender_name: &auth.tenant.name,
        document,
        format,
        lang: accept_language(headers),
        disposition: Disposition::Inline,
    }
    .respond(state)
    .await
}
