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
