//! The address book: the list of a tenant's contacts (search, filters, sort, keyset
//! pages, a consent badge per purpose that the script keeps current, bulk consent
//! requests, the CSV export), adding a contact, and editing one.
//!
//! Staff see pseudonyms and non-identifying attributes only. Identity data goes one way:
//! typed into the add and edit forms, straight into the vault, never shown back. A search
//! by e-mail address finds the contact by its blind index, as the portal's sign-in does;
//! the address itself is not stored or logged, and never put in a URL: the search form
//! posts (`POST /app/contacts/search`, with the session's token), a search by address is
//! answered there with the result page (no redirect, so no `Location` holding it), and
//! any other search is sent on to `GET /app/contacts?…` so that it can be bookmarked.
//! `GET /app/contacts?q=` with an address is refused with the search form (400), and the
//! pager's links never carry an address.
//!
//! The list stays fast on a large book: its pages are keyset pages on the pseudonym
//! (creation order) read through the store's indexes, never an `OFFSET`, and the number of
//! matches comes from index-only counts (see `consentry_store`'s book module).
//!
//! Adding a contact goes through the same checks and vault path as `POST /v1/contacts`.
//! Editing changes the category and attributes in place; replacing the name, postal
//! address or phone is an amendment exactly like the recipient portal's: the new sealed
//! identity is written in the same transaction as its `data.amended` log entry, whose
//! actor is the staff member's user ID.

use crate::contacts::{self, ContactError, ContactInput, Created};
use crate::i18n::{Text, group_digits, t};
use crate::route_table::Routes;
use crate::state::AppState;
use crate::web::layout::{
    Lang, Section, WebError, category_label, csrf_field, local_time, page, urlencode,
};
use crate::web::session::{Form, Staff, Writer};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use consentry_core::event::ConsentState;
use consentry_core::ids::SubjectId;
use consentry_core::proof::RecipientCategory;
use consentry_ledger::{AmendOutcome, On, SubmitError};
use consentry_store::{BookCursor, BookFilter, BookOrder, ContactRow, StatusRow};
use consentry_vault::{WrappedKey, canonical_email};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// Page sizes offered.
pub const PAGE_SIZES: [u32; 4] = [25, 50, 100, 200];
/// The default page size.
pub const DEFAULT_PAGE: u32 = 50;

/// This module's routes.
pub fn routes() -> Routes {
    Routes::new()
        .get("/app/contacts", list)
        .post("/app/contacts", create)
        .post("/app/contacts/search", search_post)
        .get("/app/contacts/new", new_form)
        .get("/app/contacts/export", export)
        .get("/app/contacts/{id}/edit", edit_form)
        .post("/app/contacts/{id}/edit", edit)
}

// ---------------------------------------------------------------------------------------
// The list
// ---------------------------------------------------------------------------------------

/// The query of `GET /app/contacts`.
#[derive(Deserialize, Default, Debug)]
pub struct ListQuery {
    /// An exact e-mail address, or a pseudonym or its beginning.
    #[serde(default)]
    q: Option<String>,
    /// Filter: the purpose.
    #[serde(default)]
    purpose: Option<String>,
    /// Filter: the status for that purpose.
    #[serde(default)]
    status: Option<String>,
    /// `newest` (default) or `oldest`.
    #[serde(default)]
    order: Option<String>,
    /// Page size.
    #[serde(default)]
    per: Option<String>,
    /// Next page: after this pseudonym.
    #[serde(default)]
    after: Option<String>,
    /// Previous page: before this pseudonym.
    #[serde(default)]
    before: Option<String>,
}

/// A checked list query.
struct Listing {
    q: String,
    purpose: Option<String>,
    status: Option<ConsentState>,
    order: BookOrder,
    per: u32,
    cursor: Option<BookCursor>,
}

impl Listing {
    /// The query string of this listing with another cursor (`None`: the first page).
    fn href(&self, cursor: Option<&BookCursor>) -> String {
        let mut parts = Vec::new();
        // An address is never put in a link (an address search has no further page).
        if !self.q.is_empty() && !is_address_search(&self.q) {
            parts.push(format!("q={}", urlencode(&self.q)));
        }
        if let Some(p) = &self.purpose {
            parts.push(format!("purpose={}", urlencode(p)));
        }
        if let Some(s) = self.status {
            parts.push(format!("status={}", s.as_str()));
        }
        if self.order == BookOrder::OldestFirst {
            parts.push("order=oldest".to_owned());
        }
        if self.per != DEFAULT_PAGE {
            parts.push(format!("per={}", self.per));
        }
        match cursor {
            Some(BookCursor::After(id)) => parts.push(format!("after={id}")),
            Some(BookCursor::Before(id)) => parts.push(format!("before={id}")),
            None => {}
        }
        if parts.is_empty() {
            "/app/contacts".to_owned()
        } else {
            format!("/app/contacts?{}", parts.join("&"))
        }
    }
}

