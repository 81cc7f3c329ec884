//! Tree nodes and their canonical encoding. A node's hash is the SHA-256 of its encoding, so the
//! encoding is part of the on-chain format: a leaf is `0x00 ‖ key_hash ‖ value_hash` and an
//! internal node is `0x01 ‖ left ‖ right` (65 bytes each; the tag is the BCS variant index). The
//! empty subtree is not a node: it is never stored and its hash is [`Hash32::ZERO`].

use civic_types::{CodecError, Hash32, decode, encode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Length of every encoded node: a one-byte tag and two hashes.
pub const NODE_ENCODED_LEN: usize = 65;

/// First byte of a leaf's encoding (its BCS variant index).
const LEAF_TAG: u8 = 0x00;
/// First byte of an internal node's encoding (its BCS variant index).
const INTERNAL_TAG: u8 = 0x01;

/// A stored node of the state tree.
///
/// The tree is compressed: a subtree holding exactly one key is that key's leaf, wherever it
/// sits, and an internal node always has at least two keys below it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Node {
    /// The only key in its subtree, with its value.
    Leaf {
        /// SHA-256 of the raw key; its bits, most significant first, are the path from the root.
        key_hash: Hash32,
        /// SHA-256 of the value bytes, which live elsewhere.
        value_hash: Hash32,
    },
    /// A subtree with at least two keys. A child of [`Hash32::ZERO`] is empty.
    Internal {
        /// Hash of the subtree whose keys have a 0 bit at this depth.
        left: Hash32,
        /// Hash of the subtree whose keys have a 1 bit at this depth.
        right: Hash32,
    },
}

impl Node {
    /// The canonical encoding, [`NODE_ENCODED_LEN`] bytes.
    pub fn encode(&self) -> Vec<u8> {
        encode(self)
    }

    /// Decodes a node, rejecting anything that is not exactly a canonical encoding and internal
    /// nodes with two empty children (which a compressed tree never contains).
    pub fn decode(bytes: &[u8]) -> Result<Node, CodecError> {
        let node: Node = decode(bytes, NODE_ENCODED_LEN)?;
        if let Node::Internal { left: Hash32::ZERO, right: Hash32::ZERO } = node {
            return Err(CodecError::Malformed("internal node with two empty children".into()));
        }
        Ok(node)
    }

    /// SHA-256 of the canonical encoding; the node's address in a [`crate::NodeSource`].
    pub fn hash(&self) -> Hash32 {
        // Streams the encoding's three parts into the hasher: proof checking hashes up to 256
        // nodes, and going through the serializer would allocate and copy for each.
        let (tag, a, b) = match self {
            Node::Leaf { key_hash, value_hash } => (LEAF_TAG, key_hash, value_hash),
            Node::Internal { left, right } => (INTERNAL_TAG, left, right),
        };
        let mut hasher = Sha256::new();
        hasher.update([tag]);
        hasher.update(a.0);
        hasher.update(b.0);
        Hash32(hasher.finalize().into())
    }
}

/// Bit `index` (0..256) of `key`, most significant bit of byte 0 first; `true` means "go right".
pub(crate) fn bit(key: &Hash32, index: usize) -> bool {
    (key.0[index / 8] >> (7 - index % 8)) & 1 == 1
}

/// How many leading bits `a` and `b` share (256 when equal).
pub(crate) fn common_prefix_bits(a: &Hash32, b: &Hash32) -> usize {
    for (i, (x, y)) in a.0.iter().zip(b.0.iter()).enumerate() {
        let diff = x ^ y;
        if diff != 0 {
            return i * 8 + diff.leading_zeros() as usize;
        }
    }
    256
}

#[cfg(test)]
mod tests {
    use super::*;
    use civic_types::sha256;
    use proptest::prelude::*;

    fn h(b: u8) -> Hash32 {
        Hash32([b; 32])
    }

    #[test]
    fn encoding_is_tag_then_two_hashes() {
        let leaf = Node::Leaf { key_hash: h(0xaa), value_hash: h(0xbb) };
        let mut expected = vec![0x00];
        expected.extend([0xaa; 32]);
        expected.extend([0xbb; 32]);
        assert_eq!(leaf.encode(), expected);
        assert_eq!(leaf.hash(), sha256(&expected));

        let internal = Node::Internal { left: h(0x11), right: Hash32::ZERO };
        let mut expected = vec![0x01];
        expected.extend([0x11; 32]);
        expected.extend([0x00; 32]);
        assert_eq!(internal.encode(), expected);
        assert_eq!(internal.hash(), sha256(&expected));
    }

    #[test]
    fn decode_rejects_non_canonical_bytes() {
        let leaf = Node::Leaf { key_hash: h(1), value_hash: h(2) }.encode();
        assert!(Node::decode(&leaf[..64]).is_err());
        let mut long = leaf.clone();
        long.push(0);
        assert!(matches!(Node::decode(&long), Err(CodecError::TooLarge { .. })));
        let mut bad_tag = leaf;
        bad_tag[0] = 2;
        assert!(Node::decode(&bad_tag).is_err());
        let both_empty = Node::Internal { left: Hash32::ZERO, right: Hash32::ZERO }.encode();
        assert!(Node::decode(&both_empty).is_err());
    }

    #[test]
    fn bits_are_most_significant_first() {
        let mut k = Hash32::ZERO;
        k.0[0] = 0b1000_0000;
        k.0[31] = 0b0000_0001;
        assert!(bit(&k, 0));
        assert!(!bit(&k, 1));
        assert!(bit(&k, 255));
        assert!(!bit(&k, 254));
        assert_eq!(common_prefix_bits(&k, &Hash32::ZERO), 0);
        assert_eq!(common_prefix_bits(&k, &k), 256);
        let mut j = k;
        j.0[31] = 0;
        assert_eq!(common_prefix_bits(&k, &j), 255);
    }

    proptest! {
        #[test]
        fn round_trip(tag in any::<bool>(), a in any::<[u8; 32]>(), b in any::<[u8; 32]>()) {
            let node = if tag {
                Node::Leaf { key_hash: Hash32(a), value_hash: Hash32(b) }
            } else {
                Node::Internal { left: Hash32(a), right: Hash32(b) }
            };
            let bytes = node.encode();
            prop_assert_eq!(bytes.len(), NODE_ENCODED_LEN);
            prop_assert_eq!(node.hash(), sha256(&bytes));
            prop_assert_eq!(Node::decode(&bytes).unwrap(), node);
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            let _ = Node::decode(&bytes);
        }
    }
}
