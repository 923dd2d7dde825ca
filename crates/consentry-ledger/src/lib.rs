//! Consentry's ledger engine: the one way into the log.
//!
//! Everything that writes the log goes through a [`Ledger`]: a consent recorded by hand,
//! in the portal or from a delegated answer ([`Ledger::record`]), a reveal
//! ([`Ledger::reveal`]), an evidence read, an amendment, an erasure. Each is a typed
//! command with its own outcome type, handed to the group commit (the private
//! `sequencer` module), which decides it in the append transaction, on what that
//! transaction read, seals it and answers once it is durable. Nothing else calls the
//! store's append.
//!
//! The crate knows nothing of HTTP, pages or e-mail: `consentry-server` adapts requests
//! to commands, and the `consentry` binary starts the engine. What it owns besides:
//!
//! - [`keys`]: the seal, log and master keys, generated on first start (0600) and reused,
//!   and the live master key rotation;
//! - [`publisher`]: signs checkpoints of the durable log, apart from appending;
//! - [`anchoring`] and [`schedule`]: anchors checkpoints daily (and on demand) in an EVM
//!   chain and/or with an RFC 3161 authority, crash-safe and idempotent;
//! - [`clock`] and [`random`]: time and randomness, passed in;
//! - [`metrics`]: the service's Prometheus metrics;
//! - [`webhook`]: the events senders' webhooks receive;
//! - [`outbound`]: the one guarded client for requests a tenant aims (webhooks): no
//!   loopback, private or other special-purpose address unless the operator allows it.
#![deny(missing_docs)]

pub mod anchoring;
pub mod clock;
mod commands;
pub mod keys;
pub mod metrics;
pub mod outbound;
pub mod pdf_seal;
pub mod publisher;
pub mod random;
pub mod schedule;
mod sequencer;
pub mod webhook;
pub mod witnessing;

pub use commands::{AmendOutcome, Disclosed, EraseOutcome, On, RevealOutcome, RevealReply};
pub use sequencer::{Evidence, ProofDraft, Sealed, SealedEntry, SubmitError, VaultRecord};

use crate::anchoring::{AnchorSettings, Anchoring};
use crate::clock::Clock;
use crate::keys::Keys;
use crate::metrics::Metrics;
use consentry_core::ids::EventId;
use consentry_core::time::Timestamp;
use consentry_store::{Store, StoreError};
use sequencer::Sequencer;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How the engine runs.
#[derive(Debug, Clone)]
pub struct LedgerSettings {
    /// Most drafts sealed and committed in one transaction.
    pub max_batch: usize,
    /// How often the publisher signs a checkpoint of the grown log.
    pub checkpoint_interval: Duration,
    /// Anchoring: backends and schedule.
    pub anchoring: AnchorSettings,
    /// The PDF seal and its time-stamps.
    pub pdf_seal: pdf_seal::PdfSealSettings,
    /// The witnesses the log submits its checkpoints to.
    pub witnesses: witnessing::WitnessSettings,
}

/// Why the engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The master key ring could not be brought up to the database's versions.
    #[error(transparent)]
    Keys(#[from] keys::KeyFileError),
    /// The log's origin differs from the one it was created with.
    #[error(
        "this database's log is {stored:?} but the keys name {configured:?}; a log's origin never changes"
    )]
    OriginMismatch {
        /// In the database.
        stored: String,
        /// From the keys.
        configured: String,
    },
}

/// The handle every adapter writes the log through. Cheap to clone; the engine drains
/// and stops once every handle is dropped and [`Running::stop`] is called.
#[derive(Clone)]
pub struct Ledger {
    store: Store,
    keys: Arc<Keys>,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    anchoring: Anchoring,
    sequencer: Sequencer,
    pdf_seal: Arc<pdf_seal::PdfSeal>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("origin", &self.origin())
            .finish_non_exhaustive()
    }
}

/// The engine's background tasks: the group commit, the checkpoint publisher, the
/// anchoring schedule and the master key watch.
pub struct Running {
    sequencer: JoinHandle<()>,
    publisher: (watch::Sender<bool>, JoinHandle<()>),
    anchorer: (watch::Sender<bool>, JoinHandle<()>),
    keyring: (watch::Sender<bool>, JoinHandle<()>),
    pdf_upgrades: (watch::Sender<bool>, JoinHandle<()>),
    witnessing: (watch::Sender<bool>, JoinHandle<()>),
}

