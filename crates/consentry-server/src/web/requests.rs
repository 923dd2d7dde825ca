//! Consent requests from the web application: asking contacts by e-mail (the contacts
//! selected in the address book, or every contact a filter of the book matches), and,
//! for a request waiting for its answer, resending it with a new link or cancelling it.
//!
//! Requests are made by the same function as `POST /v1/consent-requests`, a chunk of at
//! most [`MAX_BULK`] contacts at a time. The notice is one of the purpose's stored
//! versions: its exact text, SHA-256, version and language are what the request stores
//! and what the answer's proof records, so the e-mail is written in the notice's
//! language. Contacts that cannot be asked (unknown, erased, already asked for the
//! purpose) are listed on the result page; the others are asked.

use crate::requests::{MAX_BULK, Refusal, RequestsInput, create_requests};
use crate::route_table::Routes;
use crate::state::AppState;
use crate::web::layout::{
    Lang, Section, WebError, csrf_field, page, parse_lang, status_label, tr, urlencode,
};
use crate::web::proofs::from_problem;
use crate::web::session::{Form, Writer};
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use consentry_core::consent;
use consentry_core::ids::{NoticeId, RequestId, SubjectId, TenantId};
use consentry_core::merkle::Hash;
use consentry_store::{BookCursor, BookFilter, BookOrder, BookStatus, NoticeRow};
use maud::{Markup, html};
use serde::Deserialize;

/// Most contacts one submission asks (in chunks of [`MAX_BULK`]).
pub const MAX_SELECTION: usize = 20_000;

/// This module's routes.
pub fn routes() -> Routes {
    Routes::new()
        .get("/app/requests/new", new_form)
        .post("/app/requests", create)
        .post("/app/requests/{id}/resend", resend)
        .post("/app/requests/{id}/cancel", cancel)
}

/// Who is asked: contacts picked one by one, or a filter of the book.
#[derive(Debug, Clone)]
enum Selection {
    Contacts(Vec<String>),
    Filter { purpose: String, status: BookStatus },
}

/// The query of `GET /app/requests/new`: `contact=…` repeated, or the book's filter
/// `purpose=…&status=…`; `ask=…` names the purpose to ask for.
#[derive(Deserialize, Default)]
struct NewQuery {
    #[serde(default)]
    contact: Vec<String>,
    #[serde(default)]
    purpose: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    ask: Option<String>,
}

fn selection(
    lang: Lang,
    contacts: Vec<String>,
    purpose: Option<&str>,
    status: Option<&str>,
) -> Result<Selection, WebError> {
    let mut seen = std::collections::HashSet::new();
    let contacts: Vec<String> = contacts
        .into_iter()
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty() && seen.insert(c.clone()))
        .collect();
    if contacts.len() > MAX_SELECTION {
        return Err(too_many(lang));
    }
    if !contacts.is_empty() {
        return Ok(Selection::Contacts(contacts));
    }
    match (
        purpose.filter(|p| !p.is_empty()),
        status.and_then(BookStatus::parse),
    ) {
        (Some(p), Some(s)) => Ok(Selection::Filter {
            purpose: p.to_owned(),
            status: s,
        }),
        _ => Err(WebError::bad(
            lang,
            "Select contacts in the address book first (or filter it by a purpose and a status).",
            "Sélectionnez d'abord des contacts dans le carnet d'adresses (ou filtrez-le par finalité et statut).",
        )),
    }
}

fn too_many(lang: Lang) -> WebError {
    WebError::bad(
        lang,
        "More than 20,000 contacts: narrow the filter and ask them in several goes.",
        "Plus de 20 000 contacts : affinez le filtre et demandez en plusieurs fois.",
    )
}

fn filter_of(purpose: &str, status: BookStatus, now: i64) -> BookFilter {
    BookFilter {
        ids: None,
        prefix: None,
        consent: Some((purpose.to_owned(), status)),
        now,
    }
}

/// How many contacts a selection holds now.
async fn count(state: &AppState, tenant: &TenantId, sel: &Selection) -> Result<u64, WebError> {
    Ok(match sel {
        Selection::Contacts(c) => c.len() as u64,
        Selection::Filter { purpose, status } => {
            state
                .store
                .book_count(tenant, &filter_of(purpose, *status, state.clock.now_ms()))
                .await?
        }
    })
}

