//! Runs the conformance suite on every backend, then checks what only the durable backends can
//! do: keep their chain across close and reopen, refuse a second open of the same file or
//! directory, and refuse data that is not a store.

use std::cell::Cell;
use std::sync::Arc;

use civic_store::conformance::{self, sample_batch, verify_sample_chain};
use civic_store::{FjallStore, MemoryStore, RedbStore, Store, StoreError};
use civic_types::Height;

#[test]
fn memory_conforms() {
    conformance::run_all(MemoryStore::new);
}

#[test]
fn shared_dyn_store_conforms() {
    conformance::run_all(|| Arc::new(MemoryStore::new()) as Arc<dyn Store>);
}

#[test]
fn redb_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let opened = Cell::new(0);
    conformance::run_all(|| {
        opened.set(opened.get() + 1);
        RedbStore::open(dir.path().join(format!("store-{}.redb", opened.get()))).unwrap()
    });
}

#[test]
fn fjall_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let opened = Cell::new(0);
    conformance::run_all(|| {
        opened.set(opened.get() + 1);
        FjallStore::open(dir.path().join(format!("store-{}", opened.get()))).unwrap()
    });
}

/// Private entries for `round` of a reopen test: `private/{round}` is written, `private/latest`
/// overwritten and `private/{round - 1}`'s salt deleted.
fn put_private(store: &impl Store, round: u64) {
    let mut entries = vec![
        (format!("private/{round}").into_bytes(), Some(format!("value {round}").into_bytes())),
        (format!("private/{round}/salt").into_bytes(), Some(format!("salt {round}").into_bytes())),
        (b"private/latest".to_vec(), Some(round.to_be_bytes().to_vec())),
    ];
    if let Some(previous) = round.checked_sub(1) {
        entries.push((format!("private/{previous}/salt").into_bytes(), None));
    }
    store.private_put(entries).unwrap();
}

/// Checks the private entries of rounds `0..=latest` of [`put_private`].
fn verify_private(store: &impl Store, latest: u64) {
    for round in 0..=latest {
        let get = |key: String| store.private_get(key.as_bytes()).unwrap();
        assert_eq!(
            get(format!("private/{round}")),
            Some(format!("value {round}").into_bytes()),
            "round {round}"
        );
        let salt = (round == latest).then(|| format!("salt {round}").into_bytes());
        assert_eq!(get(format!("private/{round}/salt")), salt, "salt of round {round}");
    }
    assert_eq!(store.private_get(b"private/latest").unwrap(), Some(latest.to_be_bytes().to_vec()));
    assert_eq!(store.private_get(format!("private/{}", latest + 1).as_bytes()).unwrap(), None);
    // Private entries never show up as state.
    assert!(store.state_range(b"private/", None, usize::MAX).unwrap().is_empty());
}

fn commit_samples(store: &impl Store, heights: std::ops::Range<u64>) {
    for n in heights {
        store.commit(sample_batch(Height::new(n))).unwrap();
    }
}

#[test]
fn redb_keeps_the_chain_across_close_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("civic.redb");

    let store = RedbStore::open(&path).unwrap();
    commit_samples(&store, 0..5);
    put_private(&store, 0);
    store.close().unwrap();

    let store = RedbStore::open(&path).unwrap();
    assert_eq!(verify_sample_chain(&store, Some(Height::new(4))), Some(Height::new(4)));
    verify_private(&store, 0);
    commit_samples(&store, 5..6);
    put_private(&store, 1);
    // Dropping without close() must release the file as well.
    drop(store);

    let store = RedbStore::open(&path).unwrap();
    assert_eq!(verify_sample_chain(&store, Some(Height::new(5))), Some(Height::new(5)));
    verify_private(&store, 1);
    let err = store.commit(sample_batch(Height::new(5))).unwrap_err();
    assert!(matches!(err, StoreError::HeightGap { .. }), "{err:?}");
}

#[test]
fn redb_second_open_is_refused_as_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("civic.redb");
    let first = RedbStore::open(&path).unwrap();
    commit_samples(&first, 0..2);

    let err = RedbStore::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::InUse { .. }), "{err:?}");
    assert!(!err.is_fatal());
    assert!(err.to_string().contains("in use by another civic process"), "{err}");

    // The refused open left the first handle and the file intact.
    commit_samples(&first, 2..3);
    assert_eq!(verify_sample_chain(&first, Some(Height::new(2))), Some(Height::new(2)));
    first.close().unwrap();
    let reopened = RedbStore::open(&path).unwrap();
    assert_eq!(verify_sample_chain(&reopened, Some(Height::new(2))), Some(Height::new(2)));
}

