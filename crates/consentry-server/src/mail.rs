//! E-mail: consent-request messages, delivered by SMTP or written as `.eml` files to the
//! data dir's outbox, from a queue kept in the database with retries and backoff.
//!
//! The queue holds request IDs, never addresses: the recipient's address is read from the
//! vault at send time, and the link token is recomputed from the master key
//! ([`consentry_vault::MasterKey::link_token`]), so neither is ever stored in clear.
//! [`crate::workers`] runs the sending in per-tenant lanes and closes requests whose
//! response window has passed ([`expire`]) on a loop of its own.

use crate::config::ServerConfig;
use crate::i18n::{Lang, Text};
use crate::state::AppState;
use consentry_core::consent::{MailStatus, RequestStatus};
use consentry_store::RequestRow;
use consentry_vault::WrappedKey;
use lettre::message::{Mailbox, header::ContentType};
use lettre::{
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor,
};
use std::time::Duration;

/// Why mail cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The SMTP URL is not one lettre understands.
    #[error("invalid SMTP URL: {0}")]
    Url(String),
    /// The From address is not an address.
    #[error("invalid mail From address: {0}")]
    From(String),
    /// The outbox directory.
    #[error("outbox: {0}")]
    Outbox(#[from] std::io::Error),
}

/// Where messages go.
#[derive(Clone)]
pub enum Transport {
    /// `.eml` files in a directory.
    Outbox(AsyncFileTransport<Tokio1Executor>),
    /// An SMTP server.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl Transport {
    /// From the configuration.
    pub fn from_config(cfg: &ServerConfig) -> Result<(Transport, Mailbox), MailError> {
        let from: Mailbox = cfg
            .mail_from
            .parse()
            .map_err(|e: lettre::address::AddressError| MailError::From(e.to_string()))?;
        let t = match &cfg.smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| MailError::Url(e.to_string()))?
                    .timeout(Some(Duration::from_secs(20)))
                    .build(),
            ),
            None => {
                let dir = cfg.data_dir.join("outbox");
                std::fs::create_dir_all(&dir)?;
                Transport::Outbox(AsyncFileTransport::new(dir))
            }
        };
        Ok((t, from))
    }

    /// Sends one plain-text message now, outside the request queue (the staff's password
    /// reset links, whose answer never waits for it). `to` is a normalised address; the
    /// error names no address (a category and the SMTP reply code only).
    pub async fn send_now(
        &self,
        from: &Mailbox,
        to: &str,
        subject: String,
        body: String,
    ) -> Result<(), String> {
        let to: Mailbox = to
            .parse()
            .map_err(|_| "the address is not deliverable".to_owned())?;
        let msg = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| format!("building the e-mail failed: {e}"))?;
        self.send(msg).await
    }

    /// Sends `msg`. The error is a category and the SMTP reply code only: a server's
    /// reply text often quotes the recipient's address, and the error is stored with the
    /// request, shown by the API and logged.
    async fn send(&self, msg: Message) -> Result<(), String> {
        match self {
            Transport::Outbox(t) => t.send(msg).await.map(|_| ()).map_err(|e| {
                tracing::debug!(error = %e, "writing to the outbox failed");
                "outbox: the message could not be written".to_owned()
            }),
            Transport::Smtp(t) => t.send(msg).await.map(|_| ()).map_err(|e| smtp_error(&e)),
        }
    }
}

/// An SMTP failure as a category and reply code, never the reply's text.
fn smtp_error(e: &lettre::transport::smtp::Error) -> String {
    let kind = if e.is_permanent() {
        "permanent"
    } else if e.is_transient() {
        "transient"
    } else if e.is_timeout() {
        "timeout"
    } else if e.is_tls() {
        "tls"
    } else {
        "connection"
    };
    match e.status() {
        Some(code) => format!("smtp {kind} error {code}"),
        None => format!("smtp {kind} error"),
    }
}

/// The link token of a new request, and the hash stored for it.
pub fn request_token(state: &AppState, request_id: &str) -> (String, [u8; 32]) {
    request_token_at(state, request_id, 0)
}

/// How many times a request's link can be renewed (a resend gives a new link).
pub const MAX_LINK_RENEWALS: u32 = 20;

/// The link token of a request's `generation`-th link (0: the first; each resend takes
/// the next), and its hash: derived from the link key, the request ID and the generation,
/// so that only the hash is stored and the mail loop can make the token again.
pub fn request_token_at(state: &AppState, request_id: &str, generation: u32) -> (String, [u8; 32]) {
    let input = if generation == 0 {
        request_id.to_owned()
    } else {
        format!("{request_id}.{generation}")
    };
    let token = hex::encode(state.keys.master.link_token("consent-request", &input));
    let hash = crate::auth::key_hash(&token);
    (token, hash)
}

