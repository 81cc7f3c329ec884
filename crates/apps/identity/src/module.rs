//! The identity application's on-chain module (`identity`): attribute attestations, resident
//! consent and the access log.
//!
//! Guarantees:
//! - personal data never goes on chain: an attestation stores only a salted commitment per
//!   attribute ([`commitment`]), computed off chain by the registrar's node, which keeps the
//!   values and salts in its private store;
//! - consent is the resident's own act: a grant or revocation is valid only with an Ed25519
//!   signature by the resident's `did:key` over a domain-separated, chain-bound message, so the
//!   agency that relays it cannot forge or widen it;
//! - every read is on chain: an agency records an [`AccessRecord`] before it is given attribute
//!   values, either under a live consent grant that covers the reader's organization, each
//!   attribute and the purpose ([`check_access`]), or under a declared legal basis that is
//!   itself part of the record;
//! - deterministic: no clock (time is the block's), no I/O beyond ledger state, ordered maps only.
//!
//! State is keyed by subject, `identity/<kind>/<resident-did>/<id>`, so everything about one
//! resident can be listed by prefix (see [`keys`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use civic_ledger::block::Event;
use civic_ledger::exec::{Ctx, Module, TxError};
use civic_ledger::modules::membership::{self, Org};
use civic_ledger::tx::{MAX_TX_BYTES, ModuleCall};
use civic_types::{
    AccountId, ChainId, Hash32, Height, OrgId, PublicKey, Role, Signature, UnixMillis, sha256,
};
use serde::{Deserialize, Serialize};

use crate::did::Did;

const MODULE: &str = "identity";
/// Longest attribute name (names use `a-z`, `0-9` and `_`).
pub const MAX_ATTRIBUTE_NAME: usize = 64;
/// Most attributes in one call.
pub const MAX_ATTRIBUTES: usize = 32;
/// Longest free-text purpose ([`Purpose::Other`]).
pub const MAX_PURPOSE: usize = 64;
/// Longest legal-basis reference.
pub const MAX_REFERENCE: usize = 256;
/// Domain separator of a consent grant signature.
pub const CONSENT_DOMAIN: &[u8] = b"civic-ledger/consent/v1\0";
/// Domain separator of a consent revocation signature.
pub const REVOKE_DOMAIN: &[u8] = b"civic-ledger/consent-revoke/v1\0";
/// Roles that may read residents' attributes.
pub const READER_ROLES: [Role; 4] = [Role::Verifier, Role::Registrar, Role::Officer, Role::Auditor];

/// The commitment to one attribute value: `sha256(salt ‖ name ‖ 0x00 ‖ value)`. The salt is
/// random per attribute and never leaves the registrar's store, so the commitment reveals nothing
/// about a low-entropy value (a birth date, an id number) and the `0x00` keeps name and value
/// from running into each other.
pub fn commitment(salt: &[u8; 32], name: &str, value: &str) -> Hash32 {
    let mut buf = Vec::with_capacity(32 + name.len() + 1 + value.len());
    buf.extend_from_slice(salt);
    buf.extend_from_slice(name.as_bytes());
    buf.push(0);
    buf.extend_from_slice(value.as_bytes());
    sha256(&buf)
}

/// Why a service reads attributes (after ISO/IEC TS 27560's purpose).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Taxation.
    Tax,
    /// Pensions and social security.
    Pension,
    /// Healthcare.
    Healthcare,
    /// Utilities (water, power, gas).
    Utilities,
    /// Banking (e.g. know-your-customer).
    Banking,
    /// Telecommunications.
    Telecom,
    /// Anything else, described in 1–64 bytes.
    Other(String),
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Purpose::Tax => f.write_str("tax"),
            Purpose::Pension => f.write_str("pension"),
            Purpose::Healthcare => f.write_str("healthcare"),
            Purpose::Utilities => f.write_str("utilities"),
            Purpose::Banking => f.write_str("banking"),
            Purpose::Telecom => f.write_str("telecom"),
            Purpose::Other(s) => write!(f, "other ({s})"),
        }
    }
}

/// A resident's consent, signed by the resident (shaped after an ISO/IEC TS 27560 consent
/// record): which organization may read which attributes, for what, until when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentGrant {
    /// The chain it is valid on (a grant cannot be replayed on another chain).
    pub chain_id: ChainId,
    /// Chosen by the resident, unique per resident.
    pub id: u64,
    /// The resident's `did:key`; its key signs the grant.
    pub resident: String,
    /// The organization that may read.
    pub controller: OrgId,
    /// Attribute names it covers.
    pub attributes: BTreeSet<String>,
    /// What the reads are for.
    pub purpose: Purpose,
    /// Valid while block time is before this.
    pub not_after: UnixMillis,
}

