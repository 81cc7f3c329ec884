//! The licenses module (`licenses`): license types, trusted issuers and the license lifecycle.
//!
//! Guarantees:
//! - only an account with the `issuer` role, of an organization currently trusted for the
//!   license's type, may issue a license of that type or act on one; lifecycle actions on an
//!   existing license are further limited to the organization that issued it;
//! - the status follows [`Status::after`]: illegal transitions (reinstating a revoked or active
//!   license, renewing or suspending a revoked one) are rejected as conflicts with the reason;
//! - every lifecycle action appends a [`ManagementRecord`] whose `seq` is the license's
//!   `version - 1`, so the records of a license are a gap-free history of its versions;
//! - every verification reported on chain appends a [`UsageRecord`];
//! - each license gets a per-type status-list index at issue, assigned in block order and never
//!   reused, for the Bitstring Status List credentials built from this state;
//! - registry calls (`register_type`, `trust_issuer`, `distrust_issuer`) need the `admin` role of
//!   *any* organization in this first version: the registry is a shared, audited list kept by
//!   the member organizations' administrators, not yet a governance decision. A type, once
//!   registered, is immutable, because issued licenses' claims are checked against it.
//!
//! State keys are in [`keys`]; license ids may not contain `/`, so one license's records can be
//! listed by prefix without running into another's.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use civic_ledger::block::Event;
use civic_ledger::checks::{shown, text as check_text};
use civic_ledger::exec::{Ctx, Module, TxError};
use civic_ledger::modules::membership::{self, Org};
use civic_ledger::tx::{MAX_TX_BYTES, ModuleCall};
use civic_types::{AccountId, Height, OrgId, Role, UnixMillis};
use serde::{Deserialize, Serialize};

use crate::schema::ClaimSchema;

const MODULE: &str = "licenses";
/// Longest license type id (`[a-z0-9-]`).
pub const MAX_TYPE_ID: usize = 64;
/// Longest license type display name.
pub const MAX_TYPE_NAME: usize = 128;
/// Most claims in a license type.
pub const MAX_CLAIMS: usize = 64;
/// Longest claim name (`[a-z0-9_]`).
pub const MAX_CLAIM_NAME: usize = 64;
/// Longest claim value.
pub const MAX_CLAIM_VALUE: usize = 1024;
/// Longest license id (`[A-Za-z0-9._-]`).
pub const MAX_LICENSE_ID: usize = 64;
/// Longest holder DID.
pub const MAX_HOLDER: usize = 128;
/// Longest reason of a lifecycle action or of an invalid verdict.
pub const MAX_REASON: usize = 256;
/// Longest usage purpose.
pub const MAX_PURPOSE: usize = 128;

/// The outcome of a verification, as reported by the verifier.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The license verified.
    Valid,
    /// It did not, and why (1–256 bytes).
    Invalid {
        /// Why.
        reason: String,
    },
}

/// Who made a verification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UsageVerifier {
    /// Someone without an account (the public verification page, an anonymous API call).
    Public,
    /// An account of this ledger.
    Account(AccountId),
}

impl fmt::Display for UsageVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsageVerifier::Public => f.write_str("public"),
            UsageVerifier::Account(a) => write!(f, "{a}"),
        }
    }
}

/// Licenses calls.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LicenseCall {
    /// An admin registers a license type and the claim names of its schema.
    RegisterType {
        /// `[a-z0-9-]{1,64}`, e.g. `lawyer-practice`.
        type_id: String,
        /// Display name, 1–128 bytes.
        name: String,
        /// The JSON Schema of its claims, in the subset [`crate::schema`] enforces.
        schema: String,
    },
    /// An admin trusts `org` to issue licenses of `type_id`.
    TrustIssuer {
        /// The type.
        type_id: String,
        /// The issuing organization.
        org: OrgId,
    },
    /// An admin withdraws that trust.
    DistrustIssuer {
        /// The type.
        type_id: String,
        /// The organization.
        org: OrgId,
    },
    /// An issuer issues a license.
    Issue {
        /// `[A-Za-z0-9._-]{1,64}`, unique on the chain.
        license_id: String,
        /// Its type.
        type_id: String,
        /// The holder's `did:key`.
        holder: String,
        /// Claim name → value, exactly the type's claim names.
        claims: BTreeMap<String, String>,
        /// Start of validity.
        valid_from: UnixMillis,
        /// End of validity; after the start and after the block time.
        valid_until: UnixMillis,
    },
    /// An issuer extends a license's validity.
    Renew {
        /// The license.
        license_id: String,
        /// The new end, later than the current one.
        valid_until: UnixMillis,
        /// Why, 1–256 bytes.
        reason: String,
    },
    /// An issuer suspends an active license.
    Suspend {
        /// The license.
        license_id: String,
        /// Why, 1–256 bytes.
        reason: String,
    },
    /// An issuer reinstates a suspended license.
    Reinstate {
        /// The license.
        license_id: String,
        /// Why, 1–256 bytes.
        reason: String,
    },
    /// An issuer revokes a license, for good.
    Revoke {
        /// The license.
        license_id: String,
        /// Why, 1–256 bytes.
        reason: String,
    },
    /// An account records a verification of a license: its own, or (with the `verifier` role, as
    /// a node's verification service) one made by a member of the public or by another account
    /// that authenticated to the service.
    RecordUsage {
        /// The license.
        license_id: String,
        /// Who verified.
        verifier: UsageVerifier,
        /// What for, 1–128 bytes.
        purpose: String,
        /// The verdict.
        verdict: Verdict,
    },
}

