//! [`FjallStore`]: the store in a fjall database in a directory of its own, one fjall keyspace
//! (an LSM tree) per kind of data.
//!
//! Why a second durable backend: almost every key the ledger writes is random (content-addressed
//! objects and transaction hashes), and a copy-on-write B-tree such as redb rewrites nearly every
//! leaf page it touches, so its commit cost grows with the database. An LSM tree appends the
//! batch to a journal and sorts it into tables in the background, so a commit costs about the
//! same at any size.
//!
//! Each commit is one fjall write batch across all keyspaces with `PersistMode::SyncAll`: fjall
//! appends the whole batch to its journal and `fsync`s the journal before it applies the batch to
//! the in-memory tables and makes it visible, and on open it replays the journal up to the last
//! complete batch, discarding a batch that lacks its end marker. Every read runs on a fjall
//! snapshot, because fjall's plain reads see the newest version of each key, including those of a
//! batch that is still being applied. fjall locks a file in the directory, so a second open (from
//! any process) fails with [`StoreError::InUse`].

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use civic_types::{Hash32, Height};
use fjall::{Database, Keyspace, KeyspaceCreateOptions, OwnedWriteBatch, PersistMode, Readable, Snapshot};

use crate::{CommitBatch, Store, StoreError, TxLocation};

/// Block bytes by height (8 bytes, big-endian, so keys sort by height).
const BLOCKS: &str = "blocks";
/// Height by block hash.
const BLOCK_HASHES: &str = "block_hashes";
/// Encoded receipts by height.
const RECEIPTS: &str = "receipts";
/// Height and index (8 + 4 bytes, big-endian) by transaction hash.
const TXS: &str = "tx_locations";
/// Latest state, by [`TAG`] and the raw key.
const STATE: &str = "state";
/// Content-addressed objects by hash.
const OBJECTS: &str = "objects";
/// The caller's node metadata, by [`TAG`] and the key.
const META: &str = "meta";
/// Off-chain private entries, by [`TAG`] and the raw key; never written by a commit. Added
/// after format 1 without a format change: a new keyspace changes nothing the others hold, and
/// opening a directory written before it existed creates it empty.
const PRIVATE: &str = "private";
/// The store's own bookkeeping, kept apart from the caller's metadata.
const INFO: &str = "civic_store";

/// fjall refuses empty keys, and the trait allows an empty state or metadata key, so those keys
/// are stored behind this one byte. A prefix shared by every key keeps their byte order.
const TAG: u8 = b'k';

/// Key in [`INFO`] of the layout version of the keyspaces above.
const FORMAT_KEY: &str = "format";
/// The layout version this build writes and reads. Bump it, and add a migration, when a
/// keyspace's name, key or value encoding changes.
const FORMAT: u64 = 1;

/// Block cache shared by all keyspaces. The ledger reads state tree nodes by hash while it
/// executes a block, and blocks hot in this cache skip a read from the file and a checksum
/// check; the operating system's page cache still holds what falls out of it.
const CACHE_BYTES: u64 = 256 * 1024 * 1024;

/// Journal kept before fjall writes every keyspace's memtable to its tables. An open replays
/// the journal, so this bounds the time a restart takes (after a crash as after a clean close):
/// with fjall's default of 512 MiB a reopen took 2.4 s in `examples/compare_backends.rs`, with
/// 128 MiB 0.25 s, at the same commit rate. It stays far above one block's batch.
const JOURNAL_BYTES: u64 = 128 * 1024 * 1024;

/// A [`Store`] in a fjall database directory. Share it between threads with an `Arc`.
pub struct FjallStore {
    db: Database,
    blocks: Keyspace,
    block_hashes: Keyspace,
    receipts: Keyspace,
    txs: Keyspace,
    state: Keyspace,
    objects: Keyspace,
    meta: Keyspace,
    private: Keyspace,
    info: Keyspace,
    /// Held for the whole of a commit (and of a private write), so checks and writes of one batch are not interleaved
    /// with another's.
    writer: Mutex<Writer>,
    dir: PathBuf,
}

/// What the committer keeps between commits.
#[derive(Debug)]
struct Writer {
    /// Height of the latest commit. Only this handle writes (fjall locks the directory), so it
    /// is known without a lookup.
    latest: Option<Height>,
    /// Set when fjall failed while writing a batch. fjall may have journaled part of it, and a
    /// later batch journaled after that part would be dropped with it when the journal is
    /// replayed, so no further commit is accepted until the store is reopened.
    failed: bool,
}

