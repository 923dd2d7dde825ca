//! Delegated consent: the sender asks Consentry to collect a consent by e-mail.

use crate::app::AppState;
use crate::auth::TenantAuth;
use crate::problem::{ApiJson, Problem};
use crate::routes::consents::check_purpose;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use consentry_core::ids::{RequestId, SubjectId};
use consentry_core::merkle::Hash;
use consentry_core::time::Timestamp;
use consentry_store::{NewRequest, RequestRow};
use serde::Deserialize;
use serde_json::{Value, json};

/// The notice: its text alone, or with its version, language and URL.
#[derive(Deserialize)]
#[serde(untagged)]
pub enum NoticeArg {
    /// Just the text.
    Text(String),
    /// Text and details.
    Full {
        /// The exact text shown.
        text: String,
        /// Version label.
        #[serde(default)]
        version: Option<String>,
        /// Where it is published.
        #[serde(default)]
        url: Option<String>,
    },
}

/// Body of `POST /v1/consent-requests`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    #[serde(default)]
    contact_id: Option<String>,
    #[serde(default)]
    contact_ids: Option<Vec<String>>,
    purpose: String,
    notice: NoticeArg,
    /// Days the recipient has to answer: 3 to 30, default 15.
    #[serde(default)]
    response_days: Option<u32>,
    /// Validity of a granted consent, in days.
    #[serde(default)]
    valid_days: Option<u32>,
    /// `fr` (default) or `en`: the e-mail's language.
    #[serde(default)]
    language: Option<String>,
}

const DAY_MS: i64 = 86_400_000;
/// Most contacts in one bulk request.
pub const MAX_BULK: usize = 1000;

fn ts(ms: i64) -> Value {
    Timestamp::from_unix_millis(ms)
        .map(|t| Value::String(t.to_string()))
        .unwrap_or(Value::Null)
}

/// The sender's view of a request.
pub fn view(r: &RequestRow) -> Value {
    json!({
        "id": r.id.to_string(),
        "contact_id": r.subject.to_string(),
        "purpose": r.purpose,
        "status": r.status,
        "created_at": ts(r.created_at),
        "expires_at": ts(r.expires_at),
        "answered_at": r.answered_at.map(ts),
        "proof_id": r.proof_id.as_ref().map(|p| p.to_string()),
        "notice": {"sha256": r.notice_sha256, "version": r.notice_version, "url": r.notice_url, "language": r.language},
        "email": {"status": r.mail_status, "attempts": r.mail_attempts, "error": r.mail_error},
    })
}

/// `POST /v1/consent-requests`: e-mails each recipient a single-use link. One contact
/// (`contact_id`) answers `{id, status: "pending", …}`; several (`contact_ids`) answer
/// `{requests: […], errors: […]}`.
pub async fn create(
    State(state): State<AppState>,
    auth: TenantAuth,
    ApiJson(body): ApiJson<CreateRequest>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    check_purpose(&body.purpose)?;
    let (text, version, url) = match body.notice {
        NoticeArg::Text(t) => (t, None, None),
        NoticeArg::Full { text, version, url } => (text, version, url),
    };
    if text.trim().is_empty() || text.chars().count() > 20_000 {
        return Err(Problem::invalid(
            "notice text must be 1 to 20,000 characters",
        ));
    }
    if version.as_ref().is_some_and(|v| v.len() > 64)
        || url.as_ref().is_some_and(|u| u.len() > 2000)
    {
        return Err(Problem::invalid(
            "notice version (64) or url (2000) is too long",
        ));
    }
    let days = body.response_days.unwrap_or(15);
    if !(3..=30).contains(&days) {
        return Err(Problem::invalid("response_days must be between 3 and 30"));
    }
    if body.valid_days.is_some_and(|d| !(1..=3650).contains(&d)) {
        return Err(Problem::invalid("valid_days must be between 1 and 3650"));
    }
    let language = body.language.unwrap_or_else(|| "fr".into());
    if language != "fr" && language != "en" {
        return Err(Problem::invalid("language must be fr or en"));
    }
    let (ids, single) = match (body.contact_id, body.contact_ids) {
        (Some(id), None) => (vec![id], true),
        (None, Some(ids)) if !ids.is_empty() && ids.len() <= MAX_BULK => (ids, false),
        (None, Some(_)) => {
            return Err(Problem::invalid(format!(
                "contact_ids must hold 1 to {MAX_BULK} IDs"
            )));
        }
        _ => return Err(Problem::invalid("give contact_id or contact_ids")),
    };
    let notice_sha256 = Hash::digest(text.as_bytes()).to_hex();
    let now = state.clock.now_ms();
    let mut requests = Vec::new();
    let mut errors = Vec::new();
    for raw in ids {
        let contact = match SubjectId::parse(&raw) {
            Ok(id) => state.store.contact(&auth.tenant.id, &id).await?,
            Err(_) => None,
        };
        let Some(contact) = contact else {
            errors.push(json!({"contact_id": raw, "reason": "no such contact"}));
            continue;
        };
        if contact.wrapped_key.is_none() {
            errors.push(json!({"contact_id": raw, "reason": "the contact's data was erased"}));
            continue;
        }
        let id =
            RequestId::from_suffix(&crate::random::id_suffix(now)).map_err(Problem::unavailable)?;
        let (_, token_hash) = crate::mail::request_token(&state, id.as_str());
        requests.push(NewRequest {
            id,
            tenant: auth.tenant.id.clone(),
            subject: contact.id,
            purpose: body.purpose.clone(),
            token_hash,
            notice_text: text.clone(),
            notice_sha256: notice_sha256.clone(),
            notice_version: version.clone(),
            notice_url: url.clone(),
            language: language.clone(),
            valid_days: body.valid_days,
            created_at: now,
            expires_at: now + i64::from(days) * DAY_MS,
        });
    }
    if single && !errors.is_empty() {
        let reason = errors[0]["reason"].as_str().unwrap_or("refused").to_owned();
        return Err(if reason == "no such contact" {
            Problem::not_found("contact")
        } else {
            Problem::new(StatusCode::GONE, "erased", "Erased", reason)
        });
    }
    state.store.insert_requests(&requests).await?;
    state.mail_wake.notify_one();
    let mut views = Vec::new();
    for r in &requests {
        let row = state
            .store
            .request(&auth.tenant.id, &r.id)
            .await?
            .ok_or_else(|| Problem::unavailable("request vanished"))?;
        views.push(view(&row));
    }
    if single {
        let v = views
            .pop()
            .ok_or_else(|| Problem::unavailable("no request created"))?;
        return Ok((StatusCode::CREATED, Json(v)));
    }
    Ok((
        StatusCode::CREATED,
        Json(json!({"requests": views, "errors": errors})),
    ))
}

/// `GET /v1/consent-requests/{id}`.
pub async fn show(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    let id = RequestId::parse(&id).map_err(|_| Problem::not_found("consent request"))?;
    let r = state
        .store
        .request(&auth.tenant.id, &id)
        .await?
        .ok_or_else(|| Problem::not_found("consent request"))?;
    Ok(Json(view(&r)))
}
