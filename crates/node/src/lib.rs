//! A Civic Ledger node as a library: storage, the mempool, the consensus application
//! (propose / verify / finalized), events and metrics. Binaries wire it to the HTTP API and a
//! consensus engine; this crate knows nothing of HTTP.
//!
//! Guarantees: a transaction is acknowledged as committed only after the block that holds it is
//! durably stored; blocks are applied once, in height order; a storage failure stops block
//! production instead of letting this node diverge.

#![allow(clippy::disallowed_methods)] // the node is the imperative shell: it owns the clock

pub mod devnet;
pub mod keyfile;
pub mod licenses;
pub mod mempool;
pub mod metrics;
mod node;
pub mod runtime;
pub mod service;
pub mod supervision;

/// The wall clock as Unix milliseconds: for the node's shell (block proposals, gateway receipt
/// times, validity checks), never for the state machine, which reads time from block headers.
pub fn now_ms() -> civic_types::UnixMillis {
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    civic_types::UnixMillis::new(u64::try_from(ms).unwrap_or(u64::MAX))
}

pub use node::{
    Committed, Node, NodeConfig, NodeError, NodeEvent, NodeStatus, StoreState, SubmitError, TxProof,
    TxRecord, WaitOutcome,
};
