//! Verification of a license credential against the ledger, shared by the node (which answers
//! from its state) and the CLI (which answers from a node's published state over HTTP).
//!
//! Guarantees: [`verify`] is a pure function of the credential, the time it is given and the
//! answers of a [`LedgerView`]; it never panics on any JSON input. It runs every check in
//! [`CHECK_NAMES`] order and reports each one, so a person can see exactly what failed; the
//! verdict is valid only if every check passed. A credential is valid only if its issuer's
//! current key signed it for `assertionMethod`, its issuer is a trusted issuer of its type, its
//! subject, type and claims are what the ledger recorded, it is within its own validity period,
//! and the ledger has neither its revocation nor its suspension bit set.

use civic_identity::Did;
use civic_types::{AccountId, OrgId, PublicKey, UnixMillis};
use civic_vc::eddsa_jcs_2022;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::credential::{
    ASSERTION_METHOD, CREDENTIAL_TYPE, LIST_ENTRIES, STATUS_ENTRY_TYPE, StatusListId, VC_CONTEXT_V2,
    is_type_id, list_id_from_url, parse_canonical_u64, parse_rfc3339, rfc3339,
};
use crate::module::{License, StatusPurpose};

/// What verification needs from the ledger.
///
/// Implementers answer from one consistent view of the ledger (one state root) where they can.
/// `Err` means the ledger could not be asked (storage or network failure, not "no such thing");
/// the check that asked fails with that message, so it must be fit for a person to read and
/// must not leak secrets.
pub trait LedgerView {
    /// The Ed25519 key of did:civic verification method `<org>#<account_name>` when that account
    /// is active, belongs to an active org, and is an assertion method (issuer or registrar
    /// role); `None` otherwise. Only the account's current key counts, so credentials signed
    /// before a key rotation stop verifying and must be re-issued.
    fn civic_assertion_key(&self, org: &OrgId, account_name: &str) -> Result<Option<PublicKey>, String>;
    /// Whether `org` is currently a trusted issuer of `type_id`.
    fn is_trusted_issuer(&self, type_id: &str, org: &OrgId) -> Result<bool, String>;
    /// The license as recorded on the ledger.
    fn license(&self, license_id: &str) -> Result<Option<License>, String>;
    /// Bit `position` of status list `list` as the ledger has it now.
    fn status_bit(&self, list: &StatusListId, position: u64) -> Result<bool, String>;
}

/// The names of the checks, in the order they run and are reported.
pub const CHECK_NAMES: [&str; 7] =
    ["structure", "proof", "issuer_trusted", "validity_period", "ledger_record", "revocation", "suspension"];

/// Whether the credential can be relied on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every check passed.
    Valid,
    /// At least one check failed or could not run.
    Invalid,
}

impl Outcome {
    /// The serialized name: `valid` or `invalid`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Valid => "valid",
            Outcome::Invalid => "invalid",
        }
    }
}

/// What a verifier should treat the license as.
///
/// Precedence: `invalid` (the credential is not authentic, not trusted, not the ledger's record,
/// or malformed — then its status bits and dates say nothing) over `revoked` over `suspended`
/// over `expired` over `not_yet_valid` over `active`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialStatus {
    /// Valid and in force.
    Active,
    /// The ledger has its suspension bit set.
    Suspended,
    /// The ledger has its revocation bit set.
    Revoked,
    /// After its `validUntil`.
    Expired,
    /// Before its `validFrom`.
    NotYetValid,
    /// Not a credential this ledger stands behind.
    Invalid,
}

impl CredentialStatus {
    /// The serialized name, e.g. `not_yet_valid`.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialStatus::Active => "active",
            CredentialStatus::Suspended => "suspended",
            CredentialStatus::Revoked => "revoked",
            CredentialStatus::Expired => "expired",
            CredentialStatus::NotYetValid => "not_yet_valid",
            CredentialStatus::Invalid => "invalid",
        }
    }
}

/// The result of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckResult {
    /// The check passed.
    Passed,
    /// The check failed.
    Failed,
    /// The check could not run because an earlier check failed.
    Skipped,
}

impl CheckResult {
    /// The serialized name: `passed`, `failed` or `skipped`.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckResult::Passed => "passed",
            CheckResult::Failed => "failed",
            CheckResult::Skipped => "skipped",
        }
    }
}

/// One check, its result and what it found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    /// One of [`CHECK_NAMES`].
    pub name: &'static str,
    /// Passed, failed or skipped.
    pub result: CheckResult,
    /// What was found, in a sentence.
    pub detail: String,
}

/// The full result of verifying a credential.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// Valid iff every check passed.
    pub verdict: Outcome,
    /// What to treat the license as.
    pub status: CredentialStatus,
    /// `credentialSubject.licenseId`, when the credential is well formed and has one.
    pub license_id: Option<String>,
    /// The issuer DID, when the credential is well formed.
    pub issuer: Option<String>,
    /// `credentialSubject.id`, when the credential is well formed and has one.
    pub holder: Option<String>,
    /// Every check of [`CHECK_NAMES`], in that order.
    pub checks: Vec<Check>,
    /// The detail of the first failed check: what a person reads.
    pub reason: Option<String>,
}

impl Verification {
    /// Whether every check passed.
    pub fn is_valid(&self) -> bool {
        self.verdict == Outcome::Valid
    }
}

/// What one check found, and the status it gives the license.
struct Found {
    result: CheckResult,
    status: CredentialStatus,
    detail: String,
}

impl Found {
    fn passed(detail: String) -> Found {
        Found { result: CheckResult::Passed, status: CredentialStatus::Active, detail }
    }
    /// Failed: the credential is invalid.
    fn failed(detail: String) -> Found {
        Found::failed_as(CredentialStatus::Invalid, detail)
    }
    /// Failed in a way that gives the license `status` (revoked, expired…).
    fn failed_as(status: CredentialStatus, detail: String) -> Found {
        Found { result: CheckResult::Failed, status, detail }
    }
    fn skipped(detail: String) -> Found {
        Found { result: CheckResult::Skipped, status: CredentialStatus::Invalid, detail }
    }
}