/// The pseudonyms of a selection, read now (a filter is paged through in order).
async fn resolve(
    state: &AppState,
    lang: Lang,
    tenant: &TenantId,
    sel: &Selection,
) -> Result<Vec<String>, WebError> {
    let (purpose, status) = match sel {
        Selection::Contacts(c) => return Ok(c.clone()),
        Selection::Filter { purpose, status } => (purpose, *status),
    };
    let filter = filter_of(purpose, status, state.clock.now_ms());
    let mut out = Vec::new();
    let mut cursor: Option<BookCursor> = None;
    loop {
        let page = state
            .store
            .book_page(
                tenant,
                &filter,
                BookOrder::OldestFirst,
                cursor.as_ref(),
                1000,
            )
            .await?;
        out.extend(page.rows.iter().map(|r| r.id.to_string()));
        if out.len() > MAX_SELECTION {
            return Err(too_many(lang));
        }
        match page.rows.last() {
            Some(last) if page.has_next => cursor = Some(BookCursor::After(last.id.clone())),
            _ => break,
        }
    }
    Ok(out)
}

fn hidden_selection(sel: &Selection) -> Markup {
    html! {
        @match sel {
            Selection::Contacts(c) => {
                @for id in c { input type="hidden" name="contact" value=(id); }
            }
            Selection::Filter { purpose, status } => {
                input type="hidden" name="filter_purpose" value=(purpose);
                input type="hidden" name="filter_status" value=(status.as_str());
            }
        }
    }
}

fn language_name(lang: Lang, code: &str) -> &'static str {
    match code {
        "fr" => tr(lang, "français", "French"),
        "en" => tr(lang, "anglais", "English"),
        _ => tr(lang, "autre", "other"),
    }
}

