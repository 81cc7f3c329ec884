//! A stored position and its proof: the leaf format of the anchored position batches.
//!
//! Guarantees: a [`Position`]'s canonical bytes (BCS) are the RFC 6962 leaf of its batch, so
//! [`Position::leaf_hash`] is what the batch root commits to; [`PositionProof::verify`] checks a
//! position against an anchored root without trusting the node that served it, given the root
//! read from chain.

use civic_merkle::InclusionProof;
use civic_types::{AccountId, Hash32, UnixMillis};
use serde::{Deserialize, Serialize};

use crate::module::{Anchor, Protocol};

/// One position report as stored off chain (integers only, so its bytes are canonical).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// The gateway's sequence number: the position's id on this node.
    pub seq: u64,
    /// The device's protocol id.
    pub device: String,
    /// How it arrived.
    pub protocol: Protocol,
    /// The case the device was bound to when it arrived.
    pub case_id: String,
    /// Fix time as written by the device, Unix ms UTC.
    pub fix_time: UnixMillis,
    /// When the gateway received it, Unix ms UTC.
    pub received: UnixMillis,
    /// Latitude in 1e-7 degrees.
    pub lat_e7: i32,
    /// Longitude in 1e-7 degrees.
    pub lon_e7: i32,
    /// Whether the device considered the fix valid.
    pub valid: bool,
    /// Speed in 0.1 km/h.
    pub speed_dkmh: Option<u32>,
    /// Course in degrees from true north.
    pub course_deg: Option<u16>,
    /// Altitude in metres.
    pub altitude_m: Option<i32>,
    /// Accuracy radius in metres.
    pub accuracy_m: Option<u32>,
    /// Battery in percent.
    pub battery_pct: Option<u8>,
    /// Alarms the device raised with this position (stable lower-case names).
    pub alarms: Vec<String>,
}

/// Degrees to 1e-7 degrees (rounded); inputs are already range-checked by the decoders.
pub fn to_e7(deg: f64) -> i32 {
    let v = (deg * 1e7).round();
    // Clamped into i32 range first, so the cast is exact.
    v.clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32
}

impl Position {
    /// Canonical bytes: the leaf.
    pub fn to_bytes(&self) -> Vec<u8> {
        civic_types::encode(self)
    }
    /// Decodes canonical bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Position, String> {
        civic_types::decode(bytes, 64 * 1024).map_err(|e| e.to_string())
    }
    /// RFC 6962 leaf hash of the canonical bytes.
    pub fn leaf_hash(&self) -> Hash32 {
        civic_merkle::leaf_hash(&self.to_bytes())
    }
    /// Latitude in degrees.
    pub fn lat(&self) -> f64 {
        f64::from(self.lat_e7) / 1e7
    }
    /// Longitude in degrees.
    pub fn lon(&self) -> f64 {
        f64::from(self.lon_e7) / 1e7
    }
}

/// Evidence that a stored position is in an anchored batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PositionProof {
    /// The position's canonical bytes, hex.
    pub position_bcs: String,
    /// Its RFC 6962 leaf hash.
    pub leaf_hash: Hash32,
    /// The gateway account whose batch holds it.
    pub gateway: AccountId,
    /// The batch number.
    pub batch: u64,
    /// The batch root.
    pub root: Hash32,
    /// Inclusion of the leaf in the batch.
    pub inclusion: InclusionProof,
}

/// Why a position proof does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The position bytes are not hex or not a position.
    #[error("the position bytes are malformed: {0}")]
    Malformed(String),
    /// The leaf hash is not the hash of the bytes.
    #[error("the leaf hash is not the hash of the position bytes")]
    LeafMismatch,
    /// The proof names another root than the anchor on chain.
    #[error("the proof's root {proof} is not the anchored root {anchored}")]
    RootMismatch {
        /// In the proof.
        proof: Hash32,
        /// On chain.
        anchored: Hash32,
    },
    /// The anchor is for another batch or size.
    #[error(
        "the anchor is batch {batch} of {count} positions, the proof says batch {proof_batch} of {proof_size}"
    )]
    BatchMismatch {
        /// Anchored batch.
        batch: u64,
        /// Anchored count.
        count: u64,
        /// Proof batch.
        proof_batch: u64,
        /// Proof tree size.
        proof_size: u64,
    },
    /// The audit path does not lead to the root.
    #[error("the inclusion proof does not verify: {0}")]
    Inclusion(String),
}

