//! A forgotten staff password, reset by an e-mailed single-use link (issue 16, item 7).
//!
//! - **Asking** (`/app/reset`): the organisation and the address. The answer is the same
//!   page whether an account matches or not, and the look-up, the link and the e-mail run
//!   in a task of their own after it (as the portal's sign-in does), so neither the page
//!   nor its timing says whether the account exists. Only an enabled user of the named
//!   organisation gets an e-mail, at the address typed (the service keeps no staff
//!   address, only its keyed index). Requests are limited like sign-ins, per address and
//!   per client ([`PER_ADDRESS`], [`session::PER_IP`]); every request counts, since each
//!   may send an e-mail.
//! - **The link** (`/app/reset/{token}`) carries a 256-bit random token; the database keeps
//!   its SHA-256 ([`consentry_store::ResetState`]). It works once, for [`RESET_TTL_MS`],
//!   and only while it is the user's newest; a successful reset replaces the user's other
//!   links and ends all the user's sessions. The token is never logged.
//! - **The new password** follows the rules of the change-password form (twice, at least
//!   [`MIN_PASSWORD_CHARS`] characters).

use crate::client::{ClientIp, foreign_origin};
use crate::i18n::{Text, t};
use crate::session::secret_hash;
use crate::state::AppState;
use crate::web::layout::{self, Lang, WebError, public_page};
use crate::web::session::{self, MIN_PASSWORD_CHARS};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use consentry_core::ids::TenantId;
use consentry_store::ResetState;
use consentry_vault::normalize_email;
use maud::html;
use serde::Deserialize;

/// How long a reset link works: one hour.
pub const RESET_TTL_MS: i64 = 60 * 60 * 1000;
/// Reset requests per address per window (each may send an e-mail).
pub const PER_ADDRESS: usize = 5;

/// `?tenant=` of the request form.
#[derive(Deserialize, Default)]
pub struct TenantQuery {
    #[serde(default)]
    tenant: Option<String>,
}

fn request_form(
    lang: Lang,
    status: StatusCode,
    tenant: Option<&str>,
    error: Option<&str>,
) -> Response {
    public_page(
        lang,
        status,
        t(lang, Text::ResetYourPassword),
        html! {
            @if let Some(e) = error { p.error role="alert" #reset-error { (e) } }
            p { (t(lang, Text::GiveYourOrganisationAnd)) }
            form.card method="post" action="/app/reset" {
                label for="tenant" { (t(lang, Text::OrganisationItsIdentifier)) }
                input #tenant type="text" name="tenant" value=[tenant] maxlength="80"
                    autocomplete="organization" spellcheck="false";
                label for="email" { (t(lang, Text::EMailAddress)) }
                input #email type="email" name="email" required autocomplete="username" maxlength="254" autofocus;
                div { button.primary type="submit" { (t(lang, Text::SendTheLink)) } }
            }
            p { a href="/app/login" { (t(lang, Text::BackToSignIn)) } }
        },
    )
}

/// `GET /app/reset`: the form asking for the organisation and the address.
pub async fn request_page(headers: HeaderMap, Query(q): Query<TenantQuery>) -> Response {
    let tenant = q
        .tenant
        .and_then(|t| TenantId::parse(t.trim()).ok())
        .map(|t| t.to_string());
    request_form(
        layout::language(&headers),
        StatusCode::OK,
        tenant.as_deref(),
        None,
    )
}

/// The request form.
#[derive(Deserialize)]
struct RequestForm {
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    email: String,
}

/// `POST /app/reset`: e-mails a reset link if an enabled user of the organisation has
/// the address; the same page either way.
pub async fn request(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: ClientIp,
    body: Bytes,
) -> Result<Response, WebError> {
    let lang = layout::language(&headers);
    if foreign_origin(&state, &headers) {
        return Err(WebError::Forbidden(lang));
    }
    let form: RequestForm = serde_html_form::from_bytes(&body)
        .map_err(|_| WebError::bad(lang, Text::UnreadableForm))?;
    let shown = TenantId::parse(form.tenant.trim()).ok();
    let sent_page = || {
        public_page(
            lang,
            StatusCode::OK,
            t(lang, Text::CheckYourEMail),
            html! {
                p #reset-sent { (t(lang, Text::IfAnActiveAccount)) }
                p { (t(lang, Text::NothingArrivedCheckSpam)) }
                p { a href="/app/login" { (t(lang, Text::BackToSignIn)) } }
            },
        )
    };
    // An address that cannot be anyone's gets the same page: nothing to look up.
    let Ok(normalized) = normalize_email(&form.email) else {
        return Ok(sent_page());
    };
    let now = state.clock.now_ms();
    let client_key = client.limit_key();
    let mut keys: Vec<(&str, &[u8], usize)> =
        vec![("staff-reset-address", normalized.as_bytes(), PER_ADDRESS)];
    if let Some(key) = &client_key {
        keys.push(("staff-reset-ip", key.as_bytes(), session::PER_IP));
    }
    if !state.web_limiter.allow(&keys, now) {
        tracing::info!(client = ?client_key, "staff password reset throttled");
        let mut res = request_form(
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            shown.as_ref().map(|t| t.as_str()),
            Some(t(lang, Text::TooManyRecentAttempts)),
        );
        res.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(session::SIGN_IN_WINDOW_MS / 1000),
        );
        return Ok(res);
    }
    let given = form.tenant.trim().to_owned();
    tokio::spawn(send_link(state.clone(), given, normalized, lang));
    Ok(sent_page())
}