impl CredentialStatus {
    /// Rank in the precedence documented on the type; the highest found wins.
    fn precedence(self) -> u8 {
        match self {
            CredentialStatus::Active => 0,
            CredentialStatus::NotYetValid => 1,
            CredentialStatus::Expired => 2,
            CredentialStatus::Suspended => 3,
            CredentialStatus::Revoked => 4,
            CredentialStatus::Invalid => 5,
        }
    }
}

/// The well-formed parts every check after `structure` reads.
struct Parsed<'a> {
    doc: &'a Map<String, Value>,
    issuer: &'a str,
    subject: &'a Map<String, Value>,
}

impl<'a> Parsed<'a> {
    fn subject_str(&self, name: &str) -> Option<&'a str> {
        self.subject.get(name).and_then(Value::as_str)
    }
    /// The issuing organization when the issuer is a well-formed `did:civic`.
    fn issuer_org(&self) -> Option<OrgId> {
        self.issuer.strip_prefix("did:civic:").and_then(|o| OrgId::new(o).ok())
    }
}

/// Verifies `credential` at time `now` against `ledger`; see the module docs for what a valid
/// verdict guarantees.
///
/// The `ledger_record` check compares the issuer, holder, type and claims with the ledger's
/// record, but not the validity dates: a renewal extends the ledger's `valid_until` without
/// changing credentials already handed out, and an older credential is still judged by its own
/// `validFrom`/`validUntil` (so it expires at its own date even after a renewal, and the holder
/// fetches a fresh one).
pub fn verify(credential: &Value, now: UnixMillis, ledger: &impl LedgerView) -> Verification {
    let parsed = match structure(credential) {
        Ok(p) => p,
        Err(detail) => {
            let mut checks = vec![Check { name: CHECK_NAMES[0], result: CheckResult::Failed, detail }];
            checks.extend(CHECK_NAMES[1..].iter().map(|name| Check {
                name,
                result: CheckResult::Skipped,
                detail: "the credential is malformed".into(),
            }));
            let reason = Some(checks[0].detail.clone());
            return Verification {
                verdict: Outcome::Invalid,
                status: CredentialStatus::Invalid,
                license_id: None,
                issuer: None,
                holder: None,
                checks,
                reason,
            };
        }
    };
    let org = parsed.issuer_org();
    let (record, license) = ledger_record(&parsed, org.as_ref(), ledger);
    let found = [
        Found::passed("the credential is a well-formed W3C VC 2.0 document".into()),
        proof(credential, &parsed, ledger),
        issuer_trusted(&parsed, org.as_ref(), ledger),
        validity_period(&parsed, now),
        record,
        status_entry(&parsed, org.as_ref(), license.as_ref(), StatusPurpose::Revocation, ledger),
        status_entry(&parsed, org.as_ref(), license.as_ref(), StatusPurpose::Suspension, ledger),
    ];
    finish(&parsed, found)
}

fn finish(parsed: &Parsed<'_>, found: [Found; 7]) -> Verification {
    let status =
        found.iter().map(|f| f.status).max_by_key(|s| s.precedence()).unwrap_or(CredentialStatus::Invalid);
    let reason = found.iter().find(|f| f.result == CheckResult::Failed).map(|f| f.detail.clone());
    let checks: Vec<Check> = CHECK_NAMES
        .iter()
        .zip(found)
        .map(|(name, f)| Check { name, result: f.result, detail: f.detail })
        .collect();
    Verification {
        verdict: if status == CredentialStatus::Active { Outcome::Valid } else { Outcome::Invalid },
        status,
        license_id: parsed.subject_str("licenseId").map(str::to_owned),
        issuer: Some(parsed.issuer.to_owned()),
        holder: parsed.subject_str("id").map(str::to_owned),
        checks,
        reason,
    }
}

/// At most 80 characters of untrusted text, for messages.
fn shown(s: &str) -> String {
    if s.chars().count() <= 80 {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(80).collect::<String>())
    }
}

fn structure(credential: &Value) -> Result<Parsed<'_>, String> {
    let doc = credential.as_object().ok_or("the credential is not a JSON object")?;
    let context_ok = doc
        .get("@context")
        .and_then(Value::as_array)
        .and_then(|c| c.first())
        .is_some_and(|first| first == VC_CONTEXT_V2);
    if !context_ok {
        return Err(format!("@context must be an array whose first element is {VC_CONTEXT_V2:?}"));
    }
    let types_ok = doc
        .get("type")
        .and_then(Value::as_array)
        .is_some_and(|t| t.iter().any(|t| t == "VerifiableCredential"));
    if !types_ok {
        return Err("type must be an array that contains \"VerifiableCredential\"".into());
    }
    let issuer = match doc.get("issuer") {
        Some(Value::String(s)) => s.as_str(),
        Some(Value::Object(o)) => {
            o.get("id").and_then(Value::as_str).ok_or("issuer is an object without a string \"id\"")?
        }
        _ => return Err("issuer must be a DID string or an object with a string \"id\"".into()),
    };
    let subject = doc
        .get("credentialSubject")
        .and_then(Value::as_object)
        .ok_or("credentialSubject must be a JSON object")?;
    Ok(Parsed { doc, issuer, subject })
}

