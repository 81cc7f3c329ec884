//! The conformance suite: one function per property every [`Store`] backend must have, each
//! panicking with a message that names the property and what went wrong. Backends call
//! [`run_all`] from their tests with a factory of fresh, empty stores.
//!
//! [`sample_batch`] and [`verify_sample_chain`] are the two halves of a crash test: a child
//! process commits sample batches and reports each acknowledged height; after killing it, the
//! parent reopens the store and checks that it holds exactly a prefix of the sample chain that
//! includes every acknowledged commit.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use civic_types::{Hash32, Height, sha256};

use crate::{CommitBatch, MAX_KEY_BYTES, Store, StoreError, TxLocation};

/// Runs every property, each on a fresh store from `make`.
pub fn run_all<S: Store>(make: impl Fn() -> S) {
    empty_store(&make());
    commit_and_read_back(&make());
    heights_must_be_consecutive(&make());
    duplicates_are_refused(&make());
    delete_via_none(&make());
    later_write_in_batch_wins(&make());
    state_range_orders_and_pages(&make());
    objects_are_insert_only(&make());
    tx_locations_across_blocks(&make());
    block_hashes_map_to_heights(&make());
    meta_overwrites(&make());
    reads_see_whole_commits(&make());
    key_lengths_at_the_limits(&make());
    sample_chain_verifies(&make());
    private_put_overwrite_delete(&make());
    private_batches_are_atomic(&make());
    private_data_is_apart_from_the_chain(&make());
    private_writes_run_alongside_commits(&make());
    private_range_orders_and_pages(&make());
    private_put_takes_large_batches(&make());
}

/// A fresh store holds nothing and has no latest height.
pub fn empty_store<S: Store + ?Sized>(store: &S) {
    let p = "empty store";
    assert_eq!(ok(p, store.latest_height()), None, "{p}: latest height");
    assert_eq!(ok(p, store.block(h(0))), None, "{p}: block 0");
    assert_eq!(ok(p, store.receipts(h(0))), None, "{p}: receipts 0");
    assert_eq!(ok(p, store.block_hash_height(&hash("x"))), None, "{p}: block hash");
    assert_eq!(ok(p, store.tx_location(&hash("x"))), None, "{p}: tx location");
    assert_eq!(ok(p, store.state_get(b"k")), None, "{p}: state key");
    assert!(ok(p, store.state_range(b"", None, 10)).is_empty(), "{p}: state range");
    assert_eq!(ok(p, store.object(&hash("x"))), None, "{p}: object");
    assert_eq!(ok(p, store.meta("k")), None, "{p}: meta");
    assert_eq!(ok(p, store.private_get(b"k")), None, "{p}: private key");
}

/// Every kind of data in a commit reads back as written.
pub fn commit_and_read_back<S: Store + ?Sized>(store: &S) {
    let p = "commit and read back";
    let batch = CommitBatch {
        tx_hashes: vec![hash("tx a"), hash("tx b")],
        state_writes: vec![
            (b"acct/alice".to_vec(), Some(b"100".to_vec())),
            (b"acct/bob".to_vec(), Some(b"7".to_vec())),
        ],
        objects: vec![(hash("obj"), b"object bytes".to_vec())],
        meta: vec![("chain_id".into(), b"civic-test".to_vec())],
        ..block_batch(0)
    };
    ok(p, store.commit(batch.clone()));

    assert_eq!(ok(p, store.latest_height()), Some(h(0)), "{p}: latest height");
    assert_eq!(ok(p, store.block(h(0))), Some(batch.block), "{p}: block");
    assert_eq!(ok(p, store.receipts(h(0))), Some(batch.receipts), "{p}: receipts");
    assert_eq!(ok(p, store.block_hash_height(&batch.block_hash)), Some(h(0)), "{p}: block hash");
    assert_eq!(ok(p, store.tx_location(&hash("tx b"))), Some(at(0, 1)), "{p}: tx location");
    assert_eq!(ok(p, store.state_get(b"acct/alice")), Some(b"100".to_vec()), "{p}: state");
    assert_eq!(
        ok(p, store.state_range(b"acct/", None, 10)),
        vec![(b"acct/alice".to_vec(), b"100".to_vec()), (b"acct/bob".to_vec(), b"7".to_vec())],
        "{p}: state range"
    );
    assert_eq!(ok(p, store.object(&hash("obj"))), Some(b"object bytes".to_vec()), "{p}: object");
    assert_eq!(ok(p, store.meta("chain_id")), Some(b"civic-test".to_vec()), "{p}: meta");
    assert_eq!(ok(p, store.block(h(1))), None, "{p}: block 1 was never written");
}

/// Heights start at 0 and go up by one; a refused batch is a caller error and leaves no trace.
pub fn heights_must_be_consecutive<S: Store + ?Sized>(store: &S) {
    let p = "heights must be consecutive";
    expect_height_gap(p, store, noisy_batch(1), 0, 1);
    assert_eq!(ok(p, store.latest_height()), None, "{p}: refused genesis");

    ok(p, store.commit(block_batch(0)));
    expect_height_gap(p, store, noisy_batch(0), 1, 0);
    expect_height_gap(p, store, noisy_batch(2), 1, 2);
    assert_eq!(ok(p, store.latest_height()), Some(h(0)), "{p}: after refusals");
    assert_eq!(ok(p, store.block(h(2))), None, "{p}: refused block 2");

    ok(p, store.commit(block_batch(1)));
    assert_eq!(ok(p, store.latest_height()), Some(h(1)), "{p}: after block 1");
}

