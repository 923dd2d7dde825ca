//! Staff accounts: `/app/users` (admins: list, add, disable) and `/app/account/password`
//! (everyone: change their own password).
//!
//! Addresses are not stored: a user row keeps only a keyed blind index of the normalised
//! address (what the sign-in form looks up), so the list shows IDs and roles, and admins
//! keep their own note of who is who. A new user's initial password is generated (128
//! bits) and shown once on the page that answers the form; the user changes it after
//! signing in. Changing a password, or disabling a user, ends every session of that user.

use crate::i18n::{Text, t};
use crate::route_table::Routes;
use crate::session::Principal;
use crate::state::AppState;
use crate::web::layout::{Lang, Section, WebError, csrf_field, local_time, page};
use crate::web::session::{
    self, Admin, Form, MIN_PASSWORD_CHARS, PasswordError, Role, Staff, hash_password, login_index,
    verify_password,
};
use crate::web::signin::Empty;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use consentry_core::ids::UserId;
use consentry_store::UserRow;
use consentry_vault::normalize_email;
use maud::{Markup, html};
use serde::Deserialize;

/// This module's routes.
pub fn routes() -> Routes {
    Routes::new()
        .get("/app/users", list)
        .post("/app/users", add)
        .post("/app/users/{id}/disable", disable)
        .get("/app/account/password", password_page)
        .post("/app/account/password", change_password)
}

/// A new random password: 128 bits as 32 hex digits in four groups of eight
/// (`0a1b2c3d-…`), as `consentry user add` makes them.
pub fn generated_password() -> String {
    let hex = crate::session::new_secret();
    hex.as_bytes()
        .chunks(8)
        .take(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// The sign-in page with the staff's organisation filled in.
fn sign_in_link(state: &AppState, staff: &Staff) -> String {
    format!(
        "{}/app/login?tenant={}",
        state.config.public_url.trim_end_matches('/'),
        staff.tenant
    )
}

fn role_name(lang: Lang, role: Role) -> &'static str {
    t(
        lang,
        match role {
            Role::Admin => Text::Admin,
            Role::Operator => Text::Operator,
            Role::Auditor => Text::Auditor,
        },
    )
}

/// `GET /app/users` (admins): the tenant's users and the form to add one.
pub async fn list(
    State(state): State<AppState>,
    Admin(staff): Admin,
) -> Result<Response, WebError> {
    let lang = staff.lang;
    let users = state.store.users(&staff.tenant).await?;
    let body = html! {
        p.muted #users-no-address {
            (t(lang, Text::UsersEMailAddresses))
        }
        p #users-sign-in { (Text::YourColleaguesSignIn.fill(lang, &[("link", &sign_in_link(&state, &staff)), ("tenant", &staff.tenant)])) }
        div.table-wrap tabindex="0" {
            table #users-table {
                caption.visually-hidden { (t(lang, Text::Users)) }
                thead { tr {
                    th scope="col" { (t(lang, Text::Id)) }
                    th scope="col" { (t(lang, Text::Role)) }
                    th scope="col" { (t(lang, Text::Created2)) }
                    th scope="col" { (t(lang, Text::State)) }
                    th scope="col" { (t(lang, Text::Action)) }
                } }
                tbody {
                    @for u in &users { (user_row(&state, &staff, u)) }
                }
            }
        }
        h2 { (t(lang, Text::AddAUser)) }
        form.card #user-form method="post" action="/app/users" {
            (csrf_field(&staff))
            label for="user-email" { (t(lang, Text::EMailAddressTheir)) }
            input #user-email type="email" name="email" required maxlength="254" autocomplete="off";
            label for="user-role" { (t(lang, Text::Role)) }
            select #user-role name="role" required {
                option value="operator" { (t(lang, Text::OperatorAddressBookConsents)) }
                option value="auditor" { (t(lang, Text::AuditorReadAndDownload)) }
                option value="admin" { (t(lang, Text::AdminEverythingIncludingPurposes)) }
            }
            p.muted { (t(lang, Text::AnInitialPasswordIs)) }
            div { button.primary #user-submit type="submit" { (t(lang, Text::Add)) } }
        }
    };
    Ok(page(
        &staff,
        Section::Users,
        StatusCode::OK,
        t(lang, Text::Users),
        body,
    ))
}

