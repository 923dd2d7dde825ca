//! `consentry restore DIR`: a backup (`consentry backup`) put back into an empty data dir
//! and database, unless that would fork the log (docs/operations.md, "Restoring").
//!
//! A log that is restored shorter than a checkpoint it already published is a **fork**:
//! the entries between the backup and that checkpoint were acknowledged and are gone, the
//! next appends would give their indices to other entries (two histories under one log
//! key, which witnesses refuse and monitors report), and subjects erased after the backup
//! come back with their keys. So the command compares the backup's log with every
//! checkpoint it knows was published — the backup's own checkpoints and anchors, the
//! notes given with `--published FILE` and fetched with `--published-url URL` (the log's
//! `/checkpoint`, a witness's or a mirror's copy) — each verified against the backup's
//! log keys:
//!
//! - a published size at most the backup's must carry the backup's root at that size, or
//!   the backup is not this log's history: always refused;
//! - a published size beyond the backup's is a fork: refused unless `--accept-fork`;
//! - with no published checkpoint given from outside the backup, the command cannot rule
//!   a fork out and refuses unless `--accept-fork` (the backup's own checkpoints never
//!   exceed its log, so they cannot tell).
//!
//! Nothing is written before the decision: the SQLite copy is opened and judged under a
//! temporary name beside its destination, renamed into place only once accepted, and the
//! key files are installed last. On PostgreSQL the database is restored with
//! `pg_restore` first (the dump's format is PostgreSQL's own), then this command judges
//! it and installs the keys: a service refuses to start on that database without them.

use crate::backup_cmd::{self, FORMAT, MANIFEST, Manifest, SQLITE_FILE};
use crate::config::{self, DbArgs};
use anyhow::{Context as _, bail};
use consentry_core::checkpoint::{Checkpoint, verify_signed_checkpoint};
use consentry_core::merkle::{EMPTY_ROOT, Hash};
use consentry_ledger::clock::{Clock as _, SystemClock};
use consentry_ledger::keys as server_keys;
use consentry_store::Store;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Options of `consentry restore`.
#[derive(clap::Args, Debug, Clone)]
pub struct RestoreArgs {
    /// The backup directory (written by `consentry backup`).
    pub dir: PathBuf,
    #[command(flatten)]
    pub db: DbArgs,
    /// A checkpoint this log published (a signed note file: the log's /checkpoint as a
    /// monitor, witness or `consentry mirror` saved it); repeatable
    #[arg(long, value_name = "FILE")]
    pub published: Vec<PathBuf>,
    /// A URL serving a checkpoint this log published (the log's /checkpoint, a mirror's
    /// copy); repeatable
    #[arg(long, value_name = "URL")]
    pub published_url: Vec<String>,
    /// Restore even if the backup's log is shorter than a checkpoint already published,
    /// or if no published checkpoint is given to compare with: the log forks (see
    /// docs/operations.md, "Restoring")
    #[arg(long)]
    pub accept_fork: bool,
}

/// A checkpoint known to have been published, verified against the log's keys.
#[derive(Debug, Clone)]
pub struct Known {
    /// Where it was found (for messages).
    pub source: String,
    /// Its checkpoint.
    pub checkpoint: Checkpoint,
    /// Whether it came from outside the backup.
    pub external: bool,
}

/// What the published checkpoints say of a backup's log.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Checkpoints within the backup's size whose root is not the backup's at that size:
    /// the backup is another history.
    pub mismatched: Vec<(String, u64)>,
    /// Checkpoints beyond the backup's size: restoring forks the log.
    pub beyond: Vec<(String, u64)>,
    /// Whether any checkpoint came from outside the backup.
    pub external: bool,
}

/// Judges a backup's log of `size` entries against the checkpoints known published,
/// given the backup's roots at their sizes (`roots`, every size ≤ `size` among them).
/// Pure: the caller reads the roots from the copy.
pub fn judge(size: u64, known: &[Known], roots: &BTreeMap<u64, Hash>) -> Verdict {
    let mut v = Verdict::default();
    for k in known {
        v.external |= k.external;
        let s = k.checkpoint.size;
        if s > size {
            v.beyond.push((k.source.clone(), s));
        } else if roots.get(&s) != Some(&k.checkpoint.root) {
            v.mismatched.push((k.source.clone(), s));
        }
    }
    v
}

