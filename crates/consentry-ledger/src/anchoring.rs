//! The anchoring loop: at each scheduled slot (and on demand), anchor the log's current
//! signed checkpoint with every configured backend; advance prepared anchors until they
//! are done; re-check recent chain anchors so a certificate never names a block that a
//! reorganisation removed.
//!
//! Every state lives in the database (see `consentry_store::AnchorRow`): a slot is claimed
//! with its anchors in one transaction; an anchor's intent is stored before anything
//! leaves the process; advancing is idempotent. So several processes on one database, a
//! crash at any point, or a node that is down for hours, lose nothing and anchor nothing
//! twice.

use crate::clock::Clock;
use crate::metrics::{AnchorLabels, Metrics};
use crate::schedule::Schedule;
use consentry_anchor::{Anchor, AnchorError, Progress, Recheck};
use consentry_core::anchor::AnchorKind;
use consentry_core::checkpoint::parse_signed_checkpoint;
use consentry_core::keys::LogKey;
use consentry_store::{AnchorRow, Store, StoreError};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// Anchoring settings.
#[derive(Clone)]
pub struct AnchorSettings {
    /// The configured backends (empty: proofs stay pending).
    pub backends: Vec<Arc<dyn Anchor>>,
    /// When to anchor.
    pub schedule: Schedule,
    /// How often prepared anchors are advanced (confirmations polled).
    pub poll: Duration,
    /// Longest wait between two attempts after failures.
    pub max_backoff: Duration,
    /// How long after anchoring a chain anchor is still re-checked for reorganisations.
    pub recheck_window: Duration,
    /// A block explorer's transaction page, with `{tx}` where the transaction hash goes
    /// (`https://etherscan.io/tx/{tx}`), for links in the web application.
    pub evm_explorer: Option<String>,
    /// With witnesses: the quorum a checkpoint needs to be anchored, and what to do when
    /// none newer than the last anchor has it. Set by the ledger from its witnesses.
    pub witnessed: Option<(usize, crate::witnessing::Unwitnessed)>,
}

impl std::fmt::Debug for AnchorSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnchorSettings")
            .field(
                "backends",
                &self.backends.iter().map(|b| b.kind()).collect::<Vec<_>>(),
            )
            .field("schedule", &self.schedule.describe())
            .field("poll", &self.poll)
            .finish()
    }
}

impl AnchorSettings {
    /// No backend.
    pub fn none() -> AnchorSettings {
        AnchorSettings {
            backends: Vec::new(),
            schedule: Schedule::utc_midnight(),
            poll: Duration::from_secs(2),
            max_backoff: Duration::from_secs(300),
            recheck_window: Duration::from_secs(24 * 3600),
            evm_explorer: None,
            witnessed: None,
        }
    }
}

/// Why anchoring could not start a run.
#[derive(Debug, thiserror::Error)]
pub enum AnchoringError {
    /// No backend is configured.
    #[error("no anchor is configured: set --anchor-evm-rpc and/or --anchor-rfc3161-url")]
    NotConfigured,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What starting a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunStart {
    /// Anchors of the checkpoint of this size were created.
    Started(u64),
    /// The log has not grown since the last anchored checkpoint (of this size).
    NothingNew(u64),
    /// Another process already claimed this slot.
    AlreadyClaimed,
    /// The log grew but no newer checkpoint reached the witness quorum, and anchoring is
    /// set to wait for one (`--anchor-unwitnessed wait`): the slot stays open and is tried
    /// again at every poll.
    AwaitingWitnesses,
}

/// The anchoring service.
#[derive(Clone)]
pub struct Anchoring {
    store: Store,
    settings: AnchorSettings,
    log_key: Arc<LogKey>,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    /// Wakes the loop (a manual run was started).
    pub wake: Arc<Notify>,
}

impl Anchoring {
    /// Builds it.
    pub fn new(
        store: Store,
        settings: AnchorSettings,
        log_key: Arc<LogKey>,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
    ) -> Anchoring {
        Anchoring {
            store,
            settings,
            log_key,
            clock,
            metrics,
            wake: Arc::default(),
        }
    }

