//! `consentry mirror --from URL --log-key VKEY DIR`: a checked copy of a log's tiles.
//!
//! Pulls the log's signed checkpoint and its C2SP tlog-tiles (`/checkpoint`, `/tile/…`),
//! and keeps them in `DIR` only after checking them: the checkpoint's signature against the
//! log key the mirror was given (never one the log names), the tree rebuilt from the
//! tiles equals the checkpoint's root, every entry of every bundle hashes to its leaf, and
//! the new checkpoint is consistent with the one mirrored before (its root recomputed from
//! the new tiles at the old size). A log that fails any of these is not copied: the
//! mirror keeps its last good state and says why. `DIR` then holds the same files the log
//! serves, for any static web server (or `consentry export-tiles`' readers).

use crate::files::write_atomic;
use anyhow::{Context as _, bail, ensure};
use consentry_core::checkpoint::verify_signed_checkpoint;
use consentry_core::merkle::{leaf_hash, tree_root};
use consentry_core::tiles::{
    TILE_WIDTH, TileId, TileSet, bundle_entries, bundle_path, bundles_of, tiles_of,
};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `consentry mirror`.
#[derive(clap::Args)]
pub struct MirrorArgs {
    /// The log's base URL (where `/checkpoint` and `/tile/…` are served).
    #[arg(long, value_name = "URL")]
    from: String,
    /// The log's verifier key (`origin+hexid+base64`), as the mirror's operator pinned it.
    #[arg(long = "log-key", value_name = "VKEY")]
    log_key: String,
    /// The directory holding the mirrored copy.
    dir: PathBuf,
}

/// Runs the command and returns the exit status.
pub fn run(args: &MirrorArgs) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("consentry mirror: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(mirror(args)) {
        Ok(m) => {
            println!(
                "mirrored log size {} (was {}), checked; {} full tiles and bundles reused from the copy",
                m.new, m.old, m.reused
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("consentry mirror: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn fetch(client: &reqwest::Client, base: &str, path: &str) -> anyhow::Result<Vec<u8>> {
    let url = format!("{}/{path}", base.trim_end_matches('/'));
    let res = client
        .get(&url)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    ensure!(
        res.status().is_success(),
        "GET {url}: HTTP {}",
        res.status()
    );
    Ok(res
        .bytes()
        .await
        .with_context(|| format!("GET {url}"))?
        .to_vec())
}

fn put(dir: &Path, path: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let target = dir.join(path);
    write_atomic(&target, bytes).with_context(|| format!("writing {}", target.display()))
}

/// What a run did.
struct Mirrored {
    old: u64,
    new: u64,
    reused: u64,
}

async fn mirror(args: &MirrorArgs) -> anyhow::Result<Mirrored> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let note = String::from_utf8(fetch(&client, &args.from, "checkpoint").await?)
        .context("the checkpoint is not UTF-8")?;
    let cp = verify_signed_checkpoint(&note, &args.log_key)
        .context("the checkpoint is not signed by the log key given")?
        .checkpoint;
    let previous = match std::fs::read_to_string(args.dir.join("checkpoint")) {
        Ok(old) => Some(
            verify_signed_checkpoint(&old, &args.log_key)
                .context("the mirrored checkpoint no longer verifies")?
                .checkpoint,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).context("reading the mirrored checkpoint"),
    };
    if let Some(old) = &previous {
        ensure!(
            cp.size >= old.size,
            "the log shrank: size {} after {} (a split view: not mirrored)",
            cp.size,
            old.size
        );
    }
    // A full tile or bundle of the copy made before was checked then and never changes:
    // it is read back rather than fetched again (and checked again with the rest).
    let reused = std::cell::Cell::new(0u64);
    let get = |path: &str, width: u64| {
        let local = args.dir.join(path);
        let client = &client;
        let from = &args.from;
        let reuse = previous.is_some() && width == TILE_WIDTH && local.exists();
        let path = path.to_owned();
        let reused = &reused;
        async move {
            if reuse {
                reused.set(reused.get() + 1);
                std::fs::read(&local).with_context(|| format!("reading {}", local.display()))
            } else {
                fetch(client, from, &path).await
            }
        }
    };
    // Every tile of the new size, kept in memory until all checks pass.
    let mut set = TileSet::new();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for (id, width) in tiles_of(cp.size) {
        let path = id.path(width);
        let bytes = get(&path, width).await?;
        ensure!(
            bytes.len() as u64 == 32 * width,
            "{path}: {} bytes, not {}",
            bytes.len(),
            32 * width
        );
        set.insert_bytes(id, &bytes)
            .map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
        files.push((path, bytes));
    }
    let root = tree_root(&set, cp.size).map_err(|e| anyhow::anyhow!("tiles: {e}"))?;
    if root != cp.root {
        bail!("the tiles do not give the checkpoint's root: not mirrored");
    }
    if let Some(old) = &previous {
        let old_root = tree_root(&set, old.size).map_err(|e| anyhow::anyhow!("tiles: {e}"))?;
        ensure!(
            old_root == old.root,
            "the new tree does not contain the mirrored one (size {}): a split view, not mirrored",
            old.size
        );
    }
    // Every entry, in its bundle, hashes to its leaf.
    for (index, width) in bundles_of(cp.size) {
        let path = bundle_path(index, width);
        let bytes = get(&path, width).await?;
        let leaves = set
            .hashes(&TileId { level: 0, index })
            .context("a level-0 tile is missing")?;
        let entries = bundle_entries(&bytes).with_context(|| path.clone())?;
        ensure!(
            entries.len() as u64 == width,
            "{path}: {} entries, not {width}",
            entries.len()
        );
        for (n, entry) in entries.iter().enumerate() {
            ensure!(
                leaves.get(n) == Some(&leaf_hash(entry)),
                "{path}: entry {n} does not hash to its leaf"
            );
        }
        files.push((path, bytes));
    }
    for (path, bytes) in &files {
        put(&args.dir, path, bytes)?;
    }
    put(&args.dir, "checkpoint", note.as_bytes())?;
    Ok(Mirrored {
        old: previous.map_or(0, |p| p.size),
        new: cp.size,
        reused: reused.get(),
    })
}
