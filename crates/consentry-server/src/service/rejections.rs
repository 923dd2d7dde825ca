//! One shape for every error, including the few that axum answers by itself.
//!
//! Before a handler runs, axum's router and raw extractors answer some malformed requests
//! on their own, in plain text or with an empty body: a path segment that is not UTF-8
//! (`/v1/proofs/%FF`), a query string with a repeated field, a body over the size limit
//! read as raw bytes, a method the route does not have (405). The public contract promises
//! RFC 9457 problem+json for every API error, and people get pages in their language; this
//! layer rewrites exactly those answers — a 4xx whose body is plain text or empty —
//! keeping their status and headers (`Allow` on a 405): a page of the web application
//! under `/app`, of the recipient portal under `/portal`, of the answer pages under `/c/`,
//! problem+json everywhere else. Answers the service builds itself (problem+json, HTML)
//! pass through untouched.

use crate::i18n::{Text, t};
use crate::problem::Problem;
use crate::web::layout::{Lang, public_page};
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

/// The most of a plain-text rejection kept as the detail.
const MAX_DETAIL: usize = 4 * 1024;

/// Who reads an error at a path: a program, or a person on one of the HTML surfaces.
enum Surface {
    Api,
    Web(Lang),
    Portal(HeaderMap),
    Answer(HeaderMap),
}

fn surface(req: &Request) -> Surface {
    let path = req.uri().path();
    let under = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    if under("/app") {
        Surface::Web(crate::web::layout::language(req.headers()))
    } else if under("/portal") {
        Surface::Portal(req.headers().clone())
    } else if under("/c") {
        Surface::Answer(req.headers().clone())
    } else {
        Surface::Api
    }
}

/// The middleware (see the module documentation).
pub async fn uniform(req: Request, next: Next) -> Response {
    let surface = surface(&req);
    let res = next.run(req).await;
    if !res.status().is_client_error() || !is_plain(res.headers()) {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let text = axum::body::to_bytes(body, MAX_DETAIL)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let status = parts.status;
    let rewritten = match surface {
        Surface::Api => api_problem(status, text).into_response(),
        Surface::Web(lang) => {
            let (title, body) = page_words(lang, status, &text, true);
            public_page(lang, status, title, body)
        }
        Surface::Portal(headers) => {
            crate::routes::portal_rejection_page(&headers, status, |lang| {
                page_words(lang, status, &text, false)
            })
        }
        Surface::Answer(headers) => {
            crate::routes::answer_rejection_page(&headers, status, |lang| {
                page_words(lang, status, &text, false)
            })
        }
    };
    let (new_parts, new_body) = rewritten.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in &new_parts.headers {
        parts.headers.insert(name.clone(), value.clone());
    }
    Response::from_parts(parts, new_body)
}

/// The answer at an address no route serves: under `/app`, a page of the web application
/// and under `/portal` a portal page, each in the visitor's language with a link back; the
/// API's problem+json everywhere else (programs read it).
pub async fn not_found(req: Request) -> Response {
    match surface(&req) {
        Surface::Web(lang) => public_page(
            lang,
            StatusCode::NOT_FOUND,
            t(lang, Text::NotFound),
            html! {
                p #not-found { (t(lang, Text::NoPageAtThisAddress)) }
                p { a href="/app" { (t(lang, Text::BackToTheApplication)) } }
            },
        ),
        Surface::Portal(headers) => {
            crate::routes::portal_rejection_page(&headers, StatusCode::NOT_FOUND, |lang| {
                (
                    t(lang, Text::NotFound),
                    html! {
                        p #not-found { (t(lang, Text::NoPageAtThisAddress)) }
                        p { a href="/portal" { (t(lang, Text::Back)) } }
                    },
                )
            })
        }
        Surface::Answer(_) | Surface::Api => crate::routes::not_found().await.into_response(),
    }
}

/// A plain-text or empty answer: axum's own, never one of the service's.
fn is_plain(headers: &HeaderMap) -> bool {
    match headers.get(header::CONTENT_TYPE) {
        None => true,
        Some(v) => v
            .to_str()
            .is_ok_and(|ct| ct.to_ascii_lowercase().starts_with("text/plain")),
    }
}

/// The problem+json for a rejection with `status` and axum's `text`.
pub fn api_problem(status: StatusCode, text: String) -> Problem {
    let detail = |fallback: &str| {
        if text.is_empty() {
            fallback.to_owned()
        } else {
            text.clone()
        }
    };
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => Problem::too_large(detail(
            "the request body is larger than the service accepts",
        )),
        StatusCode::BAD_REQUEST => {
            Problem::bad_request(detail("the request is not acceptable as sent"))
        }
        StatusCode::METHOD_NOT_ALLOWED => Problem::new(
            status,
            "method-not-allowed",
            "Method not allowed",
            detail("this path does not accept this method (see the Allow header)"),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Problem::new(
            status,
            "unsupported-media-type",
            "Unsupported media type",
            detail("this body's Content-Type is not accepted here"),
        ),
        _ => Problem::new(
            status,
            "bad-request",
            "Bad request",
            detail("the request is not acceptable as sent"),
        ),
    }
}

/// The title and body of a page for a rejection with `status` (axum's own words are
/// English and technical: shown apart, after the explanation in the page language).
/// `staff`: the web application's page, with a link back into it.
fn page_words(lang: Lang, status: StatusCode, text: &str, staff: bool) -> (&'static str, Markup) {
    let (title, explanation) = match status {
        StatusCode::METHOD_NOT_ALLOWED => (
            t(lang, Text::NotPossibleHere),
            t(lang, Text::ThisAddressDoesNot),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (t(lang, Text::TooLarge), t(lang, Text::WhatYouSentIs)),
        _ => (
            t(lang, Text::UnreadableRequest),
            t(lang, Text::ThisAddressOrForm),
        ),
    };
    let body = html! {
        p.error role="alert" { (explanation) }
        @if !text.is_empty() { p.muted { code { (text) } } }
        p {
            (t(lang, Text::NothingWasChanged))
            @if staff { " " a href="/app" { (t(lang, Text::BackToTheApplication)) } }
        }
    };
    (title, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn only_plain_or_empty_answers_are_rewritten() {
        let mut h = HeaderMap::new();
        assert!(is_plain(&h), "no content type: axum's empty 405");
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        assert!(is_plain(&h));
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        assert!(!is_plain(&h));
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        assert!(!is_plain(&h));
    }

    async fn body_of(p: Problem) -> serde_json::Value {
        let res = p.into_response();
        assert_eq!(
            res.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 16)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn problems_keep_the_status_and_name_it() {
        let v = body_of(api_problem(StatusCode::METHOD_NOT_ALLOWED, String::new())).await;
        assert_eq!(v["type"], "urn:consentry:problem:method-not-allowed");
        assert_eq!(v["status"], 405);
        assert!(v["detail"].as_str().unwrap().contains("Allow header"));
        let v = body_of(api_problem(
            StatusCode::BAD_REQUEST,
            "Failed to deserialize query string: duplicate field `q`".into(),
        ))
        .await;
        assert_eq!(v["type"], "urn:consentry:problem:bad-request");
        assert_eq!(v["status"], 400);
        assert!(v["detail"].as_str().unwrap().contains("duplicate field"));
        let v = body_of(api_problem(StatusCode::PAYLOAD_TOO_LARGE, "x".into())).await;
        assert_eq!(v["type"], "urn:consentry:problem:payload-too-large");
    }
}