/// Which generation a request's current link is: the one whose hash is stored.
pub fn link_generation(state: &AppState, r: &RequestRow) -> Option<u32> {
    (0..=MAX_LINK_RENEWALS).find(|g| request_token_at(state, r.id.as_str(), *g).1 == r.token_hash)
}

/// The answer page's URL for a request's current link.
pub fn request_link(state: &AppState, r: &RequestRow) -> Result<String, String> {
    let generation =
        link_generation(state, r).ok_or("the request's link was not made by this service")?;
    let (token, _) = request_token_at(state, r.id.as_str(), generation);
    Ok(format!(
        "{}/c/{token}",
        state.config.public_url.trim_end_matches('/')
    ))
}

/// Attempts before a message is marked failed.
const MAX_ATTEMPTS: i64 = 8;

fn backoff_ms(attempts: i64) -> i64 {
    (30_000i64 << attempts.clamp(0, 7)).min(3_600_000)
}

/// What a request e-mail says, apart from its link: the staff's preview renders a message
/// from this as the mail loop does, before any request exists.
pub struct MailContent<'a> {
    /// `fr` or `en`: the request's language.
    pub language: &'a str,
    /// The sender's name.
    pub sender: &'a str,
    /// The sender's contact for recipients.
    pub contact: Option<&'a crate::sender::SenderContact>,
    /// The purpose as the recipient reads it (its description, else its name).
    pub purpose: &'a str,
    /// The recipient's name from the vault, if any (never stored or logged).
    pub name: Option<&'a str>,
    /// The notice's exact text.
    pub notice_text: &'a str,
    /// How long a grant is valid, in days (`None`: until withdrawn).
    pub valid_days: Option<u32>,
    /// When the response window closes (Unix ms).
    pub expires_at: i64,
}

/// A request e-mail's subject and body, as the recipient gets them, with `link` as its
/// answer link. The one rendering of the message: the mail loop sends it, the web
/// application's preview shows it.
pub fn render(state: &AppState, m: &MailContent<'_>, link: &str) -> (String, String) {
    let until = state.anchoring.schedule().long_local(m.expires_at);
    let until = until.split(' ').next().unwrap_or("").to_owned();
    let lang = crate::i18n::parse_lang(m.language).unwrap_or(Lang::En);
    let subject = Text::SenderAsksForConsent.fill(lang, &[("sender", &m.sender)]);
    let contact = m
        .contact
        .map(|c| {
            Text::MailContactLine.fill(lang, &[("sender", &m.sender), ("contact", &c.as_str())])
        })
        .unwrap_or_default();
    let body = Text::RequestMailBody.fill(
        lang,
        &[
            ("greeting", &greeting(lang, m.name)),
            ("sender", &m.sender),
            // The sentence ends with its own full stop.
            ("purpose", &m.purpose.trim_end().trim_end_matches('.')),
            ("notice", &m.notice_text),
            ("validity", &validity_sentence(lang, m.valid_days)),
            ("until", &until),
            ("link", &link),
            ("portal", &portal_url(state)),
            ("contact", &contact),
        ],
    );
    (subject, body)
}

/// The greeting of an e-mail: by name when the vault holds one (read at send time, kept
/// in memory only for the message), else the plain one. Control characters of a stored
/// name become spaces, so a name cannot add lines to the message.
pub fn greeting(lang: Lang, name: Option<&str>) -> String {
    let name = name
        .map(|n| {
            n.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect::<String>()
        })
        .filter(|n| !n.trim().is_empty());
    match name {
        Some(n) => Text::MailGreetingNamed.fill(lang, &[("name", &n.trim())]),
        None => Text::MailGreeting.get(lang).to_owned(),
    }
}

/// What a granted consent's validity will be, as the recipient reads it before answering.
pub fn validity_sentence(lang: Lang, valid_days: Option<u32>) -> String {
    match valid_days {
        Some(days) => Text::ValidityDays.fill(lang, &[("days", &days)]),
        None => Text::ValidityNoEnd.get(lang).to_owned(),
    }
}

/// The portal's address, where a recipient withdraws later and finds their proofs.
pub fn portal_url(state: &AppState) -> String {
    format!("{}/portal", state.config.public_url.trim_end_matches('/'))
}

fn build(
    state: &AppState,
    from: &Mailbox,
    r: &RequestRow,
    m: &MailContent<'_>,
    to: &str,
) -> Result<Message, String> {
    let link = request_link(state, r)?;
    let (subject, body) = render(state, m, &link);
    let to: Mailbox = to
        .parse()
        .map_err(|_| "the recipient's stored address is not deliverable".to_owned())?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| e.to_string())
}

