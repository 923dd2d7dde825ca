//! Consent requests from the web application: asking contacts by e-mail (the contacts
//! selected in the address book, or every contact a filter of the book matches), and,
//! for a request waiting for its answer, resending it with a new link or cancelling it
//! (after a confirmation).
//!
//! Asking goes in three steps, each a page that works without script:
//! 1. the form (`GET /app/requests/new`): the purpose and its notice in ONE form, so a
//!    request cannot go out for a purpose other than the one chosen. Changing the purpose
//!    reloads its notices (`requests.js` fetches the form for the new purpose and swaps
//!    the block); without script, the server refuses a notice of another purpose and
//!    shows the form again for the purpose chosen. Only the current version per language
//!    is offered; older ones are folded in a `<details>`.
//! 2. the preview (`POST /app/requests/preview`): the e-mail as the mail loop renders it
//!    ([`crate::mail::render`]), a link to the answer page as the recipient will see it
//!    (rendered by [`crate::answer_page`]), who is asked and who is skipped with why.
//!    Nothing is written.
//! 3. the sending (`POST /app/requests`): the list is read again and must be the one
//!    previewed (its fingerprint), else the preview is shown again with what changed;
//!    then a redirect to the batch's result page (`GET /app/requests/batch/{id}`), which
//!    a reload shows again. `GET /app/requests` lists the latest sendings.
//!
//! Requests are made by the same function as `POST /v1/consent-requests`, a chunk of at
//! most [`MAX_BULK`] contacts at a time. The notice is one of the purpose's stored
//! versions: its exact text, SHA-256, version and language are what the request stores
//! and what the answer's proof records, so the e-mail is written in the notice's
//! language.

use crate::i18n::{Text, t};
use crate::mail::MailContent;
use crate::requests::{MAX_BULK, Plan, Refusal, RequestsInput, create_requests, plan_requests};
use crate::route_table::Routes;
use crate::state::AppState;
use crate::web::layout::{
    Lang, Section, WebError, csrf_field, local_time, page, page_with_script, parse_lang,
    status_badge, status_label, urlencode,
};
use crate::web::proofs::from_problem;
use crate::web::session::{Form, Staff, Writer};
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use consentry_core::consent;
use consentry_core::consent::RequestStatus;
use consentry_core::event::ConsentState;
use consentry_core::ids::{NoticeId, RequestId, SubjectId, TenantId};
use consentry_core::merkle::Hash;
use consentry_store::{
    BatchId, BatchRow, BookCursor, BookFilter, BookOrder, NoticeRow, PurposeRow, Skipped,
};
use maud::{Markup, html};
use serde::Deserialize;

/// Most contacts one submission asks (in chunks of [`MAX_BULK`]).
pub const MAX_SELECTION: usize = 20_000;