/// A block hash or transaction hash is stored once; a batch repeating one is refused whole.
pub fn duplicates_are_refused<S: Store + ?Sized>(store: &S) {
    let p = "duplicates are refused";
    let genesis = CommitBatch { tx_hashes: vec![hash("t0")], ..block_batch(0) };
    ok(p, store.commit(genesis.clone()));

    let same_hash = CommitBatch { block_hash: genesis.block_hash, ..noisy_batch(1) };
    let err = refused(p, store, same_hash);
    assert!(
        matches!(err, StoreError::DuplicateBlock { hash, height } if hash == genesis.block_hash && height == h(0)),
        "{p}: repeated block hash gave {err:?}"
    );
    assert_no_trace(p, store, 1);

    let old_tx = CommitBatch { tx_hashes: vec![hash("t1"), hash("t0")], ..noisy_batch(1) };
    expect_duplicate_tx(p, store, old_tx, hash("t0"), at(0, 0));
    assert_no_trace(p, store, 1);
    assert_eq!(ok(p, store.tx_location(&hash("t1"))), None, "{p}: refused tx");

    let twice = CommitBatch { tx_hashes: vec![hash("t1"), hash("t2"), hash("t1")], ..noisy_batch(1) };
    expect_duplicate_tx(p, store, twice, hash("t1"), at(1, 0));
    assert_no_trace(p, store, 1);

    ok(p, store.commit(block_batch(1)));
    assert_eq!(ok(p, store.latest_height()), Some(h(1)), "{p}: after refusals");
}

/// Writing `None` deletes a key; deleting an absent key is allowed.
pub fn delete_via_none<S: Store + ?Sized>(store: &S) {
    let p = "delete via None";
    ok(
        p,
        store.commit(CommitBatch { state_writes: vec![put("k/1", "a"), put("k/2", "b")], ..block_batch(0) }),
    );
    ok(
        p,
        store.commit(CommitBatch {
            state_writes: vec![del("k/1"), del("k/absent"), put("k/2", "c")],
            ..block_batch(1)
        }),
    );
    assert_eq!(ok(p, store.state_get(b"k/1")), None, "{p}: deleted key");
    assert_eq!(ok(p, store.state_get(b"k/absent")), None, "{p}: absent key");
    assert_eq!(ok(p, store.state_range(b"k/", None, 10)), vec![entry("k/2", "c")], "{p}: range after delete");
}

/// Within one batch, the later write to a key wins, whether it puts or deletes.
pub fn later_write_in_batch_wins<S: Store + ?Sized>(store: &S) {
    let p = "later write in batch wins";
    ok(
        p,
        store.commit(CommitBatch {
            state_writes: vec![
                put("k/put-del", "x"),
                del("k/put-del"),
                del("k/del-put"),
                put("k/del-put", "y"),
                put("k/put-put", "first"),
                put("k/put-put", "second"),
            ],
            meta: vec![("m".into(), b"first".to_vec()), ("m".into(), b"second".to_vec())],
            ..block_batch(0)
        }),
    );
    assert_eq!(
        ok(p, store.state_range(b"k/", None, 10)),
        vec![entry("k/del-put", "y"), entry("k/put-put", "second")],
        "{p}: state"
    );
    assert_eq!(ok(p, store.meta("m")), Some(b"second".to_vec()), "{p}: meta");
}

/// A prefix scan returns the prefix's keys in byte order, pages with `start_after` and `limit`
/// without skipping or repeating, and never strays outside the prefix.
pub fn state_range_orders_and_pages<S: Store + ?Sized>(store: &S) {
    let p = "state range orders and pages";
    let keys: [&[u8]; 10] =
        [b"a0", b"a/2", b"a/", b"b/1", b"a/\xff\xff", b"a/10", b"a/1", b"a/\xff", b"a", b"a/\x00"];
    let writes = keys.iter().map(|k| (k.to_vec(), Some([b"v:", *k].concat()))).collect();
    ok(p, store.commit(CommitBatch { state_writes: writes, ..block_batch(0) }));
    let sorted = |ks: &[&[u8]]| -> Vec<(Vec<u8>, Vec<u8>)> {
        ks.iter().map(|k| (k.to_vec(), [b"v:", *k].concat())).collect()
    };
    let all_a: Vec<&[u8]> = vec![b"a/", b"a/\x00", b"a/1", b"a/10", b"a/2", b"a/\xff", b"a/\xff\xff"];
    let scan = |prefix: &[u8], after: Option<&[u8]>, limit| ok(p, store.state_range(prefix, after, limit));

    assert_eq!(scan(b"a/", None, 100), sorted(&all_a), "{p}: prefix a/");
    assert_eq!(scan(b"a/\xff", None, 100), sorted(&all_a[5..]), "{p}: prefix ending in 0xff");
    assert_eq!(scan(b"c", None, 100), sorted(&[]), "{p}: prefix without keys");
    assert_eq!(scan(b"a/", None, 0), sorted(&[]), "{p}: limit 0");
    assert_eq!(scan(b"a/", None, 3), sorted(&all_a[..3]), "{p}: first page");
    assert_eq!(
        scan(b"", None, 100),
        sorted(&[b"a", b"a/", b"a/\x00", b"a/1", b"a/10", b"a/2", b"a/\xff", b"a/\xff\xff", b"a0", b"b/1"]),
        "{p}: empty prefix is every key"
    );
    assert_eq!(scan(b"a/", Some(b"a/1\x00"), 2), sorted(&all_a[3..5]), "{p}: start_after between keys");
    assert_eq!(scan(b"a/", Some(b"0"), 2), sorted(&all_a[..2]), "{p}: start_after before the prefix");
    assert_eq!(scan(b"a/", Some(b"b"), 2), sorted(&[]), "{p}: start_after beyond the prefix");

    for limit in 1..=all_a.len() + 1 {
        let mut paged = Vec::new();
        let mut after: Option<Vec<u8>> = None;
        loop {
            let page = scan(b"a/", after.as_deref(), limit);
            assert!(page.len() <= limit, "{p}: page longer than limit {limit}");
            // A page that does not move past `start_after` would make callers loop forever.
            if let (Some(after), Some((first, _))) = (&after, page.first()) {
                assert!(first > after, "{p}: page after {after:?} starts at {first:?}");
            }
            let Some((last, _)) = page.last() else { break };
            after = Some(last.clone());
            let full = page.len() == limit;
            paged.extend(page);
            if !full {
                break;
            }
        }
        assert_eq!(paged, sorted(&all_a), "{p}: paging with limit {limit}");
    }
}

