//! The tenant's webhook: set, read, remove, and its recent deliveries.

use crate::auth::TenantAuth;
use crate::problem::{ApiJson, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use consentry_ledger::outbound::UrlError;
use serde::Deserialize;
use serde_json::{Value, json};

/// Body of `PUT /v1/webhook`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetWebhook {
    url: String,
}

fn view(state: &AppState, auth: &TenantAuth, url: &str, version: i64) -> Value {
    json!({
        "url": url,
        "secret": crate::webhooks::secret(state, auth.tenant.id.as_str(), version),
        "signature": "Consentry-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<body>\")>",
        "events": ["consent_request.answered", "consent_request.expired"],
    })
}

/// `PUT /v1/webhook`: sets the URL events are POSTed to; answers with a new secret.
///
/// An address written in the URL (or `localhost`) in a range outbound requests may not
/// reach is refused here at once (422 `forbidden-address`, naming the rule); a name is
/// resolved and checked at each delivery, since DNS can change.
pub async fn set(
    State(state): State<AppState>,
    auth: TenantAuth,
    ApiJson(body): ApiJson<SetWebhook>,
) -> Result<Json<Value>, Problem> {
    let url = body.url.trim();
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 2000
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    let invalid = || Problem::invalid("url must be an http(s) URL of at most 2000 characters");
    if !ok {
        return Err(invalid());
    }
    match state.outbound.check_url(url) {
        Ok(()) => {}
        Err(e @ UrlError::Forbidden { rule, .. }) => {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "forbidden-address",
                "Forbidden address",
                e.to_string(),
            )
            .with("rule", rule.name()));
        }
        Err(_) => return Err(invalid()),
    }
    let hook = state
        .store
        .set_webhook(&auth.tenant.id, url, state.clock.now_ms())
        .await?;
    Ok(Json(view(&state, &auth, &hook.url, hook.version)))
}

/// `GET /v1/webhook`.
pub async fn show(State(state): State<AppState>, auth: TenantAuth) -> Result<Json<Value>, Problem> {
    let hook = state
        .store
        .webhook(&auth.tenant.id)
        .await?
        .ok_or_else(|| Problem::not_found("webhook"))?;
    let mut v = view(&state, &auth, &hook.url, hook.version);
    let deliveries = state.store.deliveries(&auth.tenant.id, 50).await?;
    v["recent_deliveries"] = deliveries
        .into_iter()
        .map(|(id, status, attempts, error)| json!({"id": id, "status": status, "attempts": attempts, "error": error}))
        .collect();
    Ok(Json(v))
}

/// `DELETE /v1/webhook`.
pub async fn delete(
    State(state): State<AppState>,
    auth: TenantAuth,
) -> Result<StatusCode, Problem> {
    if state.store.delete_webhook(&auth.tenant.id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found("webhook"))
    }
}