fn nonempty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn check_listing(lang: Lang, q: ListQuery) -> Result<Listing, WebError> {
    let purpose = nonempty(q.purpose);
    if purpose.as_ref().is_some_and(|p| p.chars().count() > 100) {
        return Err(WebError::bad(lang, Text::APurposeNameHas));
    }
    let status = match nonempty(q.status) {
        None => None,
        Some(s) => Some(
            ConsentState::parse(&s)
                .ok_or_else(|| WebError::bad(lang, Text::UnknownStatusChooseGranted))?,
        ),
    };
    if status.is_some() && purpose.is_none() {
        return Err(WebError::bad(lang, Text::AStatusFilterNeeds));
    }
    let order = match nonempty(q.order).as_deref() {
        None | Some("newest") => BookOrder::NewestFirst,
        Some("oldest") => BookOrder::OldestFirst,
        Some(_) => {
            return Err(WebError::bad(lang, Text::UnknownSortOrder));
        }
    };
    let per = match nonempty(q.per) {
        None => DEFAULT_PAGE,
        Some(p) => p
            .parse::<u32>()
            .ok()
            .filter(|p| PAGE_SIZES.contains(p))
            .ok_or_else(|| WebError::bad(lang, Text::APageHolds25))?,
    };
    let bad_cursor = || WebError::bad(lang, Text::ThisPageLinkIs);
    let cursor = match (nonempty(q.after), nonempty(q.before)) {
        (None, None) => None,
        (Some(a), None) => Some(BookCursor::After(
            SubjectId::parse(&a).map_err(|_| bad_cursor())?,
        )),
        (None, Some(b)) => Some(BookCursor::Before(
            SubjectId::parse(&b).map_err(|_| bad_cursor())?,
        )),
        (Some(_), Some(_)) => return Err(bad_cursor()),
    };
    Ok(Listing {
        q: q.q.map(|s| s.trim().to_owned()).unwrap_or_default(),
        purpose,
        status,
        order,
        per,
        cursor,
    })
}

/// Whether the search box holds an e-mail address (anything with an `@`): such a search
/// is only ever sent by POST.
fn is_address_search(q: &str) -> bool {
    q.contains('@')
}

/// What the search box asked for.
enum Search {
    None,
    /// The pseudonyms an address's blind indexes found (empty: not in the book).
    Email(Vec<SubjectId>),
    Prefix(String),
}

/// Reads the search box: an e-mail address (anything with an `@`) or a pseudonym.
async fn search(
    state: &AppState,
    staff: &Staff,
    q: &str,
) -> Result<Result<Search, Markup>, WebError> {
    let lang = staff.lang;
    if q.is_empty() {
        return Ok(Ok(Search::None));
    }
    if is_address_search(q) {
        // A look-up, not an entry: the canonical form without the address grammar, so
        // that a contact stored before the grammar (`<bob@example.org>`, reported by a
        // whole-store check) can still be found, and erased or kept knowingly.
        let Ok(normalized) = canonical_email(q) else {
            return Ok(Err(html! {
                (t(lang, Text::ThisIsNotA))
            }));
        };
        // Under every master key version held: during a rotation the contact may be
        // under either.
        let indexes: Vec<[u8; 32]> = state
            .tenant_keys(&staff.tenant)
            .blind_indexes(&normalized)
            .into_iter()
            .map(|(_, ix)| ix)
            .collect();
        let found = state
            .store
            .contacts_by_email_index(&staff.tenant, &indexes)
            .await?;
        let mut ids: Vec<SubjectId> = found.into_iter().map(|(_, id)| id).collect();
        ids.sort();
        ids.dedup();
        return Ok(Ok(Search::Email(ids)));
    }
    let lower = q.to_ascii_lowercase();
    if lower.starts_with("sub_")
        && lower.len() <= 80
        && lower
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Ok(Ok(Search::Prefix(lower)));
    }
    Ok(Err(html! {
        (t(lang, Text::SearchForAnExact))
    }))
}

/// The tenant's purposes: its catalogue and every purpose it has consent records for.
async fn purposes(state: &AppState, staff: &Staff) -> Result<Vec<String>, WebError> {
    let mut all: BTreeSet<String> = state
        .store
        .purposes(&staff.tenant)
        .await?
        .into_iter()
        .map(|p| p.name)
        .collect();
    all.extend(state.store.consent_purposes(&staff.tenant).await?);
    Ok(all.into_iter().collect())
}

