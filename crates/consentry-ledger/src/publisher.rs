//! Checkpoint publishing, apart from appending: every interval, if the durable log grew,
//! sign a checkpoint of its current size and root and store it. A checkpoint is only ever
//! signed for a size already committed, so every published checkpoint stays consistent
//! with the log whatever happens to the process afterwards.

use crate::clock::Clock;
use crate::metrics::Metrics;
use consentry_core::checkpoint::Checkpoint;
use consentry_core::keys::LogKey;
use consentry_store::{Store, StoreError};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Signs and stores a checkpoint of the durable head if none exists for its size yet.
/// Returns the size published.
pub async fn publish_once(
    store: &Store,
    key: &LogKey,
    clock: &dyn Clock,
    metrics: &Metrics,
) -> Result<u64, StoreError> {
    let (size, root) = store.log_head().await?;
    if store
        .latest_checkpoint()
        .await?
        .is_some_and(|(s, _)| s >= size)
    {
        return Ok(size);
    }
    let note = Checkpoint {
        origin: key.origin().to_owned(),
        size,
        root,
        extensions: vec![],
    }
    .sign(key)
    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    store
        .save_checkpoint(size, &root, &note, clock.now_ms())
        .await?;
    metrics.checkpoints_signed.inc();
    metrics
        .log_size
        .set(i64::try_from(size).unwrap_or(i64::MAX));
    Ok(size)
}

/// Runs until `stop` turns true, then publishes once more (so the last appends before a
/// graceful shutdown are covered) and returns.
pub async fn run(
    store: Store,
    key: Arc<LogKey>,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => break,
        }
        if let Err(e) = publish_once(&store, &key, clock.as_ref(), &metrics).await {
            tracing::warn!(error = %e, "checkpoint not published this round");
        }
        if let Err(e) = store.checkpoint_wal().await {
            tracing::warn!(error = %e, "SQLite WAL checkpoint failed");
        }
    }
    if let Err(e) = publish_once(&store, &key, clock.as_ref(), &metrics).await {
        tracing::warn!(error = %e, "final checkpoint not published");
    }
}
