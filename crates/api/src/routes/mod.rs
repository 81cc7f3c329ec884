//! The handlers, one module per resource, and the parsing of path and query parameters into
//! domain values with problems that name the offending parameter.

pub(crate) mod chain;
pub(crate) mod dids;
pub(crate) mod events;
pub(crate) mod identity;
pub(crate) mod licenses;
pub(crate) mod membership;
pub(crate) mod meta;
pub(crate) mod state;
pub(crate) mod txs;

use civic_types::Hash32;

use crate::problem::ApiError;

/// A hash parameter: 64 hex characters.
pub(crate) fn hash_param(name: &str, s: &str) -> Result<Hash32, ApiError> {
    s.parse().map_err(|e| ApiError::bad_param(name, e))
}

/// A non-negative integer parameter.
pub(crate) fn u64_param(name: &str, s: &str) -> Result<u64, ApiError> {
    s.parse().map_err(|_| {
        let shown: String = s.chars().take(40).collect();
        ApiError::bad_param(name, format!("expected a non-negative integer, got {shown:?}"))
    })
}

/// A page size: `default` when absent, otherwise 1 to `max`.
pub(crate) fn limit_param(s: Option<&str>, default: usize, max: usize) -> Result<usize, ApiError> {
    let Some(s) = s else { return Ok(default) };
    match u64_param("limit", s)? {
        n @ 1.. if n <= max as u64 => Ok(n as usize),
        n => Err(ApiError::bad_param("limit", format!("must be between 1 and {max}, got {n}"))),
    }
}
