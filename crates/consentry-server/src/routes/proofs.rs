//! Proof downloads: the sealed JSON (exactly the log entry's bytes) and a readable PDF.

use crate::app::AppState;
use crate::auth::TenantAuth;
use crate::problem::Problem;
use crate::routes::consents::proof_response;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use consentry_core::ids::ProofId;
use consentry_core::proof::SealedProof;
use consentry_pdf::{Language, ProofSummary};

/// The page language from `Accept-Language`: French when French is preferred, else English.
pub fn language(headers: &HeaderMap) -> Language {
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let first = accept
        .split(',')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if first.starts_with("fr") {
        Language::Fr
    } else {
        Language::En
    }
}

/// A UTC instant as local time in Europe/Paris, e.g. `23/11/2026 20:04:05 (Europe/Paris)`.
pub fn paris_time(ms: i64) -> String {
    let zoned = jiff::Timestamp::from_millisecond(ms)
        .ok()
        .and_then(|t| t.in_tz("Europe/Paris").ok());
    match zoned {
        Some(z) => format!("{} (Europe/Paris)", z.strftime("%d/%m/%Y %H:%M:%S")),
        None => String::from("—"),
    }
}

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
    if !pdf {
        return Ok(proof_response(StatusCode::OK, &id, entry));
    }
    let proof: SealedProof = serde_json::from_slice(&entry).map_err(Problem::unavailable)?;
    let leaf = consentry_core::merkle::leaf_hash(&entry);
    let summary = ProofSummary {
        language: language(&headers),
        sender_name: auth.tenant.name.clone(),
        subject: proof.body.subject.to_string(),
        purpose: proof.body.purpose.clone(),
        decision: proof.body.decision.as_str().to_owned(),
        method: serde_json::to_value(proof.body.method)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        recorded_at_utc: proof.body.recorded_at.to_string(),
        recorded_at_local: paris_time(proof.body.recorded_at.unix_millis()),
        proof_id: id.to_string(),
        log_index: proof.body.log_index,
        log_origin: proof.body.log.clone(),
        seal_key_fingerprint: state.keys.seal.public().fingerprint(),
        leaf_hash: leaf.to_hex(),
        verify_url: format!("{}/verify", state.config.public_url.trim_end_matches('/')),
    };
    let bytes = consentry_pdf::proof_pdf(&summary).map_err(Problem::unavailable)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{id}.pdf\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paris_time_follows_dst() {
        // 2026-11-23T19:04:05Z is 20:04:05 in Paris (CET, UTC+1)…
        assert_eq!(
            paris_time(1_795_460_645_000),
            "23/11/2026 20:04:05 (Europe/Paris)"
        );
        // …and 2026-07-01T12:00:00Z is 14:00 (CEST, UTC+2).
        assert_eq!(
            paris_time(1_782_907_200_000),
            "01/07/2026 14:00:00 (Europe/Paris)"
        );
    }
}