/// This module's routes.
pub fn routes() -> Routes {
    Routes::new()
        .get("/app/requests", list)
        .get("/app/requests/new", new_form)
        .post("/app/requests/preview", preview)
        .get("/app/requests/preview/answer", preview_answer)
        .post("/app/requests", create)
        .get("/app/requests/batch/{id}", batch)
        .post("/app/requests/{id}/resend", resend)
        .get("/app/requests/{id}/cancel", cancel_page)
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

/// How a recipient is named on the request pages (preview, result): the one place to
/// change when contacts get a sender's reference to show beside their pseudonym.
pub fn recipient_label(contact: &str) -> Markup {
    html! {
        @if SubjectId::parse(contact).is_ok() {
            a href={ "/app/contacts/" (urlencode(contact)) } { code { (contact) } }
        } @else {
            code { (contact) }
        }
    }
}

/// The query string that names a selection, as `/app/requests/new` takes it.
fn selection_query(sel: &Selection) -> String {
    match sel {
        Selection::Contacts(c) => c
            .iter()
            .map(|id| format!("contact={}", urlencode(id)))
            .collect::<Vec<_>>()
            .join("&"),
        Selection::Filter { purpose, status } => format!(
            "purpose={}&status={}",
            urlencode(purpose),
            urlencode(status.as_str())
        ),
    }
}

/// What a form gave besides the selection and the notice, shown again when the form is.
#[derive(Default)]
struct Prefill {
    language: String,
    response_days: String,
    valid_days: Option<String>,
}

/// The part of the request form that depends on the purpose: its notices (the current
/// version per language; older ones folded away) and the validity it suggests. The
/// script swaps this block when the purpose changes (it fetches the form for the new
/// purpose and takes this block from it).
fn terms_block(
    lang: Lang,
    purpose: &PurposeRow,
    notices: &[NoticeRow],
    chosen: Option<&NoticeId>,
    valid_days: Option<&str>,
) -> Markup {
    // Notices come newest first per language: the first of each language is current.
    let mut current: Vec<&NoticeRow> = Vec::new();
    let mut older: Vec<&NoticeRow> = Vec::new();
    for n in notices {
        if current.iter().any(|c| c.language == n.language) {
            older.push(n);
        } else {
            current.push(n);
        }
    }
    // Preselected: the one chosen, else the current version in the page's language, else
    // the first current one.
    let preselected = chosen
        .filter(|c| notices.iter().any(|n| &n.id == *c))
        .cloned()
        .or_else(|| {
            current
                .iter()
                .find(|n| n.language == crate::web::layout::code(lang))
                .or(current.first())
                .map(|n| n.id.clone())
        });
    let choice = |nt: &NoticeRow| {
        html! {
            div.notice-choice {
                label {
                    input type="radio" name="notice" value=(nt.id.as_str()) checked[Some(&nt.id) == preselected.as_ref()] required;
                    " v" (nt.version) " — " (language_name(lang, &nt.language))
                    " · SHA-256 " code { (nt.sha256.get(..12).unwrap_or(&nt.sha256)) "…" }
                }
                div.notice-text lang=(nt.language) { (nt.body) }
            }
        }
    };
    let default_valid = purpose.valid_days.map(|d| d.to_string());
    let valid = valid_days
        .map(str::to_owned)
        .or(default_valid)
        .unwrap_or_default();
    html! {
        div #request-terms data-purpose=(purpose.name) aria-live="polite" {
            h2 { (t(lang, Text::NoticeShownToThe)) " — " (purpose.name) }
            @if notices.is_empty() {
                p.warn #no-notice {
                    (t(lang, Text::ThisPurposeHasNo))
                    a href="/app/purposes" { (t(lang, Text::WriteItsNotice)) }
                }
            } @else {
                fieldset #request-notices {
                    legend { (t(lang, Text::NoticeVersion)) }
                    @for nt in &current { (choice(nt)) }
                    @if !older.is_empty() {
                        details #request-older-notices open[older.iter().any(|n| Some(&n.id) == preselected.as_ref())] {
                            summary { (Text::EarlierVersionsOfThe.fill(lang, &[("n", &older.len())])) }
                            @for nt in &older { (choice(nt)) }
                        }
                    }
                }
            }
            label for="request-valid" { (t(lang, Text::ValidityOfAGranted)) }
            input #request-valid type="number" name="valid_days" min=(consent::VALID_DAYS.start()) max=(consent::VALID_DAYS.end()) value=(valid);
        }
    }
}

/// The request form for `sel`, asking for `asked` (else the first purpose), with
/// `error` shown above it (then answered 400).
async fn form_page(
    state: &AppState,
    staff: &Staff,
    sel: &Selection,
    asked: Option<String>,
    chosen: Option<&NoticeId>,
    prefill: &Prefill,
    error: Option<String>,
) -> Result<Response, WebError> {
    let lang = staff.lang;
    let n = count(state, &staff.tenant, sel).await?;
    let purposes = state.store.purposes(&staff.tenant).await?;
    let asked = asked
        .filter(|a| purposes.iter().any(|p| &p.name == a))
        .or_else(|| match sel {
            Selection::Filter { purpose, .. } if purposes.iter().any(|p| &p.name == purpose) => {
                Some(purpose.clone())
            }
            _ => None,
        })
        .or_else(|| purposes.first().map(|p| p.name.clone()));
    let purpose_row = asked
        .as_ref()
        .and_then(|a| purposes.iter().find(|p| &p.name == a));
    let notices: Vec<NoticeRow> = match &asked {
        Some(p) => state.store.notices(&staff.tenant, Some(p)).await?,
        None => Vec::new(),
    };
    let who = match sel {
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
    let days = match prefill.response_days.trim() {
        "" => "15",
        d => d,
    };
    let body = html! {
        @if let Some(e) = &error { p.error #request-error role="alert" { (e) } }
        p #request-count { strong { (who) } }
        @if n == 0 {
            p.warn { (t(lang, Text::NoContactsNothingTo)) " " a href="/app/contacts" { (t(lang, Text::AddressBook)) } }
        }
        @if purposes.is_empty() {
            p.warn #no-purpose {
                (t(lang, Text::NoPurposeIsDefined))
                a href="/app/purposes" { (t(lang, Text::PurposesAndNotices)) }
            }
        }
        @if let Some(purpose) = purpose_row {
            form.card #request-form method="post" action="/app/requests/preview"
                data-terms-url={ "/app/requests/new?" (selection_query(sel)) } {
                (csrf_field(staff))
                (hidden_selection(sel))
                label for="request-ask" { (t(lang, Text::PurposeToAskFor)) }
                select #request-ask name="purpose" aria-describedby="request-ask-help" {
                    @for p in &purposes {
                        option value=(p.name) selected[p.name == purpose.name] { (p.name) " — " (p.description) }
                    }
                }
                p.muted #request-ask-help { (t(lang, Text::TheNoticesBelowAre)) }
                (terms_block(lang, purpose, &notices, chosen, prefill.valid_days.as_deref()))
                label for="request-language" { (t(lang, Text::LanguageOfTheE)) }
                select #request-language name="language" aria-describedby="request-language-help" {
                    option value="" selected[prefill.language.is_empty()] { (t(lang, Text::TheNoticeS)) }
                    option value="fr" selected[prefill.language == "fr"] { "français" }
                    option value="en" selected[prefill.language == "en"] { "English" }
                }
                p.muted #request-language-help { (t(lang, Text::TheEMailAnd)) }
                label for="request-days" { (t(lang, Text::TimeToAnswerDays)) }
                input #request-days type="number" name="response_days" min=(consent::RESPONSE_DAYS.start()) max=(consent::RESPONSE_DAYS.end()) value=(days) required;
                @if n > 0 {
                    div { button.primary #request-submit type="submit" {
                        (t(lang, Text::PreviewBeforeSending))
                    } }
                }
            }
        }
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok(page_with_script(
        staff,
        Section::Contacts,
        status,
        t(lang, Text::RequestConsentByE),
        body,
        REQUESTS_SCRIPT,
    ))
}

