//! `civic license …`: the license registry and lifecycle as signed transactions, the views, the
//! credential export, and offline verification of a credential file against a node's published
//! state (DID documents, the trusted-issuer registry, the license record and the signed status
//! list credentials), with the same checks the node's own verification endpoint makes.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use civic_api::dto::{LicenseDetailDto, LicenseDto};
use civic_ledger::Call;
use civic_licenses::credential::{self, StatusListId};
use civic_licenses::verify::{self, LedgerView, Verification};
use civic_licenses::{License, LicenseCall, Status, UsageVerifier, Verdict};
use civic_node::keyfile::KeyFile;
use civic_node::now_ms;
use civic_types::{AccountId, Height, OrgId, PublicKey, UnixMillis};
use civic_vc::status_list::BitString;
use serde_json::Value;

use crate::client::Client;
use crate::commands::{Ctx, key_path, print_submitted, sign_and_submit};

/// A date (`YYYY-MM-DD`, midnight UTC) or an RFC 3339 time, in Unix milliseconds.
pub fn parse_time(what: &str, s: &str) -> Result<UnixMillis> {
    let full = if s.len() == 10 { format!("{s}T00:00:00Z") } else { s.to_owned() };
    credential::parse_rfc3339(&full)
        .ok_or_else(|| anyhow!("{what} {s:?} is not a date (YYYY-MM-DD) or an RFC 3339 time"))
}

fn submit(ctx: &Ctx, call: &LicenseCall) -> Result<()> {
    let answer = sign_and_submit(ctx, Call::new(call), true)?;
    print_submitted(ctx, &answer);
    if answer["receipt"]["status"] == "rejected" {
        bail!("the ledger rejected the transaction: {}", answer["receipt"]["reason"].as_str().unwrap_or(""));
    }
    Ok(())
}

/// `civic license register-type`.
pub fn register_type(ctx: &Ctx, type_id: &str, name: &str, schema: &Path) -> Result<()> {
    let text = std::fs::read_to_string(schema).with_context(|| format!("reading {}", schema.display()))?;
    civic_licenses::schema::ClaimSchema::parse(&text).with_context(|| format!("{}", schema.display()))?;
    submit(ctx, &LicenseCall::RegisterType { type_id: type_id.into(), name: name.into(), schema: text })
}

/// `civic license trust` / `distrust`.
pub fn trust(ctx: &Ctx, type_id: &str, org: &str, trusted: bool) -> Result<()> {
    let org = OrgId::new(org)?;
    let call = if trusted {
        LicenseCall::TrustIssuer { type_id: type_id.into(), org }
    } else {
        LicenseCall::DistrustIssuer { type_id: type_id.into(), org }
    };
    submit(ctx, &call)
}

/// Options of `civic license issue`.
pub struct IssueArgs<'a> {
    pub id: &'a str,
    pub type_id: &'a str,
    pub holder: &'a str,
    pub claims: &'a [String],
    pub valid_from: Option<&'a str>,
    pub valid_until: &'a str,
}

/// `civic license issue`.
pub fn issue(ctx: &Ctx, a: IssueArgs<'_>) -> Result<()> {
    match a.holder.parse::<civic_identity::Did>() {
        Ok(civic_identity::Did::Key(_)) => {}
        Ok(_) => bail!("--holder must be the holder's did:key (civic identity new), not an organization DID"),
        Err(e) => bail!("--holder: {e}"),
    }
    let mut claims = BTreeMap::new();
    for c in a.claims {
        let (k, v) = c.split_once('=').ok_or_else(|| anyhow!("claim {c:?} is not name=value"))?;
        if claims.insert(k.to_owned(), v.to_owned()).is_some() {
            bail!("claim {k} is given twice");
        }
    }
    let valid_from = match a.valid_from {
        Some(s) => parse_time("--valid-from", s)?,
        None => now_ms(),
    };
    let valid_until = parse_time("--valid-until", a.valid_until)?;
    submit(
        ctx,
        &LicenseCall::Issue {
            license_id: a.id.into(),
            type_id: a.type_id.into(),
            holder: a.holder.into(),
            claims,
            valid_from,
            valid_until,
        },
    )
}

