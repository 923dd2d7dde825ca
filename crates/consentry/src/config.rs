//! Configuration in two steps: raw options from flags, `CONSENTRY_*` environment
//! variables (clap reads both) and an optional `consentry.toml`, merged in that order of
//! precedence; then checked once into the server's validated `ServerConfig`.

use anyhow::{Context as _, bail};
use consentry_server::ServerConfig;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Options every command that opens the database shares.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct DbArgs {
    /// Directory for keys, the SQLite database and the mail outbox [default: ./consentry-data]
    #[arg(long, env = "CONSENTRY_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://… [default: SQLite inside the data dir]
    #[arg(long, env = "CONSENTRY_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
    /// Configuration file [default: ./consentry.toml if present]
    #[arg(long, env = "CONSENTRY_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Anchor options, shared by `serve` and `anchor`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct AnchorArgs {
    /// JSON-RPC URL of an EVM node to anchor checkpoints in (the chain ID is read from it)
    #[arg(long, env = "CONSENTRY_ANCHOR_EVM_RPC", value_name = "URL")]
    pub anchor_evm_rpc: Option<String>,
    /// File holding the anchoring account's private key (0x-hex); or set
    /// CONSENTRY_ANCHOR_EVM_KEY to the key itself
    #[arg(long, env = "CONSENTRY_ANCHOR_EVM_KEY_FILE", value_name = "FILE")]
    pub anchor_evm_key_file: Option<PathBuf>,
    /// Confirmations before a certificate uses the anchor, counting the anchor's own
    /// block (3 = its block and 2 on top) [default: 3]
    #[arg(long, env = "CONSENTRY_ANCHOR_EVM_CONFIRMATIONS", value_name = "N")]
    pub anchor_evm_confirmations: Option<u64>,
    /// Address the anchoring transaction is sent to [default: the anchoring account]
    #[arg(long, env = "CONSENTRY_ANCHOR_EVM_TO", value_name = "ADDRESS")]
    pub anchor_evm_to: Option<String>,
    /// URL of an RFC 3161 time-stamping authority
    #[arg(long, env = "CONSENTRY_ANCHOR_RFC3161_URL", value_name = "URL")]
    pub anchor_rfc3161_url: Option<String>,
    /// PEM file of the CA certificate(s) the TSA's signing certificate must chain to
    #[arg(long, env = "CONSENTRY_ANCHOR_RFC3161_CA", value_name = "FILE")]
    pub anchor_rfc3161_ca: Option<PathBuf>,
    /// Local time of the daily anchor [default: 00:00]
    #[arg(long, env = "CONSENTRY_ANCHOR_AT", value_name = "HH:MM")]
    pub anchor_at: Option<String>,
    /// IANA time zone of --anchor-at [default: Europe/Paris]
    #[arg(long, env = "CONSENTRY_ANCHOR_TIMEZONE", value_name = "TZ")]
    pub anchor_timezone: Option<String>,
    /// Seconds between polls of a pending anchor (confirmations) [default: 5]
    #[arg(long, env = "CONSENTRY_ANCHOR_POLL", value_name = "SECONDS")]
    pub anchor_poll: Option<u64>,
}