/// `GET /app/requests/new`: the request form for the selection — the purpose, its
/// notices, the terms — in one form, which leads to the preview.
pub async fn new_form(
    State(state): State<AppState>,
    Writer(staff): Writer,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let lang = staff.lang;
    let q: NewQuery = serde_html_form::from_str(raw.as_deref().unwrap_or(""))
        .map_err(|_| WebError::bad(lang, Text::UnreadableSelection))?;
    let sel = selection(lang, q.contact, q.purpose.as_deref(), q.status.as_deref())?;
    form_page(&state, &staff, &sel, q.ask, None, &Prefill::default(), None).await
}

/// The request form, as the form page posts it to the preview and the preview to the
/// sending.
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
    /// From the preview: the fingerprint of the recipients it listed.
    #[serde(default)]
    expected: Option<String>,
    /// From the preview: how many recipients it listed.
    #[serde(default)]
    expected_count: Option<usize>,
}

impl CreateForm {
    fn prefill(&self) -> Prefill {
        Prefill {
            language: self.language.trim().to_owned(),
            response_days: self.response_days.trim().to_owned(),
            valid_days: None,
        }
    }
}

/// A request's terms, checked.
struct Terms {
    notice: NoticeRow,
    language: String,
    response_days: u32,
    valid_days: Option<u32>,
    /// What the recipient is told of the sender and the purpose, in the request's
    /// language.
    told: crate::sender::Told,
}

/// Why a form's terms are refused: the form is shown again for `purpose`, with `message`.
struct Refused {
    purpose: Option<String>,
    notice: Option<NoticeId>,
    message: String,
}

/// Checks a form's terms: a notice of the tenant's that belongs to the purpose chosen in
/// the same form (a notice of another purpose is refused: the request would go out for
/// the wrong purpose), its stored hash, the language, the windows.
async fn terms(
    state: &AppState,
    lang: Lang,
    tenant: &TenantId,
    form: &CreateForm,
) -> Result<Result<Terms, Refused>, WebError> {
    let purpose = form
        .purpose
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned);
    let refuse = |notice: Option<NoticeId>, message: String| {
        Ok(Err(Refused {
            purpose: purpose.clone(),
            notice,
            message,
        }))
    };
    let notice = match NoticeId::parse(form.notice.trim()) {
        Ok(id) => state.store.notice(tenant, &id).await?,
        Err(_) => None,
    };
    let Some(notice) = notice else {
        return refuse(None, t(lang, Text::ChooseOneOfThe).to_owned());
    };
    match &purpose {
        Some(p) if *p != notice.purpose => {
            return refuse(
                None,
                Text::TheNoticeChosenIs.fill(lang, &[("chosen", &notice.purpose), ("purpose", p)]),
            );
        }
        // A form that names no purpose (a client of its own) asks for the notice's.
        _ => {}
    }
    if Hash::digest(notice.body.as_bytes()).to_hex() != notice.sha256 {
        return Err(WebError::Unavailable(format!(
            "notice {} does not match its stored SHA-256",
            notice.id
        )));
    }
    let id = Some(notice.id.clone());
    let language = match form.language.trim() {
        "" => notice.language.clone(),
        l if parse_lang(l).is_some() && l == notice.language => l.to_owned(),
        l if parse_lang(l).is_some() => return refuse(id, t(lang, Text::TheEMailIs).to_owned()),
        _ => return refuse(id, t(lang, Text::TheEMailS).to_owned()),
    };
    let response_days = match form.response_days.trim() {
        "" => 15,
        s => match s.parse::<u32>() {
            Ok(d) if consent::RESPONSE_DAYS.contains(&d) => d,
            _ => return refuse(id, t(lang, Text::TheTimeToAnswerIs).to_owned()),
        },
    };
    let valid_days = match form.valid_days.trim() {
        "" => None,
        s => match s.parse::<u32>() {
            Ok(d) if consent::VALID_DAYS.contains(&d) => Some(d),
            _ => return refuse(id, t(lang, Text::TheValidityIs1).to_owned()),
        },
    };
    let told = crate::sender::Told::load(&state.store, tenant, &notice.purpose, &language).await?;
    Ok(Ok(Terms {
        notice,
        language,
        response_days,
        valid_days,
        told,
    }))
}