impl std::fmt::Debug for FjallStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FjallStore").field("dir", &self.dir).finish_non_exhaustive()
    }
}

impl FjallStore {
    /// Opens the store in directory `dir`, creating it if it does not exist; an existing store
    /// reopens the same chain. After a crash the open replays the journal, so every commit that
    /// returned `Ok` is back and nothing of a commit that did not.
    ///
    /// `dir` must belong to the store alone. Fails with [`StoreError::InUse`] if another process
    /// (or another handle in this one) has it open, and with [`StoreError::Corrupt`] if it holds
    /// damaged data.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        let dir = dir.as_ref();
        if dir.exists() && !dir.is_dir() {
            return Err(StoreError::Io(std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                format!("{} is a file, but the fjall store keeps its data in a directory", dir.display()),
            )));
        }
        let db = Database::builder(dir)
            .cache_size(CACHE_BYTES)
            .max_journaling_size(JOURNAL_BYTES)
            .open()
            .map_err(|e| open_error(dir, e))?;
        let keyspace = |name: &str| db.keyspace(name, KeyspaceCreateOptions::default).map_err(backend);
        let store = Self {
            blocks: keyspace(BLOCKS)?,
            block_hashes: keyspace(BLOCK_HASHES)?,
            receipts: keyspace(RECEIPTS)?,
            txs: keyspace(TXS)?,
            state: keyspace(STATE)?,
            objects: keyspace(OBJECTS)?,
            meta: keyspace(META)?,
            private: keyspace(PRIVATE)?,
            info: keyspace(INFO)?,
            db,
            writer: Mutex::new(Writer { latest: None, failed: false }),
            dir: dir.to_path_buf(),
        };
        store.prepare()?;
        Ok(store)
    }

    /// The store's directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Closes the store and releases the directory's lock, reporting any error that dropping
    /// would ignore. Every commit is already durable, so dropping the store is equally safe.
    pub fn close(self) -> Result<(), StoreError> {
        self.db.persist(PersistMode::SyncAll).map_err(backend)
    }

    /// Checks the layout version, recording it in a fresh store, and loads the latest height.
    fn prepare(&self) -> Result<(), StoreError> {
        let found = self.read(|s| s.get(&self.info, FORMAT_KEY))?;
        match found.as_deref().map(decode_u64) {
            Some(Some(FORMAT)) => {}
            Some(Some(found)) => {
                return Err(StoreError::UnsupportedFormat {
                    path: self.dir.clone(),
                    found,
                    supported: FORMAT,
                });
            }
            Some(None) => {
                return Err(StoreError::Corrupt(format!(
                    "{}: the store format marker is not an 8-byte number",
                    self.dir.display()
                )));
            }
            None => {
                let mut batch = self.db.batch().durability(Some(PersistMode::SyncAll));
                batch.insert(&self.info, FORMAT_KEY, FORMAT.to_be_bytes());
                batch.commit().map_err(backend)?;
            }
        }
        let latest = self.read(|s| latest_height(s, &self.blocks))??;
        self.lock_writer()?.latest = latest;
        Ok(())
    }

    fn lock_writer(&self) -> Result<MutexGuard<'_, Writer>, StoreError> {
        self.writer.lock().map_err(|_| {
            StoreError::Backend(
                "a thread panicked while committing to the fjall store; restart the node".into(),
            )
        })
    }

    /// Runs `f` on a snapshot: one consistent view as of the last completed commit.
    fn read<T>(&self, f: impl FnOnce(&Snapshot) -> fjall::Result<T>) -> Result<T, StoreError> {
        let snapshot = self.db.snapshot();
        f(&snapshot).map_err(backend)
    }

    /// One page of a prefix scan over a keyspace of [`TAG`]ged keys, with the semantics of
    /// [`Store::state_range`], read on one snapshot.
    fn prefix_page(
        &self,
        keyspace: &Keyspace,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let start = match crate::scan_start(prefix, start_after) {
            Bound::Excluded(after) => Bound::Excluded(tagged(after)),
            Bound::Included(from) => Bound::Included(tagged(from)),
            Bound::Unbounded => Bound::Unbounded,
        };
        let tagged_prefix = tagged(prefix);
        self.read(|s| {
            // The limit comes from the caller; grow the page as entries arrive instead.
            let mut page = Vec::with_capacity(limit.min(256));
            for entry in s.range(keyspace, (start, Bound::<Vec<u8>>::Unbounded)) {
                let (key, value) = entry.into_inner()?;
                if !key.starts_with(&tagged_prefix) {
                    break;
                }
                page.push((key[1..].to_vec(), value.to_vec()));
                if page.len() == limit {
                    break;
                }
            }
            Ok(page)
        })
    }

    /// Checks `batch` against the store as of `snapshot` and turns it into one fjall batch.
    /// Nothing is written here, so a refused batch leaves no trace.
    fn prepare_batch(
        &self,
        snapshot: &Snapshot,
        expected: Height,
        batch: CommitBatch,
    ) -> Result<OwnedWriteBatch, StoreError> {
        let height = batch.height;
        crate::check_height(expected, height)?;
        let get = |keyspace: &Keyspace, key: &[u8]| snapshot.get(keyspace, key).map_err(backend);

        if let Some(earlier) = get(&self.block_hashes, &batch.block_hash.0)? {
            let height = decode_u64(&earlier).ok_or_else(|| bad_value(BLOCK_HASHES))?;
            return Err(StoreError::DuplicateBlock { hash: batch.block_hash, height: Height::new(height) });
        }
        let count = batch.tx_hashes.len();
        let mut in_batch: BTreeMap<&Hash32, u32> = BTreeMap::new();
        for (i, hash) in batch.tx_hashes.iter().enumerate() {
            let index = crate::tx_index(i, count)?;
            let earlier = match get(&self.txs, &hash.0)? {
                Some(stored) => Some(decode_location(&stored).ok_or_else(|| bad_value(TXS))?),
                None => in_batch.get(hash).map(|&index| TxLocation { height, index }),
            };
            if let Some(at) = earlier {
                return Err(StoreError::DuplicateTx { hash: *hash, at });
            }
            in_batch.insert(hash, index);
        }

        // Every item of one fjall batch gets the same sequence number, so two writes to one key
        // would leave which one wins to the engine. Keep only the later write of each key here.
        let state: BTreeMap<&[u8], Option<&Vec<u8>>> =
            batch.state_writes.iter().map(|(k, v)| (k.as_slice(), v.as_ref())).collect();
        let meta: BTreeMap<&str, &Vec<u8>> = batch.meta.iter().map(|(k, v)| (k.as_str(), v)).collect();
        // Objects are insert-only, so the first write of each hash is the one to keep.
        let mut objects: BTreeMap<&Hash32, &Vec<u8>> = BTreeMap::new();
        for (hash, bytes) in &batch.objects {
            objects.entry(hash).or_insert(bytes);
        }

        let items = 4 + count + state.len() + objects.len() + meta.len();
        let mut out =
            OwnedWriteBatch::with_capacity(self.db.clone(), items).durability(Some(PersistMode::SyncAll));
        let at = height.get().to_be_bytes();
        out.insert(&self.blocks, at, batch.block);
        out.insert(&self.block_hashes, batch.block_hash.0, at);
        out.insert(&self.receipts, at, batch.receipts);
        for (index, hash) in (0u32..).zip(&batch.tx_hashes) {
            out.insert(&self.txs, hash.0, encode_location(height, index));
        }
        for (key, value) in state {
            match value {
                Some(value) => out.insert(&self.state, tagged(key), value.as_slice()),
                None => out.remove(&self.state, tagged(key)),
            }
        }
        for (hash, bytes) in objects {
            if !snapshot.contains_key(&self.objects, hash.0).map_err(backend)? {
                out.insert(&self.objects, hash.0, bytes.as_slice());
            }
        }
        for (key, value) in meta {
            out.insert(&self.meta, tagged(key.as_bytes()), value.as_slice());
        }
        Ok(out)
    }
}

