//! The licenses module on the real binary, through the generic `civic tx submit`: register the
//! lawyer's license type, trust the justice bureau, issue, suspend, reinstate, revoke; every
//! action is a management record, a non-issuer is refused with a reason.

mod harness;

use harness::{DevNode, stderr, stdout};
use serde_json::{Value, json};

fn submit(node: &DevNode, account: &str, call: Value) -> Value {
    let key = node.key_path(account);
    let out = node.civic(&[
        "--json",
        "--key",
        key.to_str().unwrap(),
        "tx",
        "submit",
        "licenses",
        &call.to_string(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

#[test]
fn lawyer_license_lifecycle_with_management_records() {
    let dir = tempfile::tempdir().unwrap();
    let node = DevNode::start(dir.path(), &["--no-demo"]);
    let schema = json!({
        "type": "object",
        "properties": {"holder_name": {"type": "string"}, "license_number": {"type": "string"}},
        "required": ["holder_name", "license_number"],
        "additionalProperties": false
    });
    let v = submit(
        &node,
        "justice/admin",
        json!({"register_type": {"type_id": "lawyer-practice", "name": "Lawyer's practice license", "schema": schema.to_string()}}),
    );
    assert_eq!(v["receipt"]["status"], "ok", "{v}");
    let v = submit(
        &node,
        "justice/admin",
        json!({"trust_issuer": {"type_id": "lawyer-practice", "org": "justice"}}),
    );
    assert_eq!(v["receipt"]["status"], "ok", "{v}");

    let values = json!({"holder_name": "Zhang San", "license_number": "13101202611001"});
    let issue = json!({"issue": {
        "license_id": "BJ-2026-0001", "type_id": "lawyer-practice",
        "holder": "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
        "claims": values, "valid_from": 0, "valid_until": 4_102_444_800_000u64
    }});
    let v = submit(&node, "justice/officer", issue.clone());
    assert_eq!(v["receipt"]["code"], "unauthorized", "a non-issuer is refused: {v}");
    let v = submit(&node, "justice/issuer", issue);
    assert_eq!(v["receipt"]["status"], "ok", "{v}");

    for (action, want) in
        [("suspend", "ok"), ("reinstate", "ok"), ("revoke", "ok"), ("reinstate", "rejected")]
    {
        let v = submit(
            &node,
            "justice/issuer",
            json!({ action: {"license_id": "BJ-2026-0001", "reason": format!("{action} for the test")} }),
        );
        assert_eq!(v["receipt"]["status"], want, "{action}: {v}");
    }
    // issue, suspend, reinstate, revoke: four management records; the refused reinstate adds none.
    for seq in 0..4 {
        let (s, v) = node.get(&format!("/v1/state/licenses/mgmt/BJ-2026-0001/{seq:020}"));
        assert_eq!(s, 200);
        assert!(!v["value"].is_null(), "management record {seq} missing");
    }
    let (_, v) = node.get(&format!("/v1/state/licenses/mgmt/BJ-2026-0001/{:020}", 4));
    assert!(v["value"].is_null());
    node.stop();
}
