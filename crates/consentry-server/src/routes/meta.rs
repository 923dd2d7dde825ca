//! Health, metrics and the published keys.

use crate::app::AppState;
use crate::problem::Problem;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::json;

/// `GET /healthz`: 200 when the database answers.
pub async fn healthz(State(state): State<AppState>) -> Result<Json<serde_json::Value>, Problem> {
    state.store.ping().await?;
    Ok(Json(json!({ "status": "ok" })))
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
}

/// `GET /.well-known/consentry.json`: the keys a verifier pins.
pub async fn well_known(State(state): State<AppState>) -> Json<serde_json::Value> {
    let seal = state.keys.seal.public();
    Json(json!({
        "log": {
            "origin": &*state.origin,
            "verifier_key": state.keys.log.verifier_key(),
        },
        "seal_keys": [{
            "alg": "Ed25519",
            "key_id": seal.key_id(),
            "public_key": seal.to_base64(),
            "fingerprint": seal.fingerprint(),
        }],
        "public_url": state.config.public_url,
    }))
}
