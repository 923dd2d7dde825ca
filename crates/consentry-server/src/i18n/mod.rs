//! Languages: French and English, how a page's language is chosen, and every text a
//! person reads — pages, e-mails, error messages — in one keyed catalogue
//! (`i18n/texts.rs`): code names a [`Text`], never a sentence, so a text is written once,
//! both languages side by side, and a missing or misspelt key does not compile.

mod texts;

use axum::http::{HeaderMap, header};
pub use consentry_pdf::Language as Lang;
pub use texts::Text;

/// `text` in `lang`.
pub fn t(lang: Lang, text: Text) -> &'static str {
    text.get(lang)
}

/// The language cookie (shared with the portal's pages, one per path).
pub const LANG_COOKIE: &str = "consentry_lang";

/// Whether `n` takes the singular in `lang` (French: 0 and 1; English: 1).
pub fn singular(lang: Lang, n: u64) -> bool {
    match lang {
        Lang::Fr => n <= 1,
        Lang::En => n == 1,
    }
}

/// `n` with its digits grouped as `lang` writes them (`2 031` with a narrow no-break
/// space, `2,031`).
pub fn group_digits(lang: Lang, n: u64) -> String {
    let sep = match lang {
        Lang::Fr => '\u{202f}',
        Lang::En => ',',
    };
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
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
    t(
        lang,
        match status {
            "granted" => Text::Granted,
            "refused" => Text::Refused,
            "revoked" => Text::StatusRevoked,
            "pending" => Text::StatusPending,
            "expired" => Text::Expired,
            "cancelled" => Text::StatusCancelled,
            "answered" => Text::StatusAnswered,
            _ => Text::StatusNone,
        },
    )
}