impl ModuleCall for LicenseCall {
    const MODULE: &'static str = MODULE;
}

/// A registered license type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseType {
    /// Id.
    pub type_id: String,
    /// Display name.
    pub name: String,
    /// Claim names of its schema.
    pub claims: BTreeSet<String>,
    /// Its claim schema (RFC 8785 canonical JSON).
    pub schema: String,
    /// The admin that registered it.
    pub registered_by: AccountId,
    /// Block height.
    pub height: Height,
    /// Block time.
    pub time: UnixMillis,
}

/// An organization trusted to issue a license type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedIssuer {
    /// The type.
    pub type_id: String,
    /// The organization.
    pub org: OrgId,
    /// The admin that trusted it.
    pub trusted_by: AccountId,
    /// Block height.
    pub height: Height,
    /// Block time.
    pub time: UnixMillis,
}

/// The stored status of a license.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// In force (subject to its validity period).
    Active,
    /// Temporarily not in force; can be reinstated.
    Suspended,
    /// Permanently withdrawn.
    Revoked,
}

impl Status {
    /// Stable lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Suspended => "suspended",
            Status::Revoked => "revoked",
        }
    }

    /// The status after `action`, or why the action is not allowed from this status.
    pub fn after(self, action: Action) -> Result<Status, TransitionError> {
        use Action as A;
        use Status as S;
        match (self, action) {
            (S::Revoked, a) => Err(TransitionError::Revoked(a)),
            (_, A::Issue) => Err(TransitionError::AlreadyIssued),
            (s, A::Renew) => Ok(s),
            (S::Active, A::Suspend) => Ok(S::Suspended),
            (S::Suspended, A::Suspend) => Err(TransitionError::AlreadySuspended),
            (S::Suspended, A::Reinstate) => Ok(S::Active),
            (S::Active, A::Reinstate) => Err(TransitionError::NotSuspended),
            (_, A::Revoke) => Ok(S::Revoked),
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a lifecycle action is illegal from a license's current status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// Nothing can be done to a revoked license.
    #[error("the license is revoked; it cannot be {}: issue a new license instead", .0.past_tense())]
    Revoked(Action),
    /// Suspending a suspended license.
    #[error("the license is already suspended; reinstate or revoke it")]
    AlreadySuspended,
    /// Reinstating a license that is not suspended.
    #[error("the license is active, not suspended; only a suspended license can be reinstated")]
    NotSuspended,
    /// Issuing over an existing license.
    #[error("a license with this id already exists; choose a new id")]
    AlreadyIssued,
}

/// A lifecycle action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Issued.
    Issue,
    /// Validity extended.
    Renew,
    /// Suspended.
    Suspend,
    /// Reinstated.
    Reinstate,
    /// Revoked.
    Revoke,
}

impl Action {
    /// Stable lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Issue => "issue",
            Action::Renew => "renew",
            Action::Suspend => "suspend",
            Action::Reinstate => "reinstate",
            Action::Revoke => "revoke",
        }
    }

    fn past_tense(self) -> &'static str {
        match self {
            Action::Issue => "issued",
            Action::Renew => "renewed",
            Action::Suspend => "suspended",
            Action::Reinstate => "reinstated",
            Action::Revoke => "revoked again",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status a verifier should act on at a given time: the stored status, then the validity
/// period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EffectiveStatus {
    /// In force.
    Active,
    /// Suspended.
    Suspended,
    /// Revoked.
    Revoked,
    /// Past its `valid_until`.
    Expired,
    /// Before its `valid_from`.
    NotYetValid,
}

