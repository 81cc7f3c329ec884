//! `civic bench ingest` end to end: a short run streams real watch frames into the gateway of a
//! fresh dev network and checks its own workload — every position stored, the planted
//! exclusion-zone entry raises exactly one alert, a position proves against its anchor. The
//! rates themselves are not asserted: a benchmark is not a timed test.

mod harness;

use std::process::Command;

use harness::{BIN, stderr, stdout};
use serde_json::Value;

#[test]
fn a_short_ingest_bench_stores_evaluates_and_anchors_every_position() {
    let out = Command::new(BIN)
        .args([
            "--json",
            "bench",
            "ingest",
            "--devices",
            "20",
            "--zones-per-case",
            "5",
            "--reports",
            "30",
            "--limit-seconds",
            "1",
            // A queue far shorter than one connection's burst: the watch listener must slow
            // connections down rather than drop positions.
            "--queue",
            "8",
        ])
        .env("RUST_LOG", "warn")
        .output()
        .expect("run civic");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).expect("a JSON report");
    assert_eq!(report["positions_stored"], 600, "{report:#}");
    assert_eq!(report["refused"], 0, "{report:#}");
    assert_eq!(report["workload"]["zones"], 100, "{report:#}");
    assert_eq!(report["workload"]["connections"], 20, "{report:#}");
    assert_eq!(report["alerts_raised"], 1, "{report:#}");
    assert_eq!(report["planted_alert"], "BENCH-00000:1", "{report:#}");
    assert_eq!(report["proof_verified"], true, "{report:#}");
    assert!(report["batches_anchored"].as_u64().expect("batches") >= 1, "{report:#}");
    assert!(report["positions_per_s"].as_f64().expect("rate") > 0.0, "{report:#}");
    assert!(report["machine"]["decode_per_s"].as_f64().expect("decode rate") > 0.0, "{report:#}");
    assert!(report["machine"]["evaluate_one_thread_per_s"].as_f64().expect("eval rate") > 0.0, "{report:#}");
    // Too few zones for the design target: the report must not claim it.
    assert_eq!(report["target_met"], false, "{report:#}");
}