/// `civic license renew|suspend|reinstate|revoke`.
pub fn act(ctx: &Ctx, action: &str, id: &str, reason: &str, valid_until: Option<&str>) -> Result<()> {
    let (license_id, reason) = (id.to_owned(), reason.to_owned());
    let call = match action {
        "renew" => LicenseCall::Renew {
            license_id,
            reason,
            valid_until: parse_time(
                "--valid-until",
                valid_until.ok_or_else(|| anyhow!("renew needs --valid-until"))?,
            )?,
        },
        "suspend" => LicenseCall::Suspend { license_id, reason },
        "reinstate" => LicenseCall::Reinstate { license_id, reason },
        "revoke" => LicenseCall::Revoke { license_id, reason },
        other => bail!("unknown action {other}"),
    };
    submit(ctx, &call)
}

pub(crate) fn signer_of(path: &Path) -> Result<(String, civic_types::SecretKey)> {
    let kf = KeyFile::read(path)?;
    let key = kf.secret().map_err(anyhow::Error::msg)?;
    let signer = match &kf.account {
        Some(a) => a.to_string(),
        None => civic_identity::Did::key(key.public_key()).to_string(),
    };
    Ok((signer, key))
}

/// `civic license show`: signed with --key when given, so the holder, the issuer and auditors
/// also see usage records.
pub fn show(ctx: &Ctx, id: &str) -> Result<()> {
    let path = format!("/v1/licenses/{id}");
    let v: Value = match &ctx.key {
        Some(k) => {
            let (signer, key) = signer_of(k)?;
            ctx.client().get_signed(&path, &signer, &key)?
        }
        None => ctx.client().get(&path)?,
    };
    let d: LicenseDetailDto = serde_json::from_value(v.clone()).context("unexpected license answer")?;
    ctx.print(&v, || {
        let l = &d.license;
        let mut out = format!(
            "{} ({}) — {}\n  holder   {}\n  issuer   {} (by {})\n  valid    {} to {}\n",
            l.license_id,
            l.type_id,
            l.effective_status.to_uppercase(),
            l.holder,
            l.issuer,
            l.issued_by,
            credential::rfc3339(UnixMillis::new(l.valid_from_ms)),
            credential::rfc3339(UnixMillis::new(l.valid_until_ms)),
        );
        for (k, v) in &l.claims {
            out.push_str(&format!("  {k:<16} {v}\n"));
        }
        out.push_str("management records:\n");
        for r in &d.management_records {
            out.push_str(&format!(
                "  #{} height {} {:<9} by {} → {}{}\n",
                r.seq,
                r.height,
                r.action,
                r.actor,
                r.status,
                r.reason.as_deref().map(|x| format!(": {x}")).unwrap_or_default()
            ));
        }
        match &d.usage_records {
            Some(us) => {
                out.push_str(&format!("usage records ({}):\n", d.usage_count));
                for u in us {
                    out.push_str(&format!(
                        "  #{} height {} {} for {:?}: {}{}\n",
                        u.seq,
                        u.height,
                        u.verifier,
                        u.purpose,
                        u.verdict,
                        u.reason.as_deref().map(|x| format!(" ({x})")).unwrap_or_default()
                    ));
                }
            }
            None => out.push_str(&format!(
                "usage records: {} (shown to the holder, the issuer and auditors: pass --key)\n",
                d.usage_count
            )),
        }
        out.push_str(&format!("credential: {}\npublic page: {}", d.credential_url, d.verification_url));
        out
    });
    Ok(())
}

/// `civic license list`.
pub fn list(ctx: &Ctx, filters: &[(&str, Option<&str>)]) -> Result<()> {
    let mut query: Vec<String> = filters
        .iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k}={}", crate::client::query_value(v))))
        .collect();
    query.push("limit=100".into());
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut q = query.clone();
        if let Some(a) = &after {
            q.push(format!("after={}", crate::client::query_value(a)));
        }
        let page: Value = ctx.client().get(&format!("/v1/licenses?{}", q.join("&")))?;
        all.extend(page["licenses"].as_array().cloned().unwrap_or_default());
        match page["next"].as_str() {
            Some(n) => after = Some(n.to_owned()),
            None => break,
        }
    }
    let v = Value::Array(all);
    ctx.print(&v, || {
        let rows: Vec<LicenseDto> = serde_json::from_value(v.clone()).unwrap_or_default();
        let mut out = format!("{} license(s)", rows.len());
        for l in rows {
            out.push_str(&format!(
                "\n{:<20} {:<16} {:<13} {} until {}",
                l.license_id,
                l.type_id,
                l.effective_status,
                l.holder,
                credential::rfc3339(UnixMillis::new(l.valid_until_ms))
            ));
        }
        out
    });
    Ok(())
}

