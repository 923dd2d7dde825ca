//! The recipient's answer page as markup: the page shell of `/c/{token}` (its one inline
//! style, no script) and the page of a request waiting for its answer. The answer route
//! (`routes/answer.rs`) serves it for a link; the web application's preview renders the
//! same page for a request not made yet, so the staff see exactly what a recipient will.

use crate::i18n::{Lang, Text, t};
use crate::page;
use crate::sender::SenderContact;
use axum::http::StatusCode;
use axum::response::Response;
use consentry_ledger::schedule::Schedule;
use maud::{Markup, html};
use std::sync::LazyLock;

/// An answer page: `title`, `body`, the footer, in `lang`.
pub fn page(lang: Lang, status: StatusCode, title: &str, body: Markup) -> Response {
    let body = html! {
        main {
            h1 { (title) }
            (body)
        }
        footer { p { (t(lang, Text::ConsentryEveryAnswerIs)) } }
    };
    // The token is in the URL: keep it out of caches and other sites' logs.
    page::respond(
        status,
        page::document(lang, title, page::inline_style(CSS), body),
        &POLICY,
        page::Caching::NoStore,
    )
}

/// The page's policy: its one inline style (by hash), forms posted here, no script.
static POLICY: LazyLock<page::Policy> = LazyLock::new(|| {
    page::Policy::new(
        page::Styles::Inline(CSS),
        page::Scripts::None,
        page::Forms::Here,
    )
});

const CSS: &str = "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1a1a1a}\
h1{font-size:1.5rem}.notice{white-space:pre-wrap;border-left:4px solid #888;padding:.5rem 1rem;background:#f6f6f6}\
.actions{display:flex;gap:1rem;flex-wrap:wrap;margin-top:1.5rem}button{font-size:1.1rem;padding:.7rem 1.4rem;border-radius:.4rem;border:2px solid #1a1a1a;cursor:pointer}\
button.accept{background:#1d6b2f;color:#fff;border-color:#1d6b2f}button.refuse{background:#fff;color:#8b1d1d;border-color:#8b1d1d}\
button:focus-visible{outline:3px solid #f5a623;outline-offset:2px}footer{margin-top:3rem;color:#555;font-size:.9rem}code{word-break:break-all}";

/// What a request waiting for its answer asks.
#[derive(Debug, Clone, Copy)]
pub struct Asked<'a> {
    /// The sender's name.
    pub sender: &'a str,
    /// The sender's contact for recipients.
    pub contact: Option<&'a SenderContact>,
    /// The purpose as the recipient reads it (its description, else its name).
    pub purpose: &'a str,
    /// The notice's exact text.
    pub notice_text: &'a str,
    /// Where the notice is published.
    pub notice_url: Option<&'a str>,
    /// How long a grant is valid, in days (`None`: until withdrawn).
    pub valid_days: Option<u32>,
    /// When the response window closes (Unix ms).
    pub expires_at: i64,
    /// The portal's address, where the person withdraws later.
    pub portal: &'a str,
}

/// The page of a request waiting for its answer: who asks, for what and for how long, the
/// notice, until when, the two answers, where to withdraw later and whom to ask.
/// `preview`: the staff's preview, whose buttons are disabled (there is no request to
/// answer).
pub fn request_page(lang: Lang, zone: &Schedule, a: &Asked<'_>, preview: bool) -> Response {
    let title = Text::SenderAsksForConsent.fill(lang, &[("sender", &a.sender)]);
    page(
        lang,
        StatusCode::OK,
        &title,
        html! {
            p #purpose { (t(lang, Text::Purpose)) strong { (a.purpose) } }
            h2 { (t(lang, Text::InformationFromTheSender)) }
            div.notice { (a.notice_text) }
            @if let Some(u) = a.notice_url { p { a href=(u) rel="noopener noreferrer" { (t(lang, Text::FullTextOfThe)) } } }
            p #validity { (crate::mail::validity_sentence(lang, a.valid_days)) }
            p { (t(lang, Text::YouCanAnswerUntil)) (zone.long_local(a.expires_at)) "." }
            form method="post" {
                div.actions {
                    button.accept type="submit" name="decision" value="granted" disabled[preview] { (t(lang, Text::IAccept)) }
                    button.refuse type="submit" name="decision" value="refused" disabled[preview] { (t(lang, Text::IRefuse)) }
                }
            }
            p { (t(lang, Text::YourAnswerWillBe)) }
            p #portal { (t(lang, Text::WithdrawLaterInYour)) a href=(a.portal) { (t(lang, Text::YourPersonalSpaceLink)) } }
            @if let Some(c) = a.contact {
                p #sender-contact {
                    (Text::QuestionsAboutYourData.fill(lang, &[("sender", &a.sender)]))
                    a href=(c.href()) rel="noopener noreferrer" { (c.as_str()) }
                }
            }
        },
    )
}
