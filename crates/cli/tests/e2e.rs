//! End to end: the real `civic` binary, its HTTP API and its CLI, on a temporary data directory.

mod harness;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use civic_ledger::modules::membership::{GovernanceAction, MembershipCall};
use civic_ledger::modules::notary::NotaryCall;
use civic_types::{OrgId, sha256};
use harness::{DevNode, stderr, stdout};
use serde_json::{Value, json};

fn notarize(text: &str) -> NotaryCall {
    NotaryCall::Notarize { digest: sha256(text.as_bytes()), label: text.into() }
}

fn assert_problem(status: u16, content_type: &str, body: &Value, want_status: u16) {
    assert_eq!(status, want_status, "body: {body}");
    assert!(content_type.starts_with("application/problem+json"), "content type {content_type}");
    assert_eq!(body["status"].as_u64(), Some(u64::from(want_status)), "{body}");
    assert!(body["type"].as_str().is_some_and(|t| !t.is_empty()), "{body}");
    assert!(body["detail"].as_str().is_some_and(|t| !t.is_empty()), "{body}");
}

#[test]
fn dev_network_cli_api_proofs_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let node = DevNode::start(dir.path(), &[]);

    // The demo activity is on chain: blocks with transactions, an executed proposal that
    // admitted an organization, and a recorded rejection.
    let (s, status) = node.get("/v1/status");
    assert_eq!(s, 200);
    assert_eq!(status["chain_id"], "civic-dev");
    assert!(status["height"].as_u64().unwrap() >= 2, "{status}");
    let genesis_hash = status["genesis_hash"].clone();
    let out = node.civic(&["--json", "proof", "checkpoint"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let checkpoint: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let (_, orgs) = node.get("/v1/membership/organizations");
    assert!(orgs.to_string().contains("Municipal Health Commission"), "{orgs}");
    // Every demo transaction succeeded except the one meant to show a rejection, and the demo
    // resident's reads are on record.
    let mut rejected = Vec::new();
    for h in 1..=status["height"].as_u64().unwrap() {
        let (_, block) = node.get(&format!("/v1/blocks/{h}"));
        for r in block["receipts"].as_array().unwrap() {
            if r["status"] != "ok" {
                rejected.push(r["reason"].as_str().unwrap_or("").to_owned());
            }
        }
    }
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert!(rejected[0].contains("lacks the role admin"), "{rejected:?}");
    let resident =
        civic_node::keyfile::KeyFile::read(&civic_node::devnet::resident_key_path(dir.path(), "zhang-san"))
            .unwrap()
            .public_key;
    let did = civic_identity::Did::key(resident).to_string();
    for seq in [0, 1] {
        let (s, v) = node.get(&format!("/v1/state/{}", civic_identity::module::keys::access(&did, seq)));
        assert_eq!(s, 200);
        assert!(!v["value"].is_null(), "demo access record {seq} missing: {v}");
    }

    // "Who read my data": the resident signs the request with their own key.
    let resident_key = civic_node::devnet::resident_key_path(dir.path(), "zhang-san");
    let out = node.civic(&["--json", "--key", resident_key.to_str().unwrap(), "identity", "access-log"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let log: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let readers: Vec<&str> =
        log["items"].as_array().unwrap().iter().map(|r| r["accessor"].as_str().unwrap()).collect();
    assert_eq!(readers, ["city-bank/verifier", "public-security/officer"]);
    assert_eq!(log["items"][1]["basis"]["legal_basis"]["reference"], "Resident Identity Card Law, art. 15");
    let out = node.civic(&["--json", "--key", resident_key.to_str().unwrap(), "identity", "consents"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let consents: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(consents["items"][0]["status"], "active", "{consents}");
    // The bank reads the demo resident's values under the demo consent.
    let bank = node.key_path("city-bank/verifier");
    let out = node.civic(&[
        "--json",
        "--key",
        bank.to_str().unwrap(),
        "identity",
        "read",
        "--did",
        &did,
        "--attributes",
        "name",
        "--purpose",
        "banking",
        "--grant",
        "1",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(serde_json::from_str::<Value>(&stdout(&out)).unwrap()["values"]["name"], "Zhang San");

    // Remote authentication: the resident answers a challenge with their key.
    let out = node.civic(&["--json", "--key", resident_key.to_str().unwrap(), "identity", "login"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let who: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(who["did"], did.as_str());
    let attested: Vec<&str> =
        who["attested_attributes"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    assert_eq!(attested, ["address", "name", "national_id"]);
    // A wrong signature fails, and the challenge cannot be replayed afterwards.
    let (s, _, c) = node.post_json("/v1/identity/challenges", &json!({}));
    assert_eq!(s, 201);
    let id = c["id"].as_str().unwrap();
    let forged = civic_types::SecretKey::from_seed(&[3; 32])
        .sign(&civic_api::challenge::challenge_signing_bytes(id, c["nonce"].as_str().unwrap()));
    let path = format!("/v1/identity/challenges/{id}/response");
    let (s, ct, v) = node.post_json(&path, &json!({ "did": did, "signature": forged.to_string() }));
    assert_problem(s, &ct, &v, 401);
    let (s, ct, v) = node.post_json(&path, &json!({ "did": did, "signature": forged.to_string() }));
    assert_problem(s, &ct, &v, 404);

    // Unsigned: 401. Another resident: 403. An auditor: allowed.
    let (s, v) = node.get(&format!("/v1/identity/residents/{did}/access-log"));
    assert_eq!(s, 401, "{v}");
    assert!(v["type"].as_str().unwrap().ends_with("unauthenticated"));
    let stranger = dir.path().join("stranger.json");
    assert!(node.civic(&["identity", "new", "--out", stranger.to_str().unwrap()]).status.success());
    let out = node.civic(&["--key", stranger.to_str().unwrap(), "identity", "access-log", "--did", &did]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("403"), "{}", stderr(&out));
    let auditor = node.key_path("data-bureau/auditor");
    let out =
        node.civic(&["--json", "--key", auditor.to_str().unwrap(), "identity", "access-log", "--did", &did]);
    assert!(out.status.success(), "{}", stderr(&out));
    // The log is paged: one record per page here, the second page resumes after the first.
    let log = format!("/v1/identity/residents/{did}/access-log");
    let (s, first) = node.signed_get(&format!("{log}?limit=1"), "data-bureau/auditor");
    assert_eq!(s, 200, "{first}");
    assert_eq!(first["items"][0]["accessor"], "city-bank/verifier", "{first}");
    let next = first["next"].as_str().expect("a next page");
    let (s, second) = node.signed_get(&format!("{log}?limit=1&after={next}"), "data-bureau/auditor");
    assert_eq!(s, 200, "{second}");
    assert_eq!(second["items"][0]["accessor"], "public-security/officer", "{second}");
    let (s, _) = node.signed_get(&format!("{log}?limit=0"), "data-bureau/auditor");
    assert_eq!(s, 400);
    let officer = node.key_path("justice/officer");
    let out = node.civic(&["--key", officer.to_str().unwrap(), "identity", "access-log", "--did", &did]);
    assert!(!out.status.success(), "a non-auditor account is refused");

    // Notarize a file with the CLI, as a user would.
    let doc = dir.path().join("order.txt");
    std::fs::write(&doc, "court order 2026-118").unwrap();
    let key = node.key_path("justice/admin");
    let out = node.civic(&["--json", "--key", key.to_str().unwrap(), "notarize", doc.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let answer: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(answer["status"], "committed", "{answer}");
    assert_eq!(answer["receipt"]["status"], "ok", "{answer}");
    let hash = answer["hash"].as_str().unwrap().to_owned();

    // Query it over HTTP.
    let (s, tx) = node.get(&format!("/v1/txs/{hash}"));
    assert_eq!(s, 200);
    assert_eq!(tx["receipt"]["status"], "ok");
    let height = tx["height"].as_u64().unwrap();

    // Fetch its proof and verify it offline with the CLI, against the block hash we trust.
    let (s, proof) = node.get(&format!("/v1/txs/{hash}/proof"));
    assert_eq!(s, 200);
    let (_, block) = node.get(&format!("/v1/blocks/{height}"));
    let block_hash = block["hash"].as_str().unwrap().to_owned();
    let proof_file = dir.path().join("proof.json");
    std::fs::write(&proof_file, proof.to_string()).unwrap();
    let validator = status["validators"][0]["public_key"].as_str().unwrap().to_owned();
    let out = node.civic(&[
        "proof",
        "verify",
        proof_file.to_str().unwrap(),
        "--block-hash",
        &block_hash,
        "--validator",
        &validator,
    ]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("VALID"));

    // A tampered proof fails, and so does the wrong trusted block hash.
    let mut bad = proof.clone();
    let tx_b64 = bad["tx"].as_str().unwrap().to_owned();
    let mut raw = B64.decode(tx_b64).unwrap();
    let last = raw.len() - 1;
    raw[last] ^= 1;
    bad["tx"] = json!(B64.encode(&raw));
    bad["tx_hash"] = json!(sha256(&raw).to_hex());
    std::fs::write(&proof_file, bad.to_string()).unwrap();
    let out = node.civic(&["proof", "verify", proof_file.to_str().unwrap()]);
    assert!(!out.status.success(), "a tampered leaf must not verify");
    assert!(stderr(&out).contains("INVALID"), "{}", stderr(&out));
    let out = node.civic(&["proof", "verify", "--tx", &hash, "--block-hash", &sha256(b"other").to_hex()]);
    assert!(!out.status.success());

    // An unauthorised governance call is committed as rejected, with its reason.
    let officer = node.key_path("justice/officer");
    let call = json!({"propose": {"title": "remove the bank", "action": {"remove_organization": {"org": "city-bank"}}}});
    let out = node.civic(&[
        "--json",
        "--key",
        officer.to_str().unwrap(),
        "tx",
        "submit",
        "membership",
        &call.to_string(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let answer: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(answer["receipt"]["status"], "rejected", "{answer}");
    assert_eq!(answer["receipt"]["code"], "unauthorized");
    assert!(answer["receipt"]["reason"].as_str().unwrap().contains("lacks the role admin"), "{answer}");

    // Governance by quorum through the CLI: propose, then two more organizations vote.
    let propose = node.sign(
        "bar-association/admin",
        &MembershipCall::Propose {
            title: "Admit the tax bureau".into(),
            action: GovernanceAction::AddOrganization {
                org: OrgId::new("tax").unwrap(),
                name: "Tax Bureau".into(),
                admin: civic_types::AccountId::new("tax/admin").unwrap(),
                admin_key: civic_types::SecretKey::from_seed(&[42; 32]).public_key(),
            },
        },
    );
    let (s, v) = node.submit_wait(&propose);
    assert_eq!(s, 200, "{v}");
    let (_, proposals) = node.get("/v1/membership/proposals");
    let id = proposals["proposals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["title"] == "Admit the tax bureau")
        .map(|p| p["id"].as_u64().unwrap())
        .unwrap();
    // Six organizations now (the demo admitted one): four approvals are needed.
    for admin in ["city-bank/admin", "data-bureau/admin", "public-security/admin"] {
        let k = node.key_path(admin);
        let out = node.civic(&["--key", k.to_str().unwrap(), "gov", "vote", &id.to_string(), "yes"]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let (_, p) = node.get(&format!("/v1/membership/proposals/{id}"));
    assert_eq!(p["status"], "executed", "{p}");

    // The chain only grew since the checkpoint; a wrong checkpoint root is caught.
    let (size, root) = (checkpoint["size"].to_string(), checkpoint["root"].as_str().unwrap().to_owned());
    let out = node.civic(&["proof", "consistency", "--size", &size, "--root", &root]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("VALID"));
    let out = node.civic(&["proof", "consistency", "--size", &size, "--root", &sha256(b"forged").to_hex()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("INVALID"), "{}", stderr(&out));

    // DIDs: a new resident key's did:key, and the justice bureau's did:civic from membership.
    let resident = dir.path().join("resident.json");
    let out = node.civic(&["--json", "identity", "new", "--out", resident.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let made: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let did = made["did"].as_str().unwrap().to_owned();
    assert!(did.starts_with("did:key:z6Mk"), "{did}");
    let out = node.civic(&["--json", "identity", "resolve", &did]);
    assert!(out.status.success(), "{}", stderr(&out));
    let resolved: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(resolved["didDocument"]["id"], did);
    let (s, civic) = node.get("/v1/dids/did:civic:justice");
    assert_eq!(s, 200);
    let issuer_key = civic_node::keyfile::KeyFile::read(&node.key_path("justice/issuer")).unwrap().public_key;
    let vms = civic["didDocument"]["verificationMethod"].as_array().unwrap();
    let issuer = vms.iter().find(|vm| vm["id"] == "did:civic:justice#issuer").unwrap();
    assert_eq!(issuer["publicKeyMultibase"], civic_identity::multikey(&issuer_key));
    assert!(
        civic["didDocument"]["assertionMethod"]
            .as_array()
            .unwrap()
            .contains(&json!("did:civic:justice#issuer"))
    );

    // Restart: the same chain comes back, with the notarization in it.
    let height_before = node.get("/v1/status").1["height"].as_u64().unwrap();
    node.stop();
    let node = DevNode::start(dir.path(), &[]);
    let (_, status) = node.get("/v1/status");
    assert_eq!(status["genesis_hash"], genesis_hash);
    assert_eq!(status["height"].as_u64().unwrap(), height_before, "no demo is replayed on reopen");
    let (s, tx) = node.get(&format!("/v1/txs/{hash}"));
    assert_eq!(s, 200);
    assert_eq!(tx["height"].as_u64().unwrap(), height);
    // And it keeps working.
    let (s, v) = node.submit_wait(&node.sign("justice/admin", &notarize("after restart")));
    assert_eq!(s, 200, "{v}");
    node.stop();
    harness::assert_state_root_recomputes(dir.path());
}

#[test]
fn bad_input_gets_problem_json_and_the_node_keeps_working() {
    let dir = tempfile::tempdir().unwrap();
    let node = DevNode::start(dir.path(), &["--no-demo"]);

    let (s, ct, v) = node.post_json("/v1/txs", &json!({"tx": "not base64 !!"}));
    assert_problem(s, &ct, &v, 400);
    let (s, ct, v) = node.post_json("/v1/txs", &json!({"tx": B64.encode([1u8, 2, 3])}));
    assert_problem(s, &ct, &v, 400);
    let (s, ct, v) = node.post_bytes("/v1/txs", "application/json", b"{not json".to_vec());
    assert_problem(s, &ct, &v, 400);
    let (s, ct, v) = node.post_oversized("/v1/txs", 4 * 1024 * 1024);
    assert_problem(s, &ct, &v, 413);

    // A valid transaction with a broken signature.
    let mut tx = node.sign("justice/admin", &notarize("x"));
    tx.signature.0[10] ^= 0xff;
    let (s, ct, v) = node.post_json("/v1/txs", &json!({"tx": B64.encode(tx.to_bytes())}));
    assert_problem(s, &ct, &v, 400);
    assert!(v["type"].as_str().unwrap().contains("signature"), "{v}");

    // Signed by a key that is not the account's.
    let mut forged = node.sign("justice/admin", &notarize("y"));
    forged = forged.tx.sign(&civic_types::SecretKey::from_seed(&[9; 32]));
    let (s, ct, v) = node.post_json("/v1/txs", &json!({"tx": B64.encode(forged.to_bytes())}));
    assert_problem(s, &ct, &v, 403);

    // Replay: the same committed transaction again.
    let good = node.sign("justice/admin", &notarize("z"));
    let (s, _) = node.submit_wait(&good);
    assert_eq!(s, 200);
    let (s, ct, v) = node.post_json("/v1/txs", &json!({"tx": B64.encode(good.to_bytes())}));
    assert_problem(s, &ct, &v, 409);

    let (s, _) = node.get("/v1/txs/zz");
    assert_eq!(s, 400);
    let (s, _) = node.get("/v1/no-such-route");
    assert_eq!(s, 404);

    // Still healthy: a new transaction commits.
    let (s, v) = node.submit_wait(&node.sign("justice/admin", &notarize("still alive")));
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["receipt"]["status"], "ok");
    node.stop();
}
