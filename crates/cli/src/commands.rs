//! The client commands: keys, transactions, blocks, status, governance, proofs.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use civic_ledger::modules::membership::MembershipCall;
use civic_ledger::modules::notary::NotaryCall;
use civic_ledger::{Call, ModuleCall, Transaction};
use civic_node::keyfile::KeyFile;
use civic_types::{AccountId, ChainId, Hash32, Nonce, SecretKey, sha256};
use serde_json::{Value, json};

use crate::client::Client;

/// Global options.
pub struct Ctx {
    pub node: String,
    pub key: Option<PathBuf>,
    pub json: bool,
}

impl Ctx {
    pub(crate) fn client(&self) -> Client {
        Client::new(&self.node)
    }

    pub(crate) fn print(&self, v: &Value, text: impl FnOnce() -> String) {
        if self.json {
            println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
        } else {
            println!("{}", text());
        }
    }
}

/// `civic keys new`.
pub fn keys_new(ctx: &Ctx, out: &Path, account: Option<&str>) -> Result<()> {
    let account = account.map(AccountId::new).transpose()?;
    if out.exists() {
        bail!("{} already exists; choose another --out (keys are never overwritten)", out.display());
    }
    let key = SecretKey::generate()?;
    KeyFile::new(account.clone(), &key).write(out)?;
    let v = json!({ "file": out, "account": account, "public_key": key.public_key() });
    ctx.print(&v, || format!("wrote {}\npublic key {}", out.display(), key.public_key()));
    Ok(())
}

/// `civic keys show`.
pub fn keys_show(ctx: &Ctx, file: &Path) -> Result<()> {
    let kf = KeyFile::read(file)?;
    let v = json!({ "file": file, "account": kf.account, "public_key": kf.public_key });
    ctx.print(&v, || {
        format!(
            "account    {}\npublic key {}",
            kf.account.as_ref().map_or("(none)".to_owned(), |a| a.to_string()),
            kf.public_key
        )
    });
    Ok(())
}

