//! The public log routes, served from the stored tiles.

use crate::problem::{ApiQuery, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use consentry_core::history::{ANCHORS_TYPE, AnchorHistory, AnchoredEntry};
use consentry_core::merkle::{Hash, MerkleError};
use serde::Deserialize;
use serde_json::json;

/// `GET /v1/log/checkpoint` and `GET /checkpoint` (the tlog-tiles path): the latest signed
/// checkpoint, as a signed note.
pub async fn checkpoint(State(state): State<AppState>) -> Result<impl IntoResponse, Problem> {
    let (_, note) = state
        .store
        .latest_checkpoint()
        .await?
        .ok_or_else(|| Problem::unavailable("no checkpoint published yet"))?;
    // Signed before a log-key rotation and not grown since: the current key signs too.
    let note = state.keys.cosigned(&note);
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            // It changes with every new checkpoint: never served from a cache.
            (header::CACHE_CONTROL, "no-cache"),
        ],
        note,
    ))
}

/// Query of the inclusion route.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionQuery {
    index: u64,
    size: u64,
}

fn b64(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(Hash::to_base64).collect()
}

fn merkle_problem(e: MerkleError) -> Problem {
    match e {
        MerkleError::SizeBeyondLog { .. } => Problem::new(
            axum::http::StatusCode::NOT_FOUND,
            "beyond-log",
            "Beyond the log",
            e.to_string(),
        ),
        other => Problem::invalid(other.to_string()),
    }
}

/// `GET /v1/log/proof/inclusion?index=&size=` → `{index, tree_size, leaf_hash, hashes}`.
pub async fn inclusion(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<InclusionQuery>,
) -> Result<Json<serde_json::Value>, Problem> {
    let (_root, path, leaf) = state
        .store
        .inclusion(q.index, q.size)
        .await?
        .map_err(merkle_problem)?;
    Ok(Json(json!({
        "index": q.index,
        "tree_size": q.size,
        "leaf_hash": leaf.to_base64(),
        "hashes": b64(&path),
    })))
}

/// Query of the consistency route.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyQuery {
    old: u64,
    new: u64,
}

/// `GET /v1/log/proof/consistency?old=&new=` → `{old_size, new_size, hashes}`.
pub async fn consistency(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ConsistencyQuery>,
) -> Result<Json<serde_json::Value>, Problem> {
    let (_old_root, _new_root, proof) = state
        .store
        .consistency(q.old, q.new)
        .await?
        .map_err(merkle_problem)?;
    Ok(Json(
        json!({ "old_size": q.old, "new_size": q.new, "hashes": b64(&proof) }),
    ))
}

/// `GET /v1/log/anchors`: the history of anchored checkpoints, each with its anchors and
/// the consistency proof from the one before — a `consentry.anchors/v1` document that
/// `consentry verify` checks: it shows that every day's anchored tree extends the
/// previous one (the log was never forked or rewritten between anchors).
pub async fn anchors(State(state): State<AppState>) -> Result<Json<AnchorHistory>, Problem> {
    let anchored = state.store.anchored_checkpoints().await?;
    let mut entries = Vec::with_capacity(anchored.len());
    let mut previous: Option<u64> = None;
    for a in anchored {
        let consistency = match previous {
            Some(old) if old < a.size => {
                let (_, _, proof) = state
                    .store
                    .consistency(old, a.size)
                    .await?
                    .map_err(Problem::unavailable)?;
                b64(&proof)
            }
            _ => Vec::new(),
        };
        let anchors = crate::downloads::anchor_objects(&a.anchors)?;
        previous = Some(a.size);
        entries.push(AnchoredEntry {
            // The history names one log key, the current one: checkpoints signed before a
            // log-key rotation carry its signature too (and keep their own).
            checkpoint: state.keys.cosigned(&a.note),
            consistency,
            anchors,
        });
    }
    Ok(Json(AnchorHistory {
        kind: ANCHORS_TYPE.to_owned(),
        log_key: state.keys.log.verifier_key(),
        checkpoints: entries,
    }))
}
