//! The supervision application (community corrections): cases with a legal basis and a term,
//! wristbands bound to cases, versioned inclusion and exclusion zones with curfew schedules, and
//! alert records with their acknowledge / resolve / escalate workflow — all on chain — plus the
//! pure geofence engine that turns positions into alerts and the daily behaviour summary.
//!
//! Guarantees: pure functions, no I/O, no clock (the module's time is the block's, the engine's
//! and the summary's is passed in), ordered maps only. Positions never go on chain: only the
//! RFC 6962 root of each batch does.

pub mod engine;
pub mod module;
pub mod position;
pub mod summary;
pub mod zone;