/// Objects are insert-only: a hash already stored, or earlier in the batch, keeps its bytes.
pub fn objects_are_insert_only<S: Store + ?Sized>(store: &S) {
    let p = "objects are insert-only";
    ok(
        p,
        store.commit(CommitBatch {
            objects: vec![(hash("x"), b"first".to_vec()), (hash("x"), b"again in batch".to_vec())],
            ..block_batch(0)
        }),
    );
    ok(
        p,
        store.commit(CommitBatch {
            objects: vec![(hash("x"), b"again later".to_vec()), (hash("y"), b"y".to_vec())],
            ..block_batch(1)
        }),
    );
    assert_eq!(ok(p, store.object(&hash("x"))), Some(b"first".to_vec()), "{p}: rewritten hash");
    assert_eq!(ok(p, store.object(&hash("y"))), Some(b"y".to_vec()), "{p}: new hash");
}

/// Transaction locations are (height, position in the block) across many blocks.
pub fn tx_locations_across_blocks<S: Store + ?Sized>(store: &S) {
    let p = "tx locations across blocks";
    let counts = [0u32, 3, 1, 0, 5];
    let tx = |height: usize, index: u32| hash(&format!("tx {height} {index}"));
    for (height, &count) in counts.iter().enumerate() {
        ok(
            p,
            store.commit(CommitBatch {
                tx_hashes: (0..count).map(|i| tx(height, i)).collect(),
                ..block_batch(height as u64)
            }),
        );
    }
    for (height, &count) in counts.iter().enumerate() {
        for index in 0..count {
            assert_eq!(
                ok(p, store.tx_location(&tx(height, index))),
                Some(at(height as u64, index)),
                "{p}: tx {index} of block {height}"
            );
        }
    }
    assert_eq!(ok(p, store.tx_location(&tx(9, 0))), None, "{p}: unknown tx");
}

/// Every committed block's hash maps to its height, and its bytes and receipts to that height.
pub fn block_hashes_map_to_heights<S: Store + ?Sized>(store: &S) {
    let p = "block hashes map to heights";
    let batches: Vec<CommitBatch> = (0..6).map(block_batch).collect();
    for batch in &batches {
        ok(p, store.commit(batch.clone()));
    }
    for batch in &batches {
        let n = batch.height;
        assert_eq!(ok(p, store.block_hash_height(&batch.block_hash)), Some(n), "{p}: hash of block {n}");
        assert_eq!(ok(p, store.block(n)), Some(batch.block.clone()), "{p}: block {n}");
        assert_eq!(ok(p, store.receipts(n)), Some(batch.receipts.clone()), "{p}: receipts {n}");
    }
    assert_eq!(ok(p, store.block_hash_height(&block_batch(6).block_hash)), None, "{p}: uncommitted block");
}

/// A metadata key keeps the value of its latest write.
pub fn meta_overwrites<S: Store + ?Sized>(store: &S) {
    let p = "meta overwrites";
    ok(p, store.commit(CommitBatch { meta: vec![("a".into(), b"1".to_vec())], ..block_batch(0) }));
    ok(
        p,
        store.commit(CommitBatch {
            meta: vec![("a".into(), b"2".to_vec()), ("b".into(), b"3".to_vec())],
            ..block_batch(1)
        }),
    );
    assert_eq!(ok(p, store.meta("a")), Some(b"2".to_vec()), "{p}: a");
    assert_eq!(ok(p, store.meta("b")), Some(b"3".to_vec()), "{p}: b");
}

/// A reader running while blocks are committed never sees part of a commit: the latest height
/// never goes back and always has its block, and one range read never mixes two commits.
pub fn reads_see_whole_commits<S: Store + ?Sized>(store: &S) {
    const COMMITS: u64 = 40;
    const KEYS: usize = 16;
    let p = "reads see whole commits";
    let done = AtomicBool::new(false);

    thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let mut previous = None;
            loop {
                // Read after the flag, so the last pass sees the final commit.
                let finished = done.load(Ordering::Acquire);
                let latest = ok(p, store.latest_height());
                assert!(latest >= previous, "{p}: latest height went from {previous:?} to {latest:?}");
                previous = latest;
                if let Some(n) = latest {
                    assert!(ok(p, store.block(n)).is_some(), "{p}: height {n} without its block");
                    assert!(ok(p, store.receipts(n)).is_some(), "{p}: height {n} without receipts");
                }
                let page = ok(p, store.state_range(b"whole/", None, usize::MAX));
                if let Some((_, first)) = page.first() {
                    assert_eq!(page.len(), KEYS, "{p}: saw {} of the {KEYS} keys", page.len());
                    assert!(
                        page.iter().all(|(_, v)| v == first),
                        "{p}: one range read mixed values of two commits"
                    );
                    let Ok(written_at) = <[u8; 8]>::try_from(first.as_slice()) else {
                        panic!("{p}: read a value of {} bytes, wrote 8", first.len());
                    };
                    let written_at = u64::from_be_bytes(written_at);
                    let now = ok(p, store.latest_height());
                    assert!(
                        now >= Some(h(written_at)),
                        "{p}: saw state of commit {written_at} before its height"
                    );
                }
                if finished {
                    return latest;
                }
            }
        });

        // Tells the reader to finish even if committing panics, so the scope can end.
        struct Finish<'a>(&'a AtomicBool);
        impl Drop for Finish<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Release);
            }
        }
        let finish = Finish(&done);
        for n in 0..COMMITS {
            let value = n.to_be_bytes().to_vec();
            let writes =
                (0..KEYS).map(|i| (format!("whole/{i:02}").into_bytes(), Some(value.clone()))).collect();
            ok(p, store.commit(CommitBatch { state_writes: writes, ..block_batch(n) }));
        }
        drop(finish);

        match reader.join() {
            Ok(last) => assert_eq!(last, Some(h(COMMITS - 1)), "{p}: reader's final view"),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    });
}

