//! Durable commit throughput of [`RedbStore`] on a block-sized batch: 20,000 state writes and
//! 20,000 content-addressed objects of about 100 bytes each. Also times reopening the file
//! with and without page verification.
//!
//! ```text
//! cargo run --release -p civic-store --example commit_throughput -- [DIR] [COMMITS]
//! ```
//!
//! `DIR` must be on the disk the node will use (default: the current directory; a tmpfs makes
//! `fsync` free and the numbers meaningless).

// Timing is this program's purpose.
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use civic_store::{CommitBatch, MemoryStore, RedbStore, Store};
use civic_types::{Hash32, Height, sha256};

const WRITES: u64 = 20_000;
const VALUE_BYTES: usize = 100;
/// State keys are drawn from this many accounts, so later blocks overwrite earlier keys.
const ACCOUNTS: u64 = 200_000;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| ".".into());
    let commits: u64 = args.next().map_or(30, |n| n.parse().expect("COMMITS is a number"));

    println!("generating {commits} batches of {WRITES} state writes + {WRITES} objects ...");
    let batches: Vec<CommitBatch> = (0..commits).map(batch).collect();
    let payload: usize = batches.iter().map(batch_bytes).sum::<usize>() / batches.len();
    println!("payload per batch: {:.1} MiB", payload as f64 / (1 << 20) as f64);

    let scratch = tempfile::tempdir_in(&dir).expect("create a scratch directory in DIR");
    let path = scratch.path().join("civic.redb");
    let store = RedbStore::open(&path).expect("open store");
    let redb = time_commits(&store, batches.clone());
    report("redb (Durability::Immediate)", &redb);
    store.close().expect("close store");
    let file_mib = std::fs::metadata(&path).expect("stat").len() as f64 / (1 << 20) as f64;
    println!("file size after {commits} commits: {file_mib:.0} MiB");

    let started = Instant::now();
    RedbStore::open(&path).expect("reopen").close().expect("close");
    println!("reopen after clean close: {:?}", started.elapsed());
    let started = Instant::now();
    RedbStore::open_verified(&path).expect("reopen verified").close().expect("close");
    println!("reopen with open_verified: {:?}", started.elapsed());

    let memory = time_commits(&MemoryStore::new(), batches);
    report("memory (for reference)", &memory);
}

fn time_commits(store: &impl Store, batches: Vec<CommitBatch>) -> Vec<Duration> {
    batches
        .into_iter()
        .map(|b| {
            let started = Instant::now();
            store.commit(b).expect("commit");
            started.elapsed()
        })
        .collect()
}

fn report(name: &str, times: &[Duration]) {
    let total: Duration = times.iter().sum();
    let mut sorted = times.to_vec();
    sorted.sort();
    println!(
        "{name}: {:.1} commits/s ({} commits in {total:.2?}); per commit median {:.1?}, max {:.1?}",
        times.len() as f64 / total.as_secs_f64(),
        times.len(),
        sorted[sorted.len() / 2],
        sorted[sorted.len() - 1],
    );
}

fn batch(n: u64) -> CommitBatch {
    let block = format!("block {n}").into_bytes();
    let state_writes = (0..WRITES)
        .map(|i| {
            let account = u64::from_be_bytes(digest(n, i, b"key").0[..8].try_into().unwrap());
            let key = format!("acct/{:016x}", account % ACCOUNTS).into_bytes();
            (key, Some(value(n, i)))
        })
        .collect();
    let objects = (0..WRITES).map(|i| (digest(n, i, b"obj"), value(n, i))).collect();
    CommitBatch {
        height: Height::new(n),
        block_hash: sha256(&block),
        block,
        receipts: vec![0; 1024],
        tx_hashes: Vec::new(),
        state_writes,
        objects,
        meta: vec![("latest".into(), n.to_be_bytes().to_vec())],
    }
}

fn digest(n: u64, i: u64, tag: &[u8]) -> Hash32 {
    sha256(&[tag, &n.to_be_bytes(), &i.to_be_bytes()].concat())
}

fn value(n: u64, i: u64) -> Vec<u8> {
    let seed = digest(n, i, b"value").0;
    seed.iter().cycle().take(VALUE_BYTES).copied().collect()
}

fn batch_bytes(b: &CommitBatch) -> usize {
    let state: usize = b.state_writes.iter().map(|(k, v)| k.len() + v.as_ref().map_or(0, Vec::len)).sum();
    let objects: usize = b.objects.iter().map(|(_, v)| 32 + v.len()).sum();
    state + objects + b.block.len() + b.receipts.len()
}
