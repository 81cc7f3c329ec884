//! Membership and governance: organizations, their accounts, keys and roles, the validator set,
//! and quorum-approved proposals.
//!
//! Authority rules (enforced here, reasons written into receipts):
//! - an organization's `admin` accounts manage that organization's accounts directly: add,
//!   remove, rotate a key, change roles — except that granting or removing `admin` needs
//!   governance;
//! - an account may rotate its own key;
//! - everything consortium-wide (adding or removing an organization, any change to another
//!   organization's accounts, granting `admin`) is a proposal that executes when admins of more
//!   than half of the active organizations have approved it (one vote per organization), and is
//!   rejected once that can no longer happen. Proposals expire after the genesis `proposal_ttl_ms`
//!   of block time.

use std::collections::{BTreeMap, BTreeSet};

use civic_types::{AccountId, ChainId, Hash32, Height, OrgId, PublicKey, Role, UnixMillis, encode, sha256};
use serde::{Deserialize, Serialize};

use crate::block::Event;
use crate::exec::{Ctx, Module, TxError};
use crate::state::{Overlay, StateError, decode_value};
use crate::tx::{MAX_TX_BYTES, ModuleCall};

const MODULE: &str = "membership";
/// Longest organization display name or proposal title.
pub const MAX_TEXT: usize = 256;

/// An organization (department).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Org {
    /// Id.
    pub id: OrgId,
    /// Display name.
    pub name: String,
    /// False once removed by governance; its accounts can no longer transact.
    pub active: bool,
    /// Height it joined (0 = genesis).
    pub joined_at: Height,
}

/// A key that an account used before a rotation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetiredKey {
    /// The old key.
    pub public_key: PublicKey,
    /// Height of the rotation.
    pub retired_at: Height,
}

/// An account: a key registered to an organization, with roles.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Id (`org/name`).
    pub id: AccountId,
    /// Current key.
    pub public_key: PublicKey,
    /// Roles.
    pub roles: BTreeSet<Role>,
    /// False once removed.
    pub active: bool,
    /// Earlier keys, oldest first.
    pub key_history: Vec<RetiredKey>,
}

/// A consensus validator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validator {
    /// Human name, e.g. `justice-node-1`.
    pub name: String,
    /// The organization operating it.
    pub org: OrgId,
    /// Its consensus key.
    pub public_key: PublicKey,
}

/// Governance parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GovernanceParams {
    /// How long a proposal stays open, in block-time milliseconds.
    pub proposal_ttl_ms: u64,
}

impl Default for GovernanceParams {
    fn default() -> Self {
        GovernanceParams { proposal_ttl_ms: 7 * 24 * 3600 * 1000 }
    }
}

/// A consortium-wide change that needs a quorum.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GovernanceAction {
    /// Admit an organization with its first admin account.
    AddOrganization {
        /// New org id.
        org: OrgId,
        /// Display name.
        name: String,
        /// Its first admin account (must belong to `org`).
        admin: AccountId,
        /// That account's key.
        admin_key: PublicKey,
    },
    /// Remove an organization; its accounts can no longer transact.
    RemoveOrganization {
        /// Org to remove.
        org: OrgId,
    },
    /// Add an account to any organization, with any roles.
    AddAccount {
        /// New account.
        account: AccountId,
        /// Its key.
        public_key: PublicKey,
        /// Its roles.
        roles: BTreeSet<Role>,
    },
    /// Remove any account.
    RemoveAccount {
        /// Account.
        account: AccountId,
    },
    /// Replace any account's key.
    RotateKey {
        /// Account.
        account: AccountId,
        /// New key.
        new_key: PublicKey,
    },
    /// Set any account's roles.
    SetRoles {
        /// Account.
        account: AccountId,
        /// New role set.
        roles: BTreeSet<Role>,
    },
}

