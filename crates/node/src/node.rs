//! The node: chain head, mempool, block building and committing, queries.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use civic_consensus::{AppError, Automaton, Reporter};
use civic_ledger::chain::{self, Applied};
use civic_ledger::exec::TxError;
use civic_ledger::modules::membership::{self, Validator};
use civic_ledger::state::{Overlay, StateError, StateProof, StateRead};
use civic_ledger::tx::{TxDecodeError, verify_signatures};
use civic_ledger::{Block, BlockHeader, Executor, Genesis, Outcome, Receipt, SignedTx};
use civic_store::{CommitBatch, Store, StoreError, TxLocation};
use civic_types::{AccountId, ChainId, Hash32, Height, Nonce, PublicKey, UnixMillis, decode, encode};
use serde::Serialize;
use tokio::sync::{broadcast, oneshot};

use crate::mempool::{AdmitError, Mempool};
use crate::metrics::Metrics;
use crate::now_ms;

/// How far ahead of an account's current nonce a pending transaction may be.
pub const MAX_NONCE_GAP: u64 = 1024;

/// Node settings.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Data directory.
    pub data_dir: PathBuf,
    /// Most transactions per block.
    pub max_block_txs: usize,
    /// Most pending transactions.
    pub mempool_capacity: usize,
    /// Shortest time between blocks (lets transactions batch up).
    pub min_block_interval: Duration,
    /// Produce an empty block after this long without transactions (zero: never).
    pub empty_block_interval: Duration,
    /// Threads for signature verification and block verification.
    pub threads: usize,
}

