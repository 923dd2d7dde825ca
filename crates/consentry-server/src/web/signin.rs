//! Signing in and out, the language switch, and the static assets.

use crate::client::{ClientIp, foreign_origin};
use crate::i18n::{Text, t};
use crate::session::{NewSession, Principal};
use crate::state::AppState;
use crate::web::layout::{self, Lang, WebError, public_page, safe_next};
use crate::web::session::{self, Form, Staff};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use consentry_core::ids::TenantId;
use consentry_vault::normalize_email;
use maud::html;
use serde::Deserialize;

/// `?next=` and `?tenant=` of the sign-in page.
#[derive(Deserialize, Default)]
pub struct NextQuery {
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    tenant: Option<String>,
}

/// The cookie remembering the organisation last signed in to, to fill the form's field.
const TENANT_COOKIE: &str = "consentry_tenant";

/// The organisation to show in the form: `?tenant=`, else the remembered one. Only a
/// well-formed tenant ID is shown back.
fn shown_tenant(headers: &HeaderMap, given: Option<&str>) -> Option<String> {
    given
        .or_else(|| crate::session::cookie(headers, TENANT_COOKIE))
        .and_then(|t| TenantId::parse(t.trim()).ok())
        .map(|t| t.to_string())
}

/// What the sign-in form shows back: the page to go to after, and the organisation and
/// address typed (never the password).
#[derive(Default, Clone, Copy)]
struct Shown<'a> {
    next: Option<&'a str>,
    tenant: Option<&'a str>,
    email: Option<&'a str>,
}

fn login_form(lang: Lang, status: StatusCode, shown: &Shown<'_>, error: Option<&str>) -> Response {
    let Shown {
        next,
        tenant,
        email,
    } = *shown;
    public_page(
        lang,
        status,
        t(lang, Text::SignIn2),
        html! {
            @if let Some(e) = error { p.error role="alert" #login-error { (e) } }
            form.card method="post" action="/app/login" {
                @if let Some(n) = next { input type="hidden" name="next" value=(n); }
                label for="tenant" { (t(lang, Text::OrganisationItsIdentifier)) }
                input #tenant type="text" name="tenant" value=[tenant] maxlength="80"
                    autocomplete="organization" spellcheck="false" aria-describedby="tenant-help";
                p.muted #tenant-help { (t(lang, Text::GivenByYourOrganisation)) }
                label for="email" { (t(lang, Text::EMailAddress)) }
                @if email.is_some() {
                    input #email type="email" name="email" value=[email] required autocomplete="username" maxlength="254";
                    label for="password" { (t(lang, Text::Password)) }
                    input #password type="password" name="password" required autocomplete="current-password" maxlength="1024" autofocus;
                } @else {
                    input #email type="email" name="email" required autocomplete="username" maxlength="254" autofocus;
                    label for="password" { (t(lang, Text::Password)) }
                    input #password type="password" name="password" required autocomplete="current-password" maxlength="1024";
                }
                div { button.primary type="submit" { (t(lang, Text::SignIn)) } }
            }
            p { a #forgot href=(forgot_link(tenant)) { (t(lang, Text::ForgotYourPassword)) } }
            p.muted { (t(lang, Text::AccountsAreCreatedBy)) }
        },
    )
}

/// `GET /app/login`.
pub async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> Result<Response, WebError> {
    if Staff::from_headers(&state, &headers).await?.is_some() {
        return Ok(Redirect::to("/app").into_response());
    }
    let next = q.next.filter(|n| safe_next(n));
    let tenant = shown_tenant(&headers, q.tenant.as_deref());
    Ok(login_form(
        layout::language(&headers),
        StatusCode::OK,
        &Shown {
            next: next.as_deref(),
            tenant: tenant.as_deref(),
            email: None,
        },
        None,
    ))
}

/// The "forgotten password" link, carrying the organisation shown (a tenant ID, never
/// personal data) so that the reset form is filled in too.
fn forgot_link(tenant: Option<&str>) -> String {
    match tenant {
        Some(t) => format!("/app/reset?tenant={}", layout::urlencode(t)),
        None => "/app/reset".to_owned(),
    }
}

/// The sign-in form.
#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
}

/// The tenant a sign-in is for: the one the form names, or, when the field is empty and
/// the service holds exactly one tenant, that one. Never found from the address: the
/// same address may be staff in several tenants, and which ones must not show.
enum SignInTenant {
    Named(TenantId),
    /// The field is empty and the service holds several tenants.
    Missing,
    /// The field does not hold a tenant ID (answered like a wrong password).
    Malformed,
}

async fn sign_in_tenant(state: &AppState, given: &str) -> Result<SignInTenant, WebError> {
    let given = given.trim();
    if !given.is_empty() {
        return Ok(match TenantId::parse(given) {
            Ok(t) => SignInTenant::Named(t),
            Err(_) => SignInTenant::Malformed,
        });
    }
    let mut all = state.store.tenant_ids().await?;
    Ok(match (all.pop(), all.is_empty()) {
        (Some(only), true) => SignInTenant::Named(only),
        _ => SignInTenant::Missing,
    })
}

/// `POST /app/login`: checks the password of the address in the named organisation and
/// opens a session. Every failure (unknown organisation or address, wrong password,
/// disabled user) gets the same page, after the same work (one password check).
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: ClientIp,
    body: Bytes,
) -> Result<Response, WebError> {
    let lang = layout::language(&headers);
    if foreign_origin(&state, &headers) {
        return Err(WebError::Forbidden(lang));
    }
    let form: LoginForm = serde_html_form::from_bytes(&body)
        .map_err(|_| WebError::bad(lang, Text::UnreadableForm))?;
    let next = form.next.filter(|n| safe_next(n));
    let shown = TenantId::parse(form.tenant.trim())
        .ok()
        .map(|t| t.to_string());
    // The address typed is shown back (trimmed, and only if it fits the field), so a
    // wrong password costs only the password.
    let typed = form.email.trim();
    let typed = (!typed.is_empty() && typed.len() <= 254 && !typed.chars().any(char::is_control))
        .then_some(typed);
    let failed = |status, text| {
        login_form(
            lang,
            status,
            &Shown {
                next: next.as_deref(),
                tenant: shown.as_deref(),
                email: typed,
            },
            Some(t(lang, text)),
        )
    };
    let Ok(normalized) = normalize_email(&form.email) else {
        return Ok(failed(
            StatusCode::UNAUTHORIZED,
            Text::WrongOrganisationAddressOr,
        ));
    };
    let now = state.clock.now_ms();
    let client_key = client.limit_key();
    let mut keys: Vec<(&str, &[u8], usize)> =
        vec![("staff-address", normalized.as_bytes(), session::PER_ACCOUNT)];
    if let Some(key) = &client_key {
        keys.push(("staff-ip", key.as_bytes(), session::PER_IP));
    }
    // Only failures count: the attempt is given back once the password proved right.
    let Some(attempt) = state.web_limiter.attempt(&keys, now) else {
        tracing::info!(client = ?client_key, "staff sign-in throttled");
        let mut res = failed(StatusCode::TOO_MANY_REQUESTS, Text::TooManyRecentAttempts);
        res.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(session::SIGN_IN_WINDOW_MS / 1000),
        );
        return Ok(res);
    };
    let tenant = match sign_in_tenant(&state, &form.tenant).await? {
        SignInTenant::Named(t) => Some(t),
        SignInTenant::Missing => {
            return Ok(failed(
                StatusCode::BAD_REQUEST,
                Text::EnterYourOrganisationS,
            ));
        }
        SignInTenant::Malformed => None,
    };
    let user = match &tenant {
        Some(tenant) => {
            state
                .store
                .user_by_login(
                    tenant,
                    &session::login_index(&state.keys.master, &normalized),
                )
                .await?
        }
        None => None,
    };
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let password = form.password;
    let matched = session::hashing(move || session::verify_password(&password, hash.as_deref()))
        .await
        .unwrap_or(false);
    let Some(user) = user.filter(|u| matched && u.disabled_at.is_none()) else {
        tracing::info!(client = ?client_key, "staff sign-in refused");
        return Ok(failed(
            StatusCode::UNAUTHORIZED,
            Text::WrongOrganisationAddressOr,
        ));
    };
    let new = NewSession::mint();
    let expires = now + Principal::Staff.ttl_ms();
    state
        .store
        .insert_staff_session(&new.id_hash, &user, &new.csrf, now, expires)
        .await?;
    attempt.succeeded();
    tracing::info!(user = %user.id, tenant = %user.tenant, "staff signed in");
    let mut res = Redirect::to(next.as_deref().unwrap_or("/app")).into_response();
    if let Ok(v) = HeaderValue::from_str(&Principal::Staff.set_cookie(&state, Some(&new.id))) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    // The organisation is remembered for the form (not a credential: any tenant ID
    // typed there is checked with the address and password).
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{TENANT_COOKIE}={}; Path=/app; Max-Age=31536000; SameSite=Lax; HttpOnly",
        user.tenant
    )) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}

