//! Purposes and their versioned notices: `/app/purposes` (everyone reads), `POST
//! /app/purposes` and `POST /app/notices` (admins).
//!
//! A purpose is named as proofs name it (the API's rules, [`check_purpose`]), with a
//! description per language — what the person asked reads in the e-mail and on the
//! answer page (their language's, else the other's, else the name) — and a default
//! validity. Purposes in use but never defined here (the API takes any name) are listed
//! too, so that an admin can describe them. A notice is the text a recipient reads before
//! answering a request; it is versioned per purpose and language, and **a new version
//! never edits an old one**: proofs keep the SHA-256 of the exact text they showed, so an
//! old version must stay readable as it was. Line endings are normalised to `\n` before
//! the text is hashed and stored (browsers send `\r\n`), so the stored text, the text a
//! request shows and the hash its proof records agree byte for byte.

use crate::consents::check_purpose;
use crate::i18n::{Text, t};
use crate::route_table::Routes;
use crate::sender::{CheckedPurpose, PurposeError, check_purpose_fields};
use crate::state::AppState;
use crate::web::layout::{Section, WebError, csrf_field, local_time, page};
use crate::web::session::{Admin, Form, Role, Staff};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use consentry_core::ids::NoticeId;
use consentry_store::{NoticeRow, PurposeRow};
use maud::{Markup, html};
use serde::Deserialize;

/// Longest notice text, in characters (the API's limit for a request's notice).
pub const MAX_NOTICE_CHARS: usize = 20_000;
pub use crate::sender::MAX_DESCRIPTION_CHARS;

/// This module's routes.
pub fn routes() -> Routes {
    Routes::new()
        .get("/app/purposes", show)
        .post("/app/purposes", save_purpose)
        .post("/app/notices", add_notice)
}

/// A notice text as stored: line endings normalised to `\n` (`\r\n` and lone `\r`).
pub fn normalize_notice(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// Whether a (normalised) notice text is acceptable: not blank, at most
/// [`MAX_NOTICE_CHARS`] characters — what `POST /v1/consent-requests` accepts.
pub fn notice_text_ok(text: &str) -> bool {
    !text.trim().is_empty() && text.chars().count() <= MAX_NOTICE_CHARS
}

/// `?saved=` / `?notice=` of the page after a change.
#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    saved: Option<String>,
    #[serde(default)]
    notice: Option<String>,
}

