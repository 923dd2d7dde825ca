//! The recipient's answer page: `GET /c/{token}` shows who asks, for what, and the notice;
//! `POST /c/{token}` accepts or refuses. Plain, accessible HTML in French or English (by
//! `Accept-Language`), escaped by construction (maud). A reused, expired or forged link
//! gets a clear page and changes nothing.

use crate::downloads::{Disposition, Document, Download, Format};
use crate::i18n::accept_language as language;
use crate::page;
use crate::problem::{ApiForm, Problem};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use consentry_core::ids::ProofId;
use consentry_core::proof::{Decision, Method, Notice};
use consentry_ledger::schedule::Schedule;
use consentry_ledger::{ProofDraft, SubmitError};
use consentry_pdf::Language;
use consentry_store::RequestRow;
use maud::{Markup, html};
use serde::Deserialize;
use std::sync::LazyLock;

fn tr(lang: Language, fr: &'static str, en: &'static str) -> &'static str {
    match lang {
        Language::Fr => fr,
        Language::En => en,
    }
}

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
        footer { p { (tr(lang, "Service Consentry : chaque réponse est scellée et horodatée.", "Consentry: every answer is sealed and timestamped.")) } }
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
        tr(lang, "Lien non valide", "Invalid link"),
        html! { p { (tr(lang, "Ce lien ne correspond à aucune demande. Vérifiez qu'il est complet, ou demandez un nouveau lien à l'expéditeur. Rien n'a été enregistré.", "This link does not match any request. Check that it is complete, or ask the sender for a new link. Nothing was recorded.")) } },
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
        tr(lang, "Données effacées", "Data erased"),
        html! { p { (tr(lang, "Les données de ce destinataire ont été effacées ; cette demande a été annulée avec elles et ne peut plus recevoir de réponse. Rien n'a été enregistré.", "This recipient's data was erased; this request was cancelled with it and can no longer be answered. Nothing was recorded.")) } },
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
            tr(lang, "Réponse déjà enregistrée", "Answer already recorded"),
            html! {
                p { (tr(lang, "Votre réponse à cette demande a déjà été enregistrée ; ce lien ne sert qu'une fois.", "Your answer to this request was already recorded; this link works only once.")) }
                p { (tr(lang, "Réponse : ", "Answer: ")) strong { (decision_word(lang, &r.status)) } " — " (r.answered_at.map(|at| when(zone, at)).unwrap_or_default()) }
                @if let Some(p) = &r.proof_id { p { (tr(lang, "Preuve : ", "Proof: ")) code { (p.as_str()) } " — " a href={ "/c/" (token) "/proof" } { (tr(lang, "télécharger (JSON)", "download (JSON)")) } } }
            },
        ),
        "pending" if r.expires_at <= now => expired(lang, zone, r),
        "expired" => expired(lang, zone, r),
        "cancelled" => page(
            lang,
            StatusCode::GONE,
            tr(lang, "Demande annulée", "Request cancelled"),
            html! { p { (tr(lang, "L'expéditeur a annulé cette demande : elle n'attend plus de réponse. Rien n'a été enregistré.", "The sender cancelled this request: it no longer takes an answer. Nothing was recorded.")) } },
        ),
        _ => page(
            lang,
            StatusCode::GONE,
            tr(lang, "Demande retirée", "Request withdrawn"),
            html! { p { (tr(lang, "L'expéditeur a retiré cette demande. Rien n'a été enregistré.", "The sender withdrew this request. Nothing was recorded.")) } },
        ),
    }
}

fn expired(lang: Language, zone: &Schedule, r: &RequestRow) -> Response {
    page(
        lang,
        StatusCode::GONE,
        tr(lang, "Demande expirée", "Request expired"),
        html! { p { (tr(lang, "Le délai de réponse à cette demande est passé (", "The time to answer this request has passed (")) (when(zone, r.expires_at)) "). " (tr(lang, "Aucun consentement n'a été enregistré.", "No consent was recorded.")) } },
    )
}

fn decision_word(lang: Language, d: &str) -> &'static str {
    match d {
        "granted" => tr(lang, "accepté", "accepted"),
        _ => tr(lang, "refusé", "refused"),
    }
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
    if r.status != "pending" || r.expires_at <= now {
        return Ok(closed(lang, state.anchoring.schedule(), &r, now, &token));
    }
    let sender = state
        .store
        .tenant(&r.tenant)
        .await?
        .map(|t| t.name)
        .unwrap_or_default();
    let title = match lang {
        Language::Fr => format!("{sender} vous demande votre consentement"),
        Language::En => format!("{sender} asks for your consent"),
    };
    Ok(page(
        lang,
        StatusCode::OK,
        &title,
        html! {
            p { (tr(lang, "Finalité : ", "Purpose: ")) strong { (r.purpose) } }
            h2 { (tr(lang, "Information fournie par l'expéditeur", "Information from the sender")) }
            div.notice { (r.notice_text) }
            @if let Some(u) = &r.notice_url { p { a href=(u) rel="noopener noreferrer" { (tr(lang, "Texte complet de l'information", "Full text of the notice")) } } }
            p { (tr(lang, "Vous pouvez répondre jusqu'au ", "You can answer until ")) (when(state.anchoring.schedule(), r.expires_at)) "." }
            form method="post" {
                div.actions {
                    button.accept type="submit" name="decision" value="granted" { (tr(lang, "J'accepte", "I accept")) }
                    button.refuse type="submit" name="decision" value="refused" { (tr(lang, "Je refuse", "I refuse")) }
                }
            }
            p { (tr(lang, "Votre réponse sera scellée et horodatée ; vous pourrez la retirer à tout moment.", "Your answer will be sealed and timestamped; you can withdraw it at any time.")) }
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
                tr(lang, "Réponse incomprise", "Answer not understood"),
                html! { p { (tr(lang, "Choisissez « J'accepte » ou « Je refuse ». Rien n'a été enregistré.", "Choose \u{201c}I accept\u{201d} or \u{201c}I refuse\u{201d}. Nothing was recorded.")) } },
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
    };
    match state.ledger.record(draft).await {
        Ok(sealed) => {
            let index = sealed.proof.body.log_index;
            tracing::info!(request = %r.id, proof = %proof_id, index, "consent request answered");
            Ok(page(
                lang,
                StatusCode::OK,
                tr(
                    lang,
                    "Merci, votre réponse est enregistrée",
                    "Thank you, your answer is recorded",
                ),
                html! {
                    p { (tr(lang, "Votre réponse : ", "Your answer: ")) strong { (decision_word(lang, decision.as_str())) } "." }
                    p { (tr(lang, "Elle est scellée dans la preuve ", "It is sealed in proof ")) code { (proof_id.as_str()) } " (" (tr(lang, "entrée n° ", "log entry ")) (index) ")." }
                    p { a href={ "/c/" (token) "/proof" } { (tr(lang, "Télécharger la preuve (JSON)", "Download the proof (JSON)")) } }
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
    let Some(pid) = r
        .proof_id
        .filter(|_| r.status == "granted" || r.status == "refused")
    else {
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