/// A status as the book shows it: `expired` for a lapsed grant.
fn shown_status(s: &StatusRow, now: i64) -> &'static str {
    ConsentState::of_book(s.status, s.valid_until, now).as_str()
}

fn attribute_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn attributes_of(text: &str) -> Map<String, Value> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

fn matches_text(lang: Lang, n: u64) -> String {
    match n {
        0 => t(lang, Text::NoContactMatches).to_owned(),
        1 => t(lang, Text::OneContactMatches).to_owned(),
        n => Text::ContactsMatch.fill(lang, &[("n", &group_digits(lang, n))]),
    }
}

/// `GET /app/contacts`: the address book. A search by address in the URL is refused
/// (it belongs in the form, which posts it).
pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let lang = staff.lang;
    let mut listing = check_listing(lang, q)?;
    if is_address_search(&listing.q) {
        listing.q.clear();
        let refused = html! { (t(lang, Text::ToSearchByEMail)) };
        return render(&state, &staff, listing, Some(refused)).await;
    }
    render(&state, &staff, listing, None).await
}

/// `POST /app/contacts/search`: the search form. An address is answered here, with the
/// result page; anything else is sent on to the `GET` listing it stands for.
pub async fn search_post(
    State(state): State<AppState>,
    staff: Staff,
    Form(q): Form<ListQuery>,
) -> Result<Response, WebError> {
    let listing = check_listing(staff.lang, q)?;
    if is_address_search(&listing.q) {
        return render(&state, &staff, listing, None).await;
    }
    Ok(Redirect::to(&listing.href(None)).into_response())
}