/// `GET /app/purposes`: the purposes, every notice version, and (for admins) the forms.
pub async fn show(
    State(state): State<AppState>,
    staff: Staff,
    Query(done): Query<Done>,
) -> Result<Response, WebError> {
    let lang = staff.lang;
    let purposes = state.store.purposes(&staff.tenant).await?;
    let undefined = state.store.undefined_purposes(&staff.tenant).await?;
    let notices = state.store.notices(&staff.tenant, None).await?;
    let added = match done.notice.as_deref().map(NoticeId::parse) {
        Some(Ok(id)) => state.store.notice(&staff.tenant, &id).await?,
        _ => None,
    };
    let saved = done.saved.filter(|s| purposes.iter().any(|p| &p.name == s));
    let admin = staff.role == Role::Admin;
    let body = html! {
        @if let Some(name) = &saved {
            p.notice role="status" #purpose-saved {
                (t(lang, Text::PurposeSaved)) strong { (name) }
            }
        }
        @if let Some(n) = &added {
            p.notice role="status" #notice-added {
                (t(lang, Text::NewVersionSaved))
                strong { (n.purpose) " · " (n.language) " · v" (n.version) }
                " — SHA-256 " code { (n.sha256) }
            }
        }
        p {
            (t(lang, Text::APurposeIsWhat))
        }
        p.muted {
            (t(lang, Text::ANewNoticeVersion))
        }
        h2 { (t(lang, Text::Purposes)) }
        @if purposes.is_empty() && undefined.is_empty() {
            p #no-purposes { (t(lang, Text::NoPurposeDefinedYet)) }
        } @else {
            div.table-wrap tabindex="0" {
                table #purposes-table {
                    caption.visually-hidden { (t(lang, Text::Purposes)) }
                    thead { tr {
                        th scope="col" { (t(lang, Text::Name)) }
                        th scope="col" { (t(lang, Text::DescriptionInFrench)) }
                        th scope="col" { (t(lang, Text::DescriptionInEnglish)) }
                        th scope="col" { (t(lang, Text::DefaultValidity)) }
                        th scope="col" { (t(lang, Text::Notices)) }
                    } }
                    tbody {
                        @for p in &purposes {
                            tr data-purpose=(p.name) {
                                td { code { (p.name) } }
                                td lang="fr" { (p.description) }
                                td lang="en" { (p.description_en) }
                                td { (validity(lang, p.valid_days)) }
                                td { a href={"#purpose-" (p.name)} {
                                    (notices.iter().filter(|n| n.purpose == p.name).count())
                                    " " (t(lang, Text::VersionS))
                                } }
                            }
                        }
                        @for name in &undefined {
                            tr.undefined data-purpose=(name) {
                                td { code { (name) } }
                                td colspan="2" { em { (t(lang, Text::UsedButNotDescribed)) } }
                                td { "—" }
                                td { "—" }
                            }
                        }
                    }
                }
            }
        }
        @if admin {
            (purpose_form(&staff))
            @if !purposes.is_empty() { (notice_form(&staff, &purposes)) }
        }
        h2 { (t(lang, Text::Notices)) }
        @for p in &purposes {
            (purpose_notices(&state, lang, p, &notices))
        }
    };
    Ok(page(
        &staff,
        Section::Purposes,
        StatusCode::OK,
        t(lang, Text::PurposesAndNotices),
        body,
    ))
}

fn validity(lang: crate::web::layout::Lang, days: Option<u32>) -> Markup {
    html! {
        @match days {
            Some(d) => { (d) " " (t(lang, Text::Days)) }
            None => { (t(lang, Text::NoEnd)) }
        }
    }
}

