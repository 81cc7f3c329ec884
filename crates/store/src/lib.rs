//! Civic Ledger's embedded storage: the chain (blocks, receipts, transaction locations), the
//! latest state, content-addressed objects and node metadata, behind one [`Store`] trait.
//!
//! The store knows bytes, not ledger types: the ledger encodes, the store keeps. Every change
//! arrives as one [`CommitBatch`] per block, and every backend guarantees:
//!
//! - **Durability on return.** When [`Store::commit`] returns `Ok`, the batch survives `kill -9`
//!   and power loss.
//! - **Atomicity.** A batch is applied whole or not at all, after a crash as well as after a
//!   rejected commit; a reader never sees part of one.
//! - **Consecutive heights.** The first commit is height 0 (the genesis state), each next one the
//!   height after the latest; anything else is rejected with [`StoreError::HeightGap`].
//! - **Concurrent reads.** Reads run while a commit is under way and see the store as of the last
//!   completed commit.
//!
//! Backends: [`RedbStore`] (one crash-safe file in the node's data directory) and
//! [`MemoryStore`] (tests and benchmarks). [`conformance`] is the one suite both must pass.

pub mod conformance;
mod error;
mod memory;
mod redb_store;

use std::sync::Arc;

use civic_types::{Hash32, Height};
use serde::{Deserialize, Serialize};

pub use error::StoreError;
pub use memory::MemoryStore;
pub use redb_store::RedbStore;

/// Where a transaction sits in the chain.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct TxLocation {
    /// Height of the block that includes it.
    pub height: Height,
    /// Position in that block's transaction list.
    pub index: u32,
}

/// Everything one block changes, applied by [`Store::commit`] as one atomic, durable unit.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct CommitBatch {
    /// Height of the block; must be the height after the latest committed one (0 first).
    pub height: Height,
    /// Hash of `block`; must not already be stored.
    pub block_hash: Hash32,
    /// Canonical block bytes.
    pub block: Vec<u8>,
    /// Encoded receipts of the block.
    pub receipts: Vec<u8>,
    /// Hashes of the block's transactions; the position in the vector is the index in the
    /// block. A hash already stored, or repeated in the batch, is rejected.
    pub tx_hashes: Vec<Hash32>,
    /// State changes in order; a later write to the same key wins. `None` deletes the key.
    pub state_writes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    /// Content-addressed objects. Insert-only: writing a hash that is already stored (or earlier
    /// in the batch) is a no-op and keeps the first bytes.
    pub objects: Vec<(Hash32, Vec<u8>)>,
    /// Node metadata; a later write to the same key wins.
    pub meta: Vec<(String, Vec<u8>)>,
}

/// Durable storage for one node.
///
/// Implementers must guarantee:
/// - `commit` is atomic and, when it returns `Ok`, durable against process kill and power loss;
///   when it returns `Err`, nothing of the batch is visible, now or after a restart.
/// - `commit` accepts only consecutive heights, starting at 0, and rejects a batch whose block
///   hash or transaction hashes are already stored; rejections are caller errors
///   ([`StoreError::is_fatal`] is false) and change nothing.
/// - Every read sees a state as of some completed commit, never part of one, and reads may run
///   concurrently with a commit on other threads.
/// - Iteration orders are by raw key bytes, so they are the same on every backend and every
///   machine.
pub trait Store: Send + Sync + 'static {
    /// Atomically and durably applies one block's batch.
    fn commit(&self, batch: CommitBatch) -> Result<(), StoreError>;

    /// Height of the latest commit; `None` before the first.
    fn latest_height(&self) -> Result<Option<Height>, StoreError>;

    /// Canonical block bytes at `height`.
    fn block(&self, height: Height) -> Result<Option<Vec<u8>>, StoreError>;

    /// Height of the block with this hash.
    fn block_hash_height(&self, hash: &Hash32) -> Result<Option<Height>, StoreError>;

    /// Encoded receipts of the block at `height`.
    fn receipts(&self, height: Height) -> Result<Option<Vec<u8>>, StoreError>;

    /// Where the transaction with this hash was included.
    fn tx_location(&self, tx_hash: &Hash32) -> Result<Option<TxLocation>, StoreError>;

    /// Latest value of a state key.
    fn state_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// Up to `limit` state entries whose key starts with `prefix`, in ascending key order,
    /// starting after the key `start_after` when given (pass the last key of the previous page).
    /// All entries come from one commit.
    fn state_range(
        &self,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>, StoreError>;

    /// A content-addressed object (state tree node, value) by hash.
    fn object(&self, hash: &Hash32) -> Result<Option<Vec<u8>>, StoreError>;

    /// A node metadata value.
    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
}

impl<T: Store + ?Sized> Store for Arc<T> {
    fn commit(&self, batch: CommitBatch) -> Result<(), StoreError> {
        (**self).commit(batch)
    }
    fn latest_height(&self) -> Result<Option<Height>, StoreError> {
        (**self).latest_height()
    }
    fn block(&self, height: Height) -> Result<Option<Vec<u8>>, StoreError> {
        (**self).block(height)
    }
    fn block_hash_height(&self, hash: &Hash32) -> Result<Option<Height>, StoreError> {
        (**self).block_hash_height(hash)
    }
    fn receipts(&self, height: Height) -> Result<Option<Vec<u8>>, StoreError> {
        (**self).receipts(height)
    }
    fn tx_location(&self, tx_hash: &Hash32) -> Result<Option<TxLocation>, StoreError> {
        (**self).tx_location(tx_hash)
    }
    fn state_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        (**self).state_get(key)
    }
    fn state_range(
        &self,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>, StoreError> {
        (**self).state_range(prefix, start_after, limit)
    }
    fn object(&self, hash: &Hash32) -> Result<Option<Vec<u8>>, StoreError> {
        (**self).object(hash)
    }
    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        (**self).meta(key)
    }
}

/// The height a store expects next, given its latest one.
fn next_height(latest: Option<Height>) -> Result<Height, StoreError> {
    match latest {
        None => Ok(Height::new(0)),
        Some(h) => h
            .checked_next()
            .ok_or_else(|| StoreError::Backend(format!("height {h} is the last representable"))),
    }
}

/// Checks a batch's height against the height the store expects.
fn check_height(expected: Height, got: Height) -> Result<(), StoreError> {
    if expected == got { Ok(()) } else { Err(StoreError::HeightGap { expected, got }) }
}

/// A transaction's index in its block, which the store keeps as a `u32`.
fn tx_index(index: usize, count: usize) -> Result<u32, StoreError> {
    u32::try_from(index).map_err(|_| StoreError::TooManyTxs { count })
}

/// Where a paged prefix scan starts: just after `start_after` when it lies at or beyond the
/// prefix, otherwise at the prefix itself.
fn scan_start<'a>(prefix: &'a [u8], start_after: Option<&'a [u8]>) -> std::ops::Bound<&'a [u8]> {
    match start_after {
        Some(after) if after >= prefix => std::ops::Bound::Excluded(after),
        _ => std::ops::Bound::Included(prefix),
    }
}
