//! The self-service portal's machinery: sign-in links, sessions, CSRF tokens, the
//! sign-in rate limiter and the sign-in e-mail. The pages are in `routes/portal.rs`.
//!
//! - **Sign-in links** carry a 256-bit random token; the database keeps its SHA-256, the
//!   subjects the address reaches (pseudonyms found by each tenant's blind index of the
//!   normalised address) and an expiry ([`LOGIN_TTL_MS`]). Following a link shows a
//!   button; only the POST that button sends uses the link (so that mail scanners which
//!   fetch every link do not burn it), and a link opens at most one session.
//! - **The answer to a sign-in request never depends on the address**: the look-up, the
//!   link and the e-mail happen in a task of their own after the answer is sent, so
//!   neither the page nor its timing says whether the address is known. An unknown
//!   address gets no e-mail.
//! - **Sessions** are [`crate::session`]'s, for [`Principal::Person`] (one hour), with a
//!   synchronizer token that every form must send back ([`PortalAuth::check_csrf`]).
//! - **Rate limiting** is in process: at most [`PER_ADDRESS`] sign-in requests per
//!   address and [`PER_IP`] per client in any [`SIGN_IN_WINDOW_MS`], so the look-ups a
//!   sign-in starts are bounded both ways. Every request counts (unlike the staff's
//!   password sign-ins, where only failures do): each may send an e-mail, and the answer
//!   cannot tell a "success" without saying whether the address is known. The client is [`crate::client::ClientIp`]'s
//!   (behind `--trusted-proxy`, the address the proxy forwarded) and counts by
//!   [`crate::client::limit_key`] (an IPv6 client by its /64). The limiter keys are
//!   hashes, so it holds no address; it is per instance (several instances behind a load
//!   balancer each apply it).

use crate::client::ClientIp;
use crate::i18n::{Text, t};
use crate::mail::Transport;
use crate::session::{Principal, SIGN_IN_WINDOW_MS, csrf_ok};
use crate::state::AppState;
use consentry_core::ids::{SubjectId, TenantId};
use consentry_pdf::Language;
use consentry_store::PortalSession;
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncTransport as _, Message};

/// How long a sign-in link works: 15 minutes.
pub const LOGIN_TTL_MS: i64 = 15 * 60 * 1000;
/// Sign-in requests per address per window.
pub const PER_ADDRESS: usize = 5;
/// Sign-in requests per client IP per window.
pub const PER_IP: usize = 30;

/// The portal's shared parts: the sign-in limiter and the e-mail transport.
pub struct Portal {
    limiter: crate::limiter::Limiter,
    mail: Option<(Transport, Mailbox)>,
}

impl std::fmt::Debug for Portal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Portal")
            .field("mail", &self.mail.is_some())
            .finish_non_exhaustive()
    }
}

impl Portal {
    /// A portal sending its sign-in links through `mail` (`None`: links are not sent, as
    /// in router tests without a mail transport).
    pub fn new(mail: Option<(Transport, Mailbox)>) -> Portal {
        Portal {
            limiter: crate::limiter::Limiter::new(SIGN_IN_WINDOW_MS),
            mail,
        }
    }

    /// Counts a sign-in request for `address` (normalised) from `client`; `false` if
    /// either is over its limit (the request is then not counted).
    pub fn allow_login(&self, address: &str, client: ClientIp, now: i64) -> bool {
        let client = client.limit_key();
        let mut keys = vec![("address", address.as_bytes(), PER_ADDRESS)];
        if let Some(client) = &client {
            keys.push(("ip", client.as_bytes(), PER_IP));
        }
        self.limiter.allow(&keys, now)
    }

    /// The mail transport and sender address, if any.
    pub fn mail(&self) -> Option<&(Transport, Mailbox)> {
        self.mail.as_ref()
    }
}

/// A signed-in person: the session's subjects and its synchronizer token. Handlers that
/// take it cannot run without a live session.
#[derive(Debug, Clone)]
pub struct PortalAuth {
    /// The session.
    pub session: PortalSession,
    /// The hash of the session ID (to end it).
    pub id_hash: [u8; 32],
}

impl PortalAuth {
    /// The live session the request's cookie names, if any.
    pub async fn from_headers(
        state: &AppState,
        headers: &axum::http::HeaderMap,
    ) -> Result<Option<PortalAuth>, consentry_store::StoreError> {
        let Some(hash) = Principal::Person.presented(state, headers) else {
            return Ok(None);
        };
        let now = state.clock.now_ms();
        Ok(state
            .store
            .portal_session(&hash, now)
            .await?
            .map(|session| PortalAuth {
                session,
                id_hash: hash,
            }))
    }

    /// Whether `given` is this session's synchronizer token.
    pub fn check_csrf(&self, given: &str) -> bool {
        csrf_ok(given, &self.session.csrf)
    }

