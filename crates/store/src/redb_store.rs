//! [`RedbStore`]: the store in one redb file, one table per kind of data.
//!
//! Each commit is one redb write transaction with [`Durability::Immediate`] (redb's default,
//! set explicitly so a change of default cannot weaken it): the commit is checksummed and
//! `fsync`ed before it returns, and after a crash redb rolls back to the last whole commit.
//! Reads are redb read transactions, which are MVCC snapshots, so they never wait for the
//! committer. redb locks the file, so a second open (from any process) fails with
//! [`StoreError::InUse`] instead of corrupting it.

use std::ops::Bound;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use civic_types::{Hash32, Height};
use redb::{
    Builder, Database, DatabaseError, Durability, ReadTransaction, ReadableDatabase, ReadableTable,
    TableDefinition, WriteTransaction,
};

use crate::{CommitBatch, Store, StoreError, TxLocation};

/// Block bytes by height.
const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
/// Height by block hash.
const BLOCK_HASHES: TableDefinition<&[u8; 32], u64> = TableDefinition::new("block_hashes");
/// Encoded receipts by height.
const RECEIPTS: TableDefinition<u64, &[u8]> = TableDefinition::new("receipts");
/// (height, index) by transaction hash.
const TXS: TableDefinition<&[u8; 32], (u64, u32)> = TableDefinition::new("tx_locations");
/// Latest state, by raw key.
const STATE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("state");
/// Content-addressed objects by hash.
const OBJECTS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("objects");
/// The caller's node metadata.
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Off-chain private entries, by raw key; never written by a commit. Added after format 1
/// without a format change: a new table changes nothing the earlier tables hold, and
/// [`RedbStore::prepare`] creates it in a file written before it existed.
const PRIVATE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("private");
/// The store's own bookkeeping, kept apart from the caller's metadata.
const INFO: TableDefinition<&str, u64> = TableDefinition::new("civic_store");

/// Key in [`INFO`] of the layout version of the tables above.
const FORMAT_KEY: &str = "format";
/// The layout version this build writes and reads. Bump it, and add a migration, when a table's
/// name, key or value encoding changes.
const FORMAT: u64 = 1;

/// A [`Store`] in one redb file. Share it between threads with an `Arc`.
#[derive(Debug)]
pub struct RedbStore {
    db: Database,
    path: PathBuf,
}

