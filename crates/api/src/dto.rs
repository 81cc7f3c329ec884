//! The wire types of the REST API, kept apart from the ledger's domain types so the ledger can
//! change its internals without changing what clients see.
//!
//! Conventions: hashes, keys and signatures are lowercase hex strings; raw bytes (canonical
//! transactions, state values) are standard base64 with padding; times are Unix milliseconds in
//! fields ending in `_ms`. Every type here deserializes as well as serializes, so clients (the
//! `civic` CLI) reuse them, and the proof types verify themselves offline.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use civic_ledger::block::Vote;
use civic_ledger::{Block, BlockHeader, Certificate, Event, Outcome, Receipt};
use civic_merkle::{InclusionProof, MerkleError};
use civic_statetree::{PathEnd, ProofError};
use civic_types::{ChainId, Hash32, Height, PublicKey, Signature, UnixMillis, sha256};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An RFC 9457 problem document: the body of every error response
/// (`Content-Type: application/problem+json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// Stable URI naming the kind of problem, e.g.
    /// `https://civic-ledger.dev/problems/bad-signature`. Match on this.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this request and what to change.
    pub detail: String,
    /// The resource the problem is about, when there is one (e.g. the committed transaction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Extension member of nonce problems: the signer's next usable nonce.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_nonce: Option<u64>,
}

/// Why a document received from a node does not check out offline.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// A field is not well formed (bad hex, bad base64, bad id).
    #[error("field `{field}` is malformed: {reason}")]
    Malformed {
        /// The field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// Two parts of the document disagree.
    #[error("{0}")]
    Mismatch(String),
    /// The Merkle inclusion proof does not lead to the header's transaction root.
    #[error(transparent)]
    Inclusion(#[from] MerkleError),
    /// The state proof does not lead to the header's state root.
    #[error(transparent)]
    State(#[from] ProofError),
    /// The certificate does not carry a quorum of the given validators' signatures.
    #[error("certificate: {0}")]
    Certificate(String),
}

fn malformed(field: &'static str, reason: impl ToString) -> VerifyError {
    VerifyError::Malformed { field, reason: reason.to_string() }
}

fn parse_hash(field: &'static str, s: &str) -> Result<Hash32, VerifyError> {
    s.parse().map_err(|e| malformed(field, e))
}

fn parse_b64(field: &'static str, s: &str) -> Result<Vec<u8>, VerifyError> {
    B64.decode(s).map_err(|e| malformed(field, e))
}

/// A block header with every field, so a client can recompute the block hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HeaderDto {
    /// The chain.
    pub chain_id: String,
    /// Height; 0 is the genesis block.
    pub height: u64,
    /// Hash of the previous header (for height 0, of the genesis document), hex.
    pub prev_hash: String,
    /// The proposer's block time.
    pub timestamp_ms: u64,
    /// RFC 6962 Merkle Tree Hash over the transactions' canonical bytes, hex.
    pub tx_root: String,
    /// Number of transactions: the tree size of inclusion proofs.
    pub tx_count: u32,
    /// RFC 6962 Merkle Tree Hash over the receipts' canonical bytes, hex.
    pub receipts_root: String,
    /// Sparse Merkle root of the state after this block, hex.
    pub state_root: String,
    /// The proposing validator's Ed25519 key, hex.
    pub proposer: String,
}

impl From<&BlockHeader> for HeaderDto {
    fn from(h: &BlockHeader) -> HeaderDto {
        HeaderDto {
            chain_id: h.chain_id.to_string(),
            height: h.height.get(),
            prev_hash: h.prev_hash.to_hex(),
            timestamp_ms: h.timestamp.get(),
            tx_root: h.tx_root.to_hex(),
            tx_count: h.tx_count,
            receipts_root: h.receipts_root.to_hex(),
            state_root: h.state_root.to_hex(),
            proposer: h.proposer.to_string(),
        }
    }
}

impl HeaderDto {
    /// The domain header, whose [`BlockHeader::hash`] is the block hash.
    pub fn to_header(&self) -> Result<BlockHeader, VerifyError> {
        Ok(BlockHeader {
            chain_id: ChainId::new(self.chain_id.as_str()).map_err(|e| malformed("chain_id", e))?,
            height: Height::new(self.height),
            prev_hash: parse_hash("prev_hash", &self.prev_hash)?,
            timestamp: UnixMillis::new(self.timestamp_ms),
            tx_root: parse_hash("tx_root", &self.tx_root)?,
            tx_count: self.tx_count,
            receipts_root: parse_hash("receipts_root", &self.receipts_root)?,
            state_root: parse_hash("state_root", &self.state_root)?,
            proposer: self.proposer.parse::<PublicKey>().map_err(|e| malformed("proposer", e))?,
        })
    }
}

/// One validator's finalization signature over a block header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VoteDto {
    /// The validator's key, hex.
    pub validator: String,
    /// Ed25519 signature over the header's finalize bytes, hex.
    pub signature: String,
}

fn votes(c: &Certificate) -> Vec<VoteDto> {
    c.votes
        .iter()
        .map(|v| VoteDto { validator: v.validator.to_string(), signature: v.signature.to_string() })
        .collect()
}

fn certificate(votes: &[VoteDto]) -> Result<Certificate, VerifyError> {
    let votes = votes
        .iter()
        .map(|v| {
            Ok(Vote {
                validator: v
                    .validator
                    .parse::<PublicKey>()
                    .map_err(|e| malformed("certificate.validator", e))?,
                signature: v
                    .signature
                    .parse::<Signature>()
                    .map_err(|e| malformed("certificate.signature", e))?,
            })
        })
        .collect::<Result<Vec<_>, VerifyError>>()?;
    Ok(Certificate { votes })
}