fn proof(credential: &Value, parsed: &Parsed<'_>, ledger: &impl LedgerView) -> Found {
    let proof = match parsed.doc.get("proof") {
        Some(Value::Object(p)) => p,
        Some(_) => {
            return Found::failed("proof must be a single JSON object (proof sets are not supported)".into());
        }
        None => return Found::failed("the credential has no proof".into()),
    };
    match proof.get("proofPurpose").and_then(Value::as_str) {
        Some(ASSERTION_METHOD) => {}
        Some(other) => {
            return Found::failed(format!(
                "the proof purpose is {:?}; a credential must be signed for \"assertionMethod\"",
                shown(other)
            ));
        }
        None => return Found::failed("the proof has no proofPurpose; expected \"assertionMethod\"".into()),
    }
    let Some(method) = proof.get("verificationMethod").and_then(Value::as_str) else {
        return Found::failed("the proof has no verificationMethod string".into());
    };
    let Some((did, fragment)) = method.split_once('#') else {
        return Found::failed(format!(
            "verification method {:?} has no '#' fragment; expected <issuer DID>#<key id>",
            shown(method)
        ));
    };
    if did != parsed.issuer {
        return Found::failed(format!(
            "verification method {:?} does not belong to the issuer {:?}",
            shown(method),
            shown(parsed.issuer)
        ));
    }
    let key = match did.parse::<Did>() {
        Err(e) => return Found::failed(format!("the issuer cannot be resolved: {e}")),
        Ok(Did::Key(key)) => {
            // did:key has exactly one verification method, named by the key itself; base58btc
            // is a bijection, so comparing the text compares the key.
            if Some(fragment) != did.strip_prefix("did:key:") {
                return Found::failed(format!(
                    "verification method {:?} is not the did:key's key; expected {did}#<the same key>",
                    shown(method)
                ));
            }
            key
        }
        Ok(Did::Civic(org)) => {
            if AccountId::from_parts(&org, fragment).is_err() {
                return Found::failed(format!(
                    "verification method {:?} does not name an account of {org}",
                    shown(method)
                ));
            }
            match ledger.civic_assertion_key(&org, fragment) {
                Ok(Some(key)) => key,
                Ok(None) => {
                    return Found::failed(format!(
                        "verification method {method} is not an assertion method of an active organization: \
                         the account is unknown, removed, or has neither the issuer nor the registrar role"
                    ));
                }
                Err(e) => {
                    return Found::failed(format!(
                        "the ledger could not be asked for the key of {method}: {e}"
                    ));
                }
            }
        }
    };
    match eddsa_jcs_2022::verify(credential, |asked| (asked == method).then_some(key)) {
        Ok(()) => Found::passed(format!("signed by {method} (eddsa-jcs-2022)")),
        Err(e) => Found::failed(format!("the proof does not verify: {e}")),
    }
}

fn issuer_trusted(parsed: &Parsed<'_>, org: Option<&OrgId>, ledger: &impl LedgerView) -> Found {
    let is_license = parsed
        .doc
        .get("type")
        .and_then(Value::as_array)
        .is_some_and(|t| t.iter().any(|t| t == CREDENTIAL_TYPE));
    if !is_license {
        return Found::failed(format!(
            "the credential is not a {CREDENTIAL_TYPE} (its type does not list it)"
        ));
    }
    let Some(type_id) = parsed.subject_str("licenseType") else {
        return Found::failed("credentialSubject.licenseType is missing or not a string".into());
    };
    if !is_type_id(type_id) {
        return Found::failed(format!("licenseType {:?} is not a license type id", shown(type_id)));
    }
    let Some(org) = org else {
        return Found::failed(format!(
            "issuer {} is not an organization of this ledger (expected did:civic:<org>)",
            shown(parsed.issuer)
        ));
    };
    match ledger.is_trusted_issuer(type_id, org) {
        Ok(true) => {
            Found::passed(format!("organization {org} is a trusted issuer of license type {type_id}"))
        }
        Ok(false) => {
            Found::failed(format!("organization {org} is not a trusted issuer of license type {type_id}"))
        }
        Err(e) => Found::failed(format!("the ledger could not be asked whether {org} is trusted: {e}")),
    }
}

fn validity_period(parsed: &Parsed<'_>, now: UnixMillis) -> Found {
    let time = |name: &str, required: bool| -> Result<Option<UnixMillis>, String> {
        match parsed.doc.get(name) {
            None if !required => Ok(None),
            None => Err(format!("the credential has no {name}")),
            Some(v) => v.as_str().and_then(parse_rfc3339).map(Some).ok_or_else(|| {
                format!("{name} is not an RFC 3339 date-time (YYYY-MM-DDTHH:MM:SSZ) on or after 1970")
            }),
        }
    };
    let (from, until) = match (time("validFrom", true), time("validUntil", false)) {
        (Ok(from), Ok(until)) => (from.unwrap_or(now), until),
        (Err(e), _) | (_, Err(e)) => return Found::failed(e),
    };
    if now < from {
        return Found::failed_as(
            CredentialStatus::NotYetValid,
            format!("the credential is not valid before {} (now is {})", rfc3339(from), rfc3339(now)),
        );
    }
    match until {
        Some(until) if now > until => Found::failed_as(
            CredentialStatus::Expired,
            format!("the credential expired at {} (now is {})", rfc3339(until), rfc3339(now)),
        ),
        Some(until) => Found::passed(format!("valid from {} until {}", rfc3339(from), rfc3339(until))),
        None => Found::passed(format!("valid from {}, with no end", rfc3339(from))),
    }
}