/// `GET /app/requests/new`: the request form for the selection.
pub async fn new_form(
    State(state): State<AppState>,
    Writer(staff): Writer,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let lang = staff.lang;
    let q: NewQuery = serde_html_form::from_str(raw.as_deref().unwrap_or(""))
        .map_err(|_| WebError::bad(lang, "unreadable selection", "sélection illisible"))?;
    let sel = selection(lang, q.contact, q.purpose.as_deref(), q.status.as_deref())?;
    let n = count(&state, &staff.tenant, &sel).await?;
    let purposes = state.store.purposes(&staff.tenant).await?;
    let asked = q
        .ask
        .filter(|a| purposes.iter().any(|p| &p.name == a))
        .or_else(|| match &sel {
            Selection::Filter { purpose, .. } if purposes.iter().any(|p| &p.name == purpose) => {
                Some(purpose.clone())
            }
            _ => None,
        })
        .or_else(|| purposes.first().map(|p| p.name.clone()));
    let notices: Vec<NoticeRow> = match &asked {
        Some(p) => state.store.notices(&staff.tenant, Some(p)).await?,
        None => Vec::new(),
    };
    let purpose_row = asked
        .as_ref()
        .and_then(|a| purposes.iter().find(|p| &p.name == a));
    // Preselected: the newest version in the page's language, else the first listed.
    let preselected = notices
        .iter()
        .find(|n| n.language == crate::web::layout::code(lang))
        .or(notices.first())
        .map(|n| n.id.clone());
    let who = match &sel {
        Selection::Contacts(_) => match lang {
            Lang::Fr => format!("{n} contact(s) sélectionné(s)"),
            Lang::En => format!("{n} selected contact(s)"),
        },
        Selection::Filter { purpose, status } => match lang {
            Lang::Fr => format!(
                "{n} contact(s) dont le consentement pour « {purpose} » est : {}",
                status_label(lang, status.as_str())
            ),
            Lang::En => format!(
                "{n} contact(s) whose consent for \u{201c}{purpose}\u{201d} is: {}",
                status_label(lang, status.as_str())
            ),
        },
    };
    let body = html! {
        p #request-count { strong { (who) } }
        @if n == 0 {
            p.warn { (tr(lang, "Aucun contact : rien à demander.", "No contacts: nothing to ask.")) " " a href="/app/contacts" { (tr(lang, "Carnet d'adresses", "Address book")) } }
        }
        @if purposes.is_empty() {
            p.warn #no-purpose {
                (tr(lang, "Aucune finalité n'est définie. Écrivez d'abord une finalité et sa notice : ", "No purpose is defined. First write a purpose and its notice: "))
                a href="/app/purposes" { (tr(lang, "Finalités et notices", "Purposes and notices")) }
            }
        } @else {
            form.card.filters #request-purpose method="get" action="/app/requests/new" {
                @match &sel {
                    Selection::Contacts(c) => { @for id in c { input type="hidden" name="contact" value=(id); } }
                    Selection::Filter { purpose, status } => {
                        input type="hidden" name="purpose" value=(purpose);
                        input type="hidden" name="status" value=(status.as_str());
                    }
                }
                label for="request-ask" { (tr(lang, "Finalité demandée", "Purpose to ask for")) }
                select #request-ask name="ask" {
                    @for p in &purposes {
                        option value=(p.name) selected[Some(&p.name) == asked.as_ref()] { (p.name) " — " (p.description) }
                    }
                }
                button type="submit" { (tr(lang, "Voir ses notices", "Show its notices")) }
            }
        }
        @if let Some(purpose) = &asked {
            form.card #request-form method="post" action="/app/requests" {
                (csrf_field(&staff))
                (hidden_selection(&sel))
                input type="hidden" name="purpose" value=(purpose);
                h2 { (tr(lang, "Notice montrée à la personne", "Notice shown to the person")) " — " (purpose) }
                @if notices.is_empty() {
                    p.warn #no-notice {
                        (tr(lang, "Cette finalité n'a pas encore de notice. ", "This purpose has no notice yet. "))
                        a href="/app/purposes" { (tr(lang, "Écrire sa notice", "Write its notice")) }
                    }
                } @else {
                    fieldset #request-notices {
                        legend { (tr(lang, "Version de la notice", "Notice version")) }
                        @for nt in &notices {
                            div.notice-choice {
                                label {
                                    input type="radio" name="notice" value=(nt.id.as_str()) checked[Some(&nt.id) == preselected.as_ref()] required;
                                    " v" (nt.version) " — " (language_name(lang, &nt.language))
                                    " · SHA-256 " code { (nt.sha256.get(..12).unwrap_or(&nt.sha256)) "…" }
                                }
                                div.notice-text lang=(nt.language) { (nt.body) }
                            }
                        }
                    }
                    label for="request-language" { (tr(lang, "Langue de l'e-mail", "Language of the e-mail")) }
                    select #request-language name="language" aria-describedby="request-language-help" {
                        option value="" selected { (tr(lang, "celle de la notice", "the notice's")) }
                        option value="fr" { "français" }
                        option value="en" { "English" }
                    }
                    p.muted #request-language-help { (tr(lang, "L'e-mail et la page de réponse sont dans la langue de la notice, que la preuve enregistre.", "The e-mail and the answer page are in the notice's language, which the proof records.")) }
                    label for="request-days" { (tr(lang, "Délai de réponse (jours, 3 à 30)", "Time to answer (days, 3 to 30)")) }
                    input #request-days type="number" name="response_days" min=(consent::RESPONSE_DAYS.start()) max=(consent::RESPONSE_DAYS.end()) value="15" required;
                    label for="request-valid" { (tr(lang, "Validité d'un consentement accordé (jours)", "Validity of a granted consent (days)")) }
                    input #request-valid type="number" name="valid_days" min=(consent::VALID_DAYS.start()) max=(consent::VALID_DAYS.end()) value=[purpose_row.and_then(|p| p.valid_days)];
                    @if n > 0 {
                        div { button.primary #request-submit type="submit" {
                            (match lang { Lang::Fr => format!("Envoyer {n} demande(s)"), Lang::En => format!("Send {n} request(s)") })
                        } }
                    }
                }
            }
        }
    };
    Ok(page(
        &staff,
        Section::Contacts,
        StatusCode::OK,
        tr(
            lang,
            "Demander un consentement par e-mail",
            "Request consent by e-mail",
        ),
        body,
    ))
}

/// The request form.
#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    contact: Vec<String>,
    #[serde(default)]
    filter_purpose: Option<String>,
    #[serde(default)]
    filter_status: Option<String>,
    #[serde(default)]
    purpose: Option<String>,
    #[serde(default)]
    notice: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    response_days: String,
    #[serde(default)]
    valid_days: String,
}

fn refusal_label(lang: Lang, r: Option<Refusal>) -> &'static str {
    match r {
        Some(Refusal::NoSuchContact) => tr(
            lang,
            "pas dans ce carnet d'adresses",
            "not in this address book",
        ),
        Some(Refusal::Erased) => tr(lang, "données effacées", "data erased"),
        Some(Refusal::AlreadyPending) => tr(
            lang,
            "une demande pour cette finalité attend déjà sa réponse",
            "a request for this purpose already waits for its answer",
        ),
        None => tr(
            lang,
            "non demandé : le service a échoué ; réessayez pour ce contact",
            "not asked: the service failed; try again for this contact",
        ),
    }
}