/// A license as stored at [`keys::license`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct License {
    /// Id.
    pub license_id: String,
    /// Its type.
    pub type_id: String,
    /// The holder's `did:key`.
    pub holder: String,
    /// Claim name → value.
    pub claims: BTreeMap<String, String>,
    /// The issuing organization.
    pub issuer_org: OrgId,
    /// The account that issued it.
    pub issued_by: AccountId,
    /// Start of validity.
    pub valid_from: UnixMillis,
    /// End of validity.
    pub valid_until: UnixMillis,
    /// Stored status.
    pub status: Status,
    /// Position in the type's status lists.
    pub status_index: u64,
    /// 1 at issue, incremented by each lifecycle action; management record `version - 1` is the
    /// latest.
    pub version: u64,
    /// Block height of the issue.
    pub issued_height: Height,
    /// Block time of the issue.
    pub issued_at: UnixMillis,
    /// Block time of the latest action.
    pub updated_at: UnixMillis,
}

impl License {
    /// The status at time `now`: revoked and suspended first, then expired when `now` is after
    /// `valid_until`, not yet valid when before `valid_from`.
    pub fn effective_status(&self, now: UnixMillis) -> EffectiveStatus {
        match self.status {
            Status::Revoked => EffectiveStatus::Revoked,
            Status::Suspended => EffectiveStatus::Suspended,
            Status::Active if now > self.valid_until => EffectiveStatus::Expired,
            Status::Active if now < self.valid_from => EffectiveStatus::NotYetValid,
            Status::Active => EffectiveStatus::Active,
        }
    }

    /// How many management records the license has.
    pub fn management_records(&self) -> u64 {
        self.version
    }
}

/// One lifecycle action on a license, at [`keys::mgmt`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagementRecord {
    /// Per-license sequence number, from 0 (the issue).
    pub seq: u64,
    /// The license.
    pub license_id: String,
    /// What was done.
    pub action: Action,
    /// The acting account.
    pub actor: AccountId,
    /// Its organization.
    pub org: OrgId,
    /// Why (none for an issue).
    pub reason: Option<String>,
    /// Status after the action.
    pub status: Status,
    /// Validity end after the action.
    pub valid_until: UnixMillis,
    /// Block height.
    pub height: Height,
    /// Block time.
    pub time: UnixMillis,
}

/// One reported verification of a license, at [`keys::usage`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageRecord {
    /// Per-license sequence number, from 0.
    pub seq: u64,
    /// The license.
    pub license_id: String,
    /// Who verified.
    pub verifier: UsageVerifier,
    /// The account that recorded it (the verifier itself, or a verification service).
    pub recorded_by: AccountId,
    /// What the verification was for.
    pub purpose: String,
    /// Its outcome.
    pub verdict: Verdict,
    /// Block height.
    pub height: Height,
    /// Block time.
    pub time: UnixMillis,
}

/// What a status list records: one list per purpose, per issuer organization and license type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusPurpose {
    /// Set for good when a license is revoked.
    Revocation,
    /// Set while a license is suspended.
    Suspension,
}

impl StatusPurpose {
    /// Both purposes, in canonical order.
    pub const ALL: [StatusPurpose; 2] = [StatusPurpose::Revocation, StatusPurpose::Suspension];

    /// The Bitstring Status List `statusPurpose` value.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusPurpose::Revocation => "revocation",
            StatusPurpose::Suspension => "suspension",
        }
    }
}

impl fmt::Display for StatusPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// State keys, all under `licenses/`.
pub mod keys {
    use civic_types::OrgId;

    use super::StatusPurpose;

    /// Prefix of all license types.
    pub const TYPE_PREFIX: &str = "licenses/type/";
    /// Prefix of all licenses.
    pub const LICENSE_PREFIX: &str = "licenses/license/";
    /// Prefix of all management records.
    pub const MGMT_PREFIX: &str = "licenses/mgmt/";
    /// Prefix of all usage records.
    pub const USAGE_PREFIX: &str = "licenses/usage/";
    /// Prefix of all trusted-issuer entries.
    pub const ISSUER_PREFIX: &str = "licenses/issuer/";

