//! Inclusion proofs: evidence that a leaf is at a given index of a tree with a given root and
//! size. Built per RFC 6962 §2.1.1 (PATH) and verified with RFC 9162 §2.1.3.2.

use std::ops::Range;

use civic_types::Hash32;
use serde::{Deserialize, Serialize};

use crate::{MerkleError, leaves_in, len_u64, node_hash, root_from_leaf_hashes, split_point};

/// Proof that the leaf at `leaf_index` is in the tree of `tree_size` leaves.
///
/// `path` lists the roots of the sibling subtrees from the leaf up to the root, as in RFC 6962.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionProof {
    /// Position of the leaf, counting from 0.
    pub leaf_index: u64,
    /// Number of leaves in the tree the proof is for.
    pub tree_size: u64,
    /// Sibling subtree roots, leaf first.
    pub path: Vec<Hash32>,
}

/// Builds the inclusion proof for the leaf at `index` in the tree of `leaf_hashes`.
///
/// Hashes each leaf once, so it costs about as much as computing the root.
pub fn inclusion_proof(leaf_hashes: &[Hash32], index: u64) -> Result<InclusionProof, MerkleError> {
    let tree_size = len_u64(leaf_hashes.len());
    if index >= tree_size {
        return Err(MerkleError::IndexOutOfRange { index, tree_size });
    }
    let path = sibling_ranges(index, tree_size)
        .into_iter()
        .map(|range| root_from_leaf_hashes(leaves_in(leaf_hashes, range)))
        .collect();
    Ok(InclusionProof { leaf_index: index, tree_size, path })
}

/// Checks that `leaf_hash` is at `proof.leaf_index` in the tree of `proof.tree_size` leaves whose
/// root is `root` (RFC 9162 §2.1.3.2).
///
/// Sound only if `root` is trusted to be the root of a tree of exactly `proof.tree_size` leaves;
/// see the crate documentation.
pub fn verify_inclusion(leaf_hash: Hash32, proof: &InclusionProof, root: Hash32) -> Result<(), MerkleError> {
    let InclusionProof { leaf_index, tree_size, ref path } = *proof;
    if leaf_index >= tree_size {
        return Err(MerkleError::IndexOutOfRange { index: leaf_index, tree_size });
    }
    let wrong_length = || MerkleError::WrongProofLength {
        expected: sibling_ranges(leaf_index, tree_size).len(),
        got: path.len(),
    };
    // `node` and `last` are the RFC's fn and sn: the index of the current node, and of the last
    // node, on the current level. Every step shifts `last` right at least once, so at most 64
    // hashes are ever computed, however long the path.
    let mut node = leaf_index;
    let mut last = tree_size - 1;
    let mut computed = leaf_hash;
    for sibling in path {
        if last == 0 {
            return Err(wrong_length());
        }
        if node & 1 == 1 || node == last {
            computed = node_hash(sibling, &computed);
            // On the right edge, a left child has no sibling and is promoted unchanged: skip
            // those levels.
            while node & 1 == 0 && node != 0 {
                node >>= 1;
                last >>= 1;
            }
        } else {
            computed = node_hash(&computed, sibling);
        }
        node >>= 1;
        last >>= 1;
    }
    if last != 0 {
        return Err(wrong_length());
    }
    if computed != root {
        return Err(MerkleError::RootMismatch { expected: root, computed });
    }
    Ok(())
}