impl ConsentGrant {
    /// The bytes the resident signs: [`CONSENT_DOMAIN`] ‖ canonical encoding of the grant.
    pub fn signing_bytes(&self) -> Vec<u8> {
        let mut b = CONSENT_DOMAIN.to_vec();
        b.extend_from_slice(&civic_types::encode(self));
        b
    }
}

/// The bytes a resident signs to revoke grant `grant_id`: [`REVOKE_DOMAIN`] ‖
/// `encode(&(chain_id, resident, grant_id))`.
pub fn revoke_signing_bytes(chain_id: &ChainId, resident: &str, grant_id: u64) -> Vec<u8> {
    let mut b = REVOKE_DOMAIN.to_vec();
    b.extend_from_slice(&civic_types::encode(&(chain_id, resident, grant_id)));
    b
}

/// Why an agency reads attributes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessBasis {
    /// Under the resident's consent grant.
    Consent {
        /// The grant's id.
        grant_id: u64,
    },
    /// Under a law, without consent; the reference is recorded for audit.
    LegalBasis {
        /// 1–256 bytes, e.g. "Tax Collection Act art. 12".
        reference: String,
    },
}

/// Identity calls.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityCall {
    /// A registrar attests a resident's attributes by commitment.
    Attest {
        /// The resident's `did:key`.
        resident: String,
        /// Attribute name → [`commitment`].
        attributes: BTreeMap<String, Hash32>,
    },
    /// Any account relays a grant signed by the resident.
    GrantConsent {
        /// The grant.
        grant: ConsentGrant,
        /// The resident's signature over [`ConsentGrant::signing_bytes`].
        signature: Signature,
    },
    /// Any account relays a revocation signed by the resident.
    RevokeConsent {
        /// The resident's `did:key`.
        resident: String,
        /// The grant to withdraw.
        grant_id: u64,
        /// The resident's signature over [`revoke_signing_bytes`].
        signature: Signature,
    },
    /// An agency records that it reads attributes.
    RecordAccess {
        /// The resident's `did:key`.
        resident: String,
        /// Attribute names read.
        attributes: BTreeSet<String>,
        /// What for.
        purpose: Purpose,
        /// Under what authority.
        basis: AccessBasis,
    },
}

impl ModuleCall for IdentityCall {
    const MODULE: &'static str = MODULE;
}

/// The current attestation of one attribute of one resident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attestation {
    /// The resident's `did:key`.
    pub resident: String,
    /// Attribute name.
    pub name: String,
    /// Salted commitment to the value.
    pub commitment: Hash32,
    /// 1 for the first attestation, incremented by each re-attestation.
    pub version: u64,
    /// The attesting account.
    pub registrar: AccountId,
    /// Its organization (holds the value off chain).
    pub org: OrgId,
    /// Block height.
    pub height: Height,
    /// Block time.
    pub time: UnixMillis,
}

/// A stored consent grant and its lifecycle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRecord {
    /// The signed grant.
    pub grant: ConsentGrant,
    /// Height it was recorded.
    pub granted_at_height: Height,
    /// Block time it was recorded.
    pub granted_at: UnixMillis,
    /// The account that relayed it.
    pub relayed_by: AccountId,
    /// Block time of the revocation, if revoked.
    pub withdrawn_at: Option<UnixMillis>,
}

/// One recorded read of a resident's attributes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRecord {
    /// Per-resident sequence number, from 0.
    pub seq: u64,
    /// The resident's `did:key`.
    pub resident: String,
    /// The reading account.
    pub accessor: AccountId,
    /// Its organization.
    pub org: OrgId,
    /// Attributes read.
    pub attributes: BTreeSet<String>,
    /// Purpose.
    pub purpose: Purpose,
    /// Consent or legal basis.
    pub basis: AccessBasis,
    /// Block height.
    pub height: Height,
    /// Block time.
    pub time: UnixMillis,
}

