//! Raw state reads with sparse Merkle proofs of presence or absence, at any height.

use axum::Json;
use axum::extract::State;
use civic_ledger::modules::membership::{self, Account, GovernanceParams, Org, Proposal, Validator};
use civic_ledger::modules::notary::Notarization;
use civic_ledger::state::decode_value;
use civic_types::{AccountId, Hash32, Height, Nonce, OrgId, UnixMillis};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use utoipa::IntoParams;

use crate::dto::{AccountDto, OrgDto, Problem, ProposalDto, StateDto, ValidatorDto};
use crate::extract::{ApiPath, ApiQuery};
use crate::problem::ApiError;
use crate::routes::u64_param;
use crate::{AppState, blocking};

/// Longest state key accepted.
const MAX_KEY_BYTES: usize = 1024;

/// Query of `GET /v1/state/{key}`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct StateParams {
    /// Height of the state to read. Absent: the latest.
    #[param(value_type = Option<u64>)]
    height: Option<String>,
}

/// A state key's value at a height, with its proof against that block's state root.
///
/// For a missing key the answer is still 200, with `value: null` and a proof of absence.
#[utoipa::path(
    get,
    path = "/v1/state/{key}",
    tag = "state",
    params(
        ("key" = String, Path, description = "The raw state key, slashes included, e.g. `membership/account/justice/admin`"),
        StateParams
    ),
    responses(
        (status = 200, description = "The value (or null) and its proof", body = StateDto),
        (status = 400, description = "A malformed key or height", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No block at that height", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_state(
    State(st): State<AppState>,
    ApiPath(key): ApiPath<String>,
    ApiQuery(q): ApiQuery<StateParams>,
) -> Result<Json<StateDto>, ApiError> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return Err(ApiError::bad_param(
            "key",
            format!("must be 1-{MAX_KEY_BYTES} bytes, got {}", key.len()),
        ));
    }
    let height = q.height.as_deref().map(|h| u64_param("height", h).map(Height::new)).transpose()?;
    let node = st.node.clone();
    blocking(move || {
        let Some((proof, header)) = node.state_proof(key.as_bytes(), height)? else {
            return Err(ApiError::not_found(format!(
                "there is no block at height {} yet; the latest height is {}",
                height.map_or(0, Height::get),
                node.head().height
            )));
        };
        let mut dto = StateDto::new(&key, &proof, &header);
        dto.decoded = proof.value.as_deref().and_then(|v| decode_known(&key, v, header.timestamp));
        Ok(Json(dto))
    })
    .await
}

fn as_json<T: DeserializeOwned + serde::Serialize>(v: &[u8]) -> Option<Value> {
    decode_value::<T>(v).ok().and_then(|t| serde_json::to_value(t).ok())
}

fn dto<T: DeserializeOwned, D: serde::Serialize>(v: &[u8], f: impl FnOnce(&T) -> D) -> Option<Value> {
    decode_value::<T>(v).ok().and_then(|t| serde_json::to_value(f(&t)).ok())
}

/// The value as JSON when the key is one of the built-in modules' keys; `None` otherwise or when
/// the bytes do not decode as expected. `now` is the block time of the state, for proposals'
/// effective status.
pub(crate) fn decode_known(key: &str, v: &[u8], now: UnixMillis) -> Option<Value> {
    use membership::keys;
    let under = |prefix: &str| key.strip_prefix(prefix).is_some_and(|rest| !rest.is_empty());
    if under(keys::ACCOUNT_PREFIX) {
        dto::<Account, _>(v, |a| AccountDto::from(a))
    } else if under(keys::ORG_PREFIX) {
        dto::<Org, _>(v, org_dto)
    } else if under(keys::PROPOSAL_PREFIX) {
        dto::<Proposal, _>(v, |p| ProposalDto::new(p, now))
    } else if under("membership/key/") {
        as_json::<AccountId>(v)
    } else if key == keys::VALIDATORS {
        dto::<Vec<Validator>, _>(v, |vs| vs.iter().map(validator_dto).collect::<Vec<_>>())
    } else if key == keys::ACTIVE_ORGS {
        as_json::<std::collections::BTreeSet<OrgId>>(v)
    } else if key == keys::PARAMS {
        as_json::<GovernanceParams>(v)
    } else if key == keys::NEXT_PROPOSAL {
        as_json::<u64>(v)
    } else if key == keys::GENESIS {
        as_json::<Hash32>(v)
    } else if under("core/nonce/") {
        as_json::<Nonce>(v)
    } else if under("notary/doc/") {
        as_json::<Notarization>(v)
    } else {
        None
    }
}

pub(crate) fn org_dto(o: &Org) -> OrgDto {
    OrgDto { id: o.id.to_string(), name: o.name.clone(), active: o.active, joined_at: o.joined_at.get() }
}

fn validator_dto(v: &Validator) -> ValidatorDto {
    ValidatorDto { name: v.name.clone(), org: v.org.to_string(), public_key: v.public_key.to_string() }
}