    /// A license type.
    pub fn license_type(type_id: &str) -> String {
        format!("{TYPE_PREFIX}{type_id}")
    }
    /// Whether `org` is trusted for `type_id`.
    pub fn issuer(type_id: &str, org: &OrgId) -> String {
        format!("{ISSUER_PREFIX}{type_id}/{org}")
    }
    /// Prefix of the organizations trusted for `type_id`.
    pub fn issuer_prefix(type_id: &str) -> String {
        format!("{ISSUER_PREFIX}{type_id}/")
    }
    /// The next status-list index of `org`'s licenses of `type_id`.
    pub fn status_counter(org: &OrgId, type_id: &str) -> String {
        format!("licenses/status-counter/{org}/{type_id}")
    }
    /// Present (holding the license id) while bit `index` of `org`'s `purpose` list for
    /// `type_id` is set.
    pub fn status_bit(org: &OrgId, type_id: &str, purpose: StatusPurpose, index: u64) -> String {
        format!("licenses/status/{org}/{type_id}/{purpose}/{index:020}")
    }
    /// Prefix of the set bits of one status list (all pages).
    pub fn status_bit_prefix(org: &OrgId, type_id: &str, purpose: StatusPurpose) -> String {
        format!("licenses/status/{org}/{type_id}/{purpose}/")
    }
    /// Present (empty) for each license of `holder`.
    pub fn holder(holder: &str, license_id: &str) -> String {
        format!("licenses/holder/{holder}/{license_id}")
    }
    /// Prefix of `holder`'s licenses.
    pub fn holder_prefix(holder: &str) -> String {
        format!("licenses/holder/{holder}/")
    }
    /// A license.
    pub fn license(license_id: &str) -> String {
        format!("{LICENSE_PREFIX}{license_id}")
    }
    /// Management record `seq` of a license.
    pub fn mgmt(license_id: &str, seq: u64) -> String {
        format!("{MGMT_PREFIX}{license_id}/{seq:020}")
    }
    /// Prefix of a license's management records.
    pub fn mgmt_prefix(license_id: &str) -> String {
        format!("{MGMT_PREFIX}{license_id}/")
    }
    /// Usage record `seq` of a license.
    pub fn usage(license_id: &str, seq: u64) -> String {
        format!("{USAGE_PREFIX}{license_id}/{seq:020}")
    }
    /// Prefix of a license's usage records.
    pub fn usage_prefix(license_id: &str) -> String {
        format!("{USAGE_PREFIX}{license_id}/")
    }
    /// The next usage sequence number of a license.
    pub fn usage_seq(license_id: &str) -> String {
        format!("licenses/usage-seq/{license_id}")
    }
}

/// The licenses module.
pub struct Licenses;

fn invalid(m: String) -> TxError {
    TxError::Invalid(m)
}

/// Whether `s` is a license type id, `[a-z0-9-]{1,64}`.
pub fn is_type_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_TYPE_ID
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Whether `s` is a license id, `[A-Za-z0-9._-]{1,64}`.
pub fn is_license_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_LICENSE_ID
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn check_type_id(type_id: &str) -> Result<(), TxError> {
    if is_type_id(type_id) {
        Ok(())
    } else {
        Err(invalid(format!(
            "license type id {:?} is invalid: use 1-{MAX_TYPE_ID} characters a-z, 0-9 and '-'",
            shown(type_id)
        )))
    }
}

fn check_license_id(id: &str) -> Result<(), TxError> {
    if is_license_id(id) {
        Ok(())
    } else {
        Err(invalid(format!(
            "license id {:?} is invalid: use 1-{MAX_LICENSE_ID} characters A-Z, a-z, 0-9, '.', '_' and '-'",
            shown(id)
        )))
    }
}

fn check_claim_names<'a>(names: impl ExactSizeIterator<Item = &'a String>) -> Result<(), TxError> {
    let n = names.len();
    if n == 0 || n > MAX_CLAIMS {
        return Err(invalid(format!("name 1-{MAX_CLAIMS} claims, not {n}")));
    }
    for name in names {
        let ok = !name.is_empty()
            && name.len() <= MAX_CLAIM_NAME
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok {
            return Err(invalid(format!(
                "claim name {:?} is invalid: use 1-{MAX_CLAIM_NAME} characters a-z, 0-9 and '_'",
                shown(name)
            )));
        }
    }
    Ok(())
}

/// A holder must be a `did:key` with a base58btc multibase key. Full key decoding belongs to the
/// identity crate's DID parser, which the API uses before building credentials; on chain the
/// form and bounds are enough to keep state keys and records well-formed.
fn check_holder(holder: &str) -> Result<(), TxError> {
    let body = holder.strip_prefix("did:key:z");
    let ok = holder.len() <= MAX_HOLDER
        && body.is_some_and(|b| {
            !b.is_empty()
                && b.bytes().all(|c| c.is_ascii_alphanumeric() && !matches!(c, b'0' | b'O' | b'I' | b'l'))
        });
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "holder {:?} must be a did:key (did:key:z…, at most {MAX_HOLDER} bytes)",
            shown(holder)
        )))
    }
}

fn check_reason(reason: &str) -> Result<(), TxError> {
    check_text("the reason", reason, MAX_REASON)
}

fn parse(payload: &[u8]) -> Result<LicenseCall, TxError> {
    civic_types::decode(payload, MAX_TX_BYTES).map_err(|e| invalid(format!("malformed licenses call: {e}")))
}