/// State keys, all `identity/<kind>/<resident-did>/…`.
pub mod keys {
    /// The attestation of attribute `name`.
    pub fn attestation(resident: &str, name: &str) -> String {
        format!("identity/attestation/{resident}/{name}")
    }
    /// Prefix of a resident's attestations.
    pub fn attestation_prefix(resident: &str) -> String {
        format!("identity/attestation/{resident}/")
    }
    /// A consent grant.
    pub fn consent(resident: &str, id: u64) -> String {
        format!("identity/consent/{resident}/{id:020}")
    }
    /// Prefix of a resident's consent grants.
    pub fn consent_prefix(resident: &str) -> String {
        format!("identity/consent/{resident}/")
    }
    /// An access record.
    pub fn access(resident: &str, seq: u64) -> String {
        format!("identity/access/{resident}/{seq:020}")
    }
    /// Prefix of a resident's access records.
    pub fn access_prefix(resident: &str) -> String {
        format!("identity/access/{resident}/")
    }
    /// The resident's next access sequence number.
    pub fn access_seq(resident: &str) -> String {
        format!("identity/access-seq/{resident}")
    }
}

/// Whether `grant` lets `reader_org` read `attributes` for `purpose` at block time `now`; the
/// error says exactly what is missing. The same rule [`IdentityCall::RecordAccess`] enforces.
pub fn check_access(
    grant: &ConsentRecord,
    reader_org: &OrgId,
    attributes: &BTreeSet<String>,
    purpose: &Purpose,
    now: UnixMillis,
) -> Result<(), String> {
    let g = &grant.grant;
    let what = format!("consent {} of {}", g.id, g.resident);
    if let Some(at) = grant.withdrawn_at
        && at <= now
    {
        return Err(format!("{what} was withdrawn at {at} ms"));
    }
    if now >= g.not_after {
        return Err(format!("{what} expired at {} ms", g.not_after));
    }
    if &g.controller != reader_org {
        return Err(format!("{what} is for organization {}, not {reader_org}", g.controller));
    }
    if &g.purpose != purpose {
        return Err(format!("{what} is for purpose {}, not {purpose}", g.purpose));
    }
    if let Some(missing) = attributes.iter().find(|a| !g.attributes.contains(*a)) {
        return Err(format!("{what} does not cover attribute {missing}"));
    }
    Ok(())
}

/// The identity module. It knows its chain id because residents' signatures are bound to it.
pub struct Identity {
    chain_id: ChainId,
}

impl Identity {
    /// The module for chain `chain_id`.
    pub fn new(chain_id: ChainId) -> Identity {
        Identity { chain_id }
    }
}

fn invalid(m: String) -> TxError {
    TxError::Invalid(m)
}

/// Parses a resident DID, which must be a `did:key` in canonical form (so one resident has one
/// set of state keys), and returns its key.
fn resident_key(resident: &str) -> Result<PublicKey, TxError> {
    match resident.parse::<Did>() {
        Ok(d @ Did::Key(k)) if d.to_string() == resident => Ok(k),
        Ok(Did::Key(_)) => Err(invalid(format!("resident {resident} is not a canonical did:key"))),
        Ok(Did::Civic(_)) => {
            Err(invalid(format!("resident {resident} must be a did:key; did:civic identifies organizations")))
        }
        Err(e) => Err(invalid(format!("resident: {e}"))),
    }
}

fn check_names<'a>(names: impl ExactSizeIterator<Item = &'a String>) -> Result<(), TxError> {
    let n = names.len();
    if n == 0 || n > MAX_ATTRIBUTES {
        return Err(invalid(format!("name 1-{MAX_ATTRIBUTES} attributes, not {n}")));
    }
    for name in names {
        let ok = !name.is_empty()
            && name.len() <= MAX_ATTRIBUTE_NAME
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok {
            let shown: String = name.chars().take(80).collect();
            return Err(invalid(format!(
                "attribute name {shown:?} is invalid: use 1-{MAX_ATTRIBUTE_NAME} characters a-z, 0-9 and '_'"
            )));
        }
    }
    Ok(())
}

fn check_purpose(p: &Purpose) -> Result<(), TxError> {
    match p {
        Purpose::Other(s) if s.is_empty() || s.len() > MAX_PURPOSE => {
            Err(invalid(format!("an other purpose needs a description of 1-{MAX_PURPOSE} bytes")))
        }
        _ => Ok(()),
    }
}

fn parse(payload: &[u8]) -> Result<IdentityCall, TxError> {
    civic_types::decode(payload, MAX_TX_BYTES).map_err(|e| invalid(format!("malformed identity call: {e}")))
}

