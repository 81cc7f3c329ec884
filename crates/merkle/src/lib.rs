//! The RFC 6962 Merkle Tree Hash (MTH) over SHA-256, with inclusion and consistency proofs.
//!
//! What it guarantees:
//! - Hashing is exactly RFC 6962 §2.1 (unchanged in RFC 9162 §2.1): a leaf is
//!   SHA-256(0x00 ‖ data), an interior node SHA-256(0x01 ‖ left ‖ right), and the root of no
//!   leaves is SHA-256 of the empty string. The prefixes keep a leaf from ever being passed off as
//!   an interior node. The published RFC 6962 test vectors are golden tests of this crate.
//! - Proofs are built as RFC 6962 §2.1.1 (PATH) and §2.1.2 (PROOF) define them and checked with
//!   the RFC 9162 §2.1.3.2 and §2.1.4.2 algorithms, so they interoperate with Certificate
//!   Transparency tooling.
//! - Everything is pure and deterministic. Verifiers take untrusted input and never panic; their
//!   work is bounded by the 64 levels a `u64`-sized tree can have, whatever sizes or path lengths
//!   a proof claims.
//!
//! What it does not do: a root alone does not tell a verifier how many leaves its tree has, and
//! proof verification trusts the tree sizes it is given. Verify proofs only against a
//! `(tree_size, root)` pair from a trusted source, such as a signed block header that carries the
//! transaction count next to the transaction root.

mod consistency;
mod inclusion;
mod tree;

use civic_types::Hash32;

pub use consistency::{ConsistencyProof, consistency_proof, verify_consistency};
pub use inclusion::{InclusionProof, inclusion_proof, verify_inclusion};
pub use tree::{EMPTY_ROOT, leaf_hash, node_hash, root, root_from_leaf_hashes};

/// Why a proof could not be built or did not verify.
///
/// `IndexOutOfRange`, `OldSizeExceedsNewSize` and `WrongProofLength` mean the request or the
/// proof's shape is malformed; the two root mismatches mean a well-formed proof does not prove
/// the claim.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MerkleError {
    /// The leaf index is not below the tree size.
    #[error(
        "leaf index {index} is out of range for a tree of {tree_size} leaves; indices start at 0 and must be below the tree size"
    )]
    IndexOutOfRange {
        /// The requested or claimed leaf index.
        index: u64,
        /// The number of leaves in the tree.
        tree_size: u64,
    },
    /// A consistency proof was requested or checked from a larger tree to a smaller one.
    #[error(
        "old tree size {old_size} is larger than new tree size {new_size}; a tree can only be proven consistent with a tree at least as large"
    )]
    OldSizeExceedsNewSize {
        /// The claimed size of the earlier tree.
        old_size: u64,
        /// The claimed size of the later tree.
        new_size: u64,
    },
    /// The proof does not have the number of hashes its claimed index and sizes require.
    #[error(
        "proof has {got} hashes, but a proof for this leaf index and these tree sizes has exactly {expected}; check the index and sizes the proof was requested for"
    )]
    WrongProofLength {
        /// The number of hashes a proof for the claimed index and sizes has.
        expected: usize,
        /// The number of hashes supplied.
        got: usize,
    },
    /// The proof leads to a different (new) root than the trusted one.
    #[error(
        "proof leads to root {computed}, not the trusted root {expected}: the leaf, the proof or the claimed sizes are wrong, or the root belongs to another tree"
    )]
    RootMismatch {
        /// The trusted root the caller supplied.
        expected: Hash32,
        /// The root the proof leads to.
        computed: Hash32,
    },
    /// A consistency proof leads to a different old root than the trusted one.
    #[error(
        "consistency proof leads to old root {computed}, not the trusted old root {expected}: the proof or the old size is wrong, or the old root belongs to another tree"
    )]
    OldRootMismatch {
        /// The trusted old root the caller supplied.
        expected: Hash32,
        /// The old root the proof leads to.
        computed: Hash32,
    },
}

/// Where RFC 6962 splits a tree of `n` leaves: the largest power of two strictly below `n`.
/// Callers guarantee `n >= 2`.
fn split_point(n: u64) -> u64 {
    1 << (u64::BITS - 1 - (n - 1).leading_zeros())
}

/// A slice length as a tree size. Lossless: `usize` is at most 64 bits on every Rust target.
fn len_u64(len: usize) -> u64 {
    len as u64
}

/// The leaf hashes in the positions `range`, which callers take from a tree no larger than
/// `leaf_hashes`, so the conversion back to `usize` is lossless and the slice is in bounds.
fn leaves_in(leaf_hashes: &[Hash32], range: std::ops::Range<u64>) -> &[Hash32] {
    &leaf_hashes[range.start as usize..range.end as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_point_is_largest_power_of_two_below() {
        let cases = [(2, 1), (3, 2), (4, 2), (5, 4), (8, 4), (9, 8), (1 << 40, 1 << 39)];
        for (n, k) in cases {
            assert_eq!(split_point(n), k, "split_point({n})");
        }
        assert_eq!(split_point(u64::MAX), 1 << 63);
    }
}