/// Membership and governance calls.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MembershipCall {
    /// An admin adds an account to its own organization (not with `admin`).
    AddAccount {
        /// New account (in the signer's organization).
        account: AccountId,
        /// Its key.
        public_key: PublicKey,
        /// Its roles.
        roles: BTreeSet<Role>,
    },
    /// An admin removes a non-admin account of its own organization.
    RemoveAccount {
        /// Account.
        account: AccountId,
    },
    /// An account rotates its own key, or an admin rotates the key of an account of its org.
    RotateKey {
        /// Account.
        account: AccountId,
        /// New key.
        new_key: PublicKey,
    },
    /// An admin changes the roles of a non-admin account of its own organization.
    SetRoles {
        /// Account.
        account: AccountId,
        /// New role set (without `admin`).
        roles: BTreeSet<Role>,
    },
    /// An admin proposes a governance action; its organization's approval is counted.
    Propose {
        /// Short description.
        title: String,
        /// The change.
        action: GovernanceAction,
    },
    /// An admin votes for its organization.
    Vote {
        /// Proposal id.
        proposal: u64,
        /// Approve or reject.
        approve: bool,
    },
}

impl ModuleCall for MembershipCall {
    const MODULE: &'static str = MODULE;
}

/// A proposal's stored status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    /// Collecting votes.
    Open,
    /// Approved and applied.
    Executed {
        /// Height it executed.
        height: Height,
    },
    /// Approved, but the action could not be applied (the reason says why).
    Failed {
        /// Why.
        reason: String,
    },
    /// Enough organizations voted against.
    Rejected,
}

/// A governance proposal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// Sequential id.
    pub id: u64,
    /// Proposing account.
    pub proposer: AccountId,
    /// Title.
    pub title: String,
    /// The change.
    pub action: GovernanceAction,
    /// Block time of creation.
    pub created_at: UnixMillis,
    /// Block time after which no votes are accepted.
    pub expires_at: UnixMillis,
    /// One vote per organization.
    pub votes: BTreeMap<OrgId, bool>,
    /// Approvals needed (more than half of active organizations when proposed).
    pub required: u32,
    /// Status.
    pub status: ProposalStatus,
}

impl Proposal {
    /// The status as a user sees it at block time `now` (an open proposal past its expiry is
    /// `expired`).
    pub fn effective_status(&self, now: UnixMillis) -> &'static str {
        match &self.status {
            ProposalStatus::Open if now > self.expires_at => "expired",
            ProposalStatus::Open => "open",
            ProposalStatus::Executed { .. } => "executed",
            ProposalStatus::Failed { .. } => "failed",
            ProposalStatus::Rejected => "rejected",
        }
    }
}

/// State keys.
pub mod keys {
    use super::*;
    /// An organization.
    pub fn org(id: &OrgId) -> String {
        format!("membership/org/{id}")
    }
    /// The set of active organization ids.
    pub const ACTIVE_ORGS: &str = "membership/active-orgs";
    /// An account.
    pub fn account(id: &AccountId) -> String {
        format!("membership/account/{id}")
    }
    /// Which account holds a key (current or retired).
    pub fn key_owner(k: &PublicKey) -> String {
        format!("membership/key/{k}")
    }
    /// The validator set.
    pub const VALIDATORS: &str = "membership/validators";
    /// Governance parameters.
    pub const PARAMS: &str = "membership/governance-params";
    /// Next proposal id.
    pub const NEXT_PROPOSAL: &str = "membership/next-proposal";
    /// A proposal.
    pub fn proposal(id: u64) -> String {
        format!("membership/proposal/{id:020}")
    }
    /// Prefix of all proposals (for listing).
    pub const PROPOSAL_PREFIX: &str = "membership/proposal/";
    /// Prefix of all accounts.
    pub const ACCOUNT_PREFIX: &str = "membership/account/";
    /// Prefix of all organizations.
    pub const ORG_PREFIX: &str = "membership/org/";
    /// The chain's genesis document hash.
    pub const GENESIS: &str = "membership/genesis-hash";
}

fn read<T: serde::de::DeserializeOwned>(state: &Overlay<'_>, key: &str) -> Result<Option<T>, StateError> {
    match state.get(key.as_bytes())? {
        None => Ok(None),
        Some(b) => decode_value(&b).map(Some).map_err(|e| StateError(format!("corrupt state at {key}: {e}"))),
    }
}

/// Loads an account.
pub fn load_account(state: &Overlay<'_>, id: &AccountId) -> Result<Option<Account>, StateError> {
    read(state, &keys::account(id))
}

/// Whether an organization exists and is active.
pub fn org_active(state: &Overlay<'_>, id: &OrgId) -> Result<bool, StateError> {
    Ok(read::<Org>(state, &keys::org(id))?.is_some_and(|o| o.active))
}

