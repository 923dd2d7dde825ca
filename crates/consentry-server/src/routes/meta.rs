//! Health, metrics and the published keys.

use crate::problem::Problem;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::json;

/// The service's icon: a white tick on the application's blue, as SVG (every browser
/// that shows favicons takes SVG; one small file, no raster variants to keep in step).
pub const FAVICON: &str = include_str!("../../assets/favicon.svg");

/// `GET /favicon.svg` and `GET /favicon.ico` (browsers ask for the latter by themselves):
/// the icon, `image/svg+xml`, cacheable for a day by anyone.
pub async fn favicon() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        FAVICON,
    )
}

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

/// The PDF seal's certificate chain, for a reader to import its root as trusted (a
/// self-issued seal's root is the last certificate; an operator's seal chains to its CA).
fn pdf_seal(state: &AppState) -> serde_json::Value {
    let identity = state.ledger.pdf_seal().identity();
    json!({
        "holder": identity.holder(),
        "self_issued": identity.is_self_issued(),
        "qualified": identity.is_qualified(),
        "chain_pem": identity.chain_pem().ok(),
    })
}

/// `GET /.well-known/consentry.json`: the keys a verifier pins.
///
/// `log` and `public_url` are as they always were; `seal_keys` lists the current seal key
/// first, then the keys rotated away (newest first), whose proofs still verify;
/// `previous_log_keys` lists the log's rotated-away verifier keys (newest first): the
/// checkpoints they signed, and so the certificates issued before a log-key rotation,
/// still verify against them. Both lists change only when a key is rotated, at the
/// service's next start.
pub async fn well_known(State(state): State<AppState>) -> Json<serde_json::Value> {
    let seal_keys: Vec<serde_json::Value> = state
        .keys
        .seal_public_keys()
        .iter()
        .map(|k| {
            json!({
                "alg": "Ed25519",
                "key_id": k.key_id(),
                "public_key": k.to_base64(),
                "fingerprint": k.fingerprint(),
            })
        })
        .collect();
    Json(json!({
        "log": {
            "origin": &*state.origin,
            "verifier_key": state.keys.log.verifier_key(),
        },
        "seal_keys": seal_keys,
        "previous_log_keys": state.keys.retired_log,
        // Each signed by the key it retired: how a verifier that pinned an older key
        // accepts a newer one (this document itself is not signed).
        "rotations": state.keys.rotations,
        "anchors": state.anchoring.public_info(),
        "public_url": state.config.public_url,
        "pdf_seal": pdf_seal(&state),
        // For information: whom this log asks to cosign. Never a policy — a verifier
        // chooses its own witnesses and quorum (docs/witnessing.md).
        "witnesses": state
            .config
            .witnesses
            .witnesses
            .iter()
            .map(|w| json!({ "verifier_key": w.key.to_verifier_key(), "url": w.url }))
            .collect::<Vec<_>>(),
    }))
}
