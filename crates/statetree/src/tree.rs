//! Reading and updating the tree through a [`NodeSource`]. Updates never modify or delete a node:
//! they return the nodes a batch created, and the caller stores them next to the old ones.

use std::collections::BTreeMap;
use std::convert::Infallible;

use civic_types::{CodecError, Hash32, sha256};

use crate::node::{Node, bit, common_prefix_bits};
use crate::proof::{PathEnd, Proof};

/// Depth of the tree: one level per bit of a key hash.
pub const TREE_DEPTH: usize = 256;

/// Where the tree's nodes are kept, addressed by hash.
///
/// Implementers must return the bytes that were stored under `hash` (as produced by
/// [`Update::new_nodes`]), or `None` if there are none. Nodes are immutable, so a store may cache
/// them freely. The tree checks that returned bytes hash to `hash` and decode canonically, so a
/// corrupt store yields an error, never a wrong answer.
pub trait NodeSource {
    /// Why the store could not be read.
    type Error;

    /// The encoded node whose SHA-256 is `hash`, if the store has it.
    fn node(&self, hash: &Hash32) -> Result<Option<Vec<u8>>, Self::Error>;
}

impl NodeSource for BTreeMap<Hash32, Vec<u8>> {
    type Error = Infallible;

    fn node(&self, hash: &Hash32) -> Result<Option<Vec<u8>>, Infallible> {
        Ok(self.get(hash).cloned())
    }
}

impl<S: NodeSource + ?Sized> NodeSource for &S {
    type Error = S::Error;

    fn node(&self, hash: &Hash32) -> Result<Option<Vec<u8>>, S::Error> {
        (**self).node(hash)
    }
}

/// Why the tree could not be read or updated. Every variant except `Storage` means the node store
/// does not hold a valid tree under the given root: it is incomplete or corrupt, or the root is
/// not one this ledger committed. None of them is caused by the keys or values passed in.
#[derive(Debug, thiserror::Error)]
pub enum TreeError<E> {
    /// A node reachable from the root is not in the store.
    #[error(
        "state tree node {0} is missing from the node store; the store is incomplete, or the root was never committed"
    )]
    MissingNode(Hash32),
    /// The store itself failed.
    #[error("reading a state tree node failed: {0}")]
    Storage(E),
    /// The store returned bytes that do not hash to the address they were requested by.
    #[error("the node store returned bytes hashing to {actual} for node {expected}; the store is corrupt")]
    HashMismatch {
        /// The address requested.
        expected: Hash32,
        /// SHA-256 of the bytes returned.
        actual: Hash32,
    },
    /// The stored bytes are not a canonical node encoding.
    #[error("state tree node {hash} is malformed; the store is corrupt: {source}")]
    MalformedNode {
        /// The node's address.
        hash: Hash32,
        /// What is wrong with its bytes.
        source: CodecError,
    },
    /// The nodes decode but do not form a valid tree.
    #[error(
        "state tree node {hash} is misplaced ({reason}); the store does not hold a valid tree under this root"
    )]
    InvalidStructure {
        /// The offending node.
        hash: Hash32,
        /// What is wrong.
        reason: &'static str,
    },
}

/// The result of [`update`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Update {
    /// The root after the batch.
    pub root: Hash32,
    /// Every node the batch created, as `(hash, encoding)`, each once. Storing them all (and
    /// keeping the old ones) makes both the new root and every earlier root readable.
    pub new_nodes: Vec<(Hash32, Vec<u8>)>,
}

/// Applies a batch of changes to the tree under `root`: `Some(value_hash)` inserts or overwrites
/// `key_hash`, `None` deletes it (deleting an absent key is a no-op).
///
/// The batch is applied in one descent that splits the sorted changes by key bit, so every node
/// on a changed path is read once and every new node hashed once. The resulting root depends only
/// on the resulting set of keys and values. An empty or no-op batch creates no nodes.
pub fn update<S: NodeSource>(
    src: &S,
    root: Hash32,
    changes: &BTreeMap<Hash32, Option<Hash32>>,
) -> Result<Update, TreeError<S::Error>> {
    let changes: Vec<(Hash32, Option<Hash32>)> = changes.iter().map(|(k, v)| (*k, *v)).collect();
    let mut batch = Batch { src, new_nodes: Vec::new() };
    let root = batch.update(root, 0, &changes)?.hash();
    Ok(Update { root, new_nodes: batch.new_nodes })
}

