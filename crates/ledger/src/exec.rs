//! The deterministic state machine: `execute(state, env, txs) -> (receipts, writes)`.
//!
//! Guarantees: the result is a pure function of the committed state, the block environment
//! (height and the proposer's timestamp) and the transactions. No clock, no randomness, no I/O
//! beyond reading committed state, and only ordered maps. Signatures are verified before
//! execution by the caller (in parallel batches); execution checks everything else.

use std::collections::{BTreeMap, BTreeSet};

use civic_types::{AccountId, ChainId, Hash32, Height, Nonce, Role, UnixMillis};
use serde::{Serialize, de::DeserializeOwned};

use crate::block::{Event, Outcome, Receipt};
use crate::modules::membership::{self, Account};
use crate::state::{Overlay, StateError, StateRead, decode_value, encode_value};
use crate::tx::{Call, SignedTx};

/// Why a transaction was rejected; becomes its receipt. `Fatal` is not a rejection: it aborts
/// the block because state could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    /// The signer lacks a role or authority for this call.
    #[error("{0}")]
    Unauthorized(String),
    /// A referenced record does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The call's content is invalid.
    #[error("{0}")]
    Invalid(String),
    /// The call conflicts with current state (duplicate, wrong status).
    #[error("{0}")]
    Conflict(String),
    /// Storage failed; the node must stop.
    #[error(transparent)]
    Fatal(#[from] StateError),
}

impl TxError {
    /// The stable code written into receipts and API errors.
    pub fn code(&self) -> &'static str {
        match self {
            TxError::Unauthorized(_) => "unauthorized",
            TxError::NotFound(_) => "not_found",
            TxError::Invalid(_) => "invalid",
            TxError::Conflict(_) => "conflict",
            TxError::Fatal(_) => "fatal",
        }
    }
}

/// One application module: a namespace of state and a typed call enum.
///
/// Implementers must be deterministic: `apply` may only read state through the context, must
/// iterate ordered collections only, and must return the same result on every node.
pub trait Module: Send + Sync {
    /// The module name used in calls and as the state key prefix.
    fn name(&self) -> &'static str;
    /// Stateless validation of a call (decodes, bounds). Run before a transaction enters the
    /// mempool and again during execution.
    fn check(&self, payload: &[u8]) -> Result<(), TxError>;
    /// Executes the call.
    fn apply(&self, ctx: &mut Ctx<'_, '_>, payload: &[u8]) -> Result<(), TxError>;
    /// The call as JSON, for explorers and the CLI.
    fn describe(&self, payload: &[u8]) -> serde_json::Value;
    /// Canonical call bytes from the call's JSON form (the inverse of `describe`'s `call`).
    fn encode_json(&self, call: serde_json::Value) -> Result<Vec<u8>, TxError>;
}

/// The block being executed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockEnv {
    /// Height of the block.
    pub height: Height,
    /// Proposer's timestamp: the only time the state machine knows.
    pub time: UnixMillis,
}

/// What a module sees while executing one transaction.
pub struct Ctx<'o, 'b> {
    /// The block.
    pub env: BlockEnv,
    /// Hash of the transaction.
    pub tx_hash: Hash32,
    /// The signer's account, as of before this transaction.
    pub signer: Account,
    state: &'o mut Overlay<'b>,
    events: Vec<Event>,
}

impl<'o, 'b> Ctx<'o, 'b> {
    /// A context for one transaction (also used by genesis and tests).
    pub fn new(env: BlockEnv, tx_hash: Hash32, signer: Account, state: &'o mut Overlay<'b>) -> Self {
        Ctx { env, tx_hash, signer, state, events: Vec::new() }
    }
    /// Reads and decodes a value.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, TxError> {
        match self.state.get(key.as_bytes())? {
            None => Ok(None),
            Some(b) => decode_value(&b)
                .map(Some)
                .map_err(|e| TxError::Fatal(StateError(format!("corrupt state at {key}: {e}")))),
        }
    }
    /// Encodes and writes a value.
    pub fn put<T: Serialize>(&mut self, key: &str, value: &T) {
        self.state.put(key.as_bytes().to_vec(), Some(encode_value(value)));
    }
    /// Deletes a key.
    pub fn delete(&mut self, key: &str) {
        self.state.put(key.as_bytes().to_vec(), None);
    }
    /// Emits an event into the receipt.
    pub fn emit(&mut self, event: Event) {
        self.events.push(event);
    }
    /// Fails unless the signer holds `role`.
    pub fn require_role(&self, role: Role) -> Result<(), TxError> {
        if self.signer.roles.contains(&role) {
            Ok(())
        } else {
            Err(TxError::Unauthorized(format!(
                "account {} lacks the role {role} required for this call",
                self.signer.id
            )))
        }
    }
    /// The events emitted so far.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }
}