/// The form shown again after `refused`.
async fn refused_form(
    state: &AppState,
    staff: &Staff,
    sel: &Selection,
    form: &CreateForm,
    refused: Refused,
) -> Result<Response, WebError> {
    form_page(
        state,
        staff,
        sel,
        refused.purpose,
        refused.notice.as_ref(),
        &form.prefill(),
        Some(refused.message),
    )
    .await
}

fn form_selection(lang: Lang, form: &CreateForm) -> Result<Selection, WebError> {
    selection(
        lang,
        form.contact.clone(),
        form.filter_purpose.as_deref(),
        form.filter_status.as_deref(),
    )
}

/// A fingerprint of a list of recipients: the preview puts it in its form, and the
/// sending refuses to ask a list that is not the one previewed.
fn fingerprint(asked: &[(String, SubjectId)]) -> String {
    let mut ids: Vec<&str> = asked.iter().map(|(_, id)| id.as_str()).collect();
    ids.sort_unstable();
    Hash::digest(ids.join("\n").as_bytes()).to_hex()
}

/// Who a request with `terms` asks among `contacts`, read now.
async fn plan_for(
    state: &AppState,
    lang: Lang,
    tenant: &TenantId,
    purpose: &str,
    contacts: &[String],
) -> Result<Plan, WebError> {
    plan_requests(state, tenant, purpose, contacts, true, true)
        .await
        .map_err(|p| from_problem(lang, &p))
}

/// The script that reloads the notices when the purpose changes.
const REQUESTS_SCRIPT: &str = "/app/static/requests.js";

/// Most recipients the preview lists one by one (all are asked).
const PREVIEW_LIST: usize = 500;

const DAY_MS: i64 = 86_400_000;

/// The preview: the e-mail and the answer page as a recipient gets them, who is asked and
/// who is not (with why), and the form that sends exactly that.
fn preview_page(
    state: &AppState,
    staff: &Staff,
    sel: &Selection,
    terms: &Terms,
    plan: &Plan,
    changed: Option<String>,
) -> Response {
    let lang = staff.lang;
    let now = state.clock.now_ms();
    let expires_at = now + i64::from(terms.response_days) * DAY_MS;
    let mail_lang = parse_lang(&terms.language).unwrap_or(lang);
    let link = format!(
        "{}/c/{}",
        state.config.public_url.trim_end_matches('/'),
        t(mail_lang, Text::EachRecipientSPersonal)
    );
    let (subject, mail_body) = crate::mail::render(
        state,
        &MailContent {
            language: &terms.language,
            sender: &staff.tenant_name,
            contact: terms.told.contact.as_ref(),
            purpose: &terms.told.purpose,
            // The recipient's own name is filled in at sending; the preview shows the
            // greeting without one.
            name: None,
            notice_text: &terms.notice.body,
            valid_days: terms.valid_days,
            expires_at,
        },
        &link,
    );
    let answer_url = format!(
        "/app/requests/preview/answer?notice={}&response_days={}{}",
        urlencode(terms.notice.id.as_str()),
        terms.response_days,
        terms
            .valid_days
            .map(|d| format!("&valid_days={d}"))
            .unwrap_or_default()
    );
    let n = plan.asked.len();
    let body = html! {
        @if let Some(c) = &changed { p.error #preview-changed role="alert" { (c) } }
        p.notice #preview-intro { (t(lang, Text::CheckBeforeSendingNothing)) }
        p #preview-terms {
            (Text::RequestForPurposeNotice.fill(lang, &[
                ("purpose", &terms.notice.purpose),
                ("version", &terms.notice.version),
                ("language", &language_name(lang, &terms.language)),
                ("days", &terms.response_days),
            ]))
        }
        section.card #preview-mail {
            h2 { (t(lang, Text::TheEMailAsEach)) }
            p { strong { (t(lang, Text::Subject)) } " " span #preview-subject { (subject) } }
            pre.mail-body #preview-body lang=(terms.language) { (mail_body) }
        }
        section.card #preview-page {
            h2 { (t(lang, Text::TheAnswerPage)) }
            p { a #preview-answer-link href=(answer_url) target="_blank" rel="noopener" { (t(lang, Text::OpenTheAnswerPage)) } }
        }
        section.card #preview-recipients {
            h2 { (Text::RecipientsN.fill(lang, &[("n", &n)])) }
            @if plan.asked.is_empty() {
                p.warn #preview-nobody { (t(lang, Text::NobodyToAskNone)) }
            } @else {
                ul.recipients {
                    @for (raw, _) in plan.asked.iter().take(PREVIEW_LIST) { li { (recipient_label(raw)) } }
                }
                @if n > PREVIEW_LIST {
                    p.muted { (Text::AndNMore.fill(lang, &[("n", &(n - PREVIEW_LIST))])) }
                }
            }
        }
        @if !plan.refused.is_empty() {
            section.card #preview-skipped {
                h2 { (Text::NotAskedN.fill(lang, &[("n", &plan.refused.len())])) }
                (skipped_table(lang, plan.refused.iter().map(|(c, r)| (c.as_str(), r.code(), false))))
            }
        }
        @if n > 0 {
            form.card #send-form method="post" action="/app/requests" {
                (csrf_field(staff))
                (hidden_selection(sel))
                input type="hidden" name="purpose" value=(terms.notice.purpose);
                input type="hidden" name="notice" value=(terms.notice.id.as_str());
                input type="hidden" name="language" value=(terms.language);
                input type="hidden" name="response_days" value=(terms.response_days);
                input type="hidden" name="valid_days" value=[terms.valid_days];
                input type="hidden" name="expected" value=(fingerprint(&plan.asked));
                input type="hidden" name="expected_count" value=(n);
                button.primary #request-send type="submit" { (Text::SendNRequests.fill(lang, &[("n", &n)])) }
            }
        }
        p { a #preview-back href={ "/app/requests/new?" (selection_query(sel)) "&ask=" (urlencode(&terms.notice.purpose)) } { (t(lang, Text::ChangeTheRequest)) } }
    };
    page(
        staff,
        Section::Contacts,
        if changed.is_some() {
            StatusCode::CONFLICT
        } else {
            StatusCode::OK
        },
        t(lang, Text::PreviewBeforeSending),
        body,
    )
}