/// Whether a transaction was applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptStatus {
    /// Applied.
    Ok,
    /// Committed but not applied (the nonce is still consumed); `code` and `reason` say why.
    Rejected,
}

/// An event a transaction emitted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventDto {
    /// Module that emitted it.
    pub module: String,
    /// Event kind, e.g. `proposal_executed`.
    pub kind: String,
    /// Attributes.
    pub attributes: BTreeMap<String, String>,
}

impl From<&Event> for EventDto {
    fn from(e: &Event) -> EventDto {
        EventDto { module: e.module.clone(), kind: e.kind.clone(), attributes: e.attributes.clone() }
    }
}

/// What happened to a committed transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReceiptDto {
    /// The transaction, hex.
    pub tx_hash: String,
    /// Applied or rejected.
    pub status: ReceiptStatus,
    /// Stable rejection code, e.g. `unauthorized` (rejected only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Why it was rejected and what to do (rejected only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Events the call emitted (empty when rejected).
    pub events: Vec<EventDto>,
}

fn outcome_parts(o: &Outcome) -> (ReceiptStatus, Option<String>, Option<String>) {
    match o {
        Outcome::Ok => (ReceiptStatus::Ok, None, None),
        Outcome::Rejected { code, reason } => {
            (ReceiptStatus::Rejected, Some(code.clone()), Some(reason.clone()))
        }
    }
}

impl From<&Receipt> for ReceiptDto {
    fn from(r: &Receipt) -> ReceiptDto {
        let (status, code, reason) = outcome_parts(&r.outcome);
        ReceiptDto {
            tx_hash: r.tx_hash.to_hex(),
            status,
            code,
            reason,
            events: r.events.iter().map(EventDto::from).collect(),
        }
    }
}

/// A receipt without its events, as listed in a block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReceiptSummaryDto {
    /// The transaction, hex.
    pub tx_hash: String,
    /// Applied or rejected.
    pub status: ReceiptStatus,
    /// Stable rejection code (rejected only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Rejection reason (rejected only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Number of events emitted.
    pub event_count: usize,
}

impl From<&Receipt> for ReceiptSummaryDto {
    fn from(r: &Receipt) -> ReceiptSummaryDto {
        let (status, code, reason) = outcome_parts(&r.outcome);
        ReceiptSummaryDto { tx_hash: r.tx_hash.to_hex(), status, code, reason, event_count: r.events.len() }
    }
}

/// `POST /v1/txs` JSON body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubmitTxRequest {
    /// Base64 of the canonical signed transaction bytes.
    pub tx: String,
}

/// Where a submitted transaction stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TxState {
    /// Accepted into the mempool, not yet in a block.
    Pending,
    /// Durably committed in a block.
    Committed,
}

/// `POST /v1/txs` answer: 202 with `status: pending`, or 200 with `status: committed` and the
/// commit details when `?wait=commit` saw the commit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubmitTxResponse {
    /// Transaction hash, hex.
    pub hash: String,
    /// Pending or committed.
    pub status: TxState,
    /// Why a waited-for transaction is still pending (e.g. the wait timed out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Block height (committed only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
    /// Position in the block (committed only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// Block hash, hex (committed only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_hash: Option<String>,
    /// The receipt (committed only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<ReceiptDto>,
}

impl SubmitTxResponse {
    /// A pending answer.
    pub fn pending(hash: Hash32, note: Option<String>) -> SubmitTxResponse {
        SubmitTxResponse {
            hash: hash.to_hex(),
            status: TxState::Pending,
            note,
            height: None,
            index: None,
            block_hash: None,
            receipt: None,
        }
    }
}

/// `POST /v1/txs/batch` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BatchSubmitRequest {
    /// Base64 canonical signed transactions, at most 10,000.
    pub txs: Vec<String>,
}

/// The outcome of one transaction of a batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BatchItemResult {
    /// Transaction hash, hex; absent when the entry did not decode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// Whether it entered the mempool.
    pub ok: bool,
    /// Why not, as the problem `POST /v1/txs` would have answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Problem>,
}

/// `POST /v1/txs/batch` answer, one result per submitted entry in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BatchSubmitResponse {
    /// Entries admitted to the mempool.
    pub accepted: usize,
    /// Entries refused.
    pub rejected: usize,
    /// Per-entry results, in request order.
    pub results: Vec<BatchItemResult>,
}

/// A committed transaction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TxDto {
    /// Transaction hash, hex.
    pub hash: String,
    /// Block height.
    pub height: u64,
    /// Position in the block.
    pub index: u32,
    /// Block hash, hex.
    pub block_hash: String,
    /// Block time.
    pub block_time_ms: u64,
    /// Base64 canonical signed transaction bytes.
    pub tx: String,
    /// Chain id the transaction is signed for.
    pub chain_id: String,
    /// Signing account, `org/name`.
    pub signer: String,
    /// The signer's nonce.
    pub nonce: u64,
    /// The signing key, hex.
    pub public_key: String,
    /// Ed25519 signature, hex.
    pub signature: String,
    /// Module the call is for.
    pub module: String,
    /// The call, decoded by its module.
    pub call: serde_json::Value,
    /// The receipt.
    pub receipt: ReceiptDto,
}

