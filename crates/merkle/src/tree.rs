//! Leaf, node and root hashes (RFC 6962 §2.1). Roots are computed in one pass over the leaves
//! with a fixed 64-entry stack: linear time, no heap allocation, whatever the number of leaves.

use civic_types::Hash32;
use sha2::{Digest, Sha256};

/// The root of a tree with no leaves: SHA-256 of the empty string (RFC 6962 §2.1).
pub const EMPTY_ROOT: Hash32 = Hash32([
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27,
    0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
]);

/// Domain-separation prefixes: a leaf hash and a node hash are digests of inputs that differ in
/// their first byte, so one can never be presented as the other (RFC 6962 §2.1).
const LEAF_PREFIX: u8 = 0x00;
const NODE_PREFIX: u8 = 0x01;

/// The hash of one leaf: SHA-256(0x00 ‖ `data`).
pub fn leaf_hash(data: &[u8]) -> Hash32 {
    let digest = Sha256::new().chain_update([LEAF_PREFIX]).chain_update(data).finalize();
    Hash32(digest.into())
}

/// The hash of an interior node: SHA-256(0x01 ‖ `left` ‖ `right`).
pub fn node_hash(left: &Hash32, right: &Hash32) -> Hash32 {
    let digest =
        Sha256::new().chain_update([NODE_PREFIX]).chain_update(left.0).chain_update(right.0).finalize();
    Hash32(digest.into())
}

/// The Merkle Tree Hash of `leaves`, each hashed with [`leaf_hash`]; [`EMPTY_ROOT`] if there are
/// none. Generic rather than `impl AsRef` so callers can name the type of an empty list.
pub fn root<T: AsRef<[u8]>>(leaves: &[T]) -> Hash32 {
    fold_root(leaves.iter().map(|leaf| leaf_hash(leaf.as_ref())))
}

/// The Merkle Tree Hash of a tree whose leaves have the given hashes; [`EMPTY_ROOT`] if there are
/// none. A single leaf's hash is its own root.
pub fn root_from_leaf_hashes(leaf_hashes: &[Hash32]) -> Hash32 {
    fold_root(leaf_hashes.iter().copied())
}

fn fold_root(leaf_hashes: impl Iterator<Item = Hash32>) -> Hash32 {
    // Roots of the perfect subtrees not yet merged, leftmost (largest) first. After `n` leaves
    // their sizes are the set bits of `n`, so there are never more than 64.
    let mut pending = [Hash32::ZERO; 64];
    let mut depth = 0;
    for (before, leaf) in (0u64..).zip(leaf_hashes) {
        // Each trailing one bit of the count so far is a pending subtree as large as the one the
        // new leaf completes, so merge them, as carrying when adding one in binary.
        let mut node = leaf;
        for _ in 0..before.trailing_ones() {
            depth -= 1;
            node = node_hash(&pending[depth], &node);
        }
        pending[depth] = node;
        depth += 1;
    }
    // RFC 6962 splits n leaves at the largest power of two below n, which is exactly the
    // leftmost pending subtree; recursing on the rest means folding the pending roots from the
    // right.
    let mut from_right = pending[..depth].iter().rev();
    match from_right.next() {
        None => EMPTY_ROOT,
        Some(&last) => from_right.fold(last, |right, left| node_hash(left, &right)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(EMPTY_ROOT, civic_types::sha256(b""));
        assert_eq!(root_from_leaf_hashes(&[]), EMPTY_ROOT);
        assert_eq!(root::<&[u8]>(&[]), EMPTY_ROOT);
    }

    #[test]
    fn hashes_are_prefixed_sha256() {
        let (l, r) = (civic_types::sha256(b"l"), civic_types::sha256(b"r"));
        let mut node_input = vec![1];
        node_input.extend_from_slice(&l.0);
        node_input.extend_from_slice(&r.0);
        assert_eq!(node_hash(&l, &r), civic_types::sha256(&node_input));
        assert_eq!(leaf_hash(b"abc"), civic_types::sha256(b"\x00abc"));
    }

    #[test]
    fn small_trees_follow_the_rfc_shape() {
        let h: Vec<Hash32> = (0u8..5).map(|i| leaf_hash(&[i])).collect();
        assert_eq!(root_from_leaf_hashes(&h[..1]), h[0]);
        assert_eq!(root_from_leaf_hashes(&h[..2]), node_hash(&h[0], &h[1]));
        // Three leaves split 2 + 1, not 1 + 2.
        assert_eq!(root_from_leaf_hashes(&h[..3]), node_hash(&node_hash(&h[0], &h[1]), &h[2]));
        let left4 = node_hash(&node_hash(&h[0], &h[1]), &node_hash(&h[2], &h[3]));
        assert_eq!(root_from_leaf_hashes(&h[..4]), left4);
        assert_eq!(root_from_leaf_hashes(&h[..5]), node_hash(&left4, &h[4]));
    }
}
