//! The recipient's answer page: `GET /c/{token}` shows who asks, for what, and the notice;
//! `POST /c/{token}` accepts or refuses. Plain, accessible HTML in French or English (by
//! `Accept-Language`), escaped by construction (maud). A reused, expired or forged link
//! gets a clear page and changes nothing.

use crate::downloads::{Disposition, Document, Download, Format};
use crate::i18n::accept_language as language;
use crate::i18n::{Text, t};
use crate::page;
use crate::problem::{ApiForm, Problem};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use consentry_core::consent::RequestStatus;
use consentry_core::ids::ProofId;
use consentry_core::proof::{Decision, Method, Notice};
use consentry_ledger::schedule::Schedule;
use consentry_ledger::{ProofDraft, SubmitError};
use consentry_pdf::Language;
use consentry_store::RequestRow;
use maud::{Markup, html};
use serde::Deserialize;
use std::sync::LazyLock;

/// An answer page (in the visitor's language) for a request refused before any handler
/// ran: see [`crate::rejections`]. `make` gives the title and body in that language.
pub(crate) fn rejection_page(
    headers: &HeaderMap,
    status: StatusCode,
    make: impl FnOnce(Language) -> (&'static str, Markup),
) -> Response {
    let lang = language(headers);
    let (title, body) = make(lang);
    page(lang, status, title, body)
}

fn page(lang: Language, status: StatusCode, title: &str, body: Markup) -> Response {
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

fn token_hash(token: &str) -> Option<[u8; 32]> {
    (token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| crate::auth::key_hash(&token.to_ascii_lowercase()))
}

fn invalid_link(lang: Language) -> Response {
    page(
        lang,
        StatusCode::NOT_FOUND,
        t(lang, Text::InvalidLink),
        html! { p { (t(lang, Text::ThisLinkDoesNot)) } },
    )
}

/// Whether the contact a request asks was erased (its requests were cancelled with it).
async fn contact_erased(state: &AppState, r: &RequestRow) -> Result<bool, Problem> {
    Ok(state
        .store
        .contact(&r.tenant, &r.subject)
        .await?
        .is_none_or(|c| c.wrapped_key.is_none()))
}

/// The page of a link whose recipient's data was erased: nothing can be answered.
fn erased(lang: Language) -> Response {
    page(
        lang,
        StatusCode::GONE,
        t(lang, Text::DataErased),
        html! { p { (t(lang, Text::ThisRecipientSData)) } },
    )
}

fn when(zone: &Schedule, ms: i64) -> String {
    zone.long_local(ms)
}

fn closed(lang: Language, zone: &Schedule, r: &RequestRow, now: i64, token: &str) -> Response {
    match r.status.as_str() {
        "granted" | "refused" => page(
            lang,
            StatusCode::CONFLICT,
            t(lang, Text::AnswerAlreadyRecorded),
            html! {
                p { (t(lang, Text::YourAnswerToThis)) }
                p { (t(lang, Text::Answer)) strong { (decision_word(lang, r.status)) } " — " (r.answered_at.map(|at| when(zone, at)).unwrap_or_default()) }
                @if let Some(p) = &r.proof_id { p { (t(lang, Text::Proof)) code { (p.as_str()) } " — " a href={ "/c/" (token) "/proof" } { (t(lang, Text::DownloadJson)) } } }
            },
        ),
        "pending" if r.expires_at <= now => expired(lang, zone, r),
        "expired" => expired(lang, zone, r),
        "cancelled" => page(
            lang,
            StatusCode::GONE,
            t(lang, Text::RequestCancelled),
            html! { p { (t(lang, Text::TheSenderCancelledThis)) } },
        ),
        _ => page(
            lang,
            StatusCode::GONE,
            t(lang, Text::RequestWithdrawn),
            html! { p { (t(lang, Text::TheSenderWithdrewThis)) } },
        ),
    }
}

fn expired(lang: Language, zone: &Schedule, r: &RequestRow) -> Response {
    page(
        lang,
        StatusCode::GONE,
        t(lang, Text::RequestExpired),
        html! { p { (t(lang, Text::TheTimeToAnswer)) (when(zone, r.expires_at)) "). " (t(lang, Text::NoConsentWasRecorded)) } },
    )
}

fn decision_word(lang: Language, status: RequestStatus) -> &'static str {
    t(
        lang,
        if status == RequestStatus::Granted {
            Text::Accepted
        } else {
            Text::Refused
        },
    )
}

/// `GET /c/{token}`.
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, Problem> {
    let lang = language(&headers);
    let Some(hash) = token_hash(&token) else {
        return Ok(invalid_link(lang));
    };
    let Some(r) = state.store.request_by_token(&hash).await? else {
        return Ok(invalid_link(lang));
    };
    let now = state.clock.now_ms();
    if contact_erased(&state, &r).await? {
        return Ok(erased(lang));
    }
    if r.status != RequestStatus::Pending || r.expires_at <= now {
        return Ok(closed(lang, state.anchoring.schedule(), &r, now, &token));
    }
    let sender = state
        .store
        .tenant(&r.tenant)
        .await?
        .map(|t| t.name)
        .unwrap_or_default();
    let title = Text::SenderAsksForConsent.fill(lang, &[("sender", &sender)]);
    Ok(page(
        lang,
        StatusCode::OK,
        &title,
        html! {
            p { (t(lang, Text::Purpose)) strong { (r.purpose) } }
            h2 { (t(lang, Text::InformationFromTheSender)) }
            div.notice { (r.notice_text) }
            @if let Some(u) = &r.notice_url { p { a href=(u) rel="noopener noreferrer" { (t(lang, Text::FullTextOfThe)) } } }
            p { (t(lang, Text::YouCanAnswerUntil)) (when(state.anchoring.schedule(), r.expires_at)) "." }
            form method="post" {
                div.actions {
                    button.accept type="submit" name="decision" value="granted" { (t(lang, Text::IAccept)) }
                    button.refuse type="submit" name="decision" value="refused" { (t(lang, Text::IRefuse)) }
                }
            }
            p { (t(lang, Text::YourAnswerWillBe)) }
        },
    ))
}

/// The answer form.
#[derive(Deserialize)]
pub struct AnswerForm {
    decision: String,
}

/// `POST /c/{token}`.
pub async fn answer(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    ApiForm(form): ApiForm<AnswerForm>,
) -> Result<Response, Problem> {
    let lang = language(&headers);
    let decision = match form.decision.as_str() {
        "granted" => Decision::Granted,
        "refused" => Decision::Refused,
        _ => {
            return Ok(page(
                lang,
                StatusCode::BAD_REQUEST,
                t(lang, Text::AnswerNotUnderstood),
                html! { p { (t(lang, Text::ChooseIAcceptOr)) } },
            ));
        }
    };
    let Some(hash) = token_hash(&token) else {
        return Ok(invalid_link(lang));
    };
    let Some(r) = state.store.request_by_token(&hash).await? else {
        return Ok(invalid_link(lang));
    };
    let now = state.clock.now_ms();
    let proof_id = ProofId::from_suffix(&consentry_ledger::random::id_suffix(now))
        .map_err(Problem::unavailable)?;
    // The recipient's commitment and category are taken from the contact as the append
    // transaction reads it, and the request is claimed there: still pending, its window
    // open, this link its current one.
    let draft = ProofDraft {
        id: proof_id.clone(),
        tenant: r.tenant.clone(),
        subject: r.subject.clone(),
        purpose: r.purpose.clone(),
        decision,
        method: Method::Delegated,
        recipient: None,
        notice: Some(Notice {
            sha256: r.notice_sha256.clone(),
            version: r.notice_version.clone(),
            language: Some(r.language.clone()),
            url: r.notice_url.clone(),
        }),
        evidence: None,
        request: Some(r.id.clone()),
        link: Some(hash),
        valid_days: r.valid_days,
        given_at: None,
    };
    match state.ledger.record(draft).await {
        Ok(sealed) => {
            let index = sealed.proof.body.log_index;
            tracing::info!(request = %r.id, proof = %proof_id, index, "consent request answered");
            Ok(page(
                lang,
                StatusCode::OK,
                t(lang, Text::ThankYouYourAnswer),
                html! {
                    p { (t(lang, Text::YourAnswer)) strong { (decision_word(lang, RequestStatus::answered_with(decision).unwrap_or(RequestStatus::Refused))) } "." }
                    p { (t(lang, Text::ItIsSealedIn)) code { (proof_id.as_str()) } " (" (t(lang, Text::LogEntry)) (index) ")." }
                    p { a href={ "/c/" (token) "/proof" } { (t(lang, Text::DownloadTheProofJson)) } }
                },
            ))
        }
        Err(SubmitError::NotPending) => match state.store.request_by_token(&hash).await? {
            Some(row) if contact_erased(&state, &row).await? => Ok(erased(lang)),
            Some(row) => Ok(closed(lang, state.anchoring.schedule(), &row, now, &token)),
            None => Ok(invalid_link(lang)),
        },
        Err(SubmitError::UnknownContact) => Ok(invalid_link(lang)),
        Err(SubmitError::Erased) => Ok(erased(lang)),
        Err(e) => Err(Problem::unavailable(e)),
    }
}

/// `GET /c/{token}/proof`: the proof an answered link produced, for the recipient to keep.
pub async fn proof(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, Problem> {
    let lang = language(&headers);
    let Some(hash) = token_hash(&token) else {
        return Ok(invalid_link(lang));
    };
    let Some(r) = state.store.request_by_token(&hash).await? else {
        return Ok(invalid_link(lang));
    };
    let Some(pid) = r.proof_id.filter(|_| r.status.answered()) else {
        return Ok(invalid_link(lang));
    };
    let Some((_, entry)) = state.store.proof(&r.tenant, &pid).await? else {
        return Ok(invalid_link(lang));
    };
    Download {
        id: &pid,
        entry: &entry,
        sender_name: "",
        document: Document::Proof,
        format: Format::Json,
        lang,
        disposition: Disposition::Inline,
    }
    .respond(&state)
    .await
}