/// `civic license credential`: the signed VC, to stdout or a file.
pub fn credential(ctx: &Ctx, id: &str, out: Option<&Path>) -> Result<()> {
    let vc: Value = ctx.client().get(&format!("/v1/licenses/{id}/credential"))?;
    let text = serde_json::to_string_pretty(&vc)?;
    match out {
        Some(p) => {
            std::fs::write(p, text + "\n").with_context(|| format!("writing {}", p.display()))?;
            eprintln!("wrote {}", p.display());
        }
        None => println!("{text}"),
    }
    Ok(())
}

/// The ledger as a node publishes it over HTTP: DID documents, state values, license records
/// and signed status list credentials (each list's own proof is verified before its bits are
/// believed).
struct PublishedLedger {
    client: Client,
    lists: RefCell<BTreeMap<StatusListId, Result<BitString, String>>>,
}

impl PublishedLedger {
    fn did_key(&self, org: &OrgId, name: &str) -> Result<Option<PublicKey>, String> {
        let v: Value = self.client.get(&format!("/v1/dids/did:civic:{org}")).map_err(|e| e.to_string())?;
        let doc = &v["didDocument"];
        let vm = format!("did:civic:{org}#{name}");
        let asserts = doc["assertionMethod"].as_array().is_some_and(|a| a.iter().any(|x| *x == vm));
        if !asserts {
            return Ok(None);
        }
        let key = doc["verificationMethod"]
            .as_array()
            .and_then(|vms| vms.iter().find(|m| m["id"] == vm.as_str()))
            .and_then(|m| m["publicKeyMultibase"].as_str())
            .and_then(|mk| civic_identity::did::parse_multikey(mk).ok());
        Ok(key)
    }

    fn fetch_list(&self, list: &StatusListId) -> Result<BitString, String> {
        let vc: Value = self.client.get(&format!("/v1/status-lists/{list}")).map_err(|e| e.to_string())?;
        if vc["issuer"] != format!("did:civic:{}", list.org).as_str() {
            return Err(format!("status list {list} is not issued by did:civic:{}", list.org));
        }
        civic_vc::eddsa_jcs_2022::verify(&vc, |vm| {
            let (did, name) = vm.split_once('#')?;
            (did == format!("did:civic:{}", list.org)).then_some(())?;
            self.did_key(&list.org, name).ok().flatten()
        })
        .map_err(|e| format!("status list {list}: {e}"))?;
        if vc["credentialSubject"]["statusPurpose"] != list.purpose.as_str() {
            return Err(format!("status list {list} has another purpose"));
        }
        let encoded =
            vc["credentialSubject"]["encodedList"].as_str().ok_or("the status list has no encodedList")?;
        BitString::decode(encoded).map_err(|e| format!("status list {list}: {e}"))
    }
}

impl LedgerView for PublishedLedger {
    fn civic_assertion_key(&self, org: &OrgId, account_name: &str) -> Result<Option<PublicKey>, String> {
        self.did_key(org, account_name)
    }

    fn is_trusted_issuer(&self, type_id: &str, org: &OrgId) -> Result<bool, String> {
        let v: Value = self
            .client
            .get(&format!("/v1/state/{}", civic_licenses::keys::issuer(type_id, org)))
            .map_err(|e| e.to_string())?;
        Ok(!v["value"].is_null())
    }

    fn license(&self, license_id: &str) -> Result<Option<License>, String> {
        let v: Value = match self.client.get(&format!("/v1/licenses/{license_id}")) {
            Ok(v) => v,
            Err(e) if e.to_string().contains(" 404 ") => return Ok(None),
            Err(e) => return Err(e.to_string()),
        };
        let d: LicenseDetailDto = serde_json::from_value(v).map_err(|e| e.to_string())?;
        license_from(&d.license).map(Some)
    }

