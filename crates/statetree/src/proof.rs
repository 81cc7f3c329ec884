//! Proofs that a key has a given value, or is absent, under a state root. Verification needs only
//! the proof, the root, the key hash and the claimed value hash; it never panics, whatever the
//! proof contains.

use civic_types::Hash32;
use serde::{Deserialize, Serialize};

use crate::node::{Node, bit, common_prefix_bits};
use crate::tree::TREE_DEPTH;

/// What a key's path from the root ends at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PathEnd {
    /// An empty subtree: the key is absent.
    Empty,
    /// A leaf. If its key is the one asked about, this is that key's value; otherwise it is the
    /// only key sharing the path so far, which proves the asked-about key absent.
    Leaf {
        /// The leaf's key hash.
        key_hash: Hash32,
        /// The leaf's value hash.
        value_hash: Hash32,
    },
}

/// A Merkle proof for one key against one state root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proof {
    /// Hashes of the siblings along the key's path, from the root down; at most 256.
    pub siblings: Vec<Hash32>,
    /// What the path ends at, below the last sibling.
    pub end: PathEnd,
}

/// Why a proof does not establish the claim it was checked against.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// More siblings than the tree has levels.
    #[error("the proof has {len} siblings; a state tree proof has at most 256")]
    TooManySiblings {
        /// Number of siblings in the proof.
        len: usize,
    },
    /// The proof shows the key with a different value.
    #[error("the proof shows value {proven} for this key, not the claimed {claimed}")]
    ValueMismatch {
        /// The value in the proof.
        proven: Hash32,
        /// The value claimed.
        claimed: Hash32,
    },
    /// Absence was claimed but the proof shows the key present.
    #[error("the proof shows the key present, not absent")]
    ShowsPresent,
    /// Presence was claimed but the proof shows the key absent.
    #[error("the proof shows the key absent, not present")]
    ShowsAbsent,
    /// The proof's other leaf is not on the key's path, so it says nothing about the key.
    #[error(
        "the proof's leaf {leaf} does not share the key's first {depth} bits; it is a proof for another key"
    )]
    LeafOffPath {
        /// The other leaf's key hash.
        leaf: Hash32,
        /// The depth at which the proof places it.
        depth: usize,
    },
    /// The proof is for another tree, or was altered.
    #[error("the proof leads to root {computed}, not {expected}; it is for another state or was altered")]
    RootMismatch {
        /// The root the proof was checked against.
        expected: Hash32,
        /// The root the proof leads to.
        computed: Hash32,
    },
}

impl Proof {
    /// Largest canonical (BCS) encoding of a valid proof: a 2-byte length, 256 siblings, a
    /// one-byte tag and a leaf. Pass it to [`civic_types::decode`] when reading untrusted proofs.
    pub const MAX_ENCODED_LEN: usize = 2 + TREE_DEPTH * 32 + 1 + 64;

