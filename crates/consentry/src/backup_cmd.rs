//! `consentry backup DIR`: an online, consistent copy of the database and the key files,
//! into a new directory (docs/operations.md, "Backups").
//!
//! A directory rather than an archive: every file keeps its own mode (keys 0600), can be
//! inspected and copied with ordinary tools, and the manifest (`backup.json`, written
//! last, so a backup without it is incomplete) names each file with its SHA-256, the log's
//! size and root, and the backend.
//!
//! - **SQLite**: `VACUUM INTO` copies the database inside one read transaction while the
//!   service goes on writing (WAL): the copy is the committed state at one instant.
//! - **PostgreSQL**: `pg_dump --format=custom --snapshot=…` (of the service's schema, or
//!   of the whole database when that is `public`), the
//!   snapshot exported by a repeatable-read transaction that also reads the log's head
//!   for the manifest, so the dump and the manifest describe the same instant. Without
//!   `pg_dump` the command says how to take the dump by hand.
//!
//! The key files are copied before the database, then checked against the copy: the
//! master keys must include the copy's current version. A rotation between the two (or a
//! data dir that is not the service's) fails the backup instead of producing one whose
//! keys do not open its vault.

use crate::config::{self, DbArgs};
use anyhow::{Context as _, bail};
use consentry_ledger::clock::{Clock as _, SystemClock};
use consentry_ledger::keys as server_keys;
use consentry_store::Store;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;
use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

/// The manifest's file name.
pub const MANIFEST: &str = "backup.json";
/// The manifest's format.
pub const FORMAT: &str = "consentry.backup/v1";
/// The SQLite copy's name in a backup.
pub const SQLITE_FILE: &str = "consentry.sqlite3";
/// The PostgreSQL dump's name in a backup.
pub const PG_DUMP_FILE: &str = "database.pgdump";

/// Options of `consentry backup`.
#[derive(clap::Args, Debug, Clone)]
pub struct BackupArgs {
    /// The directory to write the backup into; must not exist, or be empty.
    pub dir: PathBuf,
    #[command(flatten)]
    pub db: DbArgs,
    /// The pg_dump program (PostgreSQL only) [default: pg_dump on PATH]
    #[arg(long, value_name = "PATH", default_value = "pg_dump")]
    pub pg_dump: PathBuf,
}

/// What a backup holds: `backup.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// The database file in the backup ([`SQLITE_FILE`] or [`PG_DUMP_FILE`]).
    pub database: String,
    /// When the backup was taken (RFC 3339, UTC).
    pub created_at: String,
    /// The log in the copy.
    pub log: ManifestLog,
    /// Every file of the backup but the manifest, by path relative to the backup, with
    /// its SHA-256 (lowercase hex).
    pub files: BTreeMap<String, String>,
}

/// The log as the copy holds it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestLog {
    /// The log's origin.
    pub origin: String,
    /// Entries in the copy.
    pub size: u64,
    /// The copy's root, standard base64.
    pub root: String,
    /// The size of the latest checkpoint the copy had signed, if any.
    pub latest_checkpoint: Option<u64>,
}

/// The key files of a data dir, relative to it: every one the service reads, in the
/// order they are copied. Absent ones (no rotation yet, a configured PDF seal) are
/// skipped; `seal.key` and `log.key` must be there.
pub fn key_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = [
        server_keys::MASTER_FILE,
        server_keys::MASTER_PREVIOUS_FILE,
        server_keys::LINK_FILE,
        server_keys::SEAL_FILE,
        server_keys::LOG_FILE,
        server_keys::SEAL_RETIRED_FILE,
        server_keys::LOG_RETIRED_FILE,
        server_keys::ROTATIONS_FILE,
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    let (chain, key) = consentry_ledger::pdf_seal::self_issued_paths(Path::new(""));
    files.push(chain);
    files.push(key);
    files
}

/// SHA-256 of a file, lowercase hex.
pub fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).with_context(|| format!("reading {}", path.display()))?;
    Ok(hex::encode(hasher.finalize()))
}

/// Creates `dir` (0700) if absent; refuses one that holds anything.
pub fn empty_dir(dir: &Path, what: &str) -> anyhow::Result<()> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                bail!("{what} {} is not empty", dir.display());
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("creating {}", dir.display())),
        Err(e) => Err(e).with_context(|| format!("reading {}", dir.display())),
    }
}

/// Copies the key files present in `from` to `to`, keeping their modes; returns the
/// relative paths copied.
pub fn copy_keys(from: &Path, to: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut copied = Vec::new();
    for rel in key_files() {
        let src = from.join(&rel);
        let bytes = match std::fs::read(&src) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("reading {}", src.display())),
        };
        let mode = std::fs::metadata(&src)?.permissions().mode() & 0o777;
        let dst = to.join(&rel);
        if let Some(parent) = dst.parent() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)?;
        }
        std::fs::write(&dst, &bytes).with_context(|| format!("writing {}", dst.display()))?;
        std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(mode))?;
        copied.push(rel);
    }
    for needed in [server_keys::SEAL_FILE, server_keys::LOG_FILE] {
        if !copied.iter().any(|p| p == Path::new(needed)) {
            bail!(
                "{} does not exist: is {} the service's data dir?",
                from.join(needed).display(),
                from.display()
            );
        }
    }
    Ok(copied)
}

