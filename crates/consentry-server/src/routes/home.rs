//! `GET /`: where a visitor starts. A browser gets a page (French or English by
//! `Accept-Language`) pointing to the three doors people use — the staff sign-in
//! (`/app/login`), the recipients' portal (`/portal`) and the verifier (`/verify`); an API
//! client gets a JSON index of the service's entry points.
//!
//! Which one is decided by `Accept` alone: the page when `text/html` (or
//! `application/xhtml+xml`) is asked for at least as much as `application/json`, the
//! index otherwise (no `Accept`, `*/*`, `application/json`). Browsers name `text/html`
//! first; tools such as curl send `*/*`. The answer varies by `Accept`, and says so.

use crate::i18n::{Text, accept_language, t};
use crate::page;
use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde_json::json;
use std::sync::LazyLock;

const CSS: &str = "body{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1a1a1a}\
h1{font-size:1.7rem}ul.doors{list-style:none;padding:0}ul.doors li{border:1px solid #ccc;border-radius:.5rem;padding:.6rem 1rem;margin:.8rem 0}\
ul.doors a{font-size:1.15rem;font-weight:600;color:#1d4f91}a:focus-visible{outline:3px solid #f5a623;outline-offset:2px}\
footer{margin-top:2.5rem;color:#555;font-size:.9rem}";

/// Nothing but the inline style (by hash): no script, no form.
static POLICY: LazyLock<page::Policy> = LazyLock::new(|| {
    page::Policy::new(
        page::Styles::Inline(CSS),
        page::Scripts::None,
        page::Forms::Nowhere,
    )
});

/// The quality `accept` gives the media type `ty`/`sub` by an entry naming it exactly or
/// as `ty/*` (not `*/*`, which says nothing about a preference); 0 if none does.
fn quality(accept: &str, ty: &str, sub: &str) -> f32 {
    let mut best: f32 = 0.0;
    for range in accept.split(',') {
        let mut params = range.split(';');
        let media = params.next().unwrap_or("").trim().to_ascii_lowercase();
        let Some((t, s)) = media.split_once('/') else {
            continue;
        };
        if t != ty || (s != sub && s != "*") {
            continue;
        }
        let q = params
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
            .map_or(Some(1.0), |(_, v)| v.trim().parse::<f32>().ok())
            .unwrap_or(0.0);
        best = best.max(q);
    }
    best
}

/// Whether the request asks for the page rather than the index.
fn wants_html(headers: &HeaderMap) -> bool {
    let accept = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    let html = quality(&accept, "text", "html").max(quality(&accept, "application", "xhtml+xml"));
    html > 0.0 && html >= quality(&accept, "application", "json")
}

/// `GET /`: the page for a browser, the JSON index for an API client.
pub async fn home(headers: HeaderMap) -> Response {
    let mut res = if wants_html(&headers) {
        page_for(&headers)
    } else {
        index()
    };
    res.headers_mut().insert(
        header::VARY,
        HeaderValue::from_static("Accept, Accept-Language"),
    );
    res
}

fn index() -> Response {
    Json(json!({
        "service": "consentry",
        "links": {
            "openapi": "/openapi.json",
            "well_known": "/.well-known/consentry.json",
            "checkpoint": "/checkpoint",
            "verify": "/verify",
            "portal": "/portal",
            "app": "/app",
        },
    }))
    .into_response()
}

fn page_for(headers: &HeaderMap) -> Response {
    let lang = accept_language(headers);
    let title = t(lang, Text::ConsentLedger);
    let body = html! {
        main {
            h1 { (title) }
            p { (t(lang, Text::ThisServiceRecordsConsents)) }
            ul.doors {
                li #door-app {
                    a href="/app/login" { (t(lang, Text::StaffSignIn)) }
                    p { (t(lang, Text::ForTheSendersStaff)) }
                }
                li #door-portal {
                    a href="/portal" { (t(lang, Text::YourPersonalSpace)) }
                    p { (t(lang, Text::ForPeopleASender)) }
                }
                li #door-verify {
                    a href="/verify" { (t(lang, Text::VerifyAProofOr)) }
                    p { (t(lang, Text::ForAnyoneHoldingA)) }
                }
            }
        }
        footer { p { (t(lang, Text::ConsentryYourConsentsSealed)) } }
    };
    page::respond(
        StatusCode::OK,
        page::document(lang, title, page::inline_style(CSS), body),
        &POLICY,
        page::Caching::Revalidate,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asks(accept: Option<&str>) -> bool {
        let mut h = HeaderMap::new();
        if let Some(a) = accept {
            h.insert(header::ACCEPT, HeaderValue::from_str(a).unwrap());
        }
        wants_html(&h)
    }

    #[test]
    fn browsers_get_the_page_and_api_clients_the_index() {
        // Firefox, Chrome.
        assert!(asks(Some(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        )));
        assert!(asks(Some("text/html")));
        assert!(asks(Some("application/xhtml+xml")));
        assert!(!asks(None));
        assert!(!asks(Some("*/*")));
        assert!(!asks(Some("application/json")));
        assert!(!asks(Some("application/json, text/html;q=0.5")));
        assert!(!asks(Some("text/html;q=0")));
        assert!(asks(Some("text/*, application/json;q=0.9")));
    }
}