/// The genesis document: the founding organizations, accounts and validators.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Genesis {
    /// Chain id.
    pub chain_id: ChainId,
    /// Timestamp of block 0.
    pub genesis_time: UnixMillis,
    /// Founding organizations.
    pub organizations: Vec<GenesisOrg>,
    /// Validators.
    pub validators: Vec<Validator>,
    /// Governance parameters.
    #[serde(default)]
    pub governance: GovernanceParams,
}

/// A founding organization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisOrg {
    /// Id.
    pub id: OrgId,
    /// Display name.
    pub name: String,
    /// Its accounts.
    pub accounts: Vec<GenesisAccount>,
}

/// A founding account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisAccount {
    /// Name within the organization.
    pub name: String,
    /// Key.
    pub public_key: PublicKey,
    /// Roles.
    pub roles: BTreeSet<Role>,
}

/// Why a genesis document is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid genesis: {0}")]
pub struct GenesisError(pub String);

impl Genesis {
    /// Hash of the canonical encoding; block 0's `prev_hash`.
    pub fn hash(&self) -> Hash32 {
        sha256(&encode(self))
    }

    /// The genesis state writes, after validating the document.
    pub fn state_writes(&self) -> Result<BTreeMap<Vec<u8>, Option<Vec<u8>>>, GenesisError> {
        let bad = |m: String| GenesisError(m);
        if self.organizations.is_empty() {
            return Err(bad("at least one organization is required".into()));
        }
        if self.validators.is_empty() {
            return Err(bad("at least one validator is required".into()));
        }
        let mut w: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
        let mut put = |k: String, v: Vec<u8>| w.insert(k.into_bytes(), Some(v));
        let mut orgs = BTreeSet::new();
        let mut keys_seen = BTreeSet::new();
        let mut any_admin = false;
        for o in &self.organizations {
            if !orgs.insert(o.id.clone()) {
                return Err(bad(format!("organization {} appears twice", o.id)));
            }
            if o.name.is_empty() || o.name.len() > MAX_TEXT {
                return Err(bad(format!("organization {} needs a name of 1-{MAX_TEXT} bytes", o.id)));
            }
            put(
                keys::org(&o.id),
                encode(&Org {
                    id: o.id.clone(),
                    name: o.name.clone(),
                    active: true,
                    joined_at: Height::new(0),
                }),
            );
            let mut names = BTreeSet::new();
            for a in &o.accounts {
                let id = AccountId::from_parts(&o.id, &a.name).map_err(|e| bad(e.to_string()))?;
                if !names.insert(a.name.clone()) {
                    return Err(bad(format!("account {id} appears twice")));
                }
                if !keys_seen.insert(a.public_key) {
                    return Err(bad(format!("key {} is used by more than one account", a.public_key)));
                }
                any_admin |= a.roles.contains(&Role::Admin);
                put(keys::key_owner(&a.public_key), encode(&id));
                put(
                    keys::account(&id),
                    encode(&Account {
                        id: id.clone(),
                        public_key: a.public_key,
                        roles: a.roles.clone(),
                        active: true,
                        key_history: vec![],
                    }),
                );
            }
        }
        if !any_admin {
            return Err(bad("at least one account must have the admin role".into()));
        }
        for v in &self.validators {
            if !orgs.contains(&v.org) {
                return Err(bad(format!("validator {} belongs to unknown organization {}", v.name, v.org)));
            }
        }
        put(keys::ACTIVE_ORGS.into(), encode(&orgs));
        put(keys::VALIDATORS.into(), encode(&self.validators));
        put(keys::PARAMS.into(), encode(&self.governance));
        put(keys::NEXT_PROPOSAL.into(), encode(&0u64));
        put(keys::GENESIS.into(), encode(&self.hash()));
        Ok(w)
    }
}

/// The membership and governance module.
pub struct Membership;

