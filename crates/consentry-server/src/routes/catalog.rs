//! What a sender tells recipients, through the API: its purposes' descriptions
//! (`GET /v1/purposes`, `PUT /v1/purposes/{name}`) and its contact (`GET /v1/tenant`,
//! `PUT /v1/tenant`) — the same fields admins set in `/app`, checked by the same rules
//! ([`crate::sender`]).

use crate::auth::TenantAuth;
use crate::problem::{ApiJson, Problem};
use crate::sender::{PurposeError, SenderContact, check_purpose_fields};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use consentry_store::PurposeRow;
use serde::Deserialize;
use serde_json::{Value, json};

/// The purpose name's rule, as the error says it.
const NAME_RULE: &str = "the purpose name must be 1 to 64 characters: a-z, 0-9, '.', '_' or '-', starting with a letter or digit";

fn purpose_json(p: &PurposeRow) -> Value {
    json!({
        "name": p.name,
        "defined": true,
        "description": { "fr": p.description, "en": p.description_en },
        "valid_days": p.valid_days,
    })
}

/// `GET /v1/purposes`: the tenant's purposes with their descriptions, then the purposes
/// it uses (in a request or a consent record) without having described them.
pub async fn list(State(state): State<AppState>, auth: TenantAuth) -> Result<Json<Value>, Problem> {
    let defined = state.store.purposes(&auth.tenant.id).await?;
    let undefined = state.store.undefined_purposes(&auth.tenant.id).await?;
    let mut purposes: Vec<Value> = defined.iter().map(purpose_json).collect();
    purposes.extend(undefined.iter().map(
        |name| json!({ "name": name, "defined": false, "description": null, "valid_days": null }),
    ));
    Ok(Json(json!({ "purposes": purposes })))
}

/// A purpose's descriptions.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Descriptions {
    #[serde(default)]
    fr: String,
    #[serde(default)]
    en: String,
}

/// Body of `PUT /v1/purposes/{name}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetPurpose {
    description: Descriptions,
    #[serde(default)]
    valid_days: Option<u32>,
}

/// `PUT /v1/purposes/{name}`: creates or replaces a purpose's descriptions (French,
/// English; at least one) and default validity. Proofs already made do not change.
pub async fn set(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<SetPurpose>,
) -> Result<Json<Value>, Problem> {
    let p = check_purpose_fields(
        &name,
        &body.description.fr,
        &body.description.en,
        body.valid_days,
    )
    .map_err(|e| {
        Problem::invalid(match e {
            PurposeError::Name => NAME_RULE,
            PurposeError::Description => {
                "description.fr and description.en: at least one not blank, each at most 2000 characters"
            }
            PurposeError::Validity => "valid_days must be a whole number from 1 to 3650, or null",
        })
    })?;
    if p.name != name {
        return Err(Problem::invalid(NAME_RULE));
    }
    state
        .store
        .upsert_purpose(
            &auth.tenant.id,
            &p.name,
            &p.description_fr,
            &p.description_en,
            p.valid_days,
            state.clock.now_ms(),
        )
        .await?;
    let row = state
        .store
        .purpose(&auth.tenant.id, &p.name)
        .await?
        .ok_or_else(|| Problem::unavailable("the purpose just saved is not found"))?;
    tracing::info!(key = %auth.key_id, tenant = %auth.tenant.id, "purpose saved");
    Ok(Json(purpose_json(&row)))
}

fn tenant_json(id: &str, name: &str, contact: Option<&str>) -> Value {
    json!({ "id": id, "name": name, "contact": contact })
}

/// `GET /v1/tenant`: the sender as recipients see it (name and contact), read from the
/// store (the key's cached tenant row may predate a change made in `/app`).
pub async fn show_tenant(
    State(state): State<AppState>,
    auth: TenantAuth,
) -> Result<Json<Value>, Problem> {
    let tenant = state
        .store
        .tenant(&auth.tenant.id)
        .await?
        .ok_or_else(|| Problem::not_found("tenant"))?;
    Ok(Json(tenant_json(
        tenant.id.as_str(),
        &tenant.name,
        tenant.contact.as_deref(),
    )))
}

/// Body of `PUT /v1/tenant`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetTenant {
    contact: Option<String>,
}

/// `PUT /v1/tenant`: sets the contact recipients are shown (an e-mail address or an
/// https URL; `null` removes it).
pub async fn set_tenant(
    State(state): State<AppState>,
    auth: TenantAuth,
    ApiJson(body): ApiJson<SetTenant>,
) -> Result<Json<Value>, Problem> {
    let contact = body
        .contact
        .as_deref()
        .map(SenderContact::parse)
        .transpose()
        .map_err(|e| Problem::invalid(e.to_string()))?;
    let contact = contact.as_ref().map(SenderContact::as_str);
    if !state
        .store
        .set_tenant_contact(&auth.tenant.id, contact)
        .await?
    {
        return Err(Problem::not_found("tenant"));
    }
    tracing::info!(key = %auth.key_id, tenant = %auth.tenant.id, "organisation contact saved");
    Ok(Json(tenant_json(
        auth.tenant.id.as_str(),
        &auth.tenant.name,
        contact,
    )))
}
