//! Residents' views of their own data: who read which attributes (the access log) and their
//! consents. Served only to the resident (signed with their did:key) and to `auditor` accounts.

use axum::Json;
use axum::extract::State;
use civic_identity::Did;
use civic_identity::module::{AccessRecord, ConsentRecord, keys};
use civic_types::Role;
use serde_json::{Value, json};

use crate::auth::{Caller, SignedCaller, forbidden};
use crate::dto::{AuthenticatedDto, ChallengeDto, ChallengeResponseDto, IdentityListDto, Problem};
use crate::extract::ApiPath;
use crate::problem::ApiError;
use crate::{AppState, blocking};

/// Most records returned at once.
const MAX_RECORDS: usize = 1000;

fn authorize(caller: &Caller, resident: &str) -> Result<(), ApiError> {
    match caller {
        Caller::Resident(did) if did == resident => Ok(()),
        Caller::Resident(did) => {
            Err(forbidden(format!("{did} may only see its own records, not those of {resident}")))
        }
        Caller::Account(a) if a.roles.contains(&Role::Auditor) => Ok(()),
        Caller::Account(a) => Err(forbidden(format!(
            "account {} lacks the auditor role; residents' records are shown to the resident and to auditors",
            a.id
        ))),
    }
}

fn resident_param(did: &str) -> Result<String, ApiError> {
    match did.parse::<Did>() {
        Ok(Did::Key(_)) => Ok(did.to_owned()),
        Ok(Did::Civic(_)) => Err(ApiError::bad_param("did", "residents are did:key, not did:civic")),
        Err(e) => Err(ApiError::bad_param("did", e)),
    }
}

fn records<T: serde::de::DeserializeOwned + serde::Serialize>(
    node: &civic_node::Node,
    prefix: &str,
) -> Result<Vec<T>, ApiError> {
    let page =
        node.store().state_range(prefix.as_bytes(), None, MAX_RECORDS).map_err(|e| ApiError::internal(&e))?;
    page.iter()
        .map(|(_, v)| civic_ledger::state::decode_value(v).map_err(|e| ApiError::internal(&e)))
        .collect()
}