impl RedbStore {
    /// Opens the store file at `path`, creating it if it does not exist; an existing file
    /// reopens the same chain. After a crash the open first rolls back to the last whole
    /// commit, checking every page it keeps, which takes longer the larger the file. After a
    /// clean shutdown the file is trusted; see [`RedbStore::open_verified`].
    ///
    /// Fails with [`StoreError::InUse`] if another process (or another handle in this one) has
    /// the file open, and with [`StoreError::Corrupt`] if the file is not a readable store.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_checked(path.as_ref(), false)
    }

    /// Like [`RedbStore::open`], but always verifies the checksum of every page before
    /// trusting the file, so damage done outside the node (a failing disk, a stray write) is
    /// reported as [`StoreError::Corrupt`] at open instead of surfacing later as missing or
    /// wrong data. Reads the whole file.
    pub fn open_verified(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_checked(path.as_ref(), true)
    }

    fn open_checked(path: &Path, verify: bool) -> Result<Self, StoreError> {
        let mut builder = Builder::new();
        builder.set_check_integrity_on_open(verify);
        // redb documents that opening a file damaged outside redb may panic rather than return
        // an error; at this boundary that is a corrupt data file, not a bug in the node.
        let opened = catch_unwind(AssertUnwindSafe(|| builder.create(path)));
        let db = match opened {
            Ok(Ok(db)) => db,
            Ok(Err(e)) => return Err(open_error(path, e)),
            Err(_) => {
                return Err(StoreError::Corrupt(format!(
                    "{} could not be opened: the storage engine found invalid data",
                    path.display()
                )));
            }
        };
        let store = Self { db, path: path.to_path_buf() };
        store.prepare()?;
        Ok(store)
    }

    /// Path of the store file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes the file and releases its lock, reporting any error that dropping would ignore.
    pub fn close(self) -> Result<(), StoreError> {
        self.db.close().map_err(backend)
    }

    /// Creates the tables a fresh file (or one written before a table was added) lacks, so
    /// reads never meet a missing table, and checks the layout version of an existing one.
    fn prepare(&self) -> Result<(), StoreError> {
        let txn = self.begin_write()?;
        {
            let mut info = txn.open_table(INFO).map_err(backend)?;
            let found = info.get(FORMAT_KEY).map_err(backend)?.map(|v| v.value());
            match found {
                Some(FORMAT) => {}
                Some(found) => {
                    return Err(StoreError::UnsupportedFormat {
                        path: self.path.clone(),
                        found,
                        supported: FORMAT,
                    });
                }
                None => {
                    info.insert(FORMAT_KEY, FORMAT).map_err(backend)?;
                }
            }
        }
        txn.open_table(BLOCKS).map_err(backend)?;
        txn.open_table(BLOCK_HASHES).map_err(backend)?;
        txn.open_table(RECEIPTS).map_err(backend)?;
        txn.open_table(TXS).map_err(backend)?;
        txn.open_table(STATE).map_err(backend)?;
        txn.open_table(OBJECTS).map_err(backend)?;
        txn.open_table(META).map_err(backend)?;
        txn.open_table(PRIVATE).map_err(backend)?;
        txn.commit().map_err(backend)
    }

    fn begin_write(&self) -> Result<WriteTransaction, StoreError> {
        let mut txn = self.db.begin_write().map_err(backend)?;
        txn.set_durability(Durability::Immediate).map_err(backend)?;
        Ok(txn)
    }

    /// One page of a prefix scan over `table`, with the semantics of [`Store::state_range`],
    /// read in one read transaction.
    fn prefix_page(
        &self,
        table: TableDefinition<&[u8], &[u8]>,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.read(|txn| {
            let table = txn.open_table(table)?;
            let start = crate::scan_start(prefix, start_after);
            // The limit comes from the caller; grow the page as entries arrive instead.
            let mut page = Vec::with_capacity(limit.min(256));
            for entry in table.range::<&[u8]>((start, Bound::Unbounded))? {
                let (key, value) = entry?;
                if !key.value().starts_with(prefix) {
                    break;
                }
                page.push((key.value().to_vec(), value.value().to_vec()));
                if page.len() == limit {
                    break;
                }
            }
            Ok(page)
        })
    }

    /// Runs `f` in a read transaction: one consistent snapshot as of the last commit.
    fn read<T>(&self, f: impl FnOnce(&ReadTransaction) -> Result<T, redb::Error>) -> Result<T, StoreError> {
        let txn = self.db.begin_read().map_err(backend)?;
        f(&txn).map_err(backend)
    }
}

