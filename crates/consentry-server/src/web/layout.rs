//! The web application's page shell, languages, small shared pieces of markup, and its
//! errors as HTML pages.
//!
//! Pages are server-rendered with maud (escaped by construction). The style sheet and the
//! one script are files of this crate served from `/app/static/`, so the
//! Content-Security-Policy allows scripts and styles from this origin only, no inline code
//! at all. The script only improves pages (live status, select-all); every page works
//! without it. The layout is one column on a phone and wider on a desk; every action is a
//! link or a button reachable with the keyboard, with a visible focus ring and a "skip to
//! content" link.

pub use crate::i18n::{LANG_COOKIE, Lang, Text, code, language, parse_lang, status_label, t};
use crate::page;
use crate::state::AppState;
use crate::web::session::{Role, Staff};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use consentry_core::proof::RecipientCategory;
use maud::{Markup, html};
use std::sync::LazyLock;

/// The style sheet.
pub const CSS: &str = include_str!("../../assets/app/app.css");
/// The script.
pub const JS: &str = include_str!("../../assets/app/app.js");
/// The request form's script (reloads a purpose's notices when the purpose changes).
pub const REQUESTS_JS: &str = include_str!("../../assets/app/requests.js");

/// A local time in the anchoring schedule's zone, e.g. `2026-11-30 20:04 (Europe/Paris)`.
pub fn local_time(state: &AppState, ms: i64) -> String {
    let schedule = state.anchoring.schedule();
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(t) => format!("{} ({})", schedule.local(t), schedule.zone_name()),
        Err(_) => "—".to_owned(),
    }
}

/// Which part of the application a page belongs to (highlighted in the menu).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Counts, chart, anchors.
    Dashboard,
    /// The address book and a contact's pages.
    Contacts,
    /// CSV import.
    Import,
    /// Purposes and notices.
    Purposes,
    /// Staff users.
    Users,
    /// The organisation's settings.
    Settings,
    /// Sign-in and errors.
    None,
}

/// The hidden `csrf` field every form of a signed-in page carries.
pub fn csrf_field(staff: &Staff) -> Markup {
    html! { input type="hidden" name="csrf" value=(staff.csrf); }
}

/// A consent status as a labelled badge (`granted`, `refused`, `revoked`, `pending`,
/// `expired`, `none`, `cancelled`). Badges carry the status in `data-status` so the
/// script can update them.
pub fn status_badge(lang: Lang, status: &str) -> Markup {
    html! { span class={"badge s-" (status)} data-status=(status) { (status_label(lang, status)) } }
}

/// A recipient category's label.
pub fn category_label(lang: Lang, c: RecipientCategory) -> &'static str {
    t(
        lang,
        match c {
            RecipientCategory::Private => Text::PrivatePerson,
            RecipientCategory::Professional => Text::Professional,
            RecipientCategory::Unspecified => Text::Unspecified,
        },
    )
}

/// A whole page for a signed-in user.
pub fn page(
    staff: &Staff,
    section: Section,
    status: StatusCode,
    title: &str,
    body: Markup,
) -> Response {
    page_scripted(staff, section, status, title, body, None)
}

/// A whole page for a signed-in user that also loads `script`, a path of one of this
/// application's static scripts (the policy allows this origin's script files).
pub fn page_with_script(
    staff: &Staff,
    section: Section,
    status: StatusCode,
    title: &str,
    body: Markup,
    script: &'static str,
) -> Response {
    page_scripted(staff, section, status, title, body, Some(script))
}

fn page_scripted(
    staff: &Staff,
    section: Section,
    status: StatusCode,
    title: &str,
    body: Markup,
    script: Option<&'static str>,
) -> Response {
    let lang = staff.lang;
    let item = |s: Section, href: &str, label: &str| {
        html! {
            li { a href=(href) aria-current=[(s == section).then_some("page")] { (label) } }
        }
    };
    let nav = html! {
        nav.main aria-label=(t(lang, Text::MainMenu)) {
            ul {
                (item(Section::Dashboard, "/app/dashboard", t(lang, Text::Dashboard)))
                (item(Section::Contacts, "/app/contacts", t(lang, Text::AddressBook)))
                @if staff.role.can_write() {
                    (item(Section::Import, "/app/contacts/import", t(lang, Text::Import)))
                }
                (item(Section::Purposes, "/app/purposes", t(lang, Text::PurposesAndNotices)))
                @if staff.role == Role::Admin {
                    (item(Section::Users, "/app/users", t(lang, Text::Users)))
                    (item(Section::Settings, "/app/settings", t(lang, Text::Organisation)))
                }
            }
        }
        div.who {
            span { (staff.tenant_name) " · " (role_label(lang, staff.role)) }
            a href="/app/account/password" { (t(lang, Text::Password)) }
            " "
            (lang_switch(lang, &staff.here))
            form.inline method="post" action="/app/logout" {
                (csrf_field(staff))
                button.link type="submit" { (t(lang, Text::SignOut)) }
            }
        }
    };
    shell(lang, status, title, Some(nav), body, script)
}

/// A page with no signed-in user (sign-in, errors before sign-in).
pub fn public_page(lang: Lang, status: StatusCode, title: &str, body: Markup) -> Response {
    let top = html! { div.who { (lang_switch(lang, "/app/login")) } };
    shell(lang, status, title, Some(top), body, None)
}

fn role_label(lang: Lang, role: Role) -> &'static str {
    match role {
        Role::Admin => t(lang, Text::Admin),
        Role::Operator => t(lang, Text::Operator),
        Role::Auditor => t(lang, Text::Auditor),
    }
}