impl Store for FjallStore {
    fn commit(&self, batch: CommitBatch) -> Result<(), StoreError> {
        crate::check_sizes(&batch)?;
        let mut writer = self.lock_writer()?;
        if writer.failed {
            return Err(failed_earlier());
        }
        let height = batch.height;
        // This handle is the only writer and holds the lock, so the snapshot is the latest state.
        let prepared = self.prepare_batch(&self.db.snapshot(), crate::next_height(writer.latest)?, batch)?;
        if let Err(e) = prepared.commit() {
            writer.failed = true;
            return Err(backend(e));
        }
        writer.latest = Some(height);
        Ok(())
    }

    fn latest_height(&self) -> Result<Option<Height>, StoreError> {
        self.read(|s| latest_height(s, &self.blocks))?
    }

    fn block(&self, height: Height) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|s| s.get(&self.blocks, height.get().to_be_bytes())).map(to_vec)
    }

    fn block_hash_height(&self, hash: &Hash32) -> Result<Option<Height>, StoreError> {
        let Some(value) = self.read(|s| s.get(&self.block_hashes, hash.0))? else { return Ok(None) };
        decode_u64(&value).map(|h| Some(Height::new(h))).ok_or_else(|| bad_value(BLOCK_HASHES))
    }

    fn receipts(&self, height: Height) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|s| s.get(&self.receipts, height.get().to_be_bytes())).map(to_vec)
    }

    fn tx_location(&self, tx_hash: &Hash32) -> Result<Option<TxLocation>, StoreError> {
        let Some(value) = self.read(|s| s.get(&self.txs, tx_hash.0))? else { return Ok(None) };
        decode_location(&value).map(Some).ok_or_else(|| bad_value(TXS))
    }

    fn state_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|s| s.get(&self.state, tagged(key))).map(to_vec)
    }

    fn state_range(
        &self,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>, StoreError> {
        self.prefix_page(&self.state, prefix, start_after, limit)
    }

    fn object(&self, hash: &Hash32) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|s| s.get(&self.objects, hash.0)).map(to_vec)
    }

    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|s| s.get(&self.meta, tagged(key.as_bytes()))).map(to_vec)
    }

    fn private_put(&self, entries: Vec<(Vec<u8>, Option<Vec<u8>>)>) -> Result<(), StoreError> {
        crate::check_private_sizes(&entries)?;
        // One fjall batch gives one sequence number to all its items, so keep only the later
        // write of each key, as a commit does.
        let entries: BTreeMap<Vec<u8>, Option<Vec<u8>>> = entries.into_iter().collect();
        if entries.is_empty() {
            return Ok(());
        }
        // The committer's lock: a failed engine write poisons later writes of either kind
        // until a reopen (see `Writer::failed`), whichever kind failed.
        let mut writer = self.lock_writer()?;
        if writer.failed {
            return Err(failed_earlier());
        }
        let mut batch = OwnedWriteBatch::with_capacity(self.db.clone(), entries.len())
            .durability(Some(PersistMode::SyncAll));
        for (key, value) in entries {
            match value {
                Some(value) => batch.insert(&self.private, tagged(&key), value),
                None => batch.remove(&self.private, tagged(&key)),
            }
        }
        if let Err(e) = batch.commit() {
            writer.failed = true;
            return Err(backend(e));
        }
        Ok(())
    }

    fn private_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|s| s.get(&self.private, tagged(key))).map(to_vec)
    }

    fn private_range(
        &self,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>, StoreError> {
        self.prefix_page(&self.private, prefix, start_after, limit)
    }
}

