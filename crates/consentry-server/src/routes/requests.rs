//! Delegated consent: the sender asks Consentry to collect a consent by e-mail
//! (`POST /v1/consent-requests`, `GET /v1/consent-requests/{id}`).
use crate::auth::TenantAuth;
use crate::problem::{ApiJson, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use consentry_core::ids::{RequestId, SubjectId};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::requests::*;

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

/// `POST /v1/consent-requests`: e-mails each recipient a single-use link. One contact
/// (`contact_id`) answers `{id, status: "pending", …}`; several (`contact_ids`) answer
/// `{requests: […], errors: […]}`.
pub async fn create(
    State(state): State<AppState>,
    auth: TenantAuth,
    ApiJson(body): ApiJson<CreateRequest>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let (text, version, url) = match body.notice {
        NoticeArg::Text(t) => (t, None, None),
        NoticeArg::Full { text, version, url } => (text, version, url),
    };
    let mut input = RequestsInput {
        contacts: Vec::new(),
        purpose: body.purpose,
        notice_text: text,
        notice_version: version,
        notice_url: url,
        response_days: body.response_days.unwrap_or(15),
        valid_days: body.valid_days,
        language: body.language.unwrap_or_else(|| "fr".into()),
        skip_pending: false,
        skip_granted: false,
    };
    let single = match (body.contact_id, body.contact_ids) {
        (Some(id), None) => {
            input.contacts = vec![id];
            true
        }
        (None, Some(ids)) => {
            input.contacts = ids;
            false
        }
        _ => {
            // The terms are checked first, as for any other body.
            let mut probe = input.clone();
            probe.contacts = vec![String::new()];
            check_requests(&probe)?;
            return Err(Problem::invalid("give contact_id or contact_ids"));
        }
    };
    check_requests(&input)?;
    if single {
        // One contact: refused with its own status rather than listed; nothing stored.
        let given = input.contacts.first().map(String::as_str).unwrap_or("");
        let contact = match SubjectId::parse(given) {
            Ok(id) => state.store.contact(&auth.tenant.id, &id).await?,
            Err(_) => None,
        };
        match contact {
            None => return Err(Problem::not_found("contact")),
            Some(c) if c.wrapped_key.is_none() => {
                return Err(Problem::new(
                    StatusCode::GONE,
                    "erased",
                    "Erased",
                    Refusal::Erased.reason(),
                ));
            }
            Some(_) => {}
        }
    }
    let mut outcome = create_requests(&state, &auth.tenant.id, &input).await?;
    if single {
        let row = outcome
            .created
            .pop()
            .ok_or_else(|| Problem::unavailable("no request created"))?;
        return Ok((StatusCode::CREATED, Json(view(&row))));
    }
    let views: Vec<Value> = outcome.created.iter().map(view).collect();
    let errors: Vec<Value> = outcome
        .refused
        .iter()
        .map(|(raw, why)| json!({"contact_id": raw, "reason": why.reason()}))
        .collect();
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
