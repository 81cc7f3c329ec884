//! Blocks and receipts. The block hash is SHA-256 of the canonical header; the header's `tx_root`
//! is the RFC 6962 Merkle Tree Hash whose leaf data are the transactions' canonical bytes, so
//! any transaction can be proven to be in a block with an RFC 6962 inclusion proof.

use std::collections::BTreeMap;

use civic_types::{
    ChainId, CodecError, Hash32, Height, PublicKey, SecretKey, Signature, UnixMillis, decode, encode, sha256,
};
use serde::{Deserialize, Serialize};

use crate::tx::{MAX_TX_BYTES, SignedTx};

/// Most transactions in one block.
pub const MAX_BLOCK_TXS: usize = 50_000;
/// Largest encoded block.
pub const MAX_BLOCK_BYTES: usize = MAX_BLOCK_TXS * 1024 + 1024 * 1024;

/// Domain prefix of the bytes a validator signs to finalize a block.
pub const FINALIZE_DOMAIN: &[u8] = b"civic-ledger/finalize/v1\0";

/// A block header. Everything a light client needs to check proofs against.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockHeader {
    /// The chain.
    pub chain_id: ChainId,
    /// Height; 0 is the genesis block.
    pub height: Height,
    /// Hash of the previous header; for height 0, the hash of the genesis document.
    pub prev_hash: Hash32,
    /// Injected by the proposer; never earlier than the parent's. The ledger's only clock.
    pub timestamp: UnixMillis,
    /// RFC 6962 MTH over the transactions' canonical bytes.
    pub tx_root: Hash32,
    /// Number of transactions (the tree size for inclusion proofs).
    pub tx_count: u32,
    /// RFC 6962 MTH over the receipts' canonical bytes, in transaction order.
    pub receipts_root: Hash32,
    /// Sparse Merkle root of the state after this block.
    pub state_root: Hash32,
    /// The proposing validator's key.
    pub proposer: PublicKey,
}

impl BlockHeader {
    /// The block hash.
    pub fn hash(&self) -> Hash32 {
        sha256(&encode(self))
    }

    /// The bytes a validator signs to finalize this header.
    pub fn finalize_bytes(&self) -> Vec<u8> {
        let mut out = FINALIZE_DOMAIN.to_vec();
        out.extend_from_slice(self.hash().as_bytes());
        out
    }
}

/// One validator's finalization signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    /// The validator.
    pub validator: PublicKey,
    /// Signature over [`BlockHeader::finalize_bytes`].
    pub signature: Signature,
}

/// Proof that the validator set finalized a block: a quorum of validator signatures over its
/// header. With one validator the quorum is one signature; the multi-validator engine supplies
/// its own certificate in the same place.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Certificate {
    /// Signatures, ordered by validator key, no duplicates.
    pub votes: Vec<Vote>,
}

impl Certificate {
    /// A certificate with one signature by `key`.
    pub fn single(header: &BlockHeader, key: &SecretKey) -> Certificate {
        Certificate {
            votes: vec![Vote { validator: key.public_key(), signature: key.sign(&header.finalize_bytes()) }],
        }
    }

    /// Checks that more than two thirds of `validators` signed `header` (all of them when there
    /// are fewer than four).
    pub fn verify(&self, header: &BlockHeader, validators: &[PublicKey]) -> Result<(), String> {
        let msg = header.finalize_bytes();
        let mut signed = std::collections::BTreeSet::new();
        for v in &self.votes {
            if !validators.contains(&v.validator) {
                return Err(format!("vote by {} who is not a validator", v.validator));
            }
            v.validator.verify(&msg, &v.signature).map_err(|e| format!("vote by {}: {e}", v.validator))?;
            signed.insert(v.validator);
        }
        let n = validators.len();
        let needed = n - (n.saturating_sub(1)) / 3;
        if signed.len() < needed {
            return Err(format!("{} of {n} validators signed; {needed} needed", signed.len()));
        }
        Ok(())
    }
}

/// A block: header, transactions, and its finalization certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    /// The header.
    pub header: BlockHeader,
    /// Transactions in execution order.
    pub txs: Vec<SignedTx>,
    /// Finalization certificate over the header.
    pub certificate: Certificate,
}

impl Block {
    /// Canonical bytes (stored, served, synced).
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(self)
    }
    /// Decodes a block with size limits.
    pub fn from_bytes(bytes: &[u8]) -> Result<Block, CodecError> {
        let b: Block = decode(bytes, MAX_BLOCK_BYTES)?;
        if b.txs.len() > MAX_BLOCK_TXS || b.txs.iter().any(|t| t.to_bytes().len() > MAX_TX_BYTES) {
            return Err(CodecError::Malformed("block exceeds transaction limits".into()));
        }
        Ok(b)
    }
    /// The block hash (hash of the header).
    pub fn hash(&self) -> Hash32 {
        self.header.hash()
    }
}

/// RFC 6962 tx root of `txs`.
pub fn tx_root(txs: &[SignedTx]) -> Hash32 {
    let leaves: Vec<Hash32> = txs.iter().map(|t| civic_merkle::leaf_hash(&t.to_bytes())).collect();
    civic_merkle::root_from_leaf_hashes(&leaves)
}

/// RFC 6962 root over the receipts' canonical bytes.
pub fn receipts_root(receipts: &[Receipt]) -> Hash32 {
    let leaves: Vec<Hash32> = receipts.iter().map(|r| civic_merkle::leaf_hash(&encode(r))).collect();
    civic_merkle::root_from_leaf_hashes(&leaves)
}

/// What happened to one transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The transaction.
    pub tx_hash: Hash32,
    /// Outcome.
    pub outcome: Outcome,
    /// Events the call emitted (empty when rejected).
    pub events: Vec<Event>,
}

/// The result of executing a transaction. A rejected transaction still consumes its nonce, so
/// the rejection and its reason are part of the permanent record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Applied.
    Ok,
    /// Not applied; state unchanged except the nonce.
    Rejected {
        /// Stable machine-readable code, e.g. `unauthorized`.
        code: String,
        /// What went wrong and what to do.
        reason: String,
    },
}

/// A typed event with string attributes, e.g. `proposal_executed {id: 3}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Module that emitted it.
    pub module: String,
    /// Event kind.
    pub kind: String,
    /// Attributes, ordered.
    pub attributes: BTreeMap<String, String>,
}

impl Event {
    /// An event with attributes.
    pub fn new(module: &str, kind: &str, attrs: &[(&str, String)]) -> Event {
        Event {
            module: module.to_owned(),
            kind: kind.to_owned(),
            attributes: attrs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect(),
        }
    }
}