fn purpose_notices(
    state: &AppState,
    lang: crate::web::layout::Lang,
    p: &PurposeRow,
    notices: &[NoticeRow],
) -> Markup {
    let mine: Vec<&NoticeRow> = notices.iter().filter(|n| n.purpose == p.name).collect();
    html! {
        section.card id={"purpose-" (p.name)} {
            h3 { code { (p.name) } }
            @if mine.is_empty() {
                p.muted { (t(lang, Text::NoNoticeForThis)) }
            }
            @for language in ["fr", "en"] {
                @let versions: Vec<&&NoticeRow> = mine.iter().filter(|n| n.language == language).collect();
                @if !versions.is_empty() {
                    h4 lang=(language) { (language_name(lang, language)) }
                    div.table-wrap tabindex="0" {
                        table id={"notices-" (p.name) "-" (language)} {
                            caption.visually-hidden {
                                (t(lang, Text::NoticeVersionsNewestFirst))
                            }
                            thead { tr {
                                th scope="col" { (t(lang, Text::Version)) }
                                th scope="col" { (t(lang, Text::Date)) }
                                th scope="col" { "SHA-256" }
                                th scope="col" { (t(lang, Text::Text)) }
                            } }
                            tbody {
                                @for (i, n) in versions.iter().enumerate() {
                                    tr id=(n.id.as_str()) data-version=(n.version) {
                                        td { "v" (n.version) }
                                        td { (local_time(state, n.created_at)) }
                                        td { code.sha256 { (n.sha256) } }
                                        td {
                                            details open[i == 0] {
                                                summary { (t(lang, Text::ThisVersionSText)) }
                                                div.notice-text lang=(n.language) { (n.body) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn language_name(lang: crate::web::layout::Lang, code: &str) -> &'static str {
    match code {
        "fr" => t(lang, Text::French),
        _ => t(lang, Text::English),
    }
}

fn purpose_form(staff: &Staff) -> Markup {
    let lang = staff.lang;
    html! {
        h2 { (t(lang, Text::CreateOrUpdateA)) }
        form.card #purpose-form method="post" action="/app/purposes" {
            (csrf_field(staff))
            p.muted { (t(lang, Text::SavingAnExistingName)) }
            label for="purpose-name" { (t(lang, Text::NameAZ0)) }
            input #purpose-name type="text" name="name" required maxlength="64"
                pattern="[a-z0-9][a-z0-9._\\-]{0,63}" autocomplete="off";
            p.muted #purpose-description-help { (t(lang, Text::DescriptionsAreWhatThe)) }
            label for="purpose-description" { (t(lang, Text::DescriptionInFrench2000)) }
            textarea #purpose-description name="description" lang="fr" maxlength="2000" aria-describedby="purpose-description-help" {}
            label for="purpose-description-en" { (t(lang, Text::DescriptionInEnglish2000)) }
            textarea #purpose-description-en name="description_en" lang="en" maxlength="2000" aria-describedby="purpose-description-help" {}
            label for="purpose-valid-days" { (t(lang, Text::DefaultValidityOfA)) }
            input #purpose-valid-days type="number" name="valid_days" min=(consentry_core::consent::VALID_DAYS.start()) max=(consentry_core::consent::VALID_DAYS.end()) step="1";
            div { button.primary #purpose-submit type="submit" { (t(lang, Text::SaveThePurpose)) } }
        }
    }
}

fn notice_form(staff: &Staff, purposes: &[PurposeRow]) -> Markup {
    let lang = staff.lang;
    html! {
        h2 { (t(lang, Text::AddANoticeVersion)) }
        form.card #notice-form method="post" action="/app/notices" {
            (csrf_field(staff))
            p.muted { (t(lang, Text::EachSubmissionCreatesThe)) }
            label for="notice-purpose" { (t(lang, Text::Purpose2)) }
            select #notice-purpose name="purpose" required {
                @for p in purposes { option value=(p.name) { (p.name) } }
            }
            label for="notice-language" { (t(lang, Text::Language)) }
            select #notice-language name="language" required {
                option value="fr" { "Français" }
                option value="en" { "English" }
            }
            label for="notice-text" { (t(lang, Text::ExactTextShownTo)) }
            textarea #notice-text name="text" required maxlength="20000" {}
            div { button.primary #notice-submit type="submit" { (t(lang, Text::SaveANewVersion)) } }
        }
    }
}

/// The purpose form.
#[derive(Deserialize)]
pub struct PurposeForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    description_en: String,
    #[serde(default)]
    valid_days: String,
}

/// Checks a purpose form: the name, the trimmed descriptions, the validity.
fn check_purpose_form(
    lang: crate::web::layout::Lang,
    f: &PurposeForm,
) -> Result<CheckedPurpose, WebError> {
    let days = f.valid_days.trim();
    let valid_days = if days.is_empty() {
        None
    } else {
        match days.parse::<u32>() {
            Ok(d) => Some(d),
            Err(_) => return Err(WebError::bad(lang, Text::TheDefaultValidityMust)),
        }
    };
    check_purpose_fields(&f.name, &f.description, &f.description_en, valid_days).map_err(|e| {
        WebError::bad(
            lang,
            match e {
                PurposeError::Name => Text::ThePurposeNameMust,
                PurposeError::Description => Text::TheDescriptionMustBe,
                PurposeError::Validity => Text::TheDefaultValidityMust,
            },
        )
    })
}

/// `POST /app/purposes` (admins): creates or updates a purpose.
pub async fn save_purpose(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Form(form): Form<PurposeForm>,
) -> Result<Response, WebError> {
    let CheckedPurpose {
        name,
        description_fr,
        description_en,
        valid_days,
    } = check_purpose_form(staff.lang, &form)?;
    state
        .store
        .upsert_purpose(
            &staff.tenant,
            &name,
            &description_fr,
            &description_en,
            valid_days,
            state.clock.now_ms(),
        )
        .await?;
    tracing::info!(user = %staff.user, tenant = %staff.tenant, "purpose saved");
    Ok(Redirect::to(&format!(
        "/app/purposes?saved={}#purpose-{name}",
        crate::web::layout::urlencode(&name)
    ))
    .into_response())
}

/// The notice form.
#[derive(Deserialize)]
pub struct NoticeForm {
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    text: String,
}

/// `POST /app/notices` (admins): adds the next version of a purpose's notice in a
/// language. The text is stored with `\n` line endings and its SHA-256.
pub async fn add_notice(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Form(form): Form<NoticeForm>,
) -> Result<Response, WebError> {
    let lang = staff.lang;
    let purpose = form.purpose.trim();
    if check_purpose(purpose).is_err()
        || state.store.purpose(&staff.tenant, purpose).await?.is_none()
    {
        return Err(WebError::bad(lang, Text::ChooseOneOfYour));
    }
    if form.language != "fr" && form.language != "en" {
        return Err(WebError::bad(lang, Text::TheLanguageMustBe));
    }
    let text = normalize_notice(&form.text);
    if !notice_text_ok(&text) {
        return Err(WebError::bad(lang, Text::TheNoticeTextMust));
    }
    let now = state.clock.now_ms();
    let id = NoticeId::from_suffix(&consentry_ledger::random::id_suffix(now))
        .map_err(|e| WebError::Unavailable(e.to_string()))?;
    let row = state
        .store
        .add_notice(&staff.tenant, &id, purpose, &form.language, &text, now)
        .await?;
    tracing::info!(user = %staff.user, tenant = %staff.tenant, notice = %row.id, version = row.version, "notice version added");
    Ok(Redirect::to(&format!("/app/purposes?notice={}#{}", row.id, row.id)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notice_texts_are_normalised_and_checked() {
        assert_eq!(normalize_notice("a\r\nb\rc\n"), "a\nb\nc\n");
        assert!(notice_text_ok("x"));
        assert!(!notice_text_ok(" \n\t"));
        assert!(notice_text_ok(&"é".repeat(MAX_NOTICE_CHARS)));
        assert!(!notice_text_ok(&"é".repeat(MAX_NOTICE_CHARS + 1)));
    }

    #[test]
    fn purpose_forms_follow_the_api_rules() {
        let lang = crate::web::layout::Lang::En;
        let f = |name: &str, d: &str, v: &str| PurposeForm {
            name: name.into(),
            description: d.into(),
            description_en: String::new(),
            valid_days: v.into(),
        };
        assert_eq!(
            check_purpose_form(lang, &f(" news ", " Mensuel ", "")).unwrap(),
            CheckedPurpose {
                name: "news".into(),
                description_fr: "Mensuel".into(),
                description_en: String::new(),
                valid_days: None
            }
        );
        assert_eq!(
            check_purpose_form(lang, &f("a.b_c-1", "x", "3650"))
                .unwrap()
                .valid_days,
            Some(3650)
        );
        let english_only = PurposeForm {
            description_en: " Monthly ".into(),
            ..f("news", "", "")
        };
        assert_eq!(
            check_purpose_form(lang, &english_only)
                .unwrap()
                .description_en,
            "Monthly"
        );
        let long_english = PurposeForm {
            description_en: "x".repeat(2001),
            ..f("news", "x", "")
        };
        assert!(check_purpose_form(lang, &long_english).is_err());
        for bad in [
            f("News", "x", ""),
            f("", "x", ""),
            f(&"a".repeat(65), "x", ""),
            f("news", " ", ""),
            f("news", &"x".repeat(2001), ""),
            f("news", "x", "0"),
            f("news", "x", "3651"),
            f("news", "x", "1.5"),
            f("news", "x", "-3"),
        ] {
            assert!(check_purpose_form(lang, &bad).is_err());
        }
    }
}
