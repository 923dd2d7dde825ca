//! The one HTML page shell of every page this service serves — the staff web application,
//! the portal, the recipient's answer page and `/verify` — and its security headers.
//!
//! Every page is server-rendered with maud (escaped by construction), declares its
//! language, keeps referrers to itself, and is served with a Content-Security-Policy that
//! allows exactly what the page loads ([`Policy`]: its styles as files of this origin or
//! one inline style by hash, its scripts as files, forms posted here or nowhere), no
//! framing and no content sniffing. Nothing inline runs anywhere: no page has an inline
//! script or an `unsafe-*` source other than `wasm-unsafe-eval` for the verifier.

use crate::i18n::{Lang, code};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine as _;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use sha2::{Digest as _, Sha256};

/// Where a page's styles come from.
#[derive(Debug, Clone, Copy)]
pub enum Styles {
    /// Style sheets served by this origin.
    Files,
    /// One inline `<style>`, allowed by its SHA-256 (see [`inline_style`]).
    Inline(&'static str),
}

/// Which scripts a page runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scripts {
    /// None at all.
    None,
    /// Script files of this origin (which may fetch from it).
    Files,
    /// Script files of this origin that compile WebAssembly (the verifier).
    FilesAndWasm,
}

/// Where a page's forms may post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forms {
    /// To this origin.
    Here,
    /// Nowhere: the page posts nothing.
    Nowhere,
}

/// A page's Content-Security-Policy.
#[derive(Debug, Clone)]
pub struct Policy(HeaderValue);

impl Policy {
    /// The policy allowing `styles`, `scripts` and `forms`, and nothing else.
    pub fn new(styles: Styles, scripts: Scripts, forms: Forms) -> Policy {
        let style = match styles {
            Styles::Files => "'self'".to_owned(),
            Styles::Inline(css) => format!("'sha256-{}'", sha256_base64(css)),
        };
        let script = match scripts {
            Scripts::None => "",
            Scripts::Files => "; script-src 'self'; connect-src 'self'",
            Scripts::FilesAndWasm => "; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'",
        };
        let form = match forms {
            Forms::Here => "'self'",
            Forms::Nowhere => "'none'",
        };
        let text = format!(
            "default-src 'none'; style-src {style}{script}; img-src 'self' data:; \
             form-action {form}; base-uri 'none'; frame-ancestors 'none'"
        );
        // Only base64, ASCII words and punctuation: always a valid header value.
        Policy(
            HeaderValue::from_str(&text)
                .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'")),
        )
    }

    /// The header's text.
    pub fn as_str(&self) -> &str {
        self.0.to_str().unwrap_or_default()
    }
}

/// Whether a page may be kept by the browser's cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caching {
    /// Never stored (personal pages, pages whose URL holds a token).
    NoStore,
    /// Stored, but checked again before each use (public pages).
    Revalidate,
}

fn sha256_base64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
}

/// The `<style>` element of a page whose policy is `Styles::Inline(css)`.
pub fn inline_style(css: &'static str) -> Markup {
    html! { style { (PreEscaped(css)) } }
}

/// A whole HTML document: its language, the usual `<head>` (`charset`, `viewport`, no
/// referrer, the title followed by " — Consentry", the service's icon) plus `head`, then
/// `body`.
pub fn document(lang: Lang, title: &str, head: Markup, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(code(lang)) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) " — Consentry" }
                link rel="icon" href="/favicon.svg" type="image/svg+xml";
                (head)
            }
            body { (body) }
        }
    }
}

/// `doc` as the response, with the security headers of every page.
pub fn respond(status: StatusCode, doc: Markup, policy: &Policy, caching: Caching) -> Response {
    let mut res = (status, Html(doc.into_string())).into_response();
    secure_headers(res.headers_mut(), policy, caching);
    res
}

/// The headers of every page: the policy, caching, no framing, no sniffing, no referrer.
pub fn secure_headers(h: &mut HeaderMap, policy: &Policy, caching: Caching) {
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(match caching {
            Caching::NoStore => "no-store",
            Caching::Revalidate => "no-cache",
        }),
    );
    h.insert(header::CONTENT_SECURITY_POLICY, policy.0.clone());
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_allow_what_the_page_loads_and_nothing_inline() {
        let app = Policy::new(Styles::Files, Scripts::Files, Forms::Here);
        assert_eq!(
            app.as_str(),
            "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; \
             img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        );
        let css = "body{color:red}";
        let verify = Policy::new(Styles::Inline(css), Scripts::FilesAndWasm, Forms::Nowhere);
        assert!(
            verify
                .as_str()
                .contains(&format!("style-src 'sha256-{}'", sha256_base64(css)))
        );
        assert!(
            verify
                .as_str()
                .contains("script-src 'self' 'wasm-unsafe-eval';")
        );
        assert!(verify.as_str().contains("form-action 'none'"));
        let answer = Policy::new(Styles::Inline(css), Scripts::None, Forms::Here);
        assert!(!answer.as_str().contains("script-src"));
        for p in [app, verify, answer] {
            assert!(!p.as_str().contains("unsafe-inline"), "{}", p.as_str());
            assert!(p.as_str().starts_with("default-src 'none';"));
        }
    }

    #[test]
    fn every_page_gets_the_headers() {
        let policy = Policy::new(Styles::Files, Scripts::None, Forms::Here);
        let res = respond(
            StatusCode::OK,
            document(Lang::Fr, "Titre", html! {}, html! { p { "<x>" } }),
            &policy,
            Caching::NoStore,
        );
        let h = res.headers();
        assert_eq!(h[header::CACHE_CONTROL], "no-store");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(h[header::REFERRER_POLICY], "no-referrer");
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], policy.as_str());
    }

    #[test]
    fn every_document_names_the_icon() {
        let doc = document(Lang::En, "T", html! {}, html! {}).into_string();
        assert!(
            doc.contains(r#"<link rel="icon" href="/favicon.svg" type="image/svg+xml">"#),
            "{doc}"
        );
    }
}