/// `GET /v1/txs/{hash}/proof`: an RFC 6962 inclusion proof of a transaction in its block, with
/// the full header so it checks offline ([`TxProofDto::verify`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TxProofDto {
    /// Transaction hash (SHA-256 of the canonical bytes), hex.
    pub tx_hash: String,
    /// Base64 canonical transaction bytes: the Merkle leaf data.
    pub tx: String,
    /// Leaf index (position in the block).
    pub leaf_index: u64,
    /// Tree size (the block's transaction count).
    pub tree_size: u64,
    /// Audit path: sibling subtree roots from the leaf up, hex.
    pub audit_path: Vec<String>,
    /// The header's transaction root the path leads to, hex.
    pub tx_root: String,
    /// Block height.
    pub block_height: u64,
    /// Block hash (SHA-256 of the canonical header), hex.
    pub block_hash: String,
    /// The block header.
    pub header: HeaderDto,
    /// The validators' finalization signatures over the header.
    pub certificate: Vec<VoteDto>,
}

impl TxProofDto {
    /// Builds the document from the node's proof and the block's certificate.
    pub fn new(p: &civic_node::TxProof, cert: &Certificate) -> TxProofDto {
        TxProofDto {
            tx_hash: p.tx_hash.to_hex(),
            tx: B64.encode(&p.tx_bytes),
            leaf_index: p.proof.leaf_index,
            tree_size: p.proof.tree_size,
            audit_path: p.proof.path.iter().map(Hash32::to_hex).collect(),
            tx_root: p.header.tx_root.to_hex(),
            block_height: p.header.height.get(),
            block_hash: p.header.hash().to_hex(),
            header: HeaderDto::from(&p.header),
            certificate: votes(cert),
        }
    }

    /// Checks everything that needs no trusted input: the bytes hash to `tx_hash`, the header
    /// hashes to `block_hash` and agrees with `tx_root`, `block_height` and `tree_size`, and the
    /// audit path leads from the leaf to the header's transaction root. Returns the header.
    ///
    /// This proves inclusion in the block `block_hash`; that the block is part of the chain is
    /// established by trusting that hash, or with [`TxProofDto::verify_certificate`].
    pub fn verify(&self) -> Result<BlockHeader, VerifyError> {
        let header = self.header.to_header()?;
        let bytes = parse_b64("tx", &self.tx)?;
        let tx_hash = parse_hash("tx_hash", &self.tx_hash)?;
        if sha256(&bytes) != tx_hash {
            return Err(VerifyError::Mismatch(format!(
                "the transaction bytes hash to {}, not tx_hash {tx_hash}",
                sha256(&bytes)
            )));
        }
        let block_hash = parse_hash("block_hash", &self.block_hash)?;
        if header.hash() != block_hash {
            return Err(VerifyError::Mismatch(format!(
                "the header hashes to {}, not block_hash {block_hash}",
                header.hash()
            )));
        }
        if parse_hash("tx_root", &self.tx_root)? != header.tx_root {
            return Err(VerifyError::Mismatch("tx_root differs from the header's tx_root".into()));
        }
        if self.block_height != header.height.get() {
            return Err(VerifyError::Mismatch("block_height differs from the header's height".into()));
        }
        if self.tree_size != u64::from(header.tx_count) {
            return Err(VerifyError::Mismatch(format!(
                "tree_size {} differs from the header's tx_count {}",
                self.tree_size, header.tx_count
            )));
        }
        let path =
            self.audit_path.iter().map(|h| parse_hash("audit_path", h)).collect::<Result<Vec<_>, _>>()?;
        let proof = InclusionProof { leaf_index: self.leaf_index, tree_size: self.tree_size, path };
        civic_merkle::verify_inclusion(civic_merkle::leaf_hash(&bytes), &proof, header.tx_root)?;
        Ok(header)
    }

    /// Checks that the certificate carries a quorum of `validators`' signatures over the header.
    pub fn verify_certificate(&self, validators: &[PublicKey]) -> Result<(), VerifyError> {
        let header = self.header.to_header()?;
        certificate(&self.certificate)?.verify(&header, validators).map_err(VerifyError::Certificate)
    }
}

/// A block: header, hash, transactions and receipts in order, and the finalization certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockDto {
    /// Block hash, hex.
    pub hash: String,
    /// The header.
    pub header: HeaderDto,
    /// Transaction hashes in execution order, hex.
    pub tx_hashes: Vec<String>,
    /// Receipt summaries, in transaction order.
    pub receipts: Vec<ReceiptSummaryDto>,
    /// Finalization signatures.
    pub certificate: Vec<VoteDto>,
}

impl BlockDto {
    /// From a block and its receipts.
    pub fn new(block: &Block, receipts: &[Receipt]) -> BlockDto {
        BlockDto {
            hash: block.hash().to_hex(),
            header: HeaderDto::from(&block.header),
            tx_hashes: block.txs.iter().map(|t| t.hash().to_hex()).collect(),
            receipts: receipts.iter().map(ReceiptSummaryDto::from).collect(),
            certificate: votes(&block.certificate),
        }
    }
}

/// A block's hash and header, as listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockSummaryDto {
    /// Block hash, hex.
    pub hash: String,
    /// The header.
    pub header: HeaderDto,
}

/// `GET /v1/blocks` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockListDto {
    /// Blocks in the requested order.
    pub blocks: Vec<BlockSummaryDto>,
    /// Pass as `from` (with the same `order`) for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_from: Option<u64>,
}

