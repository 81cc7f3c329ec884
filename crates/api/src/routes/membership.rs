//! Membership reads for people and the CLI: organizations, accounts, governance proposals, and an
//! account's next nonce. Lists are pages of committed state in key order.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use civic_ledger::modules::membership::{Account, Org, Proposal, keys};
use civic_ledger::state::decode_value;
use civic_node::Node;
use civic_types::{AccountId, OrgId};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::IntoParams;

use crate::dto::{AccountDto, AccountListDto, NonceDto, OrgListDto, Problem, ProposalDto, ProposalListDto};
use crate::extract::{ApiPath, ApiQuery};
use crate::problem::ApiError;
use crate::routes::state::org_dto;
use crate::routes::{limit_param, u64_param};
use crate::{AppState, blocking};

const PAGE_DEFAULT: usize = 100;
const PAGE_MAX: usize = 1000;

/// Up to `limit` decoded values under `prefix`, after the key `after`.
fn page<T: DeserializeOwned>(
    node: &Node,
    prefix: &str,
    after: Option<String>,
    limit: usize,
) -> Result<Vec<T>, ApiError> {
    let rows = node
        .store()
        .state_range(prefix.as_bytes(), after.as_deref().map(str::as_bytes), limit)
        .map_err(|e| ApiError::internal(&e))?;
    rows.iter()
        .map(|(k, v)| {
            decode_value(v).map_err(|e| {
                ApiError::internal(&format!(
                    "state value at {} does not decode: {e}",
                    String::from_utf8_lossy(k)
                ))
            })
        })
        .collect()
}

/// The cursor for the next page: the last item's id when the page is full.
fn next<T, C>(items: &[T], limit: usize, id: impl Fn(&T) -> C) -> Option<C> {
    if items.len() == limit { items.last().map(id) } else { None }
}

/// Query of `GET /v1/membership/organizations`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct OrgListParams {
    /// Start after this organization id (the previous page's `next_after`).
    after: Option<String>,
    /// Organizations per page, 1 to 1000 (default 100).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
}

/// The organizations of the consortium, active and removed.
#[utoipa::path(
    get,
    path = "/v1/membership/organizations",
    tag = "membership",
    params(OrgListParams),
    responses(
        (status = 200, description = "Organizations by id", body = OrgListDto),
        (status = 400, description = "A malformed parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn organizations(
    State(st): State<AppState>,
    ApiQuery(q): ApiQuery<OrgListParams>,
) -> Result<Json<OrgListDto>, ApiError> {
    let limit = limit_param(q.limit.as_deref(), PAGE_DEFAULT, PAGE_MAX)?;
    let after = match q.after {
        Some(a) => Some(keys::org(&OrgId::new(a).map_err(|e| ApiError::bad_param("after", e))?)),
        None => None,
    };
    let node = st.node.clone();
    blocking(move || {
        let orgs: Vec<Org> = page(&node, keys::ORG_PREFIX, after, limit)?;
        Ok(Json(OrgListDto {
            next_after: next(&orgs, limit, |o| o.id.to_string()),
            organizations: orgs.iter().map(org_dto).collect(),
        }))
    })
    .await
}

/// Query of `GET /v1/membership/accounts`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AccountListParams {
    /// Only this organization's accounts.
    org: Option<String>,
    /// Start after this account id, `org/name` (the previous page's `next_after`).
    after: Option<String>,
    /// Accounts per page, 1 to 1000 (default 100).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
}

/// Accounts, with their keys and roles; of one organization with `org`.
#[utoipa::path(
    get,
    path = "/v1/membership/accounts",
    tag = "membership",
    params(AccountListParams),
    responses(
        (status = 200, description = "Accounts by id", body = AccountListDto),
        (status = 400, description = "A malformed parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn accounts(
    State(st): State<AppState>,
    ApiQuery(q): ApiQuery<AccountListParams>,
) -> Result<Json<AccountListDto>, ApiError> {
    let limit = limit_param(q.limit.as_deref(), PAGE_DEFAULT, PAGE_MAX)?;
    let prefix = match q.org {
        Some(o) => {
            let org = OrgId::new(o).map_err(|e| ApiError::bad_param("org", e))?;
            format!("{}{org}/", keys::ACCOUNT_PREFIX)
        }
        None => keys::ACCOUNT_PREFIX.to_owned(),
    };
    let after = match q.after {
        Some(a) => Some(keys::account(&AccountId::new(a).map_err(|e| ApiError::bad_param("after", e))?)),
        None => None,
    };
    let node = st.node.clone();
    blocking(move || {
        let accounts: Vec<Account> = page(&node, &prefix, after, limit)?;
        Ok(Json(AccountListDto {
            next_after: next(&accounts, limit, |a| a.id.to_string()),
            accounts: accounts.iter().map(AccountDto::from).collect(),
        }))
    })
    .await
}

/// Query of `GET /v1/membership/proposals`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ProposalListParams {
    /// Start after this proposal id (the previous page's `next_after`).
    #[param(value_type = Option<u64>)]
    after: Option<String>,
    /// Proposals per page, 1 to 1000 (default 100).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
}

