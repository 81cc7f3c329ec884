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

pub use node::{
    Committed, Node, NodeConfig, NodeError, NodeEvent, NodeStatus, StoreState, SubmitError, TxProof,
    TxRecord, WaitOutcome,
};
