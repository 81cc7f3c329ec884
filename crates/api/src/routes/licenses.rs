//! Licenses over HTTP: license views, the W3C Verifiable Credential export, Bitstring Status
//! List credentials, verification of any credential (with a usage record on chain for this
//! ledger's licenses) and the public verification page a paper license's QR code points at.
//!
//! Credentials and status lists are signed when served, by a key this node holds for an issuer
//! account of the issuing organization (`civic node --service-key`); the proof's `created` is the
//! time of the license's latest lifecycle action, so the same license state always gives the same
//! bytes. Usage records are written by the node's `verifier` service account, naming the
//! authenticated caller or `public`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Html;
use civic_ledger::Call;
use civic_ledger::modules::membership::{self, Org};
use civic_licenses::credential::{self, StatusListId};
use civic_licenses::schema::ClaimSchema;
use civic_licenses::verify::{self, Verification};
use civic_licenses::{
    License, LicenseCall, LicenseType, ManagementRecord, UsageRecord, UsageVerifier, Verdict, keys,
};
use civic_node::Node;
use civic_node::licenses::{NodeLedger, status_list_positions};
use civic_types::{Role, UnixMillis};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use crate::auth::{Caller, MaybeSignedCaller, SignedCaller, forbidden};
use crate::dto::{
    CheckDto, LicenseDetailDto, LicenseDto, LicenseListDto, ManagementRecordDto, Problem,
    PublicVerificationDto, UsagePageDto, UsageRecordDto, VerificationDto, VerifyRequestDto,
};
use crate::extract::{ApiBytes, ApiPath, ApiQuery, parse_json};
use crate::problem::{ApiError, types};
use crate::routes::txs::{Watch, await_commit};
use crate::routes::{PageParams, limit_param, now_ms, paged, records};
use crate::{AppState, blocking};

/// Most licenses looked at to fill one filtered page.
const SCAN_BUDGET: usize = 10_000;

/// Usage records embedded in a license's detail, oldest first; `usage_count` gives the total.
const USAGE_SHOWN: usize = 1000;
/// Largest `POST /v1/credentials/verify` body.
pub(crate) const VERIFY_BODY_LIMIT: usize = 64 * 1024;

fn license_dto(l: &License, now: UnixMillis) -> LicenseDto {
    let effective = serde_json::to_value(l.effective_status(now))
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    LicenseDto {
        license_id: l.license_id.clone(),
        type_id: l.type_id.clone(),
        holder: l.holder.clone(),
        claims: l.claims.clone(),
        issuer: format!("did:civic:{}", l.issuer_org),
        issued_by: l.issued_by.to_string(),
        valid_from_ms: l.valid_from.get(),
        valid_until_ms: l.valid_until.get(),
        status: l.status.to_string(),
        effective_status: effective,
        status_index: l.status_index,
        version: l.version,
        issued_height: l.issued_height.get(),
        issued_at_ms: l.issued_at.get(),
        updated_at_ms: l.updated_at.get(),
    }
}

fn mgmt_dto(r: ManagementRecord) -> ManagementRecordDto {
    ManagementRecordDto {
        seq: r.seq,
        action: r.action.to_string(),
        actor: r.actor.to_string(),
        org: r.org.to_string(),
        reason: r.reason,
        status: r.status.to_string(),
        valid_until_ms: r.valid_until.get(),
        height: r.height.get(),
        time_ms: r.time.get(),
    }
}

fn usage_dto(r: UsageRecord) -> UsageRecordDto {
    let (verdict, reason) = match r.verdict {
        Verdict::Valid => ("valid".to_owned(), None),
        Verdict::Invalid { reason } => ("invalid".to_owned(), Some(reason)),
    };
    UsageRecordDto {
        seq: r.seq,
        verifier: r.verifier.to_string(),
        recorded_by: r.recorded_by.to_string(),
        purpose: r.purpose,
        verdict,
        reason,
        height: r.height.get(),
        time_ms: r.time.get(),
    }
}