/// The value hash stored under `key_hash` in the tree with root `root`, if any.
pub fn get<S: NodeSource>(
    src: &S,
    root: Hash32,
    key_hash: &Hash32,
) -> Result<Option<Hash32>, TreeError<S::Error>> {
    Ok(match walk(src, root, key_hash, |_| {})? {
        PathEnd::Leaf { key_hash: k, value_hash } if k == *key_hash => Some(value_hash),
        _ => None,
    })
}

/// A proof of what the tree with root `root` holds under `key_hash`: its value, or that it is
/// absent. Check it with [`Proof::verify`].
pub fn prove<S: NodeSource>(src: &S, root: Hash32, key_hash: &Hash32) -> Result<Proof, TreeError<S::Error>> {
    let mut siblings = Vec::new();
    let end = walk(src, root, key_hash, |s| siblings.push(s))?;
    Ok(Proof { siblings, end })
}

/// Follows `key_hash`'s path from `root` to an empty subtree or a leaf, reporting each sibling
/// from the root down. Returns what the path ends at.
fn walk<S: NodeSource>(
    src: &S,
    root: Hash32,
    key_hash: &Hash32,
    mut on_sibling: impl FnMut(Hash32),
) -> Result<PathEnd, TreeError<S::Error>> {
    let mut hash = root;
    for depth in 0..=TREE_DEPTH {
        if hash == Hash32::ZERO {
            return Ok(PathEnd::Empty);
        }
        match load(src, &hash)? {
            Node::Leaf { key_hash: k, value_hash } => {
                if common_prefix_bits(&k, key_hash) < depth {
                    return Err(off_path(hash));
                }
                return Ok(PathEnd::Leaf { key_hash: k, value_hash });
            }
            Node::Internal { left, right } => {
                if depth == TREE_DEPTH {
                    break;
                }
                let (next, sibling) = if bit(key_hash, depth) { (right, left) } else { (left, right) };
                on_sibling(sibling);
                hash = next;
            }
        }
    }
    Err(too_deep(hash))
}

fn off_path<E>(hash: Hash32) -> TreeError<E> {
    TreeError::InvalidStructure { hash, reason: "leaf is not on its key's path" }
}

fn too_deep<E>(hash: Hash32) -> TreeError<E> {
    TreeError::InvalidStructure { hash, reason: "internal node below depth 256" }
}

/// Reads and checks one node.
fn load<S: NodeSource>(src: &S, hash: &Hash32) -> Result<Node, TreeError<S::Error>> {
    let bytes = src.node(hash).map_err(TreeError::Storage)?.ok_or(TreeError::MissingNode(*hash))?;
    let actual = sha256(&bytes);
    if actual != *hash {
        return Err(TreeError::HashMismatch { expected: *hash, actual });
    }
    Node::decode(&bytes).map_err(|source| TreeError::MalformedNode { hash: *hash, source })
}

/// A subtree produced during an update, with as much as is known about its kind; the kind decides
/// whether a parent collapses onto it.
#[derive(Clone, Copy)]
enum Sub {
    Empty,
    Leaf(Hash32),
    Internal(Hash32),
    /// An unchanged, non-empty subtree that was not read.
    Untouched(Hash32),
}

impl Sub {
    fn hash(self) -> Hash32 {
        match self {
            Sub::Empty => Hash32::ZERO,
            Sub::Leaf(h) | Sub::Internal(h) | Sub::Untouched(h) => h,
        }
    }
}

/// A leaf to place while building a subtree: key, value, and whether its node is new (a leaf
/// already in the tree keeps its hash when it moves, so it is not emitted again).
type Placed = (Hash32, Hash32, bool);

struct Batch<'a, S> {
    src: &'a S,
    new_nodes: Vec<(Hash32, Vec<u8>)>,
}

