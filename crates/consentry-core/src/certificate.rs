//! The `consentry.certificate/v1` document: a sealed proof, its inclusion path up to a
//! signed checkpoint, and the anchors that date that checkpoint.
//!
//! Everything a verifier needs is inside, so it can be checked offline years later:
//! the proof (sealed), the path (RFC 9162), the checkpoint (signed note) and the log's
//! public key. Trust comes from outside the document: from the anchors (a blockchain or a
//! time-stamping authority saw the checkpoint by a date) and from comparing the key
//! fingerprints with the operator's published ones.

use crate::merkle::Hash;
use crate::proof::SealedProof;
use serde::{Deserialize, Serialize};

/// The `type` of a certificate document.
pub const CERTIFICATE_TYPE: &str = "consentry.certificate/v1";

/// A certificate, as exchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    /// Always [`CERTIFICATE_TYPE`].
    #[serde(rename = "type")]
    pub kind: String,
    /// The sealed proof, exactly as `GET /v1/proofs/{id}` serves it.
    pub proof: serde_json::Map<String, serde_json::Value>,
    /// The proof's index in the log (equal to the proof's `log_index`).
    pub leaf_index: u64,
    /// The RFC 9162 inclusion path from the leaf to the checkpoint's root, leaf first,
    /// each hash in standard base64.
    pub inclusion: Vec<String>,
    /// The signed checkpoint (C2SP signed-note text) the path leads to.
    pub checkpoint: String,
    /// The log's signed-note verifier key (`origin+hexid+base64`).
    pub log_key: String,
    /// The anchors of that checkpoint (chain transactions, RFC 3161 tokens).
    #[serde(default)]
    pub anchors: Vec<serde_json::Map<String, serde_json::Value>>,
}

impl Certificate {
    /// Assembles a certificate for `proof` (at its `log_index`) from the inclusion path
    /// to the tree of the signed checkpoint `checkpoint_note`.
    pub fn new(
        proof: &SealedProof,
        inclusion: &[Hash],
        checkpoint_note: String,
        log_key: String,
        anchors: Vec<serde_json::Map<String, serde_json::Value>>,
    ) -> Result<Certificate, serde_json::Error> {
        let serde_json::Value::Object(proof_obj) = serde_json::to_value(proof)? else {
            return Err(serde::ser::Error::custom(
                "a proof serialises to a JSON object",
            ));
        };
        Ok(Certificate {
            kind: CERTIFICATE_TYPE.to_owned(),
            proof: proof_obj,
            leaf_index: proof.body.log_index,
            inclusion: inclusion.iter().map(Hash::to_base64).collect(),
            checkpoint: checkpoint_note,
            log_key,
            anchors,
        })
    }

    /// Decodes the inclusion path, or `None` if a hash is not 32 bytes of base64.
    pub fn inclusion_hashes(&self) -> Option<Vec<Hash>> {
        self.inclusion
            .iter()
            .map(|h| Hash::from_base64(h))
            .collect()
    }
}