/// The work after the answer: find the user, store a link, e-mail it. Failures go to the
/// log, without the address or the token.
async fn send_link(state: AppState, given_tenant: String, normalized: String, lang: Lang) {
    let now = state.clock.now_ms();
    let tenant = if given_tenant.is_empty() {
        // As at sign-in: an empty organisation means the service's only tenant.
        match state.store.tenant_ids().await {
            Ok(mut all) if all.len() == 1 => all.pop(),
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(error = %e, "password reset: look-up failed");
                return;
            }
        }
    } else {
        TenantId::parse(&given_tenant).ok()
    };
    let Some(tenant) = tenant else {
        tracing::info!("password reset asked without a known organisation; no e-mail");
        return;
    };
    let index = session::login_index(&state.keys.master, &normalized);
    let user = match state.store.user_by_login(&tenant, &index).await {
        Ok(Some(u)) if u.disabled_at.is_none() => u,
        Ok(_) => {
            tracing::info!(tenant = %tenant, "password reset asked for no enabled user; no e-mail");
            return;
        }
        Err(e) => {
            tracing::warn!(error = %e, "password reset: look-up failed");
            return;
        }
    };
    let token = crate::session::new_secret();
    let hash = crate::auth::key_hash(&token);
    if let Err(e) = state
        .store
        .insert_password_reset(&hash, &user.id, now, now + RESET_TTL_MS)
        .await
    {
        tracing::warn!(error = %e, "password reset: storing the link failed");
        return;
    }
    let Some((transport, from)) = state.portal.mail() else {
        tracing::warn!("password reset: no mail transport");
        return;
    };
    let link = format!(
        "{}/app/reset/{token}",
        state.config.public_url.trim_end_matches('/')
    );
    let body = Text::ResetMailBody.fill(lang, &[("link", &link)]);
    let subject = t(lang, Text::ResetMailSubject).to_owned();
    let sent = transport.send_now(from, &normalized, subject, body).await;
    match sent {
        Ok(()) => {
            tracing::info!(user = %user.id, tenant = %user.tenant, "password reset link sent")
        }
        Err(e) => tracing::warn!(user = %user.id, error = %e, "password reset e-mail not sent"),
    }
}

/// The page for a link that resets nothing, saying why.
fn link_closed(lang: Lang, state: Option<ResetState>) -> Response {
    let (status, title, text) = match state {
        Some(ResetState::Used) => (
            StatusCode::GONE,
            t(lang, Text::LinkAlreadyUsed),
            t(lang, Text::ResetLinkUsed),
        ),
        Some(ResetState::Replaced) => (
            StatusCode::GONE,
            t(lang, Text::LinkReplaced),
            t(lang, Text::ResetLinkReplaced),
        ),
        Some(ResetState::Expired) => (
            StatusCode::GONE,
            t(lang, Text::LinkExpired),
            t(lang, Text::ResetLinkExpired),
        ),
        Some(ResetState::Valid | ResetState::Disabled) | None => (
            StatusCode::NOT_FOUND,
            t(lang, Text::InvalidLink2),
            t(lang, Text::ResetLinkUnknown),
        ),
    };
    public_page(
        lang,
        status,
        title,
        html! {
            p.error role="alert" #reset-closed { (text) }
            p { a href="/app/reset" { (t(lang, Text::AskForANew)) } }
        },
    )
}