/// Empty keys and keys of [`MAX_KEY_BYTES`] are kept like any other; a batch with a longer state
/// or metadata key is refused whole as a caller error.
pub fn key_lengths_at_the_limits<S: Store + ?Sized>(store: &S) {
    let p = "key lengths at the limits";
    let mut longest = b"long/".to_vec();
    longest.resize(MAX_KEY_BYTES, b'x');
    let longest_meta = "m".repeat(MAX_KEY_BYTES);
    ok(
        p,
        store.commit(CommitBatch {
            state_writes: vec![
                (Vec::new(), Some(b"empty".to_vec())),
                (longest.clone(), Some(b"long".to_vec())),
            ],
            meta: vec![(String::new(), b"empty".to_vec()), (longest_meta.clone(), b"long".to_vec())],
            ..block_batch(0)
        }),
    );
    assert_eq!(ok(p, store.state_get(b"")), Some(b"empty".to_vec()), "{p}: empty state key");
    assert_eq!(ok(p, store.state_get(&longest)), Some(b"long".to_vec()), "{p}: longest state key");
    assert_eq!(ok(p, store.meta("")), Some(b"empty".to_vec()), "{p}: empty meta key");
    assert_eq!(ok(p, store.meta(&longest_meta)), Some(b"long".to_vec()), "{p}: longest meta key");
    assert_eq!(
        ok(p, store.state_range(b"", None, 10)),
        vec![(Vec::new(), b"empty".to_vec()), (longest.clone(), b"long".to_vec())],
        "{p}: range over the empty and the longest key"
    );

    let mut too_long = longest.clone();
    too_long.push(b'x');
    let long_state = CommitBatch { state_writes: vec![(too_long, Some(b"v".to_vec()))], ..noisy_batch(1) };
    let err = refused(p, store, long_state);
    assert!(
        matches!(err, StoreError::TooLarge { len, max, .. } if len == MAX_KEY_BYTES + 1 && max == MAX_KEY_BYTES),
        "{p}: state key one byte too long gave {err:?}"
    );
    assert_no_trace(p, store, 1);
    let long_meta = CommitBatch { meta: vec![(longest_meta + "m", b"v".to_vec())], ..noisy_batch(1) };
    let err = refused(p, store, long_meta);
    assert!(matches!(err, StoreError::TooLarge { .. }), "{p}: meta key one byte too long gave {err:?}");
    assert_no_trace(p, store, 1);
    assert_eq!(ok(p, store.latest_height()), Some(h(0)), "{p}: after refusals");
}

/// The crash-test helpers agree with a store that was never interrupted.
pub fn sample_chain_verifies<S: Store + ?Sized>(store: &S) {
    let p = "sample chain verifies";
    assert_eq!(verify_sample_chain(store, None), None, "{p}: empty store");
    for n in 0..12 {
        ok(p, store.commit(sample_batch(h(n))));
        assert_eq!(verify_sample_chain(store, Some(h(n))), Some(h(n)), "{p}: after commit {n}");
    }
}

/// Private entries read back as written; a later write replaces a value, `None` deletes it
/// (an absent key too), and within one batch the later write to a key wins. Empty keys and keys
/// of [`MAX_KEY_BYTES`] are kept like any other.
pub fn private_put_overwrite_delete<S: Store + ?Sized>(store: &S) {
    let p = "private put, overwrite, delete";
    let get = |key: &[u8]| ok(p, store.private_get(key));
    let mut longest = b"long/".to_vec();
    longest.resize(MAX_KEY_BYTES, b'x');

    ok(p, store.private_put(Vec::new()));
    ok(
        p,
        store.private_put(vec![
            put("resident/1/name", "Ada"),
            put("resident/1/salt", "s1"),
            put("resident/2/name", "Bo"),
            (Vec::new(), Some(b"empty".to_vec())),
            (longest.clone(), Some(b"long".to_vec())),
            put("empty value", ""),
        ]),
    );
    assert_eq!(get(b"resident/1/name"), Some(b"Ada".to_vec()), "{p}: put");
    assert_eq!(get(b"resident/1/salt"), Some(b"s1".to_vec()), "{p}: put");
    assert_eq!(get(b""), Some(b"empty".to_vec()), "{p}: empty key");
    assert_eq!(get(&longest), Some(b"long".to_vec()), "{p}: longest key");
    assert_eq!(get(b"empty value"), Some(Vec::new()), "{p}: empty value");
    assert_eq!(get(b"resident/1"), None, "{p}: a prefix of a key is not a key");
    assert_eq!(get(b"resident/3/name"), None, "{p}: never written");

    ok(
        p,
        store.private_put(vec![
            put("resident/1/name", "Ada L."),
            del("resident/2/name"),
            del("resident/absent"),
        ]),
    );
    assert_eq!(get(b"resident/1/name"), Some(b"Ada L.".to_vec()), "{p}: overwritten");
    assert_eq!(get(b"resident/1/salt"), Some(b"s1".to_vec()), "{p}: untouched by a later batch");
    assert_eq!(get(b"resident/2/name"), None, "{p}: deleted");
    assert_eq!(get(b"resident/absent"), None, "{p}: deleted absent key");

    ok(
        p,
        store.private_put(vec![
            put("k/put-del", "x"),
            del("k/put-del"),
            del("k/del-put"),
            put("k/del-put", "y"),
            put("k/put-put", "first"),
            put("k/put-put", "second"),
        ]),
    );
    assert_eq!(get(b"k/put-del"), None, "{p}: put then delete in one batch");
    assert_eq!(get(b"k/del-put"), Some(b"y".to_vec()), "{p}: delete then put in one batch");
    assert_eq!(get(b"k/put-put"), Some(b"second".to_vec()), "{p}: two puts in one batch");
}