/// The `ledger_record` check, and the ledger's license when the credential names one that exists.
fn ledger_record(
    parsed: &Parsed<'_>,
    org: Option<&OrgId>,
    ledger: &impl LedgerView,
) -> (Found, Option<License>) {
    let fail = |m: String| (Found::failed(m), None);
    let Some(id) = parsed.subject_str("licenseId") else {
        return fail("credentialSubject.licenseId is missing or not a string".into());
    };
    if !crate::module::is_license_id(id) {
        return fail(format!("licenseId {:?} is not a license id of this ledger", shown(id)));
    }
    let license = match ledger.license(id) {
        Ok(Some(l)) => l,
        Ok(None) => return fail(format!("license {id} is not recorded on this ledger")),
        Err(e) => return fail(format!("the ledger could not be asked for license {id}: {e}")),
    };
    // From here on the license exists, so the status checks can hold the credential's entries
    // against the license's own bits even when the credential disagrees with the record.
    let fail = |m: String| (Found::failed(m), Some(license.clone()));
    if org != Some(&license.issuer_org) {
        return fail(format!(
            "the ledger records license {id} as issued by did:civic:{}, not {}",
            license.issuer_org,
            shown(parsed.issuer)
        ));
    }
    if parsed.subject_str("id") != Some(license.holder.as_str()) {
        return fail(format!("credentialSubject.id is not the holder the ledger records for license {id}"));
    }
    if parsed.subject_str("licenseType") != Some(license.type_id.as_str()) {
        return fail(format!("the ledger records license {id} as of type {}", license.type_id));
    }
    let Some(claims) = parsed.subject.get("claims").and_then(Value::as_object) else {
        return fail("credentialSubject.claims is missing or not an object".into());
    };
    // Name the differing claims but not their values, which may be personal data.
    let mut differ: Vec<&str> = license
        .claims
        .iter()
        .filter(|(k, v)| claims.get(k.as_str()).and_then(Value::as_str) != Some(v.as_str()))
        .map(|(k, _)| k.as_str())
        .collect();
    differ.extend(claims.keys().filter(|k| !license.claims.contains_key(k.as_str())).map(|k| k.as_str()));
    if !differ.is_empty() {
        let names: Vec<String> = differ.iter().take(8).map(|k| shown(k)).collect();
        return fail(format!(
            "claims differ from the ledger's record of license {id}: {}{}",
            names.join(", "),
            if differ.len() > 8 { ", …" } else { "" }
        ));
    }
    (
        Found::passed(format!("issuer, holder, license type and claims match the ledger's record of {id}")),
        Some(license),
    )
}

fn status_entry(
    parsed: &Parsed<'_>,
    org: Option<&OrgId>,
    license: Option<&License>,
    purpose: StatusPurpose,
    ledger: &impl LedgerView,
) -> Found {
    let is_entry = |e: &&Map<String, Value>| {
        e.get("type").is_some_and(|t| t == STATUS_ENTRY_TYPE)
            && e.get("statusPurpose").is_some_and(|p| p == purpose.as_str())
    };
    let mut entries: Vec<&Map<String, Value>> = match parsed.doc.get("credentialStatus") {
        Some(Value::Object(e)) => vec![e],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_object).collect(),
        _ => vec![],
    };
    entries.retain(is_entry);
    let entry = match entries.as_slice() {
        [] => return Found::failed(format!("the credential has no {purpose} status entry")),
        [entry] => *entry,
        _ => return Found::failed(format!("the credential has more than one {purpose} status entry")),
    };
    let (Some(org), Some(type_id)) = (org, parsed.subject_str("licenseType")) else {
        return Found::skipped(format!(
            "the {purpose} list cannot be checked: the credential names no issuing organization and license type of this ledger"
        ));
    };
    let Some(url) = entry.get("statusListCredential").and_then(Value::as_str) else {
        return Found::failed(format!("the {purpose} entry has no statusListCredential URL"));
    };
    let Some(list) = list_id_from_url(url) else {
        return Found::failed(format!(
            "the {purpose} entry's statusListCredential {:?} is not a status list of this ledger \
             (expected http(s)://<host>/v1/status-lists/<org>.<type>.<purpose>.<page>)",
            shown(url)
        ));
    };
    if list.purpose != purpose {
        return Found::failed(format!("the {purpose} entry points at a {} list ({list})", list.purpose));
    }
    if &list.org != org || list.type_id != type_id {
        return Found::failed(format!(
            "the {purpose} entry points at list {list}, which is not {org}'s list for license type {}",
            shown(type_id)
        ));
    }
    let Some(position) = entry.get("statusListIndex").and_then(Value::as_str).and_then(parse_canonical_u64)
    else {
        return Found::failed(format!(
            "the {purpose} entry's statusListIndex is not a decimal string without leading zeros"
        ));
    };
    if position >= LIST_ENTRIES {
        return Found::failed(format!(
            "the {purpose} entry's statusListIndex {position} is outside the list (0-{})",
            LIST_ENTRIES - 1
        ));
    }
    if let Some(license) = license {
        let own_list = StatusListId::for_license(license, purpose);
        let own_position = StatusListId::position(license.status_index);
        if list != own_list || position != own_position {
            return Found::failed(format!(
                "the {purpose} entry points at bit {position} of {list}, but license {} is bit {own_position} of {own_list}: \
                 it names another license's bit",
                license.license_id
            ));
        }
    }
    match ledger.status_bit(&list, position) {
        Ok(false) => Found::passed(format!("not {}: bit {position} of {list} is clear", past(purpose))),
        Ok(true) => Found::failed_as(
            match purpose {
                StatusPurpose::Revocation => CredentialStatus::Revoked,
                StatusPurpose::Suspension => CredentialStatus::Suspended,
            },
            format!("the license is {}: bit {position} of {list} is set", past(purpose)),
        ),
        Err(e) => Found::failed(format!("the ledger could not be asked for bit {position} of {list}: {e}")),
    }
}

