//! The log as C2SP tlog-tiles (c2sp.org/tlog-tiles): hash tiles
//! `GET /tile/<L>/<N>[.p/<W>]` and entry bundles `GET /tile/entries/<N>[.p/<W>]`, read
//! from the tiles and entries the store keeps — so that anyone can mirror the log, and
//! check it, with generic tlog tooling. (`GET /checkpoint`, the tile API's checkpoint, is
//! `GET /v1/log/checkpoint`'s handler at that path.)
//!
//! A tile or bundle is served only once it holds its `W` (or 256) hashes or entries: the
//! first `W` hashes of a tile never change, so every tile served, partial or full, is
//! cached as immutable; the checkpoint is not cached.

use crate::problem::Problem;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use consentry_core::tiles::{TILE_WIDTH, TileRequest, entry_bundle, parse_tile_path, tile_bytes};
use std::collections::BTreeSet;

fn immutable(body: Vec<u8>) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    res
}

/// `GET /tile/{path}`: a hash tile or an entry bundle.
pub async fn tile(
    State(state): State<AppState>,
    Path(path): Path<String>,
) -> Result<Response, Problem> {
    let not_found = || Problem::not_found("tile");
    match parse_tile_path(&path).ok_or_else(not_found)? {
        TileRequest::Hashes { id, width } => {
            let set = state.store.tiles(&BTreeSet::from([id])).await?;
            let hashes = set.hashes(&id).ok_or_else(not_found)?;
            let width = usize::try_from(width).map_err(|_| not_found())?;
            if hashes.len() < width {
                return Err(not_found());
            }
            Ok(immutable(tile_bytes(&hashes[..width])))
        }
        TileRequest::Entries { index, width } => {
            let start = index.checked_mul(TILE_WIDTH).ok_or_else(not_found)?;
            let entries = state.store.entries(start, start + width).await?;
            if (entries.len() as u64) < width {
                return Err(not_found());
            }
            Ok(immutable(
                entry_bundle(&entries).map_err(Problem::unavailable)?,
            ))
        }
    }
}
