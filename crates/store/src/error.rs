//! The store's one error type. Caller mistakes (a batch the store must refuse) are kept apart
//! from fatal failures (the node must stop rather than diverge).

use std::path::PathBuf;

use civic_types::{Hash32, Height};

use crate::TxLocation;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The batch's height is not the one after the latest commit (0 for the first commit).
    #[error(
        "commit out of order: the store expects height {expected} next but was given {got}; \
         commit blocks one at a time, in height order, starting at 0"
    )]
    HeightGap { expected: Height, got: Height },

    /// The batch's block hash is already stored.
    #[error("block {hash} is already stored at height {height}; a block may be committed only once")]
    DuplicateBlock { hash: Hash32, height: Height },

    /// A transaction hash of the batch is already stored, or appears twice in the batch.
    #[error(
        "transaction {hash} is already included at height {}, index {}; \
         the ledger must not include a transaction twice",
        at.height,
        at.index
    )]
    DuplicateTx { hash: Hash32, at: TxLocation },

    /// The batch has more transactions than an index (`u32`) can address.
    #[error("the batch has {count} transactions; a block may hold at most 4294967296")]
    TooManyTxs { count: usize },

    /// A key or value of the batch is longer than [`crate::MAX_KEY_BYTES`] or
    /// [`crate::MAX_VALUE_BYTES`].
    #[error(
        "the batch has a {what} of {len} bytes, more than the {max} a store keeps; the ledger \
         must bound the keys and values it writes"
    )]
    TooLarge { what: &'static str, len: usize, max: usize },

    /// Another process (or another handle in this one) has the data file or directory open.
    #[error(
        "data file {} is in use by another civic process; stop that process or use another \
         data directory",
        path.display()
    )]
    InUse { path: PathBuf },

    /// The data file was written in a store format this build does not read.
    #[error(
        "data file {} has store format {found}, this build reads format {supported}; run a \
         civic release that matches the data directory",
        path.display()
    )]
    UnsupportedFormat { path: PathBuf, found: u64, supported: u64 },

    /// Reading or writing the data file failed.
    #[error("storage I/O failed: {0}; check free disk space and permissions, then restart the node")]
    Io(std::io::Error),

    /// The data file is damaged.
    #[error(
        "data file is corrupted: {0}; restore the data directory from a backup or resync it \
         from peers"
    )]
    Corrupt(String),

    /// The storage engine failed in another way.
    #[error("storage engine failed: {0}; stop the node and inspect the data directory")]
    Backend(String),
}

impl StoreError {
    /// Whether the store can no longer be trusted (I/O failure, corruption, engine failure), so
    /// the node must stop. The other errors are refusals that changed nothing.
    pub fn is_fatal(&self) -> bool {
        matches!(self, Self::Io(_) | Self::Corrupt(_) | Self::Backend(_))
    }
}
