//! Residents' views of their own data: who read which attributes (the access log) and their
//! consents. Served only to the resident (signed with their did:key) and to `auditor` accounts.

use axum::Json;
use axum::extract::State;
use civic_identity::Did;
use civic_identity::module::{AccessRecord, ConsentRecord, keys};
use civic_types::Role;
use serde_json::{Value, json};

use crate::auth::{Caller, SignedCaller, forbidden};
use std::collections::BTreeMap;

use crate::dto::{
    AttestRequestDto, AttestedDto, AttributesDto, AuthenticatedDto, ChallengeDto, ChallengeResponseDto,
    IdentityListDto, Problem, ReadRequestDto,
};
use crate::extract::{ApiPath, ApiQuery};
use crate::problem::ApiError;
use crate::routes::{PageParams, limit_param, now_ms, paged};
use crate::{AppState, blocking};

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

/// Who read this resident's attributes: every access record, oldest first, a page at a time.
#[utoipa::path(
    get,
    path = "/v1/identity/residents/{did}/access-log",
    tag = "identity",
    params(
        PageParams,
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
    ApiQuery(q): ApiQuery<PageParams>,
    SignedCaller(caller): SignedCaller,
) -> Result<Json<IdentityListDto>, ApiError> {
    let resident = resident_param(&did)?;
    authorize(&caller, &resident)?;
    let limit = limit_param(q.limit.as_deref(), 200, 1000)?;
    let node = st.node.clone();
    blocking(move || {
        let (list, next) =
            paged::<AccessRecord>(&node, &keys::access_prefix(&resident), q.after.as_deref(), limit, |_| {
                true
            })?;
        let items = list.iter().map(|r| serde_json::to_value(r).unwrap_or(Value::Null)).collect();
        Ok(Json(IdentityListDto { resident, items, next }))
    })
    .await
}

