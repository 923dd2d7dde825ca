//! CSV import of contacts in the web application: upload, preview, confirm.
//!
//! The upload is checked whole before anything is written, by the same parser and checks
//! as `POST /v1/contacts/import` (`docs/csv.md`). The preview says how many contacts
//! would be created and which lines the book already has (with their pseudonyms); a file
//! with any bad line lists every bad line by number and reason (the reason names the
//! column and the rule, never the value) and offers no confirmation: nothing of it is
//! written. A good file's preview carries the file back (base64, in a multipart form, so
//! that its bytes come back exactly) to the confirmation, which checks it all again and
//! stores every line in one transaction: all or nothing.
//!
//! Both POST routes have their own body limit, sized for the largest import file (20 MiB)
//! and its base64 form, above the service's default.

use crate::contacts_csv::{self, LineError, MAX_BYTES, Outcome};
use crate::i18n::{Text, t};
use crate::route_table::Routes;
use crate::state::AppState;
use crate::web::layout::{Lang, Section, WebError, csrf_field, page};
use crate::web::session::{Staff, Upload, Writer};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use maud::{Markup, html};

/// Room for the multipart framing and the other fields around the file.
const FRAMING: usize = 256 * 1024;
/// The upload's body limit.
const MAX_UPLOAD_BODY: usize = MAX_BYTES + FRAMING;
/// The confirmation's body limit: the file as base64.
const MAX_CONFIRM_BODY: usize = MAX_BYTES / 3 * 4 + 4 + FRAMING;
/// Bad lines listed on a preview at most (the count says how many there are).
const ERRORS_SHOWN: usize = 1000;
/// Lines already in the book listed on a preview at most.
const EXISTING_SHOWN: usize = 500;

/// An example file (fictitious people, `example.org` addresses).
const EXAMPLE: &str = "email,name,address,phone,category,attr.region,attr.source\r\n\
ann.martin@example.org,Ann Martin,\"12 rue de la Paix\r\n75002 Paris\",+33 1 23 45 67 89,private,north,fair-2026\r\n\
bob@example.com,\"Doe, \"\"Bob\"\"\",,,professional,south,\r\n";

/// This module's routes.
pub fn routes() -> Routes {
    Routes::new()
        .get("/app/contacts/import", form)
        .post_up_to("/app/contacts/import", preview, MAX_UPLOAD_BODY)
        .post_up_to("/app/contacts/import/confirm", confirm, MAX_CONFIRM_BODY)
        .get("/app/contacts/import/example.csv", example)
}

fn format_help(lang: Lang) -> Markup {
    html! {
        section.card #import-format {
            h2 { (t(lang, Text::FileFormat)) }
            ul {
                li { (t(lang, Text::Utf8CsvRfc)) }
                li { (t(lang, Text::FirstLineTheColumn)) code { "email" } (t(lang, Text::IsRequired)) code { "name" } ", " code { "address" } ", " code { "phone" } ", " code { "category" } " (" code { "private" } ", " code { "professional" } ", " code { "unspecified" } ") " (t(lang, Text::And)) code { "attr." (t(lang, Text::Name2)) } (t(lang, Text::NonIdentifyingAttributesAre)) }
                li { (t(lang, Text::ColumnNamesInFrenchOrEnglish)) }
                li { (t(lang, Text::EveryLineGoesThrough)) }
                li { (t(lang, Text::NothingIsWrittenBefore)) }
            }
            p {
                a #import-example href="/app/contacts/import/example.csv" download="example.csv" { (t(lang, Text::DownloadAnExampleFile)) }
            }
        }
    }
}

/// `GET /app/contacts/import`: the upload form.
pub async fn form(Writer(staff): Writer) -> Response {
    let lang = staff.lang;
    let body = html! {
        form.card #import-form method="post" action="/app/contacts/import" enctype="multipart/form-data" {
            (csrf_field(&staff))
            label for="file" { (t(lang, Text::CsvFile)) }
            input #file type="file" name="file" accept=".csv,text/csv" required;
            div { button.primary #import-submit type="submit" { (t(lang, Text::CheckTheFile)) } }
            p.muted { (t(lang, Text::TheWholeFileIs)) }
        }
        (format_help(lang))
    };
    page(
        &staff,
        Section::Import,
        StatusCode::OK,
        t(lang, Text::ImportContacts),
        body,
    )
}