impl NodeConfig {
    /// Defaults for a data directory.
    pub fn new(data_dir: PathBuf) -> Self {
        NodeConfig {
            data_dir,
            max_block_txs: 40_000,
            mempool_capacity: 400_000,
            min_block_interval: Duration::from_millis(100),
            empty_block_interval: Duration::ZERO,
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

/// A failure that stops the node.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// State could not be read.
    #[error(transparent)]
    State(#[from] StateError),
    /// Stored data does not decode.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The data directory belongs to another chain.
    #[error(
        "the data directory holds chain {stored} but the genesis is for {given}; use another --data-dir or the matching genesis"
    )]
    WrongChain {
        /// Genesis hash in the store.
        stored: String,
        /// Genesis hash given.
        given: String,
    },
    /// The genesis document is invalid.
    #[error(transparent)]
    Genesis(#[from] membership::GenesisError),
}

/// Why a submitted transaction was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// Malformed or oversized bytes.
    #[error("malformed transaction: {0}")]
    Decode(#[from] TxDecodeError),
    /// The signature does not verify.
    #[error("the signature does not verify for the transaction bytes and public key")]
    BadSignature,
    /// Fails a stateless check (chain, module, call encoding).
    #[error("{0}")]
    Invalid(TxError),
    /// The signer is not a usable account or the key is not its key.
    #[error("{0}")]
    Unauthorized(String),
    /// The nonce is already used.
    #[error("nonce {got} is already used by account {account}; the next nonce is {expected}")]
    NonceTooLow {
        /// Account.
        account: AccountId,
        /// Submitted.
        got: Nonce,
        /// Next usable.
        expected: Nonce,
    },
    /// The nonce is too far ahead.
    #[error(
        "nonce {got} is too far ahead of account {account}'s next nonce {expected} (at most {MAX_NONCE_GAP} ahead)"
    )]
    NonceTooHigh {
        /// Account.
        account: AccountId,
        /// Submitted.
        got: Nonce,
        /// Next usable.
        expected: Nonce,
    },
    /// Already in a block.
    #[error("transaction {hash} is already committed at height {height}")]
    AlreadyCommitted {
        /// Hash.
        hash: Hash32,
        /// Height.
        height: Height,
    },
    /// The mempool refused it.
    #[error(transparent)]
    Mempool(#[from] AdmitError),
    /// The node failed internally.
    #[error("internal node error: {0}")]
    Internal(String),
}

/// Where and how a transaction was committed.
#[derive(Clone, Debug, Serialize)]
pub struct Committed {
    /// Block height.
    pub height: Height,
    /// Position in the block.
    pub index: u32,
    /// Block hash.
    pub block_hash: Hash32,
    /// Receipt.
    pub receipt: Receipt,
}

/// What a waiter learns about its transaction.
#[derive(Clone, Debug)]
pub enum WaitOutcome {
    /// Durably committed.
    Committed(Committed),
    /// The proposer dropped it (e.g. its key was rotated meanwhile).
    Dropped(String),
}

/// An event for subscribers (`/v1/events`).
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NodeEvent {
    /// A block was committed.
    Block {
        /// Height.
        height: Height,
        /// Hash.
        hash: Hash32,
        /// Block time.
        time: UnixMillis,
        /// Transaction count.
        tx_count: u32,
    },
    /// A transaction's receipt.
    Receipt {
        /// Transaction.
        tx_hash: Hash32,
        /// Height.
        height: Height,
        /// Index.
        index: u32,
        /// Outcome.
        outcome: Outcome,
        /// Events.
        events: Vec<civic_ledger::Event>,
    },
}

/// Node status for `/v1/status`.
#[derive(Clone, Debug, Serialize)]
pub struct NodeStatus {
    /// Chain id.
    pub chain_id: ChainId,
    /// Genesis document hash.
    pub genesis_hash: Hash32,
    /// Latest height.
    pub height: Height,
    /// Latest block hash.
    pub latest_block_hash: Hash32,
    /// Latest block time.
    pub latest_block_time: UnixMillis,
    /// Latest state root.
    pub state_root: Hash32,
    /// This node's validator key.
    pub node_key: PublicKey,
    /// The validator set.
    pub validators: Vec<Validator>,
    /// Pending transactions.
    pub mempool_size: usize,
    /// Software version.
    pub version: &'static str,
}

/// A committed transaction.
#[derive(Clone, Debug)]
pub struct TxRecord {
    /// Location.
    pub location: TxLocation,
    /// Block hash.
    pub block_hash: Hash32,
    /// Block time.
    pub block_time: UnixMillis,
    /// The transaction.
    pub tx: SignedTx,
    /// Its receipt.
    pub receipt: Receipt,
}

/// An RFC 6962 inclusion proof of a transaction in its block, with the block header.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq)]
pub struct TxProof {
    /// Transaction hash.
    pub tx_hash: Hash32,
    /// Canonical transaction bytes (the leaf data).
    pub tx_bytes: Vec<u8>,
    /// The proof (leaf index, tree size, audit path).
    pub proof: civic_merkle::InclusionProof,
    /// The block header whose `tx_root` the proof leads to.
    pub header: BlockHeader,
}

/// Committed state as seen through a store.
pub struct StoreState<'a>(pub &'a dyn Store);

impl StateRead for StoreState<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.0.state_get(key).map_err(|e| StateError(e.to_string()))
    }
    fn object(&self, hash: &Hash32) -> Result<Option<Vec<u8>>, StateError> {
        self.0.object(hash).map_err(|e| StateError(e.to_string()))
    }
}

struct Pending {
    hash: Hash32,
    receipts: Vec<Receipt>,
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    objects: Vec<(Hash32, Vec<u8>)>,
    started: Instant,
    /// How long building (selection, execution, roots) took.
    build: Duration,
}

type Waiters = BTreeMap<Hash32, Vec<oneshot::Sender<WaitOutcome>>>;

/// A finalized block on its way to the store.
struct Inflight {
    block: Block,
    pending: Pending,
    objects: BTreeMap<Hash32, Vec<u8>>,
}

/// Committed state plus the writes of the finalized block being persisted. Reading through the
/// block's writes first is always consistent: the store will hold exactly those values.
struct Layered<'a> {
    store: &'a dyn Store,
    inflight: Option<Arc<Inflight>>,
}