fn password_form(lang: Lang, status: StatusCode, error: Option<&str>) -> Response {
    // The form posts to its own address (the token stays out of the body and the log).
    public_page(
        lang,
        status,
        t(lang, Text::ChooseANewPassword),
        html! {
            @if let Some(e) = error { p.error role="alert" #reset-error { (e) } }
            form.card method="post" {
                label for="password-new" { (t(lang, Text::NewPasswordAtLeast)) }
                input #password-new type="password" name="new" required autocomplete="new-password" minlength="12" maxlength="1024" autofocus;
                label for="password-again" { (t(lang, Text::NewPasswordAgain)) }
                input #password-again type="password" name="again" required autocomplete="new-password" minlength="12" maxlength="1024";
                p.muted { (t(lang, Text::AfterTheResetEvery)) }
                div { button.primary type="submit" { (t(lang, Text::SaveTheNewPassword)) } }
            }
        },
    )
}

/// `GET /app/reset/{token}`: the new-password form, or why the link no longer works.
/// Reading the page does not use the link (a mail scanner may fetch it).
pub async fn link_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    let lang = layout::language(&headers);
    let Some(hash) = secret_hash(&token) else {
        return Ok(link_closed(lang, None));
    };
    Ok(
        match state
            .store
            .password_reset_state(&hash, state.clock.now_ms())
            .await?
        {
            Some(ResetState::Valid) => password_form(lang, StatusCode::OK, None),
            other => link_closed(lang, other),
        },
    )
}

/// The new-password form.
#[derive(Deserialize)]
struct NewPasswordForm {
    #[serde(default)]
    new: String,
    #[serde(default)]
    again: String,
}

/// `POST /app/reset/{token}`: sets the new password, uses the link, ends every session of
/// the user, and says so.
pub async fn reset(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let lang = layout::language(&headers);
    if foreign_origin(&state, &headers) {
        return Err(WebError::Forbidden(lang));
    }
    let Some(hash) = secret_hash(&token) else {
        return Ok(link_closed(lang, None));
    };
    let form: NewPasswordForm = serde_html_form::from_bytes(&body)
        .map_err(|_| WebError::bad(lang, Text::UnreadableForm))?;
    // A dead link is said so before any hashing work.
    match state
        .store
        .password_reset_state(&hash, state.clock.now_ms())
        .await?
    {
        Some(ResetState::Valid) => {}
        other => return Ok(link_closed(lang, other)),
    }
    if form.new != form.again {
        return Ok(password_form(
            lang,
            StatusCode::BAD_REQUEST,
            Some(t(lang, Text::TheTwoNewPasswords)),
        ));
    }
    if form.new.chars().count() < MIN_PASSWORD_CHARS {
        return Ok(password_form(
            lang,
            StatusCode::BAD_REQUEST,
            Some(t(lang, Text::TheNewPasswordNeeds)),
        ));
    }
    let new = form.new;
    let password_hash = session::hashing(move || session::hash_password(&new))
        .await
        .ok_or_else(|| WebError::Unavailable("the hashing task failed".to_owned()))?
        .map_err(|e| WebError::Unavailable(e.to_string()))?;
    let now = state.clock.now_ms();
    match state
        .store
        .use_password_reset(&hash, &password_hash, now)
        .await?
    {
        Ok((user, ended)) => {
            tracing::info!(user = %user, sessions_ended = ended, "staff password reset by link");
            Ok(public_page(
                lang,
                StatusCode::OK,
                t(lang, Text::PasswordChanged),
                html! {
                    p.notice #reset-done { (Text::YourPasswordHasBeenChanged.fill(lang, &[("n", &ended)])) }
                    p { a href="/app/login" { (t(lang, Text::SignIn)) } }
                },
            ))
        }
        Err(found) => Ok(link_closed(lang, found)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_that_resets_nothing_says_why_with_a_way_on() {
        for (state, status) in [
            (Some(ResetState::Used), StatusCode::GONE),
            (Some(ResetState::Replaced), StatusCode::GONE),
            (Some(ResetState::Expired), StatusCode::GONE),
            (Some(ResetState::Disabled), StatusCode::NOT_FOUND),
            (None, StatusCode::NOT_FOUND),
        ] {
            let res = link_closed(Lang::Fr, state);
            assert_eq!(res.status(), status, "{state:?}");
            assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
        }
    }
}