fn license_param(id: &str) -> Result<(), ApiError> {
    if civic_licenses::module::is_license_id(id) {
        Ok(())
    } else {
        Err(ApiError::bad_param("id", "a license id is 1-64 characters A-Z, a-z, 0-9, '.', '_', '-'"))
    }
}

fn load_license(node: &Node, id: &str) -> Result<License, ApiError> {
    node.state_value::<License>(&keys::license(id))?
        .ok_or_else(|| ApiError::not_found(format!("license {id} does not exist")))
}

fn load_type(node: &Node, type_id: &str) -> Result<LicenseType, ApiError> {
    node.state_value::<LicenseType>(&keys::license_type(type_id))?
        .ok_or_else(|| ApiError::not_found(format!("license type {type_id} is not registered")))
}

fn no_signing_key(org: &civic_types::OrgId) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        types::NO_SIGNING_KEY,
        "No signing key for this issuer",
        format!(
            "this node holds no usable key of an issuer account of {org}; ask a node operated by {org}, \
             or start this node with --service-key <{org} issuer key file>"
        ),
    )
}

/// Query of `GET /v1/licenses`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct LicenseListParams {
    /// Only this holder's licenses (a did:key).
    holder: Option<String>,
    /// Only this license type.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    type_id: Option<String>,
    /// Only licenses with this status now: `active`, `suspended`, `revoked`, `expired`,
    /// `not_yet_valid`.
    status: Option<String>,
    /// Only this issuing organization (an org id).
    issuer: Option<String>,
    /// Start after this license id (the previous page's `next`).
    after: Option<String>,
    /// Licenses per page, 1 to 100 (default 20).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100)]
    limit: Option<String>,
}

const STATUSES: [&str; 5] = ["active", "suspended", "revoked", "expired", "not_yet_valid"];

/// Licenses, in id order, filtered by holder, type, status and issuer.
#[utoipa::path(
    get,
    path = "/v1/licenses",
    tag = "licenses",
    params(LicenseListParams),
    responses(
        (status = 200, description = "A page of licenses", body = LicenseListDto),
        (status = 400, description = "A malformed parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list(
    State(st): State<AppState>,
    ApiQuery(q): ApiQuery<LicenseListParams>,
) -> Result<Json<LicenseListDto>, ApiError> {
    let limit = limit_param(q.limit.as_deref(), 20, 100)?;
    if let Some(s) = q.status.as_deref().filter(|s| !STATUSES.contains(s)) {
        return Err(ApiError::bad_param(
            "status",
            format!("unknown status {s:?}; use one of {}", STATUSES.join(", ")),
        ));
    }
    if let Some(a) = &q.after {
        license_param(a).map_err(|_| ApiError::bad_param("after", "not a license id"))?;
    }
    if let Some(h) = q.holder.as_deref().filter(|h| !h.starts_with("did:key:z") || h.contains('/')) {
        return Err(ApiError::bad_param("holder", format!("{h:?} is not a did:key")));
    }
    let node = st.node.clone();
    blocking(move || {
        let now = UnixMillis::new(now_ms());
        let prefix = match &q.holder {
            Some(h) => keys::holder_prefix(h),
            None => keys::LICENSE_PREFIX.to_owned(),
        };
        let mut after = q.after.as_ref().map(|a| format!("{prefix}{a}").into_bytes());
        let mut out = Vec::new();
        let mut scanned = 0;
        let mut next = None;
        'scan: loop {
            let batch = 256.min(SCAN_BUDGET - scanned);
            let page = node
                .store()
                .state_range(prefix.as_bytes(), after.as_deref(), batch)
                .map_err(|e| ApiError::internal(&e))?;
            for (k, v) in &page {
                scanned += 1;
                let id = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
                let lic: License = if q.holder.is_some() {
                    match node.state_value::<License>(&keys::license(&id))? {
                        Some(l) => l,
                        None => continue,
                    }
                } else {
                    civic_ledger::state::decode_value(v).map_err(|e| ApiError::internal(&e))?
                };
                let status = license_dto(&lic, now);
                let keep = q.type_id.as_ref().is_none_or(|t| *t == lic.type_id)
                    && q.issuer.as_ref().is_none_or(|o| *o == lic.issuer_org.as_str())
                    && q.status.as_ref().is_none_or(|s| *s == status.effective_status);
                if keep {
                    out.push(status);
                    if out.len() == limit {
                        next = Some(id);
                        break 'scan;
                    }
                }
                if scanned == SCAN_BUDGET {
                    next = Some(id);
                    break 'scan;
                }
            }
            match page.last() {
                Some((k, _)) if page.len() == batch => after = Some(k.clone()),
                _ => break,
            }
        }
        // A full page at the very end of the list has nothing after it.
        if let Some(id) = &next {
            let probe = format!("{prefix}{id}").into_bytes();
            if node
                .store()
                .state_range(prefix.as_bytes(), Some(&probe), 1)
                .map_err(|e| ApiError::internal(&e))?
                .is_empty()
            {
                next = None;
            }
        }
        Ok(Json(LicenseListDto { licenses: out, next }))
    })
    .await
}

