//! Errors as RFC 9457 problem details: every failure the API reports becomes one
//! `application/problem+json` body with a stable `type` URI, a `title` per type, the HTTP status
//! and a `detail` that tells the caller what to change. Internal failures are logged here and
//! answered with a fixed detail, so no storage path or backend message ever reaches a client.

use std::fmt::Display;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use civic_node::mempool::AdmitError;
use civic_node::{NodeError, SubmitError};

use crate::dto::Problem;

/// The stable `type` URIs of every problem the API reports. Clients match on these, never on
/// `title` or `detail`.
pub mod types {
    /// Transaction bytes or base64 that do not decode.
    pub const BAD_ENCODING: &str = "https://civic-ledger.dev/problems/bad-encoding";
    /// A signature that does not verify.
    pub const BAD_SIGNATURE: &str = "https://civic-ledger.dev/problems/bad-signature";
    /// A transaction that fails a stateless check (wrong chain, unknown module, malformed call).
    pub const INVALID_TRANSACTION: &str = "https://civic-ledger.dev/problems/invalid-transaction";
    /// The signer may not transact (unknown or removed account, stale key, inactive org).
    pub const UNAUTHORIZED: &str = "https://civic-ledger.dev/problems/unauthorized";
    /// The nonce was already used.
    pub const NONCE_TOO_LOW: &str = "https://civic-ledger.dev/problems/nonce-too-low";
    /// The nonce is too far ahead of the account's next nonce.
    pub const NONCE_TOO_HIGH: &str = "https://civic-ledger.dev/problems/nonce-too-high";
    /// Another pending transaction of the account has this nonce.
    pub const NONCE_TAKEN: &str = "https://civic-ledger.dev/problems/nonce-taken";
    /// The transaction is already pending.
    pub const DUPLICATE: &str = "https://civic-ledger.dev/problems/duplicate";
    /// The transaction is already in a block.
    pub const ALREADY_COMMITTED: &str = "https://civic-ledger.dev/problems/already-committed";
    /// Too many anonymous requests that write to the chain; retry after the `Retry-After` delay.
    pub const TOO_MANY_REQUESTS: &str = "https://civic-ledger.dev/problems/too-many-requests";
    /// The mempool is full; retry after the `Retry-After` delay.
    pub const MEMPOOL_FULL: &str = "https://civic-ledger.dev/problems/mempool-full";
    /// The block proposer dropped the transaction without executing it.
    pub const DROPPED: &str = "https://civic-ledger.dev/problems/transaction-dropped";
    /// No such resource.
    pub const NOT_FOUND: &str = "https://civic-ledger.dev/problems/not-found";
    /// The path exists but not with this method.
    pub const METHOD_NOT_ALLOWED: &str = "https://civic-ledger.dev/problems/method-not-allowed";
    /// A path or query parameter is malformed.
    pub const INVALID_PARAMETER: &str = "https://civic-ledger.dev/problems/invalid-parameter";
    /// The request body is not the JSON this endpoint expects.
    pub const MALFORMED_BODY: &str = "https://civic-ledger.dev/problems/malformed-body";
    /// The request body is larger than this endpoint accepts.
    pub const BODY_TOO_LARGE: &str = "https://civic-ledger.dev/problems/body-too-large";
    /// The request's `Content-Type` is not one this endpoint accepts.
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "https://civic-ledger.dev/problems/unsupported-media-type";
    /// This node holds no key to sign for the organization (credentials, status lists).
    pub const NO_SIGNING_KEY: &str = "https://civic-ledger.dev/problems/no-signing-key";
    /// This node runs no device gateway (supervision positions).
    pub const NO_GATEWAY: &str = "https://civic-ledger.dev/problems/no-gateway";
    /// The node failed internally; the details are in its log.
    pub const INTERNAL: &str = "https://civic-ledger.dev/problems/internal";
    /// The path is not a DID, or names an Ed25519 key that is not valid.
    pub const INVALID_DID: &str = "https://civic-ledger.dev/problems/invalid-did";
    /// The request must be signed (Civic-Signer / Civic-Timestamp / Civic-Signature) and is not,
    /// or its signature does not check out.
    pub const UNAUTHENTICATED: &str = "https://civic-ledger.dev/problems/unauthenticated";
    /// The signed caller may not see this resource.
    pub const FORBIDDEN: &str = "https://civic-ledger.dev/problems/forbidden";
    /// A DID method this ledger does not resolve.
    pub const METHOD_NOT_SUPPORTED: &str = "https://civic-ledger.dev/problems/did-method-not-supported";
}

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error response: a problem document plus the `Retry-After` header when one applies.
#[derive(Debug, Clone)]
pub struct ApiError {
    // Boxed so `Result<T, ApiError>` stays small on the happy path.
    problem: Box<Problem>,
    retry_after_s: Option<u64>,
}