/// Options of `consentry serve`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "CONSENTRY_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// Base URL people reach the service at, for links [default: http://LISTEN]
    #[arg(long, env = "CONSENTRY_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// Seconds between checkpoint signatures of a growing log [default: 1]
    #[arg(long, env = "CONSENTRY_CHECKPOINT_INTERVAL", value_name = "SECONDS")]
    pub checkpoint_interval: Option<u64>,
    /// Log format: text or json [default: text]
    #[arg(long, env = "CONSENTRY_LOG_FORMAT", value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// SMTP server for e-mails: `smtp://[user:pass@]host:port` (add `?tls=required`
    /// for STARTTLS) or `smtps://…` [default: .eml files in DATA_DIR/outbox]
    #[arg(long, env = "CONSENTRY_SMTP_URL", value_name = "URL")]
    pub smtp_url: Option<String>,
    /// From address of the e-mails (default: `Consentry <consentry@localhost>`)
    #[arg(long, env = "CONSENTRY_MAIL_FROM", value_name = "ADDRESS")]
    pub mail_from: Option<String>,
    /// Bearer token of the operator routes (POST /v1/admin/anchor) [default: disabled]
    #[arg(
        long,
        env = "CONSENTRY_ADMIN_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub admin_token: Option<String>,
    /// Block explorer page of an EVM transaction, `{tx}` standing for its hash, linked
    /// from the web application (e.g. `https://etherscan.io/tx/{tx}`) [default: link to
    /// /v1/log/anchors]
    #[arg(long, env = "CONSENTRY_ANCHOR_EVM_EXPLORER", value_name = "URL")]
    pub anchor_evm_explorer: Option<String>,
    /// PEM file of the PDF seal's certificate chain (the seal certificate first, ECDSA
    /// P-256 or RSA) [default: a self-issued seal made in DATA_DIR/pdf-seal]
    #[arg(
        long,
        env = "CONSENTRY_PDF_SEAL_CERT",
        value_name = "FILE",
        requires = "pdf_seal_key"
    )]
    pub pdf_seal_cert: Option<PathBuf>,
    /// PEM file of the PDF seal certificate's private key (PKCS#8, SEC 1 or PKCS#1)
    #[arg(
        long,
        env = "CONSENTRY_PDF_SEAL_KEY",
        value_name = "FILE",
        requires = "pdf_seal_cert"
    )]
    pub pdf_seal_key: Option<PathBuf>,
    /// Seconds between attempts to time-stamp PDFs sealed while the TSA was down
    /// (PAdES B-B to B-T) [default: 300]
    #[arg(long, env = "CONSENTRY_PDF_SEAL_UPGRADE", value_name = "SECONDS")]
    pub pdf_seal_upgrade: Option<u64>,
    /// A witness to submit checkpoints to: its cosigner verifier key (type 0x04), `=`,
    /// its submission URL prefix (C2SP tlog-witness); repeatable
    #[arg(
        long = "witness",
        env = "CONSENTRY_WITNESS",
        value_name = "VKEY=URL",
        value_delimiter = ','
    )]
    pub witness: Vec<String>,
    /// Cosignatures a checkpoint needs to count as witnessed [default: all witnesses]
    #[arg(long, env = "CONSENTRY_WITNESS_QUORUM", value_name = "K")]
    pub witness_quorum: Option<usize>,
    /// What the daily anchor does when no checkpoint reached the quorum: `wait` (anchor
    /// once one does) or `anchor` (anchor the latest anyway) [default: wait]
    #[arg(long, env = "CONSENTRY_ANCHOR_UNWITNESSED", value_name = "wait|anchor")]
    pub anchor_unwitnessed: Option<String>,
    /// An address range webhooks may reach although it is loopback, private, link-local
    /// or otherwise special-purpose (e.g. `10.20.0.0/16` for an intranet, `127.0.0.1/32`
    /// for tests); repeatable [default: public addresses only]
    #[arg(
        long = "outbound-allow",
        env = "CONSENTRY_OUTBOUND_ALLOW",
        value_name = "CIDR",
        value_delimiter = ','
    )]
    pub outbound_allow: Vec<String>,
    /// A reverse proxy (address range, e.g. `10.0.0.0/8`, or one address) whose
    /// `Forwarded` / `X-Forwarded-For` headers name the client, for per-client limits and
    /// logs; repeatable [default: none, the peer is the client]
    #[arg(
        long = "trusted-proxy",
        env = "CONSENTRY_TRUSTED_PROXY",
        value_name = "CIDR",
        value_delimiter = ','
    )]
    pub trusted_proxy: Vec<String>,
    #[command(flatten)]
    pub anchor: AnchorArgs,
}

/// `consentry.toml`: the same options, by their long names with underscores.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    listen: Option<String>,
    public_url: Option<String>,
    checkpoint_interval: Option<u64>,
    log_format: Option<String>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    admin_token: Option<String>,
    anchor_evm_rpc: Option<String>,
    anchor_evm_key_file: Option<PathBuf>,
    anchor_evm_confirmations: Option<u64>,
    anchor_evm_to: Option<String>,
    anchor_rfc3161_url: Option<String>,
    anchor_rfc3161_ca: Option<PathBuf>,
    anchor_at: Option<String>,
    anchor_timezone: Option<String>,
    anchor_poll: Option<u64>,
    anchor_evm_explorer: Option<String>,
    pdf_seal_cert: Option<PathBuf>,
    pdf_seal_key: Option<PathBuf>,
    pdf_seal_upgrade: Option<u64>,
    witness: Option<Vec<String>>,
    witness_quorum: Option<usize>,
    anchor_unwitnessed: Option<String>,
    outbound_allow: Option<Vec<String>>,
    trusted_proxy: Option<Vec<String>>,
}

