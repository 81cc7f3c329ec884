//! The ledger's authenticated key-value state: a compressed sparse Merkle tree of depth 256 over
//! SHA-256 key hashes, mapping each key hash to a value hash. Every block commits its root, and
//! anyone holding a root can check a [`Proof`] that a key has a value, or is absent, offline.
//!
//! Guarantees:
//! - The root is a function of the set of (key hash, value hash) pairs alone, never of insertion
//!   order, batching or history; the empty set has root [`Hash32::ZERO`](civic_types::Hash32).
//! - Nodes are content-addressed and immutable: [`update`] only returns new nodes and never
//!   changes or removes old ones, so every historical root stays readable and provable as long as
//!   the store keeps what it was given.
//! - No I/O and no clock: storage is behind [`NodeSource`], and reads check every node's hash, so
//!   a corrupt store yields a [`TreeError`], never a wrong value.
//! - [`Proof::verify`] never panics on untrusted input.
//!
//! Shape: bit `i` of the key hash (most significant bit of byte 0 first) picks the child at depth
//! `i`. A subtree holding one key is that key's leaf, at whatever depth it is reached, so paths
//! are about log2(keys) long. See [`node`] for the hashed encoding.

pub mod node;
pub mod proof;
pub mod tree;

pub use node::{NODE_ENCODED_LEN, Node};
pub use proof::{PathEnd, Proof, ProofError};
pub use tree::{NodeSource, TREE_DEPTH, TreeError, Update, get, prove, update};