/// Nothing but the token.
#[derive(Deserialize)]
pub struct Empty {}

/// `POST /app/logout`: ends the session.
pub async fn logout(
    State(state): State<AppState>,
    staff: Staff,
    Form(Empty {}): Form<Empty>,
) -> Result<Response, WebError> {
    state.store.delete_staff_session(&staff.id_hash).await?;
    let mut res = Redirect::to("/app/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&Principal::Staff.set_cookie(&state, None)) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}

/// `GET /app/lang/{fr|en}?back=…`: remembers the language and goes back.
pub async fn set_language(
    Path(code): Path<String>,
    Query(q): Query<BackQuery>,
    headers: HeaderMap,
) -> Response {
    let back = q
        .back
        .filter(|b| safe_next(b))
        .or_else(|| {
            headers
                .get(header::REFERER)
                .and_then(|v| v.to_str().ok())
                .and_then(|r| r.find("/app").map(|i| r[i..].to_owned()))
                .filter(|b| safe_next(b))
        })
        .unwrap_or_else(|| "/app".to_owned());
    let mut res = Redirect::to(&back).into_response();
    if let Some(lang) = layout::parse_lang(&code)
        && let Ok(v) = HeaderValue::from_str(&format!(
            "{}={}; Path=/app; Max-Age=31536000; SameSite=Lax",
            layout::LANG_COOKIE,
            layout::code(lang)
        ))
    {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

/// `?back=`.
#[derive(Deserialize, Default)]
pub struct BackQuery {
    #[serde(default)]
    back: Option<String>,
}

/// `GET /app` and `GET /app/`: the dashboard, or the sign-in page.
pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> Result<Redirect, WebError> {
    Ok(match Staff::from_headers(&state, &headers).await? {
        Some(_) => Redirect::to("/app/dashboard"),
        None => Redirect::to("/app/login"),
    })
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut res = ([(header::CONTENT_TYPE, content_type)], body).into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    res.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

/// `GET /app/static/app.css`.
pub async fn css() -> Response {
    asset("text/css; charset=utf-8", layout::CSS)
}

/// `GET /app/static/app.js`.
pub async fn js() -> Response {
    asset("text/javascript; charset=utf-8", layout::JS)
}

/// `GET /app/static/requests.js`.
pub async fn requests_js() -> Response {
    asset("text/javascript; charset=utf-8", layout::REQUESTS_JS)
}