/// Sends one request's e-mail; returns a reason safe to store on failure.
async fn deliver(
    state: &AppState,
    transport: &Transport,
    from: &Mailbox,
    r: &RequestRow,
) -> Result<(), String> {
    let contact = state
        .store
        .contact(&r.tenant, &r.subject)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("contact gone")?;
    let (Some(wrapped), Some(sealed)) = (contact.wrapped_key, contact.identity) else {
        return Err("the contact's data was erased".into());
    };
    let keys = state.tenant_keys(&r.tenant);
    let key = keys
        .unwrap_subject_key(&r.subject, &WrappedKey::from_bytes(wrapped))
        .map_err(|e| e.to_string())?;
    let identity = key
        .open(&r.tenant, &r.subject, &sealed)
        .map_err(|e| e.to_string())?;
    let told = crate::sender::Told::load(&state.store, &r.tenant, &r.purpose, &r.language)
        .await
        .map_err(|e| e.to_string())?;
    if told.sender.is_empty() {
        return Err("tenant gone".into());
    }
    let m = MailContent {
        language: &r.language,
        sender: &told.sender,
        contact: told.contact.as_ref(),
        purpose: &told.purpose,
        name: identity.name.as_deref(),
        notice_text: &r.notice_text,
        valid_days: r.valid_days,
        expires_at: r.expires_at,
    };
    let msg = build(state, from, r, &m, &identity.email)?;
    transport.send(msg).await
}

/// Closes the requests whose response window has passed, queueing their webhook events
/// in the same transaction. Runs on its own loop ([`crate::workers`]): it never waits on
/// an e-mail or a webhook.
pub async fn expire(state: &AppState) {
    let now = state.clock.now_ms();
    let expired = state.store.expire_requests(now, |id, _tenant, subject, purpose| {
        consentry_ledger::webhook::event(
            now,
            "consent_request.expired",
            serde_json::json!({"request_id": id, "contact_id": subject, "purpose": purpose, "status": "expired"}),
        )
    });
    match expired.await {
        Ok(0) => {}
        Ok(n) => tracing::info!(expired = n, "consent requests expired"),
        Err(e) => tracing::warn!(error = %e, "expiring requests failed"),
    }
}

/// How long one message may take, whatever the transport does (lettre's own SMTP timeout
/// is per command): a worker lane waits no longer than this on one message.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// Sends one queued request's e-mail, as it is now, and records the attempt.
pub async fn send_one(
    state: &AppState,
    transport: &Transport,
    from: &Mailbox,
    queued: &RequestRow,
) {
    let now = state.clock.now_ms();
    // A request may have been resent (a new link) or cancelled since the queue was
    // read: send what it is now, or nothing.
    let r = match state.store.request(&queued.tenant, &queued.id).await {
        Ok(Some(r))
            if r.status == RequestStatus::Pending && r.mail_status == MailStatus::Queued =>
        {
            r
        }
        Ok(_) => return,
        Err(e) => {
            tracing::warn!(error = %e, "re-reading a queued request failed");
            return;
        }
    };
    let outcome =
        match tokio::time::timeout(SEND_TIMEOUT, deliver(state, transport, from, &r)).await {
            Ok(outcome) => outcome,
            Err(_) => Err("smtp timeout error".to_owned()),
        };
    let record = match &outcome {
        Ok(()) => {
            tracing::info!(request = %r.id, "consent request e-mail sent");
            state
                .store
                .mail_attempted(&r.id, &r.token_hash, Ok(()))
                .await
        }
        Err(e) => {
            let attempts = r.mail_attempts + 1;
            let next = (attempts < MAX_ATTEMPTS).then(|| now + backoff_ms(attempts));
            tracing::warn!(request = %r.id, attempts, error = %e, "consent request e-mail not sent");
            state
                .store
                .mail_attempted(&r.id, &r.token_hash, Err((next, e)))
                .await
        }
    };
    if let Err(e) = record {
        tracing::warn!(error = %e, "recording a delivery failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_greeting_names_the_person_on_one_line_or_no_one() {
        assert_eq!(
            greeting(Lang::Fr, Some("Claire Fontaine")),
            "Bonjour Claire Fontaine,"
        );
        assert_eq!(
            greeting(Lang::En, Some(" Ann\r\nBcc: x ")),
            "Hello Ann  Bcc: x,"
        );
        assert_eq!(greeting(Lang::Fr, Some(" \n")), "Bonjour,");
        assert_eq!(greeting(Lang::En, None), "Hello,");
    }

    #[test]
    fn the_validity_is_said_in_days_or_as_no_end() {
        assert!(validity_sentence(Lang::Fr, Some(365)).contains("365 jours"));
        assert!(validity_sentence(Lang::En, None).contains("until you withdraw"));
    }
}