    /// Whether the session may act for `subject` of `tenant`.
    pub fn reaches(&self, tenant: &TenantId, subject: &SubjectId) -> bool {
        self.session
            .subjects
            .iter()
            .any(|(t, s)| t == tenant && s == subject)
    }
}

/// The subjects an address reaches: in every tenant's book, the contact whose blind
/// index is the address's. Erased contacts no longer match (their index was replaced).
pub async fn subjects_of(
    state: &AppState,
    normalized: &str,
) -> Result<Vec<(TenantId, SubjectId)>, consentry_store::StoreError> {
    let mut found = Vec::new();
    for tenant in state.store.tenant_ids().await? {
        // During a master-key rotation rows of several versions coexist: look the address
        // up under each version's blind index.
        let indexes: Vec<[u8; 32]> = state
            .tenant_keys(&tenant)
            .blind_indexes(normalized)
            .into_iter()
            .map(|(_, index)| index)
            .collect();
        for (_, subject) in state
            .store
            .contacts_by_email_index(&tenant, &indexes)
            .await?
        {
            found.push((tenant.clone(), subject));
        }
    }
    Ok(found)
}

/// The sign-in work done after the answer: look the address up, and if it reaches any
/// subject, store a link and e-mail it. Failures go to the log, without the address.
pub async fn send_login(state: AppState, normalized: String, lang: Language) {
    let now = state.clock.now_ms();
    let subjects = match subjects_of(&state, &normalized).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "portal sign-in: look-up failed");
            return;
        }
    };
    if subjects.is_empty() {
        tracing::info!("portal sign-in asked for an address no sender holds; no e-mail");
        return;
    }
    let token = crate::session::new_secret();
    let hash = crate::auth::key_hash(&token);
    if let Err(e) = state
        .store
        .insert_portal_login(&hash, &subjects, now, now + LOGIN_TTL_MS)
        .await
    {
        tracing::warn!(error = %e, "portal sign-in: storing the link failed");
        return;
    }
    let Some((transport, from)) = &state.portal.mail else {
        tracing::warn!("portal sign-in: no mail transport");
        return;
    };
    let link = format!(
        "{}/portal/session/{token}",
        state.config.public_url.trim_end_matches('/')
    );
    let subject = t(lang, Text::SignInMailSubject).to_owned();
    let body = Text::SignInMailBody.fill(lang, &[("link", &link)]);
    let Ok(to) = normalized.parse::<Mailbox>() else {
        tracing::warn!("portal sign-in: the address is not deliverable");
        return;
    };
    let msg = match Message::builder()
        .from(from.clone())
        .to(to)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(body)
    {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(error = %e, "portal sign-in: building the e-mail failed");
            return;
        }
    };
    let sent = match transport {
        Transport::Outbox(t) => t.send(msg).await.map(|_| ()).map_err(|e| e.to_string()),
        Transport::Smtp(t) => t.send(msg).await.map(|_| ()).map_err(|e| e.to_string()),
    };
    match sent {
        Ok(()) => tracing::info!(subjects = subjects.len(), "portal sign-in link sent"),
        Err(e) => tracing::warn!(error = %e, "portal sign-in e-mail not sent"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_counts_per_address_and_per_ip_within_the_window() {
        let p = Portal::new(None);
        let ip = ClientIp(Some([192, 0, 2, 1].into()));
        for _ in 0..PER_ADDRESS {
            assert!(p.allow_login("a@example.net", ip, 1_000));
        }
        assert!(!p.allow_login("a@example.net", ip, 1_000));
        // Another address from the same IP still passes…
        assert!(p.allow_login("b@example.net", ip, 1_000));
        // …and the first one again once the window has passed.
        assert!(p.allow_login("a@example.net", ip, 1_000 + SIGN_IN_WINDOW_MS));
        // The IP's own limit.
        let other = ClientIp(Some([192, 0, 2, 2].into()));
        for i in 0..PER_IP {
            assert!(p.allow_login(&format!("x{i}@example.net"), other, 5));
        }
        assert!(!p.allow_login("fresh@example.net", other, 5));
    }

    #[test]
    fn an_ipv6_client_cannot_escape_its_limit_by_changing_address_in_its_64() {
        let p = Portal::new(None);
        let client = |i: u16| {
            ClientIp(Some(
                std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 2, i, 0, 0, 1).into(),
            ))
        };
        for i in 0..PER_IP {
            assert!(p.allow_login(&format!("x{i}@example.net"), client(i as u16), 5));
        }
        assert!(!p.allow_login("fresh@example.net", client(999), 5));
        // Another /64 is another client.
        let elsewhere = ClientIp(Some(
            std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 3, 0, 0, 0, 1).into(),
        ));
        assert!(p.allow_login("fresh@example.net", elsewhere, 5));
    }
}
