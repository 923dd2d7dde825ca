//! The witness's decision, as a pure function of what it cosigned before and what it is
//! asked: cosign, or refuse (and why), and whether the refusal is evidence against the log.
//!
//! Kept apart from the store and from HTTP so that the rules of c2sp.org/tlog-witness
//! v1.0.0 read in one place, in the order the specification gives them, and are tested
//! without a database. The caller has already parsed the request and verified the log's
//! signature; this decides on sizes, roots and the consistency proof only.

use consentry_core::checkpoint::Checkpoint;
use consentry_core::merkle::{EMPTY_ROOT, Hash, verify_consistency};

/// The latest checkpoint the witness cosigned for a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Latest {
    /// Its size.
    pub size: u64,
    /// Its root.
    pub root: Hash,
}

/// Why a checkpoint is not cosigned (after the signature checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The old size is above the checkpoint's size (400).
    OldAboveSize,
    /// The old size is not the size the witness last cosigned, or the checkpoint has that
    /// size with another root (409, with the latest size).
    Conflict {
        /// The size of the latest cosigned checkpoint (0 if none).
        latest: u64,
    },
    /// A size-0 checkpoint whose root is not the empty tree's (422).
    EmptyTreeRoot,
    /// A proof sent with old size 0, or with equal sizes (422).
    UnexpectedProof,
    /// The consistency proof does not verify (422).
    BadProof,
}

impl Refusal {
    /// A stable label, for metrics and logs.
    pub fn label(self) -> &'static str {
        match self {
            Refusal::OldAboveSize => "old_above_size",
            Refusal::Conflict { .. } => "conflict",
            Refusal::EmptyTreeRoot => "empty_tree_root",
            Refusal::UnexpectedProof => "unexpected_proof",
            Refusal::BadProof => "bad_proof",
        }
    }
}

/// What a refused, validly signed checkpoint says about the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceKind {
    /// The log signed two different roots for one size, and the witness cosigned one of
    /// them: proof, by the log's own signatures, of a split view.
    SplitView,
    /// A checkpoint larger than the one cosigned, sent with a consistency proof that
    /// fails. Not conclusive alone (the proof lines are not signed), but the log must then
    /// show a proof between the two signed checkpoints.
    BadProof,
    /// A checkpoint smaller than the one cosigned, at a size the witness never cosigned.
    /// Not conclusive alone (it may be an old checkpoint replayed); a monitor checks it
    /// against the log's consistency proof.
    Rollback,
}

impl EvidenceKind {
    /// The stable name stored and served (`split_view`, `bad_proof`, `rollback`).
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::SplitView => "split_view",
            EvidenceKind::BadProof => "bad_proof",
            EvidenceKind::Rollback => "rollback",
        }
    }

    /// Reads a stored name.
    pub fn parse(s: &str) -> Option<EvidenceKind> {
        match s {
            "split_view" => Some(EvidenceKind::SplitView),
            "bad_proof" => Some(EvidenceKind::BadProof),
            "rollback" => Some(EvidenceKind::Rollback),
            _ => None,
        }
    }

    /// Whether the two signed checkpoints prove misbehaviour on their own.
    pub fn conclusive(self) -> bool {
        matches!(self, EvidenceKind::SplitView)
    }
}

/// The decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Cosign and record the checkpoint as the latest.
    Cosign,
    /// Refuse; `evidence` says whether (and as what) to keep the checkpoint as evidence,
    /// and `against` which cosigned size it conflicts with.
    Refuse {
        /// Why.
        refusal: Refusal,
        /// What the refusal proves, if anything.
        evidence: Option<(EvidenceKind, u64)>,
    },
}