/// How strictly to treat a transaction that cannot be executed at all (bad nonce, unknown
/// signer, wrong chain, wrong key).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Building a block: drop such transactions and report them.
    Propose,
    /// Checking someone else's block: any such transaction makes the block invalid.
    Verify,
}

/// Why a block could not be executed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// A transaction in a block under verification is not executable.
    #[error("transaction {index} ({hash}) is not executable: {reason}")]
    InvalidTx {
        /// Position in the block.
        index: usize,
        /// Its hash.
        hash: Hash32,
        /// Why.
        reason: String,
    },
    /// Storage failed.
    #[error(transparent)]
    State(#[from] StateError),
}

/// The result of executing a block's transactions.
#[derive(Debug)]
pub struct Executed {
    /// Transactions included, in order.
    pub txs: Vec<SignedTx>,
    /// One receipt per included transaction.
    pub receipts: Vec<Receipt>,
    /// Transactions dropped while proposing, with the reason.
    pub dropped: Vec<(Hash32, String)>,
    /// State writes of the block (None deletes).
    pub writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

/// The state machine: the module registry plus the chain id.
pub struct Executor {
    chain_id: ChainId,
    modules: BTreeMap<&'static str, Box<dyn Module>>,
}

/// State key of an account's next nonce.
pub fn nonce_key(account: &AccountId) -> String {
    format!("core/nonce/{account}")
}

impl Executor {
    /// An executor with the built-in modules (membership and governance, notary).
    pub fn new(chain_id: ChainId) -> Executor {
        let mut e = Executor { chain_id, modules: BTreeMap::new() };
        e.register(Box::new(membership::Membership));
        e.register(Box::new(crate::modules::notary::Notary));
        e
    }
    /// Adds a module (application crates call this when the node is assembled).
    pub fn register(&mut self, m: Box<dyn Module>) {
        self.modules.insert(m.name(), m);
    }
    /// The chain id.
    pub fn chain_id(&self) -> &ChainId {
        &self.chain_id
    }
    /// Module names.
    pub fn module_names(&self) -> Vec<&'static str> {
        self.modules.keys().copied().collect()
    }

    /// Stateless checks for admission: chain id, known module, call decodes.
    pub fn check_stateless(&self, tx: &SignedTx) -> Result<(), TxError> {
        if tx.tx.chain_id != self.chain_id {
            return Err(TxError::Invalid(format!(
                "transaction is for chain {}, this is chain {}",
                tx.tx.chain_id, self.chain_id
            )));
        }
        self.module(&tx.tx.call)?.check(&tx.tx.call.payload)
    }

    fn module(&self, call: &Call) -> Result<&dyn Module, TxError> {
        self.modules.get(call.module.as_str()).map(|m| m.as_ref()).ok_or_else(|| {
            TxError::Invalid(format!(
                "unknown module {:?}; modules are {}",
                call.module,
                self.module_names().join(", ")
            ))
        })
    }

    /// Builds a call from a module name and the call's JSON form.
    pub fn call_from_json(&self, module: &str, call: serde_json::Value) -> Result<Call, TxError> {
        let m = self.modules.get(module).ok_or_else(|| {
            TxError::Invalid(format!(
                "unknown module {module:?}; modules are {}",
                self.module_names().join(", ")
            ))
        })?;
        let payload = m.encode_json(call)?;
        m.check(&payload)?;
        Ok(Call { module: module.to_owned(), payload })
    }

    /// The call as JSON.
    pub fn describe(&self, call: &Call) -> serde_json::Value {
        match self.modules.get(call.module.as_str()) {
            Some(m) => m.describe(&call.payload),
            None => serde_json::json!({ "module": call.module, "undecodable": true }),
        }
    }

