//! `consentry export-tiles DIR`: the log as static C2SP tlog-tiles files, for a CDN or an
//! object store — `checkpoint`, `tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]`, the
//! same bytes `GET /checkpoint` and `GET /tile/…` serve.
//!
//! Incremental: a full tile or bundle already in `DIR` is immutable and left alone; the
//! partial ones of the current size are written; `checkpoint` is written last, so that a
//! reader of `DIR` never finds a checkpoint whose tiles are not there yet. Every file is
//! written to a temporary name and renamed into place.

use crate::config::{self, DbArgs};
use crate::files::write_atomic;
use anyhow::Context as _;
use consentry_core::tiles::{
    TILE_WIDTH, bundle_path, bundles_of, entry_bundle, tile_bytes, tiles_of,
};
use consentry_store::Store;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `consentry export-tiles`.
#[derive(clap::Args)]
pub struct ExportTilesArgs {
    #[command(flatten)]
    db: DbArgs,
    /// The directory to write the tiles into (created if missing).
    dir: PathBuf,
}

/// Runs the command and returns the exit status.
pub fn run(args: &ExportTilesArgs) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("consentry export-tiles: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(export(args)) {
        Ok(s) => {
            println!(
                "log size {}: {} files written, {} full tiles and bundles already there",
                s.size, s.written, s.kept
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("consentry export-tiles: {e:#}");
            ExitCode::FAILURE
        }
    }
}

struct Summary {
    size: u64,
    written: u64,
    kept: u64,
}

/// Writes `bytes` to `dir/path` (through a temporary file).
fn put(dir: &Path, path: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let target = dir.join(path);
    write_atomic(&target, bytes).with_context(|| format!("writing {}", target.display()))
}

async fn export(args: &ExportTilesArgs) -> anyhow::Result<Summary> {
    let (_, url) = config::database(&args.db)?;
    let store = Store::open(&url).await.context("opening the database")?;
    let (size, note) = store
        .latest_checkpoint()
        .await?
        .context("no checkpoint published yet: nothing to export")?;
    let (mut written, mut kept) = (0u64, 0u64);
    for (id, width) in tiles_of(size) {
        let path = id.path(width);
        if width == TILE_WIDTH && args.dir.join(&path).exists() {
            kept += 1;
            continue;
        }
        let set = store.tiles(&BTreeSet::from([id])).await?;
        let hashes = set
            .hashes(&id)
            .filter(|h| h.len() as u64 >= width)
            .with_context(|| format!("the store lacks {path}"))?;
        put(
            &args.dir,
            &path,
            &tile_bytes(&hashes[..usize::try_from(width)?]),
        )?;
        written += 1;
    }
    for (index, width) in bundles_of(size) {
        let path = bundle_path(index, width);
        if width == TILE_WIDTH && args.dir.join(&path).exists() {
            kept += 1;
            continue;
        }
        let start = index * TILE_WIDTH;
        let entries = store.entries(start, start + width).await?;
        anyhow::ensure!(
            entries.len() as u64 == width,
            "the store lacks entries of {path}"
        );
        let body = entry_bundle(&entries)?;
        put(&args.dir, &path, &body)?;
        written += 1;
    }
    put(&args.dir, "checkpoint", note.as_bytes())?;
    store.close().await;
    Ok(Summary {
        size,
        written: written + 1,
        kept,
    })
}