fn decode_call(payload: &[u8]) -> Result<MembershipCall, TxError> {
    let call: MembershipCall = civic_types::decode(payload, MAX_TX_BYTES)
        .map_err(|e| TxError::Invalid(format!("malformed membership call: {e}")))?;
    if let MembershipCall::Propose { title, action } = &call {
        if title.is_empty() || title.len() > MAX_TEXT {
            return Err(TxError::Invalid(format!("a proposal needs a title of 1-{MAX_TEXT} bytes")));
        }
        if let GovernanceAction::AddOrganization { name, .. } = action
            && (name.is_empty() || name.len() > MAX_TEXT)
        {
            return Err(TxError::Invalid(format!("an organization needs a name of 1-{MAX_TEXT} bytes")));
        }
    }
    Ok(call)
}

fn need_account(ctx: &Ctx<'_, '_>, id: &AccountId) -> Result<Account, TxError> {
    match ctx.get::<Account>(&keys::account(id))? {
        Some(a) if a.active => Ok(a),
        Some(_) => Err(TxError::NotFound(format!("account {id} has been removed"))),
        None => Err(TxError::NotFound(format!("account {id} does not exist"))),
    }
}

fn require_own_org_admin(ctx: &Ctx<'_, '_>, target: &AccountId) -> Result<(), TxError> {
    ctx.require_role(Role::Admin)?;
    if target.org() != ctx.signer.id.org() {
        return Err(TxError::Unauthorized(format!(
            "account {} administers organization {}, not {}; changes to another organization's accounts need a governance proposal",
            ctx.signer.id,
            ctx.signer.id.org(),
            target.org()
        )));
    }
    Ok(())
}

fn forbid_admin_change(roles_before: &BTreeSet<Role>, roles_after: &BTreeSet<Role>) -> Result<(), TxError> {
    if roles_before.contains(&Role::Admin) != roles_after.contains(&Role::Admin) {
        return Err(TxError::Unauthorized(
            "granting or removing the admin role needs a governance proposal approved by a quorum of organizations".into(),
        ));
    }
    Ok(())
}

fn key_free(ctx: &Ctx<'_, '_>, key: &PublicKey) -> Result<(), TxError> {
    if let Some(owner) = ctx.get::<AccountId>(&keys::key_owner(key))? {
        return Err(TxError::Conflict(format!("key {key} is already registered to account {owner}")));
    }
    Ok(())
}

fn add_account(
    ctx: &mut Ctx<'_, '_>,
    account: &AccountId,
    key: PublicKey,
    roles: BTreeSet<Role>,
) -> Result<(), TxError> {
    if !ctx.get::<Org>(&keys::org(&account.org()))?.is_some_and(|o| o.active) {
        return Err(TxError::NotFound(format!(
            "organization {} does not exist or is not active",
            account.org()
        )));
    }
    if ctx.get::<Account>(&keys::account(account))?.is_some() {
        return Err(TxError::Conflict(format!("account {account} already exists")));
    }
    key_free(ctx, &key)?;
    ctx.put(&keys::key_owner(&key), account);
    ctx.put(
        &keys::account(account),
        &Account { id: account.clone(), public_key: key, roles, active: true, key_history: vec![] },
    );
    ctx.emit(Event::new(MODULE, "account_added", &[("account", account.to_string())]));
    Ok(())
}

fn remove_account(ctx: &mut Ctx<'_, '_>, mut acct: Account) -> Result<(), TxError> {
    acct.active = false;
    ctx.put(&keys::account(&acct.id), &acct);
    ctx.emit(Event::new(MODULE, "account_removed", &[("account", acct.id.to_string())]));
    Ok(())
}

fn rotate_key(ctx: &mut Ctx<'_, '_>, mut acct: Account, new_key: PublicKey) -> Result<(), TxError> {
    key_free(ctx, &new_key)?;
    acct.key_history.push(RetiredKey { public_key: acct.public_key, retired_at: ctx.env.height });
    acct.public_key = new_key;
    ctx.put(&keys::key_owner(&new_key), &acct.id);
    ctx.put(&keys::account(&acct.id), &acct);
    ctx.emit(Event::new(
        MODULE,
        "key_rotated",
        &[("account", acct.id.to_string()), ("public_key", new_key.to_string())],
    ));
    Ok(())
}

fn set_roles(ctx: &mut Ctx<'_, '_>, mut acct: Account, roles: BTreeSet<Role>) -> Result<(), TxError> {
    acct.roles = roles;
    let names: Vec<&str> = acct.roles.iter().map(|r| r.as_str()).collect();
    ctx.emit(Event::new(
        MODULE,
        "roles_set",
        &[("account", acct.id.to_string()), ("roles", names.join(","))],
    ));
    ctx.put(&keys::account(&acct.id), &acct);
    Ok(())
}