impl ApiError {
    /// A problem of `kind` with `status`, `title` and `detail`.
    pub fn new(status: StatusCode, kind: &str, title: &str, detail: impl Into<String>) -> ApiError {
        ApiError {
            problem: Box::new(Problem {
                problem_type: kind.to_owned(),
                title: title.to_owned(),
                status: status.as_u16(),
                detail: detail.into(),
                instance: None,
                expected_nonce: None,
            }),
            retry_after_s: None,
        }
    }

    /// The problem document.
    pub fn problem(&self) -> &Problem {
        &self.problem
    }

    /// The problem document, consumed.
    pub fn into_problem(self) -> Problem {
        *self.problem
    }

    fn instance(mut self, instance: String) -> ApiError {
        self.problem.instance = Some(instance);
        self
    }

    /// 404 for a resource that does not exist.
    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, types::NOT_FOUND, "Not found", detail)
    }

    /// 400 for a malformed path or query parameter called `name`.
    pub fn bad_param(name: &str, detail: impl Display) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            types::INVALID_PARAMETER,
            "Invalid parameter",
            format!("parameter `{name}`: {detail}"),
        )
    }

    /// 400 for a body that is not the expected JSON.
    pub fn malformed_body(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, types::MALFORMED_BODY, "Malformed request body", detail)
    }

    /// 413 for a body over `limit_bytes`.
    pub fn too_large(limit_bytes: usize) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            types::BODY_TOO_LARGE,
            "Request body too large",
            format!("this endpoint accepts request bodies of at most {limit_bytes} bytes; send less"),
        )
    }

    /// 415 for an unsupported `Content-Type`.
    pub fn unsupported_media_type(accepted: &str) -> ApiError {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            types::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported media type",
            format!("set the Content-Type header to {accepted}"),
        )
    }

    /// 400 for base64 or transaction bytes that do not decode.
    pub fn bad_encoding(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, types::BAD_ENCODING, "Malformed transaction", detail)
    }

    /// 500 for a failure inside the node. `error` is logged, never sent.
    pub fn internal(error: &dyn Display) -> ApiError {
        tracing::error!(%error, "request failed inside the node");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            types::INTERNAL,
            "Internal error",
            "the node could not complete the request; the operator finds the cause in the node's log",
        )
    }

    /// The problem a refused submission becomes.
    pub fn from_submit(e: &SubmitError) -> ApiError {
        use StatusCode as S;
        let conflict = |kind: &str, title: &str| ApiError::new(S::CONFLICT, kind, title, e.to_string());
        match e {
            SubmitError::Decode(d) => ApiError::bad_encoding(format!(
                "the bytes are not a canonical signed transaction ({d}); encode it with the ledger's canonical (BCS) encoding"
            )),
            SubmitError::BadSignature => ApiError::new(
                S::BAD_REQUEST,
                types::BAD_SIGNATURE,
                "Bad signature",
                format!("{e}; sign the transaction's signing bytes with the key given as public_key"),
            ),
            SubmitError::Invalid(_) => ApiError::new(
                S::BAD_REQUEST,
                types::INVALID_TRANSACTION,
                "Invalid transaction",
                e.to_string(),
            ),
            SubmitError::Unauthorized(_) => {
                ApiError::new(S::FORBIDDEN, types::UNAUTHORIZED, "Signer not authorized", e.to_string())
            }
            SubmitError::NonceTooLow { expected, .. } => {
                let mut err = conflict(types::NONCE_TOO_LOW, "Nonce already used");
                err.problem.expected_nonce = Some(expected.get());
                err
            }
            SubmitError::NonceTooHigh { expected, .. } => {
                let mut err = conflict(types::NONCE_TOO_HIGH, "Nonce too far ahead");
                err.problem.expected_nonce = Some(expected.get());
                err
            }
            SubmitError::AlreadyCommitted { hash, .. } => {
                conflict(types::ALREADY_COMMITTED, "Already committed").instance(format!("/v1/txs/{hash}"))
            }
            SubmitError::Mempool(AdmitError::Duplicate(hash)) => {
                conflict(types::DUPLICATE, "Already pending").instance(format!("/v1/txs/{hash}"))
            }
            SubmitError::Mempool(AdmitError::NonceTaken { .. }) => {
                conflict(types::NONCE_TAKEN, "Nonce taken by a pending transaction")
            }
            SubmitError::Mempool(AdmitError::Full(_)) => {
                let mut err =
                    ApiError::new(S::SERVICE_UNAVAILABLE, types::MEMPOOL_FULL, "Mempool full", e.to_string());
                err.retry_after_s = Some(1);
                err
            }
            SubmitError::Internal(_) => ApiError::internal(e),
        }
    }
}