/// Runs `consentry restore`.
pub fn run(args: &RestoreArgs) -> anyhow::Result<()> {
    let manifest = read_manifest(&args.dir)?;
    let (data_dir, url) = config::database(&args.db)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(restore(args, &manifest, &data_dir, &url))
}

/// Reads and checks a backup's manifest and every file it names.
pub fn read_manifest(dir: &Path) -> anyhow::Result<Manifest> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "reading {} (a backup without it is incomplete)",
            path.display()
        )
    })?;
    let manifest: Manifest =
        serde_json::from_str(&text).with_context(|| format!("reading {}", path.display()))?;
    if manifest.format != FORMAT {
        bail!("{} is {:?}, not {FORMAT}", path.display(), manifest.format);
    }
    if !manifest.files.contains_key(&manifest.database) {
        bail!(
            "the manifest does not list the database {}",
            manifest.database
        );
    }
    for (rel, want) in &manifest.files {
        if Path::new(rel).is_absolute() || rel.split('/').any(|c| c == "..") {
            bail!("the manifest names a file outside the backup: {rel:?}");
        }
        let got = backup_cmd::sha256_file(&dir.join(rel))?;
        if &got != want {
            bail!("{rel} in the backup is not the file the manifest names (SHA-256 differs)");
        }
    }
    Ok(manifest)
}

async fn restore(
    args: &RestoreArgs,
    manifest: &Manifest,
    data_dir: &Path,
    url: &str,
) -> anyhow::Result<()> {
    let (_, log_keys) = server_keys::public_keys(&args.dir, server_keys::default_origin)?;
    // Outside checkpoints first: a bad file or URL stops before anything is touched.
    let mut known = Vec::new();
    for path in &args.published {
        let note = std::fs::read_to_string(path)
            .with_context(|| format!("reading --published {}", path.display()))?;
        known.push(verified(
            &note,
            &log_keys,
            path.display().to_string(),
            true,
        )?);
    }
    for u in &args.published_url {
        let note = fetch_note(u).await?;
        known.push(verified(&note, &log_keys, u.clone(), true)?);
    }

    let data_dir_existed = data_dir.exists();
    backup_cmd::empty_dir(data_dir, "the data dir")?;
    let undo_dir = || {
        if !data_dir_existed {
            let _ = std::fs::remove_dir_all(data_dir);
        }
    };
    let result = match manifest.backend.as_str() {
        "sqlite" => restore_sqlite(args, manifest, url, &log_keys, known).await,
        "postgres" => restore_postgres(args, manifest, url, &log_keys, known).await,
        other => Err(anyhow::anyhow!("unknown backend {other:?} in the manifest")),
    };
    if let Err(e) = result {
        undo_dir();
        return Err(e);
    }
    let copied = backup_cmd::copy_keys(&args.dir, data_dir)?;
    println!(
        "restored a log of {} entries ({} database) and {} key files into {}",
        manifest.log.size,
        manifest.backend,
        copied.len(),
        data_dir.display()
    );
    Ok(())
}

