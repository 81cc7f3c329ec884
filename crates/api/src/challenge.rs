//! Remote authentication of residents: the node issues a random, single-use, short-lived
//! challenge; the resident signs it with their did:key; the node checks the signature and says
//! which attested attributes that DID has. Nothing about the challenge goes on chain.
//!
//! Guarantees: a challenge is consumed by the first answer, right or wrong, so it cannot be
//! replayed or brute-forced; at most [`MAX_OUTSTANDING`] are held, expired ones are dropped first.

use std::collections::BTreeMap;
use std::sync::Mutex;

use civic_types::{Hash32, sha256};

/// Domain prefix of challenge signatures.
pub const CHALLENGE_DOMAIN: &[u8] = b"civic-ledger/challenge/v1\0";
/// How long a challenge may be answered.
pub const TTL_MS: u64 = 5 * 60 * 1000;
/// Most challenges held at once.
pub const MAX_OUTSTANDING: usize = 100_000;

/// The bytes a resident signs to answer challenge `id` with `nonce` (both hex as issued).
pub fn challenge_signing_bytes(id: &str, nonce: &str) -> Vec<u8> {
    let mut b = CHALLENGE_DOMAIN.to_vec();
    b.extend_from_slice(format!("{id}\n{nonce}").as_bytes());
    b
}

/// An outstanding challenge.
#[derive(Clone, Debug)]
pub struct Challenge {
    /// Random hex nonce to sign.
    pub nonce: String,
    /// When it stops being answerable (Unix ms, node clock).
    pub expires_at_ms: u64,
}

/// The node's outstanding challenges.
#[derive(Default)]
pub struct Challenges {
    inner: Mutex<BTreeMap<String, Challenge>>,
}

impl Challenges {
    /// Issues a challenge: `(id, nonce, expires_at_ms)`.
    pub fn issue(
        &self,
        id_seed: [u8; 32],
        nonce: [u8; 32],
        now_ms: u64,
    ) -> Result<(String, Challenge), String> {
        let id = Hash32(sha256(&id_seed).0).to_hex()[..32].to_owned();
        let c = Challenge { nonce: Hash32(nonce).to_hex(), expires_at_ms: now_ms + TTL_MS };
        let mut map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_OUTSTANDING {
            map.retain(|_, c| c.expires_at_ms > now_ms);
        }
        if map.len() >= MAX_OUTSTANDING {
            return Err("too many outstanding challenges; retry in a few minutes".into());
        }
        map.insert(id.clone(), c.clone());
        Ok((id, c))
    }

    /// Removes and returns the challenge (single use).
    pub fn take(&self, id: &str) -> Option<Challenge> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).remove(id)
    }
}
