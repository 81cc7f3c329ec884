//! DID resolution: `did:key` from the key itself, `did:civic:<org>` from on-chain membership.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use civic_identity::{Did, DidError, civic_document, did_key_document};
use civic_ledger::modules::membership::{Account, Org, keys};
use serde_json::json;

use crate::dto::{DidResolutionDto, Problem};
use crate::extract::ApiPath;
use crate::problem::{ApiError, types};
use crate::{AppState, blocking};

/// Accounts read per page while assembling an organization's document.
const PAGE: usize = 1000;

fn did_problem(e: &DidError) -> ApiError {
    match e {
        DidError::MethodNotSupported(_) => ApiError::new(
            StatusCode::BAD_REQUEST,
            types::METHOD_NOT_SUPPORTED,
            "DID method not supported",
            e.to_string(),
        ),
        _ => ApiError::new(StatusCode::BAD_REQUEST, types::INVALID_DID, "Invalid DID", e.to_string()),
    }
}

/// Resolves a DID to its W3C DID document (DID Resolution result).
#[utoipa::path(
    get,
    path = "/v1/dids/{did}",
    tag = "identity",
    params(("did" = String, Path, description = "did:key:z6Mk… or did:civic:<org-id>")),
    responses(
        (status = 200, description = "The DID resolution result", body = DidResolutionDto),
        (status = 400, description = "Not a DID, or an unsupported method", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn resolve(
    State(st): State<AppState>,
    ApiPath(did): ApiPath<String>,
) -> Result<Json<DidResolutionDto>, ApiError> {
    let did: Did = did.parse().map_err(|e| did_problem(&e))?;
    let node = st.node.clone();
    blocking(move || {
        let (document, document_metadata) = match &did {
            Did::Key(k) => (did_key_document(k), json!({})),
            Did::Civic(org_id) => {
                let org: Org = node.state_value(&keys::org(org_id))?.ok_or_else(|| {
                    ApiError::not_found(format!("{did} names no organization of this ledger"))
                })?;
                let prefix = format!("{}{}/", keys::ACCOUNT_PREFIX, org_id);
                let mut accounts = Vec::new();
                let mut after: Option<Vec<u8>> = None;
                loop {
                    let page = node
                        .store()
                        .state_range(prefix.as_bytes(), after.as_deref(), PAGE)
                        .map_err(|e| ApiError::internal(&e))?;
                    let Some(last) = page.last() else { break };
                    after = Some(last.0.clone());
                    for (_, v) in &page {
                        let a: Account =
                            civic_ledger::state::decode_value(v).map_err(|e| ApiError::internal(&e))?;
                        accounts.push(a);
                    }
                }
                civic_document(&org, &accounts)
            }
        };
        Ok(Json(DidResolutionDto {
            document,
            resolution_metadata: json!({ "contentType": "application/did+ld+json" }),
            document_metadata,
        }))
    })
    .await
}
