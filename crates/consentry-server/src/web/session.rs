//! Staff sign-in and authorisation for the web application.
//!
//! - **Who**: a user belongs to one tenant with one [`Role`]. Handlers name the role they
//!   need in their signature: [`Staff`] (anyone signed in: auditors read), [`Writer`]
//!   (operators and admins change the book), [`Admin`] (purposes, notices, users).
//! - **Passwords** are Argon2id (RustCrypto `argon2`, OWASP's parameters: 19 MiB, 2
//!   passes), checked on the blocking pool. An unknown address is checked against a dummy
//!   hash, so the answer and its timing do not say whether an account exists.
//! - **Sessions** are [`crate::session`]'s, for [`Principal::Staff`] (a working day),
//!   with a synchronizer token.
//! - **CSRF**: every state-changing request is a POST whose body is read through [`Form`]
//!   or [`Upload`], which refuse a cross-site origin and check the session's token before
//!   the handler runs: a handler that takes one cannot forget it.
//! - **Rate limits**: [`PER_ACCOUNT`] failed sign-ins per address and [`PER_IP`] per
//!   client IP in any [`SIGN_IN_WINDOW_MS`]; a successful sign-in is given back
//!   ([`crate::limiter::Attempt::succeeded`]), so it never counts.

use crate::i18n::Text;
pub use crate::session::{Principal, SIGN_IN_WINDOW_MS};
use crate::session::{csrf_ok, new_secret};
use crate::state::AppState;
use crate::web::layout::{self, Lang, WebError};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use axum::extract::{FromRequest, FromRequestParts, Multipart, Request};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use consentry_core::ids::{TenantId, UserId};
use serde::de::DeserializeOwned;
use std::sync::LazyLock;

/// Failed sign-ins per address per window.
pub const PER_ACCOUNT: usize = 10;
/// Failed sign-ins per client IP per window.
pub const PER_IP: usize = 50;
/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

pub use consentry_core::consent::Role;

/// A signed-in member of a sender's staff, with the page language.
#[derive(Debug, Clone)]
pub struct Staff {
    /// The user.
    pub user: UserId,
    /// Their tenant.
    pub tenant: TenantId,
    /// The tenant's name.
    pub tenant_name: String,
    /// Their role.
    pub role: Role,
    /// The session's synchronizer token (hidden field `csrf` of every form).
    pub csrf: String,
    /// The language pages are shown in.
    pub lang: Lang,
    /// The hash of the session ID (to end it).
    pub id_hash: [u8; 32],
    /// The path and query of the page asked for (the language switch comes back to it).
    pub here: String,
}

impl Staff {
    /// The actor named in log events this user causes.
    pub fn actor(&self) -> String {
        self.user.to_string()
    }

    /// The signed-in user of a request, if its cookie names a live session.
    pub async fn from_headers(
        state: &AppState,
        headers: &HeaderMap,
    ) -> Result<Option<Staff>, WebError> {
        let lang = layout::language(headers);
        let Some(hash) = Principal::Staff.presented(state, headers) else {
            return Ok(None);
        };
        let now = state.clock.now_ms();
        let Some(row) = state.store.staff_session(&hash, now).await? else {
            return Ok(None);
        };
        let role = row.role;
        Ok(Some(Staff {
            user: row.user,
            tenant: row.tenant,
            tenant_name: row.tenant_name,
            role,
            csrf: row.csrf,
            lang,
            id_hash: hash,
            here: "/app".to_owned(),
        }))
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Staff, WebError> {
        if let Some(staff) = parts.extensions.get::<Staff>() {
            return Ok(staff.clone());
        }
        match Staff::from_headers(state, &parts.headers).await? {
            Some(mut staff) => {
                if let Some(p) = parts.uri.path_and_query() {
                    staff.here = p.as_str().to_owned();
                }
                parts.extensions.insert(staff.clone());
                Ok(staff)
            }
            None => Err(WebError::SignIn {
                next: parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str().to_owned())
                    .filter(|_| parts.method == axum::http::Method::GET),
            }),
        }
    }
}

/// A signed-in operator or admin: may change the address book.
#[derive(Debug, Clone)]
pub struct Writer(pub Staff);

impl FromRequestParts<AppState> for Writer {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Writer, WebError> {
        let staff = Staff::from_request_parts(parts, state).await?;
        if staff.role.can_write() {
            Ok(Writer(staff))
        } else {
            Err(WebError::Forbidden(staff.lang))
        }
    }
}

/// A signed-in admin: manages purposes, notices and users.
#[derive(Debug, Clone)]
pub struct Admin(pub Staff);

impl FromRequestParts<AppState> for Admin {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Admin, WebError> {
        let staff = Staff::from_request_parts(parts, state).await?;
        if staff.role == Role::Admin {
            Ok(Admin(staff))
        } else {
            Err(WebError::Forbidden(staff.lang))
        }
    }
}

/// Largest form body: 1 MiB.
const MAX_FORM: usize = 1024 * 1024;

