//! The identity application. Decentralized identifiers ([`did`]): residents are `did:key`
//! (Ed25519), organizations are `did:civic:<org-id>` whose DID document is derived from on-chain
//! membership (current keys, roles, rotation history, deactivation). The on-chain module
//! ([`module`]): registrars attest residents' attributes by salted commitment, residents sign
//! consent grants and revocations, and every read by an agency is an access record.
//!
//! Guarantees: pure functions, no I/O, no clock; every DID string is parsed into a validated type
//! before use; documents follow W3C DID Core with `Multikey` verification methods; no attribute
//! value ever goes on chain.

pub mod did;
pub mod module;
pub mod private;

pub use did::{Did, DidError, civic_document, did_key_document, multikey};
pub use module::{
    AccessBasis, AccessRecord, Attestation, ConsentGrant, ConsentRecord, Identity, IdentityCall, Purpose,
    check_access, commitment, revoke_signing_bytes,
};
