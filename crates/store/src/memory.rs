//! [`MemoryStore`]: the store in `BTreeMap`s behind one lock, for tests and benchmarks. It keeps
//! every guarantee of [`Store`] except durability: its contents end with the process.

use std::collections::BTreeMap;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use civic_types::{Hash32, Height};

use crate::{CommitBatch, Store, StoreError, TxLocation};

/// An in-memory [`Store`]. Commits take the write lock, so readers see whole commits.
#[derive(Debug, Default)]
pub struct MemoryStore {
    tables: RwLock<Tables>,
}

#[derive(Debug, Default)]
struct Tables {
    blocks: BTreeMap<Height, Vec<u8>>,
    block_hashes: BTreeMap<Hash32, Height>,
    receipts: BTreeMap<Height, Vec<u8>>,
    txs: BTreeMap<Hash32, TxLocation>,
    state: BTreeMap<Vec<u8>, Vec<u8>>,
    objects: BTreeMap<Hash32, Vec<u8>>,
    meta: BTreeMap<String, Vec<u8>>,
    /// Off-chain private entries, apart from everything a commit writes.
    private: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> Result<RwLockReadGuard<'_, Tables>, StoreError> {
        self.tables.read().map_err(|_| poisoned())
    }

    fn write(&self) -> Result<RwLockWriteGuard<'_, Tables>, StoreError> {
        self.tables.write().map_err(|_| poisoned())
    }
}

fn poisoned() -> StoreError {
    StoreError::Backend("a thread panicked while holding the memory store's lock".into())
}

impl Store for MemoryStore {
    fn commit(&self, batch: CommitBatch) -> Result<(), StoreError> {
        crate::check_sizes(&batch)?;
        let mut t = self.write()?;

        // Everything is checked before anything is changed, so a refused batch leaves no trace.
        let latest = t.blocks.last_key_value().map(|(h, _)| *h);
        crate::check_height(crate::next_height(latest)?, batch.height)?;
        if let Some(&height) = t.block_hashes.get(&batch.block_hash) {
            return Err(StoreError::DuplicateBlock { hash: batch.block_hash, height });
        }
        let count = batch.tx_hashes.len();
        let mut in_batch = BTreeMap::new();
        for (i, hash) in batch.tx_hashes.iter().enumerate() {
            let index = crate::tx_index(i, count)?;
            let earlier = t
                .txs
                .get(hash)
                .copied()
                .or_else(|| in_batch.get(hash).map(|&index| TxLocation { height: batch.height, index }));
            if let Some(at) = earlier {
                return Err(StoreError::DuplicateTx { hash: *hash, at });
            }
            in_batch.insert(*hash, index);
        }

        let height = batch.height;
        t.blocks.insert(height, batch.block);
        t.block_hashes.insert(batch.block_hash, height);
        t.receipts.insert(height, batch.receipts);
        for (index, hash) in (0u32..).zip(batch.tx_hashes) {
            t.txs.insert(hash, TxLocation { height, index });
        }
        for (key, value) in batch.state_writes {
            match value {
                Some(value) => t.state.insert(key, value),
                None => t.state.remove(&key),
            };
        }
        for (hash, bytes) in batch.objects {
            t.objects.entry(hash).or_insert(bytes);
        }
        for (key, value) in batch.meta {
            t.meta.insert(key, value);
        }
        Ok(())
    }

    fn latest_height(&self) -> Result<Option<Height>, StoreError> {
        Ok(self.read()?.blocks.last_key_value().map(|(h, _)| *h))
    }

    fn block(&self, height: Height) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.read()?.blocks.get(&height).cloned())
    }

    fn block_hash_height(&self, hash: &Hash32) -> Result<Option<Height>, StoreError> {
        Ok(self.read()?.block_hashes.get(hash).copied())
    }

    fn receipts(&self, height: Height) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.read()?.receipts.get(&height).cloned())
    }

    fn tx_location(&self, tx_hash: &Hash32) -> Result<Option<TxLocation>, StoreError> {
        Ok(self.read()?.txs.get(tx_hash).copied())
    }

    fn state_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.read()?.state.get(key).cloned())
    }

    fn state_range(
        &self,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>, StoreError> {
        Ok(prefix_page(&self.read()?.state, prefix, start_after, limit))
    }

    fn object(&self, hash: &Hash32) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.read()?.objects.get(hash).cloned())
    }

    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.read()?.meta.get(key).cloned())
    }

    fn private_put(&self, entries: Vec<(Vec<u8>, Option<Vec<u8>>)>) -> Result<(), StoreError> {
        crate::check_private_sizes(&entries)?;
        // Under the write lock, so readers see all of the entries or none.
        let mut t = self.write()?;
        for (key, value) in entries {
            match value {
                Some(value) => t.private.insert(key, value),
                None => t.private.remove(&key),
            };
        }
        Ok(())
    }

    fn private_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.read()?.private.get(key).cloned())
    }

    fn private_range(
        &self,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>, StoreError> {
        Ok(prefix_page(&self.read()?.private, prefix, start_after, limit))
    }
}

/// One page of a prefix scan over `map`, with the semantics of [`Store::state_range`].
fn prefix_page(
    map: &BTreeMap<Vec<u8>, Vec<u8>>,
    prefix: &[u8],
    start_after: Option<&[u8]>,
    limit: usize,
) -> Vec<(Vec<u8>, Vec<u8>)> {
    let start = crate::scan_start(prefix, start_after);
    map.range::<[u8], _>((start, std::ops::Bound::Unbounded))
        .take_while(|(k, _)| k.starts_with(prefix))
        .take(limit)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}