impl Identity {
    /// Decodes a call and checks everything that needs no state, including residents'
    /// signatures.
    fn decode(&self, payload: &[u8]) -> Result<IdentityCall, TxError> {
        let call = parse(payload)?;
        match &call {
            IdentityCall::Attest { resident, attributes } => {
                resident_key(resident)?;
                check_names(attributes.keys())?;
            }
            IdentityCall::GrantConsent { grant, signature } => {
                let key = resident_key(&grant.resident)?;
                if grant.chain_id != self.chain_id {
                    return Err(invalid(format!(
                        "consent {} is for chain {}, this is chain {}",
                        grant.id, grant.chain_id, self.chain_id
                    )));
                }
                check_names(grant.attributes.iter())?;
                check_purpose(&grant.purpose)?;
                key.verify(&grant.signing_bytes(), signature).map_err(|_| {
                    TxError::Unauthorized(format!(
                        "consent {} is not signed by the key of {}; the resident must sign the grant",
                        grant.id, grant.resident
                    ))
                })?;
            }
            IdentityCall::RevokeConsent { resident, grant_id, signature } => {
                let key = resident_key(resident)?;
                key.verify(&revoke_signing_bytes(&self.chain_id, resident, *grant_id), signature).map_err(
                    |_| {
                        TxError::Unauthorized(format!(
                            "revocation of consent {grant_id} is not signed by the key of {resident}; only the resident can revoke"
                        ))
                    },
                )?;
            }
            IdentityCall::RecordAccess { resident, attributes, purpose, basis } => {
                resident_key(resident)?;
                check_names(attributes.iter())?;
                check_purpose(purpose)?;
                if let AccessBasis::LegalBasis { reference } = basis
                    && (reference.is_empty() || reference.len() > MAX_REFERENCE)
                {
                    return Err(invalid(format!(
                        "a legal basis needs a reference of 1-{MAX_REFERENCE} bytes"
                    )));
                }
            }
        }
        Ok(call)
    }
}

fn require_reader(ctx: &Ctx<'_, '_>) -> Result<(), TxError> {
    if READER_ROLES.iter().any(|r| ctx.signer.roles.contains(r)) {
        Ok(())
    } else {
        let names: Vec<&str> = READER_ROLES.iter().map(|r| r.as_str()).collect();
        Err(TxError::Unauthorized(format!(
            "account {} needs one of the roles {} to read residents' attributes",
            ctx.signer.id,
            names.join(", ")
        )))
    }
}

fn join(names: impl Iterator<Item = impl AsRef<str>>) -> String {
    names.map(|n| n.as_ref().to_owned()).collect::<Vec<_>>().join(",")
}

fn attest(
    ctx: &mut Ctx<'_, '_>,
    resident: String,
    attributes: BTreeMap<String, Hash32>,
) -> Result<(), TxError> {
    ctx.require_role(Role::Registrar)?;
    let org = ctx.signer.id.org();
    for (name, commitment) in &attributes {
        let k = keys::attestation(&resident, name);
        let version = match ctx.get::<Attestation>(&k)? {
            Some(prev) => prev.version.checked_add(1).ok_or_else(|| invalid("version overflow".into()))?,
            None => 1,
        };
        let rec = Attestation {
            resident: resident.clone(),
            name: name.clone(),
            commitment: *commitment,
            version,
            registrar: ctx.signer.id.clone(),
            org: org.clone(),
            height: ctx.env.height,
            time: ctx.env.time,
        };
        ctx.put(&k, &rec);
    }
    ctx.emit(Event::new(
        MODULE,
        "attested",
        &[("resident", resident), ("attributes", join(attributes.keys())), ("org", org.to_string())],
    ));
    Ok(())
}

