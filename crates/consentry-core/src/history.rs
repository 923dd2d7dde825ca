//! The `consentry.anchors/v1` document: every anchored checkpoint of a log, oldest first,
//! each with its anchors and the RFC 9162 consistency proof from the previous one.
//!
//! A certificate proves one proof was in one anchored tree. This document proves the
//! anchored trees form one append-only history: that the tree anchored on Tuesday
//! extends Monday's, so the operator could not have dropped or rewritten a proof between
//! two anchors without the chain of consistency proofs breaking.

use serde::{Deserialize, Serialize};

/// The `type` of an anchor history document.
pub const ANCHORS_TYPE: &str = "consentry.anchors/v1";

/// The history of anchored checkpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnchorHistory {
    /// Always [`ANCHORS_TYPE`].
    #[serde(rename = "type")]
    pub kind: String,
    /// The log's signed-note verifier key (`origin+hexid+base64`).
    pub log_key: String,
    /// Anchored checkpoints, by increasing tree size.
    pub checkpoints: Vec<AnchoredEntry>,
}

/// One anchored checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnchoredEntry {
    /// The signed checkpoint (C2SP signed note).
    pub checkpoint: String,
    /// RFC 9162 consistency proof from the previous entry's tree to this one (standard
    /// base64 hashes); empty for the first entry.
    pub consistency: Vec<String>,
    /// The checkpoint's anchors, as in certificates.
    pub anchors: Vec<serde_json::Map<String, serde_json::Value>>,
}