/// Decodes a call and checks everything that needs no state.
fn decode(payload: &[u8]) -> Result<LicenseCall, TxError> {
    let call = parse(payload)?;
    match &call {
        LicenseCall::RegisterType { type_id, name, schema } => {
            check_type_id(type_id)?;
            check_text("the type name", name, MAX_TYPE_NAME)?;
            ClaimSchema::parse(schema).map_err(|e| invalid(format!("license type {type_id}: {e}")))?;
        }
        LicenseCall::TrustIssuer { type_id, .. } | LicenseCall::DistrustIssuer { type_id, .. } => {
            check_type_id(type_id)?;
        }
        LicenseCall::Issue { license_id, type_id, holder, claims, valid_from, valid_until } => {
            check_license_id(license_id)?;
            check_type_id(type_id)?;
            check_holder(holder)?;
            check_claim_names(claims.keys())?;
            if let Some((name, v)) = claims.iter().find(|(_, v)| v.len() > MAX_CLAIM_VALUE) {
                return Err(invalid(format!(
                    "claim {name} is {} bytes; values are at most {MAX_CLAIM_VALUE}",
                    v.len()
                )));
            }
            if valid_until <= valid_from {
                return Err(invalid(format!(
                    "valid_until {valid_until} ms must be after valid_from {valid_from} ms"
                )));
            }
        }
        LicenseCall::Renew { license_id, reason, .. }
        | LicenseCall::Suspend { license_id, reason }
        | LicenseCall::Reinstate { license_id, reason }
        | LicenseCall::Revoke { license_id, reason } => {
            check_license_id(license_id)?;
            check_reason(reason)?;
        }
        LicenseCall::RecordUsage { license_id, purpose, verdict, .. } => {
            check_license_id(license_id)?;
            check_text("the purpose", purpose, MAX_PURPOSE)?;
            if let Verdict::Invalid { reason } = verdict {
                check_text("an invalid verdict's reason", reason, MAX_REASON)?;
            }
        }
    }
    Ok(call)
}

fn load_type(ctx: &Ctx<'_, '_>, type_id: &str) -> Result<LicenseType, TxError> {
    ctx.get::<LicenseType>(&keys::license_type(type_id))?.ok_or_else(|| {
        TxError::NotFound(format!(
            "license type {type_id} is not registered; an admin must register it first"
        ))
    })
}

fn load_license(ctx: &Ctx<'_, '_>, license_id: &str) -> Result<License, TxError> {
    ctx.get::<License>(&keys::license(license_id))?
        .ok_or_else(|| TxError::NotFound(format!("license {license_id} does not exist")))
}

/// The signer must hold `issuer` and its organization must be trusted for `type_id`.
fn require_trusted_issuer(ctx: &Ctx<'_, '_>, type_id: &str) -> Result<OrgId, TxError> {
    ctx.require_role(Role::Issuer)?;
    let org = ctx.signer.id.org();
    if ctx.get::<TrustedIssuer>(&keys::issuer(type_id, &org))?.is_none() {
        return Err(TxError::Unauthorized(format!(
            "organization {org} is not a trusted issuer of license type {type_id}; an admin must trust it first"
        )));
    }
    Ok(org)
}

fn register_type(
    ctx: &mut Ctx<'_, '_>,
    type_id: String,
    name: String,
    schema: String,
) -> Result<(), TxError> {
    ctx.require_role(Role::Admin)?;
    let value: serde_json::Value =
        serde_json::from_str(&schema).map_err(|e| invalid(format!("license type {type_id}: {e}")))?;
    let parsed =
        ClaimSchema::from_value(&value).map_err(|e| invalid(format!("license type {type_id}: {e}")))?;
    let schema = civic_vc::jcs::canonicalize_to_string(&value)
        .map_err(|e| invalid(format!("license type {type_id}: {e}")))?;
    let claims: BTreeSet<String> = parsed.claims.into_keys().collect();
    let k = keys::license_type(&type_id);
    if let Some(existing) = ctx.get::<LicenseType>(&k)? {
        return Err(TxError::Conflict(format!(
            "license type {type_id} is already registered (height {}); types are immutable, register a new id",
            existing.height
        )));
    }
    ctx.emit(Event::new(
        MODULE,
        "type_registered",
        &[("type_id", type_id.clone()), ("claims", claims.iter().cloned().collect::<Vec<_>>().join(","))],
    ));
    let t = LicenseType {
        type_id,
        name,
        claims,
        schema,
        registered_by: ctx.signer.id.clone(),
        height: ctx.env.height,
        time: ctx.env.time,
    };
    ctx.put(&k, &t);
    Ok(())
}

