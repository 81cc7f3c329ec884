//! Crash safety: `kill -9` while committing under load loses no acknowledged transaction, and
//! the stored state recomputes to the stored state root.

mod harness;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use civic_ledger::modules::notary::NotaryCall;
use civic_types::sha256;
use harness::DevNode;

#[test]
fn kill9_under_load_loses_no_acknowledged_transaction_fjall() {
    kill9_under_load("fjall");
}

#[test]
fn kill9_under_load_loses_no_acknowledged_transaction_redb() {
    kill9_under_load("redb");
}

fn kill9_under_load(store: &str) {
    let dir = tempfile::tempdir().unwrap();
    let node = DevNode::start(dir.path(), &["--no-demo", "--block-interval-ms", "20", "--store", store]);
    let (ack_tx, ack_rx) = mpsc::channel::<String>();
    let stop = Arc::new(AtomicBool::new(false));
    let accounts = [
        "justice/admin",
        "justice/issuer",
        "justice/officer",
        "public-security/admin",
        "public-security/officer",
        "data-bureau/admin",
        "data-bureau/registrar",
        "city-bank/admin",
    ];
    let mut acked = Vec::new();
    std::thread::scope(|s| {
        for (t, account) in accounts.iter().enumerate() {
            let (ack_tx, stop, node) = (ack_tx.clone(), stop.clone(), &node);
            s.spawn(move || {
                let mut nonce = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let call = NotaryCall::Notarize {
                        digest: sha256(format!("{t}-{nonce}").as_bytes()),
                        label: String::new(),
                    };
                    let tx = node.sign_with_nonce(account, nonce, &call);
                    let Some((status, v)) = node.try_submit_wait(&tx) else { break };
                    if status == 200 && v["status"] == "committed" {
                        let _ = ack_tx.send(v["hash"].as_str().unwrap().to_owned());
                        nonce += 1;
                    } else {
                        // The node is gone (killed); stop this client.
                        break;
                    }
                }
            });
        }
        // Wait for a real amount of acknowledged work, then pull the plug mid-stream.
        while acked.len() < 300 {
            acked.push(ack_rx.recv().unwrap());
        }
        let pid = node.child.id();
        let status = std::process::Command::new("kill").args(["-9", &pid.to_string()]).status().unwrap();
        assert!(status.success());
        stop.store(true, Ordering::Relaxed);
    });
    drop(node);
    drop(ack_tx);
    // Acknowledgements that raced with the kill count too.
    acked.extend(ack_rx.try_iter());
    assert!(acked.len() >= 300);

    let node = DevNode::start(dir.path(), &["--no-demo"]);
    for hash in &acked {
        let (s, v) = node.get(&format!("/v1/txs/{hash}"));
        assert_eq!(s, 200, "acknowledged transaction {hash} was lost: {v}");
    }
    node.stop();
    harness::assert_state_root_recomputes(dir.path());
}
