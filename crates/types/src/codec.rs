//! The canonical binary encoding: BCS (Binary Canonical Serialization). One value has exactly one
//! encoding, so hashes and signatures over encoded bytes agree on every node. Decoding is bounded
//! by an explicit byte limit checked before any parsing, and trailing bytes are an error.

use serde::{Serialize, de::DeserializeOwned};

/// Deepest nesting the decoder accepts; on-chain types are shallow.
const MAX_DEPTH: usize = 32;

/// Why bytes could not be decoded (or, rarely, a value encoded).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The input is longer than the limit for this kind of value.
    #[error("input is {len} bytes; the limit is {limit} bytes")]
    TooLarge {
        /// Input length.
        len: usize,
        /// Allowed length.
        limit: usize,
    },
    /// The bytes are not a valid encoding of the expected type.
    #[error("malformed canonical encoding: {0}")]
    Malformed(String),
}

/// Encodes `value` canonically.
///
/// # Panics
/// Never for the ledger's own types: BCS only fails on maps with non-canonical keys or
/// nesting deeper than 500, neither of which those types have.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Most records are a few hundred bytes: starting there spares the serializer's many small
    // reallocations (the bytes are the same as `bcs::to_bytes`).
    let mut out = Vec::with_capacity(256);
    match bcs::serialize_into(&mut out, value) {
        Ok(()) => out,
        Err(e) => panic!("canonical encoding of a ledger type failed: {e}"),
    }
}

/// Decodes `bytes` as `T`, rejecting inputs over `limit` bytes, trailing bytes and bad encodings.
pub fn decode<T: DeserializeOwned>(bytes: &[u8], limit: usize) -> Result<T, CodecError> {
    if bytes.len() > limit {
        return Err(CodecError::TooLarge { len: bytes.len(), limit });
    }
    bcs::from_bytes_with_limit(bytes, MAX_DEPTH).map_err(|e| CodecError::Malformed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
    struct Sample {
        a: u64,
        b: String,
        c: Vec<u8>,
        d: Option<bool>,
    }

    proptest! {
        #[test]
        fn round_trip(a in any::<u64>(), b in ".{0,40}", c in proptest::collection::vec(any::<u8>(), 0..64), d in any::<Option<bool>>()) {
            let s = Sample { a, b, c, d };
            let bytes = encode(&s);
            prop_assert_eq!(decode::<Sample>(&bytes, 1 << 20).unwrap(), s);
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode::<Sample>(&bytes, 1 << 20);
        }
    }

    #[test]
    fn limits_and_trailing_bytes() {
        let s = Sample { a: 1, b: "x".into(), c: vec![], d: None };
        let mut bytes = encode(&s);
        assert!(matches!(decode::<Sample>(&bytes, 3), Err(CodecError::TooLarge { .. })));
        bytes.push(0);
        assert!(matches!(decode::<Sample>(&bytes, 1 << 20), Err(CodecError::Malformed(_))));
    }
}
