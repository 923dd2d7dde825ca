//! The witness itself: the logs it follows, its key, its state, and `add-checkpoint` from
//! request bytes to cosignature line, with no HTTP types.
//!
//! The order of the checks is the specification's: the body is parsed (malformed: 400),
//! the origin looked up (unknown: 404), the log's signature verified (none valid, or one
//! by a trusted key that fails: 403) — all before any state is touched, and outside the
//! database lock, since they are most of the CPU. Then, in one transaction, the sizes,
//! roots and proof are decided on (`decide`), evidence kept, and the cosignature signed
//! and recorded; the transaction commits before the answer leaves.

use crate::decide::{EvidenceKind, Refusal, Verdict, decide};
use crate::metrics::Metrics;
use crate::store::{CosignedRow, EvidenceRow, Store, StoreError};
use consentry_core::checkpoint::{Checkpoint, CheckpointError};
use consentry_core::cosignature::{CosignatureError, CosignerKey};
use consentry_core::witness_protocol::{AddCheckpoint, RequestError};
use signed_note::Verifier as _;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Why a log list was refused.
#[derive(Debug, thiserror::Error)]
pub enum LogListError {
    /// A key is not an Ed25519 signed-note verifier key.
    #[error("log key {key:?} is not an Ed25519 signed-note verifier key")]
    BadKey {
        /// The key as given.
        key: String,
    },
    /// The same key is given twice.
    #[error("log key {0:?} is given twice")]
    Duplicate(String),
    /// No log at all: a witness that follows nothing would answer 404 to everything.
    #[error("no log to follow: give at least one log verifier key")]
    Empty,
}

/// The logs a witness follows, by origin; a log may have several keys (during a rotation).
#[derive(Clone)]
pub struct LogList {
    logs: BTreeMap<String, Vec<signed_note::StandardVerifier>>,
    keys: Vec<String>,
}

impl std::fmt::Debug for LogList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(&self.keys).finish()
    }
}

impl LogList {
    /// Checks the verifier keys (`origin+hexid+base64(0x01 ‖ key)`).
    pub fn new<S: AsRef<str>>(vkeys: &[S]) -> Result<LogList, LogListError> {
        let mut logs: BTreeMap<String, Vec<signed_note::StandardVerifier>> = BTreeMap::new();
        let mut keys = Vec::new();
        for vkey in vkeys {
            let vkey = vkey.as_ref().trim();
            let v = signed_note::StandardVerifier::new(vkey).map_err(|_| LogListError::BadKey {
                key: vkey.to_owned(),
            })?;
            if keys.iter().any(|k| k == vkey) {
                return Err(LogListError::Duplicate(vkey.to_owned()));
            }
            keys.push(vkey.to_owned());
            logs.entry(v.name().to_owned()).or_default().push(v);
        }
        if logs.is_empty() {
            return Err(LogListError::Empty);
        }
        Ok(LogList { logs, keys })
    }

    /// The verifier keys, as given.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// The origins followed.
    pub fn origins(&self) -> impl Iterator<Item = &str> {
        self.logs.keys().map(String::as_str)
    }
}

/// Why `add-checkpoint` did not cosign. Each variant is one HTTP status (in `http.rs`).
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    /// The body is not an add-checkpoint request (400).
    #[error("malformed request: {0}")]
    Malformed(#[from] RequestError),
    /// The note is not a signed checkpoint (400).
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(CheckpointError),
    /// The origin is not a log this witness follows (404).
    #[error("unknown log {0:?}")]
    UnknownLog(String),
    /// No valid signature by a key of the log, or a bad one by such a key (403).
    #[error("the checkpoint is not validly signed by the log")]
    BadSignature,
    /// The sizes, roots or proof do not allow cosigning (400, 409 or 422).
    #[error("refused: {}", .0.label())]
    Refused(Refusal),
    /// The state could not be read or written (500); nothing was cosigned.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The cosignature could not be made (500).
    #[error(transparent)]
    Cosign(#[from] CosignatureError),
}

/// A witness: its key, the logs it follows, its state and its counters.
pub struct Witness {
    key: CosignerKey,
    logs: LogList,
    store: Mutex<Store>,
    metrics: Metrics,
}

impl std::fmt::Debug for Witness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Witness")
            .field("key", &self.key)
            .field("logs", &self.logs)
            .finish_non_exhaustive()
    }
}

/// A successful add-checkpoint: the cosignature line(s) to answer with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosigned {
    /// The signature lines, each ending in a newline.
    pub lines: String,
    /// The checkpoint cosigned.
    pub checkpoint: Checkpoint,
}

