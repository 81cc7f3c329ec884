//! `civic bench credentials` end to end: a short run on a fresh network verifies real
//! credentials, all valid, and reports the suspended demo license as suspended. The numbers
//! themselves are not asserted: a benchmark is not a timed test.

mod harness;

use std::process::Command;

use harness::{BIN, stderr, stdout};
use serde_json::Value;

#[test]
fn a_short_credential_bench_verifies_valid_credentials() {
    let out = Command::new(BIN)
        .args(["--json", "bench", "credentials", "--seconds", "1", "--licenses", "20"])
        .env("RUST_LOG", "warn")
        .output()
        .expect("run civic");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).expect("a JSON report");
    assert!(report["verifications"].as_u64().expect("verifications") > 0, "{report:#}");
    assert_eq!(report["all_valid"], true, "{report:#}");
    assert_eq!(report["suspended_demo_license_status"], "suspended", "{report:#}");
    assert_eq!(report["workload"]["licenses"], 20, "{report:#}");
    assert!(report["machine"]["ed25519_single_verify_per_s"].as_f64().expect("ed25519 rate") > 0.0);
}