    /// The signer's current account and expected nonce, or why the transaction cannot run.
    pub fn precheck(
        &self,
        state: &Overlay<'_>,
        tx: &SignedTx,
    ) -> Result<Result<Account, String>, StateError> {
        if tx.tx.chain_id != self.chain_id {
            return Ok(Err(format!("wrong chain id {}", tx.tx.chain_id)));
        }
        let Some(acct) = membership::load_account(state, &tx.tx.signer)? else {
            return Ok(Err(format!("unknown account {}", tx.tx.signer)));
        };
        if !acct.active {
            return Ok(Err(format!("account {} has been removed", acct.id)));
        }
        if !membership::org_active(state, &acct.id.org())? {
            return Ok(Err(format!("organization {} is not active", acct.id.org())));
        }
        if acct.public_key != tx.public_key {
            return Ok(Err(format!("key {} is not the current key of account {}", tx.public_key, acct.id)));
        }
        let expected = self.nonce(state, &tx.tx.signer)?;
        if tx.tx.nonce != expected {
            return Ok(Err(format!("nonce {} is not the expected {}", tx.tx.nonce, expected)));
        }
        Ok(Ok(acct))
    }

    /// The account's next nonce in `state`.
    pub fn nonce(&self, state: &Overlay<'_>, account: &AccountId) -> Result<Nonce, StateError> {
        match state.get(nonce_key(account).as_bytes())? {
            None => Ok(Nonce::new(0)),
            Some(b) => decode_value(&b).map_err(|e| StateError(format!("corrupt nonce: {e}"))),
        }
    }

    /// Executes `txs` in order over `base`. See [`Mode`] for unexecutable transactions.
    pub fn execute(
        &self,
        base: &dyn StateRead,
        env: BlockEnv,
        txs: Vec<SignedTx>,
        mode: Mode,
    ) -> Result<Executed, ExecError> {
        let mut overlay = Overlay::new(base);
        let mut out = Executed {
            txs: Vec::with_capacity(txs.len()),
            receipts: Vec::with_capacity(txs.len()),
            dropped: Vec::new(),
            writes: BTreeMap::new(),
        };
        let mut seen = BTreeSet::new();
        for (index, tx) in txs.into_iter().enumerate() {
            let hash = tx.hash();
            let pre = if seen.insert(hash) {
                self.precheck(&overlay, &tx)?
            } else {
                Err("duplicate transaction in block".to_owned())
            };
            let account = match pre {
                Ok(a) => a,
                Err(reason) => match mode {
                    Mode::Propose => {
                        out.dropped.push((hash, reason));
                        continue;
                    }
                    Mode::Verify => return Err(ExecError::InvalidTx { index, hash, reason }),
                },
            };
            let next = tx.tx.nonce.checked_next().ok_or_else(|| ExecError::InvalidTx {
                index,
                hash,
                reason: "nonce overflow".into(),
            })?;
            let result = {
                let mut ctx = Ctx::new(env, hash, account, &mut overlay);
                let r = self.module(&tx.tx.call).and_then(|m| {
                    m.check(&tx.tx.call.payload).and_then(|_| m.apply(&mut ctx, &tx.tx.call.payload))
                });
                (r, ctx.take_events())
            };
            let receipt = match result {
                (Ok(()), events) => {
                    overlay.commit_tx();
                    Receipt { tx_hash: hash, outcome: Outcome::Ok, events }
                }
                (Err(TxError::Fatal(e)), _) => return Err(ExecError::State(e)),
                (Err(e), _) => {
                    overlay.discard_tx();
                    Receipt {
                        tx_hash: hash,
                        outcome: Outcome::Rejected { code: e.code().to_owned(), reason: e.to_string() },
                        events: Vec::new(),
                    }
                }
            };
            // The nonce is consumed either way, so a rejection is part of the record.
            overlay.put(nonce_key(&tx.tx.signer).into_bytes(), Some(encode_value(&next)));
            overlay.commit_tx();
            out.receipts.push(receipt);
            out.txs.push(tx);
        }
        out.writes = overlay.into_writes();
        Ok(out)
    }
}
