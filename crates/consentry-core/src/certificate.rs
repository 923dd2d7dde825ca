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

/// Writes the certificates of many proofs under one anchored checkpoint, fast: the
/// members they share (checkpoint, log key, anchors — an EVM anchor's evidence alone is
/// kilobytes) are encoded once, and each proof is copied from its stored canonical bytes
/// instead of going through a JSON tree. The output is byte for byte what
/// `serde_json::to_vec(&Certificate::new(…))` gives (tested), so callers may use either.
#[derive(Debug, Clone)]
pub struct CertificateWriter {
    tail: Vec<u8>,
}

impl CertificateWriter {
    /// Prepares the shared members.
    pub fn new(
        checkpoint_note: &str,
        log_key: &str,
        anchors: &[serde_json::Map<String, serde_json::Value>],
    ) -> Result<CertificateWriter, serde_json::Error> {
        let mut tail = Vec::with_capacity(512);
        tail.extend_from_slice(b"],\"checkpoint\":");
        serde_json::to_writer(&mut tail, checkpoint_note)?;
        tail.extend_from_slice(b",\"log_key\":");
        serde_json::to_writer(&mut tail, log_key)?;
        tail.extend_from_slice(b",\"anchors\":");
        serde_json::to_writer(&mut tail, anchors)?;
        tail.push(b'}');
        Ok(CertificateWriter { tail })
    }

    /// Appends one certificate to `out`: `proof_entry` is the proof's log entry (its
    /// canonical JSON, as stored and served), `inclusion` its path to the checkpoint.
    pub fn write(
        &self,
        out: &mut Vec<u8>,
        proof_entry: &[u8],
        leaf_index: u64,
        inclusion: &[Hash],
    ) {
        use base64::Engine as _;
        out.reserve(proof_entry.len() + inclusion.len() * 47 + self.tail.len() + 80);
        out.extend_from_slice(b"{\"type\":\"");
        out.extend_from_slice(CERTIFICATE_TYPE.as_bytes());
        out.extend_from_slice(b"\",\"proof\":");
        out.extend_from_slice(proof_entry);
        out.extend_from_slice(b",\"leaf_index\":");
        out.extend_from_slice(leaf_index.to_string().as_bytes());
        out.extend_from_slice(b",\"inclusion\":[");
        let mut buf = [0u8; 44];
        for (i, h) in inclusion.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.push(b'"');
            let n = base64::engine::general_purpose::STANDARD
                .encode_slice(h.0, &mut buf)
                .unwrap_or(0);
            out.extend_from_slice(&buf[..n]);
            out.push(b'"');
        }
        out.extend_from_slice(&self.tail);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::Checkpoint;
    use crate::ids::{ProofId, SubjectId, TenantId};
    use crate::keys::{LogKey, SealKey};
    use crate::merkle::MemoryLog;
    use crate::proof::{Decision, Method, PROOF_TYPE, ProofBody, Recipient, RecipientCategory};
    use crate::time::Timestamp;

    #[test]
    fn the_writer_gives_the_bytes_of_the_certificate_document() {
        let origin = "consentry.test/log";
        let seal = SealKey::from_seed(&[1; 32]);
        let log_key = LogKey::from_seed(origin, &[2; 32]).unwrap();
        let mut log = MemoryLog::new();
        let mut proofs = Vec::new();
        for i in 0..13u64 {
            let p = ProofBody {
                kind: PROOF_TYPE.into(),
                log: origin.into(),
                id: ProofId::parse(&format!("prf_{i:020x}")).unwrap(),
                tenant: TenantId::parse("ten_acme").unwrap(),
                subject: SubjectId::parse("sub_00ff").unwrap(),
                purpose: "newsletter-é\u{1}\"quoted\"".into(),
                decision: Decision::Granted,
                method: Method::Manual,
                recipient: Recipient {
                    address_commitment: "ab".repeat(32),
                    category: RecipientCategory::Private,
                },
                notice: None,
                evidence: None,
                request: None,
                valid_until: None,
                given_at: None,
                recorded_at: Timestamp::from_unix_millis(1_795_460_645_000).unwrap(),
                log_index: i,
            }
            .seal(&seal)
            .unwrap();
            log.append(p.leaf_hash().unwrap());
            proofs.push(p);
        }
        let note = Checkpoint {
            origin: origin.into(),
            size: 13,
            root: log.root(13).unwrap(),
            extensions: vec![],
        }
        .sign(&log_key)
        .unwrap();
        let anchor: serde_json::Map<String, serde_json::Value> = serde_json::from_str(
            r#"{"kind":"rfc3161","tsa":"https://tsa.example/","gen_time":"2026-11-30T23:00:01.000Z","serial":"0a","token":"AAEC"}"#,
        )
        .unwrap();
        let anchors = vec![anchor];
        let writer = CertificateWriter::new(&note, &log_key.verifier_key(), &anchors).unwrap();
        for p in &proofs {
            let path = log.inclusion_proof(p.body.log_index, 13).unwrap();
            let doc = Certificate::new(
                p,
                &path,
                note.clone(),
                log_key.verifier_key(),
                anchors.clone(),
            )
            .unwrap();
            let mut fast = Vec::new();
            writer.write(
                &mut fast,
                &p.entry_bytes().unwrap(),
                p.body.log_index,
                &path,
            );
            assert_eq!(
                String::from_utf8(fast).unwrap(),
                String::from_utf8(serde_json::to_vec(&doc).unwrap()).unwrap()
            );
        }
    }
}
