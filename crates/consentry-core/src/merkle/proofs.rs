//! Proof generation from stored complete-subtree hashes.
//!
//! A log stores, for every complete subtree (a power-of-two run of leaves aligned on its
//! own size), its hash once it is complete; it never changes afterwards, so it can be
//! written once and cached forever (the C2SP tlog-tiles idea). Every hash an RFC 9162 proof
//! needs is either such a subtree or a right-edge range whose hash folds O(log n) of them,
//! so a proof for any past tree size costs O(log n) reads whatever the log's size.

use super::{EMPTY_ROOT, Hash, MerkleError, largest_power_of_two_below, node_hash};
use std::cell::RefCell;

/// Reads the hash of a complete subtree: the `index`-th run of `2^level` leaves, that is
/// leaves `[index·2^level, (index+1)·2^level)`. Level 0 is the leaf hashes themselves.
pub trait SubtreeReader {
    /// Returns the stored hash, or [`MerkleError::MissingSubtree`] if the store lacks it.
    fn subtree(&self, level: u8, index: u64) -> Result<Hash, MerkleError>;
}

impl<R: SubtreeReader + ?Sized> SubtreeReader for &R {
    fn subtree(&self, level: u8, index: u64) -> Result<Hash, MerkleError> {
        (**self).subtree(level, index)
    }
}

/// The Merkle Tree Hash of leaves `[lo, hi)` (`lo < hi`), per RFC 9162 §2.1.1, read from
/// complete subtrees. For the ranges RFC proofs use (left edge aligned on the largest
/// power of two not above the width) this reads one subtree per set bit of `hi - lo`.
pub fn range_hash<R: SubtreeReader>(r: &R, lo: u64, hi: u64) -> Result<Hash, MerkleError> {
    let n = hi - lo;
    if n.is_power_of_two() && lo.is_multiple_of(n) {
        let level = n.trailing_zeros() as u8;
        return r.subtree(level, lo >> level);
    }
    let k = largest_power_of_two_below(n);
    let left = range_hash(r, lo, lo + k)?;
    let right = range_hash(r, lo + k, hi)?;
    Ok(node_hash(&left, &right))
}

/// The root of the tree of the first `size` leaves.
pub fn tree_root<R: SubtreeReader>(r: &R, size: u64) -> Result<Hash, MerkleError> {
    if size == 0 {
        return Ok(EMPTY_ROOT);
    }
    range_hash(r, 0, size)
}

/// The RFC 9162 §2.1.3.1 inclusion proof (audit path) of leaf `index` in the tree of the
/// first `size` leaves, ordered from the leaf up.
pub fn inclusion_proof<R: SubtreeReader>(
    r: &R,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, MerkleError> {
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    let mut path = Vec::with_capacity(64 - size.leading_zeros() as usize);
    let (mut lo, mut hi) = (0u64, size);
    // Walk down from the root, recording the sibling not taken; reverse at the end.
    while hi - lo > 1 {
        let k = largest_power_of_two_below(hi - lo);
        if index < lo + k {
            path.push(range_hash(r, lo + k, hi)?);
            hi = lo + k;
        } else {
            path.push(range_hash(r, lo, lo + k)?);
            lo += k;
        }
    }
    path.reverse();
    Ok(path)
}

/// The RFC 9162 §2.1.4.1 consistency proof between the trees of the first `old` and the
/// first `new` leaves. Empty when `old` is 0 or equals `new`.
pub fn consistency_proof<R: SubtreeReader>(
    r: &R,
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, MerkleError> {
    if old > new {
        return Err(MerkleError::SizesOutOfOrder { old, new });
    }
    if old == 0 || old == new {
        return Ok(Vec::new());
    }
    // SUBPROOF(m, D[lo:hi], b), unrolled: each step either ends, or descends and appends
    // one sibling after the inner result.
    let mut siblings = Vec::with_capacity(64);
    let (mut lo, mut hi, mut m, mut whole) = (0u64, new, old, true);
    let inner = loop {
        let n = hi - lo;
        if m == n {
            break if whole {
                None
            } else {
                Some(range_hash(r, lo, hi)?)
            };
        }
        let k = largest_power_of_two_below(n);
        if m <= k {
            siblings.push(range_hash(r, lo + k, hi)?);
            hi = lo + k;
        } else {
            siblings.push(range_hash(r, lo, lo + k)?);
            m -= k;
            lo += k;
            whole = false;
        }
    };
    let mut proof = Vec::with_capacity(siblings.len() + 1);
    proof.extend(inner);
    proof.extend(siblings.into_iter().rev());
    Ok(proof)
}

/// A reader that answers nothing but records what was asked: running a generator over it
/// lists the subtrees a proof needs, so a store can fetch them in one round trip.
#[derive(Default)]
struct Recorder {
    asked: RefCell<Vec<(u8, u64)>>,
}

impl SubtreeReader for Recorder {
    fn subtree(&self, level: u8, index: u64) -> Result<Hash, MerkleError> {
        self.asked.borrow_mut().push((level, index));
        Ok(Hash::default())
    }
}

/// The `(level, index)` of every complete subtree that [`inclusion_proof`] and
/// [`tree_root`] read for this leaf and size, in reading order.
pub fn needed_subtrees_for_inclusion(index: u64, size: u64) -> Result<Vec<(u8, u64)>, MerkleError> {
    let rec = Recorder::default();
    inclusion_proof(&rec, index, size)?;
    tree_root(&rec, size)?;
    Ok(rec.asked.into_inner())
}

/// The `(level, index)` of every complete subtree that [`consistency_proof`] and the two
/// [`tree_root`]s read for these sizes, in reading order.
pub fn needed_subtrees_for_consistency(old: u64, new: u64) -> Result<Vec<(u8, u64)>, MerkleError> {
    let rec = Recorder::default();
    consistency_proof(&rec, old, new)?;
    tree_root(&rec, old)?;
    tree_root(&rec, new)?;
    Ok(rec.asked.into_inner())
}
