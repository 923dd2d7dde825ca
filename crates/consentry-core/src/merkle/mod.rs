//! RFC 9162 Merkle tree maths: hashing, proof verification and proof generation.
//!
//! The log is the RFC 9162 (Certificate Transparency v2, §2.1) tree: a leaf hash is
//! `SHA-256(0x00 ‖ entry)`, an interior node `SHA-256(0x01 ‖ left ‖ right)`, and the tree
//! over `n` leaves splits at the largest power of two smaller than `n`. Verification follows
//! the RFC's §2.1.3.2 and §2.1.4.2 algorithms step by step, so that what we accept is exactly
//! what any other RFC 9162 verifier accepts.
//!
//! Proof *generation* reads only hashes of **complete** subtrees (a subtree whose leaf count
//! is a power of two and which will never change again). Those are what a log stores,
//! whether in memory ([`MemoryLog`]) or as C2SP tiles in a database; the hashes of the
//! growing right edge are recomputed from O(log n) of them. See [`SubtreeReader`].

mod memory;
mod proofs;

pub use memory::MemoryLog;
pub use proofs::{
    SubtreeReader, consistency_proof, inclusion_proof, needed_subtrees_for_consistency,
    needed_subtrees_for_inclusion, range_hash, tree_root,
};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest, Sha256};
use std::fmt;

/// A SHA-256 digest: a leaf hash, a node hash or a tree root.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Standard base64 (RFC 4648 §4, padded), as checkpoints and proof routes carry it.
    pub fn to_base64(&self) -> String {
        BASE64.encode(self.0)
    }

    /// Parses standard padded base64 of exactly 32 bytes.
    pub fn from_base64(s: &str) -> Option<Hash> {
        let bytes = BASE64.decode(s).ok()?;
        Some(Hash(bytes.try_into().ok()?))
    }

    /// Lowercase hexadecimal.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hexadecimal digits (either case).
    pub fn from_hex(s: &str) -> Option<Hash> {
        let bytes = hex::decode(s).ok()?;
        Some(Hash(bytes.try_into().ok()?))
    }

    /// SHA-256 of arbitrary bytes (no domain prefix).
    pub fn digest(data: &[u8]) -> Hash {
        Hash(Sha256::digest(data).into())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Root of the empty tree: SHA-256 of the empty string (RFC 9162 §2.1.1).
pub const EMPTY_ROOT: Hash = Hash([
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
]);

/// `SHA-256(0x00 ‖ entry)`: the hash of one log entry.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(entry);
    Hash(h.finalize().into())
}

/// `SHA-256(0x01 ‖ left ‖ right)`: the hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut buf = [0u8; 65];
    buf[0] = 0x01;
    buf[1..33].copy_from_slice(&left.0);
    buf[33..].copy_from_slice(&right.0);
    Hash(Sha256::digest(buf).into())
}

/// The Merkle Tree Hash of a list of leaf hashes, straight from the RFC 9162 §2.1.1
/// definition. O(n) and recursive: a reference for tests and small trees, not for logs.
pub fn root_of_leaf_hashes(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => EMPTY_ROOT,
        1 => leaves[0],
        n => {
            let k = largest_power_of_two_below(n as u64) as usize;
            node_hash(
                &root_of_leaf_hashes(&leaves[..k]),
                &root_of_leaf_hashes(&leaves[k..]),
            )
        }
    }
}