/// The address book page for `listing`; `refused` is shown as the search's error (and
/// then nothing is searched).
async fn render(
    state: &AppState,
    staff: &Staff,
    listing: Listing,
    refused: Option<Markup>,
) -> Result<Response, WebError> {
    let lang = staff.lang;
    let now = state.clock.now_ms();
    let purposes = purposes(state, staff).await?;
    let mut filter = BookFilter {
        now,
        ..BookFilter::default()
    };
    if let (Some(p), Some(s)) = (&listing.purpose, listing.status) {
        filter.consent = Some((p.clone(), s));
    }
    let searched_for = match refused {
        Some(message) => Err(message),
        None => search(state, staff, &listing.q).await?,
    };
    let (search_error, searched) = match searched_for {
        Ok(Search::None) => (None, false),
        Ok(Search::Email(ids)) => {
            filter.ids = Some(ids);
            (None, true)
        }
        Ok(Search::Prefix(p)) => {
            filter.prefix = Some(p);
            (None, true)
        }
        Err(message) => {
            filter.ids = Some(Vec::new());
            (Some(message), true)
        }
    };
    let book = state
        .store
        .book_page(
            &staff.tenant,
            &filter,
            listing.order,
            listing.cursor.as_ref(),
            listing.per,
        )
        .await?;
    let ids: Vec<SubjectId> = book.rows.iter().map(|r| r.id.clone()).collect();
    let statuses = state.store.statuses(&staff.tenant, &ids).await?;
    // Badges: the filtered purpose, or every purpose of the tenant.
    let shown: Vec<String> = match &listing.purpose {
        Some(p) => vec![p.clone()],
        None => purposes.clone(),
    };
    let writer = staff.role.can_write();
    let title = t(lang, Text::AddressBook);

    let filters = html! {
        form.filters.card #book-filter method="post" action="/app/contacts/search" role="search" {
            (csrf_field(staff))
            div {
                label for="q" { (t(lang, Text::Search)) }
                input #q type="search" name="q" value=(listing.q) maxlength="254"
                    placeholder=(t(lang, Text::ExactEMailAddress))
                    aria-describedby="q-help" autocomplete="off";
            }
            div {
                label for="purpose" { (t(lang, Text::Purpose2)) }
                select #purpose name="purpose" {
                    option value="" { (t(lang, Text::All)) }
                    @for p in &purposes {
                        option value=(p) selected[listing.purpose.as_deref() == Some(p.as_str())] { (p) }
                    }
                    @if let Some(p) = &listing.purpose {
                        @if !purposes.contains(p) {
                            option value=(p) selected { (p) }
                        }
                    }
                }
            }
            div {
                label for="status" { (t(lang, Text::Status)) }
                select #status name="status" {
                    option value="" { (t(lang, Text::Any)) }
                    @for s in ConsentState::ALL {
                        option value=(s.as_str()) selected[listing.status == Some(s)] {
                            (crate::web::layout::status_label(lang, s.as_str()))
                        }
                    }
                }
            }
            div {
                label for="order" { (t(lang, Text::Sort)) }
                select #order name="order" {
                    option value="newest" selected[listing.order == BookOrder::NewestFirst] { (t(lang, Text::NewestFirst)) }
                    option value="oldest" selected[listing.order == BookOrder::OldestFirst] { (t(lang, Text::OldestFirst)) }
                }
            }
            div {
                label for="per" { (t(lang, Text::PerPage)) }
                select #per name="per" {
                    @for n in PAGE_SIZES {
                        option value=(n) selected[listing.per == n] { (n) }
                    }
                }
            }
            div {
                button.primary #filter-submit type="submit" { (t(lang, Text::Show)) }
                " "
                a #filter-reset href="/app/contacts" { (t(lang, Text::Clear2)) }
            }
        }
        p.muted #q-help {
            (t(lang, Text::SearchingByEMail))
        }
    };

    let actions = html! {
        p.actions {
            @if writer {
                a.button.primary #add-contact href="/app/contacts/new" { (t(lang, Text::AddAContact)) }
                " "
                a.button #import-link href="/app/contacts/import" { (t(lang, Text::ImportACsvFile)) }
                " "
            }
            a.button #export-csv href="/app/contacts/export" download="contacts.csv" {
                (t(lang, Text::ExportTheBookCsv))
            }
        }
    };

    let rows = html! {
        @for c in &book.rows {
            @let attrs = attributes_of(&c.attributes);
            tr {
                @if writer {
                    td {
                        input type="checkbox" name="contact" value=(c.id) id={"pick-" (c.id)}
                            aria-label={(t(lang, Text::Select)) (c.id)};
                    }
                }
                td {
                    a href={"/app/contacts/" (c.id)} { code { (c.id) } }
                    @if c.erased {
                        " " span.badge.s-none { (t(lang, Text::DataErased2)) }
                    }
                }
                td { (category_label(lang, c.category)) }
                td.optional {
                    @if attrs.is_empty() {
                        span.muted { "—" }
                    } @else {
                        @for (k, v) in &attrs {
                            span.attr { code { (k) } " = " (attribute_text(v)) } " "
                        }
                    }
                }
                td.optional { (local_time(state, c.created_at)) }
                td {
                    @if shown.is_empty() {
                        span.muted { "—" }
                    }
                    @for p in &shown {
                        @let s = statuses.iter().find(|s| s.subject == c.id && &s.purpose == p)
                            .map(|s| shown_status(s, now)).unwrap_or("none");
                        span.consent {
                            (p) " "
                            span class={"badge s-" (s)} data-status=(s) data-contact=(c.id) data-purpose=(p) {
                                (crate::web::layout::status_label(lang, s))
                            }
                        }
                        " "
                    }
                }
            }
        }
    };

    let table = html! {
        div.table-wrap tabindex="0" {
            table #contacts-table {
                caption.visually-hidden { (title) }
                thead {
                    tr {
                        @if writer {
                            th scope="col" {
                                input type="checkbox" #select-all data-select-all="contact"
                                    aria-label=(t(lang, Text::SelectAllOnThis));
                            }
                        }
                        th scope="col" { (t(lang, Text::Pseudonym)) }
                        th scope="col" { (t(lang, Text::Category)) }
                        th.optional scope="col" { (t(lang, Text::Attributes)) }
                        th.optional scope="col" { (t(lang, Text::Created)) }
                        th scope="col" { (t(lang, Text::Consents)) }
                    }
                }
                tbody { (rows) }
            }
        }
    };

    let bulk_filter = match (&listing.purpose, listing.status) {
        (Some(p), Some(s)) if writer && book.total > 0 && !searched => Some(html! {
            p {
                a.button #bulk-filter href={"/app/requests/new?purpose=" (urlencode(p)) "&status=" (s.as_str())} {
                    (Text::RequestConsentFromFilter.fill(lang, &[("n", &group_digits(lang, book.total))]))
                }
            }
        }),
        _ => None,
    };

    let pager = html! {
        nav.pager aria-label=(t(lang, Text::Pages)) {
            @if book.has_previous {
                @if let Some(first) = book.rows.first() {
                    a #page-previous rel="prev" href=(listing.href(Some(&BookCursor::Before(first.id.clone())))) { "← " (t(lang, Text::PreviousPage)) }
                } @else {
                    a #page-previous rel="prev" href=(listing.href(None)) { "← " (t(lang, Text::FirstPage)) }
                }
            }
            @if listing.cursor.is_some() {
                a #page-first href=(listing.href(None)) { (t(lang, Text::FirstPage)) }
            }
            @if book.has_next {
                @if let Some(last) = book.rows.last() {
                    a #page-next rel="next" href=(listing.href(Some(&BookCursor::After(last.id.clone())))) { (t(lang, Text::NextPage)) " →" }
                }
            }
        }
    };

    let body = html! {
        (actions)
        (filters)
        @if let Some(e) = &search_error {
            p.error #search-error role="alert" { (e) }
        }
        p #match-count aria-live="polite" { strong { (matches_text(lang, book.total)) } }
        @if let Some(b) = bulk_filter { (b) }
        @if book.rows.is_empty() {
            p.muted #book-empty {
                @if searched || listing.purpose.is_some() {
                    (t(lang, Text::NothingMatchesThisSearch))
                } @else {
                    (t(lang, Text::TheBookIsEmpty))
                }
            }
        } @else if writer {
            form #bulk-form method="get" action="/app/requests/new" {
                @if let Some(p) = &listing.purpose {
                    input type="hidden" name="ask" value=(p);
                }
                (table)
                button.primary #bulk-selected type="submit" {
                    (t(lang, Text::RequestConsentFromThe))
                }
            }
        } @else {
            (table)
        }
        (pager)
    };
    let status = if search_error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok(page(staff, Section::Contacts, status, title, body))
}