/// A private batch with a key longer than [`MAX_KEY_BYTES`] is refused whole, as a caller error:
/// none of its entries, before or after the long key, is written or deleted.
pub fn private_batches_are_atomic<S: Store + ?Sized>(store: &S) {
    let p = "private batches are atomic";
    ok(p, store.private_put(vec![put("kept", "before"), put("doomed", "stays")]));
    let mut too_long = b"long/".to_vec();
    too_long.resize(MAX_KEY_BYTES + 1, b'x');
    let batch = vec![
        put("kept", "overwritten?"),
        del("doomed"),
        put("new", "added?"),
        (too_long.clone(), Some(b"v".to_vec())),
        put("after", "added?"),
    ];
    let err = match store.private_put(batch) {
        Ok(()) => panic!("{p}: a batch with a key one byte too long was accepted"),
        Err(err) => err,
    };
    assert!(
        matches!(err, StoreError::TooLarge { len, max, .. } if len == MAX_KEY_BYTES + 1 && max == MAX_KEY_BYTES),
        "{p}: private key one byte too long gave {err:?}"
    );
    assert!(!err.is_fatal(), "{p}: refusal reported as fatal: {err}");
    assert_eq!(ok(p, store.private_get(b"kept")), Some(b"before".to_vec()), "{p}: refused overwrite");
    assert_eq!(ok(p, store.private_get(b"doomed")), Some(b"stays".to_vec()), "{p}: refused delete");
    assert_eq!(ok(p, store.private_get(b"new")), None, "{p}: refused put");
    assert_eq!(ok(p, store.private_get(b"after")), None, "{p}: refused put after the long key");
    assert_eq!(ok(p, store.private_get(&too_long)), None, "{p}: refused long key");

    ok(p, store.private_put(vec![put("kept", "after"), del("doomed")]));
    assert_eq!(ok(p, store.private_get(b"kept")), Some(b"after".to_vec()), "{p}: after the refusal");
    assert_eq!(ok(p, store.private_get(b"doomed")), None, "{p}: after the refusal");
}

/// Private data and the chain never see each other: a private write needs no height and adds
/// nothing to any chain read, a commit neither reads nor changes private entries under the same
/// key bytes, and `private_get` never returns a state, object or metadata value.
pub fn private_data_is_apart_from_the_chain<S: Store + ?Sized>(store: &S) {
    let p = "private data is apart from the chain";
    let object = hash("shared object");
    // Before any block: a private write is no commit.
    ok(
        p,
        store.private_put(vec![
            put("shared", "private"),
            put("only private", "secret"),
            (Vec::new(), Some(b"private empty".to_vec())),
            (object.0.to_vec(), Some(b"private object".to_vec())),
        ]),
    );
    assert_eq!(ok(p, store.latest_height()), None, "{p}: a private write made a block");
    assert_eq!(ok(p, store.block(h(0))), None, "{p}: block 0 after a private write");
    assert_eq!(ok(p, store.state_get(b"shared")), None, "{p}: private value read as state");
    assert_eq!(ok(p, store.state_get(b"")), None, "{p}: private empty key read as state");
    assert!(ok(p, store.state_range(b"", None, usize::MAX)).is_empty(), "{p}: private data in a range");
    assert_eq!(ok(p, store.object(&object)), None, "{p}: private value read as an object");
    assert_eq!(ok(p, store.meta("shared")), None, "{p}: private value read as metadata");

    ok(p, store.commit(block_batch(0)));
    ok(
        p,
        store.commit(CommitBatch {
            state_writes: vec![put("shared", "state"), put("state only", "public")],
            objects: vec![(object, b"object".to_vec())],
            meta: vec![("shared".into(), b"meta".to_vec())],
            ..block_batch(1)
        }),
    );
    assert_eq!(ok(p, store.private_get(b"shared")), Some(b"private".to_vec()), "{p}: commit changed private");
    assert_eq!(ok(p, store.private_get(&object.0)), Some(b"private object".to_vec()), "{p}: object key");
    assert_eq!(ok(p, store.private_get(b"state only")), None, "{p}: state value read as private");
    assert_eq!(ok(p, store.state_get(b"shared")), Some(b"state".to_vec()), "{p}: state under a shared key");
    assert_eq!(ok(p, store.object(&object)), Some(b"object".to_vec()), "{p}: object under a shared key");
    assert_eq!(ok(p, store.meta("shared")), Some(b"meta".to_vec()), "{p}: meta under a shared key");
    assert_eq!(
        ok(p, store.state_range(b"", None, usize::MAX)),
        vec![entry("shared", "state"), entry("state only", "public")],
        "{p}: range holds only state"
    );

    ok(
        p,
        store
            .commit(CommitBatch { state_writes: vec![del("shared"), del("only private")], ..block_batch(2) }),
    );
    assert_eq!(ok(p, store.private_get(b"shared")), Some(b"private".to_vec()), "{p}: state delete");
    assert_eq!(ok(p, store.private_get(b"only private")), Some(b"secret".to_vec()), "{p}: state delete");
    ok(p, store.private_put(vec![del("shared"), put("state only", "private now")]));
    assert_eq!(ok(p, store.state_get(b"shared")), None, "{p}: deleted state stays deleted");
    assert_eq!(ok(p, store.state_get(b"state only")), Some(b"public".to_vec()), "{p}: private put");
    assert_eq!(ok(p, store.private_get(b"shared")), None, "{p}: private delete");
    assert_eq!(ok(p, store.latest_height()), Some(h(2)), "{p}: private writes made no block");
}

