//! `consentry witness`: runs a C2SP tlog-witness (the server logic is the
//! `consentry-witness` crate; this reads the flags, the key and the log list, and starts it).

use anyhow::{Context as _, bail};
use consentry_witness::clock::SystemClock;
use consentry_witness::http::{AppState, serve};
use consentry_witness::key_file::load_or_create;
use consentry_witness::limiter::{Limiter, Rate};
use consentry_witness::store::Store;
use consentry_witness::{LogList, Witness};
use std::path::PathBuf;
use std::sync::Arc;

/// The database file in the data directory.
const DB_FILE: &str = "witness.sqlite3";

/// Arguments of `consentry witness`.
#[derive(clap::Args)]
pub struct WitnessArgs {
    /// The witness's directory: its key (`witness.key`, created at first start) and its
    /// state (`witness.sqlite3`).
    #[arg(
        long = "data-dir",
        alias = "data",
        value_name = "DIR",
        default_value = "consentry-witness"
    )]
    data_dir: PathBuf,
    /// The witness's name (a schema-less URL such as `witness.example.org`); needed at
    /// first start to create the key, checked against the key afterwards.
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// A log to follow, by its verifier key (`origin+hexid+base64`); repeatable.
    #[arg(long = "log", value_name = "VKEY")]
    logs: Vec<String>,
    /// A file of logs to follow: one verifier key per line; blank lines and lines
    /// starting with `#` are ignored.
    #[arg(long = "logs-file", value_name = "FILE")]
    logs_file: Option<PathBuf>,
    /// The address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7380")]
    listen: String,
    /// Requests per second allowed to each client IP address, sustained.
    #[arg(long = "rate-limit", value_name = "N", default_value_t = 10.0)]
    rate_limit: f64,
    /// Requests each client IP address may make in a burst.
    #[arg(long, value_name = "N", default_value_t = 50.0)]
    burst: f64,
    /// Print the witness's verifier key (creating the key if needed) and exit.
    #[arg(long = "print-vkey")]
    print_vkey: bool,
}

/// Runs the command.
pub fn run(args: &WitnessArgs) -> anyhow::Result<()> {
    let key = load_or_create(&args.data_dir, args.name.as_deref()).context("witness key")?;
    if args.print_vkey {
        println!("{}", key.verifier_key());
        return Ok(());
    }
    let mut vkeys = args.logs.clone();
    if let Some(file) = &args.logs_file {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        vkeys.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_owned),
        );
    }
    let logs = LogList::new(&vkeys)?;
    if !(args.rate_limit > 0.0 && args.burst >= 1.0) {
        bail!("--rate-limit must be above 0 and --burst at least 1");
    }
    init_tracing();
    let store = Store::open(&args.data_dir.join(DB_FILE)).context("witness database")?;
    let witness = Arc::new(Witness::new(key, logs, store));
    let limiter = Limiter::new(Rate {
        per_second: args.rate_limit,
        burst: args.burst,
    });
    let state = AppState::new(witness.clone(), limiter, Arc::new(SystemClock));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        let addr = listener.local_addr().context("local address")?;
        tracing::info!(vkey = %witness.verifier_key(), logs = witness.logs().keys().len(), "witness started");
        // A line scripts and tests can wait for.
        println!("consentry witness listening on http://{addr}");
        serve(listener, state, shutdown()).await.context("consentry witness")
    })
}

async fn shutdown() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot watch SIGTERM");
            return std::future::pending().await;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: shutting down"),
        _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CONSENTRY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