    /// What verifiers may pin about the configured anchors (chain ID and address, TSA),
    /// and the schedule, for `/.well-known/consentry.json`.
    pub fn public_info(&self) -> serde_json::Value {
        serde_json::json!({
            "schedule": self.settings.schedule.describe(),
            "backends": self.settings.backends.iter().map(|b| b.public_info()).collect::<Vec<_>>(),
        })
    }

    /// Whether any backend is configured.
    pub fn configured(&self) -> bool {
        !self.settings.backends.is_empty()
    }

    /// The schedule.
    pub fn schedule(&self) -> &Schedule {
        &self.settings.schedule
    }

    /// The link to an EVM transaction on the configured block explorer, if one is set.
    pub fn evm_explorer_link(&self, tx_hash: &str) -> Option<String> {
        self.settings
            .evm_explorer
            .as_ref()
            .map(|t| t.replace("{tx}", tx_hash))
    }

    /// Starts anchoring the log's current checkpoint for `slot`: signs a checkpoint of the
    /// durable head if needed, then claims the slot with one prepared anchor per backend.
    pub async fn start_run(&self, slot: &str) -> Result<RunStart, AnchoringError> {
        if !self.configured() {
            return Err(AnchoringError::NotConfigured);
        }
        let now = self.clock.now_ms();
        crate::publisher::publish_once(
            &self.store,
            &self.log_key,
            self.clock.as_ref(),
            &self.metrics,
        )
        .await?;
        let last = self.store.last_anchored_size().await?;
        let latest = self.store.latest_checkpoint().await?;
        let is_new = |size: u64| size > 0 && last.is_none_or(|l| size > l);
        let latest = match self.settings.witnessed {
            None => latest,
            Some((quorum, unwitnessed)) => {
                let witnessed = self
                    .store
                    .latest_witnessed_checkpoint(quorum)
                    .await?
                    .filter(|(size, _)| is_new(*size));
                match witnessed {
                    Some(w) => Some(w),
                    // Nothing new at all: the run below records that, witnesses or not.
                    None if !latest.as_ref().is_some_and(|(size, _)| is_new(*size)) => latest,
                    None => match unwitnessed {
                        crate::witnessing::Unwitnessed::Anchor => {
                            tracing::warn!(
                                quorum,
                                "no new checkpoint reached the witness quorum: anchoring the latest, unwitnessed"
                            );
                            latest
                        }
                        crate::witnessing::Unwitnessed::Wait => {
                            tracing::info!(
                                slot,
                                quorum,
                                "anchoring waits for a checkpoint the witnesses cosigned"
                            );
                            return Ok(RunStart::AwaitingWitnesses);
                        }
                    },
                }
            }
        };
        let grown = match (&latest, last) {
            (Some((size, _)), Some(last)) => *size > last,
            (Some((size, _)), None) => *size > 0,
            (None, _) => false,
        };
        if !grown {
            let size = last.unwrap_or(0);
            let claimed = self.store.claim_anchor_slot(slot, None, &[], now).await?;
            tracing::info!(
                slot,
                size,
                claimed,
                "anchoring slot: the log has not grown since the last anchor"
            );
            return Ok(RunStart::NothingNew(size));
        }
        let Some((size, note)) = latest else {
            return Ok(RunStart::NothingNew(0));
        };
        let anchors: Vec<(String, AnchorKind)> = self
            .settings
            .backends
            .iter()
            .map(|b| (format!("anc_{}", crate::random::id_suffix(now)), b.kind()))
            .collect();
        if !self
            .store
            .claim_anchor_slot(slot, Some((size, &note)), &anchors, now)
            .await?
        {
            return Ok(RunStart::AlreadyClaimed);
        }
        tracing::info!(slot, size, "anchoring the checkpoint");
        self.wake.notify_one();
        Ok(RunStart::Started(size))
    }

    fn backend(&self, kind: AnchorKind) -> Option<&Arc<dyn Anchor>> {
        self.settings.backends.iter().find(|b| b.kind() == kind)
    }

