//! Building and checking blocks: the pure halves of the consensus application interface.
//! `build` is what a proposer does (select, execute, commit to roots); `verify` is what every
//! other validator does with a proposal (check the header against re-execution). Both return the
//! same [`Applied`] so the node commits identical bytes either way.

use std::collections::BTreeMap;

use civic_types::{Hash32, Height, PublicKey, UnixMillis};

use crate::block::{Block, BlockHeader, Certificate, Receipt, receipts_root, tx_root};
use crate::exec::{BlockEnv, ExecError, Executor, Mode};
use crate::modules::membership::Genesis;
use crate::state::{MemState, StateError, StateRead, commit_writes};
use crate::tx::{SignedTx, verify_signatures};

/// A block with everything the store needs to commit it.
#[derive(Debug)]
pub struct Applied {
    /// The block (its certificate may still be empty).
    pub block: Block,
    /// Receipts, in transaction order.
    pub receipts: Vec<Receipt>,
    /// State writes.
    pub writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// New content-addressed objects (state tree nodes and values).
    pub objects: Vec<(Hash32, Vec<u8>)>,
    /// Transactions the proposer dropped, with reasons (empty when verifying).
    pub dropped: Vec<(Hash32, String)>,
}

/// Why a proposed block is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// A header field disagrees with the parent or with re-execution.
    #[error("block {height}: {field} is wrong: {detail}")]
    Header {
        /// Height.
        height: Height,
        /// The field.
        field: &'static str,
        /// Expected vs found.
        detail: String,
    },
    /// A signature does not verify.
    #[error("transaction {0} has a bad signature")]
    BadSignature(Hash32),
    /// A transaction cannot execute.
    #[error(transparent)]
    Exec(#[from] ExecError),
}

/// Block 0 and the genesis state.
pub fn genesis_block(genesis: &Genesis) -> Result<Applied, crate::modules::membership::GenesisError> {
    let writes = genesis.state_writes()?;
    let empty = MemState::default();
    let (state_root, objects) = commit_writes(&empty, Hash32::ZERO, &writes)
        .map_err(|e| crate::modules::membership::GenesisError(e.to_string()))?;
    let proposer = genesis.validators.first().map(|v| v.public_key).ok_or_else(|| {
        crate::modules::membership::GenesisError("at least one validator is required".into())
    })?;
    let header = BlockHeader {
        chain_id: genesis.chain_id.clone(),
        height: Height::new(0),
        prev_hash: genesis.hash(),
        timestamp: genesis.genesis_time,
        tx_root: tx_root(&[]),
        tx_count: 0,
        receipts_root: receipts_root(&[]),
        state_root,
        proposer,
    };
    Ok(Applied {
        block: Block { header, txs: vec![], certificate: Certificate::default() },
        receipts: vec![],
        writes,
        objects,
        dropped: vec![],
    })
}

fn finish(
    base: &dyn StateRead,
    parent: &BlockHeader,
    env: BlockEnv,
    proposer: PublicKey,
    exec: crate::exec::Executed,
) -> Result<Applied, StateError> {
    let (state_root, objects) = commit_writes(base, parent.state_root, &exec.writes)?;
    let header = BlockHeader {
        chain_id: parent.chain_id.clone(),
        height: env.height,
        prev_hash: parent.hash(),
        timestamp: env.time,
        tx_root: tx_root(&exec.txs),
        tx_count: u32::try_from(exec.txs.len()).unwrap_or(u32::MAX),
        receipts_root: receipts_root(&exec.receipts),
        state_root,
        proposer,
    };
    Ok(Applied {
        block: Block { header, txs: exec.txs, certificate: Certificate::default() },
        receipts: exec.receipts,
        writes: exec.writes,
        objects,
        dropped: exec.dropped,
    })
}

/// Proposes the next block over `parent` from candidate transactions whose signatures the
/// caller has already verified. Unexecutable candidates are dropped and listed.
pub fn build(
    executor: &Executor,
    base: &dyn StateRead,
    parent: &BlockHeader,
    timestamp: UnixMillis,
    proposer: PublicKey,
    candidates: Vec<SignedTx>,
) -> Result<Applied, ExecError> {
    let height = parent.height.checked_next().ok_or_else(|| StateError("height overflow".into()))?;
    // Block time never goes backwards, whatever the proposer's clock says.
    let time = timestamp.max(parent.timestamp);
    let env = BlockEnv { height, time };
    let exec = executor.execute(base, env, candidates, Mode::Propose)?;
    Ok(finish(base, parent, env, proposer, exec)?)
}

/// Checks a proposed block against its parent by re-executing it: signatures (batched over
/// `threads`), height, parent hash, time, and every root.
pub fn verify(
    executor: &Executor,
    base: &dyn StateRead,
    parent: &BlockHeader,
    block: &Block,
    threads: usize,
) -> Result<Applied, VerifyError> {
    let h = &block.header;
    let wrong = |field: &'static str, detail: String| VerifyError::Header { height: h.height, field, detail };
    if h.chain_id != parent.chain_id {
        return Err(wrong("chain_id", format!("expected {}, found {}", parent.chain_id, h.chain_id)));
    }
    if Some(h.height) != parent.height.checked_next() {
        return Err(wrong("height", format!("parent is {}, found {}", parent.height, h.height)));
    }
    if h.prev_hash != parent.hash() {
        return Err(wrong("prev_hash", format!("expected {}, found {}", parent.hash(), h.prev_hash)));
    }
    if h.timestamp < parent.timestamp {
        return Err(wrong(
            "timestamp",
            format!("{} is before the parent's {}", h.timestamp, parent.timestamp),
        ));
    }
    for (ok, tx) in verify_signatures(&block.txs, threads).into_iter().zip(&block.txs) {
        if !ok {
            return Err(VerifyError::BadSignature(tx.hash()));
        }
    }
    let env = BlockEnv { height: h.height, time: h.timestamp };
    let exec = executor.execute(base, env, block.txs.clone(), Mode::Verify)?;
    let applied = finish(base, parent, env, h.proposer, exec).map_err(ExecError::from)?;
    let a = &applied.block.header;
    for (field, want, got) in [
        ("tx_root", a.tx_root, h.tx_root),
        ("receipts_root", a.receipts_root, h.receipts_root),
        ("state_root", a.state_root, h.state_root),
    ] {
        if want != got {
            return Err(wrong(field, format!("re-execution gives {want}, block says {got}")));
        }
    }
    if a.tx_count != h.tx_count {
        return Err(wrong("tx_count", format!("{} transactions, header says {}", a.tx_count, h.tx_count)));
    }
    Ok(Applied { block: block.clone(), ..applied })
}
