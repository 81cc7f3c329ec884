//! Property test: on random histories of state writes, every backend answers every `state_get`
//! and `state_range` exactly as a `BTreeMap` model does, and paging through a prefix with any
//! limit returns the whole prefix once, in order.

use std::collections::BTreeMap;

use civic_store::{CommitBatch, FjallStore, MemoryStore, RedbStore, Store};
use civic_types::{Height, sha256};
use proptest::prelude::*;

type Write = (Vec<u8>, Option<Vec<u8>>);

#[derive(Debug, Clone)]
struct Query {
    prefix: Vec<u8>,
    start_after: Option<Vec<u8>>,
    limit: usize,
}

/// Short keys over a tiny alphabet, so prefixes, shared stems and the byte extremes collide.
fn key() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(vec![0x00u8, b'a', b'b', 0xff]), 0..4)
}

fn batches() -> impl Strategy<Value = Vec<Vec<Write>>> {
    let write = (key(), prop::option::of(prop::collection::vec(any::<u8>(), 0..8)));
    prop::collection::vec(prop::collection::vec(write, 0..16), 1..5)
}

fn queries() -> impl Strategy<Value = Vec<Query>> {
    let query = (key(), prop::option::of(key()), 0usize..6).prop_map(|(prefix, start_after, limit)| Query {
        prefix,
        start_after,
        limit,
    });
    prop::collection::vec(query, 1..8)
}

fn model_range(model: &BTreeMap<Vec<u8>, Vec<u8>>, q: &Query) -> Vec<(Vec<u8>, Vec<u8>)> {
    model
        .iter()
        .filter(|(k, _)| k.starts_with(&q.prefix))
        .filter(|(k, _)| q.start_after.as_ref().is_none_or(|after| *k > after))
        .take(q.limit)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn check(store: &impl Store, batches: &[Vec<Write>], queries: &[Query]) -> Result<(), TestCaseError> {
    let mut model = BTreeMap::new();
    for (n, writes) in (0u64..).zip(batches) {
        let block = n.to_be_bytes().to_vec();
        store
            .commit(CommitBatch {
                height: Height::new(n),
                block_hash: sha256(&block),
                block,
                state_writes: writes.clone(),
                ..CommitBatch::default()
            })
            .unwrap();
        for (k, v) in writes {
            match v {
                Some(v) => model.insert(k.clone(), v.clone()),
                None => model.remove(k),
            };
        }

        for (k, v) in &model {
            prop_assert_eq!(store.state_get(k).unwrap(), Some(v.clone()));
        }
        for (k, _) in writes {
            prop_assert_eq!(store.state_get(k).unwrap(), model.get(k).cloned());
        }
        for q in queries {
            let got = store.state_range(&q.prefix, q.start_after.as_deref(), q.limit).unwrap();
            prop_assert_eq!(got, model_range(&model, q), "query {:?}", q);

            let limit = q.limit.max(1);
            let mut paged = Vec::new();
            let mut after: Option<Vec<u8>> = None;
            loop {
                let page = store.state_range(&q.prefix, after.as_deref(), limit).unwrap();
                // Stop rather than loop forever on a page that does not move on.
                prop_assert!(page.len() <= limit);
                if let (Some(after), Some((first, _))) = (&after, page.first()) {
                    prop_assert!(first > after, "page after {:?} starts at {:?}", after, first);
                }
                let Some((last, _)) = page.last() else { break };
                after = Some(last.clone());
                paged.extend(page);
            }
            let whole = Query { start_after: None, limit: usize::MAX, ..q.clone() };
            prop_assert_eq!(paged, model_range(&model, &whole), "paging {:?}", q);
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn memory_matches_model(batches in batches(), queries in queries()) {
        check(&MemoryStore::new(), &batches, &queries)?;
    }
}

proptest! {
    // Every case creates a file and fsyncs each commit, so fewer cases.
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn redb_matches_model(batches in batches(), queries in queries()) {
        let dir = tempfile::tempdir().unwrap();
        let store = RedbStore::open(dir.path().join("civic.redb")).unwrap();
        check(&store, &batches, &queries)?;
    }
}

proptest! {
    // Every case creates a database directory and fsyncs each commit, so fewer cases.
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn fjall_matches_model(batches in batches(), queries in queries()) {
        let dir = tempfile::tempdir().unwrap();
        let store = FjallStore::open(dir.path()).unwrap();
        check(&store, &batches, &queries)?;
    }
}