fn lang_switch(lang: Lang, here: &str) -> Markup {
    let back = urlencode(here);
    html! {
        @if lang == Lang::Fr { a.lang href={"/app/lang/en?back=" (back)} lang="en" hreflang="en" { "English" } }
        @else { a.lang href={"/app/lang/fr?back=" (back)} lang="fr" hreflang="fr" { "Français" } }
    }
}

fn shell(
    lang: Lang,
    status: StatusCode,
    title: &str,
    top: Option<Markup>,
    body: Markup,
    script: Option<&'static str>,
) -> Response {
    let head = html! {
        link rel="stylesheet" href=(format!("/app/static/app.css?v={}", asset_version()));
        script src=(format!("/app/static/app.js?v={}", asset_version())) defer {}
        @if let Some(extra) = script {
            script src=(format!("{extra}?v={}", asset_version())) defer {}
        }
    };
    let body = html! {
        a.skip href="#content" { (t(lang, Text::SkipToContent)) }
        header.top {
            a.brand href="/app" { "Consentry" }
            @if let Some(top) = top { (top) }
        }
        main #content tabindex="-1" {
            h1 { (title) }
            (body)
        }
    };
    page::respond(
        status,
        page::document(lang, title, head, body),
        &POLICY,
        page::Caching::NoStore,
    )
}

/// The application's policy: its style sheet and script files, forms posted here.
static POLICY: LazyLock<page::Policy> = LazyLock::new(|| {
    page::Policy::new(page::Styles::Files, page::Scripts::Files, page::Forms::Here)
});

/// A short hash of the assets, so browsers fetch new ones after an upgrade.
fn asset_version() -> &'static str {
    static V: LazyLock<String> = LazyLock::new(|| {
        use sha2::{Digest as _, Sha256};
        let mut h = Sha256::new();
        h.update(CSS.as_bytes());
        h.update(JS.as_bytes());
        h.update(REQUESTS_JS.as_bytes());
        hex::encode(&h.finalize()[..6])
    });
    V.as_str()
}

/// Why a page could not be shown. Every variant is an HTML page (or a redirect to the
/// sign-in page); store failures are logged and shown as a 503 without detail.
#[derive(Debug)]
pub enum WebError {
    /// Not signed in: go to the sign-in page, then back to `next` (a GET path).
    SignIn {
        /// Where to return after signing in.
        next: Option<String>,
    },
    /// Signed in, but the role does not allow it, or the form's token is wrong.
    Forbidden(Lang),
    /// No such thing in this tenant.
    NotFound(Lang),
    /// The input is not acceptable; nothing was changed.
    BadRequest {
        /// Page language.
        lang: Lang,
        /// What is wrong, in the page language.
        message: String,
    },
    /// Storage failed.
    Unavailable(String),
}

impl WebError {
    /// A bad request with a message in each language.
    pub fn bad(lang: Lang, text: Text) -> WebError {
        WebError::BadRequest {
            lang,
            message: t(lang, text).to_owned(),
        }
    }

    /// A bad request with a message already in the page language (or a technical detail
    /// both languages share).
    pub fn bad_detail(lang: Lang, message: &str) -> WebError {
        WebError::BadRequest {
            lang,
            message: message.to_owned(),
        }
    }
}

impl From<consentry_store::StoreError> for WebError {
    fn from(e: consentry_store::StoreError) -> WebError {
        WebError::Unavailable(e.to_string())
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::SignIn { next } => {
                let to = match next.filter(|n| safe_next(n)) {
                    Some(n) => format!("/app/login?next={}", urlencode(&n)),
                    None => "/app/login".to_owned(),
                };
                Redirect::to(&to).into_response()
            }
            WebError::Forbidden(lang) => public_page(
                lang,
                StatusCode::FORBIDDEN,
                t(lang, Text::ActionRefused),
                html! {
                    p { (t(lang, Text::YourRoleDoesNot)) }
                    p { a href="/app" { (t(lang, Text::BackToTheApplication)) } }
                },
            ),
            WebError::NotFound(lang) => public_page(
                lang,
                StatusCode::NOT_FOUND,
                t(lang, Text::NotFound),
                html! {
                    p { (t(lang, Text::ThisPageDoesNot)) }
                    p { a href="/app/contacts" { (t(lang, Text::AddressBook)) } }
                },
            ),
            WebError::BadRequest { lang, message } => public_page(
                lang,
                StatusCode::BAD_REQUEST,
                t(lang, Text::InputRefused),
                html! {
                    p.error role="alert" { (message) }
                    p { (t(lang, Text::NothingWasChangedGo)) }
                },
            ),
            WebError::Unavailable(detail) => {
                tracing::error!(error = %detail, "web application: storage failed");
                let lang = Lang::En;
                public_page(
                    lang,
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Service unavailable — Service indisponible",
                    html! { p { "The service cannot answer right now; nothing was changed. Try again in a moment. — Le service ne peut pas répondre ; rien n'a été modifié. Réessayez dans un instant." } },
                )
            }
        }
    }
}

/// Whether `next` is a path of this application (no open redirect).
pub fn safe_next(next: &str) -> bool {
    (next == "/app" || next.starts_with("/app/") || next.starts_with("/app?"))
        && !next.contains('\\')
        && !next.chars().any(char::is_control)
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_of_the_application_are_followed_after_sign_in() {
        assert!(safe_next("/app/contacts?purpose=news"));
        for bad in [
            "//evil.example/app",
            "/appx",
            "https://evil.example",
            "/portal",
            "/app\\..",
            "/app\n",
        ] {
            assert!(!safe_next(bad), "{bad:?}");
        }
        assert_eq!(urlencode("/app/x?a=b c"), "%2Fapp%2Fx%3Fa%3Db%20c");
    }
}
