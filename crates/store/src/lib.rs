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
//! Beside the chain, a node keeps **off-chain private data** (residents' personal attribute values
//! and salts a department holds on its own node): [`Store::private_put`] writes them,
//! [`Store::private_get`] reads one key and [`Store::private_range`] reads them in key order, a
//! prefix and a page at a time, exactly as [`Store::state_range`] reads the state. Private entries
//! are never part of a block, the state, the objects or the metadata; no chain read returns them
//! and no private read returns chain data. They are written independently of heights, with the
//! same atomicity and durability as a commit.
//!
//! Backends: [`RedbStore`] (one crash-safe file in the node's data directory, a copy-on-write
//! B-tree), [`FjallStore`] (a directory of its own, an LSM tree: commits stay fast as the chain
//! grows, because random keys are written sequentially) and [`MemoryStore`] (tests and
//! benchmarks). [`conformance`] is the one suite all must pass.

pub mod conformance;
mod error;
mod fjall_store;
mod memory;
mod redb_store;

use std::sync::Arc;

use civic_types::{Hash32, Height};
use serde::{Deserialize, Serialize};

pub use error::StoreError;
pub use fjall_store::FjallStore;
pub use memory::MemoryStore;
pub use redb_store::RedbStore;

/// The longest state or metadata key a store keeps, in bytes. Every backend refuses a batch with
/// a longer key ([`StoreError::TooLarge`]), so a block one backend stores is never refused by
/// another; the bound leaves room under the smallest engine limit (fjall's 64 KiB keys).
pub const MAX_KEY_BYTES: usize = 32 * 1024;