impl<S: NodeSource> Batch<'_, S> {
    /// Applies `changes` (sorted, distinct keys, all sharing the first `depth` bits, which are
    /// this subtree's path) to the subtree `hash` at `depth`.
    fn update(
        &mut self,
        hash: Hash32,
        depth: usize,
        changes: &[(Hash32, Option<Hash32>)],
    ) -> Result<Sub, TreeError<S::Error>> {
        let Some((path, _)) = changes.first() else {
            return Ok(if hash == Hash32::ZERO { Sub::Empty } else { Sub::Untouched(hash) });
        };
        if hash == Hash32::ZERO {
            let leaves: Vec<Placed> = changes.iter().filter_map(|(k, v)| v.map(|v| (*k, v, true))).collect();
            return Ok(self.build(&leaves, depth));
        }
        match load(self.src, &hash)? {
            Node::Leaf { key_hash, value_hash } => {
                if common_prefix_bits(&key_hash, path) < depth {
                    return Err(off_path(hash));
                }
                let mut leaves = Vec::with_capacity(changes.len() + 1);
                let mut existing_seen = false;
                for (k, v) in changes {
                    if !existing_seen && *k > key_hash {
                        leaves.push((key_hash, value_hash, false));
                        existing_seen = true;
                    }
                    if *k == key_hash {
                        existing_seen = true;
                    }
                    if let Some(v) = v {
                        let is_new = *k != key_hash || *v != value_hash;
                        leaves.push((*k, *v, is_new));
                    }
                }
                if !existing_seen {
                    leaves.push((key_hash, value_hash, false));
                }
                Ok(self.build(&leaves, depth))
            }
            Node::Internal { left, right } => {
                if depth == TREE_DEPTH {
                    return Err(too_deep(hash));
                }
                let split = changes.partition_point(|(k, _)| !bit(k, depth));
                let new_left = self.update(left, depth + 1, &changes[..split])?;
                let new_right = self.update(right, depth + 1, &changes[split..])?;
                if new_left.hash() == left && new_right.hash() == right {
                    return Ok(Sub::Internal(hash));
                }
                self.join(new_left, new_right)
            }
        }
    }

    /// The subtree with children `left` and `right`, collapsed onto a lone leaf if that is all
    /// that remains.
    fn join(&mut self, left: Sub, right: Sub) -> Result<Sub, TreeError<S::Error>> {
        let only = match (left, right) {
            (Sub::Empty, Sub::Empty) => return Ok(Sub::Empty),
            (Sub::Empty, only) | (only, Sub::Empty) => Some(only),
            _ => None,
        };
        match only {
            Some(Sub::Leaf(h)) => return Ok(Sub::Leaf(h)),
            Some(Sub::Untouched(h)) => {
                if let Node::Leaf { .. } = load(self.src, &h)? {
                    return Ok(Sub::Leaf(h));
                }
            }
            _ => {}
        }
        Ok(Sub::Internal(self.emit(Node::Internal { left: left.hash(), right: right.hash() })))
    }

    /// Builds the subtree at `depth` holding exactly `leaves` (sorted, distinct keys sharing the
    /// first `depth` bits).
    fn build(&mut self, leaves: &[Placed], depth: usize) -> Sub {
        match leaves {
            [] => Sub::Empty,
            [(key_hash, value_hash, is_new)] => {
                let node = Node::Leaf { key_hash: *key_hash, value_hash: *value_hash };
                Sub::Leaf(if *is_new { self.emit(node) } else { node.hash() })
            }
            _ => {
                // Two distinct keys differ at some bit in depth..256, so depth < 256 here.
                let split = leaves.partition_point(|(k, _, _)| !bit(k, depth));
                let left = self.build(&leaves[..split], depth + 1).hash();
                let right = self.build(&leaves[split..], depth + 1).hash();
                Sub::Internal(self.emit(Node::Internal { left, right }))
            }
        }
    }

    fn emit(&mut self, node: Node) -> Hash32 {
        let hash = node.hash();
        self.new_nodes.push((hash, node.encode()));
        hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Store = BTreeMap<Hash32, Vec<u8>>;

    fn key(byte0: u8) -> Hash32 {
        let mut k = Hash32([0x55; 32]);
        k.0[0] = byte0;
        k
    }

    fn apply(store: &mut Store, root: Hash32, changes: &[(Hash32, Option<Hash32>)]) -> Update {
        let update = update(store, root, &changes.iter().copied().collect()).unwrap();
        store.extend(update.new_nodes.iter().cloned());
        update
    }

    #[test]
    fn empty_tree_has_zero_root_and_no_keys() {
        let store = Store::new();
        assert_eq!(get(&store, Hash32::ZERO, &key(1)).unwrap(), None);
        let up = update(&store, Hash32::ZERO, &BTreeMap::new()).unwrap();
        assert_eq!(up, Update { root: Hash32::ZERO, new_nodes: vec![] });
    }

    #[test]
    fn single_key_tree_is_its_leaf() {
        let mut store = Store::new();
        let up = apply(&mut store, Hash32::ZERO, &[(key(1), Some(key(9)))]);
        let leaf = Node::Leaf { key_hash: key(1), value_hash: key(9) };
        assert_eq!(up.root, leaf.hash());
        assert_eq!(up.new_nodes, vec![(leaf.hash(), leaf.encode())]);
    }

    #[test]
    fn no_op_batches_create_no_nodes() {
        let mut store = Store::new();
        let a = (key(0x00), Some(key(1)));
        let b = (key(0x80), Some(key(2)));
        let root = apply(&mut store, Hash32::ZERO, &[a, b]).root;
        let again = apply(&mut store, root, &[a, (key(0x40), None)]);
        assert_eq!(again, Update { root, new_nodes: vec![] });
    }

    #[test]
    fn a_leaf_that_moves_up_is_not_emitted_again() {
        let mut store = Store::new();
        let root = apply(
            &mut store,
            Hash32::ZERO,
            &[(key(0x00), Some(key(1))), (key(0x01), Some(key(2))), (key(0x80), Some(key(3)))],
        )
        .root;
        let up = apply(&mut store, root, &[(key(0x01), None)]);
        // The root now joins the two remaining leaves directly; only that root node is new.
        assert_eq!(up.new_nodes.len(), 1);
        let expected = Node::Internal {
            left: Node::Leaf { key_hash: key(0x00), value_hash: key(1) }.hash(),
            right: Node::Leaf { key_hash: key(0x80), value_hash: key(3) }.hash(),
        };
        assert_eq!(up.root, expected.hash());
    }

    #[test]
    fn missing_node_is_reported() {
        let mut store = Store::new();
        let root = apply(&mut store, Hash32::ZERO, &[(key(0), Some(key(1))), (key(0x80), None)]).root;
        let empty = Store::new();
        assert!(matches!(get(&empty, root, &key(0)), Err(TreeError::MissingNode(h)) if h == root));
        assert!(matches!(prove(&empty, root, &key(0)), Err(TreeError::MissingNode(_))));
        let changes = [(key(0x80), Some(key(2)))].into_iter().collect();
        assert!(matches!(update(&empty, root, &changes), Err(TreeError::MissingNode(_))));
    }

    #[test]
    fn corrupt_bytes_are_reported() {
        let leaf = Node::Leaf { key_hash: key(0), value_hash: key(1) };
        let root = leaf.hash();
        let mut store = Store::new();
        store.insert(root, Node::Leaf { key_hash: key(0), value_hash: key(2) }.encode());
        assert!(matches!(get(&store, root, &key(0)), Err(TreeError::HashMismatch { .. })));

        let garbage = vec![7u8; 10];
        let garbage_hash = sha256(&garbage);
        store.insert(garbage_hash, garbage);
        assert!(matches!(
            get(&store, garbage_hash, &key(0)),
            Err(TreeError::MalformedNode { hash, .. }) if hash == garbage_hash
        ));
    }

    #[test]
    fn leaf_off_its_path_is_reported() {
        // A root whose left child is a leaf for a key that goes right.
        let mut store = Store::new();
        let leaf = Node::Leaf { key_hash: key(0x80), value_hash: key(1) };
        let other = Node::Leaf { key_hash: key(0x81), value_hash: key(1) };
        let root = Node::Internal { left: leaf.hash(), right: other.hash() };
        for n in [leaf, other, root] {
            store.insert(n.hash(), n.encode());
        }
        let err = get(&store, root.hash(), &key(0x00)).unwrap_err();
        assert!(matches!(err, TreeError::InvalidStructure { .. }), "{err}");
        let changes = [(key(0x01), None)].into_iter().collect();
        assert!(matches!(update(&store, root.hash(), &changes), Err(TreeError::InvalidStructure { .. })));
    }

    #[test]
    fn chains_deeper_than_256_are_rejected_without_panicking() {
        let mut store = Store::new();
        let mut hash = Node::Leaf { key_hash: Hash32::ZERO, value_hash: key(1) }.hash();
        store.insert(hash, Node::Leaf { key_hash: Hash32::ZERO, value_hash: key(1) }.encode());
        for _ in 0..=TREE_DEPTH {
            let node = Node::Internal { left: hash, right: key(3) };
            hash = node.hash();
            store.insert(hash, node.encode());
        }
        assert!(matches!(get(&store, hash, &Hash32::ZERO), Err(TreeError::InvalidStructure { .. })));
        assert!(matches!(prove(&store, hash, &Hash32::ZERO), Err(TreeError::InvalidStructure { .. })));
        let changes = [(Hash32::ZERO, None)].into_iter().collect();
        assert!(matches!(update(&store, hash, &changes), Err(TreeError::InvalidStructure { .. })));
    }
}