/// `GET /app/contacts/export`: the same pseudonymous CSV as `GET /v1/contacts/export`.
pub async fn export(State(state): State<AppState>, staff: Staff) -> Result<Response, WebError> {
    tracing::info!(user = %staff.user, tenant = %staff.tenant, "web: CSV export");
    crate::contacts_csv::export_response(
        state.store.clone(),
        staff.tenant.clone(),
        state.clock.now_ms(),
    )
    .await
    .map_err(|e| WebError::Unavailable(e.to_string()))
}

// ---------------------------------------------------------------------------------------
// Adding a contact
// ---------------------------------------------------------------------------------------

/// The add form.
#[derive(Deserialize, Default)]
pub struct NewContactForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    attributes: String,
}

impl std::fmt::Debug for NewContactForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewContactForm { .. }")
    }
}

fn category_options(lang: Lang, selected: &str) -> Markup {
    html! {
        @for (value, label) in [
            ("unspecified", t(lang, Text::Unspecified)),
            ("private", t(lang, Text::PrivatePerson)),
            ("professional", t(lang, Text::Professional)),
        ] {
            option value=(value) selected[selected == value] { (label) }
        }
    }
}

fn parse_category(lang: Lang, s: &str) -> Result<RecipientCategory, WebError> {
    match s.trim() {
        "" | "unspecified" => Ok(RecipientCategory::Unspecified),
        "private" => Ok(RecipientCategory::Private),
        "professional" => Ok(RecipientCategory::Professional),
        _ => Err(WebError::bad(lang, Text::TheCategoryIsPrivate)),
    }
}

/// Reads `key=value` lines into attributes; blank lines are skipped. Values are
/// strings, except that a line left exactly as `previous` showed it keeps its stored
/// value (a number or a boolean set through the API stays one).
fn parse_attributes(
    lang: Lang,
    text: &str,
    previous: &Map<String, Value>,
) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            return Err(Text::AttributesWriteNameValue.fill(lang, &[("line", &(i + 1))]));
        };
        let (k, v) = (k.trim(), v.trim());
        if out.contains_key(k) {
            return Err(Text::AttributesTwice.fill(lang, &[("line", &(i + 1)), ("name", &k)]));
        }
        let value = match previous.get(k) {
            Some(old) if attribute_text(old) == v => old.clone(),
            _ => Value::String(v.to_owned()),
        };
        out.insert(k.to_owned(), value);
    }
    contacts::check_attributes(&out).map_err(|e| match e {
        ContactError::Store(e) => e.to_string(),
        other => format!("{}{}", t(lang, Text::Attributes2), other.text(lang)),
    })?;
    Ok(out)
}

fn attributes_lines(attrs: &Map<String, Value>) -> String {
    attrs
        .iter()
        .map(|(k, v)| format!("{k}={}", attribute_text(v)))
        .collect::<Vec<_>>()
        .join("\n")
}