fn past(purpose: StatusPurpose) -> &'static str {
    match purpose {
        StatusPurpose::Revocation => "revoked",
        StatusPurpose::Suspension => "suspended",
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use civic_identity::did::multikey;
    use civic_types::SecretKey;
    use serde_json::json;

    use super::*;
    use crate::credential::tests::{issuer_key, license, license_type};
    use crate::credential::{license_credential, sign_credential};

    const BASE: &str = "https://ledger.example.gov";
    const VM: &str = "did:civic:justice#issuer";

    /// A ledger held in ordered maps.
    #[derive(Default)]
    struct TestLedger {
        /// (org, account name) → key of active assertion-method accounts.
        keys: BTreeMap<(String, String), PublicKey>,
        /// (type, org) pairs currently trusted.
        trusted: BTreeSet<(String, String)>,
        licenses: BTreeMap<String, License>,
        /// (list id, position) of every set bit.
        bits: BTreeSet<(String, u64)>,
        /// When set, every question fails with this message.
        down: Option<String>,
    }

    impl TestLedger {
        fn up(&self) -> Result<(), String> {
            self.down.clone().map_or(Ok(()), Err)
        }
        fn set_bit(&mut self, l: &License, purpose: StatusPurpose) {
            let list = StatusListId::for_license(l, purpose).to_string();
            self.bits.insert((list, StatusListId::position(l.status_index)));
        }
    }

    impl LedgerView for TestLedger {
        fn civic_assertion_key(&self, org: &OrgId, name: &str) -> Result<Option<PublicKey>, String> {
            self.up()?;
            Ok(self.keys.get(&(org.to_string(), name.to_owned())).copied())
        }
        fn is_trusted_issuer(&self, type_id: &str, org: &OrgId) -> Result<bool, String> {
            self.up()?;
            Ok(self.trusted.contains(&(type_id.to_owned(), org.to_string())))
        }
        fn license(&self, license_id: &str) -> Result<Option<License>, String> {
            self.up()?;
            Ok(self.licenses.get(license_id).cloned())
        }
        fn status_bit(&self, list: &StatusListId, position: u64) -> Result<bool, String> {
            self.up()?;
            Ok(self.bits.contains(&(list.to_string(), position)))
        }
    }

    fn health_key() -> SecretKey {
        SecretKey::from_seed(&[2; 32])
    }

    /// Status index in page 1, so page arithmetic is exercised.
    fn the_license() -> License {
        license(LIST_ENTRIES + 5)
    }

    /// Justice's issuer and health's issuer have keys; justice is trusted for lawyer-practice;
    /// the license is recorded.
    fn ledger() -> TestLedger {
        let mut l = TestLedger::default();
        l.keys.insert(("justice".into(), "issuer".into()), issuer_key().public_key());
        l.keys.insert(("health".into(), "issuer".into()), health_key().public_key());
        l.trusted.insert(("lawyer-practice".into(), "justice".into()));
        let lic = the_license();
        l.licenses.insert(lic.license_id.clone(), lic);
        l
    }

    fn unsigned() -> Value {
        license_credential(&the_license(), &license_type(), BASE)
    }

    fn signed_by(doc: &Value, key: &SecretKey, vm: &str) -> Value {
        sign_credential(doc, key, vm, UnixMillis::new(1_767_225_600_000)).unwrap()
    }

    fn sign(doc: &Value) -> Value {
        signed_by(doc, &issuer_key(), VM)
    }

    fn now() -> UnixMillis {
        parse_rfc3339("2026-06-01T00:00:00Z").unwrap()
    }

    fn check<'a>(v: &'a Verification, name: &str) -> &'a Check {
        v.checks.iter().find(|c| c.name == name).unwrap()
    }

    /// Asserts that exactly the checks in `failed` failed, with details containing the given text,
    /// that every other check passed, and that the reason is the first failure.
    fn assert_only_failed(v: &Verification, failed: &[(&str, &str)]) {
        assert_eq!(v.checks.iter().map(|c| c.name).collect::<Vec<_>>(), CHECK_NAMES);
        for c in &v.checks {
            match failed.iter().find(|(n, _)| *n == c.name) {
                Some((_, want)) => {
                    assert_eq!(c.result, CheckResult::Failed, "{c:?}");
                    assert!(c.detail.contains(want), "{}: {:?} lacks {want:?}", c.name, c.detail);
                }
                None => assert_eq!(c.result, CheckResult::Passed, "{c:?}"),
            }
        }
        assert_eq!(v.verdict, Outcome::Invalid);
        assert!(!v.is_valid());
        let first = v.checks.iter().find(|c| c.result == CheckResult::Failed).unwrap();
        assert_eq!(v.reason.as_deref(), Some(first.detail.as_str()));
    }

    #[test]
    fn a_signed_recorded_license_is_valid_and_active() {
        let lic = the_license();
        let v = verify(&sign(&unsigned()), now(), &ledger());
        assert!(v.is_valid(), "{v:#?}");
        assert_eq!(v.status, CredentialStatus::Active);
        assert!(v.checks.iter().all(|c| c.result == CheckResult::Passed), "{v:#?}");
        assert_eq!(v.checks.iter().map(|c| c.name).collect::<Vec<_>>(), CHECK_NAMES);
        assert_eq!(v.reason, None);
        assert_eq!(v.license_id.as_deref(), Some("LAW-2026.0001"));
        assert_eq!(v.issuer.as_deref(), Some("did:civic:justice"));
        assert_eq!(v.holder, Some(lic.holder));
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["verdict"], "valid");
        assert_eq!(json["status"], "active");
        assert_eq!(json["license_id"], "LAW-2026.0001");
        assert_eq!(
            json["checks"][1],
            json!({"name": "proof", "result": "passed", "detail": format!("signed by {VM} (eddsa-jcs-2022)")})
        );
        assert_eq!(json["reason"], Value::Null);
        // The validity bounds are inclusive.
        let ledger = ledger();
        assert!(verify(&sign(&unsigned()), lic.valid_from, &ledger).is_valid());
        assert!(verify(&sign(&unsigned()), lic.valid_until, &ledger).is_valid());
    }

    #[test]
    fn names_agree_with_serialization() {
        use CredentialStatus as S;
        for s in [S::Active, S::Suspended, S::Revoked, S::Expired, S::NotYetValid, S::Invalid] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for o in [Outcome::Valid, Outcome::Invalid] {
            assert_eq!(serde_json::to_value(o).unwrap(), o.as_str());
        }
        for r in [CheckResult::Passed, CheckResult::Failed, CheckResult::Skipped] {
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
    }

    #[test]
    fn a_tampered_claim_breaks_the_proof() {
        let mut vc = sign(&unsigned());
        vc["credentialSubject"]["claims"]["practice_area"] = json!("criminal");
        let v = verify(&vc, now(), &ledger());
        assert_only_failed(
            &v,
            &[
                ("proof", "signature does not verify"),
                (
                    "ledger_record",
                    "claims differ from the ledger's record of license LAW-2026.0001: practice_area",
                ),
            ],
        );
        assert_eq!(v.status, CredentialStatus::Invalid);
        // A tampered date is caught by the proof alone.
        let mut vc = sign(&unsigned());
        vc["validUntil"] = json!("2099-01-01T00:00:00Z");
        assert_only_failed(&verify(&vc, now(), &ledger()), &[("proof", "signature does not verify")]);
    }

    #[test]
    fn a_proof_for_another_purpose_is_refused() {
        let options = json!({
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-jcs-2022",
            "verificationMethod": VM,
            "proofPurpose": "authentication",
        });
        let vc = eddsa_jcs_2022::sign(&unsigned(), &options, &issuer_key()).unwrap();
        assert_only_failed(
            &verify(&vc, now(), &ledger()),
            &[("proof", "proof purpose is \"authentication\"")],
        );
        let mut vc = sign(&unsigned());
        vc["proof"].as_object_mut().unwrap().remove("proofPurpose");
        assert_only_failed(&verify(&vc, now(), &ledger()), &[("proof", "no proofPurpose")]);
    }

    #[test]
    fn a_verification_method_of_another_org_is_refused() {
        // Health's key is an active assertion method of health, but the issuer is justice.
        let vc = signed_by(&unsigned(), &health_key(), "did:civic:health#issuer");
        assert_only_failed(&verify(&vc, now(), &ledger()), &[("proof", "does not belong to the issuer")]);
        // Justice's method name with health's key: the signature does not verify.
        let vc = signed_by(&unsigned(), &health_key(), VM);
        assert_only_failed(&verify(&vc, now(), &ledger()), &[("proof", "signature does not verify")]);
        // An account that is not (or no longer) an assertion method.
        let vc = signed_by(&unsigned(), &issuer_key(), "did:civic:justice#clerk");
        assert_only_failed(&verify(&vc, now(), &ledger()), &[("proof", "is not an assertion method")]);
        // Names that are not account names never reach the ledger.
        for vm in ["did:civic:justice#../admin", "did:civic:justice#", "did:civic:justice"] {
            let vc = signed_by(&unsigned(), &issuer_key(), vm);
            let v = verify(&vc, now(), &ledger());
            assert_eq!(check(&v, "proof").result, CheckResult::Failed, "{vm}");
        }
    }

    #[test]
    fn an_untrusted_org_is_refused() {
        let mut ledger = ledger();
        ledger.trusted.clear();
        let v = verify(&sign(&unsigned()), now(), &ledger);
        assert_only_failed(
            &v,
            &[(
                "issuer_trusted",
                "organization justice is not a trusted issuer of license type lawyer-practice",
            )],
        );
        assert_eq!(v.status, CredentialStatus::Invalid);
        // Health signs a credential in its own name: authentic, but health is not trusted and
        // the ledger records the license as justice's.
        let mut doc = unsigned();
        doc["issuer"] = json!("did:civic:health");
        let v = verify(&signed_by(&doc, &health_key(), "did:civic:health#issuer"), now(), &self::ledger());
        assert_only_failed(
            &v,
            &[
                ("issuer_trusted", "organization health is not a trusted issuer"),
                ("ledger_record", "issued by did:civic:justice, not did:civic:health"),
                ("revocation", "not health's list"),
                ("suspension", "not health's list"),
            ],
        );
        // Not a license credential at all.
        let mut doc = unsigned();
        doc["type"] = json!(["VerifiableCredential"]);
        let v = verify(&sign(&doc), now(), &self::ledger());
        assert_only_failed(&v, &[("issuer_trusted", "is not a CivicLicenseCredential")]);
    }

    #[test]
    fn dates_outside_the_validity_period_expire_or_are_not_yet_valid() {
        let lic = the_license();
        let vc = sign(&unsigned());
        let after = UnixMillis::new(lic.valid_until.get() + 1);
        let v = verify(&vc, after, &ledger());
        assert_only_failed(&v, &[("validity_period", "expired at 2027-01-01T00:00:00Z")]);
        assert_eq!(v.status, CredentialStatus::Expired);
        let before = UnixMillis::new(lic.valid_from.get() - 1);
        let v = verify(&vc, before, &ledger());
        assert_only_failed(&v, &[("validity_period", "not valid before 2026-01-01T00:00:00Z")]);
        assert_eq!(v.status, CredentialStatus::NotYetValid);
        // A renewal on the ledger does not extend an older credential.
        let mut ledger = ledger();
        ledger.licenses.get_mut(&lic.license_id).unwrap().valid_until = UnixMillis::new(u64::MAX);
        assert_eq!(verify(&vc, after, &ledger).status, CredentialStatus::Expired);
        // Unparsable or missing dates make the credential invalid, not expired.
        for (field, value) in [
            ("validFrom", json!("2026-02-30T00:00:00Z")),
            ("validUntil", json!(17)),
            ("validFrom", Value::Null),
        ] {
            let mut doc = unsigned();
            if value.is_null() {
                doc.as_object_mut().unwrap().remove(field);
            } else {
                doc[field] = value;
            }
            let v = verify(&sign(&doc), now(), &ledger);
            assert_only_failed(&v, &[("validity_period", field)]);
            assert_eq!(v.status, CredentialStatus::Invalid);
        }
    }

    #[test]
    fn a_license_missing_from_the_ledger_or_different_there_is_invalid() {
        let vc = sign(&unsigned());
        let mut empty = ledger();
        empty.licenses.clear();
        let v = verify(&vc, now(), &empty);
        assert_only_failed(&v, &[("ledger_record", "license LAW-2026.0001 is not recorded on this ledger")]);
        assert_eq!(v.status, CredentialStatus::Invalid);

        let changes: [(&str, fn(&mut License)); 5] = [
            ("claims differ from the ledger's record of license LAW-2026.0001: law_firm", |l| {
                l.claims.insert("law_firm".into(), "Other LLP".into());
            }),
            ("claims differ from the ledger's record of license LAW-2026.0001: extra", |l| {
                l.claims.insert("extra".into(), "x".into());
            }),
            ("claims differ from the ledger's record of license LAW-2026.0001: holder_name", |l| {
                l.claims.remove("holder_name");
            }),
            ("credentialSubject.id is not the holder", |l| {
                l.holder = format!("did:key:{}", multikey(&SecretKey::from_seed(&[5; 32]).public_key()));
            }),
            ("as of type other-type", |l| l.type_id = "other-type".into()),
        ];
        for (want, change) in changes {
            let mut ledger = ledger();
            change(ledger.licenses.get_mut("LAW-2026.0001").unwrap());
            let v = verify(&vc, now(), &ledger);
            let c = check(&v, "ledger_record");
            assert_eq!(c.result, CheckResult::Failed, "{want}");
            assert!(c.detail.contains(want), "{want}: {}", c.detail);
            assert_eq!(v.status, CredentialStatus::Invalid);
        }
    }

    #[test]
    fn set_status_bits_revoke_and_suspend() {
        let lic = the_license();
        let vc = sign(&unsigned());
        let mut ledger = ledger();
        ledger.set_bit(&lic, StatusPurpose::Suspension);
        let v = verify(&vc, now(), &ledger);
        assert_only_failed(
            &v,
            &[(
                "suspension",
                "the license is suspended: bit 5 of justice.lawyer-practice.suspension.1 is set",
            )],
        );
        assert_eq!(v.status, CredentialStatus::Suspended);
        ledger.set_bit(&lic, StatusPurpose::Revocation);
        let v = verify(&vc, now(), &ledger);
        assert_only_failed(
            &v,
            &[
                (
                    "revocation",
                    "the license is revoked: bit 5 of justice.lawyer-practice.revocation.1 is set",
                ),
                ("suspension", "suspended"),
            ],
        );
        assert_eq!(v.status, CredentialStatus::Revoked);
        // Revoked takes precedence over expired.
        let v = verify(&vc, UnixMillis::new(lic.valid_until.get() + 1), &ledger);
        assert_eq!(v.status, CredentialStatus::Revoked);
        // A neighbouring license's bit does not affect this one.
        let mut ledger = self::ledger();
        ledger.set_bit(&license(LIST_ENTRIES + 6), StatusPurpose::Revocation);
        ledger.set_bit(&license(5), StatusPurpose::Revocation);
        assert!(verify(&vc, now(), &ledger).is_valid());
    }

    #[test]
    fn status_entries_must_exist_and_point_at_the_licenses_own_bit() {
        // Only the revocation entry, as a single object.
        let mut doc = unsigned();
        doc["credentialStatus"] = doc["credentialStatus"][0].clone();
        assert_only_failed(
            &verify(&sign(&doc), now(), &ledger()),
            &[("suspension", "the credential has no suspension status entry")],
        );
        let mut doc = unsigned();
        doc.as_object_mut().unwrap().remove("credentialStatus");
        assert_only_failed(
            &verify(&sign(&doc), now(), &ledger()),
            &[("revocation", "no revocation status entry"), ("suspension", "no suspension status entry")],
        );
        let mut doc = unsigned();
        doc["credentialStatus"][1]["statusPurpose"] = json!("revocation");
        assert_only_failed(
            &verify(&sign(&doc), now(), &ledger()),
            &[
                ("revocation", "more than one revocation status entry"),
                ("suspension", "no suspension status entry"),
            ],
        );

        let with_entry = |field: &str, value: Value| {
            let mut doc = unsigned();
            doc["credentialStatus"][0][field] = value;
            verify(&sign(&doc), now(), &ledger())
        };
        let other_list = |id: &str| json!(format!("{BASE}/v1/status-lists/{id}"));
        let cases = [
            ("statusListIndex", json!("6"), "names another license's bit"),
            ("statusListIndex", json!("131072"), "outside the list"),
            ("statusListIndex", json!("05"), "not a decimal string"),
            ("statusListIndex", json!("-1"), "not a decimal string"),
            ("statusListIndex", json!(5), "not a decimal string"),
            (
                "statusListCredential",
                other_list("justice.lawyer-practice.revocation.0"),
                "names another license's bit",
            ),
            (
                "statusListCredential",
                other_list("justice.other-type.revocation.1"),
                "not justice's list for license type lawyer-practice",
            ),
            ("statusListCredential", other_list("health.lawyer-practice.revocation.1"), "not justice's list"),
            (
                "statusListCredential",
                other_list("justice.lawyer-practice.suspension.1"),
                "points at a suspension list",
            ),
            (
                "statusListCredential",
                json!("https://evil.example/list.json"),
                "is not a status list of this ledger",
            ),
            ("statusListCredential", json!(["x"]), "has no statusListCredential URL"),
        ];
        for (field, value, want) in cases {
            let v = with_entry(field, value.clone());
            assert_only_failed(&v, &[("revocation", want)]);
            assert_eq!(v.status, CredentialStatus::Invalid, "{field} = {value}");
        }
        // Pointing at a revoked neighbour is still refused, not reported as revoked.
        let mut ledger = ledger();
        ledger.set_bit(&license(LIST_ENTRIES + 6), StatusPurpose::Revocation);
        let mut doc = unsigned();
        doc["credentialStatus"][0]["statusListIndex"] = json!("6");
        let v = verify(&sign(&doc), now(), &ledger);
        assert_eq!(v.status, CredentialStatus::Invalid);
        // Another node's host is fine: the bits come from the verifier's own ledger.
        let mut doc = unsigned();
        for i in 0..2 {
            let url = doc["credentialStatus"][i]["statusListCredential"]
                .as_str()
                .unwrap()
                .replace(BASE, "http://10.0.0.7:8080");
            doc["credentialStatus"][i]["statusListCredential"] = json!(url);
        }
        assert!(verify(&sign(&doc), now(), &self::ledger()).is_valid());
    }

    #[test]
    fn a_did_key_issuer_is_not_trusted() {
        let key = SecretKey::from_seed(&[7; 32]);
        let mk = multikey(&key.public_key());
        let did = format!("did:key:{mk}");
        let mut doc = unsigned();
        doc["issuer"] = json!(did);
        let v = verify(&signed_by(&doc, &key, &format!("{did}#{mk}")), now(), &ledger());
        let results: Vec<CheckResult> = v.checks.iter().map(|c| c.result).collect();
        use CheckResult::{Failed, Passed, Skipped};
        assert_eq!(results, [Passed, Passed, Failed, Passed, Failed, Skipped, Skipped], "{v:#?}");
        assert_eq!(check(&v, "proof").detail, format!("signed by {did}#{mk} (eddsa-jcs-2022)"));
        let want = format!("issuer {did} is not an organization of this ledger (expected did:civic:<org>)");
        assert_eq!(check(&v, "issuer_trusted").detail, want);
        assert_eq!(v.reason, Some(want));
        assert!(check(&v, "ledger_record").detail.contains("issued by did:civic:justice"));
        assert_eq!(v.status, CredentialStatus::Invalid);
        // The did:key fragment must be the key itself.
        let other = multikey(&SecretKey::from_seed(&[8; 32]).public_key());
        let v = verify(&signed_by(&doc, &key, &format!("{did}#{other}")), now(), &ledger());
        assert!(check(&v, "proof").detail.contains("is not the did:key's key"), "{v:#?}");
        // A DID of an unknown method.
        doc["issuer"] = json!("did:web:example.com");
        let v = verify(&signed_by(&doc, &key, "did:web:example.com#key-1"), now(), &ledger());
        assert!(check(&v, "proof").detail.contains("not supported"), "{v:#?}");
    }

    #[test]
    fn an_unreachable_ledger_fails_the_checks_that_ask_it() {
        let mut ledger = ledger();
        ledger.down = Some("connection refused".into());
        let v = verify(&sign(&unsigned()), now(), &ledger);
        assert_only_failed(
            &v,
            &[
                ("proof", "could not be asked for the key of did:civic:justice#issuer: connection refused"),
                ("issuer_trusted", "connection refused"),
                ("ledger_record", "connection refused"),
                ("revocation", "connection refused"),
                ("suspension", "connection refused"),
            ],
        );
        assert_eq!(v.status, CredentialStatus::Invalid);
    }

    #[test]
    fn malformed_credentials_fail_structure_and_skip_the_rest() {
        let good = sign(&unsigned());
        let without = |k: &str| {
            let mut d = good.clone();
            d.as_object_mut().unwrap().remove(k);
            d
        };
        let with = |k: &str, v: Value| {
            let mut d = good.clone();
            d[k] = v;
            d
        };
        let cases = [
            (Value::Null, "not a JSON object"),
            (json!([good.clone()]), "not a JSON object"),
            (json!("credential"), "not a JSON object"),
            (json!({}), "@context"),
            (without("@context"), "@context"),
            (with("@context", json!(VC_CONTEXT_V2)), "@context"),
            (with("@context", json!([])), "@context"),
            (with("@context", json!(["https://www.w3.org/2018/credentials/v1"])), "@context"),
            (without("type"), "VerifiableCredential"),
            (with("type", json!("VerifiableCredential")), "VerifiableCredential"),
            (with("type", json!(["CivicLicenseCredential"])), "VerifiableCredential"),
            (without("issuer"), "issuer"),
            (with("issuer", json!(7)), "issuer"),
            (with("issuer", json!({"name": "Justice"})), "issuer"),
            (without("credentialSubject"), "credentialSubject"),
            (with("credentialSubject", json!([good["credentialSubject"].clone()])), "credentialSubject"),
        ];
        for (doc, want) in cases {
            let v = verify(&doc, now(), &ledger());
            assert_eq!(v.checks[0].result, CheckResult::Failed, "{doc}");
            assert!(v.checks[0].detail.contains(want), "{}: {}", want, v.checks[0].detail);
            assert!(
                v.checks[1..]
                    .iter()
                    .all(|c| c.result == CheckResult::Skipped && c.detail == "the credential is malformed")
            );
            assert_eq!(v.checks.len(), CHECK_NAMES.len());
            assert_eq!(v.status, CredentialStatus::Invalid);
            assert_eq!(v.reason.as_deref(), Some(v.checks[0].detail.as_str()));
            assert_eq!((v.license_id, v.issuer, v.holder), (None, None, None));
        }
        // An issuer object with an id is well formed (and then fails only the proof, which
        // signed the string form).
        let v = verify(&with("issuer", json!({"id": "did:civic:justice"})), now(), &ledger());
        assert_only_failed(&v, &[("proof", "signature does not verify")]);
        assert_only_failed(&verify(&without("proof"), now(), &ledger()), &[("proof", "no proof")]);
        assert_only_failed(
            &verify(&with("proof", json!([good["proof"].clone()])), now(), &ledger()),
            &[("proof", "proof sets")],
        );
    }

    /// Every value in `v` replaced by each of a few values of other shapes, one at a time.
    fn reshaped(v: &Value) -> Vec<Value> {
        let others = [Value::Null, json!(1), json!("x"), json!([]), json!({}), json!([{}])];
        let mut out: Vec<Value> = others.iter().filter(|o| *o != v).cloned().collect();
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    for changed in reshaped(child) {
                        let mut m = map.clone();
                        m.insert(k.clone(), changed);
                        out.push(Value::Object(m));
                    }
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    for changed in reshaped(child) {
                        let mut a = items.clone();
                        a[i] = changed;
                        out.push(Value::Array(a));
                    }
                }
            }
            _ => {}
        }
        out
    }

    #[test]
    fn no_reshaped_credential_panics_or_verifies() {
        let good = sign(&unsigned());
        let all = reshaped(&good);
        assert!(all.len() > 200, "only {}", all.len());
        let ledger = ledger();
        for doc in all {
            let v = verify(&doc, now(), &ledger);
            assert!(!v.is_valid(), "accepted {doc:#}");
            assert_eq!(v.checks.len(), CHECK_NAMES.len());
            assert!(v.reason.is_some());
        }
    }
}
