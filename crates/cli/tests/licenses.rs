//! Licenses end to end on the real binary: `civic dev` with its demo registry; a lawyer's license
//! issued with `civic license issue`, exported as a W3C credential, verified over HTTP and
//! offline with `civic license verify`, then suspended, reinstated and revoked — each step a
//! management record, each verification a usage record; the status list credentials follow;
//! a non-issuer organization is refused with a reason; the public page answers without an
//! account and without the national id hash.

mod harness;

use harness::{DevNode, stderr, stdout};
use serde_json::{Value, json};

const ID: &str = "BJ-LAW-2026-0042";

fn ok(out: &std::process::Output) -> String {
    assert!(out.status.success(), "stdout: {}\nstderr: {}", stdout(out), stderr(out));
    stdout(out)
}

fn verify_http(node: &DevNode, vc: &Value) -> Value {
    let (s, _, v) =
        node.post_json("/v1/credentials/verify", &json!({"credential": vc, "purpose": "court hearing"}));
    assert_eq!(s, 200, "{v}");
    v
}

fn mgmt_actions(node: &DevNode) -> Vec<String> {
    let (s, v) = node.get(&format!("/v1/licenses/{ID}"));
    assert_eq!(s, 200, "{v}");
    v["management_records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn lawyer_license_lifecycle_credential_and_verification() {
    let dir = tempfile::tempdir().unwrap();
    let node = DevNode::start(dir.path(), &[]);
    let key = |a: &str| node.key_path(a).to_str().unwrap().to_owned();
    let issuer = key("justice/issuer");
    let holder_file = dir.path().join("lawyer.json");
    let out = ok(&node.civic(&["--json", "identity", "new", "--out", holder_file.to_str().unwrap()]));
    let holder = serde_json::from_str::<Value>(&out).unwrap()["did"].as_str().unwrap().to_owned();
    let claims = [
        "holder_name=Sun Li".to_owned(),
        format!("national_id_hash={}", "c4".repeat(32)),
        "license_number=11010120260042".to_owned(),
        "law_firm=Jinghua Law Firm".to_owned(),
        "practice_area=family".to_owned(),
        "issue_date=2026-11-22".to_owned(),
        "valid_until=2031-11-21".to_owned(),
    ];
    let issue = |signer: &str| {
        let mut args = vec![
            "--key",
            signer,
            "license",
            "issue",
            "--id",
            ID,
            "--holder",
            &holder,
            "--valid-until",
            "2031-11-21",
        ];
        args.extend(claims.iter().map(String::as_str));
        node.civic(&args)
    };
    // A bank account is not an issuer of a trusted organization: refused with the reason.
    let refused = issue(&key("city-bank/admin"));
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("lacks the role issuer"), "{}", stderr(&refused));
    // Claims that break the type's schema are refused before anything is issued.
    let bad = node.civic(&[
        "--key",
        &issuer,
        "license",
        "issue",
        "--id",
        ID,
        "--holder",
        &holder,
        "--valid-until",
        "2031-11-21",
        "holder_name=Sun Li",
    ]);
    assert!(stderr(&bad).contains("missing required claims"), "{}", stderr(&bad));
    ok(&issue(&issuer));

    // Export the credential and verify it: valid, with every check passed.
    let vc_file = dir.path().join("license.vc.json");
    ok(&node.civic(&["license", "credential", ID, "--out", vc_file.to_str().unwrap()]));
    let vc: Value = serde_json::from_str(&std::fs::read_to_string(&vc_file).unwrap()).unwrap();
    assert_eq!(vc["issuer"], "did:civic:justice");
    assert_eq!(vc["credentialSubject"]["id"], holder.as_str());
    assert_eq!(vc["proof"]["cryptosuite"], "eddsa-jcs-2022");
    assert_eq!(vc["proof"]["verificationMethod"], "did:civic:justice#issuer");
    let purposes: Vec<&str> = vc["credentialStatus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["statusPurpose"].as_str().unwrap())
        .collect();
    assert_eq!(purposes, ["revocation", "suspension"]);
    let v = verify_http(&node, &vc);
    assert_eq!((v["verdict"].as_str(), v["status"].as_str()), (Some("valid"), Some("active")), "{v}");
    assert!(v["checks"].as_array().unwrap().iter().all(|c| c["result"] == "passed"), "{v}");
    assert!(v["usage_tx"].is_string(), "a usage record was written: {v}");

    // Offline verification against the node's published state, recorded as the bar association's.
    let verified = node.civic(&[
        "--json",
        "--key",
        &key("bar-association/verifier"),
        "license",
        "verify",
        vc_file.to_str().unwrap(),
        "--purpose",
        "membership check",
    ]);
    let offline: Value = serde_json::from_str(&ok(&verified)).unwrap();
    assert_eq!(offline["verdict"], "valid", "{offline}");
    assert_eq!(offline["usage"]["receipt"]["status"], "ok", "{offline}");

    // A tampered credential fails the proof check.
    let mut forged = vc.clone();
    forged["credentialSubject"]["claims"]["practice_area"] = json!("criminal");
    let v = verify_http(&node, &forged);
    assert_eq!((v["verdict"].as_str(), v["status"].as_str()), (Some("invalid"), Some("invalid")));
    assert!(v["reason"].as_str().unwrap().contains("signature"), "{v}");

    // Suspend → suspended; reinstate → valid; revoke → revoked. The same credential file is
    // judged by the status lists each time.
    ok(&node.civic(&["--key", &issuer, "license", "suspend", ID, "--reason", "disciplinary inquiry"]));
    let v = verify_http(&node, &vc);
    assert_eq!((v["verdict"].as_str(), v["status"].as_str()), (Some("invalid"), Some("suspended")), "{v}");
    let (_, list) = node.get("/v1/status-lists/justice.lawyer-practice.suspension.0");
    assert_eq!(list["type"], json!(["VerifiableCredential", "BitstringStatusListCredential"]));
    assert_eq!(list["credentialSubject"]["statusPurpose"], "suspension");
    let offline = node.civic(&["--json", "license", "verify", vc_file.to_str().unwrap()]);
    assert!(!offline.status.success(), "offline verification fails while suspended");
    let o: Value = serde_json::from_str(&stdout(&offline)).unwrap();
    assert_eq!(o["status"], "suspended", "{o}");

    ok(&node.civic(&["--key", &issuer, "license", "reinstate", ID, "--reason", "inquiry closed"]));
    assert_eq!(verify_http(&node, &vc)["status"], "active");
    ok(&node.civic(&["--key", &issuer, "license", "revoke", ID, "--reason", "struck off the roll"]));
    let v = verify_http(&node, &vc);
    assert_eq!((v["verdict"].as_str(), v["status"].as_str()), (Some("invalid"), Some("revoked")), "{v}");
    let again = node.civic(&["--key", &issuer, "license", "reinstate", ID, "--reason", "appeal"]);
    assert!(stderr(&again).contains("the license is revoked"), "{}", stderr(&again));

    // Management records: issue, suspend, reinstate, revoke (the refused reinstate added none).
    assert_eq!(mgmt_actions(&node), ["issue", "suspend", "reinstate", "revoke"]);
    // Usage records: visible to the issuer, not to an anonymous caller.
    let (_, anon) = node.get(&format!("/v1/licenses/{ID}"));
    assert!(anon["usage_records"].is_null());
    assert_eq!(anon["usage_count"], 6, "five HTTP verifications and one offline: {anon}");
    let shown: Value =
        serde_json::from_str(&ok(&node.civic(&["--json", "--key", &issuer, "license", "show", ID]))).unwrap();
    let usage = shown["usage_records"].as_array().unwrap();
    let verdicts: Vec<&str> = usage.iter().map(|u| u["verdict"].as_str().unwrap()).collect();
    assert_eq!(verdicts, ["valid", "valid", "invalid", "invalid", "valid", "invalid"]);
    assert_eq!(usage[0]["verifier"], "public");
    assert_eq!(usage[1]["verifier"], "bar-association/verifier");
    assert_eq!(usage[1]["purpose"], "membership check");
    assert_eq!(usage[3]["reason"].as_str().map(|r| r.contains("suspended")), Some(true), "{}", usage[3]);
    // The holder sees them too, signing with the resident key.
    let holder_view: Value = serde_json::from_str(&ok(&node.civic(&[
        "--json",
        "--key",
        holder_file.to_str().unwrap(),
        "license",
        "show",
        ID,
    ])))
    .unwrap();
    assert_eq!(holder_view["usage_records"].as_array().map(Vec::len), Some(6));
    // Every usage record, a page at a time (signed: the issuer here).
    let usage_path = format!("/v1/licenses/{ID}/usage");
    let (s, first) = node.signed_get(&format!("{usage_path}?limit=4"), "justice/issuer");
    assert_eq!(s, 200, "{first}");
    assert_eq!(
        (first["usage_records"].as_array().map(Vec::len), &first["usage_count"]),
        (Some(4), &json!(6))
    );
    let next = first["next"].as_str().expect("a second page");
    let (s, second) = node.signed_get(&format!("{usage_path}?limit=4&after={next}"), "justice/issuer");
    assert_eq!(s, 200, "{second}");
    let rest: Vec<&str> =
        second["usage_records"].as_array().unwrap().iter().map(|u| u["verdict"].as_str().unwrap()).collect();
    assert_eq!(rest, ["valid", "invalid"], "{second}");
    assert!(second["next"].is_null(), "{second}");
    assert_eq!(node.get(&usage_path).0, 401);
    assert_eq!(node.signed_get(&usage_path, "city-bank/verifier").0, 403);

    // The public page: no account, the reason, no national id hash.
    let (s, page) = node.get(&format!("/v1/licenses/{ID}/verification"));
    assert_eq!(s, 200);
    assert_eq!((page["valid"].as_bool(), page["status"].as_str()), (Some(false), Some("revoked")), "{page}");
    assert_eq!(page["claims"]["holder_name"], "Sun Li");
    assert!(page["claims"].get("national_id_hash").is_none(), "{page}");
    let html = harness::agent()
        .get(format!("{}/verify/{ID}", node.url))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    assert!(html.contains("NOT VALID") && html.contains("revoked") && !html.contains(&"c4".repeat(32)));

    // The demo licenses are listed; filters work.
    let list: Value =
        serde_json::from_str(&ok(&node.civic(&["--json", "license", "list", "--status", "suspended"])))
            .unwrap();
    let ids: Vec<&str> = list.as_array().unwrap().iter().map(|l| l["license_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["BJ-LAW-2026-0003"]);
    let (s, mine) = node.get(&format!("/v1/licenses?holder={holder}"));
    assert_eq!((s, mine["licenses"].as_array().map(Vec::len)), (200, Some(1)));

    // Bad input: a clear problem, and the node keeps serving.
    let (s, _, p) = node.post_json("/v1/credentials/verify", &json!({"credential": "not a VC"}));
    assert_eq!(s, 200, "a non-object credential is an invalid verdict, not an error");
    assert_eq!(p["checks"][0]["result"], "failed");
    let (s, p) = node.get("/v1/status-lists/justice..revocation.0");
    assert_eq!((s, p["status"].as_u64()), (400, Some(400)), "{p}");
    let (s, _) = node.get("/v1/licenses/no%20such");
    assert_eq!(s, 400);
    let (s, _) = node.get("/v1/licenses/NO-SUCH-1/credential");
    assert_eq!(s, 404);
    node.stop();
}

/// Anonymous verifications write usage records, so a node limits them: past the burst a caller
/// gets 429 with Retry-After and a problem saying what to do; signed callers are not limited.
#[test]
fn anonymous_verifications_are_rate_limited() {
    let dir = tempfile::tempdir().unwrap();
    let node = DevNode::start(dir.path(), &["--public-verify-rate", "1"]);
    let page = format!("/v1/licenses/{}/verification", civic_node::devnet::demo_license_id(1));
    // The burst (four) passes; twenty quick requests cannot all pass at one per second.
    assert_eq!(node.get(&page).0, 200);
    let mut refused = None;
    for _ in 0..20 {
        let mut resp = harness::agent().get(format!("{}{page}", node.url)).call().expect("get");
        if resp.status().as_u16() == 429 {
            let retry = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
            let body: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
            refused = Some((retry, body));
            break;
        }
    }
    let (retry, body) = refused.expect("a 429 within twenty requests at one per second");
    assert!(retry.is_some_and(|r| r.parse::<u64>().is_ok_and(|s| s >= 1)), "{body}");
    assert_eq!(body["type"], "https://civic-ledger.dev/problems/too-many-requests", "{body}");
    assert!(body["detail"].as_str().unwrap().contains("sign the request"), "{body}");
    // A signed reader still gets the license (reads are not limited).
    assert_eq!(
        node.signed_get(
            &format!("/v1/licenses/{}", civic_node::devnet::demo_license_id(1)),
            "justice/issuer"
        )
        .0,
        200
    );
    node.stop();
}

/// A signed verification is recorded as the signer's, so its signature covers the body: the
/// same headers with another credential in the body are refused.
#[test]
fn signed_verifications_cover_their_body() {
    let dir = tempfile::tempdir().unwrap();
    let node = DevNode::start(dir.path(), &[]);
    let (a, b) = (civic_node::devnet::demo_license_id(1), civic_node::devnet::demo_license_id(2));
    let (s, vc_a) = node.get(&format!("/v1/licenses/{a}/credential"));
    assert_eq!(s, 200, "{vc_a}");
    let (s, vc_b) = node.get(&format!("/v1/licenses/{b}/credential"));
    assert_eq!(s, 200, "{vc_b}");
    let body = json!({ "credential": vc_a, "purpose": "client intake" });
    let (s, v) = node.signed_post_json("/v1/credentials/verify", &body, "city-bank/verifier", None);
    assert_eq!(s, 200, "{v}");
    assert!(v["usage_tx"].is_string(), "{v}");
    // The record (committed before the answer) names the signing account.
    let (_, u) = node.signed_get(&format!("/v1/licenses/{a}/usage"), "justice/issuer");
    let last = u["usage_records"].as_array().and_then(|r| r.last()).cloned().expect("a usage record");
    assert_eq!(
        (&last["verifier"], &last["purpose"]),
        (&json!("city-bank/verifier"), &json!("client intake")),
        "{u}"
    );
    // Replaying the signed headers with license B's credential in the body is refused.
    let other = json!({ "credential": vc_b, "purpose": "client intake" });
    let (s, v) = node.signed_post_json("/v1/credentials/verify", &body, "city-bank/verifier", Some(&other));
    assert_eq!(s, 401, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("civic-content-sha256"), "{v}");
    node.stop();
}