impl Witness {
    /// A witness signing with `key`, following `logs`, keeping its state in `store`.
    pub fn new(key: CosignerKey, logs: LogList, store: Store) -> Witness {
        Witness {
            key,
            logs,
            store: Mutex::new(store),
            metrics: Metrics::new(),
        }
    }

    /// Its verifier key, for the witness's users.
    pub fn verifier_key(&self) -> String {
        self.key.verifier_key()
    }

    /// The logs it follows.
    pub fn logs(&self) -> &LogList {
        &self.logs
    }

    /// Its counters.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Runs `f` on the store (the lock is held; keep it short).
    pub fn with_store<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut store = self
            .store
            .lock()
            .map_err(|_| StoreError::Corrupt("store lock poisoned"))?;
        f(&mut store)
    }

    /// Handles one `add-checkpoint` body at `now_ms` (Unix milliseconds); the answer is
    /// durable when this returns.
    pub fn add_checkpoint(&self, body: &[u8], now_ms: i64) -> Result<Cosigned, AddError> {
        let result = self.add_checkpoint_inner(body, now_ms);
        match &result {
            Ok(_) => {
                self.metrics.cosigned.inc();
            }
            Err(e) => self.metrics.refused(error_label(e)),
        }
        result
    }

    fn add_checkpoint_inner(&self, body: &[u8], now_ms: i64) -> Result<Cosigned, AddError> {
        let req = AddCheckpoint::parse(body)?;
        let note = signed_note::Note::from_bytes(req.note.as_bytes())
            .map_err(|_| AddError::MalformedCheckpoint(CheckpointError::MalformedNote))?;
        let text = std::str::from_utf8(note.text())
            .map_err(|_| AddError::MalformedCheckpoint(CheckpointError::MalformedNote))?;
        let checkpoint = Checkpoint::parse_body(text).map_err(AddError::MalformedCheckpoint)?;
        let keys = self
            .logs
            .logs
            .get(&checkpoint.origin)
            .ok_or_else(|| AddError::UnknownLog(checkpoint.origin.clone()))?;
        let list = signed_note::VerifierList::new(
            keys.iter()
                .map(|k| Box::new(k.clone()) as Box<dyn signed_note::Verifier>)
                .collect(),
        );
        // Unknown keys are ignored; a trusted key's bad signature fails the whole note.
        let (verified, _) = note.verify(&list).map_err(|_| AddError::BadSignature)?;
        // What is kept and served: the body and the log signatures checked, nothing else.
        let mut kept = format!("{text}\n");
        for sig in &verified {
            kept.push_str(&String::from_utf8_lossy(&sig.to_bytes()));
        }
        if req.old_size > checkpoint.size {
            return Err(AddError::Refused(Refusal::OldAboveSize));
        }
        let timestamp = u64::try_from(now_ms / 1000).unwrap_or(0).max(1);
        let origin = checkpoint.origin.clone();
        let (verdict, new_evidence) = self.with_store(|store| {
            store.transact(|tx| -> Result<_, AddError> {
                let latest = tx.latest(&origin)?;
                let at_size = tx
                    .cosigned_at(&origin, checkpoint.size)?
                    .map(|(root, _)| root);
                let verdict = decide(
                    latest.as_ref(),
                    at_size.as_ref(),
                    req.old_size,
                    &req.proof,
                    &checkpoint,
                );
                match &verdict {
                    Verdict::Cosign => {
                        let line = self.key.cosign(&checkpoint.body(), timestamp)?;
                        tx.record_cosigned(&CosignedRow {
                            origin: &origin,
                            size: checkpoint.size,
                            root: &checkpoint.root,
                            note: &kept,
                            cosignature: &line,
                            now_ms,
                        })?;
                        Ok((Ok(line), None))
                    }
                    Verdict::Refuse { refusal, evidence } => {
                        let mut new = None;
                        if let Some((kind, against_size)) = evidence {
                            let row = EvidenceRow {
                                origin: &origin,
                                kind: *kind,
                                against_size: *against_size,
                                conflicting_note: &kept,
                                old_size: req.old_size,
                                proof: &req.proof,
                                now_ms,
                            };
                            if tx.record_evidence(&row)? {
                                new = Some(*kind);
                            }
                        }
                        Ok((Err(*refusal), new))
                    }
                }
            })
        })?;
        if let Some(kind) = new_evidence {
            self.metrics.evidence(kind);
            if kind == EvidenceKind::SplitView {
                tracing::warn!(origin = %origin, size = checkpoint.size, "split view: the log signed two roots for one size");
            }
        }
        match verdict {
            Ok(lines) => Ok(Cosigned { lines, checkpoint }),
            Err(refusal) => Err(AddError::Refused(refusal)),
        }
    }
}

