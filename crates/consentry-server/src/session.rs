//! Browser sessions, one implementation for both principals: a sender's staff (the web
//! application, [`Principal::Staff`]) and a person signed in to the portal
//! ([`Principal::Person`]).
//!
//! A session is a 256-bit random ID in a cookie (`HttpOnly`, `SameSite=Strict`, limited to
//! the principal's path; `Secure` and the `__Host-` prefix when the public URL is https),
//! stored hashed — never the ID itself — with an absolute expiry and a synchronizer token
//! that every form sends back. Which rows a session reads (a staff member and their
//! tenant, or the subjects an address reaches) is the principal's business; minting,
//! naming, reading and ending the cookie, and checking the tokens, is done here once.

use crate::state::AppState;
use axum::http::{HeaderMap, header};

/// The sign-in rate limiters' window (both principals): 15 minutes.
pub const SIGN_IN_WINDOW_MS: i64 = 15 * 60 * 1000;

/// Who a session signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    /// A member of a sender's staff, in the web application under `/app`.
    Staff,
    /// A person, in the self-service portal under `/portal`.
    Person,
}

impl Principal {
    /// How long a session lasts from sign-in: a working day for staff (8 hours), an hour
    /// for a person.
    pub const fn ttl_ms(self) -> i64 {
        match self {
            Principal::Staff => 8 * 60 * 60 * 1000,
            Principal::Person => 60 * 60 * 1000,
        }
    }

    /// The path the cookie is limited to (over plain http; `__Host-` cookies are `/`).
    const fn path(self) -> &'static str {
        match self {
            Principal::Staff => "/app",
            Principal::Person => "/portal",
        }
    }

    /// The session cookie's name.
    pub fn cookie_name(self, state: &AppState) -> &'static str {
        match (self, https(state)) {
            (Principal::Staff, true) => "__Host-consentry_staff",
            (Principal::Staff, false) => "consentry_staff",
            (Principal::Person, true) => "__Host-consentry_portal",
            (Principal::Person, false) => "consentry_portal",
        }
    }

    /// The `Set-Cookie` value of a new session (`Some(id)`) or of its removal (`None`).
    pub fn set_cookie(self, state: &AppState, id: Option<&str>) -> String {
        let (value, max_age) = match id {
            Some(id) => (id, self.ttl_ms() / 1000),
            None => ("", 0),
        };
        let name = self.cookie_name(state);
        if https(state) {
            // __Host- requires Secure and Path=/, and forbids Domain.
            format!("{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; Secure; SameSite=Strict")
        } else {
            format!(
                "{name}={value}; Path={}; Max-Age={max_age}; HttpOnly; SameSite=Strict",
                self.path()
            )
        }
    }

    /// The stored hash of the session ID the request's cookie presents, if it holds one
    /// that can be an ID (whether it names a live session is for the store to say).
    pub fn presented(self, state: &AppState, headers: &HeaderMap) -> Option<[u8; 32]> {
        cookie(headers, self.cookie_name(state)).and_then(secret_hash)
    }
}

/// A new session: its ID (for the cookie), the ID's hash (for the store) and its
/// synchronizer token.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The ID, sent once in the cookie.
    pub id: String,
    /// Its hash, the only form stored.
    pub id_hash: [u8; 32],
    /// The synchronizer token every form of the session carries.
    pub csrf: String,
}

impl NewSession {
    /// Fresh random ID and token.
    pub fn mint() -> NewSession {
        let id = new_secret();
        NewSession {
            id_hash: crate::auth::key_hash(&id),
            id,
            csrf: new_secret(),
        }
    }
}

/// A new 256-bit secret, as 64 lowercase hex digits.
pub fn new_secret() -> String {
    hex::encode(consentry_ledger::random::bytes::<32>())
}

/// The stored hash of a link token or session ID; `None` if the text is not 64 hex
/// digits (then it cannot be one).
pub fn secret_hash(secret: &str) -> Option<[u8; 32]> {
    (secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| crate::auth::key_hash(&secret.to_ascii_lowercase()))
}

/// Compares two secrets without an early exit on a shared prefix.
pub fn same_secret(a: &str, b: &str) -> bool {
    crate::auth::key_hash(a) == crate::auth::key_hash(b)
}

/// Whether a form's token `given` is the session's synchronizer token `expected`.
pub fn csrf_ok(given: &str, expected: &str) -> bool {
    !given.is_empty() && same_secret(given, expected)
}

/// Whether the service is reached over https (then cookies are `Secure`, `__Host-`).
pub fn https(state: &AppState) -> bool {
    state
        .config
        .public_url
        .to_ascii_lowercase()
        .starts_with("https://")
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_64_hex_digits_and_hash_case_blind() {
        let s = new_secret();
        assert_eq!(s.len(), 64);
        assert_eq!(secret_hash(&s), secret_hash(&s.to_ascii_uppercase()));
        assert_eq!(secret_hash("abc"), None);
        assert_eq!(secret_hash(&"g".repeat(64)), None);
        let minted = NewSession::mint();
        assert_eq!(secret_hash(&minted.id), Some(minted.id_hash));
        assert_ne!(minted.id, minted.csrf);
    }

    #[test]
    fn csrf_needs_a_non_empty_equal_token() {
        assert!(csrf_ok("abc", "abc"));
        assert!(!csrf_ok("", ""));
        assert!(!csrf_ok("abd", "abc"));
    }

    #[test]
    fn cookies_are_read_by_exact_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; consentry_staff=xyz ; b=2".parse().unwrap(),
        );
        assert_eq!(cookie(&h, "consentry_staff"), Some("xyz"));
        assert_eq!(cookie(&h, "consentry"), None);
    }
}