/// Private writes on one thread and commits on another both succeed and both land whole.
pub fn private_writes_run_alongside_commits<S: Store + ?Sized>(store: &S) {
    const ROUNDS: u64 = 30;
    let p = "private writes run alongside commits";
    thread::scope(|scope| {
        let writer = scope.spawn(|| {
            for n in 0..ROUNDS {
                let value = n.to_be_bytes().to_vec();
                ok(
                    p,
                    store.private_put(vec![
                        (b"private/latest".to_vec(), Some(value.clone())),
                        (format!("private/{n:02}").into_bytes(), Some(value)),
                    ]),
                );
                assert_eq!(
                    ok(p, store.private_get(b"private/latest")),
                    Some(n.to_be_bytes().to_vec()),
                    "{p}: own write {n}"
                );
            }
        });
        for n in 0..ROUNDS {
            ok(
                p,
                store.commit(CommitBatch {
                    state_writes: vec![put("private/latest", "state")],
                    ..block_batch(n)
                }),
            );
        }
        if let Err(panic) = writer.join() {
            std::panic::resume_unwind(panic);
        }
    });
    assert_eq!(ok(p, store.latest_height()), Some(h(ROUNDS - 1)), "{p}: every commit");
    for n in 0..ROUNDS {
        let key = format!("private/{n:02}").into_bytes();
        assert_eq!(ok(p, store.private_get(&key)), Some(n.to_be_bytes().to_vec()), "{p}: private write {n}");
    }
    assert_eq!(ok(p, store.state_get(b"private/latest")), Some(b"state".to_vec()), "{p}: state");
    assert_eq!(
        ok(p, store.private_get(b"private/latest")),
        Some((ROUNDS - 1).to_be_bytes().to_vec()),
        "{p}: private"
    );
}

/// A private prefix scan behaves exactly like [`Store::state_range`]: the prefix's keys in byte
/// order (a key that merely shares bytes with the prefix stays out), paged with `start_after`
/// and `limit` without skipping or repeating, deleted keys gone. Private and state scans never
/// see each other's entries, even under the same key bytes.
pub fn private_range_orders_and_pages<S: Store + ?Sized>(store: &S) {
    let p = "private range orders and pages";
    let value = |k: &[u8]| [b"private:", k].concat();
    let keys: [&[u8]; 14] = [
        b"a/10",
        b"ab",
        b"a/1",
        b"a/2",
        b"a",
        b"a/\xff\xff",
        b"a/\xff",
        b"\xff\xff",
        b"\xff",
        b"\xff\xff\x00",
        b"b/1",
        b"",
        b"a/3",
        b"a/4",
    ];
    ok(p, store.private_put(keys.iter().map(|k| (k.to_vec(), Some(value(k)))).collect()));
    // Deleted in a later batch, and put then deleted within one batch.
    ok(p, store.private_put(vec![del("a/3"), put("a/5", "gone"), del("a/5"), del("a/absent")]));
    ok(
        p,
        store.commit(CommitBatch {
            state_writes: vec![
                put("a/1", "state"),
                put("a/6", "state"),
                (b"\xff\xff\x01".to_vec(), Some(b"state".to_vec())),
            ],
            ..block_batch(0)
        }),
    );
    ok(p, store.private_put(vec![del("a/4")]));

    let sorted =
        |ks: &[&[u8]]| -> Vec<(Vec<u8>, Vec<u8>)> { ks.iter().map(|k| (k.to_vec(), value(k))).collect() };
    let all: Vec<&[u8]> = vec![
        b"",
        b"a",
        b"a/1",
        b"a/10",
        b"a/2",
        b"a/\xff",
        b"a/\xff\xff",
        b"ab",
        b"b/1",
        b"\xff",
        b"\xff\xff",
        b"\xff\xff\x00",
    ];
    let scan = |prefix: &[u8], after: Option<&[u8]>, limit| ok(p, store.private_range(prefix, after, limit));

    assert_eq!(scan(b"", None, 100), sorted(&all), "{p}: empty prefix is every private key");
    assert_eq!(scan(b"a/1", None, 100), sorted(&all[2..4]), "{p}: a/1 also prefixes a/10");
    assert_eq!(scan(b"a/", None, 100), sorted(&all[2..7]), "{p}: prefix a/ leaves out ab and a");
    assert_eq!(scan(b"a", None, 100), sorted(&all[1..8]), "{p}: prefix a");
    assert_eq!(scan(b"ab", None, 100), sorted(&all[7..8]), "{p}: prefix ab");
    assert_eq!(scan(b"a/\xff", None, 100), sorted(&all[5..7]), "{p}: prefix ending in 0xff");
    assert_eq!(scan(b"\xff", None, 100), sorted(&all[9..]), "{p}: prefix 0xff");
    assert_eq!(scan(b"\xff\xff", None, 100), sorted(&all[10..]), "{p}: prefix of all 0xff bytes");
    assert_eq!(scan(b"\xff\xff\xff", None, 100), sorted(&[]), "{p}: all-0xff prefix without keys");
    assert_eq!(scan(b"c", None, 100), sorted(&[]), "{p}: prefix without keys");
    assert_eq!(scan(b"a/", None, 0), sorted(&[]), "{p}: limit 0");
    assert_eq!(scan(b"", Some(b"a"), 0), sorted(&[]), "{p}: limit 0 with start_after");
    assert_eq!(scan(b"a/", None, 2), sorted(&all[2..4]), "{p}: first page");
    assert_eq!(scan(b"a/", Some(b"a/10"), 2), sorted(&all[4..6]), "{p}: start_after a key");
    assert_eq!(scan(b"a/", Some(b"a/3"), 10), sorted(&all[5..7]), "{p}: start_after a deleted key");
    assert_eq!(scan(b"a/", Some(b"0"), 2), sorted(&all[2..4]), "{p}: start_after before the prefix");
    assert_eq!(scan(b"a/", Some(b"b"), 2), sorted(&[]), "{p}: start_after beyond the prefix");
    assert_eq!(
        scan(b"\xff\xff", Some(b"\xff\xff"), 10),
        sorted(&all[11..]),
        "{p}: after the 0xff prefix itself"
    );
    for deleted in ["a/3", "a/4", "a/5", "a/absent"] {
        assert!(scan(deleted.as_bytes(), None, 10).is_empty(), "{p}: deleted key {deleted} returned");
    }

    for limit in 1..=all.len() + 1 {
        let mut paged = Vec::new();
        let mut after: Option<Vec<u8>> = None;
        loop {
            let page = scan(b"", after.as_deref(), limit);
            assert!(page.len() <= limit, "{p}: page longer than limit {limit}");
            if let (Some(after), Some((first, _))) = (&after, page.first()) {
                assert!(first > after, "{p}: page after {after:?} starts at {first:?}");
            }
            let Some((last, _)) = page.last() else { break };
            after = Some(last.clone());
            let full = page.len() == limit;
            paged.extend(page);
            if !full {
                break;
            }
        }
        assert_eq!(paged, sorted(&all), "{p}: paging with limit {limit}");
    }

    assert_eq!(
        ok(p, store.state_range(b"", None, usize::MAX)),
        vec![entry("a/1", "state"), entry("a/6", "state"), (b"\xff\xff\x01".to_vec(), b"state".to_vec())],
        "{p}: state range holds only state"
    );
    assert_eq!(
        ok(p, store.state_range(b"a/1", None, 10)),
        vec![entry("a/1", "state")],
        "{p}: state under a shared key"
    );
    assert!(ok(p, store.state_range(b"ab", None, 10)).is_empty(), "{p}: private key in a state range");
}

