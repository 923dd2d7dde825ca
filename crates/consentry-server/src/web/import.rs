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
use crate::route_table::Routes;
use crate::state::AppState;
use crate::web::layout::{Lang, Section, WebError, csrf_field, page, tr};
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
            h2 { (tr(lang, "Format du fichier", "File format")) }
            ul {
                li { (tr(lang, "CSV en UTF-8 (RFC 4180 : virgules, guillemets doubles autour d'un champ qui contient une virgule, un guillemet ou un saut de ligne), au plus 100 000 lignes et 20 Mo.", "UTF-8 CSV (RFC 4180: commas, double quotes around a field holding a comma, a quote or a line break), at most 100,000 lines and 20 MiB.")) }
                li { (tr(lang, "Première ligne : les noms des colonnes. ", "First line: the column names. ")) code { "email" } (tr(lang, " est obligatoire ; ", " is required; ")) code { "name" } ", " code { "address" } ", " code { "phone" } ", " code { "category" } " (" code { "private" } ", " code { "professional" } ", " code { "unspecified" } ") " (tr(lang, "et ", "and ")) code { "attr." (tr(lang, "<nom>", "<name>")) } (tr(lang, " (attributs non identifiants) sont facultatives.", " (non-identifying attributes) are optional.")) }
                li { (tr(lang, "Chaque ligne passe les mêmes contrôles qu'un ajout à la main. Une adresse déjà présente dans le carnet n'est pas une erreur : le contact existant est gardé tel quel.", "Every line goes through the same checks as a contact added by hand. An address the book already has is not an error: the existing contact is left as it is.")) }
                li { (tr(lang, "Rien n'est écrit avant votre confirmation, et rien du tout si une ligne est refusée.", "Nothing is written before you confirm, and nothing at all if any line is refused.")) }
            }
            p {
                a #import-example href="/app/contacts/import/example.csv" download="example.csv" { (tr(lang, "Télécharger un fichier d'exemple", "Download an example file")) }
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
            label for="file" { (tr(lang, "Fichier CSV", "CSV file")) }
            input #file type="file" name="file" accept=".csv,text/csv" required;
            div { button.primary #import-submit type="submit" { (tr(lang, "Vérifier le fichier", "Check the file")) } }
            p.muted { (tr(lang, "Le fichier est d'abord vérifié en entier ; vous verrez ce qu'il ajoutera avant de confirmer.", "The whole file is checked first; you will see what it adds before you confirm.")) }
        }
        (format_help(lang))
    };
    page(
        &staff,
        Section::Import,
        StatusCode::OK,
        tr(lang, "Importer des contacts", "Import contacts"),
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
        .map_err(|_| {
            WebError::bad(
                lang,
                "the file could not be checked",
                "le fichier n'a pas pu être vérifié",
            )
        })
}

fn plural(lang: Lang, n: usize, fr: (&str, &str), en: (&str, &str)) -> String {
    let word = match (lang, n) {
        (Lang::Fr, 0 | 1) => fr.0,
        (Lang::Fr, _) => fr.1,
        (Lang::En, 1) => en.0,
        (Lang::En, _) => en.1,
    };
    format!("{n} {word}")
}

/// The page of a refused file: every bad line, and no way forward but a new upload.
fn refused_page(staff: &Staff, errors: &[LineError]) -> Response {
    let lang = staff.lang;
    let n = errors.len();
    let body = html! {
        p.error #import-refused role="alert" {
            strong {
                (plural(lang, n, ("ligne refusée", "lignes refusées"), ("line refused", "lines refused")))
            }
            " — "
            (tr(lang, "rien n'a été importé et rien ne le sera depuis ce fichier. Corrigez ces lignes et envoyez le fichier à nouveau.", "nothing was imported, and nothing will be from this file. Correct these lines and upload the file again."))
        }
        div.table-wrap {
            table #import-errors {
                caption { (tr(lang, "Lignes refusées (le motif nomme la colonne et la règle, jamais la valeur ; motifs en anglais)", "Refused lines (the reason names the column and the rule, never the value)")) }
                thead { tr {
                    th scope="col" { (tr(lang, "Ligne", "Line")) }
                    th scope="col" { (tr(lang, "Motif", "Reason")) }
                } }
                tbody {
                    @for e in errors.iter().take(ERRORS_SHOWN) {
                        tr {
                            td {
                                @if e.line == 0 { (tr(lang, "fichier", "file")) } @else { (e.line) }
                            }
                            td { (e.reason) }
                        }
                    }
                }
            }
        }
        @if n > ERRORS_SHOWN {
            p.muted { (tr(lang, "… et d'autres lignes refusées ; les premières sont listées.", "… and more refused lines; the first ones are listed.")) }
        }
        p { a.button.primary #import-again href="/app/contacts/import" { (tr(lang, "Envoyer un autre fichier", "Upload another file")) } }
    };
    page(
        staff,
        Section::Import,
        StatusCode::UNPROCESSABLE_ENTITY,
        tr(lang, "Fichier refusé", "File refused"),
        body,
    )
}

