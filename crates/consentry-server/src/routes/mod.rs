//! The HTTP routes. Handlers that act for a sender take [`crate::auth::TenantAuth`];
//! the public ones (log, keys, health, the `/verify` page) take nothing.

mod admin;
mod answer;
mod catalog;
mod consents;
mod contacts;
mod contacts_csv;
mod disclosure;
mod events;
mod home;
mod log;
mod meta;
mod portal;
pub mod proofs;
mod requests;
mod reveal;
mod tiles;
pub(crate) mod verify_page;
mod webhook;

pub(crate) use answer::rejection_page as answer_rejection_page;
pub(crate) use portal::rejection_page as portal_rejection_page;

use crate::problem::Problem;
use crate::route_table::Routes;

/// Every route.
pub fn routes() -> Routes {
    Routes::new()
        .get("/", home::home)
        .get("/healthz", meta::healthz)
        .get("/favicon.ico", meta::favicon)
        .get("/favicon.svg", meta::favicon)
        .get("/metrics", meta::metrics)
        .get("/.well-known/consentry.json", meta::well_known)
        .get("/v1/log/checkpoint", log::checkpoint)
        .get("/checkpoint", log::checkpoint)
        .get("/tile/{*path}", tiles::tile)
        .get("/v1/log/proof/inclusion", log::inclusion)
        .get("/v1/log/proof/consistency", log::consistency)
        .post("/v1/contacts", contacts::create)
        .get("/v1/contacts", contacts::list)
        .post_up_to(
            "/v1/contacts/import",
            contacts_csv::import,
            crate::contacts_csv::MAX_BYTES,
        )
        .get("/v1/contacts/export", contacts_csv::export)
        .get("/v1/contacts/{id}", contacts::show)
        .post("/v1/contacts/{id}/consents", consents::record)
        .post("/v1/contacts/{id}/reveal", reveal::reveal)
        .post("/v1/contacts/{id}/erase", events::erase)
        .get("/v1/contacts/{id}/events", events::history)
        .post_up_to("/v1/reveal/batch", reveal::batch, reveal::MAX_BATCH_BODY)
        .get("/v1/events/{id}", events::show)
        .get("/v1/proofs/{id}", proofs::show)
        .get("/v1/proofs/{id}/certificate", proofs::certificate)
        .get("/v1/proofs/{id}/certificate.pdf", proofs::certificate_pdf)
        .post("/v1/proofs/{id}/disclosure", disclosure::disclose)
        .get("/v1/log/anchors", log::anchors)
        .post("/v1/admin/anchor", admin::anchor)
        .post("/v1/consent-requests", requests::create)
        .get("/v1/consent-requests/{id}", requests::show)
        .get("/v1/purposes", catalog::list)
        .put("/v1/purposes/{name}", catalog::set)
        .get("/v1/tenant", catalog::show_tenant)
        .put("/v1/tenant", catalog::set_tenant)
        .get("/v1/webhook", webhook::show)
        .put("/v1/webhook", webhook::set)
        .delete("/v1/webhook", webhook::delete)
        .get("/c/{token}", answer::show)
        .post("/c/{token}", answer::answer)
        .get("/c/{token}/proof", answer::proof)
        .get("/c/{token}/proof.pdf", answer::proof_pdf)
        .get("/verify", verify_page::page)
        .get("/verify/verify.js", verify_page::script)
        .get("/verify/monitor.js", verify_page::monitor_script)
        .get("/verify/consentry_verify.wasm", verify_page::wasm)
        .get("/portal", portal::home)
        .post("/portal/login", portal::login)
        .get("/portal/session/{token}", portal::session_page)
        .post("/portal/session/{token}", portal::session_open)
        .get("/portal/me", portal::me)
        .post("/portal/amend", portal::amend)
        .post("/portal/revoke", portal::revoke)
        .post("/portal/grant", portal::grant)
        .post("/portal/erase", portal::erase)
        .post("/portal/export", portal::export)
        .post("/portal/logout", portal::logout)
        .get("/portal/proofs/{id}", portal::proof)
        .get("/portal/proofs/{id}/certificate", portal::certificate)
        .get(
            "/portal/proofs/{id}/certificate.pdf",
            portal::certificate_pdf,
        )
}

/// 404 for every unknown path, as problem+json.
pub async fn not_found() -> Problem {
    Problem::not_found("resource at this path")
}
