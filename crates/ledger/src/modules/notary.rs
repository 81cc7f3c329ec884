//! Notary: any active account anchors the SHA-256 digest of a document, proving it existed, with
//! that content, no later than the block's time. The document itself never goes on chain.

use civic_types::{AccountId, Hash32, Height, UnixMillis};
use serde::{Deserialize, Serialize};

use crate::block::Event;
use crate::exec::{Ctx, Module, TxError};
use crate::tx::{MAX_TX_BYTES, ModuleCall};

/// Longest label.
pub const MAX_LABEL: usize = 256;

/// Notary calls.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotaryCall {
    /// Anchor a document digest.
    Notarize {
        /// SHA-256 of the document.
        digest: Hash32,
        /// A short description (no personal data).
        label: String,
    },
}

impl ModuleCall for NotaryCall {
    const MODULE: &'static str = "notary";
}

/// The on-chain record of an anchored digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notarization {
    /// Who anchored it.
    pub account: AccountId,
    /// Label.
    pub label: String,
    /// When (block time).
    pub time: UnixMillis,
    /// Block height.
    pub height: Height,
}

/// State key of a digest's record.
pub fn key(digest: &Hash32) -> String {
    format!("notary/doc/{digest}")
}

/// The notary module.
pub struct Notary;

fn decode(payload: &[u8]) -> Result<NotaryCall, TxError> {
    let call: NotaryCall = civic_types::decode(payload, MAX_TX_BYTES)
        .map_err(|e| TxError::Invalid(format!("malformed notary call: {e}")))?;
    let NotaryCall::Notarize { label, .. } = &call;
    if label.len() > MAX_LABEL {
        return Err(TxError::Invalid(format!("label is longer than {MAX_LABEL} bytes")));
    }
    Ok(call)
}

impl Module for Notary {
    fn name(&self) -> &'static str {
        NotaryCall::MODULE
    }
    fn check(&self, payload: &[u8]) -> Result<(), TxError> {
        decode(payload).map(|_| ())
    }
    fn apply(&self, ctx: &mut Ctx<'_, '_>, payload: &[u8]) -> Result<(), TxError> {
        let NotaryCall::Notarize { digest, label } = decode(payload)?;
        let k = key(&digest);
        if let Some(existing) = ctx.get::<Notarization>(&k)? {
            return Err(TxError::Conflict(format!(
                "digest {digest} was already notarized at height {} by {}",
                existing.height, existing.account
            )));
        }
        let rec = Notarization {
            account: ctx.signer.id.clone(),
            label,
            time: ctx.env.time,
            height: ctx.env.height,
        };
        ctx.put(&k, &rec);
        ctx.emit(Event::new("notary", "notarized", &[("digest", digest.to_hex())]));
        Ok(())
    }
    fn encode_json(&self, call: serde_json::Value) -> Result<Vec<u8>, TxError> {
        let c: NotaryCall =
            serde_json::from_value(call).map_err(|e| TxError::Invalid(format!("not a NotaryCall: {e}")))?;
        Ok(civic_types::encode(&c))
    }

    fn describe(&self, payload: &[u8]) -> serde_json::Value {
        match decode(payload) {
            Ok(c) => serde_json::json!({ "module": "notary", "call": c }),
            Err(e) => serde_json::json!({ "module": "notary", "error": e.to_string() }),
        }
    }
}