/// `civic keys list`.
pub fn keys_list(ctx: &Ctx, dir: &Path) -> Result<()> {
    let mut rows = Vec::new();
    let entries = std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths.into_iter().filter(|p| p.extension().is_some_and(|e| e == "json")) {
        if let Ok(kf) = KeyFile::read(&p) {
            rows.push(json!({ "file": p, "account": kf.account, "public_key": kf.public_key }));
        }
    }
    ctx.print(&Value::Array(rows.clone()), || {
        rows.iter()
            .map(|r| {
                format!(
                    "{:<32} {}  {}",
                    r["account"].as_str().unwrap_or("(no account)"),
                    r["public_key"].as_str().unwrap_or(""),
                    r["file"].as_str().unwrap_or("")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}

/// The chain id of the node `client` talks to.
fn chain_id_of(client: &Client) -> Result<ChainId> {
    let status: Value = client.get("/v1/status")?;
    serde_json::from_value(status["chain_id"].clone()).context("the node's status has no chain_id")
}

/// Signs `call` with the --key account and submits it, waiting for the commit when `wait`.
pub(crate) fn sign_and_submit(ctx: &Ctx, call: Call, wait: bool) -> Result<Value> {
    let client = ctx.client();
    let path = ctx.key.as_deref().ok_or_else(|| {
        anyhow!(
            "this command signs a transaction: pass --key FILE (e.g. civic-dev-data/keys/justice.admin.json)"
        )
    })?;
    let (tx, _) = account_tx(&client, path, call)?;
    let path = if wait { "/v1/txs?wait=commit" } else { "/v1/txs" };
    let (_, answer): (u16, Value) = client.post(path, &json!({ "tx": B64.encode(tx.to_bytes()) }))?;
    Ok(answer)
}

pub(crate) fn print_submitted(ctx: &Ctx, answer: &Value) {
    ctx.print(answer, || {
        let hash = answer["hash"].as_str().unwrap_or("?");
        match answer["receipt"]["status"].as_str() {
            Some("ok") => format!("committed {hash} at height {}", answer["height"]),
            Some("rejected") => {
                let r = &answer["receipt"];
                format!(
                    "committed {hash} at height {} but REJECTED ({}): {}",
                    answer["height"],
                    r["code"].as_str().unwrap_or(""),
                    r["reason"].as_str().unwrap_or("")
                )
            }
            _ => format!("submitted {hash} ({})", answer["status"].as_str().unwrap_or("pending")),
        }
    });
}

/// `civic tx submit`.
pub fn tx_submit(ctx: &Ctx, module: &str, call: &str, wait: bool) -> Result<()> {
    let call_json: Value = serde_json::from_str(call).context("the call is not valid JSON")?;
    // Modules check calls against the chain they are for (e.g. a resident's consent names it).
    let chain_id = chain_id_of(&ctx.client())?;
    let executor = civic_node::runtime::executor(chain_id);
    let call = executor.call_from_json(module, call_json).map_err(|e| anyhow!("{e}"))?;
    let answer = sign_and_submit(ctx, call, wait)?;
    print_submitted(ctx, &answer);
    Ok(())
}

/// `civic tx show`.
pub fn tx_show(ctx: &Ctx, hash: &str) -> Result<()> {
    let h: Hash32 = hash.parse()?;
    let v: Value = ctx.client().get(&format!("/v1/txs/{h}"))?;
    ctx.print(&v, || serde_json::to_string_pretty(&v).unwrap_or_default());
    Ok(())
}

/// `civic block show`.
pub fn block_show(ctx: &Ctx, height: &str) -> Result<()> {
    let client = ctx.client();
    let h = if height == "latest" {
        let s: Value = client.get("/v1/status")?;
        s["height"].as_u64().ok_or_else(|| anyhow!("status has no height"))?
    } else {
        height.parse().map_err(|_| anyhow!("height must be a number or `latest`, got {height:?}"))?
    };
    let v: Value = client.get(&format!("/v1/blocks/{h}"))?;
    ctx.print(&v, || serde_json::to_string_pretty(&v).unwrap_or_default());
    Ok(())
}

/// `civic status`.
pub fn status(ctx: &Ctx) -> Result<()> {
    let v: Value = ctx.client().get("/v1/status")?;
    ctx.print(&v, || {
        format!(
            "chain      {}\nheight     {}\nlatest     {}\nstate root {}\nmempool    {}\nvalidators {}",
            v["chain_id"].as_str().unwrap_or("?"),
            v["height"],
            v["latest_block_hash"].as_str().unwrap_or("?"),
            v["state_root"].as_str().unwrap_or("?"),
            v["mempool_size"],
            v["validators"].as_array().map_or(0, |a| a.len())
        )
    });
    Ok(())
}

/// `civic gov proposals`.
pub fn gov_proposals(ctx: &Ctx) -> Result<()> {
    let v: Value = ctx.client().get("/v1/membership/proposals")?;
    ctx.print(&v, || serde_json::to_string_pretty(&v).unwrap_or_default());
    Ok(())
}

/// `civic gov vote`.
pub fn gov_vote(ctx: &Ctx, id: u64, approve: bool) -> Result<()> {
    let answer = sign_and_submit(ctx, Call::new(&MembershipCall::Vote { proposal: id, approve }), true)?;
    print_submitted(ctx, &answer);
    Ok(())
}

/// `civic notarize`.
pub fn notarize(ctx: &Ctx, file: &Path, label: &str) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let digest = sha256(&bytes);
    let label = if label.is_empty() {
        file.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    } else {
        label.to_owned()
    };
    let call = NotaryCall::Notarize { digest, label };
    debug_assert_eq!(NotaryCall::MODULE, "notary");
    let answer = sign_and_submit(ctx, Call::new(&call), true)?;
    print_submitted(ctx, &answer);
    Ok(())
}

/// `civic proof verify`.
pub fn proof_verify(
    ctx: &Ctx,
    file: Option<&Path>,
    tx: Option<&str>,
    block_hash: Option<&str>,
    validators: &[String],
) -> Result<()> {
    let validators =
        validators.iter().map(|v| v.parse::<civic_types::PublicKey>()).collect::<Result<Vec<_>, _>>()?;
    let proof: Value = match (file, tx) {
        (Some(f), _) => {
            let text = std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
            serde_json::from_str(&text).with_context(|| format!("{} is not JSON", f.display()))?
        }
        (None, Some(h)) => {
            let h: Hash32 = h.parse()?;
            ctx.client().get(&format!("/v1/txs/{h}/proof"))?
        }
        (None, None) => bail!("pass a proof file or --tx HASH"),
    };
    let report = crate::proofcheck::check(&proof, block_hash, &validators)?;
    ctx.print(&report, || {
        let mut s = String::new();
        for c in report["checks"].as_array().into_iter().flatten() {
            s.push_str(&format!("ok  {}\n", c.as_str().unwrap_or("")));
        }
        s.push_str("VALID: the transaction is included in the block");
        s
    });
    Ok(())
}

/// `civic proof checkpoint`.
pub fn proof_checkpoint(ctx: &Ctx) -> Result<()> {
    let v: Value = ctx.client().get("/v1/chain/log")?;
    ctx.print(&v, || format!("size {}\nroot {}", v["size"], v["root"].as_str().unwrap_or("?")));
    Ok(())
}

/// `civic proof consistency`.
pub fn proof_consistency(ctx: &Ctx, size: u64, root: &str) -> Result<()> {
    let trusted: Hash32 = root.parse()?;
    let doc: civic_api::dto::BlockLogConsistencyDto =
        ctx.client().get(&format!("/v1/chain/log/consistency?old={size}"))?;
    if doc.old_root != trusted.to_hex() {
        bail!(
            "INVALID: the node's block log at size {size} has root {}, not your checkpoint's {trusted}: history was rewritten or the checkpoint is from another chain",
            doc.old_root
        );
    }
    doc.verify().map_err(|e| anyhow!("INVALID consistency proof: {e}"))?;
    let v = json!({ "valid": true, "old_size": doc.old_size, "old_root": doc.old_root, "new_size": doc.new_size, "new_root": doc.new_root });
    ctx.print(&v, || {
        format!(
            "VALID: the chain of {} blocks extends your checkpoint of {size} blocks\nnew checkpoint: size {} root {}",
            doc.new_size, doc.new_size, doc.new_root
        )
    });
    Ok(())
}

/// `civic identity new`.
pub fn identity_new(ctx: &Ctx, out: &Path) -> Result<()> {
    if out.exists() {
        bail!("{} already exists; choose another --out (keys are never overwritten)", out.display());
    }
    let key = SecretKey::generate()?;
    KeyFile::new(None, &key).write(out)?;
    let did = civic_identity::Did::key(key.public_key()).to_string();
    let v = json!({ "file": out, "did": did, "public_key": key.public_key() });
    ctx.print(&v, || format!("wrote {}\n{did}", out.display()));
    Ok(())
}

/// `civic identity resolve`.
pub fn identity_resolve(ctx: &Ctx, did: &str) -> Result<()> {
    // Check locally first so a typo gets a precise message without a round trip.
    did.parse::<civic_identity::Did>()?;
    let v: Value = ctx.client().get(&format!("/v1/dids/{did}"))?;
    ctx.print(&v, || serde_json::to_string_pretty(&v["didDocument"]).unwrap_or_default());
    Ok(())
}

/// `civic identity access-log` and `civic identity consents`.
pub fn identity_records(ctx: &Ctx, did: Option<&str>, which: &str) -> Result<()> {
    let path = ctx.key.as_ref().ok_or_else(|| {
        anyhow!(
            "sign with --key: the resident's key file (civic identity new) or an auditor account's key file"
        )
    })?;
    let kf = KeyFile::read(path)?;
    let key = kf.secret().map_err(anyhow::Error::msg)?;
    let signer = match &kf.account {
        Some(a) => a.to_string(),
        None => civic_identity::Did::key(key.public_key()).to_string(),
    };
    let resident = match did {
        Some(d) => d.to_owned(),
        None if kf.account.is_none() => signer.clone(),
        None => bail!("{} is an account key; pass --did with the resident's did:key", path.display()),
    };
    let items = ctx.client().get_all(
        &format!("/v1/identity/residents/{resident}/{which}"),
        "items",
        Some((&signer, &key)),
    )?;
    let v = serde_json::json!({ "resident": resident, "items": items });
    ctx.print(&v, || {
        let items = v["items"].as_array().cloned().unwrap_or_default();
        let mut out = format!("{resident}: {} record(s)", items.len());
        for i in &items {
            let line = if which == "access-log" {
                format!(
                    "#{} height {}: {} read {} for {} under {}",
                    i["seq"],
                    i["height"],
                    i["accessor"].as_str().unwrap_or("?"),
                    i["attributes"],
                    i["purpose"],
                    i["basis"]
                )
            } else {
                let g = &i["record"]["grant"];
                format!(
                    "{}: grant {} to {} for {} of {} until {} ms",
                    i["status"].as_str().unwrap_or("?"),
                    g["id"],
                    g["controller"].as_str().unwrap_or("?"),
                    g["purpose"],
                    g["attributes"],
                    g["not_after"]
                )
            };
            out.push('\n');
            out.push_str(&line);
        }
        out
    });
    Ok(())
}

/// `civic identity login`.
pub fn identity_login(ctx: &Ctx) -> Result<()> {
    let path = ctx.key.as_ref().ok_or_else(|| anyhow!("pass --key with the resident's key file"))?;
    let key = KeyFile::read(path)?.secret().map_err(anyhow::Error::msg)?;
    let did = civic_identity::Did::key(key.public_key()).to_string();
    let client = ctx.client();
    let (_, c): (u16, civic_api::dto::ChallengeDto) = client.post("/v1/identity/challenges", &json!({}))?;
    let signature = key.sign(&civic_api::challenge::challenge_signing_bytes(&c.id, &c.nonce));
    let (_, v): (u16, Value) = client.post(
        &format!("/v1/identity/challenges/{}/response", c.id),
        &json!({ "did": did, "signature": signature.to_string() }),
    )?;
    ctx.print(&v, || {
        format!(
            "verified {} (attested attributes: {})",
            v["did"].as_str().unwrap_or("?"),
            v["attested_attributes"].as_array().map_or(0, |a| a.len())
        )
    });
    Ok(())
}

fn purpose(s: &str) -> civic_identity::module::Purpose {
    use civic_identity::module::Purpose;
    match s {
        "tax" => Purpose::Tax,
        "pension" => Purpose::Pension,
        "healthcare" => Purpose::Healthcare,
        "utilities" => Purpose::Utilities,
        "banking" => Purpose::Banking,
        "telecom" => Purpose::Telecom,
        other => Purpose::Other(other.to_owned()),
    }
}

/// Signs `call` as the account of `key_path` with its next nonce (not submitted).
fn account_tx(client: &Client, key_path: &Path, call: Call) -> Result<(civic_ledger::SignedTx, ChainId)> {
    let kf = KeyFile::read(key_path)?;
    let account = kf
        .account
        .clone()
        .ok_or_else(|| anyhow!("{} is not an account key (it names no account)", key_path.display()))?;
    let key = kf.secret().map_err(anyhow::Error::msg)?;
    let chain_id = chain_id_of(client)?;
    let nonce: Value = client.get(&format!("/v1/accounts/{account}/nonce"))?;
    let nonce =
        nonce["nonce"].as_u64().ok_or_else(|| anyhow!("the node did not return a nonce for {account}"))?;
    Ok((
        Transaction { chain_id: chain_id.clone(), signer: account, nonce: Nonce::new(nonce), call }
            .sign(&key),
        chain_id,
    ))
}

pub(crate) fn key_path(ctx: &Ctx) -> Result<&Path> {
    ctx.key.as_deref().ok_or_else(|| anyhow!("pass --key with the signing key file"))
}

fn resident_key(ctx: &Ctx) -> Result<(SecretKey, String)> {
    let kf = KeyFile::read(key_path(ctx)?)?;
    if kf.account.is_some() {
        bail!("--key must be the resident's own key file (civic identity new), not an account key");
    }
    let key = kf.secret().map_err(anyhow::Error::msg)?;
    let did = civic_identity::Did::key(key.public_key()).to_string();
    Ok((key, did))
}

/// `civic identity attest`.
pub fn identity_attest(ctx: &Ctx, did: &str, attributes: &[String]) -> Result<()> {
    let mut values = std::collections::BTreeMap::new();
    let mut commitments = std::collections::BTreeMap::new();
    for a in attributes {
        let (name, value) =
            a.split_once('=').ok_or_else(|| anyhow!("{a:?}: write attributes as name=value"))?;
        let salt = civic_types::random_bytes()?;
        let p = civic_identity::private::PrivateAttribute { value: value.to_owned(), salt };
        commitments.insert(name.to_owned(), p.commitment(name));
        values.insert(name.to_owned(), json!({ "value": value, "salt": Hash32(salt).to_hex() }));
    }
    let call = civic_identity::IdentityCall::Attest { resident: did.to_owned(), attributes: commitments };
    let client = ctx.client();
    let (tx, _) = account_tx(&client, key_path(ctx)?, Call::new(&call))?;
    let (_, v): (u16, Value) = client.post(
        &format!("/v1/identity/residents/{did}/attributes"),
        &json!({ "values": values, "attest_tx": B64.encode(tx.to_bytes()) }),
    )?;
    ctx.print(&v, || {
        format!("attested {} attribute(s) of {did} at height {}", attributes.len(), v["height"])
    });
    Ok(())
}

/// `civic identity grant`.
pub fn identity_grant(
    ctx: &Ctx,
    relay_key: &Path,
    to: &str,
    purpose_text: &str,
    attributes: Vec<String>,
    days: u64,
    id: Option<u64>,
) -> Result<()> {
    let (key, did) = resident_key(ctx)?;
    let now_ms = civic_node::now_ms().get();
    let client = ctx.client();
    let chain_id = chain_id_of(&client)?;
    let grant = civic_identity::module::ConsentGrant {
        chain_id,
        id: id.unwrap_or(now_ms / 1000),
        resident: did.clone(),
        controller: civic_types::OrgId::new(to)?,
        attributes: attributes.into_iter().collect(),
        purpose: purpose(purpose_text),
        not_after: civic_types::UnixMillis::new(now_ms + days * 24 * 3600 * 1000),
    };
    let signature = key.sign(&grant.signing_bytes());
    let grant_id = grant.id;
    let call = civic_identity::IdentityCall::GrantConsent { grant, signature };
    let (tx, _) = account_tx(&client, relay_key, Call::new(&call))?;
    let (_, answer): (u16, Value) =
        client.post("/v1/txs?wait=commit", &json!({ "tx": B64.encode(tx.to_bytes()) }))?;
    print_submitted(ctx, &answer);
    if !ctx.json && answer["receipt"]["status"] == "ok" {
        println!("consent {grant_id} of {did} to {to}");
    }
    Ok(())
}

/// `civic identity revoke`.
pub fn identity_revoke(ctx: &Ctx, relay_key: &Path, grant_id: u64) -> Result<()> {
    let (key, did) = resident_key(ctx)?;
    let client = ctx.client();
    let chain_id = chain_id_of(&client)?;
    let signature = key.sign(&civic_identity::module::revoke_signing_bytes(&chain_id, &did, grant_id));
    let call = civic_identity::IdentityCall::RevokeConsent { resident: did, grant_id, signature };
    let (tx, _) = account_tx(&client, relay_key, Call::new(&call))?;
    let (_, answer): (u16, Value) =
        client.post("/v1/txs?wait=commit", &json!({ "tx": B64.encode(tx.to_bytes()) }))?;
    print_submitted(ctx, &answer);
    Ok(())
}

/// `civic identity read`.
pub fn identity_read(
    ctx: &Ctx,
    did: &str,
    attributes: Vec<String>,
    purpose_text: &str,
    grant: Option<u64>,
    legal_basis: Option<String>,
) -> Result<()> {
    use civic_identity::module::AccessBasis;
    let basis = match (grant, legal_basis) {
        (Some(grant_id), _) => AccessBasis::Consent { grant_id },
        (None, Some(reference)) => AccessBasis::LegalBasis { reference },
        (None, None) => bail!("pass --grant ID or --legal-basis TEXT"),
    };
    let call = civic_identity::IdentityCall::RecordAccess {
        resident: did.to_owned(),
        attributes: attributes.into_iter().collect(),
        purpose: purpose(purpose_text),
        basis,
    };
    let client = ctx.client();
    let (tx, _) = account_tx(&client, key_path(ctx)?, Call::new(&call))?;
    let (_, v): (u16, Value) = client.post(
        &format!("/v1/identity/residents/{did}/attributes/read"),
        &json!({ "tx": B64.encode(tx.to_bytes()) }),
    )?;
    ctx.print(&v, || {
        let mut out = String::new();
        for (k, val) in v["values"].as_object().into_iter().flatten() {
            out.push_str(&format!("{k}: {}\n", val.as_str().unwrap_or("")));
        }
        out.push_str(&format!(
            "(access recorded on chain: {} at height {})",
            v["access_tx"].as_str().unwrap_or("?"),
            v["height"]
        ));
        out
    });
    Ok(())
}
