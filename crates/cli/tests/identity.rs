//! The identity module on the real binary: a registrar attests commitments, a resident grants
//! consent with their own key, agencies' reads are recorded or refused with a reason, and
//! revocation takes effect at the next block. Attribute values never reach the chain.

#![allow(clippy::disallowed_methods)] // the expiry test reads the wall clock, as the node does

mod harness;

use std::collections::{BTreeMap, BTreeSet};

use civic_identity::Did;
use civic_identity::module::{
    AccessBasis, ConsentGrant, IdentityCall, Purpose, commitment, revoke_signing_bytes,
};
use civic_types::{ChainId, OrgId, SecretKey, UnixMillis};
use harness::{DevNode, stderr, stdout};
use serde_json::{Value, json};

fn read(resident: &str, grant_id: u64) -> IdentityCall {
    IdentityCall::RecordAccess {
        resident: resident.into(),
        attributes: BTreeSet::from(["name".to_owned(), "national_id".to_owned()]),
        purpose: Purpose::Tax,
        basis: AccessBasis::Consent { grant_id },
    }
}

#[test]
fn consent_governs_attribute_reads_and_every_read_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let node = DevNode::start(dir.path(), &["--no-demo"]);
    let resident_key = SecretKey::from_seed(&[0x5e; 32]);
    let resident = Did::key(resident_key.public_key()).to_string();
    let chain_id = ChainId::new("civic-dev").unwrap();

    // The registrar attests salted commitments through the generic CLI call path.
    let salt = [7u8; 32];
    let values = [("name", "Zhang San"), ("national_id", "110101199003074578")];
    let attributes: BTreeMap<String, String> =
        values.iter().map(|(n, v)| ((*n).to_owned(), commitment(&salt, n, v).to_hex())).collect();
    let call = json!({ "attest": { "resident": resident, "attributes": attributes } });
    let key = node.key_path("data-bureau/registrar");
    let out = node.civic(&[
        "--json",
        "--key",
        key.to_str().unwrap(),
        "tx",
        "submit",
        "identity",
        &call.to_string(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["receipt"]["status"], "ok", "{v}");

    // Without a grant, the read is refused and the reason is on chain.
    let (s, v) = node.submit_wait(&node.sign("public-security/verifier", &read(&resident, 1)));
    assert_eq!(s, 200);
    assert_eq!(v["receipt"]["code"], "unauthorized", "{v}");

    // The resident grants public security a tax-purpose read, signed with the resident's key;
    // the agency relays it.
    let grant = ConsentGrant {
        chain_id: chain_id.clone(),
        id: 1,
        resident: resident.clone(),
        controller: OrgId::new("public-security").unwrap(),
        attributes: BTreeSet::from(["name".to_owned(), "national_id".to_owned()]),
        purpose: Purpose::Tax,
        not_after: UnixMillis::new(u64::MAX / 2),
    };
    let signature = resident_key.sign(&grant.signing_bytes());
    let (s, v) = node.submit_wait(
        &node.sign("public-security/verifier", &IdentityCall::GrantConsent { grant, signature }),
    );
    assert_eq!((s, v["receipt"]["status"].as_str()), (200, Some("ok")), "{v}");

    // Now the read succeeds and is an access record with an inclusion proof.
    let (s, v) = node.submit_wait(&node.sign("public-security/verifier", &read(&resident, 1)));
    assert_eq!(v["receipt"]["status"], "ok", "{s} {v}");
    let hash = v["hash"].as_str().unwrap().to_owned();
    let out = node.civic(&["proof", "verify", "--tx", &hash]);
    assert!(out.status.success(), "{}", stderr(&out));
    let key = civic_identity::module::keys::access(&resident, 0);
    let (s, state) = node.get(&format!("/v1/state/{key}"));
    assert_eq!(s, 200);
    assert!(!state["value"].is_null(), "the access record is in state: {state}");

    // Another organization cannot use that grant.
    let (_, v) = node.submit_wait(&node.sign("city-bank/verifier", &read(&resident, 1)));
    assert_eq!(v["receipt"]["code"], "unauthorized");
    assert!(v["receipt"]["reason"].as_str().unwrap().contains("public-security"), "{v}");

    // The resident revokes; the next read fails.
    let signature = resident_key.sign(&revoke_signing_bytes(&chain_id, &resident, 1));
    let revoke = IdentityCall::RevokeConsent { resident: resident.clone(), grant_id: 1, signature };
    let (_, v) = node.submit_wait(&node.sign("public-security/verifier", &revoke));
    assert_eq!(v["receipt"]["status"], "ok", "{v}");
    let (_, v) = node.submit_wait(&node.sign("public-security/verifier", &read(&resident, 1)));
    assert_eq!(v["receipt"]["code"], "unauthorized");
    assert!(v["receipt"]["reason"].as_str().unwrap().contains("withdrawn"), "{v}");

    // No attribute value appears in any block.
    let (_, status) = node.get("/v1/status");
    for h in 0..=status["height"].as_u64().unwrap() {
        let (_, block) = node.get(&format!("/v1/blocks/{h}"));
        for tx in block["tx_hashes"].as_array().into_iter().flatten() {
            let (_, t) = node.get(&format!("/v1/txs/{}", tx.as_str().unwrap()));
            let text = t.to_string();
            for (_, value) in values {
                assert!(!text.contains(value), "attribute value {value:?} leaked into a transaction");
            }
        }
    }
    node.stop();
}

/// The README tour: register a resident, grant consent, read, see who read my data, revoke.
#[test]
fn register_grant_read_and_revoke_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let node = DevNode::start(dir.path(), &["--no-demo"]);
    let k = |a: &str| node.key_path(a).to_str().unwrap().to_owned();
    let resident_file = dir.path().join("li-si.json");
    let resident_path = resident_file.to_str().unwrap().to_owned();
    let out = node.civic(&["--json", "identity", "new", "--out", &resident_path]);
    assert!(out.status.success(), "{}", stderr(&out));
    let did = serde_json::from_str::<Value>(&stdout(&out)).unwrap()["did"].as_str().unwrap().to_owned();

    let out = node.civic(&[
        "--key",
        &k("data-bureau/registrar"),
        "identity",
        "attest",
        "--did",
        &did,
        "name=Li Si",
        "national_id=110101198507151234",
        "address=7 Wangfujing Street",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));

    // Without consent: 403 naming what is missing, and the refusal is on chain.
    let read = |reader: &str, grant: &str| {
        node.civic(&[
            "--json",
            "--key",
            &k(reader),
            "identity",
            "read",
            "--did",
            &did,
            "--attributes",
            "name,address",
            "--purpose",
            "tax",
            "--grant",
            grant,
        ])
    };
    let out = read("public-security/verifier", "7");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("403"), "{}", stderr(&out));

    // Grant, then the read returns the values.
    let out = node.civic(&[
        "--key",
        &resident_path,
        "identity",
        "grant",
        "--relay-key",
        &k("public-security/verifier"),
        "--to",
        "public-security",
        "--purpose",
        "tax",
        "--attributes",
        "name,address",
        "--id",
        "7",
    ]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let out = read("public-security/verifier", "7");
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["values"], json!({ "name": "Li Si", "address": "7 Wangfujing Street" }));

    // "Who read my data".
    let out = node.civic(&["--json", "--key", &resident_path, "identity", "access-log"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let log: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(log["items"].as_array().unwrap().len(), 1, "{log}");
    assert_eq!(log["items"][0]["accessor"], "public-security/verifier");

    // Revoke: the next read fails.
    let out = node.civic(&[
        "--key",
        &resident_path,
        "identity",
        "revoke",
        "--relay-key",
        &k("public-security/verifier"),
        "--grant",
        "7",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = read("public-security/verifier", "7");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("withdrawn"), "{}", stderr(&out));

    // A wrong signer for the attestation is refused and leaves no values behind.
    let out = node.civic(&[
        "--key",
        &k("city-bank/verifier"),
        "identity",
        "attest",
        "--did",
        &did,
        "phone=13800000000",
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("registrar"), "{}", stderr(&out));
    node.stop();
}

/// A consent stops working when its validity ends, by block time.
#[test]
fn an_expired_grant_no_longer_allows_reads() {
    let dir = tempfile::tempdir().unwrap();
    let node = DevNode::start(dir.path(), &["--no-demo"]);
    let resident_key = SecretKey::from_seed(&[0x77; 32]);
    let resident = Did::key(resident_key.public_key()).to_string();
    let salt = [1u8; 32];
    let attest = IdentityCall::Attest {
        resident: resident.clone(),
        attributes: BTreeMap::from([("name".to_owned(), commitment(&salt, "name", "Wang Wu"))]),
    };
    let (_, v) = node.submit_wait(&node.sign("data-bureau/registrar", &attest));
    assert_eq!(v["receipt"]["status"], "ok", "{v}");
    let now_ms =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let valid_ms = 1500;
    let grant = ConsentGrant {
        chain_id: ChainId::new("civic-dev").unwrap(),
        id: 9,
        resident: resident.clone(),
        controller: OrgId::new("public-security").unwrap(),
        attributes: BTreeSet::from(["name".to_owned()]),
        purpose: Purpose::Tax,
        not_after: UnixMillis::new(now_ms + valid_ms),
    };
    let signature = resident_key.sign(&grant.signing_bytes());
    let (_, v) = node.submit_wait(
        &node.sign("public-security/verifier", &IdentityCall::GrantConsent { grant, signature }),
    );
    assert_eq!(v["receipt"]["status"], "ok", "{v}");
    let read = IdentityCall::RecordAccess {
        resident: resident.clone(),
        attributes: BTreeSet::from(["name".to_owned()]),
        purpose: Purpose::Tax,
        basis: AccessBasis::Consent { grant_id: 9 },
    };
    // Expiry is judged by block time, which is the node's wall clock: let the validity pass.
    std::thread::sleep(std::time::Duration::from_millis(valid_ms + 200));
    let (_, v) = node.submit_wait(&node.sign("public-security/verifier", &read));
    assert_eq!(v["receipt"]["code"], "unauthorized", "{v}");
    assert!(v["receipt"]["reason"].as_str().unwrap().contains("expired"), "{v}");
    node.stop();
}