/// A consensus validator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ValidatorDto {
    /// Human name.
    pub name: String,
    /// Operating organization.
    pub org: String,
    /// Consensus key, hex.
    pub public_key: String,
}

/// `GET /v1/status` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatusDto {
    /// Chain id.
    pub chain_id: String,
    /// Genesis document hash, hex.
    pub genesis_hash: String,
    /// Latest committed height.
    pub height: u64,
    /// Latest block hash, hex.
    pub latest_block_hash: String,
    /// Latest block time.
    pub latest_block_time_ms: u64,
    /// Latest state root, hex.
    pub state_root: String,
    /// This node's validator key, hex.
    pub node_key: String,
    /// The validator set.
    pub validators: Vec<ValidatorDto>,
    /// Pending transactions.
    pub mempool_size: usize,
    /// Node software version.
    pub version: String,
}

impl From<&civic_node::NodeStatus> for StatusDto {
    fn from(s: &civic_node::NodeStatus) -> StatusDto {
        StatusDto {
            chain_id: s.chain_id.to_string(),
            genesis_hash: s.genesis_hash.to_hex(),
            height: s.height.get(),
            latest_block_hash: s.latest_block_hash.to_hex(),
            latest_block_time_ms: s.latest_block_time.get(),
            state_root: s.state_root.to_hex(),
            node_key: s.node_key.to_string(),
            validators: s
                .validators
                .iter()
                .map(|v| ValidatorDto {
                    name: v.name.clone(),
                    org: v.org.to_string(),
                    public_key: v.public_key.to_string(),
                })
                .collect(),
            mempool_size: s.mempool_size,
            version: s.version.to_owned(),
        }
    }
}

/// Where a key's path in the sparse Merkle tree ends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PathEndDto {
    /// An empty subtree: the key is absent.
    Empty,
    /// A leaf: the key's own (presence) or the only key sharing its path (absence).
    Leaf {
        /// The leaf's key hash, hex.
        key_hash: String,
        /// The leaf's value hash, hex.
        value_hash: String,
    },
}

/// A sparse Merkle proof of one key against a state root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StateProofDto {
    /// SHA-256 of the key, hex: the key's path in the tree.
    pub key_hash: String,
    /// SHA-256 of the value, hex; absent for a proof of absence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_hash: Option<String>,
    /// Sibling hashes along the path, from the root down, hex.
    pub siblings: Vec<String>,
    /// What the path ends at.
    pub end: PathEndDto,
}

/// `GET /v1/state/{key}` answer: a key's value at a height with its proof against that
/// header's state root. `value` is null for a missing key, and the proof then proves absence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StateDto {
    /// The raw key.
    pub key: String,
    /// Height of the state.
    pub height: u64,
    /// The header's state root, hex.
    pub state_root: String,
    /// Hash of the header, hex.
    pub block_hash: String,
    /// The header the proof is against.
    pub header: HeaderDto,
    /// Base64 of the canonical value bytes; null when the key is absent.
    pub value: Option<String>,
    /// The value decoded to JSON, when the key is one the API knows (best effort).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decoded: Option<serde_json::Value>,
    /// The proof.
    pub proof: StateProofDto,
}

impl StateDto {
    /// Builds the document from the node's proof and header; `decoded` is filled by the caller.
    pub fn new(key: &str, p: &civic_ledger::state::StateProof, header: &BlockHeader) -> StateDto {
        let end = match p.proof.end {
            PathEnd::Empty => PathEndDto::Empty,
            PathEnd::Leaf { key_hash, value_hash } => {
                PathEndDto::Leaf { key_hash: key_hash.to_hex(), value_hash: value_hash.to_hex() }
            }
        };
        StateDto {
            key: key.to_owned(),
            height: header.height.get(),
            state_root: header.state_root.to_hex(),
            block_hash: header.hash().to_hex(),
            header: HeaderDto::from(header),
            value: p.value.as_ref().map(|v| B64.encode(v)),
            decoded: None,
            proof: StateProofDto {
                key_hash: sha256(key.as_bytes()).to_hex(),
                value_hash: p.value.as_ref().map(|v| sha256(v).to_hex()),
                siblings: p.proof.siblings.iter().map(Hash32::to_hex).collect(),
                end,
            },
        }
    }

    /// Checks offline that the header hashes to `block_hash`, that `state_root` and `height` are
    /// the header's, and that the proof shows `key` with `value` (or absent when `value` is null)
    /// under the header's state root. Returns the header.
    pub fn verify(&self) -> Result<BlockHeader, VerifyError> {
        let header = self.header.to_header()?;
        if header.hash() != parse_hash("block_hash", &self.block_hash)? {
            return Err(VerifyError::Mismatch("the header does not hash to block_hash".into()));
        }
        if parse_hash("state_root", &self.state_root)? != header.state_root
            || self.height != header.height.get()
        {
            return Err(VerifyError::Mismatch("state_root or height differs from the header".into()));
        }
        let value = self.value.as_deref().map(|v| parse_b64("value", v)).transpose()?;
        let end = match &self.proof.end {
            PathEndDto::Empty => PathEnd::Empty,
            PathEndDto::Leaf { key_hash, value_hash } => PathEnd::Leaf {
                key_hash: parse_hash("proof.end.key_hash", key_hash)?,
                value_hash: parse_hash("proof.end.value_hash", value_hash)?,
            },
        };
        let siblings = self
            .proof
            .siblings
            .iter()
            .map(|h| parse_hash("proof.siblings", h))
            .collect::<Result<Vec<_>, _>>()?;
        let proof = civic_ledger::state::StateProof {
            key: self.key.as_bytes().to_vec(),
            value,
            proof: civic_statetree::Proof { siblings, end },
        };
        proof.verify(&header.state_root)?;
        Ok(header)
    }
}

