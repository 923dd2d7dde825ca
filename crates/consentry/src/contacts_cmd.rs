//! `consentry contacts import FILE --tenant …` and `consentry contacts export --tenant …`:
//! the CSV import and export of `docs/csv.md`, straight on the database, with the same
//! checks and vault encryption as the HTTP API (both go through
//! `consentry_server::contacts_csv`).
//!
//! The vault's master key is read as `consentry serve` reads it (`CONSENTRY_MASTER_KEY`,
//! else `master.key` in the data dir), but never created here: contacts sealed under a
//! key the service does not hold would be unreadable, so a missing key is an error.

use crate::config::{self, DbArgs};
use anyhow::{Context as _, bail};
use consentry_core::ids::TenantId;
use consentry_ledger::clock::{Clock as _, SystemClock};
use consentry_server::contacts_csv::{self, Export, MAX_BYTES};
use consentry_store::Store;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

/// Contact commands.
#[derive(clap::Subcommand)]
pub enum ContactsCommand {
    /// Import contacts from a CSV file (format: docs/csv.md).
    ///
    /// Every line is checked first; if any is bad, each bad line is listed with its
    /// number and the reason, nothing is written and the exit status is 1. Addresses
    /// already in the book are reported as existing, with their pseudonym.
    Import {
        /// The CSV file (`-` for standard input).
        file: PathBuf,
        /// The tenant whose address book receives the contacts (ten_…).
        #[arg(long, value_name = "TENANT")]
        tenant: String,
        /// Check the file and look up existing contacts, but write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print the outcome as JSON ({created, existing, errors}) on standard output.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Export the address book as pseudonymous CSV: pseudonyms, categories, attributes
    /// and consent status per purpose; never identity data.
    Export {
        /// The tenant (ten_…).
        #[arg(long, value_name = "TENANT")]
        tenant: String,
        /// Where to write [default: standard output].
        file: Option<PathBuf>,
        #[command(flatten)]
        db: DbArgs,
    },
}

/// Runs a contacts command.
pub fn run(cmd: &ContactsCommand) -> anyhow::Result<()> {
    match cmd {
        ContactsCommand::Import {
            file,
            tenant,
            dry_run,
            json,
            db,
        } => import(file, tenant, *dry_run, *json, db),
        ContactsCommand::Export { tenant, file, db } => export(tenant, file.as_deref(), db),
    }
}

fn tenant_id(s: &str) -> anyhow::Result<TenantId> {
    TenantId::parse(s.trim()).map_err(|_| anyhow::anyhow!("--tenant must be a tenant ID (ten_…)"))
}

fn read_input(file: &Path) -> anyhow::Result<Vec<u8>> {
    let limit = u64::try_from(MAX_BYTES).unwrap_or(u64::MAX) + 1;
    let mut bytes = Vec::new();
    if file == Path::new("-") {
        std::io::stdin()
            .take(limit)
            .read_to_end(&mut bytes)
            .context("reading standard input")?;
    } else {
        std::fs::File::open(file)
            .and_then(|f| f.take(limit).read_to_end(&mut bytes))
            .with_context(|| format!("reading {}", file.display()))?;
    }
    if bytes.len() > MAX_BYTES {
        bail!(
            "the file is larger than {} MiB: split it",
            MAX_BYTES / (1024 * 1024)
        );
    }
    Ok(bytes)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Opens the store and checks the tenant exists.
async fn open(url: &str, tenant: &TenantId) -> anyhow::Result<Store> {
    let store = Store::open(url).await.context("opening the database")?;
    if store.tenant(tenant).await?.is_none() {
        store.close().await;
        bail!("this database has no tenant {tenant}");
    }
    Ok(store)
}

/// Loads the keys as `consentry serve` does (creating them on a database no service has
/// used yet, as its first start would), and checks they are the keys of the service that
/// uses this database: contacts sealed under another master key would be unreadable.
pub(crate) async fn load_keys(
    store: &Store,
    data_dir: &Path,
    master: Option<&str>,
) -> anyhow::Result<consentry_ledger::keys::Keys> {
    let origin = store.meta("log_origin").await?;
    if origin.is_some() && !data_dir.join("log.key").exists() {
        bail!(
            "{} holds no keys, but a service already uses this database: \
             point --data-dir at that service's data dir",
            data_dir.display()
        );
    }
    let keys =
        consentry_ledger::keys::load(data_dir, consentry_ledger::keys::default_origin, master)
            .context("loading the keys")?;
    if let Some(stored) = origin
        && stored != keys.log.origin()
    {
        bail!(
            "the keys in {} are not those of the service using this database \
             (its log is {stored:?}, these keys name {:?}): point --data-dir at that \
             service's data dir",
            data_dir.display(),
            keys.log.origin()
        );
    }
    keys.master
        .sync(store, SystemClock.now_ms())
        .await
        .context("loading the master keys")?;
    Ok(keys)
}

fn import(file: &Path, tenant: &str, dry_run: bool, json: bool, db: &DbArgs) -> anyhow::Result<()> {
    let tenant = tenant_id(tenant)?;
    let (data_dir, url) = config::database(db)?;
    let bytes = read_input(file)?;
    let rows = match contacts_csv::parse(&bytes) {
        Ok(rows) => rows,
        Err(errors) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({"created": 0, "existing": [], "errors": errors})
                );
            }
            for e in &errors {
                eprintln!("line {}: {}", e.line, e.reason);
            }
            let n = errors.len();
            bail!(
                "{n} line{} of the file {} not acceptable; nothing was imported",
                if n == 1 { "" } else { "s" },
                if n == 1 { "is" } else { "are" }
            );
        }
    };
    drop(bytes);
    let master = std::env::var("CONSENTRY_MASTER_KEY").ok();
    let total = rows.len() as u64;
    let outcome = runtime()?.block_on(async {
        let store = open(&url, &tenant).await?;
        let keys = match load_keys(&store, &data_dir, master.as_deref()).await {
            Ok(keys) => keys,
            Err(e) => {
                store.close().await;
                return Err(e);
            }
        };
        let tenant_keys = keys.master.tenant_keys(&tenant);
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} storing contacts [{bar:40}] {pos}/{len} ({eta} left)",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        if dry_run {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        let clock = SystemClock;
        let result = contacts_csv::import(
            &store,
            &tenant_keys,
            &tenant,
            rows,
            clock.now_ms(),
            dry_run,
            || bar.inc(1),
        )
        .await;
        bar.finish_and_clear();
        store.close().await;
        result.context("importing")
    })?;
    if json {
        println!("{}", outcome.to_json(dry_run));
        return Ok(());
    }
    for (line, id) in &outcome.existing {
        println!("line {line}: already in the book as {id}");
    }
    if dry_run {
        println!(
            "dry run: {} contacts would be created, {} are already in the book; nothing was written",
            outcome.created,
            outcome.existing.len()
        );
    } else {
        println!(
            "{} contacts created, {} already in the book",
            outcome.created,
            outcome.existing.len()
        );
    }
    Ok(())
}

fn export(tenant: &str, file: Option<&Path>, db: &DbArgs) -> anyhow::Result<()> {
    let tenant = tenant_id(tenant)?;
    let (_data_dir, url) = config::database(db)?;
    let (mut out, shown): (Box<dyn std::io::Write>, String) = match file {
        Some(p) if p != Path::new("-") => (
            Box::new(std::io::BufWriter::new(
                std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
            )),
            p.display().to_string(),
        ),
        _ => (
            Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            "standard output".into(),
        ),
    };
    let rows = runtime()?.block_on(async {
        let store = open(&url, &tenant).await?;
        let clock = SystemClock;
        let result = async {
            let mut export = Export::begin(store.clone(), tenant.clone(), clock.now_ms()).await?;
            out.write_all(&export.header()?)
                .with_context(|| format!("writing {shown}"))?;
            while let Some(page) = export.next_page().await? {
                out.write_all(&page)
                    .with_context(|| format!("writing {shown}"))?;
            }
            out.flush().with_context(|| format!("writing {shown}"))?;
            anyhow::Ok(export.rows())
        }
        .await;
        store.close().await;
        result
    })?;
    eprintln!("{rows} contacts exported");
    Ok(())
}
