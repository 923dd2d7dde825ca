//! Property tests of the Merkle maths: for random tree sizes up to a few thousand, every
//! inclusion and consistency proof we generate verifies, equals what an independent
//! implementation (rozbb/ct-merkle) generates, and fails once any bit is flipped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use consentry_core::merkle::{
    Hash, MemoryLog, leaf_hash, root_of_leaf_hashes, verify_consistency, verify_inclusion,
};
use ct_merkle::mem_backed_tree::MemoryBackedTree;
use proptest::prelude::*;
use sha2_011::Sha256;

fn entries(n: u64, salt: u8) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| [&[salt][..], &i.to_le_bytes()].concat())
        .collect()
}

fn build(entries: &[Vec<u8>]) -> (MemoryLog, MemoryBackedTree<Sha256, Vec<u8>>) {
    let mut ours = MemoryLog::new();
    let mut theirs = MemoryBackedTree::<Sha256, Vec<u8>>::new();
    for e in entries {
        ours.append(leaf_hash(e));
        theirs.push(e.clone());
    }
    (ours, theirs)
}

fn flat(hashes: &[Hash]) -> Vec<u8> {
    hashes.iter().flat_map(|h| h.0).collect()
}

fn flip(hashes: &[Hash], which: usize, bit: u8) -> Vec<Hash> {
    let mut out = hashes.to_vec();
    let i = which % out.len();
    out[i].0[usize::from(bit / 8) % 32] ^= 1 << (bit % 8);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn inclusion_proofs_verify_match_ct_merkle_and_break_when_flipped(
        size in 1u64..3000, index_seed in any::<u64>(), which in any::<usize>(), bit in any::<u8>(), salt in any::<u8>()
    ) {
        let es = entries(size, salt);
        let (ours, theirs) = build(&es);
        let index = index_seed % size;
        let root = ours.root(size).unwrap();
        let theirs_root = theirs.root();
        prop_assert_eq!(root.0.as_slice(), theirs_root.as_bytes().as_slice());

        let path = ours.inclusion_proof(index, size).unwrap();
        let leaf = leaf_hash(&es[index as usize]);
        verify_inclusion(index, size, &leaf, &path, &root).unwrap();
        let theirs_proof = theirs.prove_inclusion(index as usize);
        prop_assert_eq!(flat(&path), theirs_proof.as_bytes().to_vec());

        if !path.is_empty() {
            prop_assert!(verify_inclusion(index, size, &leaf, &flip(&path, which, bit), &root).is_err());
            prop_assert!(verify_inclusion(index, size, &leaf, &path[..path.len() - 1], &root).is_err());
        }
        let mut longer = path.clone();
        longer.push(leaf);
        prop_assert!(verify_inclusion(index, size, &leaf, &longer, &root).is_err());
        prop_assert!(verify_inclusion(index, size, &flip(&[leaf], 0, bit)[0], &path, &root).is_err());
        prop_assert!(verify_inclusion(index, size, &leaf, &path, &flip(&[root], 0, bit)[0]).is_err());
        if size > 1 {
            let other = (index + 1 + index_seed % (size - 1)) % size;
            prop_assert!(verify_inclusion(other, size, &leaf, &path, &root).is_err());
        }
        prop_assert!(verify_inclusion(size, size, &leaf, &path, &root).is_err());
    }

    #[test]
    fn consistency_proofs_verify_match_ct_merkle_and_break_when_flipped(
        new in 1u64..3000, old_seed in any::<u64>(), which in any::<usize>(), bit in any::<u8>()
    ) {
        let es = entries(new, 7);
        let (ours, _) = build(&es);
        let old = old_seed % (new + 1);
        let old_root = ours.root(old).unwrap();
        let new_root = ours.root(new).unwrap();
        let proof = ours.consistency_proof(old, new).unwrap();
        verify_consistency(old, new, &old_root, &new_root, &proof).unwrap();

        if old > 0 && old < new {
            let (_, old_tree) = build(&es[..old as usize]);
            let mut grown = old_tree.clone();
            for e in &es[old as usize..] {
                grown.push(e.clone());
            }
            let theirs = grown.prove_consistency((new - old) as usize);
            prop_assert_eq!(flat(&proof), theirs.as_bytes().to_vec());
            prop_assert!(!proof.is_empty());
            prop_assert!(verify_consistency(old, new, &old_root, &new_root, &flip(&proof, which, bit)).is_err());
            prop_assert!(verify_consistency(old, new, &flip(&[old_root], 0, bit)[0], &new_root, &proof).is_err());
            prop_assert!(verify_consistency(old, new, &old_root, &flip(&[new_root], 0, bit)[0], &proof).is_err());
            prop_assert!(verify_consistency(old, new, &old_root, &new_root, &proof[..proof.len() - 1]).is_err());
            prop_assert!(verify_consistency(old + 1, new, &old_root, &new_root, &proof).is_err() || old + 1 == new);
        }
    }

    #[test]
    fn memory_log_roots_equal_the_rfc_definition(size in 0u64..1500) {
        let es = entries(size, 1);
        let (ours, _) = build(&es);
        let leaves: Vec<Hash> = es.iter().map(|e| leaf_hash(e)).collect();
        for s in [0, size / 3, size / 2, size] {
            prop_assert_eq!(ours.root(s).unwrap(), root_of_leaf_hashes(&leaves[..s as usize]));
        }
    }
}
