//! Consistency proofs: evidence that a tree is an append-only extension of an earlier tree, i.e.
//! that the first `old_size` leaves of the new tree are exactly the leaves of the old one. Built
//! per RFC 6962 §2.1.2 (PROOF, SUBPROOF) and verified with RFC 9162 §2.1.4.2.

use std::ops::Range;

use civic_types::Hash32;
use serde::{Deserialize, Serialize};

use crate::{EMPTY_ROOT, MerkleError, leaves_in, len_u64, node_hash, root_from_leaf_hashes, split_point};

/// Proof that the tree of `new_size` leaves extends the tree of its first `old_size` leaves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProof {
    /// Number of leaves in the earlier tree.
    pub old_size: u64,
    /// Number of leaves in the later tree.
    pub new_size: u64,
    /// Subtree roots in RFC 6962 PROOF order; empty if `old_size` is 0 or equals `new_size`.
    pub path: Vec<Hash32>,
}

/// Builds the proof that the tree of `leaf_hashes` extends the tree of its first `old_size`
/// leaves.
///
/// RFC 6962 defines proofs for `0 < old_size <= new_size`; an empty tree is a prefix of every
/// tree, so its proof is empty too. Hashes each leaf at most once.
pub fn consistency_proof(leaf_hashes: &[Hash32], old_size: u64) -> Result<ConsistencyProof, MerkleError> {
    let new_size = len_u64(leaf_hashes.len());
    if old_size > new_size {
        return Err(MerkleError::OldSizeExceedsNewSize { old_size, new_size });
    }
    let path = subtree_ranges(old_size, new_size)
        .into_iter()
        .map(|range| root_from_leaf_hashes(leaves_in(leaf_hashes, range)))
        .collect();
    Ok(ConsistencyProof { old_size, new_size, path })
}

/// Checks that `new_root`, the root of a tree of `new_size` leaves, extends `old_root`, the root
/// of a tree of `old_size` leaves, given the consistency `proof` path (RFC 9162 §2.1.4.2).
///
/// Beyond RFC 9162, which covers only `0 < old_size < new_size`: equal sizes need an empty proof
/// and equal roots, and old size 0 needs an empty proof and `old_root` equal to [`EMPTY_ROOT`]
/// (it says nothing about `new_root`, as no proof can). Sound only if both roots are trusted to
/// be for the given sizes; see the crate documentation.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: Hash32,
    new_root: Hash32,
    proof: &[Hash32],
) -> Result<(), MerkleError> {
    if old_size > new_size {
        return Err(MerkleError::OldSizeExceedsNewSize { old_size, new_size });
    }
    let wrong_length = || MerkleError::WrongProofLength {
        expected: subtree_ranges(old_size, new_size).len(),
        got: proof.len(),
    };
    if old_size == 0 || old_size == new_size {
        if !proof.is_empty() {
            return Err(wrong_length());
        }
        if old_size == 0 && old_root != EMPTY_ROOT {
            return Err(MerkleError::OldRootMismatch { expected: old_root, computed: EMPTY_ROOT });
        }
        // With nothing appended the new tree is the old one, so the root it leads to is old_root.
        if old_size == new_size && old_root != new_root {
            return Err(MerkleError::RootMismatch { expected: new_root, computed: old_root });
        }
        return Ok(());
    }

    // From here on 0 < old_size < new_size, the case RFC 9162 §2.1.4.2 covers; the steps are
    // numbered as there.
    // 1. An empty proof fails.
    let Some((&head, tail)) = proof.split_first() else {
        return Err(wrong_length());
    };
    // 2. If the old tree is perfect its root is one of the new tree's nodes, and the proof leaves
    //    it out because the verifier already has it.
    let (seed, rest) = if old_size.is_power_of_two() { (old_root, proof) } else { (head, tail) };
    // 3, 4. `node` and `last` are the RFC's fn and sn: indices of the current node, and of the
    //    new tree's last node, on the current level. Start at the level of the largest perfect
    //    subtree that ends at the old tree's last leaf.
    let mut node = old_size - 1;
    let mut last = new_size - 1;
    while node & 1 == 1 {
        node >>= 1;
        last >>= 1;
    }
    // 5. Both computed roots start from that subtree.
    let mut old_computed = seed;
    let mut new_computed = seed;
    // 6. Every step shifts `last` right at least once, so at most 64 hashes are ever computed.
    for c in rest {
        if last == 0 {
            return Err(wrong_length());
        }
        if node & 1 == 1 || node == last {
            old_computed = node_hash(c, &old_computed);
            new_computed = node_hash(c, &new_computed);
            // On the new tree's right edge, a left child has no sibling and is promoted
            // unchanged: skip those levels.
            while node & 1 == 0 && node != 0 {
                node >>= 1;
                last >>= 1;
            }
        } else {
            // Right siblings hold leaves appended after the old tree: they count for the new
            // root only.
            new_computed = node_hash(&new_computed, c);
        }
        node >>= 1;
        last >>= 1;
    }
    // 7.
    if last != 0 {
        return Err(wrong_length());
    }
    if old_computed != old_root {
        return Err(MerkleError::OldRootMismatch { expected: old_root, computed: old_computed });
    }
    if new_computed != new_root {
        return Err(MerkleError::RootMismatch { expected: new_root, computed: new_computed });
    }
    Ok(())
}

