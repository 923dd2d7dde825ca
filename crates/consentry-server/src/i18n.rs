//! Languages: French and English, how a page's language is chosen, and the texts.

use axum::http::{HeaderMap, header};
pub use consentry_pdf::Language as Lang;

/// The language cookie (shared with the portal's pages, one per path).
pub const LANG_COOKIE: &str = "consentry_lang";

/// `fr` or `en` text, by language.
pub fn tr(lang: Lang, fr: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Fr => fr,
        Lang::En => en,
    }
}

/// The language's code.
pub fn code(lang: Lang) -> &'static str {
    match lang {
        Lang::Fr => "fr",
        Lang::En => "en",
    }
}

/// Parses `fr` or `en`.
pub fn parse_lang(s: &str) -> Option<Lang> {
    match s {
        "fr" => Some(Lang::Fr),
        "en" => Some(Lang::En),
        _ => None,
    }
}

/// The page language: the language cookie (set by `/app/lang/…`), else
/// `Accept-Language`.
pub fn language(headers: &HeaderMap) -> Lang {
    crate::session::cookie(headers, LANG_COOKIE)
        .and_then(parse_lang)
        .unwrap_or_else(|| accept_language(headers))
}

/// The page language from `Accept-Language`: French when French is preferred, else English.
pub fn accept_language(headers: &HeaderMap) -> Lang {
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let first = accept
        .split(',')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if first.starts_with("fr") {
        Lang::Fr
    } else {
        Lang::En
    }
}

/// A status's label.
pub fn status_label(lang: Lang, status: &str) -> &'static str {
    match status {
        "granted" => tr(lang, "accordé", "granted"),
        "refused" => tr(lang, "refusé", "refused"),
        "revoked" => tr(lang, "retiré", "revoked"),
        "pending" => tr(lang, "en attente", "pending"),
        "expired" => tr(lang, "expiré", "expired"),
        "cancelled" => tr(lang, "annulé", "cancelled"),
        "answered" => tr(lang, "répondu", "answered"),
        _ => tr(lang, "aucun", "none"),
    }
}
