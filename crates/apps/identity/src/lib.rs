//! The identity application. This first part is decentralized identifiers: residents are
//! `did:key` (Ed25519), organizations are `did:civic:<org-id>` whose DID document is derived from
//! on-chain membership (current keys, roles, rotation history, deactivation).
//!
//! Guarantees: pure functions, no I/O; every DID string is parsed into a validated type before
//! use; documents follow W3C DID Core with `Multikey` verification methods.

pub mod did;

pub use did::{Did, DidError, civic_document, did_key_document, multikey};
