//! The address book: contacts held under pseudonyms, identity data only in the vault.

use crate::auth::TenantAuth;
use crate::contacts::{self, ContactInput, Created};
use crate::problem::{ApiJson, ApiQuery, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use consentry_core::event::ConsentState;
use consentry_core::ids::SubjectId;
use consentry_core::time::Timestamp;
use consentry_store::{ContactRow, StatusRow};
use serde::Deserialize;
use serde_json::{Map, Value, json};

fn ts(ms: i64) -> Value {
    Timestamp::from_unix_millis(ms)
        .map(|t| Value::String(t.to_string()))
        .unwrap_or(Value::Null)
}

/// The pseudonymous view of a contact: never an identity field.
pub fn contact_view(c: &ContactRow, statuses: &[StatusRow], now: i64) -> Value {
    let mut consents = Map::new();
    for s in statuses.iter().filter(|s| s.subject == c.id) {
        consents.insert(
            s.purpose.clone(),
            json!({
                "status": ConsentState::of_book(s.status, s.valid_until, now).as_str(),
                "proof_id": s.proof_id.as_ref().map(|p| p.to_string()),
                "log_index": s.log_index,
                "updated_at": ts(s.updated_at),
                "valid_until": s.valid_until.map(ts),
            }),
        );
    }
    let attributes: Value = serde_json::from_str(&c.attributes).unwrap_or_else(|_| json!({}));
    json!({
        "id": c.id.to_string(),
        "category": c.category.as_str(),
        "attributes": attributes,
        "created_at": ts(c.created_at),
        "erased": c.wrapped_key.is_none(),
        "consents": consents,
    })
}

/// `POST /v1/contacts`: adds a contact; identity data goes to the vault.
pub async fn create(
    State(state): State<AppState>,
    auth: TenantAuth,
    ApiJson(body): ApiJson<ContactInput>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let checked = contacts::check(body)?;
    let now = state.clock.now_ms();
    let keys = state.tenant_keys(&auth.tenant.id);
    match contacts::store(&state.store, &keys, &auth.tenant.id, checked, now).await? {
        Created::New(row) => Ok((StatusCode::CREATED, Json(contact_view(&row, &[], now)))),
        Created::Duplicate(existing) => Err(Problem::new(
            StatusCode::CONFLICT,
            "duplicate-contact",
            "Duplicate contact",
            "this address book already has a contact with this e-mail address",
        )
        .with("contact_id", existing.to_string())),
    }
}

/// Query of `GET /v1/contacts`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    limit: Option<u32>,
    #[serde(default)]
    purpose: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

const STATUSES: [&str; 6] = [
    "granted", "refused", "revoked", "pending", "expired", "none",
];

/// `GET /v1/contacts`: a page of the address book, pseudonymous, with consent status.
pub async fn list(
    State(state): State<AppState>,
    auth: TenantAuth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Value>, Problem> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(Problem::invalid("limit must be between 1 and 500"));
    }
    let after = match &q.cursor {
        Some(c) => Some(
            SubjectId::parse(c)
                .map_err(|_| Problem::invalid("cursor is not a value this API returned"))?,
        ),
        None => None,
    };
    let filter = match (&q.purpose, &q.status) {
        (Some(p), Some(s)) => {
            if !STATUSES.contains(&s.as_str()) {
                return Err(Problem::invalid(format!(
                    "status must be one of {}",
                    STATUSES.join(", ")
                )));
            }
            Some((p.as_str(), s.as_str()))
        }
        (None, Some(_)) => return Err(Problem::invalid("status filters need a purpose")),
        (Some(p), None) => Some((p.as_str(), "any")),
        (None, None) => None,
    };
    let tenant = &auth.tenant.id;
    let rows = match filter {
        Some((p, "any")) => {
            // Any recorded status for the purpose: granted, refused, revoked, pending.
            let mut all = Vec::new();
            for s in ["granted", "refused", "revoked", "pending"] {
                all.extend(
                    state
                        .store
                        .list_contacts(tenant, after.as_ref(), limit, Some((p, s)))
                        .await?,
                );
            }
            all.sort_by(|a, b| a.id.cmp(&b.id));
            all.truncate(limit as usize);
            all
        }
        Some((p, "expired")) => {
            state
                .store
                .list_contacts(tenant, after.as_ref(), limit, Some((p, "granted")))
                .await?
        }
        other => {
            state
                .store
                .list_contacts(tenant, after.as_ref(), limit, other)
                .await?
        }
    };
    let ids: Vec<SubjectId> = rows.iter().map(|r| r.id.clone()).collect();
    let statuses = state.store.statuses(tenant, &ids).await?;
    let now = state.clock.now_ms();
    let next = if rows.len() == limit as usize {
        rows.last().map(|r| r.id.to_string())
    } else {
        None
    };
    let items: Vec<Value> = rows
        .iter()
        .map(|r| contact_view(r, &statuses, now))
        .filter(|v| match (&q.purpose, q.status.as_deref()) {
            (Some(p), Some("expired")) => v["consents"][p]["status"] == "expired",
            (Some(p), Some("granted")) => v["consents"][p]["status"] == "granted",
            _ => true,
        })
        .collect();
    Ok(Json(json!({ "items": items, "next_cursor": next })))
}

/// Loads a tenant's contact from a path segment; malformed and unknown IDs are both 404.
pub async fn load(state: &AppState, auth: &TenantAuth, id: &str) -> Result<ContactRow, Problem> {
    let id = SubjectId::parse(id).map_err(|_| Problem::not_found("contact"))?;
    state
        .store
        .contact(&auth.tenant.id, &id)
        .await?
        .ok_or_else(|| Problem::not_found("contact"))
}

/// `GET /v1/contacts/{id}`.
pub async fn show(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    let c = load(&state, &auth, &id).await?;
    let statuses = state
        .store
        .statuses(&auth.tenant.id, std::slice::from_ref(&c.id))
        .await?;
    Ok(Json(contact_view(&c, &statuses, state.clock.now_ms())))
}
