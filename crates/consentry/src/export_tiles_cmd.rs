//! `consentry export-tiles DIR`: the log as static C2SP tlog-tiles files, for a CDN or an
//! object store — `checkpoint`, `tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]`, the
//! same bytes `GET /checkpoint` and `GET /tile/…` serve.
//!
//! Incremental: a full tile or bundle already in `DIR` is immutable and left alone; the
//! partial ones of the current size are written; `checkpoint` is written last, so that a
//! reader of `DIR` never finds a checkpoint whose tiles are not there yet. Every file is
//! written to a temporary name and renamed into place.

use crate::config::{self, DbArgs};
use anyhow::Context as _;
use consentry_core::tiles::{TILE_WIDTH, TileId, tile_bytes};
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

/// Writes `bytes` to `dir/path` through a temporary file.
fn put(dir: &Path, path: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let target = dir.join(path);
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let tmp = target.with_extension("tmp-export");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &target).with_context(|| format!("writing {}", target.display()))
}

/// Hash tiles, each with its width.
type Tiles = Vec<(TileId, u64)>;
/// Entry bundles: index and width.
type Bundles = Vec<(u64, u64)>;

/// The tiles and bundles of a log of `size` entries.
fn layout(size: u64) -> (Tiles, Bundles) {
    let mut tiles = Vec::new();
    let mut level = 0u8;
    loop {
        let count = size.checked_shr(8 * u32::from(level)).unwrap_or(0);
        if count == 0 {
            break;
        }
        for index in 0..count.div_ceil(TILE_WIDTH) {
            let width = (count - index * TILE_WIDTH).min(TILE_WIDTH);
            tiles.push((TileId { level, index }, width));
        }
        level += 1;
    }
    let bundles = (0..size.div_ceil(TILE_WIDTH))
        .map(|index| (index, (size - index * TILE_WIDTH).min(TILE_WIDTH)))
        .collect();
    (tiles, bundles)
}

async fn export(args: &ExportTilesArgs) -> anyhow::Result<Summary> {
    let (_, url) = config::database(&args.db)?;
    let store = Store::open(&url).await.context("opening the database")?;
    let (size, note) = store
        .latest_checkpoint()
        .await?
        .context("no checkpoint published yet: nothing to export")?;
    let (tiles, bundles) = layout(size);
    let (mut written, mut kept) = (0u64, 0u64);
    for (id, width) in tiles {
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
    for (index, width) in bundles {
        let path = format!(
            "tile/entries/{}{}",
            consentry_core::tiles::encode_index(index),
            if width < TILE_WIDTH {
                format!(".p/{width}")
            } else {
                String::new()
            }
        );
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
        let mut body = Vec::new();
        for e in &entries {
            let len = u16::try_from(e.len()).context("an entry is over 65,535 bytes")?;
            body.extend_from_slice(&len.to_be_bytes());
            body.extend_from_slice(e);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_has_every_tile_and_bundle_of_the_size() {
        let (tiles, bundles) = layout(300);
        assert_eq!(
            tiles,
            vec![
                (TileId { level: 0, index: 0 }, 256),
                (TileId { level: 0, index: 1 }, 44),
                (TileId { level: 1, index: 0 }, 1),
            ]
        );
        assert_eq!(bundles, vec![(0, 256), (1, 44)]);
        let (tiles, bundles) = layout(256);
        assert_eq!(
            tiles,
            vec![
                (TileId { level: 0, index: 0 }, 256),
                (TileId { level: 1, index: 0 }, 1)
            ]
        );
        assert_eq!(bundles, vec![(0, 256)]);
        assert_eq!(layout(0), (vec![], vec![]));
    }
}