fn existing_table(lang: Lang, outcome: &Outcome) -> Markup {
    html! {
        @if !outcome.existing.is_empty() {
            div.table-wrap {
                table #import-existing {
                    caption { (tr(lang, "Lignes dont l'adresse est déjà dans le carnet (gardées telles quelles)", "Lines whose address the book already has (left as they are)")) }
                    thead { tr {
                        th scope="col" { (tr(lang, "Ligne", "Line")) }
                        th scope="col" { (tr(lang, "Contact existant", "Existing contact")) }
                    } }
                    tbody {
                        @for (line, id) in outcome.existing.iter().take(EXISTING_SHOWN) {
                            tr { td { (line) } td { a href={"/app/contacts/" (id)} { code { (id) } } } }
                        }
                    }
                }
            }
            @if outcome.existing.len() > EXISTING_SHOWN {
                p.muted { (tr(lang, "… et d'autres ; les premières sont listées.", "… and more; the first ones are listed.")) }
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
        return Err(WebError::bad(
            lang,
            "Choose a CSV file to import.",
            "Choisissez un fichier CSV à importer.",
        ));
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
                strong { (plural(lang, new, ("nouveau contact", "nouveaux contacts"), ("new contact", "new contacts"))) }
                @match (lang, new) {
                    (Lang::Fr, 0 | 1) => { " sera créé." }
                    (Lang::Fr, _) => { " seront créés." }
                    (Lang::En, _) => { " will be created." }
                }
            }
            p #import-existing-count {
                strong { (plural(lang, outcome.existing.len(), ("ligne", "lignes"), ("line", "lines"))) }
                (tr(lang, " déjà dans le carnet (rien ne change pour elles).", " already in the book (nothing changes for them)."))
            }
        }
        (existing_table(lang, &outcome))
        form.card #import-confirm method="post" action="/app/contacts/import/confirm" enctype="multipart/form-data" {
            (csrf_field(&staff))
            input type="hidden" name="csv" value=(encoded);
            p { (tr(lang, "Le fichier sera vérifié à nouveau, puis toutes ses lignes enregistrées d'un seul coup : toutes ou aucune.", "The file will be checked again, then all its lines stored at once: all or none.")) }
            button.primary #import-confirm-button type="submit" { (tr(lang, "Confirmer l'import", "Confirm the import")) }
            " "
            a #import-cancel href="/app/contacts/import" { (tr(lang, "Annuler", "Cancel")) }
        }
    };
    Ok(page(
        &staff,
        Section::Import,
        StatusCode::OK,
        tr(lang, "Aperçu de l'import", "Import preview"),
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
        .ok_or_else(|| {
            WebError::bad(
                lang,
                "The confirmation does not carry a file; upload it again.",
                "La confirmation ne contient pas de fichier ; envoyez-le à nouveau.",
            )
        })?;
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
                strong { (plural(lang, created, ("contact créé", "contacts créés"), ("contact created", "contacts created"))) }
                "."
            }
            p #import-existing-count {
                strong { (plural(lang, outcome.existing.len(), ("ligne", "lignes"), ("line", "lines"))) }
                (tr(lang, " déjà dans le carnet, laissées telles quelles.", " already in the book, left as they were."))
            }
        }
        (existing_table(lang, &outcome))
        p {
            a.button.primary #back-to-book href="/app/contacts" { (tr(lang, "Voir le carnet d'adresses", "See the address book")) }
            " "
            a.button #import-another href="/app/contacts/import" { (tr(lang, "Importer un autre fichier", "Import another file")) }
        }
    };
    Ok(page(
        &staff,
        Section::Import,
        StatusCode::OK,
        tr(lang, "Import terminé", "Import done"),
        body,
    ))
}