fn user_row(state: &AppState, staff: &Staff, u: &UserRow) -> Markup {
    let lang = staff.lang;
    let active = u.disabled_at.is_none();
    html! {
        tr #{"user-" (u.id)} data-user=(u.id) data-state=(if active { "active" } else { "disabled" }) {
            td { code { (u.id) } @if u.id == staff.user { " " span.muted { (t(lang, Text::You2)) } } }
            td { (role_name(lang, u.role)) }
            td { (local_time(state, u.created_at)) }
            td {
                @match u.disabled_at {
                    None => { (t(lang, Text::Active)) }
                    Some(at) => { (t(lang, Text::DisabledOn)) (local_time(state, at)) }
                }
            }
            td {
                @if active && u.id != staff.user {
                    form.inline method="post" action={"/app/users/" (u.id) "/disable"} {
                        (csrf_field(staff))
                        button.danger id={"disable-" (u.id)} type="submit" {
                            (t(lang, Text::Disable))
                        }
                    }
                }
            }
        }
    }
}

/// The add-user form.
#[derive(Deserialize)]
pub struct AddForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

/// `POST /app/users` (admins): adds a user with a generated password, shown once.
pub async fn add(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Form(form): Form<AddForm>,
) -> Result<Response, WebError> {
    let lang = staff.lang;
    let Ok(normalized) = normalize_email(&form.email) else {
        return Err(WebError::bad(lang, Text::ThisIsNotAn));
    };
    let Some(role) = Role::parse(form.role.trim()) else {
        return Err(WebError::bad(lang, Text::TheRoleMustBe));
    };
    let password = generated_password();
    let hash = hash_in_pool(password.clone())
        .await
        .map_err(|e| WebError::Unavailable(e.to_string()))?;
    let now = state.clock.now_ms();
    let user = UserRow {
        id: UserId::from_suffix(&consentry_ledger::random::id_suffix(now))
            .map_err(|e| WebError::Unavailable(e.to_string()))?,
        tenant: staff.tenant.clone(),
        role,
        password_hash: hash,
        created_at: now,
        disabled_at: None,
    };
    if !state
        .store
        .insert_user(&user, &login_index(&state.keys.master, &normalized))
        .await?
    {
        return Err(WebError::bad(lang, Text::AUserOfYour));
    }
    tracing::info!(user = %staff.user, tenant = %staff.tenant, added = %user.id, role = role.as_str(), "staff user added");
    let body = html! {
        p.notice role="status" #user-added data-user=(user.id) {
            (t(lang, Text::UserAdded)) code #new-user-id { (user.id) }
            " (" (role_name(lang, role)) ")."
        }
        div.card.warn {
            p { (t(lang, Text::InitialPasswordShownThis)) }
            p { code #new-password { (password) } }
            p { (t(lang, Text::PassItOnThrough)) }
            p #new-user-sign-in { (Text::TheySignInAt.fill(lang, &[("link", &sign_in_link(&state, &staff)), ("tenant", &staff.tenant)])) }
        }
        p { a href="/app/users" { (t(lang, Text::BackToUsers)) } }
    };
    Ok(page(
        &staff,
        Section::Users,
        StatusCode::CREATED,
        t(lang, Text::UserAdded2),
        body,
    ))
}

async fn hash_in_pool(password: String) -> Result<String, PasswordError> {
    crate::web::session::hashing(move || hash_password(&password))
        .await
        .ok_or_else(|| PasswordError::Hash("the hashing task failed".to_owned()))?
}

/// `POST /app/users/{id}/disable` (admins): disables a user of the tenant and ends their
/// sessions. An admin cannot disable themself.
pub async fn disable(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(id): Path<String>,
    Form(Empty {}): Form<Empty>,
) -> Result<Response, WebError> {
    let lang = staff.lang;
    let Ok(id) = UserId::parse(&id) else {
        return Err(WebError::NotFound(lang));
    };
    if id == staff.user {
        return Err(WebError::bad(lang, Text::YouCannotDisableYourself));
    }
    if !state
        .store
        .disable_user(&staff.tenant, &id, state.clock.now_ms())
        .await?
    {
        return Err(WebError::NotFound(lang));
    }
    tracing::info!(user = %staff.user, tenant = %staff.tenant, disabled = %id, "staff user disabled");
    Ok(Redirect::to(&format!("/app/users#user-{id}")).into_response())
}