/// The resident's consents, each with its status now (active, withdrawn or expired).
#[utoipa::path(
    get,
    path = "/v1/identity/residents/{did}/consents",
    tag = "identity",
    params(
        PageParams,
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
    ApiQuery(q): ApiQuery<PageParams>,
    SignedCaller(caller): SignedCaller,
) -> Result<Json<IdentityListDto>, ApiError> {
    let resident = resident_param(&did)?;
    authorize(&caller, &resident)?;
    let limit = limit_param(q.limit.as_deref(), 200, 1000)?;
    let node = st.node.clone();
    blocking(move || {
        let now = node.head().timestamp;
        let (list, next) = paged::<ConsentRecord>(
            &node,
            &keys::consent_prefix(&resident),
            q.after.as_deref(),
            limit,
            |_| true,
        )?;
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
        Ok(Json(IdentityListDto { resident, items, next }))
    })
    .await
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

/// A rejected receipt as a 403 problem carrying the ledger's reason.
fn refused(receipt: &civic_ledger::Receipt) -> Option<ApiError> {
    match &receipt.outcome {
        civic_ledger::Outcome::Ok => None,
        civic_ledger::Outcome::Rejected { code, reason } => Some(forbidden(format!(
            "the ledger rejected the transaction ({code}): {reason} (the rejection is on chain as {})",
            receipt.tx_hash
        ))),
    }
}

fn identity_call(tx: &civic_ledger::SignedTx) -> Result<civic_identity::IdentityCall, ApiError> {
    tx.tx.call.decode::<civic_identity::IdentityCall>().map_err(|e| ApiError::bad_param("tx", e))
}

/// A registrar records a resident's attribute values: the values and salts go to this node's
/// private store, the signed `attest` transaction (commitments only) to the chain.
#[utoipa::path(
    post,
    path = "/v1/identity/residents/{did}/attributes",
    tag = "identity",
    params(("did" = String, Path, description = "The resident's did:key")),
    request_body = AttestRequestDto,
    responses(
        (status = 200, description = "Attested: values stored off chain, commitments committed", body = AttestedDto),
        (status = 400, description = "Malformed, or values that do not match the transaction's commitments", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The signer may not attest (the ledger's reason)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn attest(
    State(st): State<AppState>,
    ApiPath(did): ApiPath<String>,
    raw: crate::extract::ApiBytes<65536>,
) -> Result<Json<AttestedDto>, ApiError> {
    let resident = resident_param(&did)?;
    let body: AttestRequestDto = crate::extract::parse_json(&raw.body)?;
    let tx = crate::routes::txs::decode_b64_tx("attest_tx", &body.attest_tx)?;
    let civic_identity::IdentityCall::Attest { resident: r, attributes } = identity_call(&tx)? else {
        return Err(ApiError::bad_param("attest_tx", "not an identity attest call"));
    };
    if r != resident {
        return Err(ApiError::bad_param("attest_tx", format!("attests {r}, not {resident}")));
    }
    let names: std::collections::BTreeSet<&String> = attributes.keys().collect();
    if names != body.values.keys().collect() {
        return Err(ApiError::bad_param(
            "values",
            "must carry exactly the attributes the transaction attests",
        ));
    }
    let mut private = Vec::new();
    for (name, v) in &body.values {
        let salt = v
            .salt
            .parse::<civic_types::Hash32>()
            .map_err(|_| ApiError::bad_param("values", "salt must be 64 hex characters"))?
            .0;
        let p = civic_identity::private::PrivateAttribute { value: v.value.clone(), salt };
        if Some(&p.commitment(name)) != attributes.get(name) {
            return Err(ApiError::bad_param(
                "values",
                format!("the value of {name} does not match its commitment"),
            ));
        }
        let org = tx.tx.signer.org();
        private.push((civic_identity::private::key(&org, &resident, name), Some(civic_types::encode(&p))));
    }
    if !tx.verify_signature() {
        return Err(ApiError::from_submit(&civic_node::SubmitError::BadSignature));
    }
    // Values are kept before the commitments are committed, so an acknowledged attestation
    // always has its values here; a refused one has them removed again.
    let node = st.node.clone();
    let keys_only: Vec<(Vec<u8>, Option<Vec<u8>>)> = private.iter().map(|(k, _)| (k.clone(), None)).collect();
    blocking(move || node.store().private_put(private).map_err(|e| ApiError::internal(&e))).await?;
    let result = crate::routes::txs::submit_and_wait(&st, tx).await;
    let failed = match &result {
        Ok(c) => refused(&c.receipt),
        Err(e) => Some(e.clone()),
    };
    if let Some(e) = failed {
        let node = st.node.clone();
        blocking(move || node.store().private_put(keys_only).map_err(|e| ApiError::internal(&e))).await?;
        return Err(e);
    }
    let c = result?;
    Ok(Json(AttestedDto { resident, tx_hash: c.receipt.tx_hash.to_hex(), height: c.height.get() }))
}

/// An agency reads a resident's attribute values. The body is the agency's signed
/// `record_access` transaction: the node commits it first, and releases the values only if the
/// ledger accepted it (a live consent of the agency's organization covering the attributes and
/// purpose, or a named legal basis). A refusal is a 403 naming what is missing — and is itself
/// on chain.
#[utoipa::path(
    post,
    path = "/v1/identity/residents/{did}/attributes/read",
    tag = "identity",
    params(("did" = String, Path, description = "The resident's did:key")),
    request_body = ReadRequestDto,
    responses(
        (status = 200, description = "The values, released against the committed access record", body = AttributesDto),
        (status = 400, description = "Malformed, or not a record_access for this resident", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No live consent or legal basis (the ledger's reason)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The values are held by another organization's node", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn read_attributes(
    State(st): State<AppState>,
    ApiPath(did): ApiPath<String>,
    raw: crate::extract::ApiBytes<65536>,
) -> Result<Json<AttributesDto>, ApiError> {
    let resident = resident_param(&did)?;
    let body: ReadRequestDto = crate::extract::parse_json(&raw.body)?;
    let tx = crate::routes::txs::decode_b64_tx("tx", &body.tx)?;
    let civic_identity::IdentityCall::RecordAccess { resident: r, attributes, .. } = identity_call(&tx)?
    else {
        return Err(ApiError::bad_param("tx", "not an identity record_access call"));
    };
    if r != resident {
        return Err(ApiError::bad_param("tx", format!("records access to {r}, not {resident}")));
    }
    let c = crate::routes::txs::submit_and_wait(&st, tx).await?;
    if let Some(e) = refused(&c.receipt) {
        return Err(e);
    }
    let node = st.node.clone();
    let tx_hash = c.receipt.tx_hash.to_hex();
    let height = c.height.get();
    blocking(move || {
        let mut values = BTreeMap::new();
        for name in &attributes {
            let att: civic_identity::module::Attestation = node
                .state_value(&keys::attestation(&resident, name))?
                .ok_or_else(|| ApiError::not_found(format!("{name} is not attested for {resident}")))?;
            let bytes = node
                .store()
                .private_get(&civic_identity::private::key(&att.org, &resident, name))
                .map_err(|e| ApiError::internal(&e))?
                .ok_or_else(|| {
                    ApiError::not_found(format!(
                        "the value of {name} is held by {}'s node, not this one; send the same request there",
                        att.org
                    ))
                })?;
            let p: civic_identity::private::PrivateAttribute =
                civic_types::decode(&bytes, 1 << 20).map_err(|e| ApiError::internal(&e))?;
            values.insert(name.clone(), p.value);
        }
        Ok(Json(AttributesDto { resident, values, access_tx: tx_hash, height }))
    })
    .await
}