/// The largest value (block, receipts, state value, object or metadata value) a store keeps, in
/// bytes; a batch with a larger one is refused like a long key. Far above any block the ledger
/// builds, and under the engines' 4 GiB limits.
pub const MAX_VALUE_BYTES: usize = 1 << 30;

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
    /// State changes in order; a later write to the same key wins. `None` deletes the key. A key
    /// may be empty and at most [`MAX_KEY_BYTES`] long.
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
///   hash or transaction hashes are already stored, or with a key longer than [`MAX_KEY_BYTES`]
///   or a value larger than [`MAX_VALUE_BYTES`]; rejections are caller errors
///   ([`StoreError::is_fatal`] is false) and change nothing.
/// - Every read sees a state as of some completed commit, never part of one, and reads may run
///   concurrently with a commit on other threads.
/// - Iteration orders are by raw key bytes, so they are the same on every backend and every
///   machine.
/// - Private data ([`Store::private_put`]) lives apart from everything a commit writes: no chain
///   read (`state_get`, `state_range`, `object`, `meta`, ...) ever returns a private entry, no
///   private read (`private_get`, `private_range`) returns chain data, and a commit never changes
///   a private entry. A private write is atomic and durable like a commit, needs no
///   height, and may run concurrently with commits and reads.
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

    /// Atomically and durably writes off-chain private entries: when it returns `Ok`, every
    /// entry survives `kill -9` and power loss; when it returns `Err`, none is visible, now or
    /// after a restart. Entries apply in order, so a later write to the same key wins; `None`
    /// deletes the key (deleting an absent key is allowed). A key may be empty and at most
    /// [`MAX_KEY_BYTES`] long, a value at most [`MAX_VALUE_BYTES`]; a longer one refuses the
    /// whole batch with [`StoreError::TooLarge`]. Independent of block heights, and safe to call
    /// while another thread commits.
    fn private_put(&self, entries: Vec<(Vec<u8>, Option<Vec<u8>>)>) -> Result<(), StoreError>;

    /// Latest value of a private key; never a state, object or metadata value.
    fn private_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// Up to `limit` private entries whose key starts with `prefix`, in ascending key order,
    /// starting after the key `start_after` when given (pass the last key of the previous page).
    /// Paging works exactly as in [`Store::state_range`], and all entries come from one completed
    /// private write or commit. Never returns chain data.
    fn private_range(
        &self,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>, StoreError>;
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
    fn private_put(&self, entries: Vec<(Vec<u8>, Option<Vec<u8>>)>) -> Result<(), StoreError> {
        (**self).private_put(entries)
    }
    fn private_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        (**self).private_get(key)
    }
    fn private_range(
        &self,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>, StoreError> {
        (**self).private_range(prefix, start_after, limit)
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

/// Refuses a batch with a key or value beyond [`MAX_KEY_BYTES`] or [`MAX_VALUE_BYTES`]. Every
/// backend calls it before anything else, so all refuse the same batches.
fn check_sizes(batch: &CommitBatch) -> Result<(), StoreError> {
    let check =
        |what, len, max| if len > max { Err(StoreError::TooLarge { what, len, max }) } else { Ok(()) };
    let key = |what, len| check(what, len, MAX_KEY_BYTES);
    let value = |what, len| check(what, len, MAX_VALUE_BYTES);
    value("block", batch.block.len())?;
    value("receipts encoding", batch.receipts.len())?;
    for (k, v) in &batch.state_writes {
        key("state key", k.len())?;
        if let Some(v) = v {
            value("state value", v.len())?;
        }
    }
    for (_, bytes) in &batch.objects {
        value("object", bytes.len())?;
    }
    for (k, v) in &batch.meta {
        key("metadata key", k.len())?;
        value("metadata value", v.len())?;
    }
    Ok(())
}

/// Refuses private entries with a key beyond [`MAX_KEY_BYTES`] or a value beyond
/// [`MAX_VALUE_BYTES`], like [`check_sizes`] does for a commit.
fn check_private_sizes(entries: &[(Vec<u8>, Option<Vec<u8>>)]) -> Result<(), StoreError> {
    for (key, value) in entries {
        if key.len() > MAX_KEY_BYTES {
            return Err(StoreError::TooLarge { what: "private key", len: key.len(), max: MAX_KEY_BYTES });
        }
        if let Some(value) = value
            && value.len() > MAX_VALUE_BYTES
        {
            return Err(StoreError::TooLarge {
                what: "private value",
                len: value.len(),
                max: MAX_VALUE_BYTES,
            });
        }
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_over_the_limit_are_refused() {
        // Zeroed allocations are mapped lazily and only lengths are read, so this costs no real
        // memory; cloning one would.
        fn huge() -> Vec<u8> {
            vec![0u8; MAX_VALUE_BYTES + 1]
        }
        let at_limit = CommitBatch { block: vec![0u8; MAX_VALUE_BYTES], ..CommitBatch::default() };
        assert!(check_sizes(&at_limit).is_ok());
        drop(at_limit);
        // One batch at a time, so at most one huge allocation is mapped.
        let cases: [fn() -> CommitBatch; 5] = [
            || CommitBatch { block: huge(), ..CommitBatch::default() },
            || CommitBatch { receipts: huge(), ..CommitBatch::default() },
            || CommitBatch { state_writes: vec![(b"k".to_vec(), Some(huge()))], ..CommitBatch::default() },
            || CommitBatch { objects: vec![(Hash32::default(), huge())], ..CommitBatch::default() },
            || CommitBatch { meta: vec![("k".into(), huge())], ..CommitBatch::default() },
        ];
        for case in cases {
            let batch = case();
            let err = check_sizes(&batch).unwrap_err();
            assert!(
                matches!(err, StoreError::TooLarge { len, max, .. }
                    if len == MAX_VALUE_BYTES + 1 && max == MAX_VALUE_BYTES),
                "{err:?}"
            );
            assert!(!err.is_fatal());
        }
    }

    #[test]
    fn private_entries_over_the_limits_are_refused() {
        let at_limit = vec![(vec![0u8; MAX_KEY_BYTES], Some(vec![0u8; MAX_VALUE_BYTES])), (Vec::new(), None)];
        assert!(check_private_sizes(&at_limit).is_ok());
        drop(at_limit);
        let long_key = vec![(vec![0u8; MAX_KEY_BYTES + 1], None)];
        let err = check_private_sizes(&long_key).unwrap_err();
        assert!(
            matches!(err, StoreError::TooLarge { what: "private key", len, max }
                if len == MAX_KEY_BYTES + 1 && max == MAX_KEY_BYTES),
            "{err:?}"
        );
        let huge_value = vec![(b"k".to_vec(), Some(vec![0u8; MAX_VALUE_BYTES + 1]))];
        let err = check_private_sizes(&huge_value).unwrap_err();
        assert!(
            matches!(err, StoreError::TooLarge { what: "private value", len, max }
                if len == MAX_VALUE_BYTES + 1 && max == MAX_VALUE_BYTES),
            "{err:?}"
        );
        assert!(!err.is_fatal());
    }
}
