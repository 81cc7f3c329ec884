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
pub(crate) mod supervision;
pub(crate) mod txs;

use std::ops::ControlFlow;

use civic_types::Hash32;

use crate::problem::ApiError;

/// The node's wall clock in Unix milliseconds (for validity checks and challenge expiry, never
/// for ledger state).
pub(crate) fn now_ms() -> u64 {
    civic_node::now_ms().get()
}

/// A page of a list that grows without bound (see [`paged`]).
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageParams {
    /// Items per page, 1 to 1000 (default 200).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 1000)]
    pub(crate) limit: Option<String>,
    /// The previous page's `next`.
    pub(crate) after: Option<String>,
}

/// Most state records a paged list reads for one answer (matching or not), so a filter that
/// matches little cannot make one request scan the whole chain; the answer's `next` resumes.
pub(crate) const PAGE_SCAN_BUDGET: usize = 20_000;

/// One page of decoded state values under `prefix` that `keep` accepts, in key order, starting
/// after the key `prefix + after`. Returns at most `limit` items and, when the list may go on,
/// the `after` of the next page (the key suffix of the last record read).
pub(crate) fn paged<T: serde::de::DeserializeOwned>(
    node: &civic_node::Node,
    prefix: &str,
    after: Option<&str>,
    limit: usize,
    mut keep: impl FnMut(&T) -> bool,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    if let Some(a) = after
        && (a.is_empty() || a.len() > 256)
    {
        return Err(ApiError::bad_param("after", "pass the `next` of the previous page (1 to 256 bytes)"));
    }
    let start = after.map(|a| format!("{prefix}{a}"));
    let (mut items, mut scanned, mut last) = (Vec::new(), 0usize, None);
    node.visit_state::<T, ApiError>(prefix, start.as_deref(), |key, value| {
        scanned += 1;
        if keep(&value) {
            items.push(value);
        }
        if items.len() == limit || scanned == PAGE_SCAN_BUDGET {
            last = Some(key.to_owned());
            return Ok(ControlFlow::Break(()));
        }
        Ok(ControlFlow::Continue(()))
    })?;
    // Stopped early: there is a next page only if a record follows.
    let next = match last {
        Some(key) => {
            let more = node
                .store()
                .state_range(prefix.as_bytes(), Some(key.as_bytes()), 1)
                .map_err(|e| ApiError::internal(&e))?;
            (!more.is_empty()).then(|| key[prefix.len()..].to_owned())
        }
        None => None,
    };
    Ok((items, next))
}

/// Every decoded state value under `prefix`, in key order: for lists that stay small by
/// nature (a case's zones, a license's management records). Lists that grow without bound use
/// [`paged`].
pub(crate) fn records<T: serde::de::DeserializeOwned>(
    node: &civic_node::Node,
    prefix: &str,
) -> Result<Vec<T>, ApiError> {
    Ok(node.scan_state::<T>(prefix)?.into_iter().map(|(_, v)| v).collect())
}

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