impl StateRead for Layered<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        if let Some(v) = self.inflight.as_ref().and_then(|i| i.pending.writes.get(key)) {
            return Ok(v.clone());
        }
        self.store.state_get(key).map_err(|e| StateError(e.to_string()))
    }
    fn object(&self, hash: &Hash32) -> Result<Option<Vec<u8>>, StateError> {
        if let Some(v) = self.inflight.as_ref().and_then(|i| i.objects.get(hash)) {
            return Ok(Some(v.clone()));
        }
        self.store.object(hash).map_err(|e| StateError(e.to_string()))
    }
}

/// A running node's shared state.
pub struct Node {
    executor: Executor,
    store: Arc<dyn Store>,
    genesis_hash: Hash32,
    validator: PublicKey,
    config: NodeConfig,
    /// Latest durable header: what queries see.
    head: RwLock<BlockHeader>,
    /// Latest finalized header: the parent of the next proposal (one ahead of `head` while a
    /// block is being persisted).
    tip: RwLock<BlockHeader>,
    /// The finalized block being persisted, whose writes the next proposal reads through.
    inflight: Mutex<Option<Arc<Inflight>>>,
    /// Hash of every durable block, by height: the leaves of the block log (an RFC 6962 tree
    /// whose consistency proofs show that history was only ever appended to).
    block_hashes: RwLock<Vec<Hash32>>,
    pool: Mutex<Mempool>,
    work: Condvar,
    pending: Mutex<Option<Pending>>,
    waiters: Mutex<Waiters>,
    events: broadcast::Sender<NodeEvent>,
    metrics: Metrics,
    last_block_at: Mutex<Option<Instant>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves plain data behind, never a torn invariant
    // that later readers could trip over, so poisoning is ignored.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn corrupt(e: impl std::fmt::Display) -> NodeError {
    NodeError::Corrupt(e.to_string())
}

impl Node {
    /// Opens the chain in `store`, writing the genesis block on first start.
    pub fn open(
        store: Arc<dyn Store>,
        genesis: &Genesis,
        executor: Executor,
        validator: PublicKey,
        config: NodeConfig,
    ) -> Result<Node, NodeError> {
        let genesis_hash = genesis.hash();
        let head = match store.latest_height()? {
            None => {
                let applied = chain::genesis_block(genesis)?;
                let header = applied.block.header.clone();
                let genesis_json = serde_json::to_vec_pretty(genesis).map_err(corrupt)?;
                store.commit(CommitBatch {
                    height: Height::new(0),
                    block_hash: applied.block.hash(),
                    block: applied.block.to_bytes(),
                    receipts: encode(&Vec::<Receipt>::new()),
                    tx_hashes: vec![],
                    state_writes: applied.writes.into_iter().collect(),
                    objects: applied.objects,
                    meta: vec![
                        ("genesis_hash".into(), genesis_hash.0.to_vec()),
                        ("genesis".into(), genesis_json),
                    ],
                })?;
                header
            }
            Some(h) => {
                let stored = store.meta("genesis_hash")?.unwrap_or_default();
                if stored != genesis_hash.0 {
                    return Err(NodeError::WrongChain {
                        stored: hex_of(&stored),
                        given: genesis_hash.to_hex(),
                    });
                }
                let bytes = store.block(h)?.ok_or_else(|| corrupt(format!("block {h} missing")))?;
                Block::from_bytes(&bytes).map_err(corrupt)?.header
            }
        };
        let mut block_hashes = Vec::with_capacity(usize::try_from(head.height.get()).unwrap_or(0) + 1);
        for h in 0..=head.height.get() {
            let bytes = store.block(Height::new(h))?.ok_or_else(|| corrupt(format!("block {h} missing")))?;
            block_hashes.push(Block::from_bytes(&bytes).map_err(corrupt)?.hash());
        }
        let metrics = Metrics::new();
        metrics.height.set(i64::try_from(head.height.get()).unwrap_or(i64::MAX));
        let (events, _) = broadcast::channel(4096);
        Ok(Node {
            executor,
            store,
            genesis_hash,
            validator,
            pool: Mutex::new(Mempool::new(config.mempool_capacity)),
            config,
            tip: RwLock::new(head.clone()),
            inflight: Mutex::new(None),
            block_hashes: RwLock::new(block_hashes),
            head: RwLock::new(head),
            work: Condvar::new(),
            pending: Mutex::new(None),
            waiters: Mutex::new(BTreeMap::new()),
            events,
            metrics,
            last_block_at: Mutex::new(None),
        })
    }