fn trust_issuer(ctx: &mut Ctx<'_, '_>, type_id: String, org: OrgId) -> Result<(), TxError> {
    ctx.require_role(Role::Admin)?;
    load_type(ctx, &type_id)?;
    if !ctx.get::<Org>(&membership::keys::org(&org))?.is_some_and(|o| o.active) {
        return Err(TxError::NotFound(format!("organization {org} does not exist or is not active")));
    }
    let k = keys::issuer(&type_id, &org);
    if ctx.get::<TrustedIssuer>(&k)?.is_some() {
        return Err(TxError::Conflict(format!(
            "organization {org} is already a trusted issuer of license type {type_id}"
        )));
    }
    ctx.emit(Event::new(MODULE, "issuer_trusted", &[("type_id", type_id.clone()), ("org", org.to_string())]));
    let rec = TrustedIssuer {
        type_id,
        org,
        trusted_by: ctx.signer.id.clone(),
        height: ctx.env.height,
        time: ctx.env.time,
    };
    ctx.put(&k, &rec);
    Ok(())
}

fn distrust_issuer(ctx: &mut Ctx<'_, '_>, type_id: String, org: OrgId) -> Result<(), TxError> {
    ctx.require_role(Role::Admin)?;
    let k = keys::issuer(&type_id, &org);
    if ctx.get::<TrustedIssuer>(&k)?.is_none() {
        return Err(TxError::NotFound(format!(
            "organization {org} is not a trusted issuer of license type {type_id}"
        )));
    }
    ctx.delete(&k);
    ctx.emit(Event::new(MODULE, "issuer_distrusted", &[("type_id", type_id), ("org", org.to_string())]));
    Ok(())
}

/// Claims must satisfy the type's schema; the error names the claim and the rule it breaks.
fn check_claims_match(t: &LicenseType, claims: &BTreeMap<String, String>) -> Result<(), TxError> {
    let schema = ClaimSchema::parse(&t.schema)
        .map_err(|e| TxError::Invalid(format!("license type {} has an unusable schema: {e}", t.type_id)))?;
    schema.check(claims).map_err(|e| invalid(format!("claims do not match license type {}: {e}", t.type_id)))
}

fn append_mgmt(ctx: &mut Ctx<'_, '_>, lic: &License, action: Action, reason: Option<String>) {
    let seq = lic.version - 1;
    let rec = ManagementRecord {
        seq,
        license_id: lic.license_id.clone(),
        action,
        actor: ctx.signer.id.clone(),
        org: ctx.signer.id.org(),
        reason,
        status: lic.status,
        valid_until: lic.valid_until,
        height: ctx.env.height,
        time: ctx.env.time,
    };
    ctx.put(&keys::mgmt(&lic.license_id, seq), &rec);
    ctx.put(&keys::license(&lic.license_id), lic);
    ctx.emit(Event::new(
        MODULE,
        "license_updated",
        &[
            ("license_id", lic.license_id.clone()),
            ("action", action.to_string()),
            ("status", lic.status.to_string()),
            ("seq", seq.to_string()),
        ],
    ));
}

struct NewLicense {
    license_id: String,
    type_id: String,
    holder: String,
    claims: BTreeMap<String, String>,
    valid_from: UnixMillis,
    valid_until: UnixMillis,
}

fn issue(ctx: &mut Ctx<'_, '_>, n: NewLicense) -> Result<(), TxError> {
    let t = load_type(ctx, &n.type_id)?;
    let org = require_trusted_issuer(ctx, &n.type_id)?;
    if let Some(existing) = ctx.get::<License>(&keys::license(&n.license_id))? {
        return Err(TxError::Conflict(format!(
            "license {}: {} (issued by {} at height {})",
            n.license_id,
            TransitionError::AlreadyIssued,
            existing.issuer_org,
            existing.issued_height
        )));
    }
    check_claims_match(&t, &n.claims)?;
    if n.valid_until <= ctx.env.time {
        return Err(invalid(format!(
            "valid_until {} ms is not after the block time {} ms",
            n.valid_until, ctx.env.time
        )));
    }
    let counter_key = keys::status_counter(&org, &n.type_id);
    let status_index: u64 = ctx.get(&counter_key)?.unwrap_or(0);
    let next = status_index.checked_add(1).ok_or_else(|| invalid("status index overflow".into()))?;
    ctx.put(&counter_key, &next);
    let lic = License {
        license_id: n.license_id,
        type_id: n.type_id,
        holder: n.holder,
        claims: n.claims,
        issuer_org: org,
        issued_by: ctx.signer.id.clone(),
        valid_from: n.valid_from,
        valid_until: n.valid_until,
        status: Status::Active,
        status_index,
        version: 1,
        issued_height: ctx.env.height,
        issued_at: ctx.env.time,
        updated_at: ctx.env.time,
    };
    ctx.put(&keys::holder(&lic.holder, &lic.license_id), &lic.type_id);
    append_mgmt(ctx, &lic, Action::Issue, None);
    Ok(())
}