fn new_form_page(
    staff: &Staff,
    status: StatusCode,
    form: &NewContactForm,
    error: Option<&str>,
) -> Response {
    let lang = staff.lang;
    let category = if form.category.is_empty() {
        "unspecified"
    } else {
        form.category.as_str()
    };
    let body = html! {
        @if let Some(e) = error { p.error #contact-error role="alert" { (e) } }
        p { (t(lang, Text::TheEMailAddress)) }
        form.card #contact-form method="post" action="/app/contacts" {
            (csrf_field(staff))
            label for="email" { (t(lang, Text::EMailAddressRequired)) }
            input #email type="email" name="email" required maxlength="254" autocomplete="off" value=(form.email);
            label for="name" { (t(lang, Text::Name)) }
            input #name type="text" name="name" maxlength="200" autocomplete="off" value=(form.name);
            label for="address" { (t(lang, Text::PostalAddress)) }
            textarea #address name="address" maxlength="500" autocomplete="off" { (form.address) }
            label for="phone" { (t(lang, Text::Phone)) }
            input #phone type="text" name="phone" maxlength="40" autocomplete="off" value=(form.phone);
            label for="category" { (t(lang, Text::Category)) }
            select #category name="category" { (category_options(lang, category)) }
            label for="attributes" { (t(lang, Text::NonIdentifyingAttributesOne)) }
            textarea #attributes name="attributes" aria-describedby="attributes-help" { (form.attributes) }
            p.muted #attributes-help { (t(lang, Text::Names1To40)) }
            div { button.primary #contact-submit type="submit" { (t(lang, Text::AddTheContact)) } }
        }
        p { a href="/app/contacts" { (t(lang, Text::BackToTheBook)) } }
    };
    page(
        staff,
        Section::Contacts,
        status,
        t(lang, Text::AddAContact),
        body,
    )
}

/// `GET /app/contacts/new`: the add form.
pub async fn new_form(Writer(staff): Writer) -> Response {
    new_form_page(&staff, StatusCode::OK, &NewContactForm::default(), None)
}

fn optional(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.replace("\r\n", "\n"))
}

/// `POST /app/contacts`: checks and stores a contact as `POST /v1/contacts` does; on
/// success, to the contact's page.
pub async fn create(
    State(state): State<AppState>,
    Writer(staff): Writer,
    Form(form): Form<NewContactForm>,
) -> Result<Response, WebError> {
    let lang = staff.lang;
    let refused = |msg: String| {
        Ok(new_form_page(
            &staff,
            StatusCode::BAD_REQUEST,
            &form,
            Some(&msg),
        ))
    };
    let category = match parse_category(lang, &form.category) {
        Ok(c) => c,
        Err(_) => {
            return refused(t(lang, Text::TheCategoryIsPrivate).to_owned());
        }
    };
    let attributes = match parse_attributes(lang, &form.attributes, &Map::new()) {
        Ok(a) => a,
        Err(m) => return refused(m),
    };
    let input = ContactInput {
        email: form.email.trim().to_owned(),
        name: optional(&form.name),
        address: optional(&form.address),
        phone: optional(&form.phone),
        attributes: (!attributes.is_empty()).then_some(attributes),
        category: Some(category),
    };
    let checked = match contacts::check(input) {
        Ok(c) => c,
        Err(ContactError::Store(e)) => return Err(e.into()),
        Err(other) => return refused(format!("{}{}", t(lang, Text::Refused2), other.text(lang))),
    };
    let now = state.clock.now_ms();
    let keys = state.tenant_keys(&staff.tenant);
    let created = contacts::store(&state.store, &keys, &staff.tenant, checked, now)
        .await
        .map_err(|e| match e {
            ContactError::Store(e) => WebError::from(e),
            other => WebError::bad_detail(lang, &other.text(lang)),
        })?;
    match created {
        Created::New(row) => {
            tracing::info!(user = %staff.user, subject = %row.id, "web: contact added");
            Ok(Redirect::to(&format!("/app/contacts/{}", row.id)).into_response())
        }
        Created::Duplicate(existing) => {
            let body = html! {
                p.warn #duplicate-notice role="alert" {
                    (t(lang, Text::TheBookAlreadyHas))
                    a #duplicate-contact href={"/app/contacts/" (existing)} { code { (existing) } }
                    ". " (t(lang, Text::NothingWasAdded))
                }
                p { a href="/app/contacts/new" { (t(lang, Text::AddAnotherContact)) } }
            };
            Ok(page(
                &staff,
                Section::Contacts,
                StatusCode::CONFLICT,
                t(lang, Text::ContactAlreadyInThe),
                body,
            ))
        }
    }
}

// ---------------------------------------------------------------------------------------
// Editing a contact
// ---------------------------------------------------------------------------------------

/// The edit form.
#[derive(Deserialize, Default)]
pub struct EditForm {
    #[serde(default)]
    category: String,
    #[serde(default)]
    attributes: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    phone: String,
}

impl std::fmt::Debug for EditForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EditForm { .. }")
    }
}

async fn load(state: &AppState, staff: &Staff, id: &str) -> Result<ContactRow, WebError> {
    let id = SubjectId::parse(id).map_err(|_| WebError::NotFound(staff.lang))?;
    state
        .store
        .contact(&staff.tenant, &id)
        .await?
        .ok_or(WebError::NotFound(staff.lang))
}