/// Decides on a request whose log signature verified.
///
/// - `latest`: the latest checkpoint cosigned for the log (`None`: never);
/// - `cosigned_root_at_size`: the root the witness cosigned at `checkpoint.size`, if it
///   ever cosigned that size (it keeps every size it cosigned, so a fork of an older
///   checkpoint is caught too, not only of the latest).
pub fn decide(
    latest: Option<&Latest>,
    cosigned_root_at_size: Option<&Hash>,
    old_size: u64,
    proof: &[Hash],
    checkpoint: &Checkpoint,
) -> Verdict {
    let refuse = |refusal, evidence| Verdict::Refuse { refusal, evidence };
    let size = checkpoint.size;
    if old_size > size {
        return refuse(Refusal::OldAboveSize, None);
    }
    let latest_size = latest.map_or(0, |l| l.size);
    let latest_root = latest.map_or(EMPTY_ROOT, |l| l.root);
    // Whatever the old size claims, a signed root that differs from one cosigned at the
    // same size is a split view.
    let split = cosigned_root_at_size
        .filter(|r| **r != checkpoint.root)
        .map(|_| (EvidenceKind::SplitView, size));
    if old_size != latest_size {
        let rollback = (size < latest_size && cosigned_root_at_size.is_none())
            .then_some((EvidenceKind::Rollback, latest_size));
        return refuse(
            Refusal::Conflict {
                latest: latest_size,
            },
            split.or(rollback),
        );
    }
    if size == 0 && checkpoint.root != EMPTY_ROOT {
        return refuse(Refusal::EmptyTreeRoot, None);
    }
    if old_size == size {
        if checkpoint.root != latest_root {
            return refuse(
                Refusal::Conflict {
                    latest: latest_size,
                },
                Some((EvidenceKind::SplitView, size)),
            );
        }
        if !proof.is_empty() {
            return refuse(Refusal::UnexpectedProof, None);
        }
        return Verdict::Cosign;
    }
    if old_size == 0 {
        return if proof.is_empty() {
            Verdict::Cosign
        } else {
            refuse(Refusal::UnexpectedProof, None)
        };
    }
    match verify_consistency(old_size, size, &latest_root, &checkpoint.root, proof) {
        Ok(()) => Verdict::Cosign,
        Err(_) => refuse(
            Refusal::BadProof,
            Some((EvidenceKind::BadProof, latest_size)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use consentry_core::merkle::{MemoryLog, leaf_hash};

    fn tree(n: u64, salt: &str) -> MemoryLog {
        let mut log = MemoryLog::new();
        for i in 0..n {
            log.append(leaf_hash(format!("{salt}{i}").as_bytes()));
        }
        log
    }

    fn cp(log: &MemoryLog, size: u64) -> Checkpoint {
        Checkpoint {
            origin: "o".into(),
            size,
            root: log.root(size).unwrap(),
            extensions: vec![],
        }
    }

    fn latest(log: &MemoryLog, size: u64) -> Latest {
        Latest {
            size,
            root: log.root(size).unwrap(),
        }
    }

    #[test]
    fn consistent_growth_is_cosigned() {
        let log = tree(20, "");
        let l = latest(&log, 7);
        let proof = log.consistency_proof(7, 20).unwrap();
        assert_eq!(
            decide(Some(&l), None, 7, &proof, &cp(&log, 20)),
            Verdict::Cosign
        );
        assert_eq!(decide(None, None, 0, &[], &cp(&log, 20)), Verdict::Cosign);
        // The same checkpoint again.
        assert_eq!(
            decide(Some(&l), Some(&l.root), 7, &[], &cp(&log, 7)),
            Verdict::Cosign
        );
        assert_eq!(decide(None, None, 0, &[], &cp(&log, 0)), Verdict::Cosign);
    }

    #[test]
    fn refusals_follow_the_spec() {
        let log = tree(20, "");
        let fork = tree(20, "fork");
        let l = latest(&log, 7);
        let proof = log.consistency_proof(7, 20).unwrap();
        let conflict = Refusal::Conflict { latest: 7 };
        // old > size: 400.
        assert!(matches!(
            decide(Some(&l), None, 21, &[], &cp(&log, 20)),
            Verdict::Refuse {
                refusal: Refusal::OldAboveSize,
                evidence: None
            }
        ));
        // Stale old size: 409, no evidence (a client may start from 0).
        assert_eq!(
            decide(Some(&l), None, 0, &[], &cp(&log, 20)),
            Verdict::Refuse {
                refusal: conflict,
                evidence: None
            }
        );
        // Same size, other root: 409 and a split view.
        assert_eq!(
            decide(Some(&l), Some(&l.root), 7, &[], &cp(&fork, 7)),
            Verdict::Refuse {
                refusal: conflict,
                evidence: Some((EvidenceKind::SplitView, 7))
            }
        );
        // A fork of an older cosigned size: a split view even with a wrong old size.
        let old_root = log.root(3).unwrap();
        assert_eq!(
            decide(Some(&l), Some(&old_root), 3, &[], &cp(&fork, 3)),
            Verdict::Refuse {
                refusal: conflict,
                evidence: Some((EvidenceKind::SplitView, 3))
            }
        );
        // A smaller tree never cosigned: 409, kept as a (non-conclusive) rollback.
        assert_eq!(
            decide(Some(&l), None, 2, &[], &cp(&log, 5)),
            Verdict::Refuse {
                refusal: conflict,
                evidence: Some((EvidenceKind::Rollback, 7))
            }
        );
        // Bad proof: 422 and kept.
        assert_eq!(
            decide(Some(&l), None, 7, &proof, &cp(&fork, 20)),
            Verdict::Refuse {
                refusal: Refusal::BadProof,
                evidence: Some((EvidenceKind::BadProof, 7))
            }
        );
        assert_eq!(
            decide(Some(&l), None, 7, &proof[1..], &cp(&log, 20)),
            Verdict::Refuse {
                refusal: Refusal::BadProof,
                evidence: Some((EvidenceKind::BadProof, 7))
            }
        );
        // A proof from 0, or between equal sizes: 422.
        assert!(matches!(
            decide(None, None, 0, &proof, &cp(&log, 20)),
            Verdict::Refuse {
                refusal: Refusal::UnexpectedProof,
                ..
            }
        ));
        assert!(matches!(
            decide(Some(&l), Some(&l.root), 7, &proof, &cp(&log, 7)),
            Verdict::Refuse {
                refusal: Refusal::UnexpectedProof,
                ..
            }
        ));
        // Size 0 with a root that is not the empty tree's.
        let mut zero = cp(&log, 0);
        zero.root = leaf_hash(b"x");
        assert!(matches!(
            decide(None, None, 0, &[], &zero),
            Verdict::Refuse {
                refusal: Refusal::EmptyTreeRoot,
                ..
            }
        ));
    }

    #[test]
    fn evidence_kinds_round_trip() {
        for k in [
            EvidenceKind::SplitView,
            EvidenceKind::BadProof,
            EvidenceKind::Rollback,
        ] {
            assert_eq!(EvidenceKind::parse(k.as_str()), Some(k));
        }
        assert!(EvidenceKind::SplitView.conclusive());
        assert!(!EvidenceKind::Rollback.conclusive());
    }
}