/// An organization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrgDto {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// False once removed by governance.
    pub active: bool,
    /// Height it joined (0 = genesis).
    pub joined_at: u64,
}

/// `GET /v1/membership/organizations` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrgListDto {
    /// Organizations by id.
    pub organizations: Vec<OrgDto>,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after: Option<String>,
}

/// A key an account used before a rotation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RetiredKeyDto {
    /// The old key, hex.
    pub public_key: String,
    /// Height of the rotation.
    pub retired_at: u64,
}

/// An account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccountDto {
    /// Id, `org/name`.
    pub id: String,
    /// Organization.
    pub org: String,
    /// Current key, hex.
    pub public_key: String,
    /// Roles, e.g. `admin`, `issuer`.
    pub roles: Vec<String>,
    /// False once removed.
    pub active: bool,
    /// Earlier keys, oldest first.
    pub key_history: Vec<RetiredKeyDto>,
}

impl From<&civic_ledger::modules::membership::Account> for AccountDto {
    fn from(a: &civic_ledger::modules::membership::Account) -> AccountDto {
        AccountDto {
            id: a.id.to_string(),
            org: a.id.org().to_string(),
            public_key: a.public_key.to_string(),
            roles: a.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            active: a.active,
            key_history: a
                .key_history
                .iter()
                .map(|k| RetiredKeyDto {
                    public_key: k.public_key.to_string(),
                    retired_at: k.retired_at.get(),
                })
                .collect(),
        }
    }
}

/// `GET /v1/membership/accounts` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccountListDto {
    /// Accounts by id.
    pub accounts: Vec<AccountDto>,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after: Option<String>,
}

/// One organization's vote on a proposal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProposalVoteDto {
    /// The organization.
    pub org: String,
    /// Approve or reject.
    pub approve: bool,
}

/// A governance proposal with its status as of the latest block time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProposalDto {
    /// Id.
    pub id: u64,
    /// Proposing account.
    pub proposer: String,
    /// Title.
    pub title: String,
    /// The proposed change (tagged by `action`).
    pub action: serde_json::Value,
    /// Block time of creation.
    pub created_at_ms: u64,
    /// Block time after which no votes are accepted.
    pub expires_at_ms: u64,
    /// Effective status: `open`, `executed`, `failed`, `rejected` or `expired`.
    pub status: String,
    /// Height it executed (executed only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executed_at: Option<u64>,
    /// Why the approved action could not apply (failed only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    /// Votes, one per organization.
    pub votes: Vec<ProposalVoteDto>,
    /// Approving votes.
    pub approvals: u32,
    /// Rejecting votes.
    pub rejections: u32,
    /// Approvals needed.
    pub required: u32,
}

impl ProposalDto {
    /// From a stored proposal, with its effective status at block time `now`.
    pub fn new(p: &civic_ledger::modules::membership::Proposal, now: UnixMillis) -> ProposalDto {
        use civic_ledger::modules::membership::ProposalStatus;
        let count = |approve: bool| {
            u32::try_from(p.votes.values().filter(|v| **v == approve).count()).unwrap_or(u32::MAX)
        };
        ProposalDto {
            id: p.id,
            proposer: p.proposer.to_string(),
            title: p.title.clone(),
            action: serde_json::to_value(&p.action).unwrap_or(serde_json::Value::Null),
            created_at_ms: p.created_at.get(),
            expires_at_ms: p.expires_at.get(),
            status: p.effective_status(now).to_owned(),
            executed_at: match p.status {
                ProposalStatus::Executed { height } => Some(height.get()),
                _ => None,
            },
            failure_reason: match &p.status {
                ProposalStatus::Failed { reason } => Some(reason.clone()),
                _ => None,
            },
            votes: p.votes.iter().map(|(o, a)| ProposalVoteDto { org: o.to_string(), approve: *a }).collect(),
            approvals: count(true),
            rejections: count(false),
            required: p.required,
        }
    }
}

/// `GET /v1/membership/proposals` answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProposalListDto {
    /// Proposals by id, oldest first.
    pub proposals: Vec<ProposalDto>,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after: Option<u64>,
}

/// `GET /v1/accounts/{account}/nonce` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NonceDto {
    /// The account.
    pub account: String,
    /// The nonce the account's next transaction must carry, per committed state (transactions
    /// still pending in the mempool are not counted).
    pub nonce: u64,
    /// The height of that state.
    pub height: u64,
}

/// Data of the `block` server-sent event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockEventDto {
    /// Height.
    pub height: u64,
    /// Block hash, hex.
    pub hash: String,
    /// Block time.
    pub time_ms: u64,
    /// Transaction count.
    pub tx_count: u32,
}

/// Data of the `receipt` server-sent event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReceiptEventDto {
    /// Transaction hash, hex.
    pub tx_hash: String,
    /// Block height.
    pub height: u64,
    /// Position in the block.
    pub index: u32,
    /// Applied or rejected.
    pub status: ReceiptStatus,
    /// Rejection code (rejected only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Rejection reason (rejected only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Events.
    pub events: Vec<EventDto>,
}

/// Data of the `lagged` server-sent event: this subscriber fell behind and missed events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LaggedEventDto {
    /// How many events were skipped.
    pub skipped: u64,
}