/// `GET /app/contacts/import/example.csv`.
pub async fn example(_staff: Staff) -> Response {
    let mut res = EXAMPLE.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8; header=present"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"example.csv\""),
    );
    res
}

async fn parse(
    lang: Lang,
    bytes: Vec<u8>,
) -> Result<Result<Vec<contacts_csv::Row>, Vec<LineError>>, WebError> {
    tokio::task::spawn_blocking(move || contacts_csv::parse(&bytes))
        .await
        .map_err(|_| WebError::bad(lang, Text::TheFileCouldNot))
}

/// `n` and the noun, singular `one` or plural `many` as `lang` says.
fn plural(lang: Lang, n: usize, one: Text, many: Text) -> String {
    let singular = crate::i18n::singular(lang, u64::try_from(n).unwrap_or(u64::MAX));
    format!("{n} {}", t(lang, if singular { one } else { many }))
}

/// The page of a refused file: every bad line, and no way forward but a new upload.
fn refused_page(staff: &Staff, errors: &[LineError]) -> Response {
    let lang = staff.lang;
    let n = errors.len();
    let body = html! {
        p.error #import-refused role="alert" {
            strong {
                (plural(lang, n, Text::LineRefused, Text::LinesRefused))
            }
            " — "
            (t(lang, Text::NothingWasImportedAnd))
        }
        div.table-wrap tabindex="0" {
            table #import-errors {
                caption { (t(lang, Text::RefusedLinesTheReason)) }
                thead { tr {
                    th scope="col" { (t(lang, Text::Line)) }
                    th scope="col" { (t(lang, Text::Reason)) }
                } }
                tbody {
                    @for e in errors.iter().take(ERRORS_SHOWN) {
                        tr {
                            td {
                                @if e.line == 0 { (t(lang, Text::File)) } @else { (e.line) }
                            }
                            td { (e.text(lang)) }
                        }
                    }
                }
            }
        }
        @if n > ERRORS_SHOWN {
            p.muted { (t(lang, Text::AndMoreRefusedLines)) }
        }
        p { a.button.primary #import-again href="/app/contacts/import" { (t(lang, Text::UploadAnotherFile)) } }
    };
    page(
        staff,
        Section::Import,
        StatusCode::UNPROCESSABLE_ENTITY,
        t(lang, Text::FileRefused),
        body,
    )
}

fn existing_table(lang: Lang, outcome: &Outcome) -> Markup {
    html! {
        @if !outcome.existing.is_empty() {
            div.table-wrap tabindex="0" {
                table #import-existing {
                    caption { (t(lang, Text::LinesWhoseAddressThe)) }
                    thead { tr {
                        th scope="col" { (t(lang, Text::Line)) }
                        th scope="col" { (t(lang, Text::ExistingContact)) }
                    } }
                    tbody {
                        @for (line, id) in outcome.existing.iter().take(EXISTING_SHOWN) {
                            tr { td { (line) } td { a href={"/app/contacts/" (id)} { code { (id) } } } }
                        }
                    }
                }
            }
            @if outcome.existing.len() > EXISTING_SHOWN {
                p.muted { (t(lang, Text::AndMoreTheFirst)) }
            }
        }
    }
}