/// A license: its current status, management records and (for the holder, the issuer and
/// auditors) its usage records.
#[utoipa::path(
    get,
    path = "/v1/licenses/{id}",
    tag = "licenses",
    params(
        ("id" = String, Path, description = "License id"),
        ("Civic-Signer" = Option<String>, Header, description = "Optional: the holder's did:key, an account of the issuing organization, or an auditor — to see usage records"),
        ("Civic-Timestamp" = Option<u64>, Header, description = "Unix milliseconds"),
        ("Civic-Signature" = Option<String>, Header, description = "Signed request, as for the identity views"),
    ),
    responses(
        (status = 200, description = "The license", body = LicenseDetailDto),
        (status = 400, description = "Not a license id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Signature headers present but wrong", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such license", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn show(
    State(st): State<AppState>,
    ApiPath(id): ApiPath<String>,
    MaybeSignedCaller(caller, _): MaybeSignedCaller,
) -> Result<Json<LicenseDetailDto>, ApiError> {
    license_param(&id)?;
    let node = st.node.clone();
    let base = st.options.public_url.clone();
    blocking(move || {
        let lic = load_license(&node, &id)?;
        let may_see_usage = caller.as_ref().is_some_and(|c| may_see_usage(c, &lic));
        let mgmt: Vec<ManagementRecord> = records(&node, &keys::mgmt_prefix(&id))?;
        let usage_count: u64 = node.state_value(&keys::usage_seq(&id))?.unwrap_or(0);
        let usage_records = if may_see_usage {
            let (recs, _) =
                paged::<UsageRecord>(&node, &keys::usage_prefix(&id), None, USAGE_SHOWN, |_| true)?;
            Some(recs.into_iter().map(usage_dto).collect())
        } else {
            None
        };
        Ok(Json(LicenseDetailDto {
            license: license_dto(&lic, UnixMillis::new(now_ms())),
            management_records: mgmt.into_iter().map(mgmt_dto).collect(),
            usage_records,
            usage_count,
            credential_url: format!("{base}/v1/licenses/{id}/credential"),
            verification_url: format!("{base}/verify/{id}"),
        }))
    })
    .await
}

/// Every recorded verification of a license, oldest first, a page at a time: for the holder,
/// the issuing organization's accounts and auditors (a signed request).
#[utoipa::path(
    get,
    path = "/v1/licenses/{id}/usage",
    tag = "licenses",
    params(
        ("id" = String, Path, description = "License id"),
        PageParams,
        ("Civic-Signer" = String, Header, description = "The holder's did:key, an account of the issuing organization, or an auditor"),
        ("Civic-Timestamp" = u64, Header, description = "Unix milliseconds"),
        ("Civic-Signature" = String, Header, description = "Signed request, as for the identity views"),
    ),
    responses(
        (status = 200, description = "Usage records", body = UsagePageDto),
        (status = 400, description = "A malformed parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed, or the signature does not check out", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Neither the holder, the issuer nor an auditor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such license", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn usage(
    State(st): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<PageParams>,
    SignedCaller(caller): SignedCaller,
) -> Result<Json<UsagePageDto>, ApiError> {
    license_param(&id)?;
    let limit = limit_param(q.limit.as_deref(), 200, 1000)?;
    let node = st.node.clone();
    blocking(move || {
        let lic = load_license(&node, &id)?;
        if !may_see_usage(&caller, &lic) {
            return Err(forbidden("usage records are for the holder, the issuing organization and auditors"));
        }
        let usage_count: u64 = node.state_value(&keys::usage_seq(&id))?.unwrap_or(0);
        let (recs, next) =
            paged::<UsageRecord>(&node, &keys::usage_prefix(&id), q.after.as_deref(), limit, |_| true)?;
        Ok(Json(UsagePageDto {
            license_id: id,
            usage_count,
            usage_records: recs.into_iter().map(usage_dto).collect(),
            next,
        }))
    })
    .await
}

fn may_see_usage(caller: &Caller, lic: &License) -> bool {
    match caller {
        Caller::Resident(did) => *did == lic.holder,
        Caller::Account(a) => a.id.org() == lic.issuer_org || a.roles.contains(&Role::Auditor),
    }
}

/// The license as a W3C Verifiable Credential 2.0, secured with an `eddsa-jcs-2022` Data
/// Integrity proof by the issuing organization (`did:civic:<org>#<issuer account>`), with
/// revocation and suspension entries in Bitstring Status Lists.
#[utoipa::path(
    get,
    path = "/v1/licenses/{id}/credential",
    tag = "licenses",
    params(("id" = String, Path, description = "License id")),
    responses(
        (status = 200, description = "The signed credential (VC Data Model 2.0)", body = Object),
        (status = 404, description = "No such license", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "This node holds no key of the issuing organization", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn credential(
    State(st): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    license_param(&id)?;
    let node = st.node.clone();
    let base = st.options.public_url.clone();
    let service = st.options.service.clone();
    blocking(move || {
        let lic = load_license(&node, &id)?;
        let ty = load_type(&node, &lic.type_id)?;
        let (account, key) = service
            .usable(&node, Some(&lic.issuer_org), Role::Issuer)?
            .ok_or_else(|| no_signing_key(&lic.issuer_org))?;
        let unsigned = credential::license_credential(&lic, &ty, &base);
        let vm = format!("did:civic:{}#{}", lic.issuer_org, account.name());
        let signed = credential::sign_credential(&unsigned, key, &vm, lic.updated_at)
            .map_err(|e| ApiError::internal(&e))?;
        Ok(Json(signed))
    })
    .await
}

/// A Bitstring Status List v1.0 credential (131,072 entries, GZIP, multibase base64url), built
/// from the ledger's state at the latest block and signed by the issuing organization.
#[utoipa::path(
    get,
    path = "/v1/status-lists/{id}",
    tag = "licenses",
    params(("id" = String, Path, description = "<org>.<license-type>.<revocation|suspension>.<page>, e.g. justice.lawyer-practice.revocation.0")),
    responses(
        (status = 200, description = "The signed status list credential", body = Object),
        (status = 400, description = "Not a status list id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization or license type", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "This node holds no key of the organization", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn status_list(
    State(st): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let list: StatusListId = id.parse().map_err(|e| ApiError::bad_param("id", e))?;
    let node = st.node.clone();
    let base = st.options.public_url.clone();
    let service = st.options.service.clone();
    blocking(move || {
        load_type(&node, &list.type_id)?;
        if node.state_value::<Org>(&membership::keys::org(&list.org))?.is_none() {
            return Err(ApiError::not_found(format!("organization {} does not exist", list.org)));
        }
        let (account, key) =
            service.usable(&node, Some(&list.org), Role::Issuer)?.ok_or_else(|| no_signing_key(&list.org))?;
        let positions = status_list_positions(&node, &list)?;
        let at = node.head().timestamp;
        let unsigned = credential::status_list_credential(&list, positions, &base, at)
            .map_err(|e| ApiError::internal(&e))?;
        let vm = format!("did:civic:{}#{}", list.org, account.name());
        let signed =
            credential::sign_credential(&unsigned, key, &vm, at).map_err(|e| ApiError::internal(&e))?;
        Ok(Json(signed))
    })
    .await
}

fn verification_dto(v: &Verification, checked_at_ms: u64, usage_tx: Option<String>) -> VerificationDto {
    VerificationDto {
        verdict: v.verdict.as_str().to_owned(),
        status: v.status.as_str().to_owned(),
        license_id: v.license_id.clone(),
        issuer: v.issuer.clone(),
        holder: v.holder.clone(),
        reason: v.reason.clone(),
        checks: v
            .checks
            .iter()
            .map(|c| CheckDto {
                name: c.name.to_owned(),
                result: c.result.as_str().to_owned(),
                detail: c.detail.clone(),
            })
            .collect(),
        checked_at_ms,
        usage_tx,
    }
}

/// At most `max` bytes of `s`, cut at a character boundary.
fn clip(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

/// Records a verification of `license_id` through this node's `verifier` service account.
/// Returns the usage transaction and, when `wait`, after its commit. `None` when this node has
/// no verifier service key.
async fn record_usage(
    st: &AppState,
    license_id: String,
    verifier: UsageVerifier,
    purpose: String,
    verdict: Verdict,
    wait: bool,
) -> Result<Option<String>, ApiError> {
    let node = st.node.clone();
    let service = st.options.service.clone();
    let call = Call::new(&LicenseCall::RecordUsage { license_id, verifier, purpose, verdict });
    let submitted = blocking(move || {
        let Some((account, _)) = service.usable(&node, None, Role::Verifier)? else {
            tracing::warn!(
                "no verifier service key: a verification was not recorded (start the node with --service-key)"
            );
            return Ok(None);
        };
        let mut watch = None;
        let hash = service
            .submit_as(&node, &account, call, |tx| {
                let hash = tx.hash();
                watch = Some(Watch::new(node.clone(), hash));
                node.submit(tx).map(|_| hash)
            })
            .map_err(|e| match e {
                civic_node::service::ServiceError::Submit(s) => ApiError::from_submit(&s),
                other => ApiError::internal(&other),
            })?;
        Ok(Some((hash, watch)))
    })
    .await?;
    let Some((hash, watch)) = submitted else { return Ok(None) };
    if wait && let Some(w) = watch {
        await_commit(st, w).await?;
    }
    Ok(Some(hash.to_hex()))
}

/// Verifies any Verifiable Credential: the `eddsa-jcs-2022` proof (resolving did:key and
/// did:civic), that the proof's `@context` is the document's, that the issuer is trusted for the
/// license type, the validity period, the ledger's record, and both status lists. For this
/// ledger's licenses a usage record is committed (verifier: the signed-request account, or
/// `public`) before the answer.
#[utoipa::path(
    post,
    path = "/v1/credentials/verify",
    tag = "licenses",
    request_body = VerifyRequestDto,
    params(
        ("Civic-Signer" = Option<String>, Header, description = "Optional: the verifying account (org/name); unsigned verifications are recorded as public"),
        ("Civic-Timestamp" = Option<u64>, Header, description = "Unix milliseconds"),
        ("Civic-Signature" = Option<String>, Header, description = "Signed request, covering Civic-Content-SHA256"),
        ("Civic-Content-SHA256" = Option<String>, Header, description = "With a signature: the hex SHA-256 of the body, signed as a fourth line"),
    ),
    responses(
        (status = 200, description = "The verdict and every check (an invalid credential is a 200 with verdict invalid)", body = VerificationDto),
        (status = 400, description = "The body is not JSON with a credential", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Signature headers present but wrong, or the body is not the signed one", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 64 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many anonymous verifications; retry after `Retry-After` or sign", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn verify_credential(
    State(st): State<AppState>,
    MaybeSignedCaller(caller, signed_body): MaybeSignedCaller,
    raw: ApiBytes<VERIFY_BODY_LIMIT>,
) -> Result<Json<VerificationDto>, ApiError> {
    if caller.is_some() {
        // The verification is recorded as the signer's: the signature must cover this body.
        crate::auth::check_signed_body(signed_body, &raw.body)?;
    }
    let body: VerifyRequestDto = parse_json(&raw.body)?;
    if !matches!(caller, Some(Caller::Account(_))) {
        // Recorded as a public verification: limited like the public page.
        admit_public(&st)?;
    }
    let purpose = body.purpose.unwrap_or_else(|| "verification".to_owned());
    if purpose.is_empty() || purpose.len() > civic_licenses::module::MAX_PURPOSE {
        return Err(ApiError::bad_param("purpose", "the purpose must be 1-128 bytes"));
    }
    let node = st.node.clone();
    let now = now_ms();
    let credential = body.credential;
    let (v, on_ledger) = blocking(move || {
        let v = verify::verify(&credential, UnixMillis::new(now), &NodeLedger(&node));
        let on_ledger = match &v.license_id {
            Some(id) => node.state_value::<License>(&keys::license(id))?.is_some(),
            None => false,
        };
        Ok((v, on_ledger))
    })
    .await?;
    let mut usage_tx = None;
    if on_ledger && let Some(id) = v.license_id.clone() {
        let verifier = match &caller {
            Some(Caller::Account(a)) => UsageVerifier::Account(a.id.clone()),
            _ => UsageVerifier::Public,
        };
        let verdict = if v.is_valid() {
            Verdict::Valid
        } else {
            Verdict::Invalid {
                reason: clip(v.reason.as_deref().unwrap_or("invalid"), civic_licenses::module::MAX_REASON),
            }
        };
        usage_tx = record_usage(&st, id, verifier, purpose, verdict, true).await?;
    }
    Ok(Json(verification_dto(&v, now, usage_tx)))
}

/// What the public verification page shows, as data: valid or not and why, and only the claims
/// printed on the license. The check is recorded as a public usage record.
#[utoipa::path(
    get,
    path = "/v1/licenses/{id}/verification",
    tag = "licenses",
    params(("id" = String, Path, description = "License id")),
    responses(
        (status = 200, description = "Valid or not, and why", body = PublicVerificationDto),
        (status = 400, description = "Not a license id", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many anonymous verifications; retry after `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn public_verification(
    State(st): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<PublicVerificationDto>, ApiError> {
    license_param(&id)?;
    Ok(Json(check_publicly(&st, id).await?))
}

/// Admits one anonymous verification (it writes a usage record on chain), or refuses with 429.
fn admit_public(st: &AppState) -> Result<(), ApiError> {
    st.public_verifications.take().map_err(|wait| {
        ApiError::too_many(
            format!(
                "this node answers about {} anonymous verifications per second and each is recorded on chain; retry in {wait} s or sign the request",
                st.options.public_verifications_per_s
            ),
            wait,
        )
    })
}

async fn check_publicly(st: &AppState, id: String) -> Result<PublicVerificationDto, ApiError> {
    admit_public(st)?;
    let node = st.node.clone();
    let now = now_ms();
    let lid = id.clone();
    let answer = blocking(move || {
        let Some(lic) = node.state_value::<License>(&keys::license(&lid))? else {
            return Ok(PublicVerificationDto {
                license_id: lid.clone(),
                valid: false,
                status: "unknown".into(),
                reason: Some(format!("no license {lid} is recorded on this ledger")),
                license_type: None,
                issuer_name: None,
                issuer: None,
                valid_from_ms: None,
                valid_until_ms: None,
                claims: BTreeMap::new(),
                checked_at_ms: now,
            });
        };
        let ty = load_type(&node, &lic.type_id)?;
        let org: Option<Org> = node.state_value(&membership::keys::org(&lic.issuer_org))?;
        let trusted = node
            .state_value::<civic_licenses::TrustedIssuer>(&keys::issuer(&lic.type_id, &lic.issuer_org))?
            .is_some();
        let public: Vec<String> = ClaimSchema::parse(&ty.schema)
            .map(|s| s.public_claims().map(str::to_owned).collect())
            .unwrap_or_default();
        let effective = license_dto(&lic, UnixMillis::new(now)).effective_status;
        let (status, reason) = if !trusted {
            (
                "untrusted".to_owned(),
                Some(format!("{} is no longer a trusted issuer of {}", lic.issuer_org, ty.name)),
            )
        } else {
            let reason = match effective.as_str() {
                "active" => None,
                "suspended" => Some("the license is suspended by its issuer".to_owned()),
                "revoked" => Some("the license was revoked by its issuer".to_owned()),
                "expired" => Some("the license has expired".to_owned()),
                _ => Some("the license is not valid yet".to_owned()),
            };
            (effective, reason)
        };
        Ok(PublicVerificationDto {
            license_id: lid,
            valid: reason.is_none(),
            status,
            reason,
            license_type: Some(ty.name),
            issuer_name: org.map(|o| o.name),
            issuer: Some(format!("did:civic:{}", lic.issuer_org)),
            valid_from_ms: Some(lic.valid_from.get()),
            valid_until_ms: Some(lic.valid_until.get()),
            claims: lic.claims.into_iter().filter(|(k, _)| public.contains(k)).collect(),
            checked_at_ms: now,
        })
    })
    .await?;
    if answer.status != "unknown" {
        let verdict = match &answer.reason {
            None => Verdict::Valid,
            Some(r) => Verdict::Invalid { reason: clip(r, civic_licenses::module::MAX_REASON) },
        };
        // The page answers at once; its usage record commits with the next block.
        record_usage(st, id, UsageVerifier::Public, "public verification page".into(), verdict, false)
            .await?;
    }
    Ok(answer)
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn date(ms: u64) -> String {
    credential::rfc3339(UnixMillis::new(ms)).chars().take(10).collect()
}

/// The public verification page (HTML) that a paper license's QR code points at.
pub(crate) async fn verify_page(
    State(st): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Html<String>, ApiError> {
    license_param(&id)?;
    let a = check_publicly(&st, id).await?;
    let (badge, colour) = if a.valid { ("VALID", "#1b7f3b") } else { ("NOT VALID", "#b3261e") };
    let mut rows = String::new();
    let mut row =
        |k: &str, v: &str| rows.push_str(&format!("<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(v)));
    row("License", &a.license_id);
    if let Some(t) = &a.license_type {
        row("Type", t);
    }
    if let Some(n) = &a.issuer_name {
        row("Issued by", n);
    }
    if let (Some(f), Some(u)) = (a.valid_from_ms, a.valid_until_ms) {
        row("Valid", &format!("{} to {}", date(f), date(u)));
    }
    for (k, v) in &a.claims {
        row(&k.replace('_', " "), v);
    }
    row("Checked", &credential::rfc3339(UnixMillis::new(a.checked_at_ms)));
    let reason =
        a.reason.as_deref().map(|r| format!("<p class=\"why\">{}</p>", escape(r))).unwrap_or_default();
    Ok(Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>License {id} — Civic Ledger verification</title><style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem}}\
         .badge{{display:inline-block;padding:.4rem 1rem;border-radius:.3rem;color:#fff;background:{colour};font-weight:bold;font-size:1.4rem}}\
         th{{text-align:left;padding-right:1rem;color:#555;font-weight:normal}}td,th{{padding:.2rem 0}}.why{{font-size:1.1rem}}</style></head>\
         <body><h1>License verification</h1><p class=\"badge\">{badge}</p>{reason}<table>{rows}</table>\
         <p><small>Answered from the Civic Ledger's committed state. This check was recorded as a public verification. \
         Data: <a href=\"/v1/licenses/{id}/verification\">JSON</a>.</small></p></body></html>",
        id = escape(&a.license_id),
    )))
}