/// A server-sent event's name and data.
pub(crate) enum StreamEvent {
    Block(BlockEventDto),
    Receipt(ReceiptEventDto),
}

impl From<&civic_node::NodeEvent> for StreamEvent {
    fn from(e: &civic_node::NodeEvent) -> StreamEvent {
        match e {
            civic_node::NodeEvent::Block { height, hash, time, tx_count } => {
                StreamEvent::Block(BlockEventDto {
                    height: height.get(),
                    hash: hash.to_hex(),
                    time_ms: time.get(),
                    tx_count: *tx_count,
                })
            }
            civic_node::NodeEvent::Receipt { tx_hash, height, index, outcome, events } => {
                let (status, code, reason) = outcome_parts(outcome);
                StreamEvent::Receipt(ReceiptEventDto {
                    tx_hash: tx_hash.to_hex(),
                    height: height.get(),
                    index: *index,
                    status,
                    code,
                    reason,
                    events: events.iter().map(EventDto::from).collect(),
                })
            }
        }
    }
}

fn parse_path(field: &'static str, hashes: &[String]) -> Result<Vec<Hash32>, VerifyError> {
    hashes.iter().map(|h| parse_hash(field, h)).collect()
}

/// `GET /v1/chain/log`: the root of the block log, an RFC 6962 tree whose leaves are the block
/// hashes by height (leaf data = the 32 hash bytes). Keep a `(size, root)` pair as a checkpoint;
/// a consistency proof later shows the chain since then was only appended to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockLogDto {
    /// Number of blocks in the log (latest durable height + 1).
    pub size: u64,
    /// RFC 6962 root over the first `size` block hashes, hex.
    pub root: String,
}

/// `GET /v1/chain/log/inclusion/{height}`: the block hash at `height` is leaf `height` of the
/// block log of `size` blocks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockLogInclusionDto {
    /// Block height (= leaf index).
    pub height: u64,
    /// The block hash (the leaf data), hex.
    pub block_hash: String,
    /// Log size the proof is for.
    pub size: u64,
    /// Log root at that size, hex.
    pub root: String,
    /// RFC 6962 audit path, hex.
    pub audit_path: Vec<String>,
}

impl BlockLogInclusionDto {
    /// Checks the audit path from the block hash to `root`.
    pub fn verify(&self) -> Result<(), VerifyError> {
        let leaf = civic_merkle::leaf_hash(parse_hash("block_hash", &self.block_hash)?.as_bytes());
        let proof = InclusionProof {
            leaf_index: self.height,
            tree_size: self.size,
            path: parse_path("audit_path", &self.audit_path)?,
        };
        Ok(civic_merkle::verify_inclusion(leaf, &proof, parse_hash("root", &self.root)?)?)
    }
}

/// `GET /v1/chain/log/consistency`: the block log of `old_size` blocks is a prefix of the log of
/// `new_size` blocks (RFC 6962 §2.1.2), i.e. no block up to `old_size - 1` was rewritten.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BlockLogConsistencyDto {
    /// The earlier size.
    pub old_size: u64,
    /// The later size.
    pub new_size: u64,
    /// Root at `old_size`, hex.
    pub old_root: String,
    /// Root at `new_size`, hex.
    pub new_root: String,
    /// The consistency proof, hex.
    pub proof: Vec<String>,
}

impl BlockLogConsistencyDto {
    /// Checks the proof between the two roots in the document.
    pub fn verify(&self) -> Result<(), VerifyError> {
        Ok(civic_merkle::verify_consistency(
            self.old_size,
            self.new_size,
            parse_hash("old_root", &self.old_root)?,
            parse_hash("new_root", &self.new_root)?,
            &parse_path("proof", &self.proof)?,
        )?)
    }
}

/// `GET /v1/dids/{did}`: a W3C DID Resolution result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DidResolutionDto {
    /// The DID document (W3C DID Core, `Multikey` verification methods).
    #[serde(rename = "didDocument")]
    #[schema(value_type = Object)]
    pub document: serde_json::Value,
    /// Resolution metadata.
    #[serde(rename = "didResolutionMetadata")]
    #[schema(value_type = Object)]
    pub resolution_metadata: serde_json::Value,
    /// Document metadata (for did:civic: deactivation, retired keys, removed methods).
    #[serde(rename = "didDocumentMetadata")]
    #[schema(value_type = Object)]
    pub document_metadata: serde_json::Value,
}

/// A resident's records (access log or consents).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IdentityListDto {
    /// The resident's did:key.
    pub resident: String,
    /// The records, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<serde_json::Value>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// `POST /v1/identity/challenges` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChallengeDto {
    /// Challenge id.
    pub id: String,
    /// Random nonce, hex.
    pub nonce: String,
    /// Answer before this (Unix ms).
    pub expires_at_ms: u64,
    /// Exactly what to sign, as text: `civic-ledger/challenge/v1\0<id>\n<nonce>` (`\0` is a NUL byte).
    pub sign: String,
}

/// `POST /v1/identity/challenges/{id}/response` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChallengeResponseDto {
    /// The resident's did:key.
    pub did: String,
    /// Hex Ed25519 signature over the challenge bytes.
    pub signature: String,
}

/// A verified resident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuthenticatedDto {
    /// The DID whose key signed the challenge.
    pub did: String,
    /// Always true in a 200 answer.
    pub verified: bool,
    /// Names of the attributes attested for this DID (no values).
    pub attested_attributes: Vec<String>,
    /// Chain height the attestations were read at.
    pub height: u64,
}