fn grant_consent(ctx: &mut Ctx<'_, '_>, grant: ConsentGrant) -> Result<(), TxError> {
    if grant.not_after <= ctx.env.time {
        return Err(invalid(format!(
            "consent {} ends at {} ms, which is not after the block time {} ms",
            grant.id, grant.not_after, ctx.env.time
        )));
    }
    if !ctx.get::<Org>(&membership::keys::org(&grant.controller))?.is_some_and(|o| o.active) {
        return Err(TxError::NotFound(format!(
            "grantee organization {} does not exist or is not active",
            grant.controller
        )));
    }
    let k = keys::consent(&grant.resident, grant.id);
    if let Some(existing) = ctx.get::<ConsentRecord>(&k)? {
        return Err(TxError::Conflict(format!(
            "consent {} of {} already exists (granted at height {}); choose a new id",
            grant.id, grant.resident, existing.granted_at_height
        )));
    }
    ctx.emit(Event::new(
        MODULE,
        "consent_granted",
        &[
            ("resident", grant.resident.clone()),
            ("grant_id", grant.id.to_string()),
            ("controller", grant.controller.to_string()),
            ("attributes", join(grant.attributes.iter())),
            ("purpose", grant.purpose.to_string()),
        ],
    ));
    let rec = ConsentRecord {
        grant,
        granted_at_height: ctx.env.height,
        granted_at: ctx.env.time,
        relayed_by: ctx.signer.id.clone(),
        withdrawn_at: None,
    };
    ctx.put(&k, &rec);
    Ok(())
}

fn revoke_consent(ctx: &mut Ctx<'_, '_>, resident: String, grant_id: u64) -> Result<(), TxError> {
    let k = keys::consent(&resident, grant_id);
    let Some(mut rec) = ctx.get::<ConsentRecord>(&k)? else {
        return Err(TxError::NotFound(format!("consent {grant_id} of {resident} does not exist")));
    };
    if let Some(at) = rec.withdrawn_at {
        return Err(TxError::Conflict(format!(
            "consent {grant_id} of {resident} was already withdrawn at {at} ms"
        )));
    }
    rec.withdrawn_at = Some(ctx.env.time);
    ctx.put(&k, &rec);
    ctx.emit(Event::new(
        MODULE,
        "consent_withdrawn",
        &[("resident", resident), ("grant_id", grant_id.to_string())],
    ));
    Ok(())
}

fn record_access(
    ctx: &mut Ctx<'_, '_>,
    resident: String,
    attributes: BTreeSet<String>,
    purpose: Purpose,
    basis: AccessBasis,
) -> Result<(), TxError> {
    require_reader(ctx)?;
    let org = ctx.signer.id.org();
    if let AccessBasis::Consent { grant_id } = &basis {
        let Some(grant) = ctx.get::<ConsentRecord>(&keys::consent(&resident, *grant_id))? else {
            return Err(TxError::Unauthorized(format!(
                "consent {grant_id} of {resident} does not exist; the resident must grant it first"
            )));
        };
        check_access(&grant, &org, &attributes, &purpose, ctx.env.time).map_err(TxError::Unauthorized)?;
    }
    for name in &attributes {
        if ctx.get::<Attestation>(&keys::attestation(&resident, name))?.is_none() {
            return Err(TxError::NotFound(format!("attribute {name} of {resident} has not been attested")));
        }
    }
    let seq_key = keys::access_seq(&resident);
    let seq: u64 = ctx.get(&seq_key)?.unwrap_or(0);
    let next = seq.checked_add(1).ok_or_else(|| invalid("access sequence overflow".into()))?;
    let basis_label = match &basis {
        AccessBasis::Consent { grant_id } => format!("consent:{grant_id}"),
        AccessBasis::LegalBasis { reference } => format!("legal_basis:{reference}"),
    };
    ctx.emit(Event::new(
        MODULE,
        "attributes_read",
        &[
            ("resident", resident.clone()),
            ("seq", seq.to_string()),
            ("org", org.to_string()),
            ("attributes", join(attributes.iter())),
            ("purpose", purpose.to_string()),
            ("basis", basis_label),
        ],
    ));
    let rec = AccessRecord {
        seq,
        resident: resident.clone(),
        accessor: ctx.signer.id.clone(),
        org,
        attributes,
        purpose,
        basis,
        height: ctx.env.height,
        time: ctx.env.time,
    };
    ctx.put(&keys::access(&resident, seq), &rec);
    ctx.put(&seq_key, &next);
    Ok(())
}

impl Module for Identity {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn check(&self, payload: &[u8]) -> Result<(), TxError> {
        self.decode(payload).map(|_| ())
    }

    fn apply(&self, ctx: &mut Ctx<'_, '_>, payload: &[u8]) -> Result<(), TxError> {
        match self.decode(payload)? {
            IdentityCall::Attest { resident, attributes } => attest(ctx, resident, attributes),
            IdentityCall::GrantConsent { grant, .. } => grant_consent(ctx, grant),
            IdentityCall::RevokeConsent { resident, grant_id, .. } => revoke_consent(ctx, resident, grant_id),
            IdentityCall::RecordAccess { resident, attributes, purpose, basis } => {
                record_access(ctx, resident, attributes, purpose, basis)
            }
        }
    }