/// The height of the last block as of `snapshot`; the inner result reports a damaged key.
fn latest_height(
    snapshot: &Snapshot,
    blocks: &Keyspace,
) -> fjall::Result<Result<Option<Height>, StoreError>> {
    let Some(last) = snapshot.last_key_value(blocks) else { return Ok(Ok(None)) };
    let key = last.key()?;
    Ok(decode_u64(&key).map(|h| Some(Height::new(h))).ok_or_else(|| bad_value(BLOCKS)))
}

/// The refusal of every write after one the engine failed (see `Writer::failed`).
fn failed_earlier() -> StoreError {
    StoreError::Backend(
        "an earlier write failed in the storage engine, which may have journaled part of it; \
         restart the node so the store replays its journal"
            .into(),
    )
}

fn tagged(key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + key.len());
    out.push(TAG);
    out.extend_from_slice(key);
    out
}

fn to_vec(value: Option<fjall::Slice>) -> Option<Vec<u8>> {
    value.map(|v| v.to_vec())
}

fn decode_u64(bytes: &[u8]) -> Option<u64> {
    bytes.try_into().ok().map(u64::from_be_bytes)
}

fn encode_location(height: Height, index: u32) -> [u8; 12] {
    let mut out = [0; 12];
    out[..8].copy_from_slice(&height.get().to_be_bytes());
    out[8..].copy_from_slice(&index.to_be_bytes());
    out
}

fn decode_location(bytes: &[u8]) -> Option<TxLocation> {
    let (height, index) = bytes.split_first_chunk::<8>()?;
    let index: [u8; 4] = index.try_into().ok()?;
    Some(TxLocation { height: Height::new(u64::from_be_bytes(*height)), index: u32::from_be_bytes(index) })
}

fn bad_value(keyspace: &str) -> StoreError {
    StoreError::Corrupt(format!("an entry of the fjall keyspace {keyspace:?} has the wrong length"))
}