/// `POST /app/requests`: asks every contact of the selection, in chunks.
pub async fn create(
    State(state): State<AppState>,
    Writer(staff): Writer,
    Form(form): Form<CreateForm>,
) -> Result<Response, WebError> {
    let lang = staff.lang;
    let notice = match NoticeId::parse(form.notice.trim()) {
        Ok(id) => state.store.notice(&staff.tenant, &id).await?,
        Err(_) => None,
    };
    let Some(notice) = notice else {
        return Err(WebError::bad(
            lang,
            "Choose one of the purpose's notices.",
            "Choisissez l'une des notices de la finalité.",
        ));
    };
    if form
        .purpose
        .as_deref()
        .is_some_and(|p| !p.is_empty() && p != notice.purpose)
    {
        return Err(WebError::bad(
            lang,
            "The notice chosen belongs to another purpose: choose the purpose again.",
            "La notice choisie est celle d'une autre finalité : choisissez de nouveau la finalité.",
        ));
    }
    if Hash::digest(notice.body.as_bytes()).to_hex() != notice.sha256 {
        return Err(WebError::Unavailable(format!(
            "notice {} does not match its stored SHA-256",
            notice.id
        )));
    }
    let language = match form.language.trim() {
        "" => notice.language.clone(),
        l if parse_lang(l).is_some() && l == notice.language => l.to_owned(),
        l if parse_lang(l).is_some() => {
            return Err(WebError::bad(
                lang,
                "The e-mail is written in the notice's language, which the proof records: choose a notice in that language, or \u{201c}the notice's\u{201d} language.",
                "L'e-mail est écrit dans la langue de la notice, que la preuve enregistre : choisissez une notice dans cette langue, ou « celle de la notice ».",
            ));
        }
        _ => {
            return Err(WebError::bad(
                lang,
                "The e-mail's language is French or English.",
                "La langue de l'e-mail est le français ou l'anglais.",
            ));
        }
    };
    let response_days = match form.response_days.trim() {
        "" => 15,
        s => match s.parse::<u32>() {
            Ok(d) if consent::RESPONSE_DAYS.contains(&d) => d,
            _ => {
                return Err(WebError::bad(
                    lang,
                    "The time to answer is 3 to 30 days.",
                    "Le délai de réponse est de 3 à 30 jours.",
                ));
            }
        },
    };
    let valid_days = match form.valid_days.trim() {
        "" => None,
        s => match s.parse::<u32>() {
            Ok(d) if consent::VALID_DAYS.contains(&d) => Some(d),
            _ => {
                return Err(WebError::bad(
                    lang,
                    "The validity is 1 to 3650 days, or empty for none.",
                    "La validité est de 1 à 3650 jours, ou vide pour aucune.",
                ));
            }
        },
    };
    let sel = selection(
        lang,
        form.contact,
        form.filter_purpose.as_deref(),
        form.filter_status.as_deref(),
    )?;
    let contacts = resolve(&state, lang, &staff.tenant, &sel).await?;
    if contacts.is_empty() {
        return Err(WebError::bad(
            lang,
            "No contact matches the selection any more: nothing was sent.",
            "Plus aucun contact ne correspond à la sélection : rien n'a été envoyé.",
        ));
    }
    let mut created = 0usize;
    let mut refused: Vec<(String, Option<Refusal>)> = Vec::new();
    let chunks: Vec<&[String]> = contacts.chunks(MAX_BULK).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let input = RequestsInput {
            contacts: chunk.to_vec(),
            purpose: notice.purpose.clone(),
            notice_text: notice.body.clone(),
            notice_version: Some(notice.version.to_string()),
            notice_url: None,
            response_days,
            valid_days,
            language: language.clone(),
            skip_pending: true,
        };
        match create_requests(&state, &staff.tenant, &input).await {
            Ok(out) => {
                created += out.created.len();
                refused.extend(out.refused.into_iter().map(|(c, r)| (c, Some(r))));
            }
            Err(p) if i == 0 => return Err(from_problem(lang, &p)),
            Err(_) => {
                // Earlier chunks are stored and their e-mails queued: say who was not asked.
                for rest in &chunks[i..] {
                    refused.extend(rest.iter().map(|c| (c.clone(), None)));
                }
                break;
            }
        }
    }
    tracing::info!(user = %staff.user, created, refused = refused.len(), purpose = %notice.purpose, "consent requests from the web application");
    let body = html! {
        section.card #request-result role="status" {
            p #request-created {
                strong { (created) }
                (tr(lang, " demande(s) créée(s) pour « ", " request(s) created for \u{201c}"))
                (notice.purpose)
                (tr(lang, " » (notice v", "\u{201d} (notice v"))
                (notice.version) ", " (language_name(lang, &notice.language)) "). "
                (tr(lang, "Les e-mails partent maintenant.", "The e-mails are on their way."))
            }
            @if !refused.is_empty() {
                p #request-refused-count {
                    (refused.len()) (tr(lang, " contact(s) non demandé(s) :", " contact(s) not asked:"))
                }
                div.table-wrap {
                    table #request-errors {
                        thead { tr {
                            th scope="col" { (tr(lang, "Contact", "Contact")) }
                            th scope="col" { (tr(lang, "Raison", "Reason")) }
                        } }
                        tbody {
                            @for (c, r) in &refused {
                                tr {
                                    td { @if SubjectId::parse(c).is_ok() { a href={ "/app/contacts/" (urlencode(c)) } { code { (c) } } } @else { code { (c) } } }
                                    td { (refusal_label(lang, *r)) }
                                }
                            }
                        }
                    }
                }
            }
            p {
                a href={ "/app/contacts?purpose=" (urlencode(&notice.purpose)) } { (tr(lang, "Voir le carnet pour cette finalité", "See the book for this purpose")) }
            }
        }
    };
    Ok(page(
        &staff,
        Section::Contacts,
        StatusCode::OK,
        tr(lang, "Demandes envoyées", "Requests sent"),
        body,
    ))
}

