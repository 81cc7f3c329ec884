//! Verifiable Credential primitives for the licenses application: RFC 8785 JSON canonicalization
//! ([`jcs`]), the W3C Data Integrity cryptosuite `eddsa-jcs-2022` ([`eddsa_jcs_2022`]) and the
//! W3C Bitstring Status List v1.0 ([`status_list`]).
//!
//! Guarantees: pure functions of their inputs — no I/O, no clock, no randomness (Ed25519 signing
//! is deterministic, GZIP output carries no timestamp), so the same inputs always give the same
//! bytes; every decoder of untrusted input is bounded and returns a [`VcError`] instead of
//! panicking. Key resolution is the caller's business: verification takes a resolver closure, so
//! this crate knows nothing of DID methods or ledger state.

pub mod eddsa_jcs_2022;
mod error;
pub mod jcs;
pub mod status_list;

pub use error::VcError;