/// Renew, suspend, reinstate or revoke.
fn act(
    ctx: &mut Ctx<'_, '_>,
    license_id: &str,
    action: Action,
    reason: String,
    valid_until: Option<UnixMillis>,
) -> Result<(), TxError> {
    let mut lic = load_license(ctx, license_id)?;
    let org = require_trusted_issuer(ctx, &lic.type_id)?;
    if org != lic.issuer_org {
        return Err(TxError::Unauthorized(format!(
            "license {license_id} was issued by {}; only that organization may {action} it",
            lic.issuer_org
        )));
    }
    lic.status = lic
        .status
        .after(action)
        .map_err(|e| TxError::Conflict(format!("cannot {action} license {license_id}: {e}")))?;
    if let Some(until) = valid_until {
        if until <= lic.valid_until {
            return Err(invalid(format!(
                "renewal must extend validity: {until} ms is not after the current valid_until {} ms",
                lic.valid_until
            )));
        }
        if until <= ctx.env.time {
            return Err(invalid(format!(
                "valid_until {until} ms is not after the block time {} ms",
                ctx.env.time
            )));
        }
        lic.valid_until = until;
    }
    lic.version = lic.version.checked_add(1).ok_or_else(|| invalid("version overflow".into()))?;
    lic.updated_at = ctx.env.time;
    let bit = |purpose| keys::status_bit(&lic.issuer_org, &lic.type_id, purpose, lic.status_index);
    match lic.status {
        Status::Active => ctx.delete(&bit(StatusPurpose::Suspension)),
        Status::Suspended => ctx.put(&bit(StatusPurpose::Suspension), &lic.license_id),
        Status::Revoked => {
            ctx.delete(&bit(StatusPurpose::Suspension));
            ctx.put(&bit(StatusPurpose::Revocation), &lic.license_id);
        }
    }
    append_mgmt(ctx, &lic, action, Some(reason));
    Ok(())
}

fn record_usage(
    ctx: &mut Ctx<'_, '_>,
    license_id: String,
    verifier: UsageVerifier,
    purpose: String,
    verdict: Verdict,
) -> Result<(), TxError> {
    if verifier != UsageVerifier::Account(ctx.signer.id.clone()) {
        ctx.require_role(Role::Verifier).map_err(|_| {
            TxError::Unauthorized(format!(
                "account {} may record only its own verifications; recording one made by {verifier} needs the verifier role",
                ctx.signer.id
            ))
        })?;
    }
    load_license(ctx, &license_id)?;
    let seq_key = keys::usage_seq(&license_id);
    let seq: u64 = ctx.get(&seq_key)?.unwrap_or(0);
    let next = seq.checked_add(1).ok_or_else(|| invalid("usage sequence overflow".into()))?;
    let verdict_label = match &verdict {
        Verdict::Valid => "valid",
        Verdict::Invalid { .. } => "invalid",
    };
    ctx.emit(Event::new(
        MODULE,
        "license_used",
        &[
            ("license_id", license_id.clone()),
            ("seq", seq.to_string()),
            ("verdict", verdict_label.to_owned()),
            ("verifier", verifier.to_string()),
        ],
    ));
    let rec = UsageRecord {
        seq,
        license_id: license_id.clone(),
        verifier,
        recorded_by: ctx.signer.id.clone(),
        purpose,
        verdict,
        height: ctx.env.height,
        time: ctx.env.time,
    };
    ctx.put(&keys::usage(&license_id, seq), &rec);
    ctx.put(&seq_key, &next);
    Ok(())
}

impl Module for Licenses {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn check(&self, payload: &[u8]) -> Result<(), TxError> {
        decode(payload).map(|_| ())
    }

    fn apply(&self, ctx: &mut Ctx<'_, '_>, payload: &[u8]) -> Result<(), TxError> {
        match decode(payload)? {
            LicenseCall::RegisterType { type_id, name, schema } => register_type(ctx, type_id, name, schema),
            LicenseCall::TrustIssuer { type_id, org } => trust_issuer(ctx, type_id, org),
            LicenseCall::DistrustIssuer { type_id, org } => distrust_issuer(ctx, type_id, org),
            LicenseCall::Issue { license_id, type_id, holder, claims, valid_from, valid_until } => {
                issue(ctx, NewLicense { license_id, type_id, holder, claims, valid_from, valid_until })
            }
            LicenseCall::Renew { license_id, valid_until, reason } => {
                act(ctx, &license_id, Action::Renew, reason, Some(valid_until))
            }
            LicenseCall::Suspend { license_id, reason } => {
                act(ctx, &license_id, Action::Suspend, reason, None)
            }
            LicenseCall::Reinstate { license_id, reason } => {
                act(ctx, &license_id, Action::Reinstate, reason, None)
            }
            LicenseCall::Revoke { license_id, reason } => act(ctx, &license_id, Action::Revoke, reason, None),
            LicenseCall::RecordUsage { license_id, verifier, purpose, verdict } => {
                record_usage(ctx, license_id, verifier, purpose, verdict)
            }
        }
    }

