//! Signed requests: how a caller proves who it is to endpoints that serve personal data.
//!
//! A request carries three headers: `Civic-Signer` (a resident's `did:key`, or an account id
//! `org/name`), `Civic-Timestamp` (Unix milliseconds) and `Civic-Signature` (hex Ed25519 over
//! [`request_signing_bytes`]: a domain prefix, the method, the path with its query, and the
//! timestamp). The signature must be by the DID's key or the account's current key, and the
//! timestamp within five minutes of the node's clock. A request with a body (a signed
//! `POST /v1/credentials/verify`, which records the verification as the signer's) also sends
//! `Civic-Content-SHA256`, the hex SHA-256 of the body; it is signed with the rest
//! ([`request_signing_bytes_with_body`]) and the handler refuses a body that does not match, so
//! a captured request cannot be replayed with another body. A replay of the same request inside
//! the window reveals nothing the signer could not already see; anything else that changes state
//! is a signed transaction with a nonce.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use civic_identity::Did;
use civic_ledger::modules::membership::{self, Account};
use civic_types::{AccountId, Hash32, PublicKey, Signature};

use crate::AppState;
use crate::problem::{ApiError, types};

/// Domain prefix of request signatures.
pub const REQUEST_DOMAIN: &[u8] = b"civic-ledger/request/v1\0";
/// Header naming the signer.
pub const SIGNER: &str = "civic-signer";
/// Header with the timestamp.
pub const TIMESTAMP: &str = "civic-timestamp";
/// Header with the signature.
pub const SIGNATURE: &str = "civic-signature";
/// How far a request's timestamp may be from the node's clock.
pub const MAX_SKEW_MS: u64 = 5 * 60 * 1000;

/// Header with the hex SHA-256 of the request body (requests with a body).
pub const CONTENT_SHA256: &str = "civic-content-sha256";

/// The bytes a caller signs for a request without a body.
pub fn request_signing_bytes(method: &str, path_and_query: &str, timestamp_ms: u64) -> Vec<u8> {
    let mut b = REQUEST_DOMAIN.to_vec();
    b.extend_from_slice(format!("{method}\n{path_and_query}\n{timestamp_ms}").as_bytes());
    b
}

/// The bytes a caller signs for a request with a body whose SHA-256 is `body_sha256`.
pub fn request_signing_bytes_with_body(
    method: &str,
    path_and_query: &str,
    timestamp_ms: u64,
    body_sha256: &Hash32,
) -> Vec<u8> {
    let mut b = request_signing_bytes(method, path_and_query, timestamp_ms);
    b.extend_from_slice(format!("\n{}", body_sha256.to_hex()).as_bytes());
    b
}

/// The body digest a signed request committed to (in the request's extensions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedBody(pub Hash32);

/// Checks a signed request's body against the digest its signature covers.
pub fn check_signed_body(signed: Option<SignedBody>, body: &[u8]) -> Result<(), ApiError> {
    match signed {
        Some(SignedBody(d)) if d == civic_types::sha256(body) => Ok(()),
        Some(_) => Err(unauthenticated(format!(
            "the body does not match the signed {CONTENT_SHA256}; sign the SHA-256 of the body you send"
        ))),
        None => {
            Err(unauthenticated(format!("a signed request with a body must send and sign {CONTENT_SHA256}")))
        }
    }
}

/// Who signed the request.
#[derive(Clone, Debug)]
pub enum Caller {
    /// A resident, by `did:key`.
    Resident(String),
    /// An active account of an active organization.
    Account(Box<Account>),
}

/// Extractor: the authenticated caller, or a 401 problem saying what is wrong.
pub struct SignedCaller(pub Caller);

fn unauthenticated(detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, types::UNAUTHENTICATED, "Signed request required", detail)
}

/// A 403 problem.
pub fn forbidden(detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, types::FORBIDDEN, "Not allowed", detail)
}