impl ApiError {
    /// 429: too many anonymous requests of a kind that writes to the chain.
    pub fn too_many(detail: impl Into<String>, retry_after_s: u64) -> ApiError {
        let mut err = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            types::TOO_MANY_REQUESTS,
            "Too many requests",
            detail.into(),
        );
        err.retry_after_s = Some(retry_after_s);
        err
    }
}

impl From<NodeError> for ApiError {
    fn from(e: NodeError) -> ApiError {
        ApiError::internal(&e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        // Serializing a struct of strings and integers cannot fail.
        let body = serde_json::to_vec(&self.problem).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(s) = self.retry_after_s {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use civic_types::{AccountId, Nonce, sha256};

    #[test]
    fn every_submit_error_is_a_4xx_except_internal() {
        let account = AccountId::new("a/b").unwrap();
        let cases: Vec<(SubmitError, u16, &str)> = vec![
            (SubmitError::BadSignature, 400, types::BAD_SIGNATURE),
            (SubmitError::Decode(civic_ledger::tx::TxDecodeError::BadModuleName), 400, types::BAD_ENCODING),
            (
                SubmitError::Invalid(civic_ledger::TxError::Invalid("x".into())),
                400,
                types::INVALID_TRANSACTION,
            ),
            (SubmitError::Unauthorized("no".into()), 403, types::UNAUTHORIZED),
            (
                SubmitError::NonceTooLow {
                    account: account.clone(),
                    got: Nonce::new(0),
                    expected: Nonce::new(3),
                },
                409,
                types::NONCE_TOO_LOW,
            ),
            (
                SubmitError::NonceTooHigh {
                    account: account.clone(),
                    got: Nonce::new(9999),
                    expected: Nonce::new(3),
                },
                409,
                types::NONCE_TOO_HIGH,
            ),
            (
                SubmitError::AlreadyCommitted { hash: sha256(b"x"), height: civic_types::Height::new(1) },
                409,
                types::ALREADY_COMMITTED,
            ),
            (SubmitError::Mempool(AdmitError::Duplicate(sha256(b"x"))), 409, types::DUPLICATE),
            (
                SubmitError::Mempool(AdmitError::NonceTaken { account, nonce: Nonce::new(1) }),
                409,
                types::NONCE_TAKEN,
            ),
            (SubmitError::Mempool(AdmitError::Full(10)), 503, types::MEMPOOL_FULL),
            (SubmitError::Internal("disk on fire at /var/secret".into()), 500, types::INTERNAL),
        ];
        for (e, status, kind) in cases {
            let p = ApiError::from_submit(&e).into_problem();
            assert_eq!((p.status, p.problem_type.as_str()), (status, kind), "{e:?}");
            assert!(!p.detail.is_empty());
            assert!(!p.detail.contains("/var/secret"), "internal details leaked: {}", p.detail);
        }
    }

    #[test]
    fn nonce_conflicts_carry_the_expected_nonce_and_full_mempool_asks_to_retry() {
        let e = SubmitError::NonceTooLow {
            account: AccountId::new("a/b").unwrap(),
            got: Nonce::new(0),
            expected: Nonce::new(3),
        };
        assert_eq!(ApiError::from_submit(&e).problem().expected_nonce, Some(3));
        let res = ApiError::from_submit(&SubmitError::Mempool(AdmitError::Full(1))).into_response();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers()[header::RETRY_AFTER], "1");
        assert_eq!(res.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
    }
}
