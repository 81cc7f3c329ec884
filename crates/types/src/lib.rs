//! Civic Ledger's vocabulary: typed ids, SHA-256 hashes, Ed25519 keys and signatures, and the
//! canonical binary codec (BCS) used for every byte that goes on chain.
//!
//! Guarantees: no I/O, no clock; every id is validated when parsed (bounded length, restricted
//! alphabet), so code holding an id never re-checks it; encoding is deterministic and decoding is
//! bounded, rejects trailing bytes and never panics on hostile input.

pub mod codec;
pub mod crypto;
pub mod hash;
pub mod ids;

pub use codec::{CodecError, decode, encode};
pub use crypto::{CryptoError, PublicKey, SecretKey, Signature, random_bytes, verify_batch};
pub use hash::{Hash32, sha256};
pub use ids::{AccountId, ChainId, Height, IdError, Nonce, OrgId, Role, UnixMillis};
