//! The HTTP routes. Handlers that act for a sender take [`crate::auth::TenantAuth`];
//! the public ones (log, keys, health, the `/verify` page) take nothing.

mod admin;
mod answer;
pub mod consents;
mod contacts;
mod contacts_csv;
mod events;
mod log;
mod meta;
mod portal;
pub mod proofs;
pub mod requests;
mod reveal;
mod verify_page;
mod webhook;

pub(crate) use answer::rejection_page as answer_rejection_page;
pub(crate) use portal::rejection_page as portal_rejection_page;
/// Whether a POST comes from a page of another site (shared with the web application).
pub(crate) use portal::{ClientIp, foreign_origin as portal_foreign_origin};

use crate::app::AppState;
use crate::problem::Problem;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

/// Every route.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(meta::healthz))
        .route("/metrics", get(meta::metrics))
        .route("/.well-known/consentry.json", get(meta::well_known))
        .route("/openapi.json", get(crate::openapi::document))
        .route("/v1/log/checkpoint", get(log::checkpoint))
        .route("/v1/log/proof/inclusion", get(log::inclusion))
        .route("/v1/log/proof/consistency", get(log::consistency))
        .route("/v1/contacts", post(contacts::create).get(contacts::list))
        .route("/v1/contacts/import", contacts_csv::import_route())
        .route("/v1/contacts/export", get(contacts_csv::export))
        .route("/v1/contacts/{id}", get(contacts::show))
        .route("/v1/contacts/{id}/consents", post(consents::record))
        .route("/v1/contacts/{id}/reveal", post(reveal::reveal))
        .route("/v1/contacts/{id}/erase", post(events::erase))
        .route("/v1/contacts/{id}/events", get(events::history))
        .route(
            "/v1/reveal/batch",
            post(reveal::batch).layer(DefaultBodyLimit::max(reveal::MAX_BATCH_BODY)),
        )
        .route("/v1/events/{id}", get(events::show))
        .route("/v1/proofs/{id}", get(proofs::show))
        .route("/v1/proofs/{id}/certificate", get(proofs::certificate))
        .route(
            "/v1/proofs/{id}/certificate.pdf",
            get(proofs::certificate_pdf),
        )
        .route("/v1/log/anchors", get(log::anchors))
        .route("/v1/admin/anchor", post(admin::anchor))
        .route("/v1/consent-requests", post(requests::create))
        .route("/v1/consent-requests/{id}", get(requests::show))
        .route(
            "/v1/webhook",
            get(webhook::show).put(webhook::set).delete(webhook::delete),
        )
        .route("/c/{token}", get(answer::show).post(answer::answer))
        .route("/c/{token}/proof", get(answer::proof))
        .route("/verify", get(verify_page::page))
        .route("/verify/verify.js", get(verify_page::script))
        .route("/verify/consentry_verify.wasm", get(verify_page::wasm))
        .route("/portal", get(portal::home))
        .route("/portal/login", post(portal::login))
        .route(
            "/portal/session/{token}",
            get(portal::session_page).post(portal::session_open),
        )
        .route("/portal/me", get(portal::me))
        .route("/portal/amend", post(portal::amend))
        .route("/portal/revoke", post(portal::revoke))
        .route("/portal/erase", post(portal::erase))
        .route("/portal/export", post(portal::export))
        .route("/portal/logout", post(portal::logout))
        .route("/portal/proofs/{id}", get(portal::proof))
        .route("/portal/proofs/{id}/certificate", get(portal::certificate))
        .route(
            "/portal/proofs/{id}/certificate.pdf",
            get(portal::certificate_pdf),
        )
        .merge(crate::web::routes())
}

/// 404 for every unknown path, as problem+json.
pub async fn not_found() -> Problem {
    Problem::not_found("resource at this path")
}
