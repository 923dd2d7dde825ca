//! The validated service configuration. The binary merges flags, `CONSENTRY_*`
//! environment variables and `consentry.toml` into this, checking each value once.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything `consentry serve` needs, already checked.
#[derive(Clone)]
pub struct ServerConfig {
    /// Where keys, the SQLite file and the mail outbox live.
    pub data_dir: PathBuf,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// The base URL people reach the service at (links in e-mails and PDFs).
    pub public_url: String,
    /// How often the publisher signs a checkpoint of the grown log.
    pub checkpoint_interval: Duration,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// Most proofs sealed and committed in one transaction.
    pub max_batch: usize,
    /// SMTP server URL (`smtp://host:port`, `smtp://…?tls=required` for STARTTLS,
    /// `smtps://…`); `None` writes `.eml` files to `data_dir/outbox`.
    pub smtp_url: Option<String>,
    /// The From address of the e-mails Consentry sends.
    pub mail_from: String,
    /// Anchoring: backends and schedule.
    pub anchoring: consentry_ledger::anchoring::AnchorSettings,
    /// Bearer token of the operator's admin routes (`POST /v1/admin/anchor`); `None`
    /// disables them.
    pub admin_token: Option<String>,
    /// The operator's PDF seal: certificate chain and private key (PEM files); `None`:
    /// the self-issued seal of `data_dir/pdf-seal/`, made at first start.
    pub pdf_seal_files: Option<(PathBuf, PathBuf)>,
    /// The TSA whose signature time-stamps make sealed PDFs PAdES B-T (the RFC 3161
    /// anchoring TSA); `None`: PDFs stay B-B.
    pub pdf_tsa: Option<std::sync::Arc<consentry_anchor::rfc3161::TsaAnchor>>,
    /// How often PDFs sealed B-B (the TSA was down) are offered to the TSA again.
    pub pdf_upgrade_interval: Duration,
    /// The witnesses the log submits its checkpoints to, the quorum, and what anchoring
    /// does without a witnessed checkpoint.
    pub witnesses: consentry_ledger::witnessing::WitnessSettings,
    /// The address rules of outbound requests a tenant aims (webhooks), with the ranges
    /// the operator allowed (`--outbound-allow`).
    pub outbound: consentry_ledger::outbound::AddressPolicy,
    /// The reverse proxies whose `Forwarded` / `X-Forwarded-For` headers name the client
    /// (none: the peer is the client). See [`crate::client`].
    pub trusted_proxies: crate::client::TrustedProxies,
}

impl ServerConfig {
    /// Defaults for a data dir: SQLite inside it, listening on 127.0.0.1:8080.
    pub fn with_data_dir(data_dir: PathBuf) -> ServerConfig {
        let database_url = format!("sqlite://{}", data_dir.join("consentry.sqlite3").display());
        ServerConfig {
            data_dir,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url,
            public_url: "http://127.0.0.1:8080".into(),
            checkpoint_interval: Duration::from_secs(1),
            max_body_bytes: 64 * 1024,
            max_batch: 512,
            smtp_url: None,
            mail_from: "Consentry <consentry@localhost>".into(),
            anchoring: consentry_ledger::anchoring::AnchorSettings::none(),
            admin_token: None,
            pdf_seal_files: None,
            pdf_tsa: None,
            pdf_upgrade_interval: Duration::from_secs(300),
            witnesses: consentry_ledger::witnessing::WitnessSettings::default(),
            outbound: consentry_ledger::outbound::AddressPolicy::default(),
            trusted_proxies: crate::client::TrustedProxies::default(),
        }
    }
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The SMTP URL may hold a password and the admin token is a secret: neither is
        // printed.
        f.debug_struct("ServerConfig")
            .field("data_dir", &self.data_dir)
            .field("listen", &self.listen)
            .field("backend", &self.database_url.split(':').next())
            .field("public_url", &self.public_url)
            .field("smtp", &self.smtp_url.is_some())
            .field("anchoring", &self.anchoring)
            .field("admin_routes", &self.admin_token.is_some())
            .field("outbound", &self.outbound)
            .field("trusted_proxies", &self.trusted_proxies)
            .finish()
    }
}