    fn describe(&self, payload: &[u8]) -> serde_json::Value {
        match parse(payload) {
            Ok(c) => serde_json::json!({ "module": MODULE, "call": c }),
            Err(e) => serde_json::json!({ "module": MODULE, "error": e.to_string() }),
        }
    }

    fn encode_json(&self, call: serde_json::Value) -> Result<Vec<u8>, TxError> {
        let c: LicenseCall =
            serde_json::from_value(call).map_err(|e| invalid(format!("not a LicenseCall: {e}")))?;
        Ok(civic_types::encode(&c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_follow_the_table() {
        use Action as A;
        use Status as S;
        assert_eq!(S::Active.after(A::Suspend), Ok(S::Suspended));
        assert_eq!(S::Suspended.after(A::Reinstate), Ok(S::Active));
        assert_eq!(S::Suspended.after(A::Renew), Ok(S::Suspended));
        assert_eq!(S::Active.after(A::Revoke), Ok(S::Revoked));
        assert_eq!(S::Suspended.after(A::Revoke), Ok(S::Revoked));
        assert_eq!(S::Active.after(A::Reinstate), Err(TransitionError::NotSuspended));
        assert_eq!(S::Suspended.after(A::Suspend), Err(TransitionError::AlreadySuspended));
        for a in [A::Renew, A::Suspend, A::Reinstate, A::Revoke] {
            assert_eq!(S::Revoked.after(a), Err(TransitionError::Revoked(a)));
        }
        assert_eq!(S::Active.after(A::Issue), Err(TransitionError::AlreadyIssued));
    }

    #[test]
    fn effective_status_expires_after_valid_until() {
        let mut l = License {
            license_id: "L1".into(),
            type_id: "t".into(),
            holder: "did:key:zX".into(),
            claims: BTreeMap::new(),
            issuer_org: OrgId::new("justice").unwrap(),
            issued_by: AccountId::new("justice/issuer").unwrap(),
            valid_from: UnixMillis::new(100),
            valid_until: UnixMillis::new(200),
            status: Status::Active,
            status_index: 0,
            version: 1,
            issued_height: Height::new(1),
            issued_at: UnixMillis::new(50),
            updated_at: UnixMillis::new(50),
        };
        let at = |t| l.effective_status(UnixMillis::new(t));
        assert_eq!(at(99), EffectiveStatus::NotYetValid);
        assert_eq!(at(100), EffectiveStatus::Active);
        assert_eq!(at(200), EffectiveStatus::Active);
        assert_eq!(at(201), EffectiveStatus::Expired);
        l.status = Status::Suspended;
        assert_eq!(l.effective_status(UnixMillis::new(150)), EffectiveStatus::Suspended);
        l.status = Status::Revoked;
        assert_eq!(l.effective_status(UnixMillis::new(500)), EffectiveStatus::Revoked);
    }

    #[test]
    fn ids_and_holders_are_bounded() {
        assert!(check_type_id("lawyer-practice").is_ok());
        for bad in ["", "Lawyer", "a/b", "a_b", &"x".repeat(65)] {
            assert!(check_type_id(bad).is_err(), "{bad:?}");
        }
        assert!(check_license_id("LAW-2025.0001_a").is_ok());
        for bad in ["", "a/b", "a b", &"x".repeat(65)] {
            assert!(check_license_id(bad).is_err(), "{bad:?}");
        }
        assert!(check_holder("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK").is_ok());
        for bad in ["did:civic:justice", "did:key:", "did:key:z0", "did:key:z/x", "z6Mk"] {
            assert!(check_holder(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn keys_sort_records_by_sequence() {
        assert_eq!(keys::mgmt("L1", 2), "licenses/mgmt/L1/00000000000000000002");
        assert!(keys::mgmt("L1", 9) < keys::mgmt("L1", 10));
        assert!(keys::mgmt("L1", 0).starts_with(&keys::mgmt_prefix("L1")));
        assert!(!keys::mgmt("L10", 0).starts_with(&keys::mgmt_prefix("L1")));
        assert_eq!(keys::license("L1"), "licenses/license/L1");
        assert_eq!(keys::usage("L1", 0), "licenses/usage/L1/00000000000000000000");
    }
}