fn read_file(explicit: Option<&Path>) -> anyhow::Result<FileConfig> {
    let (path, required) = match explicit {
        Some(p) => (p.to_owned(), true),
        None => (PathBuf::from("consentry.toml"), false),
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text).with_context(|| format!("reading {}", path.display())),
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
            Ok(FileConfig::default())
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// The data dir and database URL, merged and defaulted.
pub fn database(db: &DbArgs) -> anyhow::Result<(PathBuf, String)> {
    let file = read_file(db.config.as_deref())?;
    let data_dir = db
        .data_dir
        .clone()
        .or(file.data_dir)
        .unwrap_or_else(|| PathBuf::from("consentry-data"));
    let url = db
        .database_url
        .clone()
        .or(file.database_url)
        .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("consentry.sqlite3").display()));
    if !(url.starts_with("sqlite:")
        || url.starts_with("postgres://")
        || url.starts_with("postgresql://"))
    {
        bail!("--database-url must be sqlite://PATH or postgres://…");
    }
    Ok((data_dir, url))
}

/// The validated server configuration, and the log format.
pub fn server(args: &ServeArgs) -> anyhow::Result<(ServerConfig, String)> {
    let file = read_file(args.db.config.as_deref())?;
    let witness_settings = witnesses(args, &file)?;
    let outbound = outbound_policy(args, &file)?;
    let trusted_proxies = trusted_proxies(args, &file)?;
    // The signature time-stamps of the PDFs come from the anchoring TSA, with a shorter
    // timeout: a download waits for them.
    let pdf_tsa = tsa_config(&args.anchor, &file, std::time::Duration::from_secs(10))?;
    let (data_dir, database_url) = database(&args.db)?;
    let mut cfg = ServerConfig::with_data_dir(data_dir);
    cfg.database_url = database_url;
    if let Some(listen) = args.listen.clone().or(file.listen) {
        cfg.listen = listen.parse().with_context(|| {
            format!("--listen {listen:?} is not an address such as 127.0.0.1:8080")
        })?;
    }
    cfg.public_url = args
        .public_url
        .clone()
        .or(file.public_url)
        .unwrap_or_else(|| format!("http://{}", cfg.listen));
    if !(cfg.public_url.starts_with("http://") || cfg.public_url.starts_with("https://")) {
        bail!("--public-url must start with http:// or https://");
    }
    let interval = args
        .checkpoint_interval
        .or(file.checkpoint_interval)
        .unwrap_or(1);
    if !(1..=3600).contains(&interval) {
        bail!("--checkpoint-interval must be between 1 and 3600 seconds");
    }
    cfg.checkpoint_interval = std::time::Duration::from_secs(interval);
    cfg.smtp_url = args.smtp_url.clone().or(file.smtp_url);
    if let Some(from) = args.mail_from.clone().or(file.mail_from) {
        cfg.mail_from = from;
    }
    cfg.admin_token = args.admin_token.clone().or(file.admin_token.clone());
    if cfg.admin_token.as_ref().is_some_and(|t| t.len() < 16) {
        bail!("--admin-token must be at least 16 characters");
    }
    cfg.anchoring = anchoring(&args.anchor, &args.db)?;
    cfg.pdf_seal_files = match (
        args.pdf_seal_cert.clone().or(file.pdf_seal_cert.clone()),
        args.pdf_seal_key.clone().or(file.pdf_seal_key.clone()),
    ) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        _ => bail!("--pdf-seal-cert and --pdf-seal-key go together"),
    };
    if let Some(tsa) = pdf_tsa {
        let tsa = consentry_anchor::rfc3161::TsaAnchor::new(tsa).context("--anchor-rfc3161-url")?;
        cfg.pdf_tsa = Some(std::sync::Arc::new(tsa));
    }
    let upgrade = args
        .pdf_seal_upgrade
        .or(file.pdf_seal_upgrade)
        .unwrap_or(300);
    if !(1..=86_400).contains(&upgrade) {
        bail!("--pdf-seal-upgrade must be between 1 and 86400 seconds");
    }
    cfg.pdf_upgrade_interval = std::time::Duration::from_secs(upgrade);
    cfg.witnesses = witness_settings;
    cfg.outbound = outbound;
    cfg.trusted_proxies = trusted_proxies;
    if let Some(url) = args
        .anchor_evm_explorer
        .clone()
        .or(file.anchor_evm_explorer.clone())
    {
        if !(url.starts_with("https://") || url.starts_with("http://")) || !url.contains("{tx}") {
            bail!(
                "--anchor-evm-explorer must be an http(s) URL with {{tx}} where the transaction hash goes"
            );
        }
        cfg.anchoring.evm_explorer = Some(url);
    }
    let format = args
        .log_format
        .clone()
        .or(file.log_format)
        .unwrap_or_else(|| "text".into());
    if format != "text" && format != "json" {
        bail!("--log-format must be text or json");
    }
    Ok((cfg, format))
}