    /// The state machine.
    pub fn executor(&self) -> &Executor {
        &self.executor
    }
    /// The store.
    pub fn store(&self) -> &dyn Store {
        &*self.store
    }
    /// Metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }
    /// The configuration.
    pub fn config(&self) -> &NodeConfig {
        &self.config
    }
    /// Subscribes to events.
    pub fn events(&self) -> broadcast::Receiver<NodeEvent> {
        self.events.subscribe()
    }
    /// The latest durably committed header.
    pub fn head(&self) -> BlockHeader {
        self.head.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn tip(&self) -> BlockHeader {
        self.tip.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn layered(&self) -> Layered<'_> {
        Layered { store: &*self.store, inflight: lock(&self.inflight).clone() }
    }

    /// Status summary.
    pub fn status(&self) -> Result<NodeStatus, NodeError> {
        let head = self.head();
        let validators =
            self.state_value::<Vec<Validator>>(membership::keys::VALIDATORS)?.unwrap_or_default();
        Ok(NodeStatus {
            chain_id: head.chain_id.clone(),
            genesis_hash: self.genesis_hash,
            height: head.height,
            latest_block_hash: head.hash(),
            latest_block_time: head.timestamp,
            state_root: head.state_root,
            node_key: self.validator,
            validators,
            mempool_size: lock(&self.pool).len(),
            version: env!("CARGO_PKG_VERSION"),
        })
    }

    /// A decoded state value at the latest height.
    pub fn state_value<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<Option<T>, NodeError> {
        match self.store.state_get(key.as_bytes())? {
            None => Ok(None),
            Some(b) => civic_ledger::state::decode_value(&b).map(Some).map_err(corrupt),
        }
    }

    /// Visits the decoded state values under `prefix` whose keys sort after `after` (exclusive;
    /// from the first when `None`), in key order, reading a page at a time, until `visit`
    /// returns [`ControlFlow::Break`] or the prefix is exhausted. Each page is read at the
    /// latest height; a value that does not decode as `T` is corruption, never skipped.
    pub fn visit_state<T, E>(
        &self,
        prefix: &str,
        after: Option<&str>,
        mut visit: impl FnMut(&str, T) -> Result<std::ops::ControlFlow<()>, E>,
    ) -> Result<(), E>
    where
        T: serde::de::DeserializeOwned,
        E: From<NodeError>,
    {
        const PAGE: usize = 1024;
        let mut after: Option<Vec<u8>> = after.map(|a| a.as_bytes().to_vec());
        loop {
            let page =
                self.store.state_range(prefix.as_bytes(), after.as_deref(), PAGE).map_err(NodeError::from)?;
            for (k, v) in &page {
                let key = String::from_utf8_lossy(k);
                let value = civic_ledger::state::decode_value(v)
                    .map_err(|e| NodeError::Corrupt(format!("{key}: {e}")))?;
                if visit(&key, value)?.is_break() {
                    return Ok(());
                }
            }
            match page.last() {
                Some((k, _)) if page.len() == PAGE => after = Some(k.clone()),
                _ => return Ok(()),
            }
        }
    }

    /// Every decoded state value under `prefix`, with its key, in key order.
    pub fn scan_state<T: serde::de::DeserializeOwned>(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, T)>, NodeError> {
        let mut out = Vec::new();
        self.visit_state(prefix, None, |k, v| {
            out.push((k.to_owned(), v));
            Ok::<_, NodeError>(std::ops::ControlFlow::Continue(()))
        })?;
        Ok(out)
    }

    /// The next nonce of `account` in committed state.
    pub fn next_nonce(&self, account: &AccountId) -> Result<Nonce, NodeError> {
        let state = StoreState(&*self.store);
        Ok(self.executor.nonce(&Overlay::new(&state), account)?)
    }

    /// Registers interest in a transaction's commit. Call before submitting to avoid a race.
    pub fn watch(&self, hash: Hash32) -> oneshot::Receiver<WaitOutcome> {
        let (tx, rx) = oneshot::channel();
        lock(&self.waiters).entry(hash).or_default().push(tx);
        rx
    }

    /// Drops interest registered by [`Node::watch`] whose receivers are gone.
    pub fn unwatch(&self, hash: &Hash32) {
        let mut w = lock(&self.waiters);
        if let Some(list) = w.get_mut(hash) {
            list.retain(|s| !s.is_closed());
            if list.is_empty() {
                w.remove(hash);
            }
        }
    }

    /// Decodes, verifies and admits one transaction. Returns its hash.
    pub fn submit_bytes(&self, bytes: &[u8]) -> Result<Hash32, SubmitError> {
        let tx = SignedTx::from_bytes(bytes)?;
        self.submit(tx)
    }

    /// Verifies and admits one transaction.
    pub fn submit(&self, tx: SignedTx) -> Result<Hash32, SubmitError> {
        if !tx.verify_signature() {
            return Err(SubmitError::BadSignature);
        }
        self.admit(tx)
    }

    /// Verifies a batch of transactions with batch verification across all threads, then admits
    /// each. One result per transaction.
    pub fn submit_batch(&self, txs: Vec<SignedTx>) -> Vec<Result<Hash32, SubmitError>> {
        let ok = verify_signatures(&txs, self.config.threads);
        txs.into_iter()
            .zip(ok)
            .map(|(tx, ok)| if ok { self.admit(tx) } else { Err(SubmitError::BadSignature) })
            .collect()
    }

    fn admit(&self, tx: SignedTx) -> Result<Hash32, SubmitError> {
        let hash = tx.hash();
        self.executor.check_stateless(&tx).map_err(SubmitError::Invalid)?;
        let internal = |e: &dyn std::fmt::Display| SubmitError::Internal(e.to_string());
        if let Some(loc) = self.store.tx_location(&hash).map_err(|e| internal(&e))? {
            return Err(SubmitError::AlreadyCommitted { hash, height: loc.height });
        }
        let state = StoreState(&*self.store);
        let overlay = Overlay::new(&state);
        let signer = &tx.tx.signer;
        let account = membership::load_account(&overlay, signer)
            .map_err(|e| internal(&e))?
            .filter(|a| a.active)
            .ok_or_else(|| {
                SubmitError::Unauthorized(format!("account {signer} does not exist or was removed"))
            })?;
        if account.public_key != tx.public_key {
            return Err(SubmitError::Unauthorized(format!(
                "key {} is not the current key of account {signer}",
                tx.public_key
            )));
        }
        if !membership::org_active(&overlay, &signer.org()).map_err(|e| internal(&e))? {
            return Err(SubmitError::Unauthorized(format!("organization {} is not active", signer.org())));
        }
        let expected = self.executor.nonce(&overlay, signer).map_err(|e| internal(&e))?;
        if tx.tx.nonce < expected {
            return Err(SubmitError::NonceTooLow { account: signer.clone(), got: tx.tx.nonce, expected });
        }
        if tx.tx.nonce.get() - expected.get() > MAX_NONCE_GAP {
            return Err(SubmitError::NonceTooHigh { account: signer.clone(), got: tx.tx.nonce, expected });
        }
        let mut pool = lock(&self.pool);
        pool.insert(hash, tx)?;
        self.metrics.mempool_size.set(i64::try_from(pool.len()).unwrap_or(i64::MAX));
        if pool.len() >= self.config.max_block_txs {
            self.work.notify_all();
        } else {
            self.work.notify_one();
        }
        Ok(hash)
    }

    /// A block and its receipts.
    pub fn block(&self, height: Height) -> Result<Option<(Block, Vec<Receipt>)>, NodeError> {
        let Some(bytes) = self.store.block(height)? else { return Ok(None) };
        let block = Block::from_bytes(&bytes).map_err(corrupt)?;
        let receipts = match self.store.receipts(height)? {
            Some(r) => decode(&r, usize::MAX).map_err(corrupt)?,
            None => Vec::new(),
        };
        Ok(Some((block, receipts)))
    }

    /// The header at `height`.
    pub fn header(&self, height: Height) -> Result<Option<BlockHeader>, NodeError> {
        Ok(self.block(height)?.map(|(b, _)| b.header))
    }

    /// A committed transaction.
    pub fn tx(&self, hash: &Hash32) -> Result<Option<TxRecord>, NodeError> {
        let Some(location) = self.store.tx_location(hash)? else { return Ok(None) };
        let (block, receipts) = self
            .block(location.height)?
            .ok_or_else(|| corrupt(format!("block {} missing", location.height)))?;
        let i = location.index as usize;
        let tx = block.txs.get(i).cloned().ok_or_else(|| corrupt("tx index out of range"))?;
        let receipt = receipts.get(i).cloned().ok_or_else(|| corrupt("receipt missing"))?;
        Ok(Some(TxRecord {
            location,
            block_hash: block.hash(),
            block_time: block.header.timestamp,
            tx,
            receipt,
        }))
    }

    /// The inclusion proof of a committed transaction.
    pub fn tx_proof(&self, hash: &Hash32) -> Result<Option<TxProof>, NodeError> {
        let Some(location) = self.store.tx_location(hash)? else { return Ok(None) };
        let (block, _) = self
            .block(location.height)?
            .ok_or_else(|| corrupt(format!("block {} missing", location.height)))?;
        let leaves: Vec<Hash32> = block.txs.iter().map(|t| civic_merkle::leaf_hash(&t.to_bytes())).collect();
        let proof = civic_merkle::inclusion_proof(&leaves, u64::from(location.index)).map_err(corrupt)?;
        let tx_bytes = block.txs[location.index as usize].to_bytes();
        Ok(Some(TxProof { tx_hash: *hash, tx_bytes, proof, header: block.header }))
    }

    /// A state key's value with its proof at `height` (latest when `None`), and that header.
    pub fn state_proof(
        &self,
        key: &[u8],
        height: Option<Height>,
    ) -> Result<Option<(StateProof, BlockHeader)>, NodeError> {
        let header = match height {
            None => self.head(),
            Some(h) => match self.header(h)? {
                Some(hd) => hd,
                None => return Ok(None),
            },
        };
        let state = StoreState(&*self.store);
        let proof = civic_ledger::state::prove(&state, header.state_root, key)?;
        Ok(Some((proof, header)))
    }

    fn log_prefix(&self, size: u64) -> Option<Vec<Hash32>> {
        let hashes = self.block_hashes.read().unwrap_or_else(|e| e.into_inner());
        let n = usize::try_from(size).ok().filter(|n| *n <= hashes.len())?;
        Some(hashes[..n].iter().map(|h| civic_merkle::leaf_hash(h.as_bytes())).collect())
    }

    /// Number of blocks in the block log (latest durable height + 1).
    pub fn block_log_size(&self) -> u64 {
        self.block_hashes.read().unwrap_or_else(|e| e.into_inner()).len() as u64
    }

    /// The RFC 6962 root of the block log's first `size` block hashes; `None` beyond the chain.
    pub fn block_log_root(&self, size: u64) -> Option<Hash32> {
        self.log_prefix(size).map(|leaves| civic_merkle::root_from_leaf_hashes(&leaves))
    }

    /// Proof that the block at `height` is leaf `height` of the block log of `size` blocks.
    pub fn block_log_inclusion(
        &self,
        height: Height,
        size: u64,
    ) -> Option<(Hash32, civic_merkle::InclusionProof)> {
        let leaves = self.log_prefix(size)?;
        let proof = civic_merkle::inclusion_proof(&leaves, height.get()).ok()?;
        let hash = *self.block_hashes.read().unwrap_or_else(|e| e.into_inner()).get(height.get() as usize)?;
        Some((hash, proof))
    }

    /// Proof that the block log of `old` blocks is a prefix of the log of `new` blocks.
    pub fn block_log_consistency(&self, old: u64, new: u64) -> Option<civic_merkle::ConsistencyProof> {
        let leaves = self.log_prefix(new)?;
        civic_merkle::consistency_proof(&leaves, old).ok()
    }

    /// Recomputes the state root from every stored state entry and compares it with the latest
    /// header's. Used after crashes and by `civic verify-state`.
    pub fn verify_state_root(&self) -> Result<(Hash32, Hash32), NodeError> {
        let mut all = BTreeMap::new();
        let mut after: Option<Vec<u8>> = None;
        loop {
            let page = self.store.state_range(b"", after.as_deref(), 10_000)?;
            let Some(last) = page.last() else { break };
            after = Some(last.0.clone());
            for (k, v) in page {
                all.insert(k, Some(v));
            }
        }
        let empty = civic_ledger::state::MemState::default();
        let (root, _) = civic_ledger::state::commit_writes(&empty, Hash32::ZERO, &all)?;
        Ok((root, self.head().state_root))
    }

    fn notify_dropped(&self, dropped: &[(Hash32, String)]) {
        if dropped.is_empty() {
            return;
        }
        let mut w = lock(&self.waiters);
        for (h, reason) in dropped {
            tracing::info!(tx = %h, %reason, "dropped transaction while proposing");
            for s in w.remove(h).unwrap_or_default() {
                let _ = s.send(WaitOutcome::Dropped(reason.clone()));
            }
        }
    }

    fn commit(&self, inflight: &Inflight) -> Result<(), NodeError> {
        let (block, p) = (&inflight.block, &inflight.pending);
        let build_ms = p.build.as_millis();
        let store_started = Instant::now();
        let header = block.header.clone();
        let hash = block.hash();
        let tx_hashes: Vec<Hash32> = p.receipts.iter().map(|r| r.tx_hash).collect();
        self.store.commit(CommitBatch {
            height: header.height,
            block_hash: hash,
            block: block.to_bytes(),
            receipts: encode(&p.receipts),
            tx_hashes,
            state_writes: p.writes.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            objects: inflight.objects.iter().map(|(h, b)| (*h, b.clone())).collect(),
            meta: vec![],
        })?;
        let store_ms = store_started.elapsed().as_millis();
        self.block_hashes.write().unwrap_or_else(|e| e.into_inner()).push(hash);
        *self.head.write().unwrap_or_else(|e| e.into_inner()) = header.clone();

        let m = &self.metrics;
        m.height.set(i64::try_from(header.height.get()).unwrap_or(i64::MAX));
        m.blocks_committed.inc();
        m.txs_committed.inc_by(p.receipts.len() as u64);
        let rejected = p.receipts.iter().filter(|r| r.outcome != Outcome::Ok).count();
        m.txs_rejected.inc_by(rejected as u64);
        m.block_txs.observe(p.receipts.len() as f64);
        m.block_commit_seconds.observe(p.started.elapsed().as_secs_f64());
        {
            let mut last = lock(&self.last_block_at);
            if let Some(t) = *last {
                m.block_interval_seconds.observe(t.elapsed().as_secs_f64());
            }
            *last = Some(Instant::now());
        }
        m.mempool_size.set(i64::try_from(lock(&self.pool).len()).unwrap_or(i64::MAX));

        let subscribers = self.events.receiver_count() > 0;
        let mut waiters = lock(&self.waiters);
        for (i, r) in p.receipts.iter().cloned().enumerate() {
            let index = u32::try_from(i).unwrap_or(u32::MAX);
            if subscribers {
                let _ = self.events.send(NodeEvent::Receipt {
                    tx_hash: r.tx_hash,
                    height: header.height,
                    index,
                    outcome: r.outcome.clone(),
                    events: r.events.clone(),
                });
            }
            if let Some(list) = waiters.remove(&r.tx_hash) {
                let c = Committed { height: header.height, index, block_hash: hash, receipt: r };
                for s in list {
                    let _ = s.send(WaitOutcome::Committed(c.clone()));
                }
            }
        }
        drop(waiters);
        let _ = self.events.send(NodeEvent::Block {
            height: header.height,
            hash,
            time: header.timestamp,
            tx_count: header.tx_count,
        });
        tracing::debug!(height = %header.height, txs = header.tx_count, build_ms, store_ms, "committed block");
        Ok(())
    }
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn fatal(e: impl std::fmt::Display) -> AppError {
    AppError::Fatal(e.to_string())
}

impl Automaton for Node {
    fn propose(&self, force: bool) -> Result<Option<Block>, AppError> {
        let started = Instant::now();
        let head = self.tip();
        let state = self.layered();
        let overlay = Overlay::new(&state);
        let mut read_error = None;
        let txs = lock(&self.pool).take(self.config.max_block_txs, |a| {
            self.executor.nonce(&overlay, a).unwrap_or_else(|e| {
                read_error = Some(e);
                Nonce::new(u64::MAX)
            })
        });
        if let Some(e) = read_error {
            return Err(fatal(e));
        }
        if txs.is_empty() && !force {
            return Ok(None);
        }
        let applied: Applied =
            chain::build(&self.executor, &state, &head, now_ms(), self.validator, txs).map_err(fatal)?;
        self.notify_dropped(&applied.dropped);
        if applied.block.txs.is_empty() && !force {
            return Ok(None);
        }
        *lock(&self.pending) = Some(Pending {
            hash: applied.block.hash(),
            receipts: applied.receipts,
            writes: applied.writes,
            objects: applied.objects,
            started,
            build: started.elapsed(),
        });
        Ok(Some(applied.block))
    }

    fn verify(&self, block: &Block) -> Result<bool, AppError> {
        let head = self.tip();
        let state = self.layered();
        match chain::verify(&self.executor, &state, &head, block, self.config.threads) {
            Ok(_) => Ok(true),
            Err(chain::VerifyError::Exec(civic_ledger::exec::ExecError::State(e))) => Err(fatal(e)),
            Err(e) => {
                tracing::warn!(height = %block.header.height, error = %e, "rejected proposal");
                Ok(false)
            }
        }
    }

    fn wait_for_work(&self, timeout: Duration) {
        let pool = lock(&self.pool);
        if pool.is_empty() {
            let _ = self.work.wait_timeout(pool, timeout);
        }
    }
}

impl Reporter for Node {
    fn finalized(&self, block: Block) -> Result<(), AppError> {
        let started = Instant::now();
        let state = self.layered();
        let pending = lock(&self.pending).take().filter(|p| p.hash == block.hash());
        let mut pending = match pending {
            Some(p) => p,
            None => {
                // Someone else's block: re-execute it to get the writes.
                let applied = chain::verify(&self.executor, &state, &self.tip(), &block, self.config.threads)
                    .map_err(|e| fatal(format!("finalized block does not verify: {e}")))?;
                Pending {
                    hash: block.hash(),
                    receipts: applied.receipts,
                    writes: applied.writes,
                    objects: applied.objects,
                    started,
                    build: started.elapsed(),
                }
            }
        };
        let validators: Vec<PublicKey> =
            match state.get(membership::keys::VALIDATORS.as_bytes()).map_err(fatal)? {
                Some(b) => civic_ledger::state::decode_value::<Vec<Validator>>(&b).map_err(fatal)?,
                None => Vec::new(),
            }
            .into_iter()
            .map(|v| v.public_key)
            .collect();
        block.certificate.verify(&block.header, &validators).map_err(|e| {
            fatal(format!("certificate of block {} does not verify: {e}", block.header.height))
        })?;
        let objects: BTreeMap<Hash32, Vec<u8>> = std::mem::take(&mut pending.objects).into_iter().collect();
        let header = block.header.clone();
        let mut slot = lock(&self.inflight);
        if slot.is_some() {
            return Err(fatal("a finalized block is still being persisted; persist it first"));
        }
        *slot = Some(Arc::new(Inflight { block, pending, objects }));
        *self.tip.write().unwrap_or_else(|e| e.into_inner()) = header;
        Ok(())
    }

    fn persist(&self) -> Result<(), AppError> {
        let Some(inflight) = lock(&self.inflight).clone() else { return Ok(()) };
        self.commit(&inflight).map_err(fatal)?;
        // Proposals started from now on read the block from the store.
        *lock(&self.inflight) = None;
        Ok(())
    }
}