    fn status_bit(&self, list: &StatusListId, position: u64) -> Result<bool, String> {
        let mut lists = self.lists.borrow_mut();
        let bits = lists.entry(list.clone()).or_insert_with(|| self.fetch_list(list));
        let bits = bits.as_ref().map_err(Clone::clone)?;
        bits.get(position as usize).map_err(|e| e.to_string())
    }
}

fn license_from(l: &LicenseDto) -> Result<License, String> {
    let status = match l.status.as_str() {
        "active" => Status::Active,
        "suspended" => Status::Suspended,
        "revoked" => Status::Revoked,
        other => return Err(format!("unknown license status {other:?}")),
    };
    let org = l.issuer.strip_prefix("did:civic:").ok_or("the issuer is not a did:civic")?;
    Ok(License {
        license_id: l.license_id.clone(),
        type_id: l.type_id.clone(),
        holder: l.holder.clone(),
        claims: l.claims.clone(),
        issuer_org: OrgId::new(org).map_err(|e| e.to_string())?,
        issued_by: AccountId::new(&l.issued_by).map_err(|e| e.to_string())?,
        valid_from: UnixMillis::new(l.valid_from_ms),
        valid_until: UnixMillis::new(l.valid_until_ms),
        status,
        status_index: l.status_index,
        version: l.version,
        issued_height: Height::new(l.issued_height),
        issued_at: UnixMillis::new(l.issued_at_ms),
        updated_at: UnixMillis::new(l.updated_at_ms),
    })
}

fn verification_text(file: &Path, v: &Verification) -> String {
    let mut out =
        format!("{}: {} ({})", file.display(), v.verdict.as_str().to_uppercase(), v.status.as_str());
    if let Some(r) = &v.reason {
        out.push_str(&format!(" — {r}"));
    }
    for c in &v.checks {
        out.push_str(&format!("\n  {:<8} {:<16} {}", c.result.as_str(), c.name, c.detail));
    }
    out
}

/// `civic license verify FILE`: verifies a credential here, against the node's published state;
/// with --key (an account), records the verification on chain as that account's.
pub fn verify_file(ctx: &Ctx, file: &Path, purpose: &str) -> Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let vc: Value = serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    let ledger = PublishedLedger { client: ctx.client(), lists: RefCell::default() };
    let v = verify::verify(&vc, now_ms(), &ledger);
    let mut usage = Value::Null;
    if ctx.key.is_some() {
        let on_ledger =
            v.license_id.as_deref().map(|id| ledger.license(id)).transpose().map_err(anyhow::Error::msg)?;
        if let (Some(id), Some(Some(_))) = (&v.license_id, on_ledger) {
            let kf = KeyFile::read(key_path(ctx)?)?;
            let account = kf.account.ok_or_else(|| {
                anyhow!("--key must be an account key to record the verification (or omit --key)")
            })?;
            let verdict = if v.is_valid() {
                Verdict::Valid
            } else {
                let mut reason = v.reason.clone().unwrap_or_else(|| "invalid".into());
                while reason.len() > civic_licenses::module::MAX_REASON {
                    reason.pop();
                }
                Verdict::Invalid { reason }
            };
            let call = LicenseCall::RecordUsage {
                license_id: id.clone(),
                verifier: UsageVerifier::Account(account),
                purpose: purpose.to_owned(),
                verdict,
            };
            usage = sign_and_submit(ctx, Call::new(&call), true)?;
        }
    }
    let mut out = serde_json::to_value(&v)?;
    out["usage"] = usage.clone();
    ctx.print(&out, || {
        let mut t = verification_text(file, &v);
        match usage["hash"].as_str() {
            Some(h) => t.push_str(&format!("\nusage recorded in transaction {h}")),
            None if ctx.key.is_none() => {
                t.push_str("\n(not recorded: pass --key with your account key to record this verification)")
            }
            None => {}
        }
        t
    });
    if !v.is_valid() {
        bail!("the credential is not valid: {}", v.reason.as_deref().unwrap_or("invalid"));
    }
    Ok(())
}