/// Runs `consentry backup`.
pub fn run(args: &BackupArgs) -> anyhow::Result<()> {
    let (data_dir, url) = config::database(&args.db)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    if let Some(path) = crate::check_cmd::sqlite_path(&url)
        && !path.exists()
    {
        bail!("no database at {}", path.display());
    }
    empty_dir(&args.dir, "the backup directory")?;
    let result = rt.block_on(backup(args, &data_dir, &url));
    if result.is_err() {
        // A failed backup leaves nothing that could pass for one.
        let _ = std::fs::remove_dir_all(&args.dir);
    }
    let manifest = result?;
    println!(
        "backup of a log of {} entries ({} database) written to {}",
        manifest.log.size,
        manifest.backend,
        args.dir.display()
    );
    Ok(())
}

async fn backup(args: &BackupArgs, data_dir: &Path, url: &str) -> anyhow::Result<Manifest> {
    let copied = copy_keys(data_dir, &args.dir)?;
    let master_in_env = std::env::var_os(server_keys::MASTER_ENV).is_some();
    let store = Store::open(url).await?;
    let (backend, database, head, latest) = match store.backend() {
        consentry_store::Backend::Sqlite => {
            let dest = args.dir.join(SQLITE_FILE);
            store
                .backup_sqlite(&dest)
                .await
                .context("copying the database (VACUUM INTO)")?;
            store.close().await;
            std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o600))?;
            // Read what the copy holds from the copy itself.
            let copy = Store::open(&format!("sqlite://{}", dest.display())).await?;
            let head = copy.log_head().await?;
            let latest = copy.latest_checkpoint().await?.map(|(s, _)| s);
            check_master_keys(&copy, &args.dir, master_in_env).await?;
            copy.close().await;
            drop(copy);
            for suffix in ["-wal", "-shm"] {
                let mut p = dest.as_os_str().to_owned();
                p.push(suffix);
                let _ = std::fs::remove_file(PathBuf::from(p));
            }
            ("sqlite", SQLITE_FILE, (head.0, head.1.to_base64()), latest)
        }
        consentry_store::Backend::Postgres => {
            let mut snapshot = store.export_snapshot().await?;
            let (size, root) = snapshot.log_head().await?;
            let schema = snapshot.schema().await?;
            let latest = snapshot.latest_checkpoint().await?;
            let dest = args.dir.join(PG_DUMP_FILE);
            let mut pg_dump = std::process::Command::new(&args.pg_dump);
            pg_dump
                .args(["--format=custom", "--no-owner", "--no-privileges"])
                .arg(format!("--snapshot={}", snapshot.id));
            // A schema of its own is dumped alone (with its CREATE SCHEMA); `public`, which
            // every database already has, with the whole database, whose dump does not
            // create it again (a `--schema=public` dump does, and fails to restore).
            if schema != "public" {
                pg_dump.arg(format!("--schema={schema}"));
            }
            let out = pg_dump
                .arg("--file")
                .arg(&dest)
                .arg(format!("--dbname={url}"))
                .output();
            let out = match out {
                Ok(o) => o,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
                    "{} not found: install the PostgreSQL client tools (pg_dump of the server's major version or newer), \
                     or give --pg-dump PATH; by hand: pg_dump --format=custom --schema={schema} --file {} URL, \
                     then copy the key files of {} (docs/operations.md, \"Backups\")",
                    args.pg_dump.display(),
                    dest.display(),
                    data_dir.display()
                ),
                Err(e) => return Err(e).context("running pg_dump"),
            };
            if !out.status.success() {
                bail!(
                    "pg_dump failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
            }
            snapshot.finish().await?;
            std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o600))?;
            check_master_keys(&store, &args.dir, master_in_env).await?;
            store.close().await;
            let root: [u8; 32] = root
                .as_slice()
                .try_into()
                .context("the stored root is not 32 bytes")?;
            (
                "postgres",
                PG_DUMP_FILE,
                (size, consentry_core::merkle::Hash(root).to_base64()),
                latest,
            )
        }
    };
    let (_, logs) = server_keys::public_keys(&args.dir, server_keys::default_origin)?;
    let origin = logs
        .first()
        .and_then(|v| v.split_once('+'))
        .map(|(o, _)| o.to_owned())
        .unwrap_or_default();
    let mut files = BTreeMap::new();
    for rel in copied
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .chain([database.to_owned()])
    {
        files.insert(rel.clone(), sha256_file(&args.dir.join(&rel))?);
    }
    let now = SystemClock.now_ms();
    let manifest = Manifest {
        format: FORMAT.into(),
        backend: backend.into(),
        database: database.into(),
        created_at: consentry_core::time::Timestamp::from_unix_millis(now)
            .map(|t| t.to_string())
            .unwrap_or_default(),
        log: ManifestLog {
            origin,
            size: head.0,
            root: head.1,
            latest_checkpoint: latest,
        },
        files,
    };
    let text = serde_json::to_string_pretty(&manifest)? + "\n";
    crate::files::write_atomic(&args.dir.join(MANIFEST), text.as_bytes())?;
    Ok(manifest)
}

/// The master keys copied must hold the database copy's current version (unless the
/// service takes its master key from the environment, which a backup cannot copy).
async fn check_master_keys(
    copy: &Store,
    backup_dir: &Path,
    master_in_env: bool,
) -> anyhow::Result<()> {
    if master_in_env {
        eprintln!(
            "consentry backup: the master key comes from {}: it is not in the backup; keep it apart",
            server_keys::MASTER_ENV
        );
        return Ok(());
    }
    let versions = copy.vault_keys().await?;
    if versions.is_empty() {
        return Ok(());
    }
    let candidates = server_keys::master_candidates(backup_dir, None, None)?;
    if server_keys::ring_for(candidates, &versions).is_none() {
        bail!(
            "the master key files copied are not the database's current master key version \
             (a master-key rotation ran during the backup, or --data-dir is not the service's): run the backup again"
        );
    }
    Ok(())
}