fn apply_action(ctx: &mut Ctx<'_, '_>, action: &GovernanceAction) -> Result<(), TxError> {
    match action.clone() {
        GovernanceAction::AddOrganization { org, name, admin, admin_key } => {
            if admin.org() != org {
                return Err(TxError::Invalid(format!(
                    "admin account {admin} must belong to organization {org}"
                )));
            }
            if ctx.get::<Org>(&keys::org(&org))?.is_some() {
                return Err(TxError::Conflict(format!("organization {org} already exists")));
            }
            key_free(ctx, &admin_key)?;
            let mut active: BTreeSet<OrgId> = ctx.get(keys::ACTIVE_ORGS)?.unwrap_or_default();
            active.insert(org.clone());
            ctx.put(keys::ACTIVE_ORGS, &active);
            ctx.put(
                &keys::org(&org),
                &Org { id: org.clone(), name, active: true, joined_at: ctx.env.height },
            );
            ctx.emit(Event::new(MODULE, "organization_added", &[("org", org.to_string())]));
            add_account(ctx, &admin, admin_key, BTreeSet::from([Role::Admin]))
        }
        GovernanceAction::RemoveOrganization { org } => {
            let Some(mut o) = ctx.get::<Org>(&keys::org(&org))?.filter(|o| o.active) else {
                return Err(TxError::NotFound(format!(
                    "organization {org} does not exist or is already removed"
                )));
            };
            let mut active: BTreeSet<OrgId> = ctx.get(keys::ACTIVE_ORGS)?.unwrap_or_default();
            active.remove(&org);
            if active.is_empty() {
                return Err(TxError::Invalid("the last organization cannot be removed".into()));
            }
            o.active = false;
            ctx.put(keys::ACTIVE_ORGS, &active);
            ctx.put(&keys::org(&org), &o);
            ctx.emit(Event::new(MODULE, "organization_removed", &[("org", org.to_string())]));
            Ok(())
        }
        GovernanceAction::AddAccount { account, public_key, roles } => {
            add_account(ctx, &account, public_key, roles)
        }
        GovernanceAction::RemoveAccount { account } => {
            let a = need_account(ctx, &account)?;
            remove_account(ctx, a)
        }
        GovernanceAction::RotateKey { account, new_key } => {
            let a = need_account(ctx, &account)?;
            rotate_key(ctx, a, new_key)
        }
        GovernanceAction::SetRoles { account, roles } => {
            let a = need_account(ctx, &account)?;
            set_roles(ctx, a, roles)
        }
    }
}

fn quorum(active_orgs: usize) -> u32 {
    u32::try_from(active_orgs / 2 + 1).unwrap_or(u32::MAX)
}

fn tally(ctx: &mut Ctx<'_, '_>, mut p: Proposal) -> Result<(), TxError> {
    let active: BTreeSet<OrgId> = ctx.get(keys::ACTIVE_ORGS)?.unwrap_or_default();
    let yes = p.votes.iter().filter(|(o, v)| **v && active.contains(*o)).count();
    let no = p.votes.iter().filter(|(o, v)| !**v && active.contains(*o)).count();
    let required = p.required as usize;
    let id = p.id.to_string();
    if yes >= required {
        // The action runs inside this transaction; if it cannot apply, the proposal records why
        // and the vote itself still succeeds.
        match apply_action(ctx, &p.action) {
            Ok(()) => {
                p.status = ProposalStatus::Executed { height: ctx.env.height };
                ctx.emit(Event::new(MODULE, "proposal_executed", &[("proposal", id)]));
            }
            Err(TxError::Fatal(e)) => return Err(TxError::Fatal(e)),
            Err(e) => {
                p.status = ProposalStatus::Failed { reason: e.to_string() };
                ctx.emit(Event::new(
                    MODULE,
                    "proposal_failed",
                    &[("proposal", id), ("reason", e.to_string())],
                ));
            }
        }
    } else if active.len().saturating_sub(no) < required {
        p.status = ProposalStatus::Rejected;
        ctx.emit(Event::new(MODULE, "proposal_rejected", &[("proposal", id)]));
    }
    ctx.put(&keys::proposal(p.id), &p);
    Ok(())
}