/// Classifies an error from opening the directory.
fn open_error(dir: &Path, e: fjall::Error) -> StoreError {
    match e {
        fjall::Error::Locked => StoreError::InUse { path: dir.to_path_buf() },
        other => match backend(other) {
            StoreError::Corrupt(message) => StoreError::Corrupt(format!("{}: {message}", dir.display())),
            other => other,
        },
    }
}

/// Maps a fjall error to the store's, so no fjall type reaches callers.
fn backend(e: fjall::Error) -> StoreError {
    use fjall::Error;
    match e {
        Error::Io(e) => StoreError::Io(e),
        Error::Storage(e) => {
            match std::error::Error::source(&e).and_then(|s| s.downcast_ref::<std::io::Error>()) {
                // The engine's own I/O error type is not public API; keep the kind and the message.
                Some(io) => StoreError::Io(std::io::Error::new(io.kind(), io.to_string())),
                None => StoreError::Corrupt(format!("the storage engine read damaged data ({e:?})")),
            }
        }
        Error::JournalRecovery(e) => StoreError::Corrupt(format!("the journal cannot be replayed ({e:?})")),
        Error::InvalidVersion(v) => {
            StoreError::Corrupt(format!("the directory is not a fjall 3 database (engine format {v:?})"))
        }
        Error::Decompress(_) | Error::InvalidTrailer | Error::InvalidTag(_) | Error::Unrecoverable => {
            StoreError::Corrupt(format!("the storage engine read damaged data ({e:?})"))
        }
        Error::Poisoned => StoreError::Backend(
            "an earlier write could not be synced to disk, so the engine refuses further writes".into(),
        ),
        other => StoreError::Backend(format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_of_another_store_format_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        FjallStore::open(dir.path()).unwrap().close().unwrap();
        let set_format = |format: u64| {
            let db = Database::builder(dir.path()).open().unwrap();
            let info = db.keyspace(INFO, KeyspaceCreateOptions::default).unwrap();
            let mut batch = db.batch().durability(Some(PersistMode::SyncAll));
            batch.insert(&info, FORMAT_KEY, format.to_be_bytes());
            batch.commit().unwrap();
        };
        set_format(FORMAT + 1);

        let err = FjallStore::open(dir.path()).unwrap_err();
        assert!(
            matches!(err, StoreError::UnsupportedFormat { found, supported, .. }
                if found == FORMAT + 1 && supported == FORMAT),
            "{err:?}"
        );
        let db = Database::builder(dir.path()).open().unwrap();
        let info = db.keyspace(INFO, KeyspaceCreateOptions::default).unwrap();
        assert_eq!(
            db.snapshot().get(&info, FORMAT_KEY).unwrap().as_deref(),
            Some(&(FORMAT + 1).to_be_bytes()[..])
        );
    }

    #[test]
    fn a_directory_written_before_private_data_opens_and_gains_the_keyspace() {
        let dir = tempfile::tempdir().unwrap();
        let store = FjallStore::open(dir.path()).unwrap();
        store.commit(crate::conformance::sample_batch(Height::new(0))).unwrap();
        store.close().unwrap();
        // Make it a directory of the earlier layout: every keyspace but the private one.
        {
            let db = Database::builder(dir.path()).open().unwrap();
            let private = db.keyspace(PRIVATE, KeyspaceCreateOptions::default).unwrap();
            db.delete_keyspace(private).unwrap();
            assert!(!db.keyspace_exists(PRIVATE));
            db.persist(PersistMode::SyncAll).unwrap();
        }

        let store = FjallStore::open(dir.path()).unwrap();
        assert_eq!(
            crate::conformance::verify_sample_chain(&store, Some(Height::new(0))),
            Some(Height::new(0))
        );
        assert_eq!(store.private_get(b"k").unwrap(), None);
        store.private_put(vec![(b"k".to_vec(), Some(b"v".to_vec()))]).unwrap();
        store.close().unwrap();
        let store = FjallStore::open(dir.path()).unwrap();
        assert_eq!(store.private_get(b"k").unwrap(), Some(b"v".to_vec()));
    }

    #[test]
    fn tx_locations_round_trip() {
        let at = TxLocation { height: Height::new(u64::MAX - 1), index: u32::MAX };
        assert_eq!(decode_location(&encode_location(at.height, at.index)), Some(at));
        assert_eq!(decode_location(&[0; 11]), None);
        assert_eq!(decode_location(&[0; 13]), None);
    }
}
