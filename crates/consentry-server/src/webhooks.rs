//! Webhooks: the sender hears of each answer and expiry without polling.
//!
//! Events are queued in the database in the same transaction as what they announce, and
//! delivered by the outbox loop with retries and backoff. Each POST carries
//! `Consentry-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, the
//! HMAC key being the secret string's bytes (`whsec_…`), as Stripe-style verifiers expect.
//! The secret is derived from the master key and the webhook's version, so it is never
//! stored and rotates whenever the URL is set again. Events carry pseudonyms only.

use crate::state::AppState;
use consentry_store::Delivery;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;

/// Attempts before a delivery is marked failed.
const MAX_ATTEMPTS: i64 = 10;

/// The signing secret of a tenant's webhook at `version`.
pub fn secret(state: &AppState, tenant: &str, version: i64) -> String {
    format!(
        "whsec_{}",
        hex::encode(
            state
                .keys
                .master
                .link_token("webhook-secret", &format!("{tenant}:{version}"))
        )
    )
}

/// The `Consentry-Signature` header value for `body` at `t` (Unix seconds).
pub fn signature(secret: &str, t: i64, body: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(format!("{t}.{body}").as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

fn backoff_ms(attempts: i64) -> i64 {
    (10_000i64 << attempts.clamp(0, 8)).min(3_600_000)
}

async fn post(
    url: String,
    headers: Vec<(&'static str, String)>,
    body: String,
) -> Result<(), String> {
    tokio::task::spawn_blocking(move || {
        let agent: ureq_client::Agent = ureq_client::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(15)))
            .max_redirects(0)
            .build()
            .into();
        let mut req = agent
            .post(&url)
            .header("Content-Type", "application/json")
            .header("User-Agent", "Consentry-Webhook/1");
        for (k, v) in &headers {
            req = req.header(*k, v);
        }
        match req.send(body.as_bytes()) {
            Ok(res) if res.status().is_success() => Ok(()),
            Ok(res) => Err(format!(
                "the endpoint answered HTTP {}",
                res.status().as_u16()
            )),
            Err(e) => Err(format!("delivery failed: {e}")),
        }
    })
    .await
    .map_err(|e| e.to_string())?
}

async fn deliver(state: &AppState, d: &Delivery, now: i64) -> Result<(), String> {
    let hook = state
        .store
        .webhook(&d.tenant)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no webhook configured")?;
    let secret = secret(state, d.tenant.as_str(), hook.version);
    let t = now / 1000;
    let kind = serde_json::from_str::<serde_json::Value>(&d.event)
        .ok()
        .and_then(|v| v["type"].as_str().map(str::to_owned))
        .unwrap_or_default();
    post(
        hook.url,
        vec![
            ("Consentry-Signature", signature(&secret, t, &d.event)),
            ("Consentry-Event", kind),
            ("Consentry-Delivery", d.id.clone()),
        ],
        d.event.clone(),
    )
    .await
}

/// Delivers what is due.
pub async fn round(state: &AppState) {
    let now = state.clock.now_ms();
    let due = match state.store.due_deliveries(now, 50).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "reading the webhook queue failed");
            return;
        }
    };
    for d in due {
        let outcome = deliver(state, &d, now).await;
        let record = match &outcome {
            Ok(()) => state.store.delivery_attempted(&d.id, Ok(())).await,
            Err(e) => {
                let attempts = d.attempts + 1;
                let next = (attempts < MAX_ATTEMPTS).then(|| now + backoff_ms(attempts));
                tracing::warn!(delivery = %d.id, attempts, error = %e, "webhook not delivered");
                state.store.delivery_attempted(&d.id, Err((next, e))).await
            }
        };
        if let Err(e) = record {
            tracing::warn!(error = %e, "recording a webhook delivery failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Computed independently: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
        assert_eq!(
            signature("whsec_test", 1_700_000_000, "{\"a\":1}"),
            "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
        );
    }
}