/// One attribute value with the salt of its on-chain commitment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SaltedValueDto {
    /// The value.
    pub value: String,
    /// 32-byte salt, hex.
    pub salt: String,
}

/// `POST /v1/identity/residents/{did}/attributes` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AttestRequestDto {
    /// Values and salts by attribute name (kept off chain by this node).
    pub values: BTreeMap<String, SaltedValueDto>,
    /// Base64 of the registrar's signed `identity.attest` transaction with the commitments.
    pub attest_tx: String,
}

/// An attestation committed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AttestedDto {
    /// The resident.
    pub resident: String,
    /// The attest transaction.
    pub tx_hash: String,
    /// Its block.
    pub height: u64,
}

/// `POST /v1/identity/residents/{did}/attributes/read` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReadRequestDto {
    /// Base64 of the reader's signed `identity.record_access` transaction.
    pub tx: String,
}

/// Attribute values released against a committed access record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AttributesDto {
    /// The resident.
    pub resident: String,
    /// Values by attribute name.
    pub values: BTreeMap<String, String>,
    /// The access record's transaction (prove it with /v1/txs/{hash}/proof).
    pub access_tx: String,
    /// Its block.
    pub height: u64,
}

/// A license as the ledger has it now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LicenseDto {
    /// Id, e.g. `BJ-LAW-2026-0001`.
    pub license_id: String,
    /// License type id, e.g. `lawyer-practice`.
    pub type_id: String,
    /// The holder's did:key.
    pub holder: String,
    /// Claim name → value.
    pub claims: BTreeMap<String, String>,
    /// The issuing organization's DID (`did:civic:<org>`).
    pub issuer: String,
    /// The account that issued it.
    pub issued_by: String,
    /// Start of validity.
    pub valid_from_ms: u64,
    /// End of validity.
    pub valid_until_ms: u64,
    /// Stored status: `active`, `suspended` or `revoked`.
    pub status: String,
    /// Status now, counting the validity period: `active`, `suspended`, `revoked`, `expired`,
    /// `not_yet_valid`.
    pub effective_status: String,
    /// Index in its issuer's and type's status lists.
    pub status_index: u64,
    /// Number of management records.
    pub version: u64,
    /// Block of the issue.
    pub issued_height: u64,
    /// Block time of the issue.
    pub issued_at_ms: u64,
    /// Block time of the latest lifecycle action.
    pub updated_at_ms: u64,
}

/// One lifecycle action on a license.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ManagementRecordDto {
    /// Sequence number, from 0 (the issue).
    pub seq: u64,
    /// `issue`, `renew`, `suspend`, `reinstate` or `revoke`.
    pub action: String,
    /// The acting account.
    pub actor: String,
    /// Its organization.
    pub org: String,
    /// Why (absent for an issue).
    pub reason: Option<String>,
    /// Stored status after the action.
    pub status: String,
    /// Validity end after the action.
    pub valid_until_ms: u64,
    /// Block height.
    pub height: u64,
    /// Block time.
    pub time_ms: u64,
}

/// One recorded verification of a license.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UsageRecordDto {
    /// Sequence number, from 0.
    pub seq: u64,
    /// Who verified: an account id, or `public`.
    pub verifier: String,
    /// The account that recorded it (the verifier, or a node's verification service).
    pub recorded_by: String,
    /// What for.
    pub purpose: String,
    /// `valid` or `invalid`.
    pub verdict: String,
    /// Why invalid.
    pub reason: Option<String>,
    /// Block height.
    pub height: u64,
    /// Block time.
    pub time_ms: u64,
}

/// A license with its history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LicenseDetailDto {
    /// The license.
    pub license: LicenseDto,
    /// Every lifecycle action, oldest first.
    pub management_records: Vec<ManagementRecordDto>,
    /// The first 1,000 recorded verifications, oldest first (all of them, a page at a time:
    /// `GET /v1/licenses/{id}/usage`). Present only for the holder, the issuing organization's
    /// accounts and auditors (a signed request); absent otherwise.
    pub usage_records: Option<Vec<UsageRecordDto>>,
    /// How many verifications are recorded.
    pub usage_count: u64,
    /// Where its W3C Verifiable Credential is served.
    pub credential_url: String,
    /// Its public verification page.
    pub verification_url: String,
}

/// A page of a license's usage records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UsagePageDto {
    /// The license.
    pub license_id: String,
    /// How many verifications are recorded in all.
    pub usage_count: u64,
    /// Oldest first.
    pub usage_records: Vec<UsageRecordDto>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// A page of licenses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LicenseListDto {
    /// Licenses in id order.
    pub licenses: Vec<LicenseDto>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// Body of `POST /v1/credentials/verify`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VerifyRequestDto {
    /// The Verifiable Credential (JSON), with its proof.
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
    /// What the verification is for (1–128 bytes; default `verification`). Recorded.
    pub purpose: Option<String>,
}

/// One check of a verification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CheckDto {
    /// `structure`, `proof`, `issuer_trusted`, `validity_period`, `ledger_record`,
    /// `revocation` or `suspension`.
    pub name: String,
    /// `passed`, `failed` or `skipped`.
    pub result: String,
    /// What was found.
    pub detail: String,
}

