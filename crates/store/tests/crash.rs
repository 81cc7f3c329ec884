//! Crash durability of the durable backends. A child process (this test binary, re-run on one
//! test with [`CHILD_ENV`] set) opens the store, commits sample batches after the latest one and
//! prints each height as soon as its commit returns. The parent kills it with SIGKILL after a
//! number of acknowledged commits, reads whatever else it acknowledged before dying, reopens the
//! store and checks that it holds every acknowledged commit and a whole chain: no commit is lost,
//! none is half applied. Several rounds kill the same store, so recovery is followed by commits and
//! another crash; in the last, the parent's own open while the child runs must fail as in use.
//! After each commit the child also writes private entries (see [`private_entries`]) before it
//! acknowledges, so every acknowledged height's private write must survive the kill as well.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use civic_store::conformance::{sample_batch, verify_sample_chain};
use civic_store::{FjallStore, RedbStore, Store, StoreError};
use civic_types::Height;

/// Set in the child to the store path; its presence makes a test run the child's loop.
const CHILD_ENV: &str = "CIVIC_STORE_CRASH_CHILD";
/// What the child prints before each acknowledged height.
const ACK: &str = "acknowledged ";
/// Acknowledged commits the parent waits for in each round before it kills the child.
const ACKS_BEFORE_KILL: usize = 20;
const ROUNDS: usize = 5;
/// Commits a child makes at most, so a child whose parent died stops by itself.
const CHILD_COMMITS: u64 = 100_000;

#[test]
fn redb_keeps_every_acknowledged_commit_across_kill_9() {
    crash_test("redb_keeps_every_acknowledged_commit_across_kill_9", "civic.redb", |p| RedbStore::open(p));
}

#[test]
fn fjall_keeps_every_acknowledged_commit_across_kill_9() {
    crash_test("fjall_keeps_every_acknowledged_commit_across_kill_9", "civic.fjall", |p| FjallStore::open(p));
}

fn crash_test<S: Store>(test_name: &str, file: &str, open: impl Fn(&Path) -> Result<S, StoreError>) {
    if let Some(path) = std::env::var_os(CHILD_ENV) {
        let store = open(Path::new(&path)).expect("child: open the store");
        commit_until_killed(&store);
        return;
    }

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(file);
    let mut acknowledged: Option<Height> = None;
    let mut every_ack = Vec::new();
    for round in 1..=ROUNDS {
        let child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", test_name, "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the child");
        let mut child = KillOnDrop(child);
        let stdout = child.0.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();

        let mut heard = 0;
        for line in lines.by_ref() {
            if let Some(n) = acknowledgement(&line.expect("read the child's output")) {
                assert!(Some(n) > acknowledged, "round {round}: {n} acknowledged after {acknowledged:?}");
                acknowledged = Some(n);
                every_ack.push(n);
                heard += 1;
                if heard == ACKS_BEFORE_KILL {
                    break;
                }
            }
        }
        assert_eq!(heard, ACKS_BEFORE_KILL, "round {round}: the child stopped early");
        // Once: while the parent tries, the child keeps committing until the pipe is full, and
        // every later round would verify those thousands of extra commits again.
        if round == ROUNDS {
            match open(&path) {
                Err(StoreError::InUse { .. }) => {}
                Err(e) => panic!("opening the store the child has open gave {e:?}"),
                Ok(_) => panic!("opened the store while the child had it open"),
            }
        }

        child.0.kill().expect("kill the child");
        let status = child.0.wait().expect("wait for the child");
        assert_eq!(status.signal(), Some(9), "round {round}: the child was not killed but ended: {status}");
        // Commits acknowledged between the last line read and the kill count too.
        for line in lines {
            if let Some(n) = acknowledgement(&line.expect("read the child's output")) {
                acknowledged = Some(n);
                every_ack.push(n);
            }
        }

        // Panics unless the store holds a whole sample chain that includes `acknowledged`.
        let store = open(&path).expect("reopen after the crash");
        verify_sample_chain(&store, acknowledged);
        for &n in &every_ack {
            // Every entry but the shared `latest`, which later writes overwrite.
            for (key, value) in private_entries(n).into_iter().skip(1) {
                assert_eq!(store.private_get(&key).unwrap(), value, "round {round}: private write of {n}");
            }
        }
        let latest = store
            .private_get(b"crash/private/latest")
            .unwrap()
            .map(|v| Height::new(u64::from_be_bytes(v.try_into().expect("an 8-byte private value"))));
        assert!(latest >= acknowledged, "round {round}: private latest {latest:?} before {acknowledged:?}");
    }
}

/// The private entries the child writes after committing height `n`; the first one, the latest
/// height, is shared by every `n`.
fn private_entries(n: Height) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    let n = n.get();
    vec![
        (b"crash/private/latest".to_vec(), Some(n.to_be_bytes().to_vec())),
        (format!("crash/private/{n:020}").into_bytes(), Some(format!("resident data {n}").into_bytes())),
    ]
}

/// The height in a line of the child's output that acknowledges a commit; the test harness
/// prints other lines too.
fn acknowledgement(line: &str) -> Option<Height> {
    line.strip_prefix(ACK).map(|n| Height::new(n.parse().expect("a height after the acknowledgement")))
}

/// The child's loop: commits the sample chain onward from the store's latest height.
fn commit_until_killed(store: &impl Store) {
    let next = store.latest_height().expect("child: latest height").map_or(0, |h| h.get() + 1);
    let mut out = std::io::stdout().lock();
    for n in next..next + CHILD_COMMITS {
        store.commit(sample_batch(Height::new(n))).expect("child: commit");
        store.private_put(private_entries(Height::new(n))).expect("child: private write");
        writeln!(out, "{ACK}{n}").and_then(|()| out.flush()).expect("child: report a commit");
    }
}

/// Kills the child if the parent's test fails before it does, so no child outlives the test.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