/// `POST /app/contacts/import`: checks the whole file and shows what it would do.
pub async fn preview(
    State(state): State<AppState>,
    Writer(staff): Writer,
    upload: Upload,
) -> Result<Response, WebError> {
    let lang = staff.lang;
    let Some(file) = upload.file("file") else {
        return Err(WebError::bad(lang, Text::ChooseACsvFile));
    };
    let bytes = file.bytes.clone();
    let rows = match parse(lang, bytes.clone()).await? {
        Ok(rows) => rows,
        Err(errors) => {
            tracing::info!(user = %staff.user, bad_lines = errors.len(), "web: CSV import refused");
            return Ok(refused_page(&staff, &errors));
        }
    };
    let keys = state.tenant_keys(&staff.tenant);
    let outcome = contacts_csv::import(
        &state.store,
        &keys,
        &staff.tenant,
        rows,
        state.clock.now_ms(),
        true,
        || {},
    )
    .await
    .map_err(|e| WebError::Unavailable(e.to_string()))?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(&bytes);
    let new = usize::try_from(outcome.created).unwrap_or(usize::MAX);
    let body = html! {
        div.notice #import-preview {
            p #import-new-count {
                strong { (plural(lang, new, Text::NewContact, Text::NewContacts)) }
                (t(lang, if crate::i18n::singular(lang, u64::try_from(new).unwrap_or(u64::MAX)) { Text::WillBeCreatedOne } else { Text::WillBeCreatedMany }))
            }
            p #import-existing-count {
                strong { (plural(lang, outcome.existing.len(), Text::OneLine, Text::Lines)) }
                (t(lang, Text::AlreadyInTheBook))
            }
        }
        (existing_table(lang, &outcome))
        form.card #import-confirm method="post" action="/app/contacts/import/confirm" enctype="multipart/form-data" {
            (csrf_field(&staff))
            input type="hidden" name="csv" value=(encoded);
            p { (t(lang, Text::TheFileWillBe)) }
            button.primary #import-confirm-button type="submit" { (t(lang, Text::ConfirmTheImport)) }
            " "
            a #import-cancel href="/app/contacts/import" { (t(lang, Text::Cancel)) }
        }
    };
    Ok(page(
        &staff,
        Section::Import,
        StatusCode::OK,
        t(lang, Text::ImportPreview),
        body,
    ))
}

/// `POST /app/contacts/import/confirm`: checks the file again and stores it in one
/// transaction.
pub async fn confirm(
    State(state): State<AppState>,
    Writer(staff): Writer,
    upload: Upload,
) -> Result<Response, WebError> {
    let lang = staff.lang;
    let bytes = upload
        .field("csv")
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .ok_or_else(|| WebError::bad(lang, Text::TheConfirmationDoesNot))?;
    let rows = match parse(lang, bytes).await? {
        Ok(rows) => rows,
        Err(errors) => return Ok(refused_page(&staff, &errors)),
    };
    let total = rows.len();
    let keys = state.tenant_keys(&staff.tenant);
    let store = state.store.clone();
    let tenant = staff.tenant.clone();
    let now = state.clock.now_ms();
    // In a task of its own: a client that hangs up does not cut the transaction short
    // (it would roll back anyway).
    let outcome =
        tokio::spawn(
            async move { contacts_csv::import_atomic(&store, keys, &tenant, rows, now).await },
        )
        .await
        .map_err(|e| WebError::Unavailable(e.to_string()))?
        .map_err(|e| {
            tracing::error!(error = %e, "web: CSV import failed; nothing was stored");
            WebError::Unavailable(e.to_string())
        })?;
    tracing::info!(
        user = %staff.user,
        tenant = %staff.tenant,
        lines = total,
        created = outcome.created,
        existing = outcome.existing.len(),
        "web: CSV import"
    );
    let created = usize::try_from(outcome.created).unwrap_or(usize::MAX);
    let body = html! {
        div.notice #import-outcome role="status" {
            p #import-created {
                strong { (plural(lang, created, Text::ContactCreated, Text::ContactsCreated)) }
                "."
            }
            p #import-existing-count {
                strong { (plural(lang, outcome.existing.len(), Text::OneLine, Text::Lines)) }
                (t(lang, Text::AlreadyInTheBookLeft))
            }
        }
        (existing_table(lang, &outcome))
        p {
            a.button.primary #back-to-book href="/app/contacts" { (t(lang, Text::SeeTheAddressBook)) }
            " "
            a.button #import-another href="/app/contacts/import" { (t(lang, Text::ImportAnotherFile)) }
        }
    };
    Ok(page(
        &staff,
        Section::Import,
        StatusCode::OK,
        t(lang, Text::ImportDone),
        body,
    ))
}
