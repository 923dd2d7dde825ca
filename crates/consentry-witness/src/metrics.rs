//! Prometheus metrics, served as text at `/metrics`: what the witness cosigned, what it
//! refused and why, and the evidence it kept — the split views above all, which an
//! operator alerts on.

use crate::decide::EvidenceKind;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// The `reason` label of refusals.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    /// `malformed`, `unknown_log`, `bad_signature`, `old_above_size`, `conflict`,
    /// `empty_tree_root`, `unexpected_proof`, `bad_proof`, `rate_limited`, `internal`.
    pub reason: &'static str,
}

/// The `kind` label of evidence.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    /// `split_view`, `bad_proof`, `rollback`.
    pub kind: &'static str,
}

/// The witness's counters (since the process started).
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Checkpoints cosigned.
    pub cosigned: Counter,
    /// Requests refused, by reason.
    pub refused: Family<ReasonLabels, Counter>,
    /// Evidence newly kept, by kind.
    pub evidence: Family<KindLabels, Counter>,
    /// Split views detected (conclusive evidence newly kept).
    pub split_views: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Fresh counters, registered.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("consentry_witness");
        let cosigned = Counter::default();
        let refused = Family::<ReasonLabels, Counter>::default();
        let evidence = Family::<KindLabels, Counter>::default();
        let split_views = Counter::default();
        registry.register(
            "checkpoints_cosigned",
            "Checkpoints cosigned",
            cosigned.clone(),
        );
        registry.register(
            "requests_refused",
            "add-checkpoint requests refused, by reason",
            refused.clone(),
        );
        registry.register(
            "evidence_recorded",
            "Refused, validly signed checkpoints kept as evidence, by kind",
            evidence.clone(),
        );
        registry.register(
            "split_views_detected",
            "Checkpoints signed by a log with another root for a size this witness cosigned",
            split_views.clone(),
        );
        Metrics {
            registry,
            cosigned,
            refused,
            evidence,
            split_views,
        }
    }

    /// Counts a refusal.
    pub fn refused(&self, reason: &'static str) {
        self.refused.get_or_create(&ReasonLabels { reason }).inc();
    }

    /// Counts newly kept evidence.
    pub fn evidence(&self, kind: EvidenceKind) {
        self.evidence
            .get_or_create(&KindLabels {
                kind: kind.as_str(),
            })
            .inc();
        if kind.conclusive() {
            self.split_views.inc();
        }
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