/// Who read this resident's attributes: every access record, oldest first.
#[utoipa::path(
    get,
    path = "/v1/identity/residents/{did}/access-log",
    tag = "identity",
    params(
        ("did" = String, Path, description = "The resident's did:key"),
        ("Civic-Signer" = String, Header, description = "The resident's did:key, or an auditor account id (org/name)"),
        ("Civic-Timestamp" = u64, Header, description = "Unix milliseconds, within five minutes of the node's clock"),
        ("Civic-Signature" = String, Header, description = "Hex Ed25519 signature over \"civic-ledger/request/v1\\0\" + METHOD + \"\\n\" + path?query + \"\\n\" + timestamp"),
    ),
    responses(
        (status = 200, description = "Access records", body = IdentityListDto),
        (status = 400, description = "Not a resident DID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "The request is not signed, or the signature does not check out", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Neither the resident nor an auditor", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn access_log(
    State(st): State<AppState>,
    ApiPath(did): ApiPath<String>,
    SignedCaller(caller): SignedCaller,
) -> Result<Json<IdentityListDto>, ApiError> {
    let resident = resident_param(&did)?;
    authorize(&caller, &resident)?;
    let node = st.node.clone();
    blocking(move || {
        let list: Vec<AccessRecord> = records(&node, &keys::access_prefix(&resident))?;
        let items = list.iter().map(|r| serde_json::to_value(r).unwrap_or(Value::Null)).collect();
        Ok(Json(IdentityListDto { resident, items }))
    })
    .await
}

/// The resident's consents, each with its status now (active, withdrawn or expired).
#[utoipa::path(
    get,
    path = "/v1/identity/residents/{did}/consents",
    tag = "identity",
    params(
        ("did" = String, Path, description = "The resident's did:key"),
        ("Civic-Signer" = String, Header, description = "The resident's did:key, or an auditor account id (org/name)"),
        ("Civic-Timestamp" = u64, Header, description = "Unix milliseconds, within five minutes of the node's clock"),
        ("Civic-Signature" = String, Header, description = "Hex Ed25519 signature over \"civic-ledger/request/v1\\0\" + METHOD + \"\\n\" + path?query + \"\\n\" + timestamp"),
    ),
    responses(
        (status = 200, description = "Consent records", body = IdentityListDto),
        (status = 400, description = "Not a resident DID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "The request is not signed, or the signature does not check out", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Neither the resident nor an auditor", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn consents(
    State(st): State<AppState>,
    ApiPath(did): ApiPath<String>,
    SignedCaller(caller): SignedCaller,
) -> Result<Json<IdentityListDto>, ApiError> {
    let resident = resident_param(&did)?;
    authorize(&caller, &resident)?;
    let node = st.node.clone();
    blocking(move || {
        let now = node.head().timestamp;
        let list: Vec<ConsentRecord> = records(&node, &keys::consent_prefix(&resident))?;
        let items = list
            .iter()
            .map(|c| {
                let status = if c.withdrawn_at.is_some() {
                    "withdrawn"
                } else if c.grant.not_after <= now {
                    "expired"
                } else {
                    "active"
                };
                json!({ "status": status, "record": c })
            })
            .collect();
        Ok(Json(IdentityListDto { resident, items }))
    })
    .await
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Issues a single-use challenge for a resident to sign with their did:key.
#[utoipa::path(
    post,
    path = "/v1/identity/challenges",
    tag = "identity",
    responses(
        (status = 201, description = "The challenge", body = ChallengeDto),
        (status = 503, description = "Too many outstanding challenges", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn new_challenge(
    State(st): State<AppState>,
) -> Result<(axum::http::StatusCode, Json<ChallengeDto>), ApiError> {
    let rng = |e: civic_types::CryptoError| ApiError::internal(&e);
    let (id, c) = st
        .challenges
        .issue(civic_types::random_bytes().map_err(rng)?, civic_types::random_bytes().map_err(rng)?, now_ms())
        .map_err(|e| {
            ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                crate::problem::types::MEMPOOL_FULL,
                "Busy",
                e,
            )
        })?;
    let sign = format!("civic-ledger/challenge/v1\\0{id}\\n{}", c.nonce);
    Ok((
        axum::http::StatusCode::CREATED,
        Json(ChallengeDto { id, nonce: c.nonce, expires_at_ms: c.expires_at_ms, sign }),
    ))
}

/// Answers a challenge: the resident's DID and a signature over it. Single use.
#[utoipa::path(
    post,
    path = "/v1/identity/challenges/{id}/response",
    tag = "identity",
    params(("id" = String, Path, description = "The challenge id")),
    request_body = ChallengeResponseDto,
    responses(
        (status = 200, description = "Verified: the DID and which attributes are attested for it", body = AuthenticatedDto),
        (status = 400, description = "Malformed body or DID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong signature (the challenge is now used up)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown, already used or expired challenge", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn answer_challenge(
    State(st): State<AppState>,
    ApiPath(id): ApiPath<String>,
    raw: crate::extract::ApiBytes<4096>,
) -> Result<Json<AuthenticatedDto>, ApiError> {
    let body: ChallengeResponseDto = crate::extract::parse_json(&raw.body)?;
    let resident = resident_param(&body.did)?;
    let Ok(Did::Key(key)) = resident.parse::<Did>() else {
        return Err(ApiError::bad_param("did", "not a did:key"));
    };
    let sig: civic_types::Signature =
        body.signature.parse().map_err(|e| ApiError::bad_param("signature", e))?;
    let Some(c) = st.challenges.take(&id) else {
        return Err(ApiError::not_found(format!(
            "challenge {id} is unknown or was already answered; request a new one with POST /v1/identity/challenges"
        )));
    };
    if now_ms() > c.expires_at_ms {
        return Err(ApiError::not_found(format!("challenge {id} expired; request a new one")));
    }
    if key.verify(&crate::challenge::challenge_signing_bytes(&id, &c.nonce), &sig).is_err() {
        return Err(ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            crate::problem::types::UNAUTHENTICATED,
            "Authentication failed",
            format!(
                "the signature is not {resident}'s over this challenge; the challenge is used up, request a new one"
            ),
        ));
    }
    let node = st.node.clone();
    blocking(move || {
        let prefix = keys::attestation_prefix(&resident);
        let page =
            node.store().state_range(prefix.as_bytes(), None, 64).map_err(|e| ApiError::internal(&e))?;
        let attested_attributes = page
            .iter()
            .filter_map(|(k, _)| {
                std::str::from_utf8(k).ok()?.strip_prefix(prefix.as_str()).map(str::to_owned)
            })
            .collect();
        Ok(Json(AuthenticatedDto {
            did: resident,
            verified: true,
            attested_attributes,
            height: node.head().height.get(),
        }))
    })
    .await
}