/// The table of contacts not asked: who, why, and whether it changed since the preview.
fn skipped_table<'a>(lang: Lang, rows: impl Iterator<Item = (&'a str, &'a str, bool)>) -> Markup {
    html! {
        div.table-wrap tabindex="0" {
            table #request-errors {
                thead { tr {
                    th scope="col" { (t(lang, Text::Contact2)) }
                    th scope="col" { (t(lang, Text::Reason2)) }
                } }
                tbody {
                    @for (c, code, changed) in rows {
                        tr {
                            td { (recipient_label(c)) }
                            td data-reason=(code) {
                                (reason_label(lang, code))
                                @if changed { " " em { (t(lang, Text::ChangedSinceThePreview)) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// What a skipped contact's reason code says (the codes of [`Refusal::code`], and
/// [`FAILED`]).
fn reason_label(lang: Lang, code: &str) -> &'static str {
    match Refusal::from_code(code) {
        Some(Refusal::NoSuchContact) => t(lang, Text::NotInThisAddress),
        Some(Refusal::Erased) => t(lang, Text::DataErased2),
        Some(Refusal::AlreadyPending) => t(lang, Text::ARequestForThis),
        Some(Refusal::AlreadyGranted) => t(lang, Text::ConsentAlreadyGrantedFor),
        None => t(lang, Text::NotAskedTheService),
    }
}

/// The reason code of a contact not asked because the service failed on its chunk.
const FAILED: &str = "failed";

/// `POST /app/requests/preview`: checks the form (a notice of another purpose is refused
/// with the form shown again) and shows what will be sent, to whom, and who is skipped.
/// Nothing is written.
pub async fn preview(
    State(state): State<AppState>,
    Writer(staff): Writer,
    Form(form): Form<CreateForm>,
) -> Result<Response, WebError> {
    let lang = staff.lang;
    let sel = form_selection(lang, &form)?;
    let terms = match terms(&state, lang, &staff.tenant, &form).await? {
        Ok(t) => t,
        Err(refused) => return refused_form(&state, &staff, &sel, &form, refused).await,
    };
    let contacts = resolve(&state, lang, &staff.tenant, &sel).await?;
    let plan = plan_for(
        &state,
        lang,
        &staff.tenant,
        &terms.notice.purpose,
        &contacts,
    )
    .await?;
    Ok(preview_page(&state, &staff, &sel, &terms, &plan, None))
}

/// The query of `GET /app/requests/preview/answer`.
#[derive(Deserialize)]
pub struct AnswerPreviewQuery {
    #[serde(default)]
    notice: String,
    #[serde(default)]
    response_days: Option<u32>,
    #[serde(default)]
    valid_days: Option<u32>,
}

/// `GET /app/requests/preview/answer?notice=…&response_days=…&valid_days=…`: the answer page
/// (`/c/{token}`) a request with this notice will show its recipient, rendered by the
/// answer page's own code, in the notice's language, its buttons disabled. No request and
/// no link exist; nothing is written.
pub async fn preview_answer(
    State(state): State<AppState>,
    Writer(staff): Writer,
    Query(q): Query<AnswerPreviewQuery>,
) -> Result<Response, WebError> {
    let lang = staff.lang;
    let notice = match NoticeId::parse(q.notice.trim()) {
        Ok(id) => state.store.notice(&staff.tenant, &id).await?,
        Err(_) => None,
    };
    let Some(notice) = notice else {
        return Err(WebError::NotFound(lang));
    };
    let days = q
        .response_days
        .filter(|d| consent::RESPONSE_DAYS.contains(d))
        .unwrap_or(15);
    let expires_at = state.clock.now_ms() + i64::from(days) * DAY_MS;
    let query_valid_days = q.valid_days.filter(|d| consent::VALID_DAYS.contains(d));
    let page_lang = parse_lang(&notice.language).unwrap_or(lang);
    let told = crate::sender::Told::load(
        &state.store,
        &staff.tenant,
        &notice.purpose,
        crate::i18n::code(page_lang),
    )
    .await?;
    let portal = crate::mail::portal_url(&state);
    Ok(crate::answer_page::request_page(
        page_lang,
        state.anchoring.schedule(),
        &crate::answer_page::Asked {
            sender: &staff.tenant_name,
            contact: told.contact.as_ref(),
            purpose: &told.purpose,
            notice_text: &notice.body,
            notice_url: None,
            valid_days: query_valid_days,
            expires_at,
            portal: &portal,
        },
        true,
    ))
}

/// `POST /app/requests`: sends the requests the preview showed. With the preview's
/// fingerprint, the list is read again and sent only if it is still the one previewed
/// (else the preview is shown again, with what changed); contacts that change between
/// that check and the insert are reported. Answers with a redirect to the batch's result
/// page, which a reload shows again.
pub async fn create(
    State(state): State<AppState>,
    Writer(staff): Writer,
    Form(form): Form<CreateForm>,
) -> Result<Response, WebError> {
    let lang = staff.lang;
    let sel = form_selection(lang, &form)?;
    let terms = match terms(&state, lang, &staff.tenant, &form).await? {
        Ok(t) => t,
        Err(refused) => return refused_form(&state, &staff, &sel, &form, refused).await,
    };
    let contacts = resolve(&state, lang, &staff.tenant, &sel).await?;
    if contacts.is_empty() {
        return Err(WebError::bad(lang, Text::NoContactMatchesThe));
    }
    let previewed = form.expected.is_some();
    let contacts = if let Some(expected) = &form.expected {
        let plan = plan_for(
            &state,
            lang,
            &staff.tenant,
            &terms.notice.purpose,
            &contacts,
        )
        .await?;
        if fingerprint(&plan.asked) != *expected {
            let was = form.expected_count.unwrap_or(0);
            let message = Text::TheListOfRecipients
                .fill(lang, &[("before", &was), ("now", &plan.asked.len())]);
            return Ok(preview_page(
                &state,
                &staff,
                &sel,
                &terms,
                &plan,
                Some(message),
            ));
        }
        plan.asked.into_iter().map(|(raw, _)| raw).collect()
    } else {
        contacts
    };
    let notice = &terms.notice;
    let mut created = Vec::new();
    let mut skipped: Vec<Skipped> = Vec::new();
    let chunks: Vec<&[String]> = contacts.chunks(MAX_BULK).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let input = RequestsInput {
            contacts: chunk.to_vec(),
            purpose: notice.purpose.clone(),
            notice_text: notice.body.clone(),
            notice_version: Some(notice.version.to_string()),
            notice_url: None,
            response_days: terms.response_days,
            valid_days: terms.valid_days,
            language: terms.language.clone(),
            skip_pending: true,
            skip_granted: true,
        };
        match create_requests(&state, &staff.tenant, &input).await {
            Ok(out) => {
                created.extend(out.created.into_iter().map(|r| r.id));
                skipped.extend(out.refused.into_iter().map(|(c, r)| Skipped {
                    contact: c,
                    reason: r.code().to_owned(),
                    changed: previewed,
                }));
            }
            Err(p) if i == 0 => return Err(from_problem(lang, &p)),
            Err(_) => {
                // Earlier chunks are stored and their e-mails queued: say who was not asked.
                for rest in &chunks[i..] {
                    skipped.extend(rest.iter().map(|c| Skipped {
                        contact: c.clone(),
                        reason: FAILED.to_owned(),
                        changed: false,
                    }));
                }
                break;
            }
        }
    }
    let now = state.clock.now_ms();
    let id = BatchId::from_suffix(&consentry_ledger::random::id_suffix(now))
        .ok_or_else(|| WebError::Unavailable("batch id".to_owned()))?;
    let batch = BatchRow {
        id: id.clone(),
        tenant: staff.tenant.clone(),
        created_at: now,
        purpose: notice.purpose.clone(),
        notice_version: Some(notice.version.to_string()),
        language: terms.language.clone(),
        created,
        skipped,
    };
    state.store.insert_batch(&batch).await?;
    tracing::info!(user = %staff.user, batch = %id, created = batch.created.len(), skipped = batch.skipped.len(), purpose = %notice.purpose, "consent requests from the web application");
    Ok(Redirect::to(&format!("/app/requests/batch/{id}")).into_response())
}

/// Most requests a result page lists one by one.
const RESULT_LIST: usize = 200;

/// `GET /app/requests/batch/{id}`: what a sending did — the requests created and their
/// e-mails, the contacts not asked and why. The same page at every reload.
pub async fn batch(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let lang = staff.lang;
    let Some(id) = BatchId::parse(&id) else {
        return Err(WebError::NotFound(lang));
    };
    let Some(b) = state.store.batch(&staff.tenant, &id).await? else {
        return Err(WebError::NotFound(lang));
    };
    let mut rows = Vec::new();
    for r in b.created.iter().take(RESULT_LIST) {
        if let Some(row) = state.store.request(&staff.tenant, r).await? {
            rows.push(row);
        }
    }
    let n = b.created.len();
    let changed = b.skipped.iter().filter(|s| s.changed).count();
    let version = b.notice_version.as_deref().unwrap_or("—");
    let body = html! {
        section.card #request-result role="status" {
            p.muted { (Text::SentOn.fill(lang, &[("when", &local_time(&state, b.created_at))])) }
            @if n > 0 {
                p #request-created {
                    (Text::NRequestsSentFor.fill(lang, &[
                        ("n", &n),
                        ("purpose", &b.purpose),
                        ("version", &version),
                        ("language", &language_name(lang, &b.language)),
                    ]))
                }
            } @else {
                p.warn #request-nobody { (t(lang, Text::NobodyWasAskedNo)) }
            }
            @if changed > 0 {
                p #request-changed { (Text::NContactsChangedSince.fill(lang, &[("n", &changed)])) }
            }
            @if !b.skipped.is_empty() {
                p #request-refused-count { (Text::NotAskedN.fill(lang, &[("n", &b.skipped.len())])) }
                (skipped_table(lang, b.skipped.iter().map(|s| (s.contact.as_str(), s.reason.as_str(), s.changed))))
            }
            @if !rows.is_empty() {
                h2 { (Text::RecipientsN.fill(lang, &[("n", &n)])) }
                div.table-wrap tabindex="0" {
                    table #request-recipients {
                        thead { tr {
                            th scope="col" { (t(lang, Text::Contact2)) }
                            th scope="col" { (t(lang, Text::EMail)) }
                            th scope="col" { (t(lang, Text::Status)) }
                        } }
                        tbody {
                            @for r in &rows {
                                tr {
                                    td { (recipient_label(r.subject.as_str())) }
                                    td { (crate::web::contact::mail_label(lang, r.mail_status.as_str())) }
                                    td { (status_badge(lang, r.status.as_str())) }
                                }
                            }
                        }
                    }
                }
                @if n > RESULT_LIST {
                    p.muted { (Text::AndNMore.fill(lang, &[("n", &(n - RESULT_LIST))])) }
                }
            }
            p {
                a href={ "/app/contacts?purpose=" (urlencode(&b.purpose)) } { (t(lang, Text::SeeTheBookFor)) }
                " · "
                a href="/app/requests" { (t(lang, Text::AllSendings)) }
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

/// How many sendings `GET /app/requests` lists.
const SENDINGS_LISTED: u32 = 50;

/// `GET /app/requests`: the latest sendings, each a link to its result page.
pub async fn list(State(state): State<AppState>, staff: Staff) -> Result<Response, WebError> {
    let lang = staff.lang;
    let batches = state.store.batches(&staff.tenant, SENDINGS_LISTED).await?;
    let body = html! {
        @if batches.is_empty() {
            p #sendings-none { (t(lang, Text::NoRequestWasSent)) " " a href="/app/contacts" { (t(lang, Text::AddressBook)) } }
        } @else {
            div.table-wrap tabindex="0" {
                table #sendings {
                    thead { tr {
                        th scope="col" { (t(lang, Text::Date)) }
                        th scope="col" { (t(lang, Text::Purpose2)) }
                        th scope="col" { (t(lang, Text::RequestsCreated)) }
                        th scope="col" { (t(lang, Text::NotAsked)) }
                    } }
                    tbody {
                        @for b in &batches {
                            tr {
                                td { a href={ "/app/requests/batch/" (b.id) } { (local_time(&state, b.created_at)) } }
                                td { (b.purpose) }
                                td { (b.created.len()) }
                                td { (b.skipped.len()) }
                            }
                        }
                    }
                }
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

/// `GET /app/requests/{id}/cancel`: asks to confirm the cancelling of a request waiting
/// for its answer (the contact page's "Cancel" leads here; the cancelling is the form's
/// second step, so it works without script).
pub async fn cancel_page(
    State(state): State<AppState>,
    Writer(staff): Writer,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let lang = staff.lang;
    let r = own_request(&state, lang, &staff.tenant, &id).await?;
    if r.status != RequestStatus::Pending || r.expires_at <= state.clock.now_ms() {
        return Err(not_pending(lang));
    }
    let id = r.id.as_str();
    let body = html! {
        section.card #cancel-confirmation {
            p {
                (Text::TheRequestIdFor.fill(lang, &[
                    ("id", &id),
                    ("purpose", &r.purpose),
                    ("contact", &r.subject.as_str()),
                ]))
            }
            p { (t(lang, Text::ItsLinkWillStop)) }
            form.inline method="post" action={ "/app/requests/" (id) "/cancel" } {
                (csrf_field(&staff))
                input type="hidden" name="confirm" value="yes";
                button.danger #cancel-confirm type="submit" { (t(lang, Text::YesCancelTheRequest)) }
            }
            " "
            a.button #cancel-keep href={ "/app/contacts/" (r.subject.as_str()) "#request-" (id) } { (t(lang, Text::NoKeepIt)) }
        }
    };
    Ok(page(
        &staff,
        Section::Contacts,
        StatusCode::OK,
        t(lang, Text::CancelThisRequest),
        body,
    ))
}

/// The cancelling form: `confirm=yes` once the confirmation was shown.
#[derive(Deserialize)]
pub struct CancelForm {
    #[serde(default)]
    confirm: Option<String>,
}

/// `POST /app/requests/{id}/cancel` with `confirm=yes`: the request takes no answer any
/// more, and the contact's status for its purpose returns to what it was before it.
/// Without the confirmation, nothing changes: the answer leads to the confirmation page.
pub async fn cancel(
    State(state): State<AppState>,
    Writer(staff): Writer,
    Path(id): Path<String>,
    Form(form): Form<CancelForm>,
) -> Result<Response, WebError> {
    let lang = staff.lang;
    let r = own_request(&state, lang, &staff.tenant, &id).await?;
    if form.confirm.as_deref() != Some("yes") {
        return Ok(
            Redirect::to(&format!("/app/requests/{}/cancel", r.id.as_str())).into_response(),
        );
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(language: &str, version: u32, body: &str) -> NoticeRow {
        NoticeRow {
            id: NoticeId::parse(&format!("ntc_{language}{version}00000000")).unwrap(),
            purpose: "photos".to_owned(),
            language: language.to_owned(),
            version,
            body: body.to_owned(),
            sha256: Hash::digest(body.as_bytes()).to_hex(),
            created_at: 0,
        }
    }

    #[test]
    fn only_the_current_notice_per_language_is_offered_and_older_ones_are_folded() {
        let purpose = PurposeRow {
            name: "photos".to_owned(),
            description: "Photos".to_owned(),
            description_en: String::new(),
            valid_days: Some(365),
            created_at: 0,
            updated_at: 0,
        };
        // As the store lists them: per language, newest first.
        let notices = [
            notice("en", 2, "EN-TWO"),
            notice("en", 1, "EN-ONE"),
            notice("fr", 1, "FR-ONE"),
        ];
        let html = terms_block(Lang::Fr, &purpose, &notices, None, None).into_string();
        let (offered, folded) = html.split_at(html.find("<details").unwrap());
        assert!(
            offered.contains("EN-TWO") && offered.contains("FR-ONE"),
            "{offered}"
        );
        assert!(!offered.contains("EN-ONE"), "{offered}");
        assert!(
            folded.contains("EN-ONE") && folded.contains("(1)"),
            "{folded}"
        );
        assert!(
            !folded.contains("request-older-notices\" open"),
            "closed unless an old one is chosen"
        );
        // The page's language's current version is preselected.
        let fr = &html[html.find(notices[2].id.as_str()).unwrap()..];
        assert!(fr[..fr.find('>').unwrap()].contains("checked"), "{html}");
        assert!(html.contains("data-purpose=\"photos\"") && html.contains("value=\"365\""));
        // An older version chosen (the form shown again) stays chosen, its folder open.
        let html =
            terms_block(Lang::Fr, &purpose, &notices, Some(&notices[1].id), None).into_string();
        assert!(
            html.contains("<details id=\"request-older-notices\" open"),
            "{html}"
        );
        let one = &html[html.find(notices[1].id.as_str()).unwrap()..];
        assert!(one[..one.find('>').unwrap()].contains("checked"), "{html}");
    }

    #[test]
    fn the_fingerprint_is_the_set_of_recipients() {
        let a = SubjectId::parse("sub_0000000000aaaa").unwrap();
        let b = SubjectId::parse("sub_0000000000bbbb").unwrap();
        let ab = [("x".to_owned(), a.clone()), ("y".to_owned(), b.clone())];
        let ba = [("y".to_owned(), b), ("x".to_owned(), a.clone())];
        assert_eq!(fingerprint(&ab), fingerprint(&ba));
        assert_ne!(fingerprint(&ab), fingerprint(&[("x".to_owned(), a)]));
        assert_ne!(fingerprint(&ab), fingerprint(&[]));
    }

    #[test]
    fn every_skip_reason_reads_in_both_languages() {
        for code in ["no_such_contact", "erased", "pending", "granted", FAILED] {
            assert_ne!(reason_label(Lang::Fr, code), reason_label(Lang::En, code));
        }
        assert_eq!(
            reason_label(Lang::Fr, "granted"),
            "consentement déjà accordé pour cette finalité"
        );
    }
}
