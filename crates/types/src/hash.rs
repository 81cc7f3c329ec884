//! 32-byte SHA-256 digests. In JSON a hash is 64 lowercase hex characters; in the canonical
//! binary encoding it is its 32 raw bytes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hash32(pub [u8; 32]);

impl Hash32 {
    /// The all-zero hash, used as the previous hash of the genesis block.
    pub const ZERO: Hash32 = Hash32([0; 32]);

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex, 64 characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> Hash32 {
    Hash32(Sha256::digest(data).into())
}

impl fmt::Display for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash32({})", self.to_hex())
    }
}

/// Why a string is not a hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected 64 hex characters (a SHA-256 hash), got {0:?}")]
pub struct HashParseError(pub String);

impl FromStr for Hash32 {
    type Err = HashParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 32];
        let shown: String = s.chars().take(80).collect();
        if s.len() != 64 {
            return Err(HashParseError(shown));
        }
        hex::decode_to_slice(s, &mut out).map_err(|_| HashParseError(shown))?;
        Ok(Hash32(out))
    }
}

impl Serialize for Hash32 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() { s.serialize_str(&self.to_hex()) } else { self.0.serialize(s) }
    }
}

impl<'de> Deserialize<'de> for Hash32 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let s = String::deserialize(d)?;
            s.parse().map_err(serde::de::Error::custom)
        } else {
            Ok(Hash32(<[u8; 32]>::deserialize(d)?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_abc_matches_fips_180_2() {
        assert_eq!(
            sha256(b"abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn hex_round_trip_and_rejects_bad_input() {
        let h = sha256(b"x");
        assert_eq!(h.to_hex().parse::<Hash32>().unwrap(), h);
        assert!("abc".parse::<Hash32>().is_err());
        assert!("zz".repeat(32).parse::<Hash32>().is_err());
    }

    #[test]
    fn json_is_hex_and_binary_is_raw() {
        let h = sha256(b"x");
        assert_eq!(serde_json::to_string(&h).unwrap(), format!("\"{}\"", h.to_hex()));
        assert_eq!(bcs::to_bytes(&h).unwrap(), h.0.to_vec());
    }
}