fn header<'a>(parts: &'a Parts, name: &str) -> Result<&'a str, ApiError> {
    parts
        .headers
        .get(name)
        .ok_or_else(|| {
            unauthenticated(format!(
                "this endpoint serves personal data: sign the request with the {SIGNER}, {TIMESTAMP} and {SIGNATURE} headers (see the README)"
            ))
        })?
        .to_str()
        .map_err(|_| unauthenticated(format!("header {name} is not text")))
}

impl FromRequestParts<AppState> for SignedCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let signer = header(parts, SIGNER)?.to_owned();
        let ts: u64 = header(parts, TIMESTAMP)?
            .parse()
            .map_err(|_| unauthenticated(format!("{TIMESTAMP} must be Unix milliseconds")))?;
        let sig: Signature =
            header(parts, SIGNATURE)?.parse().map_err(|e| unauthenticated(format!("{SIGNATURE}: {e}")))?;
        let now = civic_node::now_ms().get();
        if now.abs_diff(ts) > MAX_SKEW_MS {
            return Err(unauthenticated(format!(
                "{TIMESTAMP} {ts} is more than five minutes from the node's clock ({now}); sign a fresh request"
            )));
        }
        let path =
            parts.uri.path_and_query().map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned());
        let msg = match parts.headers.get(CONTENT_SHA256) {
            None => request_signing_bytes(parts.method.as_str(), &path, ts),
            Some(h) => {
                let digest: Hash32 =
                    h.to_str().ok().and_then(|s| s.parse().ok()).ok_or_else(|| {
                        unauthenticated(format!("{CONTENT_SHA256} must be 64 hex characters"))
                    })?;
                parts.extensions.insert(SignedBody(digest));
                request_signing_bytes_with_body(parts.method.as_str(), &path, ts, &digest)
            }
        };
        let node = state.node.clone();
        crate::blocking(move || {
            let (key, caller): (PublicKey, Caller) = if signer.starts_with("did:") {
                match signer.parse::<Did>() {
                    Ok(Did::Key(k)) => (k, Caller::Resident(signer.clone())),
                    _ => return Err(unauthenticated(format!("{SIGNER} {signer:?} is not a did:key"))),
                }
            } else {
                let id = AccountId::new(signer.as_str()).map_err(|e| unauthenticated(e.to_string()))?;
                let acct: Account = node
                    .state_value(&membership::keys::account(&id))?
                    .filter(|a: &Account| a.active)
                    .ok_or_else(|| unauthenticated(format!("account {id} does not exist or was removed")))?;
                let org_ok = node
                    .state_value::<membership::Org>(&membership::keys::org(&id.org()))?
                    .is_some_and(|o| o.active);
                if !org_ok {
                    return Err(unauthenticated(format!("organization {} is not active", id.org())));
                }
                (acct.public_key, Caller::Account(Box::new(acct)))
            };
            key.verify(&msg, &sig).map_err(|_| {
                unauthenticated(format!(
                    "the signature does not verify for {signer}: sign \"civic-ledger/request/v1\\0METHOD\\nPATH?QUERY\\nTIMESTAMP\""
                ))
            })?;
            Ok(SignedCaller(caller))
        })
        .await
    }
}

/// Extractor: the authenticated caller when the request carries the signature headers, `None`
/// when it carries none of them. Headers that are present but wrong are still a 401, so a caller
/// who meant to sign learns why it did not count. The second field is the body digest the
/// signature covers, for handlers with a body to check ([`check_signed_body`]).
pub struct MaybeSignedCaller(pub Option<Caller>, pub Option<SignedBody>);

impl FromRequestParts<AppState> for MaybeSignedCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let signed = [SIGNER, TIMESTAMP, SIGNATURE].iter().any(|h| parts.headers.contains_key(*h));
        if !signed {
            return Ok(MaybeSignedCaller(None, None));
        }
        let SignedCaller(caller) = SignedCaller::from_request_parts(parts, state).await?;
        Ok(MaybeSignedCaller(Some(caller), parts.extensions.get::<SignedBody>().copied()))
    }
}