/// A form with nothing but its token.
#[derive(Deserialize)]
pub struct Confirm {}

async fn own_request(
    state: &AppState,
    lang: Lang,
    tenant: &TenantId,
    id: &str,
) -> Result<consentry_store::RequestRow, WebError> {
    let id = RequestId::parse(id).map_err(|_| WebError::NotFound(lang))?;
    state
        .store
        .request(tenant, &id)
        .await?
        .ok_or(WebError::NotFound(lang))
}

fn not_pending(lang: Lang) -> WebError {
    WebError::bad(
        lang,
        "This request no longer waits for an answer (answered, expired or cancelled): nothing was changed.",
        "Cette demande n'attend plus de réponse (répondue, expirée ou annulée) : rien n'a été modifié.",
    )
}

/// `POST /app/requests/{id}/resend`: a new link for a pending request, e-mailed again;
/// the previous link stops working.
pub async fn resend(
    State(state): State<AppState>,
    Writer(staff): Writer,
    Path(id): Path<String>,
    Form(_): Form<Confirm>,
) -> Result<Response, WebError> {
    let lang = staff.lang;
    let r = own_request(&state, lang, &staff.tenant, &id).await?;
    let now = state.clock.now_ms();
    if r.status != "pending" || r.expires_at <= now {
        return Err(not_pending(lang));
    }
    let next = crate::mail::link_generation(&state, &r).map_or(1, |g| g + 1);
    if next > crate::mail::MAX_LINK_RENEWALS {
        return Err(WebError::bad(
            lang,
            "This request was resent too many times: cancel it and send a new one.",
            "Cette demande a été renvoyée trop de fois : annulez-la et envoyez-en une nouvelle.",
        ));
    }
    let (_, hash) = crate::mail::request_token_at(&state, r.id.as_str(), next);
    let Some(done) = state
        .store
        .resend_request(&staff.tenant, &r.id, &hash, now)
        .await?
    else {
        return Err(not_pending(lang));
    };
    state.mail_wake.notify_one();
    tracing::info!(request = %done.id, user = %staff.user, "consent request resent with a new link");
    Ok(Redirect::to(&format!(
        "/app/contacts/{}?resent={}#request-{}",
        done.subject.as_str(),
        done.id.as_str(),
        done.id.as_str()
    ))
    .into_response())
}

/// `POST /app/requests/{id}/cancel`: the request takes no answer any more, and the
/// contact's status for its purpose returns to what it was before it.
pub async fn cancel(
    State(state): State<AppState>,
    Writer(staff): Writer,
    Path(id): Path<String>,
    Form(_): Form<Confirm>,
) -> Result<Response, WebError> {
    let lang = staff.lang;
    let r = own_request(&state, lang, &staff.tenant, &id).await?;
    let now = state.clock.now_ms();
    let Some(done) = state
        .store
        .cancel_request(&staff.tenant, &r.id, now)
        .await?
    else {
        return Err(not_pending(lang));
    };
    tracing::info!(request = %done.id, user = %staff.user, "consent request cancelled");
    Ok(Redirect::to(&format!(
        "/app/contacts/{}?cancelled={}#request-{}",
        done.subject.as_str(),
        done.id.as_str(),
        done.id.as_str()
    ))
    .into_response())
}