/// The largest power of two strictly smaller than `n` (`n ≥ 2`), the RFC's split point `k`.
pub(crate) fn largest_power_of_two_below(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// Why a Merkle proof or request was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MerkleError {
    /// The leaf index is not inside the tree.
    #[error("leaf index {index} is not inside a tree of size {size}")]
    IndexOutOfRange {
        /// The index asked for.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A consistency proof between sizes that cannot be compared.
    #[error("tree size {old} is larger than tree size {new}")]
    SizesOutOfOrder {
        /// The earlier size.
        old: u64,
        /// The later size.
        new: u64,
    },
    /// The tree size asked for is beyond what the log holds.
    #[error("tree size {size} is beyond the log's size {available}")]
    SizeBeyondLog {
        /// The size asked for.
        size: u64,
        /// The log's size.
        available: u64,
    },
    /// The proof has more or fewer hashes than the tree shape allows.
    #[error("proof has the wrong number of hashes")]
    WrongProofLength,
    /// Recomputing the path did not give the expected root.
    #[error("inclusion path does not lead to the checkpoint root")]
    InclusionRootMismatch,
    /// Recomputing the consistency path did not give the old root.
    #[error("consistency proof does not lead to the old root")]
    ConsistencyOldRootMismatch,
    /// Recomputing the consistency path did not give the new root.
    #[error("consistency proof does not lead to the new root")]
    ConsistencyNewRootMismatch,
    /// Two equal tree sizes must have equal roots and an empty proof.
    #[error("equal tree sizes with different roots or a non-empty proof")]
    EqualSizesMismatch,
    /// The store could not produce a complete-subtree hash it should hold.
    #[error("missing stored hash for subtree at level {level}, index {index}")]
    MissingSubtree {
        /// Height of the subtree (0 = leaf).
        level: u8,
        /// Index of the subtree among those of its height.
        index: u64,
    },
}

/// Verifies that `leaf` is at `index` in the tree of `size` leaves whose root is `root`,
/// following RFC 9162 §2.1.3.2 step by step.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    path: &[Hash],
    root: &Hash,
) -> Result<(), MerkleError> {
    // 1. leaf_index must be less than tree_size.
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    // 2. fn = leaf_index, sn = tree_size - 1.  3. r = hash.
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    // 4. For each value p in the inclusion_path array:
    for p in path {
        // a. If sn is 0, the proof is too long.
        if snode == 0 {
            return Err(MerkleError::WrongProofLength);
        }
        // b. If LSB(fn) is set, or fn equals sn:
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            // If LSB(fn) is not set, shift until it is or fn is 0.
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        // c. Shift both once.
        fnode >>= 1;
        snode >>= 1;
    }
    // 5. sn must be 0 (the path was long enough) and r the root.
    if snode != 0 {
        return Err(MerkleError::WrongProofLength);
    }
    if r != *root {
        return Err(MerkleError::InclusionRootMismatch);
    }
    Ok(())
}

/// Verifies that the tree of `new_size` leaves with root `new_root` extends the tree of
/// `old_size` leaves with root `old_root`, following RFC 9162 §2.1.4.2 step by step.
///
/// The RFC's algorithm covers `0 < old_size < new_size`; the two edge cases are decided
/// as every CT implementation does: equal sizes need equal roots and an empty proof, and
/// every tree extends the empty tree with an empty proof.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), MerkleError> {
    if old_size > new_size {
        return Err(MerkleError::SizesOutOfOrder {
            old: old_size,
            new: new_size,
        });
    }
    if old_size == new_size {
        if proof.is_empty() && old_root == new_root {
            return Ok(());
        }
        return Err(MerkleError::EqualSizesMismatch);
    }
    if old_size == 0 {
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(MerkleError::WrongProofLength)
        };
    }
    // 1. An empty consistency_path fails.
    if proof.is_empty() {
        return Err(MerkleError::WrongProofLength);
    }
    // 2. If first is an exact power of 2, prepend first_hash to the path.
    let (first, rest): (Hash, &[Hash]) = if old_size.is_power_of_two() {
        (*old_root, proof)
    } else {
        (proof[0], &proof[1..])
    };
    // 3. fn = first - 1, sn = second - 1.
    let (mut fnode, mut snode) = (old_size - 1, new_size - 1);
    // 4. If LSB(fn) is set, shift both until it is not.
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    // 5. fr = sr = the first value of the path.
    let (mut fr, mut sr) = (first, first);
    // 6. For each subsequent value c:
    for c in rest {
        // a. If sn is 0, fail.
        if snode == 0 {
            return Err(MerkleError::WrongProofLength);
        }
        // b.
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        // c. Shift both once.
        fnode >>= 1;
        snode >>= 1;
    }
    // 7. fr must be first_hash, sr second_hash, and sn 0.
    if snode != 0 {
        return Err(MerkleError::WrongProofLength);
    }
    if fr != *old_root {
        return Err(MerkleError::ConsistencyOldRootMismatch);
    }
    if sr != *new_root {
        return Err(MerkleError::ConsistencyNewRootMismatch);
    }
    Ok(())
}