    fn backoff_ms(&self, attempts: u64) -> i64 {
        let poll = i64::try_from(self.settings.poll.as_millis()).unwrap_or(i64::MAX);
        let max = i64::try_from(self.settings.max_backoff.as_millis()).unwrap_or(i64::MAX);
        let shift = u32::try_from(attempts.min(16)).unwrap_or(16);
        poll.saturating_mul(1i64 << shift).min(max)
    }

    fn failed(&self, row: &AnchorRow, e: &AnchorError) {
        let reason = match e {
            AnchorError::Unreachable(_) => "unreachable",
            AnchorError::Refused(_) => "refused",
            AnchorError::Invalid(_) => "invalid",
            AnchorError::Config(_) => "config",
        };
        self.metrics
            .anchor_failures
            .get_or_create(&AnchorLabels {
                kind: row.kind.as_str().to_owned(),
                reason: reason.to_owned(),
            })
            .inc();
        match e {
            AnchorError::Unreachable(_) => {
                tracing::warn!(kind = %row.kind, size = row.size, attempts = row.attempts, error = %e, "anchor not advanced; will retry")
            }
            _ => {
                tracing::error!(kind = %row.kind, size = row.size, attempts = row.attempts, error = %e, "anchor not advanced; will retry")
            }
        }
    }

    /// Advances one prepared anchor as far as it goes now. Returns whether it is done.
    async fn advance_one(&self, row: &AnchorRow) -> Result<bool, StoreError> {
        let Some(backend) = self.backend(row.kind) else {
            tracing::warn!(kind = %row.kind, size = row.size, "a prepared anchor's backend is not configured in this process");
            return Ok(false);
        };
        let body = match parse_signed_checkpoint(&row.note) {
            Ok((cp, _)) => cp.body(),
            Err(e) => return Err(StoreError::Corrupt(format!("stored checkpoint: {e}"))),
        };
        let now = self.clock.now_ms();
        // An empty intent: prepare (no side effect), store, then advance.
        let mut intent_text = row.intent.clone();
        if intent_text.is_empty() {
            match backend.prepare(&body).await {
                Ok(intent) => {
                    intent_text = intent.to_string();
                    self.store
                        .replace_anchor_intent(&row.id, &intent_text, "prepared", now)
                        .await?;
                }
                Err(e) => {
                    self.failed(row, &e);
                    let next = now + self.backoff_ms(row.attempts);
                    self.store
                        .anchor_attempted(&row.id, &e.to_string(), next, now)
                        .await?;
                    return Ok(false);
                }
            }
        }
        let intent: serde_json::Value = serde_json::from_str(&intent_text)
            .map_err(|e| StoreError::Corrupt(format!("stored anchor intent: {e}")))?;
        match backend.advance(&body, &intent).await {
            Ok(Progress::Anchored(obj)) => {
                let text = serde_json::Value::Object(obj).to_string();
                if self.store.complete_anchor(&row.id, &text, now).await? {
                    self.metrics
                        .anchors_completed
                        .get_or_create(&AnchorLabels {
                            kind: row.kind.as_str().to_owned(),
                            reason: String::new(),
                        })
                        .inc();
                    self.metrics
                        .last_anchored_size
                        .set(i64::try_from(row.size).unwrap_or(i64::MAX));
                    tracing::info!(kind = %row.kind, size = row.size, "checkpoint anchored");
                }
                Ok(true)
            }
            Ok(Progress::Waiting(detail)) => {
                let next = now + i64::try_from(self.settings.poll.as_millis()).unwrap_or(1000);
                self.store
                    .anchor_attempted(&row.id, &detail, next, now)
                    .await?;
                Ok(false)
            }
            Ok(Progress::Restart(why)) => {
                tracing::warn!(kind = %row.kind, size = row.size, reason = %why, "anchor intent abandoned; preparing a new one");
                self.store
                    .replace_anchor_intent(&row.id, "", &why, now)
                    .await?;
                Ok(false)
            }
            Err(e) => {
                self.failed(row, &e);
                let next = now + self.backoff_ms(row.attempts);
                if matches!(e, AnchorError::Invalid(_)) {
                    // What came back does not check out: never store it; start afresh.
                    self.store
                        .replace_anchor_intent(&row.id, "", &e.to_string(), now)
                        .await?;
                }
                self.store
                    .anchor_attempted(&row.id, &e.to_string(), next, now)
                    .await?;
                Ok(false)
            }
        }
    }