/// One private write of 20,000 entries of about 150 bytes (a department importing its residents)
/// lands whole and reads back in pages; one more write deletes them all.
pub fn private_put_takes_large_batches<S: Store + ?Sized>(store: &S) {
    const ENTRIES: usize = 20_000;
    const PAGE: usize = 1_000;
    let p = "private put takes large batches";
    let key = |n: usize| format!("import/resident/{n:08}").into_bytes();
    let value = |n: usize| {
        let mut v = format!("attributes of resident {n}:").into_bytes();
        v.resize(150, b'.');
        v
    };
    ok(p, store.private_put((0..ENTRIES).map(|n| (key(n), Some(value(n)))).collect()));

    let mut read = 0;
    let mut after: Option<Vec<u8>> = None;
    loop {
        let page = ok(p, store.private_range(b"import/", after.as_deref(), PAGE));
        for (offset, (k, v)) in page.iter().enumerate() {
            assert_eq!((k, v), (&key(read + offset), &value(read + offset)), "{p}: entry {}", read + offset);
        }
        read += page.len();
        match page.last() {
            Some((last, _)) if page.len() == PAGE => after = Some(last.clone()),
            _ => break,
        }
    }
    assert_eq!(read, ENTRIES, "{p}: entries read back");
    assert!(ok(p, store.state_range(b"", None, 1)).is_empty(), "{p}: private entries in the state");

    ok(p, store.private_put((0..ENTRIES).map(|n| (key(n), None)).collect()));
    assert!(ok(p, store.private_range(b"", None, 1)).is_empty(), "{p}: entries left after deleting all");
}

/// Batch `height` of a deterministic sample chain for crash tests. Each batch overwrites 64
/// shared keys, adds and deletes keys, and writes transactions, objects and metadata, so a
/// partly applied batch cannot pass [`verify_sample_chain`].
pub fn sample_batch(height: Height) -> CommitBatch {
    let n = height.get();
    let mut block = format!("sample block {n}\n").into_bytes();
    block.resize(block.len() + 1024, (n % 251) as u8);
    let mut state_writes = vec![
        (b"sample/latest".to_vec(), Some(n.to_be_bytes().to_vec())),
        (sample_key(n), Some(n.to_be_bytes().to_vec())),
    ];
    if let Some(old) = n.checked_sub(2) {
        state_writes.push((sample_key(old), None));
    }
    state_writes.extend(
        (0..64).map(|i| (format!("sample/bulk/{i:02}").into_bytes(), Some(format!("{n}").into_bytes()))),
    );
    CommitBatch {
        height,
        block_hash: sha256(&block),
        block,
        receipts: format!("sample receipts {n}").into_bytes(),
        tx_hashes: (0..n % 4).map(|i| sample_tx(n, i)).collect(),
        state_writes,
        objects: vec![
            (sample_object(n), format!("sample object {n}").into_bytes()),
            (hash("sample shared object"), b"shared".to_vec()),
        ],
        meta: vec![("sample/latest".into(), n.to_be_bytes().to_vec())],
    }
}

/// Checks that `store` holds exactly sample batches `0..=latest` for some `latest` at or after
/// `acknowledged` (the last height whose commit returned `Ok`), and nothing of batch
/// `latest + 1`. Returns `latest`, `None` for an empty store. Panics on any difference.
pub fn verify_sample_chain<S: Store + ?Sized>(store: &S, acknowledged: Option<Height>) -> Option<Height> {
    let p = "sample chain";
    let latest = ok(p, store.latest_height());
    assert!(
        latest >= acknowledged,
        "{p}: commit {acknowledged:?} was acknowledged but the store ends at {latest:?}"
    );
    let next = latest.map_or(0, |l| l.get() + 1);

    let mut state = BTreeMap::new();
    for n in 0..next {
        let batch = sample_batch(h(n));
        assert_eq!(ok(p, store.block(h(n))), Some(batch.block), "{p}: block {n}");
        assert_eq!(ok(p, store.block_hash_height(&batch.block_hash)), Some(h(n)), "{p}: hash of block {n}");
        assert_eq!(ok(p, store.receipts(h(n))), Some(batch.receipts), "{p}: receipts {n}");
        for (index, tx) in (0u32..).zip(&batch.tx_hashes) {
            assert_eq!(ok(p, store.tx_location(tx)), Some(at(n, index)), "{p}: tx {index} of {n}");
        }
        for (object, bytes) in batch.objects {
            assert_eq!(ok(p, store.object(&object)), Some(bytes), "{p}: objects of {n}");
        }
        for (key, value) in batch.state_writes {
            match value {
                Some(value) => state.insert(key, value),
                None => state.remove(&key),
            };
        }
    }
    let stored = ok(p, store.state_range(b"sample/", None, usize::MAX));
    assert_eq!(stored, state.into_iter().collect::<Vec<_>>(), "{p}: state after block {latest:?}");
    let meta = latest.map(|l| l.get().to_be_bytes().to_vec());
    assert_eq!(ok(p, store.meta("sample/latest")), meta, "{p}: meta");

    let beyond = sample_batch(h(next));
    assert_eq!(ok(p, store.block(h(next))), None, "{p}: block {next} beyond the latest");
    assert_eq!(
        ok(p, store.block_hash_height(&beyond.block_hash)),
        None,
        "{p}: hash of block {next} beyond the latest"
    );
    assert_eq!(ok(p, store.object(&sample_object(next))), None, "{p}: object of {next}");
    for tx in &beyond.tx_hashes {
        assert_eq!(ok(p, store.tx_location(tx)), None, "{p}: tx of {next}");
    }
    latest
}