/// The result of verifying a credential.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VerificationDto {
    /// `valid` iff every check passed, else `invalid`.
    pub verdict: String,
    /// What to treat the license as: `active`, `suspended`, `revoked`, `expired`,
    /// `not_yet_valid` or `invalid`.
    pub status: String,
    /// The license id, when the credential names one.
    pub license_id: Option<String>,
    /// The issuer DID.
    pub issuer: Option<String>,
    /// The holder DID.
    pub holder: Option<String>,
    /// Why it is not valid: the first failed check.
    pub reason: Option<String>,
    /// Every check, in order.
    pub checks: Vec<CheckDto>,
    /// The time the validity period was checked against.
    pub checked_at_ms: u64,
    /// The usage record's transaction, when the license is on this ledger.
    pub usage_tx: Option<String>,
}

/// What the public verification page of a license shows: no personal data beyond what the
/// license itself shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PublicVerificationDto {
    /// The license id.
    pub license_id: String,
    /// True when the license is in force now.
    pub valid: bool,
    /// `active`, `suspended`, `revoked`, `expired`, `not_yet_valid`, or `unknown` (no such
    /// license) or `untrusted` (its issuer is no longer trusted for the type).
    pub status: String,
    /// Why it is not valid, in a sentence.
    pub reason: Option<String>,
    /// License type name.
    pub license_type: Option<String>,
    /// Issuing organization's name.
    pub issuer_name: Option<String>,
    /// Issuing organization's DID.
    pub issuer: Option<String>,
    /// Start of validity.
    pub valid_from_ms: Option<u64>,
    /// End of validity.
    pub valid_until_ms: Option<u64>,
    /// The claims printed on the license (the type's schema marks them `x-civic-public`).
    pub claims: BTreeMap<String, String>,
    /// When this answer was given.
    pub checked_at_ms: u64,
}

/// A supervision case with its current zones and bound device.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CaseDto {
    /// `open` or `closed`.
    pub status: String,
    /// The case record (subject, legal basis, term, officer, time zone, timers, device).
    #[schema(value_type = Object)]
    pub case: serde_json::Value,
    /// Current zones (not removed), each with its version and definition.
    #[schema(value_type = Vec<Object>)]
    pub zones: Vec<serde_json::Value>,
    /// Every version of every zone, oldest first per zone (single-case view only).
    #[schema(value_type = Option<Vec<Object>>)]
    pub zone_history: Option<Vec<serde_json::Value>>,
    /// The bound device.
    #[schema(value_type = Option<Object>)]
    pub device: Option<serde_json::Value>,
    /// Unresolved alerts.
    pub open_alerts: u64,
}

/// A page of cases.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CaseListDto {
    /// Cases in id order.
    pub cases: Vec<CaseDto>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// A registered device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeviceDto {
    /// Protocol id (IMEI, watch id, OsmAnd id).
    pub device_id: String,
    /// `osmand` or `watch`.
    pub protocol: String,
    /// Officers' label.
    pub label: String,
    /// Owning organization.
    pub org: String,
    /// Bound case.
    pub case_id: Option<String>,
    /// Last message this node's gateway received (Unix ms).
    pub last_contact_ms: Option<u64>,
    /// Fix time of the last position this node's gateway received (Unix ms).
    pub last_fix_ms: Option<u64>,
    /// Last reported battery.
    pub battery_pct: Option<u8>,
}

/// Registered devices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeviceListDto {
    /// In id order.
    pub devices: Vec<DeviceDto>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// Alerts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AlertListDto {
    /// Alert records (id, case, kind, zone, time, triggering position hashes, detail, state,
    /// acknowledgement, resolution, escalation).
    #[schema(value_type = Vec<Object>)]
    pub alerts: Vec<serde_json::Value>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// A stored position.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PositionDto {
    /// Position id on this node (for the proof endpoint).
    pub id: u64,
    /// Device protocol id.
    pub device: String,
    /// Case the device was bound to.
    pub case_id: String,
    /// Latitude, degrees WGS 84.
    pub lat: f64,
    /// Longitude, degrees WGS 84.
    pub lon: f64,
    /// Fix time written by the device (Unix ms).
    pub fix_time_ms: u64,
    /// When the gateway received it (Unix ms).
    pub received_ms: u64,
    /// Whether the device considered the fix valid.
    pub valid: bool,
    /// Speed, km/h.
    pub speed_kmh: Option<f64>,
    /// Course, degrees.
    pub course_deg: Option<u16>,
    /// Altitude, metres.
    pub altitude_m: Option<i32>,
    /// Accuracy radius, metres.
    pub accuracy_m: Option<u32>,
    /// Battery, percent.
    pub battery_pct: Option<u8>,
    /// Alarms raised with it.
    pub alarms: Vec<String>,
    /// RFC 6962 leaf hash of its canonical bytes.
    pub leaf_hash: String,
}

/// A device's positions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PositionListDto {
    /// The device.
    pub device: String,
    /// Oldest first.
    pub positions: Vec<PositionDto>,
}

/// A position with its anchoring proof.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PositionProofDto {
    /// The position.
    pub position: PositionDto,
    /// Canonical bytes, leaf hash, gateway, batch, root and RFC 6962 inclusion proof; absent
    /// while the batch is open (at most a second).
    #[schema(value_type = Option<Object>)]
    pub proof: Option<serde_json::Value>,
    /// The anchor record on chain; absent until its transaction is committed.
    #[schema(value_type = Option<Object>)]
    pub anchor: Option<serde_json::Value>,
    /// State key of the anchor, for `GET /v1/state/{key}?proof=true`.
    pub anchor_state_key: Option<String>,
}
