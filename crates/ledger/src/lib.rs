//! The ledger core: transactions, blocks, receipts, genesis, and the deterministic state machine
//! with its built-in modules (membership and governance, notary).
//!
//! Guarantees: pure and deterministic — no clock (time comes from the block header), no
//! randomness, no I/O (state is read through [`state::StateRead`]), only ordered maps. Everything
//! that goes on chain has one canonical encoding (BCS) pinned by golden hashes in the tests.

pub mod block;
pub mod chain;
pub mod checks;
pub mod exec;
pub mod modules;
pub mod state;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod tx;

pub use block::{Block, BlockHeader, Certificate, Event, Outcome, Receipt};
pub use exec::{BlockEnv, Ctx, Executed, Executor, Mode, Module, TxError};
pub use modules::membership::Genesis;
pub use tx::{Call, ModuleCall, SignedTx, Transaction};
