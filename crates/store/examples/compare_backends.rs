//! Runs one growing, block-shaped workload on [`RedbStore`] and [`FjallStore`] and compares
//! durable commit latency as the database grows, then random reads of content-addressed
//! objects, which the ledger does for every state tree node it touches.
//!
//! Each commit holds what a block of 2,000 transactions writes: 2,000 state writes (random
//! 40-byte keys, 100-byte values), 30,000 objects (random 32-byte hashes, 65 bytes each), 2,000
//! transaction hashes and a 400 KB block. Keys are random because they are digests, which is what
//! makes a B-tree dirty pages all over the file.
//!
//! ```text
//! cargo run --release -p civic-store --example compare_backends -- [DIR] [COMMITS]
//! ```
//!
//! `DIR` must be on the disk the node will use (default: the current directory; a tmpfs makes
//! `fsync` free and the numbers meaningless). `COMMITS` defaults to 60.

// Timing is this program's purpose.
#![allow(clippy::disallowed_methods)]

use std::path::Path;
use std::time::{Duration, Instant};

use civic_store::{CommitBatch, FjallStore, RedbStore, Store};
use civic_types::{Hash32, Height, sha256};

const STATE_WRITES: u64 = 2_000;
const OBJECTS: u64 = 30_000;
const TXS: u64 = 2_000;
const BLOCK_BYTES: usize = 400_000;
const READS: u64 = 100_000;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| ".".into());
    let commits: u64 = args.next().map_or(60, |n| n.parse().expect("COMMITS is a number"));
    let payload = batch_bytes(&batch(0));
    println!(
        "{commits} commits of {STATE_WRITES} state writes, {OBJECTS} objects, {TXS} tx hashes and a \
         {BLOCK_BYTES}-byte block ({:.1} MiB each); then {READS} random object reads",
        payload as f64 / (1 << 20) as f64
    );

    let scratch = tempfile::tempdir_in(&dir).expect("create a scratch directory in DIR");

    let path = scratch.path().join("civic.redb");
    let store = RedbStore::open(&path).expect("open redb");
    run("redb", &store, commits);
    store.close().expect("close redb");
    report_reopen("redb", &path, || RedbStore::open(&path));

    let path = scratch.path().join("civic.fjall");
    let store = FjallStore::open(&path).expect("open fjall");
    run("fjall", &store, commits);
    store.close().expect("close fjall");
    report_reopen("fjall", &path, || FjallStore::open(&path));
}

fn run(name: &str, store: &impl Store, commits: u64) {
    let mut times = Vec::new();
    for n in 0..commits {
        // Build the batch outside the timed section: only the store's work counts.
        let b = batch(n);
        let started = Instant::now();
        store.commit(b).expect("commit");
        times.push(started.elapsed());
    }
    let total: Duration = times.iter().sum();
    let show = |ts: &[Duration]| ts.iter().map(|t| format!("{:.0}", ms(*t))).collect::<Vec<_>>().join(" ");
    let edge = times.len().min(5);
    let mut sorted = times.clone();
    sorted.sort();
    println!(
        "{name:>5}: commit ms, first {edge}: [{}], last {edge}: [{}]; median {:.0} ms, max {:.0} ms; \
         {:.2} commits/s",
        show(&times[..edge]),
        show(&times[times.len() - edge..]),
        ms(sorted[sorted.len() / 2]),
        ms(sorted[sorted.len() - 1]),
        times.len() as f64 / total.as_secs_f64(),
    );

    // Random objects from every commit, drawn before timing.
    let keys: Vec<Hash32> = (0..READS)
        .map(|i| {
            let pick = u64::from_be_bytes(sha256(&i.to_be_bytes()).0[..8].try_into().unwrap());
            digest(pick % commits, (pick >> 32) % OBJECTS, b"obj")
        })
        .collect();
    let started = Instant::now();
    for key in &keys {
        assert!(store.object(key).expect("read").is_some(), "object {key} is missing");
    }
    let elapsed = started.elapsed();
    println!(
        "{name:>5}: {READS} random object reads in {elapsed:.2?}: {:.0} reads/s",
        READS as f64 / elapsed.as_secs_f64()
    );
}

fn report_reopen<S>(name: &str, path: &Path, open: impl FnOnce() -> Result<S, civic_store::StoreError>) {
    let started = Instant::now();
    let store = open().expect("reopen");
    let opened = started.elapsed();
    let started = Instant::now();
    drop(store);
    println!(
        "{name:>5}: {:.0} MiB on disk; reopen after close {opened:.2?}, then close {:.2?}",
        disk_bytes(path) as f64 / (1 << 20) as f64,
        started.elapsed()
    );
}

/// Bytes allocated on disk under `path` (fjall preallocates sparse journal files, so their
/// length overstates what they use).
fn disk_bytes(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::symlink_metadata(path).expect("stat");
    if meta.is_dir() {
        std::fs::read_dir(path).expect("list").map(|e| disk_bytes(&e.expect("entry").path())).sum()
    } else {
        meta.blocks() * 512
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn batch(n: u64) -> CommitBatch {
    let mut block = format!("block {n}\n").into_bytes();
    block.resize(BLOCK_BYTES, (n % 251) as u8);
    let state_writes = (0..STATE_WRITES)
        .map(|i| {
            let mut key = digest(n, i, b"key").0.to_vec();
            key.extend_from_slice(&digest(n, i, b"key tail").0[..8]);
            let value = digest(n, i, b"value").0.iter().cycle().take(100).copied().collect();
            (key, Some(value))
        })
        .collect();
    let objects = (0..OBJECTS)
        .map(|i| {
            let bytes = digest(n, i, b"obj bytes").0.iter().cycle().take(65).copied().collect();
            (digest(n, i, b"obj"), bytes)
        })
        .collect();
    CommitBatch {
        height: Height::new(n),
        block_hash: sha256(&block),
        block,
        receipts: vec![0; 16 * TXS as usize],
        tx_hashes: (0..TXS).map(|i| digest(n, i, b"tx")).collect(),
        state_writes,
        objects,
        meta: vec![("latest".into(), n.to_be_bytes().to_vec())],
    }
}

fn digest(n: u64, i: u64, tag: &[u8]) -> Hash32 {
    sha256(&[tag, &n.to_be_bytes(), &i.to_be_bytes()].concat())
}

fn batch_bytes(b: &CommitBatch) -> usize {
    let state: usize = b.state_writes.iter().map(|(k, v)| k.len() + v.as_ref().map_or(0, Vec::len)).sum();
    let objects: usize = b.objects.iter().map(|(_, v)| 32 + v.len()).sum();
    state + objects + 32 * b.tx_hashes.len() + b.block.len() + b.receipts.len()
}
