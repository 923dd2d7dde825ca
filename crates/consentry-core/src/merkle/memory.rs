//! An in-memory incremental log: every complete-subtree hash, level by level.
//!
//! Appending costs one leaf store plus, on average, one node hash (a subtree completes at
//! each trailing one bit of the new size). Roots and proofs for *any* past size come from
//! the stored complete subtrees ([`super::SubtreeReader`]), so the same generation code
//! serves this log and the database's tiles.

use super::{Hash, MerkleError, SubtreeReader, node_hash};

/// An append-only RFC 9162 tree held in memory.
#[derive(Debug, Clone, Default)]
pub struct MemoryLog {
    /// `levels[l][i]` is the hash of leaves `[i·2^l, (i+1)·2^l)`, once complete.
    levels: Vec<Vec<Hash>>,
}

impl MemoryLog {
    /// An empty log.
    pub fn new() -> MemoryLog {
        MemoryLog::default()
    }

    /// An empty log with room for `leaves` leaves without reallocating.
    pub fn with_capacity(leaves: usize) -> MemoryLog {
        let mut levels = Vec::new();
        let mut n = leaves;
        while n > 0 {
            levels.push(Vec::with_capacity(n));
            n /= 2;
        }
        MemoryLog { levels }
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Appends a leaf hash and returns its index.
    pub fn append(&mut self, leaf: Hash) -> u64 {
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        let index = self.levels[0].len() as u64;
        self.levels[0].push(leaf);
        let mut level = 0;
        while self.levels[level].len().is_multiple_of(2) {
            let row = &self.levels[level];
            let parent = node_hash(&row[row.len() - 2], &row[row.len() - 1]);
            if self.levels.len() == level + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[level + 1].push(parent);
            level += 1;
        }
        index
    }

    /// The leaf hash at `index`, if present.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        self.levels
            .first()?
            .get(usize::try_from(index).ok()?)
            .copied()
    }

    fn check_size(&self, size: u64) -> Result<(), MerkleError> {
        if size > self.size() {
            return Err(MerkleError::SizeBeyondLog {
                size,
                available: self.size(),
            });
        }
        Ok(())
    }

    /// The root of the tree of the first `size` leaves.
    pub fn root(&self, size: u64) -> Result<Hash, MerkleError> {
        self.check_size(size)?;
        super::tree_root(self, size)
    }

    /// The inclusion proof of leaf `index` in the tree of the first `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, MerkleError> {
        self.check_size(size)?;
        super::inclusion_proof(self, index, size)
    }

    /// The consistency proof from the tree of size `old` to the tree of size `new`.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, MerkleError> {
        self.check_size(new)?;
        super::consistency_proof(self, old, new)
    }
}

impl SubtreeReader for MemoryLog {
    fn subtree(&self, level: u8, index: u64) -> Result<Hash, MerkleError> {
        self.levels
            .get(usize::from(level))
            .and_then(|row| row.get(usize::try_from(index).ok()?))
            .copied()
            .ok_or(MerkleError::MissingSubtree { level, index })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{leaf_hash, root_of_leaf_hashes, verify_consistency, verify_inclusion};

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn roots_match_the_rfc_definition_for_every_size_up_to_130() {
        let all = leaves(130);
        let mut log = MemoryLog::new();
        for (i, l) in all.iter().enumerate() {
            log.append(*l);
            for size in 0..=log.size() {
                assert_eq!(
                    log.root(size).unwrap(),
                    root_of_leaf_hashes(&all[..size as usize]),
                    "size {size} after {i} appends"
                );
            }
        }
    }

    #[test]
    fn every_proof_in_small_trees_verifies() {
        let all = leaves(70);
        let mut log = MemoryLog::new();
        all.iter().for_each(|l| {
            log.append(*l);
        });
        for size in 1..=70u64 {
            let root = log.root(size).unwrap();
            for index in 0..size {
                let path = log.inclusion_proof(index, size).unwrap();
                verify_inclusion(index, size, &all[index as usize], &path, &root).unwrap();
            }
            for old in 0..=size {
                let proof = log.consistency_proof(old, size).unwrap();
                verify_consistency(old, size, &log.root(old).unwrap(), &root, &proof).unwrap();
            }
        }
    }

    #[test]
    fn sizes_beyond_the_log_are_refused_not_invented() {
        let mut log = MemoryLog::new();
        log.append(leaf_hash(b"a"));
        assert!(matches!(
            log.root(2),
            Err(MerkleError::SizeBeyondLog { .. })
        ));
        assert!(log.inclusion_proof(0, 2).is_err());
        assert!(log.consistency_proof(1, 2).is_err());
    }

    #[test]
    fn needed_subtrees_are_what_generation_reads() {
        let all = leaves(1000);
        let mut log = MemoryLog::new();
        all.iter().for_each(|l| {
            log.append(*l);
        });
        let needed = crate::merkle::needed_subtrees_for_inclusion(517, 999).unwrap();
        // O(log n): one path read per level plus the right-edge decomposition.
        assert!(needed.len() <= 2 * 10 + 10, "{} reads", needed.len());
        for (level, index) in needed {
            log.subtree(level, index).unwrap();
        }
    }
}