/// The outbound address rules with the operator's allowed ranges, each checked.
fn outbound_policy(
    args: &ServeArgs,
    file: &FileConfig,
) -> anyhow::Result<consentry_ledger::outbound::AddressPolicy> {
    let list = if args.outbound_allow.is_empty() {
        file.outbound_allow.clone().unwrap_or_default()
    } else {
        args.outbound_allow.clone()
    };
    let mut allow = Vec::new();
    for item in list {
        let cidr = item
            .trim()
            .parse::<consentry_ledger::outbound::Cidr>()
            .with_context(|| format!("--outbound-allow {item:?} is not an address range (CIDR)"))?;
        allow.push(cidr);
    }
    Ok(consentry_ledger::outbound::AddressPolicy::new(allow))
}

/// The trusted reverse proxies, each range checked (flags, else the file).
fn trusted_proxies(
    args: &ServeArgs,
    file: &FileConfig,
) -> anyhow::Result<consentry_server::client::TrustedProxies> {
    let list = if args.trusted_proxy.is_empty() {
        file.trusted_proxy.clone().unwrap_or_default()
    } else {
        args.trusted_proxy.clone()
    };
    let mut ranges = Vec::new();
    for item in &list {
        let range = item
            .trim()
            .parse::<consentry_server::client::Cidr>()
            .with_context(|| format!("--trusted-proxy {item:?}"))?;
        ranges.push(range);
    }
    Ok(consentry_server::client::TrustedProxies(ranges))
}

/// The witnesses, checked: each `VKEY=URL` a cosigner key and an http(s) URL, the quorum
/// between 1 and their number.
fn witnesses(
    args: &ServeArgs,
    file: &FileConfig,
) -> anyhow::Result<consentry_ledger::witnessing::WitnessSettings> {
    use consentry_ledger::witnessing::{Unwitnessed, WitnessEndpoint, WitnessSettings};
    let list = if args.witness.is_empty() {
        file.witness.clone().unwrap_or_default()
    } else {
        args.witness.clone()
    };
    let mut witnesses = Vec::new();
    for item in &list {
        let Some((vkey, url)) = item.split_once('=') else {
            bail!("--witness {item:?} is not VKEY=URL");
        };
        let key = consentry_core::cosignature::CosignerVerifier::parse(vkey)
            .with_context(|| format!("--witness {vkey:?} is not a cosigner verifier key"))?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            bail!("--witness URL {url:?} must start with http:// or https://");
        }
        if witnesses
            .iter()
            .any(|w: &WitnessEndpoint| w.key.key_id() == key.key_id() && w.key.name() == key.name())
        {
            bail!("--witness {vkey:?} is given twice");
        }
        witnesses.push(WitnessEndpoint {
            key,
            url: url.to_owned(),
        });
    }
    let quorum = args
        .witness_quorum
        .or(file.witness_quorum)
        .unwrap_or(witnesses.len());
    if !witnesses.is_empty() && !(1..=witnesses.len()).contains(&quorum) {
        bail!(
            "--witness-quorum must be between 1 and the number of witnesses ({})",
            witnesses.len()
        );
    }
    if witnesses.is_empty() && args.witness_quorum.is_some() {
        bail!("--witness-quorum is given without --witness");
    }
    let unwitnessed = match args
        .anchor_unwitnessed
        .clone()
        .or(file.anchor_unwitnessed.clone())
        .as_deref()
    {
        None | Some("wait") => Unwitnessed::Wait,
        Some("anchor") => Unwitnessed::Anchor,
        Some(other) => bail!("--anchor-unwitnessed must be wait or anchor, not {other:?}"),
    };
    Ok(WitnessSettings {
        witnesses,
        quorum,
        unwitnessed,
    })
}