/// The leaf ranges of the subtrees whose roots form the inclusion proof of `index` in a tree of
/// `size` leaves, leaf first: RFC 6962's recursive PATH, unrolled from the root down. Requires
/// `index < size`. At most 64 ranges.
fn sibling_ranges(index: u64, size: u64) -> Vec<Range<u64>> {
    let mut ranges = Vec::new();
    let (mut lo, mut hi) = (0, size);
    while hi - lo > 1 {
        let mid = lo + split_point(hi - lo);
        if index < mid {
            ranges.push(mid..hi);
            hi = mid;
        } else {
            ranges.push(lo..mid);
            lo = mid;
        }
    }
    ranges.reverse();
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leaf_hash;

    fn leaves(n: u8) -> Vec<Hash32> {
        (0..n).map(|i| leaf_hash(&[i])).collect()
    }

    #[test]
    fn sibling_ranges_follow_rfc_path() {
        // The tree of 7 leaves drawn in RFC 6962 §2.1.3: leaf 0's siblings are leaf 1, leaves
        // 2..4 and the right subtree 4..7; leaf 6 is promoted twice and has two siblings.
        assert_eq!(sibling_ranges(0, 7), vec![1..2, 2..4, 4..7]);
        assert_eq!(sibling_ranges(6, 7), vec![4..6, 0..4]);
        assert_eq!(sibling_ranges(3, 4), vec![2..3, 0..2]);
        assert!(sibling_ranges(0, 1).is_empty());
    }

    #[test]
    fn out_of_range_index_is_rejected_when_building() {
        let h = leaves(3);
        assert_eq!(inclusion_proof(&h, 3), Err(MerkleError::IndexOutOfRange { index: 3, tree_size: 3 }));
        assert_eq!(inclusion_proof(&[], 0), Err(MerkleError::IndexOutOfRange { index: 0, tree_size: 0 }));
    }

    #[test]
    fn length_errors_report_the_expected_length() {
        let h = leaves(5);
        let root = root_from_leaf_hashes(&h);
        let mut proof = inclusion_proof(&h, 1).unwrap();
        proof.path.push(root);
        assert_eq!(
            verify_inclusion(h[1], &proof, root),
            Err(MerkleError::WrongProofLength { expected: 3, got: 4 })
        );
        proof.path.truncate(1);
        assert_eq!(
            verify_inclusion(h[1], &proof, root),
            Err(MerkleError::WrongProofLength { expected: 3, got: 1 })
        );
    }

    #[test]
    fn huge_claims_fail_fast() {
        // In a tree of 2^64 - 1 leaves the first leaf is 64 levels deep; the last one has 63
        // siblings, one per perfect subtree to its left.
        for (leaf_index, expected) in [(0, 64), (u64::MAX - 1, 63)] {
            let junk = InclusionProof { leaf_index, tree_size: u64::MAX, path: vec![Hash32::ZERO; 10_000] };
            assert_eq!(
                verify_inclusion(Hash32::ZERO, &junk, Hash32::ZERO),
                Err(MerkleError::WrongProofLength { expected, got: 10_000 })
            );
            let no_path = InclusionProof { path: vec![], ..junk };
            assert_eq!(
                verify_inclusion(Hash32::ZERO, &no_path, Hash32::ZERO),
                Err(MerkleError::WrongProofLength { expected, got: 0 })
            );
        }
    }

    // Why the tree size must come from a trusted source: the proof of leaf 2 in a tree of 3
    // leaves has the same shape as a proof of leaf 1 in a tree of 2, so against the 3-leaf root it
    // also "proves" leaf 2 sits at index 1 of a 2-leaf tree. RFC 9162 verifiers all behave so;
    // only a trusted (size, root) pair rules it out, which is why block headers carry both.
    #[test]
    fn verification_trusts_the_claimed_tree_size() {
        let h = leaves(3);
        let root3 = root_from_leaf_hashes(&h);
        let proof = inclusion_proof(&h, 2).unwrap();
        let misclaimed = InclusionProof { leaf_index: 1, tree_size: 2, path: proof.path.clone() };
        assert_eq!(verify_inclusion(h[2], &misclaimed, root3), Ok(()));
        // Against the true root of a 2-leaf tree, the same claim fails.
        let root2 = root_from_leaf_hashes(&h[..2]);
        assert!(matches!(verify_inclusion(h[2], &misclaimed, root2), Err(MerkleError::RootMismatch { .. })));
    }
}
