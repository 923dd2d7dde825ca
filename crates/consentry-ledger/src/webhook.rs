//! The events a sender's webhook receives, as the ledger queues them with the entries
//! they report (a delegated answer's event commits with its proof).

use consentry_core::time::Timestamp;

/// A new webhook event of type `kind` at `now` (Unix ms) carrying `data`: its delivery
/// ID (`whd_…`) and its JSON body `{"id", "type", "created_at", "data"}`.
pub fn event(now: i64, kind: &str, data: serde_json::Value) -> (String, String) {
    let id = format!("whd_{}", crate::random::id_suffix(now));
    let at = Timestamp::from_unix_millis(now)
        .map(|t| t.to_string())
        .unwrap_or_default();
    let body =
        serde_json::json!({"id": id, "type": kind, "created_at": at, "data": data}).to_string();
    (id, body)
}