impl Module for Membership {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn check(&self, payload: &[u8]) -> Result<(), TxError> {
        decode_call(payload).map(|_| ())
    }

    fn apply(&self, ctx: &mut Ctx<'_, '_>, payload: &[u8]) -> Result<(), TxError> {
        match decode_call(payload)? {
            MembershipCall::AddAccount { account, public_key, roles } => {
                require_own_org_admin(ctx, &account)?;
                forbid_admin_change(&BTreeSet::new(), &roles)?;
                add_account(ctx, &account, public_key, roles)
            }
            MembershipCall::RemoveAccount { account } => {
                require_own_org_admin(ctx, &account)?;
                let a = need_account(ctx, &account)?;
                forbid_admin_change(&a.roles, &BTreeSet::new())?;
                remove_account(ctx, a)
            }
            MembershipCall::RotateKey { account, new_key } => {
                if account != ctx.signer.id {
                    require_own_org_admin(ctx, &account)?;
                }
                let a = need_account(ctx, &account)?;
                rotate_key(ctx, a, new_key)
            }
            MembershipCall::SetRoles { account, roles } => {
                require_own_org_admin(ctx, &account)?;
                let a = need_account(ctx, &account)?;
                forbid_admin_change(&a.roles, &roles)?;
                set_roles(ctx, a, roles)
            }
            MembershipCall::Propose { title, action } => {
                ctx.require_role(Role::Admin)?;
                let id: u64 = ctx.get(keys::NEXT_PROPOSAL)?.unwrap_or(0);
                let params: GovernanceParams = ctx.get(keys::PARAMS)?.unwrap_or_default();
                let active: BTreeSet<OrgId> = ctx.get(keys::ACTIVE_ORGS)?.unwrap_or_default();
                let p = Proposal {
                    id,
                    proposer: ctx.signer.id.clone(),
                    title,
                    action,
                    created_at: ctx.env.time,
                    expires_at: UnixMillis::new(ctx.env.time.get().saturating_add(params.proposal_ttl_ms)),
                    votes: BTreeMap::from([(ctx.signer.id.org(), true)]),
                    required: quorum(active.len()),
                    status: ProposalStatus::Open,
                };
                ctx.put(keys::NEXT_PROPOSAL, &(id + 1));
                ctx.emit(Event::new(MODULE, "proposal_created", &[("proposal", id.to_string())]));
                tally(ctx, p)
            }
            MembershipCall::Vote { proposal, approve } => {
                ctx.require_role(Role::Admin)?;
                let Some(mut p) = ctx.get::<Proposal>(&keys::proposal(proposal))? else {
                    return Err(TxError::NotFound(format!("proposal {proposal} does not exist")));
                };
                if p.status != ProposalStatus::Open {
                    return Err(TxError::Conflict(format!(
                        "proposal {proposal} is {} and takes no more votes",
                        p.effective_status(ctx.env.time)
                    )));
                }
                if ctx.env.time > p.expires_at {
                    return Err(TxError::Conflict(format!(
                        "proposal {proposal} expired at {} ms",
                        p.expires_at
                    )));
                }
                let org = ctx.signer.id.org();
                if p.votes.contains_key(&org) {
                    return Err(TxError::Conflict(format!(
                        "organization {org} has already voted on proposal {proposal}"
                    )));
                }
                p.votes.insert(org.clone(), approve);
                ctx.emit(Event::new(
                    MODULE,
                    "vote_cast",
                    &[
                        ("proposal", proposal.to_string()),
                        ("org", org.to_string()),
                        ("approve", approve.to_string()),
                    ],
                ));
                tally(ctx, p)
            }
        }
    }

    fn encode_json(&self, call: serde_json::Value) -> Result<Vec<u8>, TxError> {
        let c: MembershipCall = serde_json::from_value(call)
            .map_err(|e| TxError::Invalid(format!("not a MembershipCall: {e}")))?;
        Ok(civic_types::encode(&c))
    }

    fn describe(&self, payload: &[u8]) -> serde_json::Value {
        match decode_call(payload) {
            Ok(c) => serde_json::json!({ "module": MODULE, "call": c }),
            Err(e) => serde_json::json!({ "module": MODULE, "error": e.to_string() }),
        }
    }
}
