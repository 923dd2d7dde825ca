//! The sender's web application, under `/app`: server-rendered HTML pages over the same
//! store, vault and sequencer as the JSON API, for a tenant's staff.
//!
//! - [`session`]: staff sign-in (Argon2id passwords), roles in the handlers' signatures
//!   ([`session::Staff`], [`session::Writer`], [`session::Admin`]), CSRF-checked forms
//!   ([`session::Form`], [`session::Upload`]);
//! - [`layout`]: the page shell, French and English, errors as pages;
//! - [`signin`]: sign-in, sign-out, the language switch, the static assets;
//! - [`reset`]: a forgotten password, reset by an e-mailed single-use link;
//! - the pages: the address book, a contact's timeline, consents and requests, CSV import
//!   and export, purposes and notices, the dashboard.
//!
//! No page shows identity data: staff work with pseudonyms and non-identifying attributes,
//! as the API does (reading identity data is a logged reveal).

pub mod book;
pub mod catalog;
pub mod contact;
pub mod dashboard;
pub mod import;
pub mod layout;
pub mod proofs;
pub mod requests;
pub mod reset;
pub mod session;
pub mod settings;
pub mod signin;
pub mod users;

use crate::route_table::Routes;
use crate::state::AppState;
use crate::web::layout::{WebError, status_label};
use crate::web::session::Staff;
use axum::Json;
use axum::extract::{Query, State};
use consentry_core::event::ConsentState;
use consentry_core::ids::SubjectId;
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// Every route of the web application.
pub fn routes() -> Routes {
    Routes::new()
        .get("/app", signin::home)
        .get("/app/", signin::home)
        .get("/app/login", signin::login_page)
        .post("/app/login", signin::login)
        .post("/app/logout", signin::logout)
        .get("/app/reset", reset::request_page)
        .post("/app/reset", reset::request)
        .get("/app/reset/{token}", reset::link_page)
        .post("/app/reset/{token}", reset::reset)
        .get("/app/lang/{code}", signin::set_language)
        .get("/app/static/app.css", signin::css)
        .get("/app/static/app.js", signin::js)
        .get("/app/static/requests.js", signin::requests_js)
        .get("/app/live", live)
        .merge(book::routes())
        .merge(import::routes())
        .merge(contact::routes())
        .merge(requests::routes())
        .merge(proofs::routes())
        .merge(catalog::routes())
        .merge(dashboard::routes())
        .merge(users::routes())
        .merge(settings::routes())
}

/// `?ids=` of `/app/live`.
#[derive(Deserialize)]
pub struct LiveQuery {
    #[serde(default)]
    ids: String,
}

/// `GET /app/live?ids=sub_…,sub_…`: the consent status of up to 200 contacts of the
/// signed-in user's tenant, per purpose, with its label in the page language — what the
/// script polls to update badges without a reload. Unknown or foreign IDs are left out.
pub async fn live(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<LiveQuery>,
) -> Result<Json<Value>, WebError> {
    let ids: Vec<SubjectId> = q
        .ids
        .split(',')
        .filter_map(|s| SubjectId::parse(s.trim()).ok())
        .take(200)
        .collect();
    let now = state.clock.now_ms();
    let mut out = Map::new();
    for s in state.store.statuses(&staff.tenant, &ids).await? {
        let status = ConsentState::of_book(s.status, s.valid_until, now).as_str();
        let entry = out
            .entry(s.subject.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(m) = entry {
            m.insert(
                s.purpose.clone(),
                json!({"status": status, "label": status_label(staff.lang, status)}),
            );
        }
    }
    Ok(Json(Value::Object(out)))
}