    /// Advances every due anchor once. Returns how many are still prepared.
    pub async fn advance_due(&self) -> Result<usize, StoreError> {
        let now = self.clock.now_ms();
        for row in self.store.due_anchors(now).await? {
            self.advance_one(&row).await?;
        }
        let pending = self.store.prepared_anchors().await?.len();
        self.metrics
            .anchors_pending
            .set(i64::try_from(pending).unwrap_or(i64::MAX));
        Ok(pending)
    }

    /// Re-checks recent anchors (a chain block still canonical); a reorganised one is
    /// replaced by a new prepared anchor of the same checkpoint. Returns how many were
    /// replaced.
    pub async fn recheck(&self) -> Result<usize, StoreError> {
        let now = self.clock.now_ms();
        let window = i64::try_from(self.settings.recheck_window.as_millis()).unwrap_or(i64::MAX);
        let mut replaced = 0;
        for row in self
            .store
            .recent_anchored(now.saturating_sub(window))
            .await?
        {
            let Some(backend) = self.backend(row.kind) else {
                continue;
            };
            let Some(obj) = row
                .anchor
                .as_deref()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
                .and_then(|v| v.as_object().cloned())
            else {
                return Err(StoreError::Corrupt(format!(
                    "anchor {} has no object",
                    row.id
                )));
            };
            match backend.recheck(&obj).await {
                Ok(Recheck::Valid) => {}
                Ok(Recheck::Invalid(reason)) => {
                    let new_id = format!("anc_{}", crate::random::id_suffix(now));
                    if self.store.reanchor(&row.id, &new_id, &reason, now).await? {
                        replaced += 1;
                        self.metrics.anchors_reorged.inc();
                        tracing::warn!(kind = %row.kind, size = row.size, %reason, "anchor no longer valid; anchoring the checkpoint again");
                    }
                }
                Err(e) => self.failed(&row, &e),
            }
        }
        Ok(replaced)
    }

    /// Runs the slot due at start if it was missed (the service was down), then each
    /// slot as it comes, advancing and re-checking anchors every poll, until `stop`.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        if !self.configured() {
            return;
        }
        tracing::info!(schedule = %self.settings.schedule.describe(), backends = ?self.settings.backends.iter().map(|b| b.kind()).collect::<Vec<_>>(), "anchoring enabled");
        let mut next_slot = None;
        loop {
            let now_ms = self.clock.now_ms();
            let now =
                jiff::Timestamp::from_millisecond(now_ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
            // The latest slot at or before now: if nobody ran it (down at midnight, or
            // it just came), run it now.
            if let Some(slot) = self.settings.schedule.slot_at_or_before(now) {
                match self.store.anchor_slot_claimed(&slot.key).await {
                    Ok(false) => {
                        if let Err(e) = self.start_run(&slot.key).await {
                            tracing::warn!(slot = %slot.key, error = %e, "anchoring run not started; will retry");
                        }
                    }
                    Ok(true) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "anchoring: cannot read the schedule state")
                    }
                }
            }
            if let Err(e) = self.advance_due().await {
                tracing::warn!(error = %e, "anchoring: advancing failed");
            }
            if let Err(e) = self.recheck().await {
                tracing::warn!(error = %e, "anchoring: re-checking failed");
            }
            let until_slot = self
                .settings
                .schedule
                .slot_after(now)
                .map(|s| {
                    next_slot = Some(s.key.clone());
                    Duration::from_millis(
                        u64::try_from(s.at.as_millisecond() - now_ms).unwrap_or(0),
                    )
                })
                .unwrap_or(self.settings.poll);
            let sleep = until_slot.min(self.settings.poll);
            tokio::select! {
                _ = tokio::time::sleep(sleep) => {}
                _ = self.wake.notified() => {}
                _ = stop.changed() => break,
            }
        }
        tracing::debug!(next = ?next_slot, "anchoring loop stopped");
    }
}