/// Writes the batch into `txn`, checking it as it goes. On `Err` the caller drops `txn`, which
/// aborts it, so a refused batch leaves no trace.
fn write_batch(txn: &WriteTransaction, batch: CommitBatch) -> Result<(), StoreError> {
    let height = batch.height;
    {
        let mut blocks = txn.open_table(BLOCKS).map_err(backend)?;
        let latest = blocks.last().map_err(backend)?.map(|(h, _)| Height::new(h.value()));
        crate::check_height(crate::next_height(latest)?, height)?;
        blocks.insert(height.get(), batch.block.as_slice()).map_err(backend)?;
    }
    {
        let mut hashes = txn.open_table(BLOCK_HASHES).map_err(backend)?;
        let earlier = hashes.insert(&batch.block_hash.0, height.get()).map_err(backend)?;
        if let Some(earlier) = earlier {
            return Err(StoreError::DuplicateBlock {
                hash: batch.block_hash,
                height: Height::new(earlier.value()),
            });
        }
    }
    txn.open_table(RECEIPTS)
        .map_err(backend)?
        .insert(height.get(), batch.receipts.as_slice())
        .map_err(backend)?;
    {
        let mut txs = txn.open_table(TXS).map_err(backend)?;
        let count = batch.tx_hashes.len();
        for (i, hash) in batch.tx_hashes.iter().enumerate() {
            let index = crate::tx_index(i, count)?;
            // A hash stored by an earlier block, or earlier in this batch, comes back here.
            let earlier = txs.insert(&hash.0, (height.get(), index)).map_err(backend)?;
            if let Some(earlier) = earlier {
                let (h, index) = earlier.value();
                return Err(StoreError::DuplicateTx {
                    hash: *hash,
                    at: TxLocation { height: Height::new(h), index },
                });
            }
        }
    }
    {
        let mut state = txn.open_table(STATE).map_err(backend)?;
        for (key, value) in &batch.state_writes {
            match value {
                Some(value) => state.insert(key.as_slice(), value.as_slice()),
                None => state.remove(key.as_slice()),
            }
            .map_err(backend)?;
        }
    }
    {
        let mut objects = txn.open_table(OBJECTS).map_err(backend)?;
        for (hash, bytes) in &batch.objects {
            let stored = objects.get(&hash.0).map_err(backend)?.is_some();
            if !stored {
                objects.insert(&hash.0, bytes.as_slice()).map_err(backend)?;
            }
        }
    }
    {
        let mut meta = txn.open_table(META).map_err(backend)?;
        for (key, value) in &batch.meta {
            meta.insert(key.as_str(), value.as_slice()).map_err(backend)?;
        }
    }
    Ok(())
}

impl Store for RedbStore {
    fn commit(&self, batch: CommitBatch) -> Result<(), StoreError> {
        crate::check_sizes(&batch)?;
        let txn = self.begin_write()?;
        write_batch(&txn, batch)?;
        txn.commit().map_err(backend)
    }

    fn latest_height(&self) -> Result<Option<Height>, StoreError> {
        self.read(|txn| {
            let blocks = txn.open_table(BLOCKS)?;
            Ok(blocks.last()?.map(|(h, _)| Height::new(h.value())))
        })
    }

    fn block(&self, height: Height) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|txn| {
            let blocks = txn.open_table(BLOCKS)?;
            Ok(blocks.get(height.get())?.map(|v| v.value().to_vec()))
        })
    }

    fn block_hash_height(&self, hash: &Hash32) -> Result<Option<Height>, StoreError> {
        self.read(|txn| {
            let hashes = txn.open_table(BLOCK_HASHES)?;
            Ok(hashes.get(&hash.0)?.map(|v| Height::new(v.value())))
        })
    }

    fn receipts(&self, height: Height) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|txn| {
            let receipts = txn.open_table(RECEIPTS)?;
            Ok(receipts.get(height.get())?.map(|v| v.value().to_vec()))
        })
    }

    fn tx_location(&self, tx_hash: &Hash32) -> Result<Option<TxLocation>, StoreError> {
        self.read(|txn| {
            let txs = txn.open_table(TXS)?;
            Ok(txs.get(&tx_hash.0)?.map(|v| {
                let (height, index) = v.value();
                TxLocation { height: Height::new(height), index }
            }))
        })
    }

    fn state_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|txn| {
            let state = txn.open_table(STATE)?;
            Ok(state.get(key)?.map(|v| v.value().to_vec()))
        })
    }

    fn state_range(
        &self,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>, StoreError> {
        self.prefix_page(STATE, prefix, start_after, limit)
    }

    fn object(&self, hash: &Hash32) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|txn| {
            let objects = txn.open_table(OBJECTS)?;
            Ok(objects.get(&hash.0)?.map(|v| v.value().to_vec()))
        })
    }

    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|txn| {
            let meta = txn.open_table(META)?;
            Ok(meta.get(key)?.map(|v| v.value().to_vec()))
        })
    }

    fn private_put(&self, entries: Vec<(Vec<u8>, Option<Vec<u8>>)>) -> Result<(), StoreError> {
        crate::check_private_sizes(&entries)?;
        // redb runs one write transaction at a time, so this waits for a commit under way (and
        // a commit for it); either is one atomic, durable transaction.
        let txn = self.begin_write()?;
        {
            let mut private = txn.open_table(PRIVATE).map_err(backend)?;
            for (key, value) in &entries {
                match value {
                    Some(value) => private.insert(key.as_slice(), value.as_slice()),
                    None => private.remove(key.as_slice()),
                }
                .map_err(backend)?;
            }
        }
        txn.commit().map_err(backend)
    }

    fn private_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|txn| {
            let private = txn.open_table(PRIVATE)?;
            Ok(private.get(key)?.map(|v| v.value().to_vec()))
        })
    }

    fn private_range(
        &self,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>, StoreError> {
        self.prefix_page(PRIVATE, prefix, start_after, limit)
    }
}

