//! Offline verification of a transaction inclusion proof document (`GET /v1/txs/{hash}/proof`):
//! RFC 6962 audit path to the header's tx root, header hash, and optionally a trusted block hash
//! and the validators' finalization certificate.

use anyhow::{Result, bail};
use civic_api::dto::TxProofDto;
use civic_types::{Hash32, PublicKey};
use serde_json::{Value, json};

/// Checks `doc`; returns a report listing each passed check, or the first failure.
pub fn check(doc: &Value, trusted_block_hash: Option<&str>, validators: &[PublicKey]) -> Result<Value> {
    let proof: TxProofDto = serde_json::from_value(doc.clone())
        .map_err(|e| anyhow::anyhow!("not a transaction proof document (GET /v1/txs/{{hash}}/proof): {e}"))?;
    let header = proof.verify().map_err(|e| anyhow::anyhow!("INVALID proof: {e}"))?;
    let mut checks = vec![
        format!("transaction bytes hash to {}", proof.tx_hash),
        format!(
            "RFC 6962 audit path ({} hashes) leads from leaf {} of {} to tx root {}",
            proof.audit_path.len(),
            proof.leaf_index,
            proof.tree_size,
            header.tx_root
        ),
        format!("header of block {} hashes to {}", header.height, header.hash()),
    ];
    if let Some(trusted) = trusted_block_hash {
        let trusted: Hash32 = trusted.parse()?;
        if trusted != header.hash() {
            bail!(
                "INVALID: the proof's block hash {} is not the trusted block hash {trusted}",
                header.hash()
            );
        }
        checks.push(format!("block hash matches the trusted hash {trusted}"));
    }
    if !validators.is_empty() {
        proof.verify_certificate(validators).map_err(|e| anyhow::anyhow!("INVALID certificate: {e}"))?;
        checks.push(format!(
            "certificate carries a quorum of the {} given validators' signatures",
            validators.len()
        ));
    }
    Ok(json!({
        "valid": true,
        "tx_hash": proof.tx_hash,
        "block_height": header.height,
        "block_hash": header.hash(),
        "checks": checks,
    }))
}