async fn restore_sqlite(
    args: &RestoreArgs,
    manifest: &Manifest,
    url: &str,
    log_keys: &[String],
    known: Vec<Known>,
) -> anyhow::Result<()> {
    if manifest.database != SQLITE_FILE {
        bail!(
            "the manifest names {} as an SQLite database",
            manifest.database
        );
    }
    let Some(target) = crate::check_cmd::sqlite_path(url) else {
        bail!(
            "this is an SQLite backup: restore it into an SQLite database (--database-url sqlite://PATH, or the data dir's default)"
        );
    };
    if target.exists() {
        bail!(
            "{} exists: restore writes only a new database",
            target.display()
        );
    }
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut temp = target.as_os_str().to_owned();
    temp.push(".restoring");
    let temp = PathBuf::from(temp);
    let cleanup = |p: &Path| {
        for suffix in ["", "-wal", "-shm"] {
            let mut f = p.as_os_str().to_owned();
            f.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(f));
        }
    };
    cleanup(&temp);
    std::fs::copy(args.dir.join(SQLITE_FILE), &temp)
        .with_context(|| format!("copying the database to {}", temp.display()))?;
    let judged = async {
        let store = Store::open(&format!("sqlite://{}", temp.display())).await?;
        let outcome = judge_store(&store, args, manifest, log_keys, known).await;
        if let Ok(note) = &outcome {
            store.set_meta("restored", note).await?;
        }
        store.close().await;
        drop(store);
        outcome
    }
    .await;
    match judged {
        Ok(_) => {
            cleanup_wal(&temp);
            std::fs::rename(&temp, &target)
                .with_context(|| format!("moving the database to {}", target.display()))?;
            Ok(())
        }
        Err(e) => {
            cleanup(&temp);
            Err(e)
        }
    }
}

/// Removes the `-wal` and `-shm` files a closed SQLite database may leave (empty once
/// its last connection closed).
fn cleanup_wal(db: &Path) {
    for suffix in ["-wal", "-shm"] {
        let mut f = db.as_os_str().to_owned();
        f.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(f));
    }
}

async fn restore_postgres(
    args: &RestoreArgs,
    manifest: &Manifest,
    url: &str,
    log_keys: &[String],
    known: Vec<Known>,
) -> anyhow::Result<()> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        bail!(
            "this is a PostgreSQL backup: give --database-url postgres://… of the database it was restored into"
        );
    }
    if Store::is_blank(url).await? {
        bail!(
            "the database is empty: restore the dump into it first — pg_restore --no-owner --exit-on-error --dbname URL {} — then run this command again to check it and install the keys (docs/operations.md, \"Restoring\")",
            args.dir.join(&manifest.database).display()
        );
    }
    let store = Store::open(url).await?;
    let outcome = judge_store(&store, args, manifest, log_keys, known).await;
    if let Ok(note) = &outcome {
        store.set_meta("restored", note).await?;
    }
    store.close().await;
    outcome.map(|_| ())
}

/// Checks the copy against the manifest, gathers its own published checkpoints, judges,
/// and returns the note to record in `meta` (`restored`), or the refusal.
async fn judge_store(
    store: &Store,
    args: &RestoreArgs,
    manifest: &Manifest,
    log_keys: &[String],
    mut known: Vec<Known>,
) -> anyhow::Result<String> {
    let (size, root) = store.log_head().await?;
    if size != manifest.log.size || root.to_base64() != manifest.log.root {
        bail!(
            "the database holds a log of {size} entries with another root than the backup's manifest ({} entries): it is not this backup's database",
            manifest.log.size
        );
    }
    for c in store.all_checkpoints().await? {
        known.push(verified(
            &c.note,
            log_keys,
            format!("the backup's checkpoint {}", c.size),
            false,
        )?);
    }
    for a in store.anchored_notes().await? {
        known.push(verified(
            &a.note,
            log_keys,
            format!("the backup's anchor {}", a.id),
            false,
        )?);
    }
    let mut roots = BTreeMap::new();
    roots.insert(size, root);
    for k in &known {
        let s = k.checkpoint.size;
        if s >= size || roots.contains_key(&s) {
            continue;
        }
        let r = if s == 0 {
            EMPTY_ROOT
        } else {
            match store.consistency(s, size).await? {
                Ok((old, _, _)) => old,
                Err(e) => bail!("the backup's log cannot give its root at size {s}: {e}"),
            }
        };
        roots.insert(s, r);
    }
    let verdict = judge(size, &known, &roots);
    if let Some((source, s)) = verdict.mismatched.first() {
        bail!(
            "refused: {source} (size {s}) is not in this backup's log — the root differs: the backup is another history of this log, or the checkpoint another log's"
        );
    }
    let fork_from = verdict.beyond.iter().map(|(_, s)| *s).max();
    match (fork_from, verdict.external, args.accept_fork) {
        (Some(published), _, false) => {
            let (source, _) = verdict
                .beyond
                .iter()
                .find(|(_, s)| *s == published)
                .cloned()
                .unwrap_or_default();
            bail!(
                "refused: a checkpoint of {published} entries was published ({source}) but this backup holds {size}. \
                 Restoring it would fork the log: entries {size} to {} were acknowledged and published and would be lost, \
                 new entries would reuse their indices (witnesses refuse to cosign, monitors report two histories, \
                 proofs of the lost entries stop verifying against the log), and subjects erased after the backup would \
                 come back with their keys. Restore a later backup; to restore this one anyway, run again with \
                 --accept-fork (docs/operations.md, \"Restoring\")",
                published - 1
            )
        }
        (None, false, false) => bail!(
            "refused: nothing says which checkpoint this log published last, so restore cannot rule out a fork \
             (a log restored shorter than a checkpoint it published forks). Give --published FILE or \
             --published-url URL (the log's /checkpoint as a monitor, a witness or `consentry mirror` kept it), \
             or --accept-fork to restore without that check (docs/operations.md, \"Restoring\")"
        ),
        (fork, _, accepted) => {
            if let Some(published) = fork {
                eprintln!(
                    "consentry restore: --accept-fork: the log forks — it had published {published} entries, the backup holds {size}"
                );
            }
            let note = serde_json::json!({
                "backup_created_at": manifest.created_at,
                "size": size,
                "restored_at": consentry_core::time::Timestamp::from_unix_millis(SystemClock.now_ms())
                    .map(|t| t.to_string())
                    .unwrap_or_default(),
                "fork_from": fork,
                "accept_fork": accepted,
            });
            Ok(note.to_string())
        }
    }
}