/// The `reason` label of a refusal, for metrics.
pub fn error_label(e: &AddError) -> &'static str {
    match e {
        AddError::Malformed(_) | AddError::MalformedCheckpoint(_) => "malformed",
        AddError::UnknownLog(_) => "unknown_log",
        AddError::BadSignature => "bad_signature",
        AddError::Refused(r) => r.label(),
        AddError::Store(_) | AddError::Cosign(_) => "internal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use consentry_core::cosignature::CosignerVerifier;
    use consentry_core::keys::LogKey;
    use consentry_core::merkle::{MemoryLog, leaf_hash};

    const ORIGIN: &str = "log.example/test";

    fn log_key() -> LogKey {
        LogKey::from_seed(ORIGIN, &[5; 32]).unwrap()
    }

    fn tree(n: u64, salt: &str) -> MemoryLog {
        let mut log = MemoryLog::new();
        for i in 0..n {
            log.append(leaf_hash(format!("{salt}{i}").as_bytes()));
        }
        log
    }

    fn body(log: &MemoryLog, old: u64, size: u64) -> Vec<u8> {
        let cp = Checkpoint {
            origin: ORIGIN.into(),
            size,
            root: log.root(size).unwrap(),
            extensions: vec![],
        };
        AddCheckpoint {
            old_size: old,
            proof: if old == 0 {
                vec![]
            } else {
                log.consistency_proof(old, size).unwrap()
            },
            note: cp.sign(&log_key()).unwrap(),
        }
        .to_text()
        .into_bytes()
    }

    fn witness(path: &std::path::Path) -> Witness {
        Witness::new(
            CosignerKey::from_seed("w.example", &[6; 32]).unwrap(),
            LogList::new(&[log_key().verifier_key()]).unwrap(),
            Store::open(path).unwrap(),
        )
    }

    #[test]
    fn cosigns_growth_and_remembers_it_across_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("w.sqlite3");
        let log = tree(10, "");
        let w = witness(&db);
        let done = w
            .add_checkpoint(&body(&log, 0, 4), 1_700_000_000_000)
            .unwrap();
        let v = CosignerVerifier::parse(&w.verifier_key()).unwrap();
        assert_eq!(
            v.verify_line(&done.checkpoint.body(), &done.lines),
            Ok(1_700_000_000)
        );
        w.add_checkpoint(&body(&log, 4, 9), 1_700_000_001_000)
            .unwrap();
        drop(w);
        let w = witness(&db);
        assert!(matches!(
            w.add_checkpoint(&body(&log, 4, 10), 0),
            Err(AddError::Refused(Refusal::Conflict { latest: 9 }))
        ));
        // A fork of size 9: refused, and kept as a split view with both notes.
        let fork = tree(10, "fork");
        assert!(matches!(
            w.add_checkpoint(&body(&fork, 9, 9), 0),
            Err(AddError::Refused(Refusal::Conflict { latest: 9 }))
        ));
        let ev = w.with_store(|s| s.evidence(0, 10)).unwrap();
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].kind, "split_view");
        assert!(
            ev[0]
                .cosigned_checkpoint
                .contains(&log.root(9).unwrap().to_base64())
        );
        assert!(
            ev[0]
                .conflicting_checkpoint
                .contains(&fork.root(9).unwrap().to_base64())
        );
        assert_eq!(w.metrics().split_views.get(), 1);
        w.add_checkpoint(&body(&log, 9, 10), 0).unwrap();
    }

    #[test]
    fn signature_and_origin_checks_come_first() {
        let dir = tempfile::tempdir().unwrap();
        let w = witness(&dir.path().join("w.sqlite3"));
        let log = tree(3, "");
        let good = String::from_utf8(body(&log, 0, 3)).unwrap();
        let other_log = LogKey::from_seed("other.example/log", &[5; 32]).unwrap();
        let cp = Checkpoint::parse_body(&format!(
            "other.example/log\n3\n{}\n",
            log.root(3).unwrap().to_base64()
        ))
        .unwrap();
        let unknown = format!("old 0\n\n{}", cp.sign(&other_log).unwrap());
        assert!(matches!(
            w.add_checkpoint(unknown.as_bytes(), 0),
            Err(AddError::UnknownLog(_))
        ));
        let tampered = good.replacen("\n3\n", "\n2\n", 1);
        assert!(matches!(
            w.add_checkpoint(tampered.as_bytes(), 0),
            Err(AddError::BadSignature)
        ));
        assert!(matches!(
            w.add_checkpoint(b"old 0\n", 0),
            Err(AddError::Malformed(_))
        ));
        // None of these touched the state: size 3 is still cosignable from 0.
        w.add_checkpoint(good.as_bytes(), 0).unwrap();
    }
}
