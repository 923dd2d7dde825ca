//! The recipient's answer page: `GET /c/{token}` shows who asks (the sender's name and
//! contact), for what (the purpose's description in the visitor's language, else the
//! other one, else its name), the notice, how long a consent would last, and where to
//! withdraw it later (the portal); `POST /c/{token}` accepts or refuses, and the page that
//! answers links the proof as JSON and as PDF (`/c/{token}/proof`, `/c/{token}/proof.pdf`).
//! Plain, accessible HTML in French or English (by `Accept-Language`), escaped by
//! construction (maud). A reused, expired or forged link gets a clear page and changes
//! nothing; a link a resend replaced says so (410, "replaced by a newer e-mail").
//!
//! The page does not greet the person by name, unlike the e-mail: a link can be
//! forwarded, and the page would hand the name from the vault to whoever holds it.

use crate::answer_page::page;
use crate::downloads::{Disposition, Document, Download, Format};
use crate::i18n::accept_language as language;
use crate::i18n::{Text, t};
use crate::problem::{ApiForm, Problem};
use crate::sender::Told;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use consentry_core::consent::RequestStatus;
use consentry_core::ids::ProofId;
use consentry_core::proof::Decision;
use consentry_ledger::SubmitError;
use consentry_ledger::schedule::Schedule;
use consentry_pdf::Language;
use consentry_store::RequestRow;
use maud::{Markup, html};
use serde::Deserialize;

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

fn token_hash(token: &str) -> Option<[u8; 32]> {
    (token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| crate::auth::key_hash(&token.to_ascii_lowercase()))
}

/// The page of a link a resend replaced: 410, it is dead for good and records nothing;
/// the person is sent to the newer e-mail.
fn replaced(lang: Language, sender: &str) -> Response {
    page(
        lang,
        StatusCode::GONE,
        t(lang, Text::LinkReplaced),
        html! { p { (Text::ThisLinkWasReplaced.fill(lang, &[("sender", &sender)])) } },
    )
}

/// A token that matches no live link: the "replaced" page if a resend superseded it,
/// else the invalid-link page.
async fn unknown_link(
    state: &AppState,
    lang: Language,
    hash: &[u8; 32],
) -> Result<Response, Problem> {
    let Some((tenant, _request)) = state.store.superseded_link(hash).await? else {
        return Ok(invalid_link(lang));
    };
    let sender = state
        .store
        .tenant(&tenant)
        .await?
        .map(|t| t.name)
        .unwrap_or_default();
    Ok(replaced(lang, &sender))
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
                @if let Some(p) = &r.proof_id { p {
                    (t(lang, Text::Proof)) code { (p.as_str()) } " — "
                    a href={ "/c/" (token) "/proof" } { (t(lang, Text::DownloadJson)) } " · "
                    a href={ "/c/" (token) "/proof.pdf" } { (t(lang, Text::DownloadPdf)) }
                } }
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
        return unknown_link(&state, lang, &hash).await;
    };
    let now = state.clock.now_ms();
    if contact_erased(&state, &r).await? {
        return Ok(erased(lang));
    }
    if r.status != RequestStatus::Pending || r.expires_at <= now {
        return Ok(closed(lang, state.anchoring.schedule(), &r, now, &token));
    }
    let told = Told::load(&state.store, &r.tenant, &r.purpose, crate::i18n::code(lang)).await?;
    let portal = crate::mail::portal_url(&state);
    Ok(crate::answer_page::request_page(
        lang,
        state.anchoring.schedule(),
        &crate::answer_page::Asked {
            sender: &told.sender,
            contact: told.contact.as_ref(),
            purpose: &told.purpose,
            notice_text: &r.notice_text,
            notice_url: r.notice_url.as_deref(),
            valid_days: r.valid_days,
            expires_at: r.expires_at,
            portal: &portal,
        },
        false,
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
        return unknown_link(&state, lang, &hash).await;
    };
    let now = state.clock.now_ms();
    let proof_id = ProofId::from_suffix(&consentry_ledger::random::id_suffix(now))
        .map_err(Problem::unavailable)?;
    // Sealed on the contact and the request as the append transaction reads them.
    let draft = crate::requests::answer_draft(&r, proof_id.clone(), decision, Some(hash));
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
                    p { a href={ "/c/" (token) "/proof.pdf" } { (t(lang, Text::DownloadTheProofPdf)) } }
                    p #portal { (t(lang, Text::WithdrawLaterInYour)) a href=(crate::mail::portal_url(&state)) { (t(lang, Text::YourPersonalSpaceLink)) } }
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
    kept_proof(&state, &headers, &token, Format::Json).await
}

/// `GET /c/{token}/proof.pdf`: the same proof as a sealed PDF (the JSON attached), in the
/// visitor's language.
pub async fn proof_pdf(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, Problem> {
    kept_proof(&state, &headers, &token, Format::Pdf).await
}

async fn kept_proof(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    format: Format,
) -> Result<Response, Problem> {
    let lang = language(headers);
    let Some(hash) = token_hash(token) else {
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
    let sender = state
        .store
        .tenant(&r.tenant)
        .await?
        .map(|t| t.name)
        .unwrap_or_default();
    Download {
        id: &pid,
        entry: &entry,
        sender_name: &sender,
        document: Document::Proof,
        format,
        lang,
        disposition: Disposition::Inline,
    }
    .respond(state)
    .await
}