fn erased_page(staff: &Staff, id: &SubjectId) -> Response {
    let lang = staff.lang;
    page(
        staff,
        Section::Contacts,
        StatusCode::GONE,
        t(lang, Text::ContactErased),
        html! {
            p.warn #erased-notice {
                (t(lang, Text::ThisContactSData))
            }
            p { a href={"/app/contacts/" (id)} { (t(lang, Text::BackToTheContact)) } }
        },
    )
}

fn edit_page(
    staff: &Staff,
    status: StatusCode,
    c: &ContactRow,
    category: &str,
    attributes: &str,
    error: Option<&str>,
) -> Response {
    let lang = staff.lang;
    let body = html! {
        @if let Some(e) = error { p.error #edit-error role="alert" { (e) } }
        p { (t(lang, Text::Contact)) a href={"/app/contacts/" (c.id)} { code { (c.id) } } }
        form.card #edit-form method="post" action={"/app/contacts/" (c.id) "/edit"} {
            (csrf_field(staff))
            h2 { (t(lang, Text::NonIdentifyingData)) }
            label for="category" { (t(lang, Text::Category)) }
            select #category name="category" { (category_options(lang, category)) }
            label for="attributes" { (t(lang, Text::AttributesOnePerLine)) }
            textarea #attributes name="attributes" { (attributes) }
            h2 { (t(lang, Text::ReplaceIdentityData)) }
            p.muted #identity-help {
                (t(lang, Text::IdentityDataIsEncrypted))
            }
            label for="name" { (t(lang, Text::NewName)) }
            input #name type="text" name="name" maxlength="200" autocomplete="off";
            label for="address" { (t(lang, Text::NewPostalAddress)) }
            textarea #address name="address" maxlength="500" autocomplete="off" {}
            label for="phone" { (t(lang, Text::NewPhone)) }
            input #phone type="text" name="phone" maxlength="40" autocomplete="off";
            div { button.primary #edit-submit type="submit" { (t(lang, Text::Save)) } }
        }
    };
    page(
        staff,
        Section::Contacts,
        status,
        t(lang, Text::EditAContact),
        body,
    )
}

/// `GET /app/contacts/{id}/edit`.
pub async fn edit_form(
    State(state): State<AppState>,
    Writer(staff): Writer,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let c = load(&state, &staff, &id).await?;
    if c.wrapped_key.is_none() {
        return Ok(erased_page(&staff, &c.id));
    }
    let attrs = attributes_lines(&attributes_of(&c.attributes));
    Ok(edit_page(
        &staff,
        StatusCode::OK,
        &c,
        c.category.as_str(),
        &attrs,
        None,
    ))
}

