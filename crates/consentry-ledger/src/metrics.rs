//! Prometheus metrics, served as text at `/metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Labels of HTTP response counts.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResponseLabels {
    /// The HTTP status code.
    pub code: u16,
}

/// Labels of anchoring counts.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AnchorLabels {
    /// Backend kind (`evm`, `rfc3161`).
    pub kind: String,
    /// Failure class (`unreachable`, `refused`, `invalid`, `config`); empty for successes.
    pub reason: String,
}

/// Labels of witnessing counts.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WitnessLabels {
    /// The witness, `name+hexid` of its key.
    pub witness: String,
}

/// The service's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Proofs durably appended by this process.
    pub proofs_appended: Counter,
    /// Events (reveals, refused reveals, erasures) durably appended by this process.
    pub events_appended: Counter,
    /// Append transactions committed by this process.
    pub append_batches: Counter,
    /// Append transactions that failed (nothing written).
    pub append_failures: Counter,
    /// Drafts prepared ahead of their transaction and decided and sealed again inside it
    /// (another writer appended first, or a contact changed meanwhile).
    pub append_resealed: Counter,
    /// Entries per committed batch.
    pub batch_size: Histogram,
    /// Seconds per committed batch.
    pub batch_seconds: Histogram,
    /// The durable log size last seen.
    pub log_size: Gauge,
    /// Checkpoints signed by this process.
    pub checkpoints_signed: Counter,
    /// HTTP responses by status code.
    pub responses: Family<ResponseLabels, Counter>,
    /// Anchors completed by this process, by kind.
    pub anchors_completed: Family<AnchorLabels, Counter>,
    /// Failed anchoring attempts, by kind and reason (node down, refused…).
    pub anchor_failures: Family<AnchorLabels, Counter>,
    /// Anchors prepared and not yet done.
    pub anchors_pending: Gauge,
    /// Anchors replaced because their block was reorganised away.
    pub anchors_reorged: Counter,
    /// The size of the last checkpoint this process anchored.
    pub last_anchored_size: Gauge,
    /// Cosignatures received, by witness.
    pub witness_cosignatures: Family<WitnessLabels, Counter>,
    /// Submissions that gave no cosignature (down, refused, bad answer), by witness.
    pub witness_failures: Family<WitnessLabels, Counter>,
    /// Seconds per add-checkpoint round trip.
    pub witness_seconds: Histogram,
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("consentry");
        let m = Metrics {
            proofs_appended: Counter::default(),
            events_appended: Counter::default(),
            append_batches: Counter::default(),
            append_failures: Counter::default(),
            append_resealed: Counter::default(),
            batch_size: Histogram::new([1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0]),
            batch_seconds: Histogram::new([0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0]),
            log_size: Gauge::default(),
            checkpoints_signed: Counter::default(),
            responses: Family::default(),
            anchors_completed: Family::default(),
            anchor_failures: Family::default(),
            anchors_pending: Gauge::default(),
            anchors_reorged: Counter::default(),
            last_anchored_size: Gauge::default(),
            witness_cosignatures: Family::default(),
            witness_failures: Family::default(),
            witness_seconds: Histogram::new([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0]),
            registry: Registry::default(),
        };
        registry.register(
            "proofs_appended",
            "Proofs durably appended to the log",
            m.proofs_appended.clone(),
        );
        registry.register(
            "events_appended",
            "Events (reveals, refused reveals, erasures) durably appended to the log",
            m.events_appended.clone(),
        );
        registry.register(
            "append_batches",
            "Append transactions committed",
            m.append_batches.clone(),
        );
        registry.register(
            "append_failures",
            "Append transactions that failed, nothing written",
            m.append_failures.clone(),
        );
        registry.register(
            "append_resealed",
            "Drafts sealed ahead and sealed again in the append transaction (what they were decided on had changed)",
            m.append_resealed.clone(),
        );
        registry.register(
            "append_batch_size",
            "Entries per committed append transaction",
            m.batch_size.clone(),
        );
        registry.register(
            "append_batch_seconds",
            "Duration of committed append transactions",
            m.batch_seconds.clone(),
        );
        registry.register(
            "log_size",
            "Durable log size last seen by this process",
            m.log_size.clone(),
        );
        registry.register(
            "checkpoints_signed",
            "Checkpoints signed by this process",
            m.checkpoints_signed.clone(),
        );
        registry.register(
            "http_responses",
            "HTTP responses by status code",
            m.responses.clone(),
        );
        registry.register(
            "anchors_completed",
            "Checkpoint anchors completed, by kind",
            m.anchors_completed.clone(),
        );
        registry.register(
            "anchor_failures",
            "Failed anchoring attempts, by kind and reason",
            m.anchor_failures.clone(),
        );
        registry.register(
            "anchors_pending",
            "Anchors prepared and not yet done",
            m.anchors_pending.clone(),
        );
        registry.register(
            "anchors_reorged",
            "Anchors replaced because their block left the canonical chain",
            m.anchors_reorged.clone(),
        );
        registry.register(
            "last_anchored_size",
            "Size of the last checkpoint anchored by this process",
            m.last_anchored_size.clone(),
        );
        registry.register(
            "witness_cosignatures",
            "Witness cosignatures received, by witness",
            m.witness_cosignatures.clone(),
        );
        registry.register(
            "witness_failures",
            "Checkpoint submissions a witness did not cosign, by witness",
            m.witness_failures.clone(),
        );
        registry.register(
            "witness_seconds",
            "Duration of add-checkpoint round trips",
            m.witness_seconds.clone(),
        );
        Metrics { registry, ..m }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}
