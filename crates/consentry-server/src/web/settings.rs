//! The organisation's settings: `/app/settings` (admins). Today one setting, the contact
//! recipients are shown on every e-mail and answer page — an e-mail address or an https
//! URL of the organisation, checked by [`SenderContact::parse`] as the API checks it.

use crate::i18n::{Text, t};
use crate::route_table::Routes;
use crate::sender::SenderContact;
use crate::state::AppState;
use crate::web::layout::{Section, WebError, csrf_field, page};
use crate::web::session::{Admin, Form};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

/// This module's routes.
pub fn routes() -> Routes {
    Routes::new()
        .get("/app/settings", show)
        .post("/app/settings", save)
}

/// `?saved=1` of the page after a change.
#[derive(Deserialize, Default)]
pub struct Saved {
    #[serde(default)]
    saved: Option<String>,
}

/// `GET /app/settings` (admins): the organisation's name and its contact for recipients.
pub async fn show(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Query(done): Query<Saved>,
) -> Result<Response, WebError> {
    let lang = staff.lang;
    let tenant = state
        .store
        .tenant(&staff.tenant)
        .await?
        .ok_or(WebError::NotFound(lang))?;
    let body = html! {
        @if done.saved.is_some() {
            p.notice role="status" #settings-saved { (t(lang, Text::SettingsSaved)) }
        }
        p { (t(lang, Text::OrganisationName)) strong #organisation-name { (tenant.name) } }
        form.card #settings-form method="post" action="/app/settings" {
            (csrf_field(&staff))
            label for="settings-contact" { (t(lang, Text::ContactForRecipients)) }
            p.muted #settings-contact-help { (t(lang, Text::ContactForRecipientsHelp)) }
            input #settings-contact type="text" name="contact" maxlength="254" autocomplete="off"
                aria-describedby="settings-contact-help" value=(tenant.contact.as_deref().unwrap_or(""));
            div { button.primary #settings-submit type="submit" { (t(lang, Text::Save)) } }
        }
    };
    Ok(page(
        &staff,
        Section::Settings,
        StatusCode::OK,
        t(lang, Text::Organisation),
        body,
    ))
}

/// The settings form.
#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    contact: String,
}

/// `POST /app/settings` (admins): sets the contact (empty removes it). A contact that is
/// neither an address nor an https URL is refused and nothing changes.
pub async fn save(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Form(form): Form<SettingsForm>,
) -> Result<Response, WebError> {
    let lang = staff.lang;
    let contact = if form.contact.trim().is_empty() {
        None
    } else {
        Some(
            SenderContact::parse(&form.contact)
                .map_err(|_| WebError::bad(lang, Text::TheContactMustBe))?,
        )
    };
    state
        .store
        .set_tenant_contact(&staff.tenant, contact.as_ref().map(SenderContact::as_str))
        .await?;
    tracing::info!(user = %staff.user, tenant = %staff.tenant, "organisation contact saved");
    Ok(Redirect::to("/app/settings?saved=1").into_response())
}
