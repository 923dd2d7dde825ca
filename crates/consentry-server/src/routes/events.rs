//! Events about a contact's identity data: the sender's erasure of a contact, the
//! contact's access history, and each sealed event document.
//!
//! Erasure is crypto-shredding, in one transaction with its `data.erased` log entry: the
//! wrapped subject key and the sealed identity are deleted, the blind index is replaced by
//! random bytes (so the address no longer matches anything), the non-identifying
//! attributes are emptied. The contact keeps its pseudonym and shows as erased; its proofs
//! and events stay on the log and still verify, but their commitments can no longer be
//! linked to the person. Erasing an erased contact is not an error: it answers the same
//! erasure again (idempotent), with nothing appended.

use crate::auth::TenantAuth;
use crate::problem::{ApiQuery, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use consentry_core::event::SealedEvent;
use consentry_core::ids::{EventId, SubjectId};
use consentry_core::merkle::leaf_hash;
use consentry_ledger::{EraseOutcome, On, SubmitError};
use serde::Deserialize;
use serde_json::{Value, json};

fn erasure_view(subject: &SubjectId, event: &SealedEvent) -> Value {
    json!({
        "id": subject.as_str(),
        "erased": true,
        "event_id": event.body.id.as_str(),
        "log_index": event.body.log_index,
        "erased_at": event.body.recorded_at.to_string(),
    })
}

/// `POST /v1/contacts/{id}/erase`: crypto-shreds the contact and answers its `data.erased`
/// event; the same answer for a contact erased before.
pub async fn erase(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    let subject = SubjectId::parse(&id).map_err(|_| Problem::not_found("contact"))?;
    let on = On {
        tenant: auth.tenant.id.clone(),
        subject: subject.clone(),
        actor: auth.key_id.clone(),
    };
    let outcome = state.ledger.erase(on).await.map_err(|e| match e {
        SubmitError::UnknownContact => Problem::not_found("contact"),
        other => Problem::from(other),
    })?;
    match outcome {
        EraseOutcome::Erased { event } => {
            // SQLite: the erased pages leave the write-ahead log now rather than at the
            // next periodic checkpoint (which retries while readers hold it).
            if let Err(e) = state.store.flush_erasures().await {
                tracing::warn!(error = %e, "erasure: truncating the write-ahead log failed; retried every second");
            }
            tracing::info!(%subject, index = event.event.body.log_index, "contact erased by its sender");
            Ok(Json(erasure_view(&subject, &event.event)))
        }
        EraseOutcome::AlreadyErased => {
            let stored = state
                .store
                .erasure_event(&auth.tenant.id, &subject)
                .await?
                .ok_or_else(|| {
                    Problem::new(
                        StatusCode::GONE,
                        "erased",
                        "Erased",
                        "this contact's data was erased before erasures were logged",
                    )
                })?;
            let event: SealedEvent =
                serde_json::from_slice(&stored.entry).map_err(Problem::unavailable)?;
            Ok(Json(erasure_view(&subject, &event)))
        }
    }
}

/// Query of `GET /v1/contacts/{id}/events`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    limit: Option<u32>,
}

/// One event of a history page: its members but the seal and the log origin, and its leaf
/// hash (standard base64, as `GET /v1/log/proof/inclusion` gives it).
pub fn event_item(event: &SealedEvent, entry: &[u8]) -> Value {
    let b = &event.body;
    let mut item = json!({
        "id": b.id.as_str(),
        "type": b.kind.as_str(),
        "actor": b.actor,
        "fields": b.fields,
        "recorded_at": b.recorded_at.to_string(),
        "log_index": b.log_index,
        "leaf_hash": leaf_hash(entry).to_base64(),
    });
    if let Some(p) = &b.purpose {
        item["purpose"] = Value::from(p.as_str());
    }
    if let Some(c) = b.consent {
        item["consent"] = Value::from(c.as_str());
    }
    if let Some(p) = &b.proof {
        item["proof_id"] = Value::from(p.as_str());
    }
    item
}

/// `GET /v1/contacts/{id}/events`: the contact's events, newest first, a page at a time.
pub async fn history(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<HistoryQuery>,
) -> Result<Json<Value>, Problem> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(Problem::invalid("limit must be between 1 and 500"));
    }
    let before = match &q.cursor {
        Some(c) => Some(
            c.parse::<u64>()
                .map_err(|_| Problem::invalid("cursor is not a value this API returned"))?,
        ),
        None => None,
    };
    let contact = crate::routes::contacts::load(&state, &auth, &id).await?;
    let stored = state
        .store
        .subject_events(&auth.tenant.id, &contact.id, before, limit)
        .await?;
    let mut items = Vec::with_capacity(stored.len());
    for e in &stored {
        let event: SealedEvent = serde_json::from_slice(&e.entry).map_err(Problem::unavailable)?;
        items.push(event_item(&event, &e.entry));
    }
    let next = if stored.len() == limit as usize {
        stored.last().map(|e| e.log_index.to_string())
    } else {
        None
    };
    Ok(Json(json!({ "items": items, "next_cursor": next })))
}

/// `GET /v1/events/{id}`: the sealed event, exactly the log entry's canonical bytes.
pub async fn show(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id = EventId::parse(&id).map_err(|_| Problem::not_found("event"))?;
    let stored = state
        .store
        .event(&auth.tenant.id, &id)
        .await?
        .ok_or_else(|| Problem::not_found("event"))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], stored.entry).into_response())
}