    fn describe(&self, payload: &[u8]) -> serde_json::Value {
        // Only the codec: a rejected call (say, a forged grant) is still shown as it was sent.
        match parse(payload) {
            Ok(c) => serde_json::json!({ "module": MODULE, "call": c }),
            Err(e) => serde_json::json!({ "module": MODULE, "error": e.to_string() }),
        }
    }

    fn encode_json(&self, call: serde_json::Value) -> Result<Vec<u8>, TxError> {
        let c: IdentityCall =
            serde_json::from_value(call).map_err(|e| invalid(format!("not an IdentityCall: {e}")))?;
        Ok(civic_types::encode(&c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(attrs: &[&str], purpose: Purpose, withdrawn_at: Option<u64>) -> ConsentRecord {
        ConsentRecord {
            grant: ConsentGrant {
                chain_id: ChainId::new("c").unwrap(),
                id: 3,
                resident: "did:key:zX".into(),
                controller: OrgId::new("tax").unwrap(),
                attributes: attrs.iter().map(|a| (*a).to_owned()).collect(),
                purpose,
                not_after: UnixMillis::new(1000),
            },
            granted_at_height: Height::new(1),
            granted_at: UnixMillis::new(0),
            relayed_by: AccountId::new("tax/reader").unwrap(),
            withdrawn_at: withdrawn_at.map(UnixMillis::new),
        }
    }

    fn set(a: &[&str]) -> BTreeSet<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn check_access_names_what_is_missing() {
        let tax = OrgId::new("tax").unwrap();
        let g = grant(&["name", "address"], Purpose::Tax, None);
        let at = UnixMillis::new(500);
        assert_eq!(check_access(&g, &tax, &set(&["name"]), &Purpose::Tax, at), Ok(()));
        let e = check_access(&g, &tax, &set(&["name", "phone"]), &Purpose::Tax, at).unwrap_err();
        assert_eq!(e, "consent 3 of did:key:zX does not cover attribute phone");
        let e = check_access(&g, &OrgId::new("city-bank").unwrap(), &set(&["name"]), &Purpose::Tax, at)
            .unwrap_err();
        assert_eq!(e, "consent 3 of did:key:zX is for organization tax, not city-bank");
        let e = check_access(&g, &tax, &set(&["name"]), &Purpose::Banking, at).unwrap_err();
        assert!(e.contains("is for purpose tax, not banking"), "{e}");
        let e = check_access(&g, &tax, &set(&["name"]), &Purpose::Tax, UnixMillis::new(1000)).unwrap_err();
        assert!(e.contains("expired at 1000 ms"), "{e}");
        let w = grant(&["name"], Purpose::Tax, Some(400));
        let e = check_access(&w, &tax, &set(&["name"]), &Purpose::Tax, at).unwrap_err();
        assert!(e.contains("withdrawn at 400 ms"), "{e}");
        assert_eq!(
            check_access(&w, &tax, &set(&["name"]), &Purpose::Tax, UnixMillis::new(399)),
            Ok(()),
            "a grant was live before its withdrawal"
        );
    }

    #[test]
    fn commitment_is_salted_and_separates_name_from_value() {
        let s1 = [1u8; 32];
        let s2 = [2u8; 32];
        assert_ne!(commitment(&s1, "name", "Zhang San"), commitment(&s2, "name", "Zhang San"));
        assert_ne!(commitment(&s1, "ab", "c"), commitment(&s1, "a", "bc"));
        let mut pre = s1.to_vec();
        pre.extend_from_slice(b"name\0Zhang San");
        assert_eq!(commitment(&s1, "name", "Zhang San"), sha256(&pre));
    }

    #[test]
    fn attribute_names_are_bounded() {
        let ok = set(&["name", "id_number", "a1"]);
        assert!(check_names(ok.iter()).is_ok());
        for bad in ["", "Name", "a-b", "a b", &"x".repeat(65)] {
            let s = set(&[bad]);
            assert!(check_names(s.iter()).is_err(), "{bad:?}");
        }
        let many: BTreeSet<String> = (0..33).map(|i| format!("a{i}")).collect();
        assert!(check_names(many.iter()).is_err());
        assert!(check_names(BTreeSet::<String>::new().iter()).is_err());
    }
}
