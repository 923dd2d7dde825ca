//! Operator routes, behind the admin token.

use crate::auth::OperatorAuth;
use crate::problem::Problem;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use consentry_ledger::anchoring::{AnchoringError, RunStart};
use serde_json::json;

/// `POST /v1/admin/anchor`: anchors the current checkpoint now with every configured
/// anchor (as `consentry anchor --now`). Answers 202 at once; the anchors complete in the
/// background (confirmations) and their state is in the reply and in
/// `GET /v1/log/anchors` once done.
pub async fn anchor(
    State(state): State<AppState>,
    _op: OperatorAuth,
) -> Result<(StatusCode, Json<serde_json::Value>), Problem> {
    let slot = format!(
        "manual {}",
        consentry_ledger::random::id_suffix(state.clock.now_ms())
    );
    let start = state
        .anchoring
        .start_run(&slot)
        .await
        .map_err(|e| match e {
            AnchoringError::NotConfigured => Problem::new(
                StatusCode::CONFLICT,
                "no-anchor",
                "No anchor configured",
                e.to_string(),
            ),
            AnchoringError::Store(e) => Problem::unavailable(e),
        })?;
    let (status, size) = match start {
        RunStart::Started(size) => ("started", size),
        RunStart::NothingNew(size) => ("nothing_new", size),
        RunStart::AlreadyClaimed => ("already_running", 0),
        RunStart::AwaitingWitnesses => {
            return Err(Problem::new(
                StatusCode::CONFLICT,
                "awaiting-witnesses",
                "Awaiting witnesses",
                "no checkpoint newer than the last anchor has reached the witness quorum, and anchoring waits for one (--anchor-unwitnessed wait); the daily anchor is taken once the witnesses cosign",
            ));
        }
    };
    let rows = state.store.anchors_of(size).await?;
    let anchors: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            json!({
                "kind": r.kind.as_str(),
                "state": r.state.as_str(),
                "detail": r.detail,
            })
        })
        .collect();
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "status": status, "tree_size": size, "anchors": anchors })),
    ))
}
