//! Webhooks: the sender hears of each answer and expiry without polling.
//!
//! Events are queued in the database in the same transaction as what they announce, and
//! delivered by the workers ([`crate::workers`], one lane per tenant) with retries and
//! backoff, through the guarded outbound client: no loopback, private or other
//! special-purpose address unless the operator allowed it, checked at each attempt. Each POST carries
//! `Consentry-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, the
//! HMAC key being the secret string's bytes (`whsec_…`), as Stripe-style verifiers expect.
//! The secret is derived from the master key and the webhook's version, so it is never
//! stored and rotates whenever the URL is set again. Events carry pseudonyms only.

use crate::state::AppState;
use consentry_store::Delivery;
use hmac::{Hmac, Mac};
use sha2::Sha256;

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

/// Delivers one event to the tenant's webhook as configured now, through the guarded
/// client ([`consentry_ledger::outbound`]): the URL is read and its host resolved and
/// checked again at each attempt. The error returned is the tenant's text; the precise
/// reason goes to the operator's trace.
async fn deliver(state: &AppState, d: &Delivery, now: i64) -> Result<(), String> {
    let hook = match state.store.webhook(&d.tenant).await {
        Ok(Some(hook)) => hook,
        Ok(None) => return Err("no webhook configured".into()),
        Err(e) => {
            tracing::warn!(delivery = %d.id, error = %e, "reading the webhook failed");
            return Err("the delivery could not be prepared; it will be retried".into());
        }
    };
    let secret = secret(state, d.tenant.as_str(), hook.version);
    let t = now / 1000;
    let kind = serde_json::from_str::<serde_json::Value>(&d.event)
        .ok()
        .and_then(|v| v["type"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let signature = signature(&secret, t, &d.event);
    let headers = [
        ("Content-Type", "application/json"),
        ("User-Agent", "Consentry-Webhook/1"),
        ("Consentry-Signature", signature.as_str()),
        ("Consentry-Event", kind.as_str()),
        ("Consentry-Delivery", d.id.as_str()),
    ];
    match state
        .outbound
        .post(&hook.url, &headers, d.event.clone().into_bytes())
        .await
    {
        Ok(status) if (200..300).contains(&status) => Ok(()),
        Ok(status) => Err(format!("the endpoint answered HTTP {status}")),
        Err(e) => {
            // The operator's side: the reason and the address, never the URL (the
            // tenant's) nor anything of a recipient (events carry pseudonyms only).
            tracing::warn!(tenant = %d.tenant, delivery = %d.id, reason = e.kind(), error = %e, "webhook endpoint not reached");
            Err(e.tenant_text())
        }
    }
}

/// Attempts one queued delivery and records the outcome (delivered, retry with backoff,
/// or failed after `MAX_ATTEMPTS`).
pub async fn deliver_one(state: &AppState, d: &Delivery) {
    let now = state.clock.now_ms();
    let outcome = deliver(state, d, now).await;
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