/// The leaf ranges of the subtrees whose roots form the consistency proof from `old_size` to
/// `new_size` leaves, in proof order: RFC 6962's recursive SUBPROOF, unrolled from the root
/// down. Empty when `old_size` is 0 or equals `new_size`; otherwise at most 64 ranges. Requires
/// `old_size <= new_size`.
fn subtree_ranges(old_size: u64, new_size: u64) -> Vec<Range<u64>> {
    let mut ranges = Vec::new();
    if old_size == 0 {
        return ranges;
    }
    let (mut lo, mut hi) = (0, new_size);
    // SUBPROOF's flag b: whether the subtree [lo, old_size) is the whole old tree, whose root the
    // verifier already has. It stops being so once the walk first turns right.
    let mut old_root_known = true;
    while old_size < hi {
        let mid = lo + split_point(hi - lo);
        if old_size <= mid {
            ranges.push(mid..hi);
            hi = mid;
        } else {
            ranges.push(lo..mid);
            lo = mid;
            old_root_known = false;
        }
    }
    if !old_root_known {
        ranges.push(lo..hi);
    }
    ranges.reverse();
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leaf_hash;

    #[test]
    fn subtree_ranges_follow_rfc_proof() {
        // RFC 6962 §2.1.3's 7-leaf example: PROOF(3, D[7]) = [c, d, g, l],
        // PROOF(4, D[7]) = [l], PROOF(6, D[7]) = [i, j, k].
        assert_eq!(subtree_ranges(3, 7), vec![2..3, 3..4, 0..2, 4..7]);
        assert_eq!(subtree_ranges(4, 7), vec![4..7]);
        assert_eq!(subtree_ranges(6, 7), vec![4..6, 6..7, 0..4]);
        assert!(subtree_ranges(0, 7).is_empty());
        assert!(subtree_ranges(7, 7).is_empty());
    }

    #[test]
    fn backwards_sizes_are_rejected() {
        let h: Vec<Hash32> = (0u8..3).map(|i| leaf_hash(&[i])).collect();
        let backwards = MerkleError::OldSizeExceedsNewSize { old_size: 4, new_size: 3 };
        assert_eq!(consistency_proof(&h, 4), Err(backwards.clone()));
        assert_eq!(verify_consistency(4, 3, h[0], h[0], &[]), Err(backwards));
    }

    #[test]
    fn trivial_cases() {
        let h: Vec<Hash32> = (0u8..3).map(|i| leaf_hash(&[i])).collect();
        let root = root_from_leaf_hashes(&h);
        assert_eq!(verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, &[]), Ok(()));
        assert_eq!(verify_consistency(0, 3, EMPTY_ROOT, root, &[]), Ok(()));
        assert_eq!(verify_consistency(3, 3, root, root, &[]), Ok(()));
        assert_eq!(
            verify_consistency(0, 3, root, root, &[]),
            Err(MerkleError::OldRootMismatch { expected: root, computed: EMPTY_ROOT })
        );
        assert_eq!(
            verify_consistency(3, 3, h[0], root, &[]),
            Err(MerkleError::RootMismatch { expected: root, computed: h[0] })
        );
        assert_eq!(
            verify_consistency(3, 3, root, root, &[root]),
            Err(MerkleError::WrongProofLength { expected: 0, got: 1 })
        );
    }

    #[test]
    fn huge_claims_fail_fast() {
        let junk = vec![Hash32::ZERO; 10_000];
        for (old, new) in [(1, u64::MAX), (u64::MAX - 1, u64::MAX), (1 << 63, u64::MAX)] {
            let expected = subtree_ranges(old, new).len();
            assert!(expected <= 64);
            assert_eq!(
                verify_consistency(old, new, Hash32::ZERO, Hash32::ZERO, &junk),
                Err(MerkleError::WrongProofLength { expected, got: junk.len() })
            );
            assert_eq!(
                verify_consistency(old, new, Hash32::ZERO, Hash32::ZERO, &[]),
                Err(MerkleError::WrongProofLength { expected, got: 0 })
            );
        }
    }
}