fn password_form(staff: &Staff, status: StatusCode, error: Option<&str>) -> Response {
    let lang = staff.lang;
    let body = html! {
        @if let Some(e) = error { p.error role="alert" #password-error { (e) } }
        form.card #password-form method="post" action="/app/account/password" {
            (csrf_field(staff))
            label for="password-current" { (t(lang, Text::CurrentPassword)) }
            input #password-current type="password" name="current" required autocomplete="current-password" maxlength="1024";
            label for="password-new" { (t(lang, Text::NewPasswordAtLeast)) }
            input #password-new type="password" name="new" required autocomplete="new-password" minlength="12" maxlength="1024";
            label for="password-again" { (t(lang, Text::NewPasswordAgain)) }
            input #password-again type="password" name="again" required autocomplete="new-password" minlength="12" maxlength="1024";
            p.muted { (t(lang, Text::AfterTheChangeEvery)) }
            div { button.primary #password-submit type="submit" { (t(lang, Text::ChangeThePassword)) } }
        }
    };
    page(
        staff,
        Section::None,
        status,
        t(lang, Text::ChangeYourPassword2),
        body,
    )
}

/// `GET /app/account/password`.
pub async fn password_page(staff: Staff) -> Response {
    password_form(&staff, StatusCode::OK, None)
}

/// The password form.
#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    again: String,
}

/// `POST /app/account/password`: checks the current password, sets the new one, ends
/// every session of the user and sends them to the sign-in page.
pub async fn change_password(
    State(state): State<AppState>,
    staff: Staff,
    Form(form): Form<PasswordForm>,
) -> Result<Response, WebError> {
    let lang = staff.lang;
    let now = state.clock.now_ms();
    // Only wrong current passwords count: the attempt is given back once it matched.
    let Some(attempt) = state.web_limiter.attempt(
        &[(
            "staff-password",
            staff.user.as_str().as_bytes(),
            session::PER_ACCOUNT,
        )],
        now,
    ) else {
        let mut res = password_form(
            &staff,
            StatusCode::TOO_MANY_REQUESTS,
            Some(t(lang, Text::TooManyRecentAttemptsTry)),
        );
        res.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from(crate::session::SIGN_IN_WINDOW_MS / 1000),
        );
        return Ok(res);
    };
    let user = state
        .store
        .users(&staff.tenant)
        .await?
        .into_iter()
        .find(|u| u.id == staff.user && u.disabled_at.is_none())
        .ok_or(WebError::SignIn { next: None })?;
    let current = form.current;
    let stored = user.password_hash.clone();
    let matched = crate::web::session::hashing(move || verify_password(&current, Some(&stored)))
        .await
        .unwrap_or(false);
    if !matched {
        return Ok(password_form(
            &staff,
            StatusCode::BAD_REQUEST,
            Some(t(lang, Text::TheCurrentPasswordIs)),
        ));
    }
    attempt.succeeded();
    if form.new != form.again {
        return Ok(password_form(
            &staff,
            StatusCode::BAD_REQUEST,
            Some(t(lang, Text::TheTwoNewPasswords)),
        ));
    }
    if form.new.chars().count() < MIN_PASSWORD_CHARS {
        return Ok(password_form(
            &staff,
            StatusCode::BAD_REQUEST,
            Some(t(lang, Text::TheNewPasswordNeeds)),
        ));
    }
    let hash = hash_in_pool(form.new)
        .await
        .map_err(|e| WebError::Unavailable(e.to_string()))?;
    state.store.set_user_password(&staff.user, &hash).await?;
    tracing::info!(user = %staff.user, tenant = %staff.tenant, "staff password changed; sessions ended");
    let mut res = Redirect::to("/app/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&Principal::Staff.set_cookie(&state, None)) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_are_long_enough_and_differ() {
        let a = generated_password();
        let b = generated_password();
        assert_eq!(a.len(), 35);
        assert_eq!(a.matches('-').count(), 3);
        assert!(a.chars().count() >= MIN_PASSWORD_CHARS);
        assert_ne!(a, b);
    }
}