/// A note verified against one of the log's keys, as a [`Known`] checkpoint.
fn verified(
    note: &str,
    log_keys: &[String],
    source: String,
    external: bool,
) -> anyhow::Result<Known> {
    let checkpoint = log_keys
        .iter()
        .find_map(|k| verify_signed_checkpoint(note, k).ok())
        .map(|v| v.checkpoint)
        .with_context(|| {
            format!("{source} is not a checkpoint signed by this backup's log keys")
        })?;
    Ok(Known {
        source,
        checkpoint,
        external,
    })
}

async fn fetch_note(url: &str) -> anyhow::Result<String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .context("building the HTTP client")?;
    let res = client
        .get(url)
        .send()
        .await
        .with_context(|| format!("fetching --published-url {url}"))?;
    if !res.status().is_success() {
        bail!("--published-url {url} answered {}", res.status());
    }
    let bytes = res
        .bytes()
        .await
        .with_context(|| format!("reading --published-url {url}"))?;
    if bytes.len() > 64 * 1024 {
        bail!("--published-url {url} is not a checkpoint note (over 64 KiB)");
    }
    String::from_utf8(bytes.to_vec()).with_context(|| format!("--published-url {url} is not text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(size: u64, root: u8, external: bool) -> Known {
        Known {
            source: format!("cp{size}"),
            checkpoint: Checkpoint {
                origin: "o".into(),
                size,
                root: Hash([root; 32]),
                extensions: vec![],
            },
            external,
        }
    }

    #[test]
    fn a_checkpoint_beyond_the_backup_is_a_fork_and_a_different_root_another_history() {
        let roots: BTreeMap<u64, Hash> = [(5, Hash([5; 32])), (10, Hash([10; 32]))].into();
        let v = judge(10, &[known(5, 5, false), known(10, 10, true)], &roots);
        assert_eq!(
            v,
            Verdict {
                external: true,
                ..Verdict::default()
            }
        );
        let v = judge(10, &[known(12, 1, true)], &roots);
        assert_eq!(v.beyond, vec![("cp12".into(), 12)]);
        let v = judge(10, &[known(5, 9, true)], &roots);
        assert_eq!(v.mismatched, vec![("cp5".into(), 5)]);
        let v = judge(10, &[known(5, 5, false)], &roots);
        assert!(
            !v.external,
            "the backup's own checkpoints cannot rule out a fork"
        );
    }
}