/// `POST /app/contacts/{id}/edit`: the category and attributes in place; a new name,
/// postal address or phone as a logged amendment.
pub async fn edit(
    State(state): State<AppState>,
    Writer(staff): Writer,
    Path(id): Path<String>,
    Form(form): Form<EditForm>,
) -> Result<Response, WebError> {
    let lang = staff.lang;
    let c = load(&state, &staff, &id).await?;
    let (Some(wrapped), Some(sealed)) = (c.wrapped_key.clone(), c.identity.clone()) else {
        return Ok(erased_page(&staff, &c.id));
    };
    let refused = |msg: String| {
        Ok(edit_page(
            &staff,
            StatusCode::BAD_REQUEST,
            &c,
            &form.category,
            &form.attributes,
            Some(&msg),
        ))
    };
    let category = match parse_category(lang, &form.category) {
        Ok(cat) => cat,
        Err(_) => {
            return refused(t(lang, Text::TheCategoryIsPrivate).to_owned());
        }
    };
    let previous = attributes_of(&c.attributes);
    let attributes = match parse_attributes(lang, &form.attributes, &previous) {
        Ok(a) => a,
        Err(m) => return refused(m),
    };
    let (name, address, phone) = (
        optional(&form.name),
        optional(&form.address),
        optional(&form.phone),
    );
    for (what, v, max, newlines) in [
        (Text::FieldName, &name, 200, false),
        (Text::FieldPostalAddress, &address, 500, true),
        (Text::FieldPhone, &phone, 40, false),
    ] {
        let bad = v.as_ref().is_some_and(|s| {
            s.chars().count() > max
                || s.chars()
                    .any(|ch| ch.is_control() && !(newlines && ch == '\n'))
        });
        if bad {
            return refused(
                Text::FieldTooLong.fill(lang, &[("field", &t(lang, what)), ("max", &max)]),
            );
        }
    }
    // Identity first: it is the part that can meet a concurrent change.
    if name.is_some() || address.is_some() || phone.is_some() {
        let keys = state.tenant_keys(&staff.tenant);
        let key = keys
            .unwrap_subject_key(&c.id, &WrappedKey::from_bytes(wrapped))
            .map_err(|e| WebError::Unavailable(e.to_string()))?;
        let old = key
            .open(&staff.tenant, &c.id, &sealed)
            .map_err(|e| WebError::Unavailable(e.to_string()))?;
        let mut new = old.clone();
        if name.is_some() {
            new.name = name;
        }
        if address.is_some() {
            new.address = address;
        }
        if phone.is_some() {
            new.phone = phone;
        }
        let fields: Vec<String> = [
            ("name", old.name != new.name),
            ("address", old.address != new.address),
            ("phone", old.phone != new.phone),
        ]
        .into_iter()
        .filter(|(_, changed)| *changed)
        .map(|(f, _)| f.to_owned())
        .collect();
        if !fields.is_empty() {
            let resealed = key.seal(
                &mut consentry_ledger::random::rng(),
                &staff.tenant,
                &c.id,
                &new,
            );
            let outcome = state
                .ledger
                .amend(
                    On {
                        tenant: staff.tenant.clone(),
                        subject: c.id.clone(),
                        actor: staff.actor(),
                    },
                    fields,
                    sealed,
                    resealed,
                )
                .await;
            match outcome {
                Ok(AmendOutcome::Amended { event }) => {
                    let index = event.event.body.log_index;
                    tracing::info!(user = %staff.user, subject = %c.id, index, "web: identity amended");
                }
                Err(SubmitError::Erased) => return Ok(erased_page(&staff, &c.id)),
                Err(SubmitError::UnknownContact) => return Err(WebError::NotFound(lang)),
                Ok(AmendOutcome::Changed) => {
                    return Ok(page(
                        &staff,
                        Section::Contacts,
                        StatusCode::CONFLICT,
                        t(lang, Text::ChangedMeanwhile),
                        html! {
                            p.warn #edit-conflict { (t(lang, Text::ThisContactSDataChanged)) }
                            p { a href={"/app/contacts/" (c.id) "/edit"} { (t(lang, Text::EditAgain)) } }
                        },
                    ));
                }
                Err(e) => return Err(WebError::Unavailable(e.to_string())),
            }
        }
    }
    let attributes_text = Value::Object(attributes).to_string();
    if category != c.category || attributes_text != c.attributes {
        let done = state
            .store
            .update_contact_profile(&staff.tenant, &c.id, category, &attributes_text)
            .await?;
        if !done {
            return Ok(erased_page(&staff, &c.id));
        }
        tracing::info!(user = %staff.user, subject = %c.id, "web: contact attributes changed");
    }
    Ok(Redirect::to(&format!("/app/contacts/{}", c.id)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_read_as_lines_and_keep_typed_values_left_as_shown() {
        let prev: Map<String, Value> =
            serde_json::from_str(r#"{"tier": 3, "vip": true, "region": "north"}"#).unwrap();
        let got =
            parse_attributes(Lang::En, "tier=3\nvip=false\n\n region = south \n", &prev).unwrap();
        assert_eq!(
            Value::Object(got),
            serde_json::json!({"tier": 3, "vip": "false", "region": "south"})
        );
        assert!(parse_attributes(Lang::En, "no equals sign", &prev).is_err());
        assert!(parse_attributes(Lang::Fr, "a=1\na=2", &prev).is_err());
        assert!(parse_attributes(Lang::En, "Bad Key=1", &prev).is_err());
        assert_eq!(attributes_lines(&prev), "region=north\ntier=3\nvip=true");
    }

    #[test]
    fn list_queries_are_checked() {
        let q = |s: &str| -> ListQuery { serde_html_form::from_str(s).unwrap() };
        let ok = check_listing(
            Lang::En,
            q("purpose=news&status=granted&order=oldest&per=100"),
        )
        .unwrap();
        assert_eq!(ok.status, Some(ConsentState::Granted));
        assert_eq!(ok.per, 100);
        assert_eq!(
            ok.href(Some(&BookCursor::After(SubjectId::parse("sub_1").unwrap()))),
            "/app/contacts?purpose=news&status=granted&order=oldest&per=100&after=sub_1"
        );
        for bad in [
            "status=granted",
            "purpose=news&status=maybe",
            "per=30",
            "order=sideways",
            "after=nope",
            "after=sub_1&before=sub_2",
        ] {
            assert!(check_listing(Lang::En, q(bad)).is_err(), "{bad}");
        }
        assert_eq!(group_digits(Lang::En, 1234567), "1,234,567");
        assert_eq!(group_digits(Lang::Fr, 1234567), "1\u{202f}234\u{202f}567");
        assert_eq!(group_digits(Lang::En, 999), "999");
    }
}