/// Governance proposals, oldest first, with their effective status at the latest block time.
#[utoipa::path(
    get,
    path = "/v1/membership/proposals",
    tag = "membership",
    params(ProposalListParams),
    responses(
        (status = 200, description = "Proposals by id", body = ProposalListDto),
        (status = 400, description = "A malformed parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn proposals(
    State(st): State<AppState>,
    ApiQuery(q): ApiQuery<ProposalListParams>,
) -> Result<Json<ProposalListDto>, ApiError> {
    let limit = limit_param(q.limit.as_deref(), PAGE_DEFAULT, PAGE_MAX)?;
    let after = q.after.as_deref().map(|a| u64_param("after", a).map(keys::proposal)).transpose()?;
    let node = st.node.clone();
    blocking(move || {
        let now = node.head().timestamp;
        let ps: Vec<Proposal> = page(&node, keys::PROPOSAL_PREFIX, after, limit)?;
        Ok(Json(ProposalListDto {
            next_after: next(&ps, limit, |p| p.id),
            proposals: ps.iter().map(|p| ProposalDto::new(p, now)).collect(),
        }))
    })
    .await
}

/// One governance proposal.
#[utoipa::path(
    get,
    path = "/v1/membership/proposals/{id}",
    tag = "membership",
    params(("id" = u64, Path, description = "Proposal id")),
    responses(
        (status = 200, description = "The proposal", body = ProposalDto),
        (status = 400, description = "`id` is not a number", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such proposal", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn proposal(
    State(st): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ProposalDto>, ApiError> {
    let id = u64_param("id", &id)?;
    let node = st.node.clone();
    blocking(move || {
        let now = node.head().timestamp;
        let p: Proposal = node
            .state_value(&keys::proposal(id))?
            .ok_or_else(|| ApiError::not_found(format!("proposal {id} does not exist")))?;
        Ok(Json(ProposalDto::new(&p, now)))
    })
    .await
}

async fn nonce_of(node: Arc<Node>, account: &str) -> Result<Json<NonceDto>, ApiError> {
    let id = AccountId::new(account).map_err(|e| ApiError::bad_param("account", e))?;
    blocking(move || {
        if node.state_value::<Account>(&keys::account(&id))?.is_none() {
            return Err(ApiError::not_found(format!("account {id} does not exist")));
        }
        let height = node.head().height.get();
        let nonce = node.next_nonce(&id)?.get();
        Ok(Json(NonceDto { account: id.to_string(), nonce, height }))
    })
    .await
}

/// The nonce an account's next transaction must carry.
///
/// `account` is `org/name`; write its slash as `%2F`, or use `/v1/accounts/{org}/{name}/nonce`.
/// Counts committed transactions only, not ones still pending.
#[utoipa::path(
    get,
    path = "/v1/accounts/{account}/nonce",
    tag = "membership",
    params(("account" = String, Path, description = "Account id `org/name`, slash percent-encoded")),
    responses(
        (status = 200, description = "The next nonce", body = NonceDto),
        (status = 400, description = "`account` is not `org/name`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn nonce(
    State(st): State<AppState>,
    ApiPath(account): ApiPath<String>,
) -> Result<Json<NonceDto>, ApiError> {
    nonce_of(st.node.clone(), &account).await
}

/// The nonce an account's next transaction must carry (account id as two path segments).
#[utoipa::path(
    get,
    path = "/v1/accounts/{org}/{name}/nonce",
    tag = "membership",
    params(
        ("org" = String, Path, description = "Organization id"),
        ("name" = String, Path, description = "Account name within the organization"),
    ),
    responses(
        (status = 200, description = "The next nonce", body = NonceDto),
        (status = 400, description = "Not a valid account id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn nonce_by_parts(
    State(st): State<AppState>,
    ApiPath((org, name)): ApiPath<(String, String)>,
) -> Result<Json<NonceDto>, ApiError> {
    nonce_of(st.node.clone(), &format!("{org}/{name}")).await
}