    /// Checks that under `root`, `key_hash` has value `value_hash` (`Some`) or is absent (`None`).
    pub fn verify(
        &self,
        root: &Hash32,
        key_hash: &Hash32,
        value_hash: Option<&Hash32>,
    ) -> Result<(), ProofError> {
        let depth = self.siblings.len();
        if depth > TREE_DEPTH {
            return Err(ProofError::TooManySiblings { len: depth });
        }
        let mut hash = match self.end {
            PathEnd::Empty => {
                if value_hash.is_some() {
                    return Err(ProofError::ShowsAbsent);
                }
                Hash32::ZERO
            }
            PathEnd::Leaf { key_hash: leaf_key, value_hash: leaf_value } => {
                if leaf_key == *key_hash {
                    match value_hash {
                        None => return Err(ProofError::ShowsPresent),
                        Some(v) if *v != leaf_value => {
                            return Err(ProofError::ValueMismatch { proven: leaf_value, claimed: *v });
                        }
                        Some(_) => {}
                    }
                } else {
                    if value_hash.is_some() {
                        return Err(ProofError::ShowsAbsent);
                    }
                    if common_prefix_bits(&leaf_key, key_hash) < depth {
                        return Err(ProofError::LeafOffPath { leaf: leaf_key, depth });
                    }
                }
                Node::Leaf { key_hash: leaf_key, value_hash: leaf_value }.hash()
            }
        };
        for (level, sibling) in self.siblings.iter().enumerate().rev() {
            let node = if bit(key_hash, level) {
                Node::Internal { left: *sibling, right: hash }
            } else {
                Node::Internal { left: hash, right: *sibling }
            };
            hash = node.hash();
        }
        if hash != *root {
            return Err(ProofError::RootMismatch { expected: *root, computed: hash });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn empty_tree_proves_absence_only() {
        let proof = Proof { siblings: vec![], end: PathEnd::Empty };
        let k = Hash32([1; 32]);
        assert_eq!(proof.verify(&Hash32::ZERO, &k, None), Ok(()));
        assert_eq!(proof.verify(&Hash32::ZERO, &k, Some(&k)), Err(ProofError::ShowsAbsent));
        assert!(matches!(proof.verify(&Hash32([2; 32]), &k, None), Err(ProofError::RootMismatch { .. })));
    }

    #[test]
    fn too_many_siblings_are_rejected() {
        let proof = Proof { siblings: vec![Hash32::ZERO; 257], end: PathEnd::Empty };
        assert_eq!(
            proof.verify(&Hash32::ZERO, &Hash32::ZERO, None),
            Err(ProofError::TooManySiblings { len: 257 })
        );
    }

    #[test]
    fn max_encoded_len_is_exact() {
        let proof = Proof {
            siblings: vec![Hash32([0xff; 32]); TREE_DEPTH],
            end: PathEnd::Leaf { key_hash: Hash32([1; 32]), value_hash: Hash32([2; 32]) },
        };
        let bytes = civic_types::encode(&proof);
        assert_eq!(bytes.len(), Proof::MAX_ENCODED_LEN);
        assert_eq!(civic_types::decode::<Proof>(&bytes, Proof::MAX_ENCODED_LEN).unwrap(), proof);
    }

    #[test]
    fn a_leaf_off_the_path_does_not_prove_absence() {
        // A non-canonical tree whose left child is a leaf for a key starting with a 1 bit. The
        // leaf's hash does not commit to its position, so only the prefix check rejects this.
        let off = Hash32([0x80; 32]);
        let leaf = Node::Leaf { key_hash: off, value_hash: Hash32([2; 32]) };
        let sibling = Hash32([3; 32]);
        let root = Node::Internal { left: leaf.hash(), right: sibling }.hash();
        let proof = Proof {
            siblings: vec![sibling],
            end: PathEnd::Leaf { key_hash: off, value_hash: Hash32([2; 32]) },
        };
        let key = Hash32([0x00; 32]);
        assert_eq!(proof.verify(&root, &key, None), Err(ProofError::LeafOffPath { leaf: off, depth: 1 }));
    }

    proptest! {
        #[test]
        fn arbitrary_proofs_never_panic(
            siblings in proptest::collection::vec(any::<[u8; 32]>().prop_map(Hash32), 0..300),
            end in prop_oneof![
                Just(PathEnd::Empty),
                (any::<[u8; 32]>(), any::<[u8; 32]>())
                    .prop_map(|(k, v)| PathEnd::Leaf { key_hash: Hash32(k), value_hash: Hash32(v) }),
            ],
            root in any::<[u8; 32]>(),
            key in any::<[u8; 32]>(),
            value in any::<Option<[u8; 32]>>(),
        ) {
            let proof = Proof { siblings, end };
            let value = value.map(Hash32);
            prop_assert!(proof.verify(&Hash32(root), &Hash32(key), value.as_ref()).is_err());
        }
    }
}