/// Classifies an error from opening the file.
fn open_error(path: &Path, e: DatabaseError) -> StoreError {
    match e {
        DatabaseError::DatabaseAlreadyOpen | DatabaseError::LockProtocolMismatch => {
            StoreError::InUse { path: path.to_path_buf() }
        }
        // redb reports a file that is not a redb database (wrong magic number, unreadable
        // header) as invalid data.
        DatabaseError::Storage(redb::StorageError::Io(e)) if e.kind() == std::io::ErrorKind::InvalidData => {
            StoreError::Corrupt(format!("{}: {e}", path.display()))
        }
        other => backend(other),
    }
}

/// Maps a redb error to the store's, so no redb type reaches callers.
fn backend(e: impl Into<redb::Error>) -> StoreError {
    match e.into() {
        redb::Error::Io(e) => StoreError::Io(e),
        redb::Error::Corrupted(message) => StoreError::Corrupt(message),
        other => StoreError::Backend(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_of_another_store_format_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("civic.redb");
        RedbStore::open(&path).unwrap().close().unwrap();
        let set_format = |format| {
            let db = Database::create(&path).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(INFO).unwrap().insert(FORMAT_KEY, format).unwrap();
            txn.commit().unwrap();
            db.close().unwrap();
        };
        set_format(FORMAT + 1);

        let err = RedbStore::open(&path).unwrap_err();
        assert!(
            matches!(err, StoreError::UnsupportedFormat { found, supported, .. }
                if found == FORMAT + 1 && supported == FORMAT),
            "{err:?}"
        );
        let db = Database::create(&path).unwrap();
        let txn = db.begin_read().unwrap();
        let format = txn.open_table(INFO).unwrap().get(FORMAT_KEY).unwrap().map(|v| v.value());
        assert_eq!(format, Some(FORMAT + 1));
    }

    #[test]
    fn a_file_written_before_private_data_opens_and_gains_the_table() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("civic.redb");
        let store = RedbStore::open(&path).unwrap();
        store.commit(crate::conformance::sample_batch(Height::new(0))).unwrap();
        store.close().unwrap();
        // Make it a file of the earlier layout: every table but the private one.
        {
            let db = Database::create(&path).unwrap();
            let txn = db.begin_write().unwrap();
            assert!(txn.delete_table(PRIVATE).unwrap());
            txn.commit().unwrap();
            db.close().unwrap();
        }

        let store = RedbStore::open(&path).unwrap();
        assert_eq!(
            crate::conformance::verify_sample_chain(&store, Some(Height::new(0))),
            Some(Height::new(0))
        );
        assert_eq!(store.private_get(b"k").unwrap(), None);
        store.private_put(vec![(b"k".to_vec(), Some(b"v".to_vec()))]).unwrap();
        store.close().unwrap();
        let store = RedbStore::open(&path).unwrap();
        assert_eq!(store.private_get(b"k").unwrap(), Some(b"v".to_vec()));
    }
}