impl PositionProof {
    /// Checks the proof against `anchor`, the batch's record read from chain; returns the
    /// position.
    pub fn verify(&self, anchor: &Anchor) -> Result<Position, ProofError> {
        let bytes =
            hex::decode(&self.position_bcs).map_err(|e| ProofError::Malformed(format!("not hex: {e}")))?;
        let position = Position::from_bytes(&bytes).map_err(ProofError::Malformed)?;
        if civic_merkle::leaf_hash(&bytes) != self.leaf_hash {
            return Err(ProofError::LeafMismatch);
        }
        if anchor.batch != self.batch
            || anchor.count != self.inclusion.tree_size
            || anchor.gateway != self.gateway
        {
            return Err(ProofError::BatchMismatch {
                batch: anchor.batch,
                count: anchor.count,
                proof_batch: self.batch,
                proof_size: self.inclusion.tree_size,
            });
        }
        if anchor.root != self.root {
            return Err(ProofError::RootMismatch { proof: self.root, anchored: anchor.root });
        }
        civic_merkle::verify_inclusion(self.leaf_hash, &self.inclusion, anchor.root)
            .map_err(|e| ProofError::Inclusion(e.to_string()))?;
        Ok(position)
    }
}

#[cfg(test)]
mod tests {
    use civic_types::Height;

    use super::*;

    fn pos(seq: u64) -> Position {
        Position {
            seq,
            device: "860000000000001".into(),
            protocol: Protocol::Watch,
            case_id: "C1".into(),
            fix_time: UnixMillis::new(1_700_000_000_000 + seq),
            received: UnixMillis::new(1_700_000_000_500 + seq),
            lat_e7: to_e7(39.9042),
            lon_e7: to_e7(116.4074),
            valid: true,
            speed_dkmh: Some(42),
            course_deg: Some(90),
            altitude_m: Some(50),
            accuracy_m: None,
            battery_pct: Some(80),
            alarms: vec![],
        }
    }

    fn batch() -> (Vec<Position>, Anchor) {
        let ps: Vec<Position> = (10..15).map(pos).collect();
        let leaves: Vec<Hash32> = ps.iter().map(Position::leaf_hash).collect();
        let anchor = Anchor {
            gateway: AccountId::new("justice/gateway").unwrap(),
            batch: 3,
            root: civic_merkle::root_from_leaf_hashes(&leaves),
            count: 5,
            first_seq: 10,
            from: UnixMillis::new(0),
            to: UnixMillis::new(1),
            height: Height::new(7),
            time: UnixMillis::new(2),
        };
        (ps, anchor)
    }

    fn proof_of(ps: &[Position], anchor: &Anchor, i: usize) -> PositionProof {
        let leaves: Vec<Hash32> = ps.iter().map(Position::leaf_hash).collect();
        PositionProof {
            position_bcs: hex::encode(ps[i].to_bytes()),
            leaf_hash: leaves[i],
            gateway: anchor.gateway.clone(),
            batch: anchor.batch,
            root: anchor.root,
            inclusion: civic_merkle::inclusion_proof(&leaves, i as u64).unwrap(),
        }
    }

    #[test]
    fn every_position_of_a_batch_proves_and_tampering_fails() {
        let (ps, anchor) = batch();
        for i in 0..ps.len() {
            assert_eq!(proof_of(&ps, &anchor, i).verify(&anchor).unwrap(), ps[i]);
        }
        // A moved position: bytes changed, leaf hash kept.
        let mut p = proof_of(&ps, &anchor, 2);
        let mut moved = ps[2].clone();
        moved.lat_e7 += 1;
        p.position_bcs = hex::encode(moved.to_bytes());
        assert_eq!(p.verify(&anchor), Err(ProofError::LeafMismatch));
        // The same with a consistent leaf hash: the path no longer leads to the root.
        p.leaf_hash = moved.leaf_hash();
        assert!(matches!(p.verify(&anchor), Err(ProofError::Inclusion(_))));
        // Another root than the anchored one.
        let mut p = proof_of(&ps, &anchor, 1);
        p.root = Hash32([7; 32]);
        assert!(matches!(p.verify(&anchor), Err(ProofError::RootMismatch { .. })));
        let mut other = anchor.clone();
        other.batch = 4;
        assert!(matches!(proof_of(&ps, &anchor, 0).verify(&other), Err(ProofError::BatchMismatch { .. })));
        let mut p = proof_of(&ps, &anchor, 0);
        p.position_bcs = "zz".into();
        assert!(matches!(p.verify(&anchor), Err(ProofError::Malformed(_))));
    }

    #[test]
    fn coordinates_round_trip_at_1e7() {
        assert_eq!(to_e7(-33.8688), -338_688_000);
        assert_eq!(to_e7(180.0), 1_800_000_000);
        let p = pos(1);
        assert!((p.lat() - 39.9042).abs() < 1e-9);
        assert_eq!(Position::from_bytes(&p.to_bytes()).unwrap(), p);
    }
}
