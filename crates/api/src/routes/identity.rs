//! Residents' views of their own data: who read which attributes (the access log) and their
//! consents. Served only to the resident (signed with their did:key) and to `auditor` accounts.

use axum::Json;
use axum::extract::State;
use civic_identity::Did;
use civic_identity::module::{AccessRecord, ConsentRecord, keys};
use civic_types::Role;
use serde_json::{Value, json};

use crate::auth::{Caller, SignedCaller, forbidden};
use crate::dto::{IdentityListDto, Problem};
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
