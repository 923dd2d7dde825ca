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

use crate::i18n::{Text, t};
use crate::requests::{MAX_BULK, Refusal, RequestsInput, create_requests};
use crate::route_table::Routes;
use crate::state::AppState;
use crate::web::layout::{
    Lang, Section, WebError, csrf_field, page, parse_lang, status_label, urlencode,
};
use crate::web::proofs::from_problem;
use crate::web::session::{Form, Writer};
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use consentry_core::consent;
use consentry_core::consent::RequestStatus;
use consentry_core::event::ConsentState;
use consentry_core::ids::{NoticeId, RequestId, SubjectId, TenantId};
use consentry_core::merkle::Hash;
use consentry_store::{BookCursor, BookFilter, BookOrder, NoticeRow};
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
    Filter {
        purpose: String,
        status: ConsentState,
    },
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
        status.and_then(ConsentState::parse),
    ) {
        (Some(p), Some(s)) => Ok(Selection::Filter {
            purpose: p.to_owned(),
            status: s,
        }),
        _ => Err(WebError::bad(lang, Text::SelectContactsInThe)),
    }
}

fn too_many(lang: Lang) -> WebError {
    WebError::bad(lang, Text::MoreThan20000)
}

fn filter_of(purpose: &str, status: ConsentState, now: i64) -> BookFilter {
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
        "fr" => t(lang, Text::French2),
        "en" => t(lang, Text::English2),
        _ => t(lang, Text::Other),
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
        .map_err(|_| WebError::bad(lang, Text::UnreadableSelection))?;
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
        Selection::Contacts(_) => Text::SelectedContacts.fill(lang, &[("n", &n)]),
        Selection::Filter { purpose, status } => Text::ContactsWhoseConsentIs.fill(
            lang,
            &[
                ("n", &n),
                ("purpose", purpose),
                ("status", &status_label(lang, status.as_str())),
            ],
        ),
    };
    let body = html! {
        p #request-count { strong { (who) } }
        @if n == 0 {
            p.warn { (t(lang, Text::NoContactsNothingTo)) " " a href="/app/contacts" { (t(lang, Text::AddressBook)) } }
        }
        @if purposes.is_empty() {
            p.warn #no-purpose {
                (t(lang, Text::NoPurposeIsDefined))
                a href="/app/purposes" { (t(lang, Text::PurposesAndNotices)) }
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
                label for="request-ask" { (t(lang, Text::PurposeToAskFor)) }
                select #request-ask name="ask" {
                    @for p in &purposes {
                        option value=(p.name) selected[Some(&p.name) == asked.as_ref()] { (p.name) " — " (p.description) }
                    }
                }
                button type="submit" { (t(lang, Text::ShowItsNotices)) }
            }
        }
        @if let Some(purpose) = &asked {
            form.card #request-form method="post" action="/app/requests" {
                (csrf_field(&staff))
                (hidden_selection(&sel))
                input type="hidden" name="purpose" value=(purpose);
                h2 { (t(lang, Text::NoticeShownToThe)) " — " (purpose) }
                @if notices.is_empty() {
                    p.warn #no-notice {
                        (t(lang, Text::ThisPurposeHasNo))
                        a href="/app/purposes" { (t(lang, Text::WriteItsNotice)) }
                    }
                } @else {
                    fieldset #request-notices {
                        legend { (t(lang, Text::NoticeVersion)) }
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
                    label for="request-language" { (t(lang, Text::LanguageOfTheE)) }
                    select #request-language name="language" aria-describedby="request-language-help" {
                        option value="" selected { (t(lang, Text::TheNoticeS)) }
                        option value="fr" { "français" }
                        option value="en" { "English" }
                    }
                    p.muted #request-language-help { (t(lang, Text::TheEMailAnd)) }
                    label for="request-days" { (t(lang, Text::TimeToAnswerDays)) }
                    input #request-days type="number" name="response_days" min=(consent::RESPONSE_DAYS.start()) max=(consent::RESPONSE_DAYS.end()) value="15" required;
                    label for="request-valid" { (t(lang, Text::ValidityOfAGranted)) }
                    input #request-valid type="number" name="valid_days" min=(consent::VALID_DAYS.start()) max=(consent::VALID_DAYS.end()) value=[purpose_row.and_then(|p| p.valid_days)];
                    @if n > 0 {
                        div { button.primary #request-submit type="submit" {
                            (Text::SendNRequests.fill(lang, &[("n", &n)]))
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
        t(lang, Text::RequestConsentByE),
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
        Some(Refusal::NoSuchContact) => t(lang, Text::NotInThisAddress),
        Some(Refusal::Erased) => t(lang, Text::DataErased2),
        Some(Refusal::AlreadyPending) => t(lang, Text::ARequestForThis),
        None => t(lang, Text::NotAskedTheService),
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
        return Err(WebError::bad(lang, Text::ChooseOneOfThe));
    };
    if form
        .purpose
        .as_deref()
        .is_some_and(|p| !p.is_empty() && p != notice.purpose)
    {
        return Err(WebError::bad(lang, Text::TheNoticeChosenBelongs));
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
            return Err(WebError::bad(lang, Text::TheEMailIs));
        }
        _ => {
            return Err(WebError::bad(lang, Text::TheEMailS));
        }
    };
    let response_days = match form.response_days.trim() {
        "" => 15,
        s => match s.parse::<u32>() {
            Ok(d) if consent::RESPONSE_DAYS.contains(&d) => d,
            _ => {
                return Err(WebError::bad(lang, Text::TheTimeToAnswerIs));
            }
        },
    };
    let valid_days = match form.valid_days.trim() {
        "" => None,
        s => match s.parse::<u32>() {
            Ok(d) if consent::VALID_DAYS.contains(&d) => Some(d),
            _ => {
                return Err(WebError::bad(lang, Text::TheValidityIs1));
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
        return Err(WebError::bad(lang, Text::NoContactMatchesThe));
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
                (t(lang, Text::RequestSCreatedFor))
                (notice.purpose)
                (t(lang, Text::NoticeV))
                (notice.version) ", " (language_name(lang, &notice.language)) "). "
                (t(lang, Text::TheEMailsAre))
            }
            @if !refused.is_empty() {
                p #request-refused-count {
                    (refused.len()) (t(lang, Text::ContactSNotAsked))
                }
                div.table-wrap tabindex="0" {
                    table #request-errors {
                        thead { tr {
                            th scope="col" { (t(lang, Text::Contact2)) }
                            th scope="col" { (t(lang, Text::Reason2)) }
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
                a href={ "/app/contacts?purpose=" (urlencode(&notice.purpose)) } { (t(lang, Text::SeeTheBookFor)) }
            }
        }
    };
    Ok(page(
        &staff,
        Section::Contacts,
        StatusCode::OK,
        t(lang, Text::RequestsSent),
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
    WebError::bad(lang, Text::ThisRequestNoLonger)
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
    if r.status != RequestStatus::Pending || r.expires_at <= now {
        return Err(not_pending(lang));
    }
    let next = crate::mail::link_generation(&state, &r).map_or(1, |g| g + 1);
    if next > crate::mail::MAX_LINK_RENEWALS {
        return Err(WebError::bad(lang, Text::ThisRequestWasResent));
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