/// The anchoring settings: backends built from the options (file values fill in what
/// flags and environment leave unset), the schedule checked.
pub fn anchoring(
    args: &AnchorArgs,
    db: &DbArgs,
) -> anyhow::Result<consentry_ledger::anchoring::AnchorSettings> {
    use consentry_anchor::Anchor;
    use std::sync::Arc;
    let file = read_file(db.config.as_deref())?;
    let tsa = tsa_config(args, &file, std::time::Duration::from_secs(30))?;
    let mut settings = consentry_ledger::anchoring::AnchorSettings::none();
    let at = args
        .anchor_at
        .clone()
        .or(file.anchor_at)
        .unwrap_or_else(|| "00:00".into());
    let tz = args
        .anchor_timezone
        .clone()
        .or(file.anchor_timezone)
        .unwrap_or_else(|| "Europe/Paris".into());
    settings.schedule = consentry_ledger::schedule::Schedule::new(&at, &tz)?;
    let poll = args.anchor_poll.or(file.anchor_poll).unwrap_or(5);
    if !(1..=3600).contains(&poll) {
        bail!("--anchor-poll must be between 1 and 3600 seconds");
    }
    settings.poll = std::time::Duration::from_secs(poll);
    let mut backends: Vec<Arc<dyn Anchor>> = Vec::new();
    if let Some(rpc) = args.anchor_evm_rpc.clone().or(file.anchor_evm_rpc) {
        let key = match (
            args.anchor_evm_key_file
                .clone()
                .or(file.anchor_evm_key_file),
            std::env::var("CONSENTRY_ANCHOR_EVM_KEY").ok(),
        ) {
            (Some(path), _) => consentry_anchor::evm::EvmConfig::key_from_file(&path)
                .with_context(|| format!("--anchor-evm-key-file {}", path.display()))?,
            (None, Some(hex)) => consentry_anchor::evm::EvmConfig::key_from_hex(&hex)
                .map_err(|e| anyhow::anyhow!("CONSENTRY_ANCHOR_EVM_KEY: {e}"))?,
            (None, None) => bail!(
                "--anchor-evm-rpc needs the anchoring account's key: --anchor-evm-key-file FILE or CONSENTRY_ANCHOR_EVM_KEY"
            ),
        };
        let confirmations = args
            .anchor_evm_confirmations
            .or(file.anchor_evm_confirmations)
            .unwrap_or(3);
        if !(1..=1000).contains(&confirmations) {
            bail!("--anchor-evm-confirmations must be between 1 and 1000");
        }
        let to = match args.anchor_evm_to.clone().or(file.anchor_evm_to) {
            Some(a) => Some(
                a.parse()
                    .map_err(|_| anyhow::anyhow!("--anchor-evm-to {a:?} is not an address"))?,
            ),
            None => None,
        };
        let cfg = consentry_anchor::evm::EvmConfig {
            rpc_url: rpc,
            key,
            confirmations,
            to,
            request_timeout: std::time::Duration::from_secs(30),
        };
        backends.push(Arc::new(
            consentry_anchor::evm::EvmAnchor::new(cfg).context("--anchor-evm-rpc")?,
        ));
    }
    if let Some(cfg) = tsa {
        backends.push(Arc::new(
            consentry_anchor::rfc3161::TsaAnchor::new(cfg).context("--anchor-rfc3161-url")?,
        ));
    }
    settings.backends = backends;
    Ok(settings)
}

/// The RFC 3161 TSA's configuration (flags, then the file), if one is given.
fn tsa_config(
    args: &AnchorArgs,
    file: &FileConfig,
    timeout: std::time::Duration,
) -> anyhow::Result<Option<consentry_anchor::rfc3161::TsaConfig>> {
    let ca_file = args
        .anchor_rfc3161_ca
        .clone()
        .or(file.anchor_rfc3161_ca.clone());
    match args
        .anchor_rfc3161_url
        .clone()
        .or(file.anchor_rfc3161_url.clone())
    {
        Some(url) => Ok(Some(consentry_anchor::rfc3161::TsaConfig {
            url,
            ca_file,
            timeout,
        })),
        None if args.anchor_rfc3161_ca.is_some() => {
            bail!("--anchor-rfc3161-ca is given without --anchor-rfc3161-url")
        }
        None => Ok(None),
    }
}
