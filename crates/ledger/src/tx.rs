//! Signed transactions: `{chain_id, signer, nonce, call}` plus the signer's public key and an
//! Ed25519 signature over the domain-separated canonical bytes of the transaction.
//!
//! A call names its module and carries that module's typed call in canonical bytes, so new
//! applications add modules without changing this envelope. Every length is bounded.

use civic_types::{
    AccountId, ChainId, CodecError, Hash32, Nonce, PublicKey, SecretKey, Signature, decode, encode, sha256,
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

/// Largest encoded signed transaction accepted anywhere (API, mempool, block).
pub const MAX_TX_BYTES: usize = 64 * 1024;
/// Longest module name.
pub const MAX_MODULE_NAME: usize = 32;

/// Prefix of the bytes a transaction signature covers, so a transaction signature can never be
/// confused with a signature this key makes for any other purpose (challenges, credentials).
pub const TX_SIGNING_DOMAIN: &[u8] = b"civic-ledger/tx/v1\0";

/// A call to one module: its name and its canonical call bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    /// The module, e.g. `membership`.
    pub module: String,
    /// The module's call, canonically encoded.
    pub payload: Vec<u8>,
}

/// A module's typed call enum.
pub trait ModuleCall: Serialize + DeserializeOwned {
    /// The module that executes this call.
    const MODULE: &'static str;
}

impl Call {
    /// Wraps a typed call.
    pub fn new<C: ModuleCall>(call: &C) -> Call {
        Call { module: C::MODULE.to_owned(), payload: encode(call) }
    }
    /// Decodes the payload as `C`, checking that the module matches.
    pub fn decode<C: ModuleCall>(&self) -> Result<C, CodecError> {
        if self.module != C::MODULE {
            return Err(CodecError::Malformed(format!(
                "call is for module {:?}, not {:?}",
                self.module,
                C::MODULE
            )));
        }
        decode(&self.payload, MAX_TX_BYTES)
    }
}

/// The signed part of a transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    /// The chain this transaction is valid on.
    pub chain_id: ChainId,
    /// The account that authorises it.
    pub signer: AccountId,
    /// Must equal the signer's current nonce (replay protection, ordering).
    pub nonce: Nonce,
    /// What to do.
    pub call: Call,
}

impl Transaction {
    /// The exact bytes the signature covers.
    pub fn signing_bytes(&self) -> Vec<u8> {
        let mut out = TX_SIGNING_DOMAIN.to_vec();
        out.extend_from_slice(&encode(self));
        out
    }

    /// Signs with `key`.
    pub fn sign(self, key: &SecretKey) -> SignedTx {
        let signature = key.sign(&self.signing_bytes());
        SignedTx { tx: self, public_key: key.public_key(), signature }
    }
}

/// A transaction with the key that signed it and the signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedTx {
    /// The signed content.
    pub tx: Transaction,
    /// The signer's key; execution checks it is the signer account's current key.
    pub public_key: PublicKey,
    /// Ed25519 over [`Transaction::signing_bytes`].
    pub signature: Signature,
}

/// Why submitted transaction bytes were refused before execution.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxDecodeError {
    /// Bytes are malformed or too large.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// The module name is empty or too long.
    #[error("module name must be 1-{MAX_MODULE_NAME} characters")]
    BadModuleName,
}

impl SignedTx {
    /// Canonical bytes: the RFC 6962 leaf data of this transaction in its block's tx root.
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(self)
    }

    /// Decodes and bounds-checks (does not verify the signature).
    pub fn from_bytes(bytes: &[u8]) -> Result<SignedTx, TxDecodeError> {
        let tx: SignedTx = decode(bytes, MAX_TX_BYTES)?;
        if tx.tx.call.module.is_empty() || tx.tx.call.module.len() > MAX_MODULE_NAME {
            return Err(TxDecodeError::BadModuleName);
        }
        Ok(tx)
    }

    /// The transaction hash: SHA-256 of the canonical bytes.
    pub fn hash(&self) -> Hash32 {
        sha256(&self.to_bytes())
    }

    /// Strict single signature check.
    pub fn verify_signature(&self) -> bool {
        self.public_key.verify(&self.tx.signing_bytes(), &self.signature).is_ok()
    }
}

/// Verifies many transactions' signatures with batch verification, split across `threads`
/// threads. Returns one flag per transaction, in order.
pub fn verify_signatures(txs: &[SignedTx], threads: usize) -> Vec<bool> {
    let msgs: Vec<Vec<u8>> = txs.iter().map(|t| t.tx.signing_bytes()).collect();
    let items: Vec<(PublicKey, &[u8], Signature)> =
        txs.iter().zip(&msgs).map(|(t, m)| (t.public_key, m.as_slice(), t.signature)).collect();
    let threads = threads.max(1);
    if threads == 1 || items.len() < 64 {
        return civic_types::verify_batch(&items);
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> =
            items.chunks(chunk).map(|c| (c.len(), s.spawn(move || civic_types::verify_batch(c)))).collect();
        handles.into_iter().flat_map(|(n, h)| h.join().unwrap_or_else(|_| vec![false; n])).collect()
    })
}