#[test]
fn redb_refuses_a_file_that_is_not_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("civic.redb");
    let junk: Vec<u8> = (0..64 * 1024u32).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(&path, &junk).unwrap();

    let err = RedbStore::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
    assert!(err.is_fatal());
    assert!(err.to_string().contains("restore the data directory"), "{err}");
    // The refusal did not touch the file.
    assert_eq!(std::fs::read(&path).unwrap(), junk);
}

#[test]
fn redb_verified_open_never_serves_damaged_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("civic.redb");
    let store = RedbStore::open(&path).unwrap();
    commit_samples(&store, 0..20);
    store.close().unwrap();
    let pristine = std::fs::read(&path).unwrap();

    // Damage one 4 KiB page at a time. A page in use must be reported as corruption; a free
    // page may go unnoticed, but then every read must still be right.
    const PAGE: usize = 4096;
    let mut refused = 0;
    for start in (0..pristine.len()).step_by(PAGE) {
        let mut damaged = pristine.clone();
        let end = (start + PAGE).min(damaged.len());
        damaged[start..end].iter_mut().for_each(|b| *b ^= 0x5a);
        let path = dir.path().join(format!("damaged-{start}.redb"));
        std::fs::write(&path, &damaged).unwrap();
        match RedbStore::open_verified(&path) {
            Ok(store) => {
                assert_eq!(
                    verify_sample_chain(&store, Some(Height::new(19))),
                    Some(Height::new(19)),
                    "page at {start} damaged"
                );
            }
            Err(err) => {
                assert!(matches!(err, StoreError::Corrupt(_)), "page at {start}: {err:?}");
                refused += 1;
            }
        }
    }
    assert!(refused > 0, "no damaged page was detected");
}

#[test]
fn fjall_keeps_the_chain_across_close_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("civic.fjall");

    let store = FjallStore::open(&path).unwrap();
    commit_samples(&store, 0..5);
    put_private(&store, 0);
    store.close().unwrap();

    let store = FjallStore::open(&path).unwrap();
    assert_eq!(verify_sample_chain(&store, Some(Height::new(4))), Some(Height::new(4)));
    verify_private(&store, 0);
    commit_samples(&store, 5..6);
    put_private(&store, 1);
    // Dropping without close() must release the directory as well.
    drop(store);

    let store = FjallStore::open(&path).unwrap();
    assert_eq!(verify_sample_chain(&store, Some(Height::new(5))), Some(Height::new(5)));
    verify_private(&store, 1);
    let err = store.commit(sample_batch(Height::new(5))).unwrap_err();
    assert!(matches!(err, StoreError::HeightGap { .. }), "{err:?}");
    commit_samples(&store, 6..7);
    assert_eq!(verify_sample_chain(&store, Some(Height::new(6))), Some(Height::new(6)));
}

#[test]
fn fjall_second_open_is_refused_as_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("civic.fjall");
    let first = FjallStore::open(&path).unwrap();
    commit_samples(&first, 0..2);

    let err = FjallStore::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::InUse { .. }), "{err:?}");
    assert!(!err.is_fatal());
    assert!(err.to_string().contains("in use by another civic process"), "{err}");

    // The refused open left the first handle and the directory intact.
    commit_samples(&first, 2..3);
    assert_eq!(verify_sample_chain(&first, Some(Height::new(2))), Some(Height::new(2)));
    first.close().unwrap();
    let reopened = FjallStore::open(&path).unwrap();
    assert_eq!(verify_sample_chain(&reopened, Some(Height::new(2))), Some(Height::new(2)));
}

#[test]
fn fjall_refuses_a_file_where_its_directory_should_be() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("civic.redb");
    RedbStore::open(&path).unwrap().close().unwrap();
    let before = std::fs::read(&path).unwrap();

    let err = FjallStore::open(&path).unwrap_err();
    assert!(err.to_string().contains("keeps its data in a directory"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}