impl Ledger {
    /// Starts the engine on `store` with `keys`: checks that the database's log is the
    /// keys' log, brings the master key ring up to the database's versions, publishes a
    /// checkpoint of the durable log, and starts the background tasks.
    pub async fn start(
        store: Store,
        keys: Keys,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
        settings: LedgerSettings,
    ) -> Result<(Ledger, Running), LedgerError> {
        let stored = store.meta_init("log_origin", keys.log.origin()).await?;
        if stored != keys.log.origin() {
            return Err(LedgerError::OriginMismatch {
                stored,
                configured: keys.log.origin().to_owned(),
            });
        }
        keys.master.sync(&store, clock.now_ms()).await?;
        let keys = Arc::new(keys);
        // The master keys follow the database's versions: a rotation needs no restart.
        let (keys_stop, keys_stop_rx) = watch::channel(false);
        let keyring = tokio::spawn(keys::watch(
            keys.clone(),
            store.clone(),
            clock.clone(),
            keys_stop_rx,
        ));
        let (sequencer, seq_task) = Sequencer::start(
            store.clone(),
            keys.clone(),
            keys.log.origin().to_owned(),
            clock.clone(),
            metrics.clone(),
            settings.max_batch,
        );
        publisher::publish_once(&store, &keys.log, clock.as_ref(), &metrics).await?;
        let (publisher_stop, publisher_stop_rx) = watch::channel(false);
        let publisher = tokio::spawn(publisher::run(
            store.clone(),
            keys.log.clone(),
            clock.clone(),
            metrics.clone(),
            settings.checkpoint_interval,
            publisher_stop_rx,
        ));
        let witnessing = Arc::new(witnessing::Witnessing::new(
            &settings.witnesses,
            store.clone(),
            metrics.clone(),
            clock.clone(),
        ));
        let (witness_stop, witness_stop_rx) = watch::channel(false);
        let witness_task = tokio::spawn(
            witnessing
                .clone()
                .run(settings.checkpoint_interval, witness_stop_rx),
        );
        let mut anchor_settings = settings.anchoring;
        if !settings.witnesses.witnesses.is_empty() {
            anchor_settings.witnessed =
                Some((settings.witnesses.quorum, settings.witnesses.unwitnessed));
        }
        let anchoring = Anchoring::new(
            store.clone(),
            anchor_settings,
            keys.log.clone(),
            clock.clone(),
            metrics.clone(),
        );
        let (anchor_stop, anchor_stop_rx) = watch::channel(false);
        let anchorer = tokio::spawn(anchoring.clone().run(anchor_stop_rx));
        let seal_settings = settings.pdf_seal;
        let pdf_seal = Arc::new(pdf_seal::PdfSeal::new(
            seal_settings.identity,
            seal_settings.tsa,
            store.clone(),
            clock.clone(),
        ));
        let (upgrades_stop, upgrades_stop_rx) = watch::channel(false);
        let pdf_upgrades = tokio::spawn(
            pdf_seal
                .clone()
                .run_upgrades(seal_settings.upgrade_interval, upgrades_stop_rx),
        );
        let ledger = Ledger {
            store,
            keys,
            clock,
            metrics,
            anchoring,
            sequencer,
            pdf_seal,
        };
        let running = Running {
            sequencer: seq_task,
            publisher: (publisher_stop, publisher),
            anchorer: (anchor_stop, anchorer),
            keyring: (keys_stop, keyring),
            pdf_upgrades: (upgrades_stop, pdf_upgrades),
            witnessing: (witness_stop, witness_task),
        };
        Ok((ledger, running))
    }

    /// The PDF seal: sealed PDFs, kept once made, and their time-stamps.
    pub fn pdf_seal(&self) -> &Arc<pdf_seal::PdfSeal> {
        &self.pdf_seal
    }

    /// Records a consent decision (by hand, in the portal, from a delegated answer) and
    /// waits until its proof is durable.
    pub async fn record(&self, draft: ProofDraft) -> Result<Sealed, SubmitError> {
        self.sequencer.submit(draft).await
    }

    /// Like [`Ledger::record`], with the end of a granted consent's validity given as an
    /// instant rather than as `valid_days` (which must then be `None`).
    pub async fn record_until(
        &self,
        draft: ProofDraft,
        valid_until: Option<Timestamp>,
    ) -> Result<Sealed, SubmitError> {
        self.sequencer.submit_until(draft, valid_until).await
    }

    /// A fresh, time-ordered event ID.
    pub fn new_event_id(&self) -> Result<EventId, SubmitError> {
        EventId::from_suffix(&random::id_suffix(self.clock.now_ms()))
            .map_err(|e| SubmitError::Append(e.to_string()))
    }

    /// The log's origin.
    pub fn origin(&self) -> &str {
        self.keys.log.origin()
    }

    /// The service's keys.
    pub fn keys(&self) -> &Arc<Keys> {
        &self.keys
    }

    /// Anchoring: its settings, schedule and on-demand runs.
    pub fn anchoring(&self) -> &Anchoring {
        &self.anchoring
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The store the log lives in (reads; writes to the log go through the commands).
    pub fn store(&self) -> &Store {
        &self.store
    }
}

impl Running {
    /// Stops the engine: anchoring first (crash-safe at every step), then the group
    /// commit drains — which waits until every [`Ledger`] handle has been dropped, so
    /// drop them first — and only once every acknowledged entry is committed, the
    /// publisher signs a last checkpoint; the master key watch last.
    pub async fn stop(self) {
        let _ = self.witnessing.0.send(true);
        if let Err(e) = self.witnessing.1.await {
            tracing::error!(error = %e, "witnessing task failed");
        }
        let _ = self.pdf_upgrades.0.send(true);
        if let Err(e) = self.pdf_upgrades.1.await {
            tracing::error!(error = %e, "PDF seal upgrade task failed");
        }
        let _ = self.anchorer.0.send(true);
        if let Err(e) = self.anchorer.1.await {
            tracing::error!(error = %e, "anchoring task failed");
        }
        if let Err(e) = self.sequencer.await {
            tracing::error!(error = %e, "sequencer task failed");
        }
        let _ = self.publisher.0.send(true);
        if let Err(e) = self.publisher.1.await {
            tracing::error!(error = %e, "publisher task failed");
        }
        let _ = self.keyring.0.send(true);
        if let Err(e) = self.keyring.1.await {
            tracing::error!(error = %e, "master key task failed");
        }
    }
}