/// A POSTed form (`application/x-www-form-urlencoded`, repeated fields allowed), read only
/// after the request is found to come from this site with the signed-in session's
/// synchronizer token in its `csrf` field. Unknown fields are the handler's type's
/// business (`csrf` itself is removed before it is parsed).
#[derive(Debug)]
pub struct Form<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Form<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &AppState) -> Result<Form<T>, WebError> {
        let (mut parts, body) = req.into_parts();
        let staff = Staff::from_request_parts(&mut parts, state).await?;
        if crate::client::foreign_origin(state, &parts.headers) {
            return Err(WebError::Forbidden(staff.lang));
        }
        let bytes = axum::body::to_bytes(body, MAX_FORM)
            .await
            .map_err(|_| WebError::bad(staff.lang, Text::FormTooLarge))?;
        let pairs: Vec<(String, String)> = serde_html_form::from_bytes(&bytes)
            .map_err(|_| WebError::bad(staff.lang, Text::UnreadableForm))?;
        let given = pairs
            .iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        if !csrf_ok(given, &staff.csrf) {
            return Err(WebError::Forbidden(staff.lang));
        }
        let rest: Vec<(String, String)> = pairs.into_iter().filter(|(k, _)| k != "csrf").collect();
        let encoded = serde_html_form::to_string(&rest)
            .map_err(|_| WebError::bad(staff.lang, Text::UnreadableForm))?;
        serde_html_form::from_str(&encoded)
            .map(Form)
            .map_err(|e| WebError::bad_detail(staff.lang, &e.to_string()))
    }
}

/// A file sent with a multipart form.
#[derive(Clone)]
pub struct UploadedFile {
    /// The form field's name.
    pub field: String,
    /// The media type the browser gave (`application/octet-stream` if none).
    pub media_type: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for UploadedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadedFile")
            .field("field", &self.field)
            .field("media_type", &self.media_type)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// A POSTed `multipart/form-data` form with files, checked as [`Form`] is (same site,
/// the session's `csrf` field) before the handler sees it. The file's own name is not
/// kept: it often names the person.
#[derive(Debug)]
pub struct Upload {
    /// Text fields, in order (repeated names allowed).
    pub fields: Vec<(String, String)>,
    /// Files (parts with a file name), in order; empty file inputs are left out.
    pub files: Vec<UploadedFile>,
}

impl Upload {
    /// The first value of text field `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The file sent as `name`, if one was chosen.
    pub fn file(&self, name: &str) -> Option<&UploadedFile> {
        self.files.iter().find(|f| f.field == name)
    }
}

impl FromRequest<AppState> for Upload {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &AppState) -> Result<Upload, WebError> {
        let (mut parts, body) = req.into_parts();
        let staff = Staff::from_request_parts(&mut parts, state).await?;
        let lang = staff.lang;
        if crate::client::foreign_origin(state, &parts.headers) {
            return Err(WebError::Forbidden(lang));
        }
        let req = Request::from_parts(parts, body);
        let mut multipart = Multipart::from_request(req, state)
            .await
            .map_err(|_| WebError::bad(lang, Text::NotAMultipartForm))?;
        let too_big = || WebError::bad(lang, Text::TheUploadIsToo);
        let mut out = Upload {
            fields: Vec::new(),
            files: Vec::new(),
        };
        while let Some(field) = multipart.next_field().await.map_err(|_| too_big())? {
            let name = field.name().unwrap_or("").to_owned();
            if field.file_name().is_some() {
                let media_type = field
                    .content_type()
                    .unwrap_or("application/octet-stream")
                    .to_owned();
                let bytes = field.bytes().await.map_err(|_| too_big())?;
                if !bytes.is_empty() {
                    out.files.push(UploadedFile {
                        field: name,
                        media_type,
                        bytes: bytes.to_vec(),
                    });
                }
            } else {
                let text = field.text().await.map_err(|_| too_big())?;
                out.fields.push((name, text));
            }
        }
        let given = out.field("csrf").unwrap_or("");
        if !csrf_ok(given, &staff.csrf) {
            return Err(WebError::Forbidden(lang));
        }
        Ok(out)
    }
}

/// Argon2id with the crate's defaults (OWASP: m = 19 MiB, t = 2, p = 1).
fn argon2() -> Argon2<'static> {
    Argon2::default()
}

/// Why a password was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// Too short.
    #[error("a password needs at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    /// Hashing failed.
    #[error("hashing the password failed: {0}")]
    Hash(String),
}

/// The Argon2id PHC string of a new password.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    let salt = SaltString::generate(&mut consentry_ledger::random::rng());
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// A hash no password matches, checked when the address is unknown so that the answer
/// takes as long as for a known one.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut consentry_ledger::random::rng());
    argon2()
        .hash_password(new_secret().as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
});

/// Whether `password` matches the PHC string `hash` (`None`: check against a dummy hash
/// and answer `false`).
pub fn verify_password(password: &str, hash: Option<&str>) -> bool {
    let phc = hash.unwrap_or(DUMMY_HASH.as_str());
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    argon2()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
        && hash.is_some()
}

/// At most this many Argon2 computations run at once (each holds 19 MiB): a flood of
/// sign-in attempts from many addresses queues here instead of exhausting memory.
const HASHING_AT_ONCE: usize = 4;
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(HASHING_AT_ONCE);

/// Runs a password hash or check on the blocking pool, at most `HASHING_AT_ONCE` (4) at a
/// time; `None` if the task failed.
pub async fn hashing<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let _permit = HASHING.acquire().await.ok()?;
    tokio::task::spawn_blocking(work).await.ok()
}

/// The blind index a staff address is looked up by: HMAC-SHA256 under the service's link
/// key (which master-key rotations leave in place) of the normalised address.
pub fn login_index(
    master: &consentry_ledger::keys::MasterKeys,
    normalized_email: &str,
) -> [u8; 32] {
    master.link_token("staff-login", normalized_email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_round_trip_and_short_ones_are_refused() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", Some(&h)));
        assert!(!verify_password("correct horse batterY", Some(&h)));
        assert!(!verify_password("correct horse battery", None));
        assert!(!verify_password("x", Some("not a phc string")));
        assert!(matches!(
            hash_password("short"),
            Err(PasswordError::TooShort)
        ));
    }
}
