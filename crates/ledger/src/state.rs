//! Reading and writing ledger state during execution, and committing writes to the sparse Merkle
//! state root.
//!
//! State is a map from byte keys (`<module>/<kind>/<id>`, keyed by application and subject so it
//! can be split later) to canonical bytes. The tree commits `sha256(key) -> sha256(value)`; value
//! bytes are stored content-addressed beside the tree nodes, so any historical value is provable.

use std::collections::BTreeMap;

use civic_types::{CodecError, Hash32, decode, encode, sha256};
use serde::{Serialize, de::DeserializeOwned};

/// Largest state value.
pub const MAX_VALUE_BYTES: usize = 1024 * 1024;

/// A storage failure while reading state. Fatal: the node must stop rather than diverge.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("state storage failed: {0}")]
pub struct StateError(pub String);

/// Read access to committed state. Implemented by the node over its store.
pub trait StateRead {
    /// The latest committed value of `key`.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError>;
    /// A content-addressed object (state tree node or value bytes) by hash.
    fn object(&self, hash: &Hash32) -> Result<Option<Vec<u8>>, StateError>;
}

/// An in-memory [`StateRead`], for tests and tools.
#[derive(Default, Debug, Clone)]
pub struct MemState {
    /// Latest values.
    pub values: BTreeMap<Vec<u8>, Vec<u8>>,
    /// Content-addressed objects.
    pub objects: BTreeMap<Hash32, Vec<u8>>,
}

impl MemState {
    /// Applies a committed block's writes and objects.
    pub fn apply(&mut self, writes: &BTreeMap<Vec<u8>, Option<Vec<u8>>>, objects: &[(Hash32, Vec<u8>)]) {
        for (k, v) in writes {
            match v {
                Some(v) => self.values.insert(k.clone(), v.clone()),
                None => self.values.remove(k),
            };
        }
        for (h, b) in objects {
            self.objects.insert(*h, b.clone());
        }
    }
}

impl StateRead for MemState {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.values.get(key).cloned())
    }
    fn object(&self, hash: &Hash32) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.objects.get(hash).cloned())
    }
}

struct Nodes<'a>(&'a dyn StateRead);

impl civic_statetree::NodeSource for Nodes<'_> {
    type Error = StateError;
    fn node(&self, hash: &Hash32) -> Result<Option<Vec<u8>>, StateError> {
        self.0.object(hash)
    }
}

/// The new state root after `writes`, and every object (tree nodes and value bytes) to store.
pub fn commit_writes(
    base: &dyn StateRead,
    prev_root: Hash32,
    writes: &BTreeMap<Vec<u8>, Option<Vec<u8>>>,
) -> Result<(Hash32, Vec<(Hash32, Vec<u8>)>), StateError> {
    let mut changes = BTreeMap::new();
    let mut objects = Vec::new();
    for (k, v) in writes {
        let vh = v.as_ref().map(|v| {
            let h = sha256(v);
            objects.push((h, v.clone()));
            h
        });
        changes.insert(sha256(k), vh);
    }
    let update =
        civic_statetree::update(&Nodes(base), prev_root, &changes).map_err(|e| StateError(e.to_string()))?;
    objects.extend(update.new_nodes);
    Ok((update.root, objects))
}

/// A proof of a key's value (or absence) against a state root, with the value bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct StateProof {
    /// The raw key.
    pub key: Vec<u8>,
    /// The value bytes at that root, if present.
    pub value: Option<Vec<u8>>,
    /// Sparse Merkle proof for `sha256(key)`.
    pub proof: civic_statetree::Proof,
}

impl StateProof {
    /// Checks the proof against `root`.
    pub fn verify(&self, root: &Hash32) -> Result<(), civic_statetree::ProofError> {
        let vh = self.value.as_ref().map(|v| sha256(v));
        self.proof.verify(root, &sha256(&self.key), vh.as_ref())
    }
}

/// Proves `key`'s value at the state `root` (any historical root whose nodes are stored).
pub fn prove(base: &dyn StateRead, root: Hash32, key: &[u8]) -> Result<StateProof, StateError> {
    let kh = sha256(key);
    let nodes = Nodes(base);
    let proof = civic_statetree::prove(&nodes, root, &kh).map_err(|e| StateError(e.to_string()))?;
    let value = match civic_statetree::get(&nodes, root, &kh).map_err(|e| StateError(e.to_string()))? {
        Some(vh) => Some(
            base.object(&vh)?.ok_or_else(|| StateError(format!("value object {vh} missing from store")))?,
        ),
        None => None,
    };
    Ok(StateProof { key: key.to_vec(), value, proof })
}

/// Writes of one block layered over committed state, with a nested layer per transaction so a
/// rejected transaction's writes can be discarded.
pub struct Overlay<'a> {
    base: &'a dyn StateRead,
    // Committed values read during this block. A block touches the same accounts, organizations
    // and nonces many times; reading committed state once per key keeps execution off the store.
    read_cache: std::cell::RefCell<BTreeMap<Vec<u8>, Option<Vec<u8>>>>,
    block: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    tx: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl<'a> Overlay<'a> {
    /// An empty overlay over `base`.
    pub fn new(base: &'a dyn StateRead) -> Self {
        Overlay { base, read_cache: Default::default(), block: BTreeMap::new(), tx: BTreeMap::new() }
    }
    /// Reads through the transaction layer, the block layer, then committed state.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        if let Some(v) = self.tx.get(key) {
            return Ok(v.clone());
        }
        if let Some(v) = self.block.get(key) {
            return Ok(v.clone());
        }
        if let Some(v) = self.read_cache.borrow().get(key) {
            return Ok(v.clone());
        }
        let v = self.base.get(key)?;
        self.read_cache.borrow_mut().insert(key.to_vec(), v.clone());
        Ok(v)
    }
    /// Writes into the transaction layer.
    pub fn put(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
        self.tx.insert(key, value);
    }
    /// Keeps the transaction layer's writes.
    pub fn commit_tx(&mut self) {
        let tx = std::mem::take(&mut self.tx);
        self.block.extend(tx);
    }
    /// Discards the transaction layer's writes.
    pub fn discard_tx(&mut self) {
        self.tx.clear();
    }
    /// The block's writes.
    pub fn into_writes(mut self) -> BTreeMap<Vec<u8>, Option<Vec<u8>>> {
        self.commit_tx();
        self.block
    }
}

/// Decodes a state value.
pub fn decode_value<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    decode(bytes, MAX_VALUE_BYTES)
}

/// Encodes a state value.
pub fn encode_value<T: Serialize>(v: &T) -> Vec<u8> {
    encode(v)
}