fn sample_key(n: u64) -> Vec<u8> {
    format!("sample/at/{n:020}").into_bytes()
}

fn sample_tx(n: u64, index: u64) -> Hash32 {
    hash(&format!("sample tx {n} {index}"))
}

fn sample_object(n: u64) -> Hash32 {
    hash(&format!("sample object {n}"))
}

fn ok<T>(property: &str, result: Result<T, StoreError>) -> T {
    result.unwrap_or_else(|e| panic!("{property}: unexpected store error: {e}"))
}

fn h(n: u64) -> Height {
    Height::new(n)
}

fn at(height: u64, index: u32) -> TxLocation {
    TxLocation { height: h(height), index }
}

fn hash(label: &str) -> Hash32 {
    sha256(label.as_bytes())
}

fn put(key: &str, value: &str) -> (Vec<u8>, Option<Vec<u8>>) {
    (key.as_bytes().to_vec(), Some(value.as_bytes().to_vec()))
}

fn del(key: &str) -> (Vec<u8>, Option<Vec<u8>>) {
    (key.as_bytes().to_vec(), None)
}

fn entry(key: &str, value: &str) -> (Vec<u8>, Vec<u8>) {
    (key.as_bytes().to_vec(), value.as_bytes().to_vec())
}

/// A batch with only a block and receipts, distinct per height.
fn block_batch(height: u64) -> CommitBatch {
    let block = format!("block {height}").into_bytes();
    CommitBatch {
        height: h(height),
        block_hash: sha256(&block),
        block,
        receipts: format!("receipts {height}").into_bytes(),
        ..CommitBatch::default()
    }
}

/// A batch at `height` that writes under every kind, for checking that a refused batch leaves
/// no trace (see [`assert_no_trace`]).
fn noisy_batch(height: u64) -> CommitBatch {
    let block = format!("noisy block {height}").into_bytes();
    CommitBatch {
        block_hash: sha256(&block),
        block,
        receipts: b"noisy receipts".to_vec(),
        tx_hashes: vec![hash(&format!("noisy tx {height}"))],
        state_writes: vec![put("noisy", "state")],
        objects: vec![(hash("noisy object"), b"noisy".to_vec())],
        meta: vec![("noisy".into(), b"meta".to_vec())],
        ..block_batch(height)
    }
}

fn assert_no_trace<S: Store + ?Sized>(property: &str, store: &S, height: u64) {
    let p = property;
    let noisy = noisy_batch(height);
    assert_ne!(ok(p, store.block(h(height))), Some(noisy.block), "{p}: refused block stored");
    assert_ne!(ok(p, store.receipts(h(height))), Some(noisy.receipts), "{p}: refused receipts stored");
    assert_eq!(ok(p, store.block_hash_height(&noisy.block_hash)), None, "{p}: refused block hash stored");
    assert_eq!(ok(p, store.tx_location(&noisy.tx_hashes[0])), None, "{p}: refused tx stored");
    assert_eq!(ok(p, store.state_get(b"noisy")), None, "{p}: refused state stored");
    assert_eq!(ok(p, store.object(&hash("noisy object"))), None, "{p}: refused object stored");
    assert_eq!(ok(p, store.meta("noisy")), None, "{p}: refused meta stored");
}

/// Commits `batch`, expecting a refusal, and returns the error after checking it is not fatal.
fn refused<S: Store + ?Sized>(property: &str, store: &S, batch: CommitBatch) -> StoreError {
    let height = batch.height;
    let err = match store.commit(batch) {
        Ok(()) => panic!("{property}: batch at height {height} was accepted, expected a refusal"),
        Err(err) => err,
    };
    assert!(!err.is_fatal(), "{property}: refusal reported as fatal: {err}");
    err
}

fn expect_height_gap<S: Store + ?Sized>(
    property: &str,
    store: &S,
    batch: CommitBatch,
    expected: u64,
    got: u64,
) {
    let p = property;
    let height = batch.height.get();
    let err = refused(p, store, batch);
    assert!(
        matches!(err, StoreError::HeightGap { expected: e, got: g } if e == h(expected) && g == h(got)),
        "{p}: commit at {got} when {expected} is next gave {err:?}"
    );
    assert_no_trace(p, store, height);
}

fn expect_duplicate_tx<S: Store + ?Sized>(
    property: &str,
    store: &S,
    batch: CommitBatch,
    tx: Hash32,
    first: TxLocation,
) {
    let p = property;
    let err = refused(p, store, batch);
    assert!(
        matches!(err, StoreError::DuplicateTx { hash, at } if hash == tx && at == first),
        "{p}: repeated transaction {tx} (first at {first:?}) gave {err:?}"
    );
}
