//! The licenses application: a trusted-issuer registry of license types, and the on-chain
//! lifecycle of each license (issue, renew, suspend, reinstate, revoke) with a management record
//! per action and a usage record per verification.
//!
//! Guarantees: pure functions, no I/O, no clock (time is the block's), ordered maps only. Every
//! call is decoded and bounded before it touches state; every rejection names what to fix. The
//! credential export (W3C VC, status lists) is built on top of this state elsewhere; this crate
//! only assigns each license its stable status-list index.

pub mod credential;
pub mod module;
pub mod schema;
pub mod verify;

pub use module::{
    Action, EffectiveStatus, License, LicenseCall, LicenseType, Licenses, ManagementRecord, Status,
    StatusPurpose, TransitionError, TrustedIssuer, UsageRecord, UsageVerifier, Verdict, keys,
};
