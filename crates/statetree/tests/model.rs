//! The tree against a naive reference: the root recomputed from the full sorted set of entries,
//! straight from the definition, and a `BTreeMap` for lookups. Also versioning, proofs under
//! tampering, and the golden root that pins the on-chain format.

use std::collections::{BTreeMap, BTreeSet};

use civic_statetree::{Node, PathEnd, Proof, ProofError, get, prove, update};
use civic_types::{Hash32, sha256};
use proptest::prelude::*;

type Store = BTreeMap<Hash32, Vec<u8>>;
type Model = BTreeMap<Hash32, Hash32>;
type Op = (Hash32, Option<Hash32>);

/// Bit `i` of `key`, most significant bit of byte 0 first, written independently of the crate.
fn ref_bit(key: &Hash32, i: usize) -> bool {
    key.0[i / 8] & (0x80 >> (i % 8)) != 0
}

/// The definition: empty → zero; one entry → its leaf; otherwise an internal node over the
/// entries split by the bit at this depth.
fn reference_root(entries: &[(Hash32, Hash32)], depth: usize) -> Hash32 {
    match entries {
        [] => Hash32::ZERO,
        [(k, v)] => sha256(&[&[0x00][..], &k.0, &v.0].concat()),
        _ => {
            let (right, left): (Vec<_>, Vec<_>) =
                entries.iter().copied().partition(|(k, _)| ref_bit(k, depth));
            let l = reference_root(&left, depth + 1);
            let r = reference_root(&right, depth + 1);
            sha256(&[&[0x01][..], &l.0, &r.0].concat())
        }
    }
}

fn reference(model: &Model) -> Hash32 {
    let entries: Vec<_> = model.iter().map(|(k, v)| (*k, *v)).collect();
    reference_root(&entries, 0)
}

/// Every node hash reachable from `root`.
fn reachable(store: &Store, root: Hash32) -> BTreeSet<Hash32> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![root];
    while let Some(h) = stack.pop() {
        if h == Hash32::ZERO || !seen.insert(h) {
            continue;
        }
        if let Node::Internal { left, right } = Node::decode(&store[&h]).unwrap() {
            stack.push(left);
            stack.push(right);
        }
    }
    seen
}

/// Applies one batch, checks what it emitted, stores it and returns the new root.
fn apply(store: &mut Store, root: Hash32, changes: &BTreeMap<Hash32, Option<Hash32>>) -> Hash32 {
    let old = reachable(store, root);
    let up = update(store, root, changes).unwrap();
    let mut emitted = BTreeSet::new();
    for (hash, bytes) in &up.new_nodes {
        assert_eq!(sha256(bytes), *hash, "emitted node is not addressed by its hash");
        assert!(emitted.insert(*hash), "node {hash} emitted twice");
        assert!(!old.contains(hash), "node {hash} already in the old tree was emitted");
    }
    store.extend(up.new_nodes);
    up.root
}

fn apply_to_model(model: &mut Model, changes: &BTreeMap<Hash32, Option<Hash32>>) {
    for (k, v) in changes {
        match v {
            Some(v) => model.insert(*k, *v),
            None => model.remove(k),
        };
    }
}

fn flip(h: &Hash32, byte: usize) -> Hash32 {
    let mut out = *h;
    out.0[byte % 32] ^= 1;
    out
}

/// Checks `get` and `prove` for `key` under `root` against `model`, and that tampered proofs and
/// false claims are rejected.
fn check_key(store: &Store, root: Hash32, model: &Model, key: &Hash32) {
    let expected = model.get(key);
    assert_eq!(get(store, root, key).unwrap().as_ref(), expected);
    let proof = prove(store, root, key).unwrap();
    assert_eq!(proof.verify(&root, key, expected), Ok(()));

    // The opposite claim, another value, another root.
    match expected {
        Some(v) => {
            assert_eq!(proof.verify(&root, key, None), Err(ProofError::ShowsPresent));
            let other = flip(v, 0);
            assert!(matches!(proof.verify(&root, key, Some(&other)), Err(ProofError::ValueMismatch { .. })));
            assert!(proof.verify(&root, &flip(key, 31), Some(v)).is_err());
        }
        None => {
            assert_eq!(proof.verify(&root, key, Some(&sha256(b"any"))), Err(ProofError::ShowsAbsent));
        }
    }
    assert!(matches!(proof.verify(&flip(&root, 5), key, expected), Err(ProofError::RootMismatch { .. })));

    // Tampered siblings and path ends.
    let n = proof.siblings.len();
    for i in [0, n / 2, n.saturating_sub(1)] {
        if i < n {
            let mut bad = proof.clone();
            bad.siblings[i] = flip(&bad.siblings[i], i);
            assert!(bad.verify(&root, key, expected).is_err(), "sibling {i} flipped");
        }
    }
    let mut longer = proof.clone();
    longer.siblings.push(Hash32::ZERO);
    assert!(longer.verify(&root, key, expected).is_err());
    if n > 0 {
        let mut shorter = proof.clone();
        shorter.siblings.pop();
        assert!(shorter.verify(&root, key, expected).is_err());
    }
    if let PathEnd::Leaf { key_hash, value_hash } = proof.end {
        let mut bad = proof.clone();
        bad.end = PathEnd::Leaf { key_hash, value_hash: flip(&value_hash, 9) };
        assert!(bad.verify(&root, key, expected).is_err());
        let mut bad = proof.clone();
        bad.end = PathEnd::Leaf { key_hash: flip(&key_hash, 31), value_hash };
        assert!(bad.verify(&root, key, expected).is_err());
        let mut bad = proof.clone();
        bad.end = PathEnd::Empty;
        assert!(bad.verify(&root, key, None).is_err());
    }
}

/// Keys chosen to share long prefixes with each other (down to differing only in the last bit, a
/// leaf at depth 256), plus the extremes and some ordinary hashes.
fn key_pool() -> Vec<Hash32> {
    let base = sha256(b"base");
    let mut pool = vec![base, Hash32::ZERO, Hash32([0xff; 32])];
    for bit in [0, 1, 2, 7, 8, 9, 63, 128, 200, 254, 255] {
        let mut k = base;
        k.0[bit / 8] ^= 0x80 >> (bit % 8);
        pool.push(k);
    }
    let mut both = base;
    both.0[31] ^= 0b11;
    pool.push(both);
    let mut zero_last = Hash32::ZERO;
    zero_last.0[31] = 1;
    pool.push(zero_last);
    pool.extend((0u8..16).map(|i| sha256(&[i])));
    pool
}

fn value_pool() -> Vec<Hash32> {
    (0u8..4).map(|i| sha256(&[b'v', i])).collect()
}

fn key_strategy() -> impl Strategy<Value = Hash32> {
    prop_oneof![
        4 => prop::sample::select(key_pool()),
        1 => any::<[u8; 32]>().prop_map(Hash32),
    ]
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let value = prop_oneof![3 => prop::sample::select(value_pool()).prop_map(Some), 1 => Just(None)];
    (key_strategy(), value)
}

/// Splits `ops` at the given cut points into consecutive batches; within a batch the last change
/// to a key wins, as it would applied one by one.
fn batches(ops: &[Op], cuts: &[prop::sample::Index]) -> Vec<BTreeMap<Hash32, Option<Hash32>>> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c.index(ops.len() + 1)).collect();
    points.extend([0, ops.len()]);
    points.sort_unstable();
    points.dedup();
    points.windows(2).map(|w| ops[w[0]..w[1]].iter().copied().collect()).collect()
}

/// Applies `batches` to an empty tree, without the per-batch checks of [`apply`].
fn apply_all(batches: &[BTreeMap<Hash32, Option<Hash32>>]) -> (Store, Hash32) {
    let mut store = Store::new();
    let mut root = Hash32::ZERO;
    for b in batches {
        let up = update(&store, root, b).unwrap();
        store.extend(up.new_nodes);
        root = up.root;
    }
    (store, root)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn tree_matches_reference_and_model(
        ops in proptest::collection::vec(op_strategy(), 0..64),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
        other_cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
        probes in proptest::collection::vec(any::<[u8; 32]>().prop_map(Hash32), 0..4),
    ) {
        let mut store = Store::new();
        let mut root = Hash32::ZERO;
        let mut model = Model::new();
        let mut history = vec![(root, model.clone())];
        for batch in batches(&ops, &cuts) {
            root = apply(&mut store, root, &batch);
            apply_to_model(&mut model, &batch);
            prop_assert_eq!(root, reference(&model));
            history.push((root, model.clone()));
        }

        // Other groupings: everything at once, one change per batch, another random split.
        let all_at_once: BTreeMap<_, _> = ops.iter().copied().collect();
        prop_assert_eq!(apply_all(&[all_at_once]).1, root);
        let one_by_one: Vec<BTreeMap<_, _>> = ops.iter().map(|op| [*op].into_iter().collect()).collect();
        prop_assert_eq!(apply_all(&one_by_one).1, root);
        prop_assert_eq!(apply_all(&batches(&ops, &other_cuts)).1, root);

        // Every version, including the old ones, answers and proves every key correctly.
        let mut keys: BTreeSet<Hash32> = key_pool().into_iter().collect();
        keys.extend(ops.iter().map(|(k, _)| *k));
        keys.extend(probes);
        for (version_root, version_model) in &history {
            for key in &keys {
                check_key(&store, *version_root, version_model, key);
            }
        }
        for key in &keys {
            let proof = prove(&store, root, key).unwrap();
            let json = serde_json::to_string(&proof).unwrap();
            prop_assert_eq!(serde_json::from_str::<Proof>(&json).unwrap(), proof);
        }

        // Deleting everything, in one batch or key by key, returns to the empty root.
        let delete_all: BTreeMap<_, _> = model.keys().map(|k| (*k, None)).collect();
        let up = update(&store, root, &delete_all).unwrap();
        prop_assert_eq!(up.root, Hash32::ZERO);
        prop_assert!(up.new_nodes.is_empty());
        let mut r = root;
        for k in model.keys() {
            r = apply(&mut store, r, &[(*k, None)].into_iter().collect());
        }
        prop_assert_eq!(r, Hash32::ZERO);
    }
}

fn entries(range: std::ops::Range<u32>, tag: &[u8]) -> BTreeMap<Hash32, Option<Hash32>> {
    range.map(|i| (sha256(&i.to_be_bytes()), Some(sha256(&[tag, &i.to_be_bytes()].concat())))).collect()
}

#[test]
fn old_roots_keep_proving_old_values() {
    let mut store = Store::new();
    let v1_changes = entries(0..300, b"v1");
    let root1 = apply(&mut store, Hash32::ZERO, &v1_changes);
    let mut model1 = Model::new();
    apply_to_model(&mut model1, &v1_changes);

    // Overwrite 100 keys, delete 100, insert 100 new ones.
    let mut v2_changes = entries(0..100, b"v2");
    v2_changes.extend((100u32..200).map(|i| (sha256(&i.to_be_bytes()), None)));
    v2_changes.extend(entries(300..400, b"v2"));
    let root2 = apply(&mut store, root1, &v2_changes);
    let mut model2 = model1.clone();
    apply_to_model(&mut model2, &v2_changes);
    assert_ne!(root1, root2);
    assert_eq!(root2, reference(&model2));

    for i in (0u32..400).step_by(7) {
        let key = sha256(&i.to_be_bytes());
        check_key(&store, root1, &model1, &key);
        check_key(&store, root2, &model2, &key);
    }
    // A proof for the new root does not verify against the old one, and vice versa.
    let key = sha256(&5u32.to_be_bytes());
    let new_value = model2[&key];
    let proof2 = prove(&store, root2, &key).unwrap();
    assert!(proof2.verify(&root1, &key, Some(&new_value)).is_err());
    let proof1 = prove(&store, root1, &key).unwrap();
    assert!(proof1.verify(&root1, &key, Some(&new_value)).is_err());
}

#[test]
fn larger_tree_matches_reference_in_any_grouping() {
    let changes = entries(0..2_000, b"v");
    let (_, at_once) = apply_all(std::slice::from_ref(&changes));
    let mut model = Model::new();
    apply_to_model(&mut model, &changes);
    assert_eq!(at_once, reference(&model));

    let items: Vec<_> = changes.into_iter().collect();
    let chunks: Vec<BTreeMap<_, _>> = items.chunks(333).map(|c| c.iter().copied().collect()).collect();
    assert_eq!(apply_all(&chunks).1, at_once);
}

#[test]
fn keys_differing_in_the_last_bit_sit_at_depth_256() {
    let a = sha256(b"deep");
    let b = flip(&a, 31);
    let mut b_last = a;
    b_last.0[31] ^= 1;
    assert_eq!(b, b_last);
    let mut store = Store::new();
    let changes = [(a, Some(sha256(b"1"))), (b, Some(sha256(b"2")))].into_iter().collect();
    let root = apply(&mut store, Hash32::ZERO, &changes);
    let proof = prove(&store, root, &a).unwrap();
    assert_eq!(proof.siblings.len(), 256);
    assert_eq!(proof.verify(&root, &a, Some(&sha256(b"1"))), Ok(()));
    assert_eq!(civic_types::encode(&proof).len(), Proof::MAX_ENCODED_LEN);
}

/// A change here means the state root format changed: every committed state root would differ.
/// That is a consensus-breaking change and needs a deliberate migration, not a new constant.
#[test]
fn golden_root() {
    let changes: BTreeMap<_, _> = [("a", "1"), ("b", "2"), ("c", "3")]
        .into_iter()
        .map(|(k, v)| (sha256(k.as_bytes()), Some(sha256(v.as_bytes()))))
        .collect();
    let mut store = Store::new();
    let root = apply(&mut store, Hash32::ZERO, &changes);
    assert_eq!(root.to_hex(), "8e2a164a410203f51300d7c6645b7a37f549768457be109acc126c63573a9e0a");

    let proof = prove(&store, root, &sha256(b"a")).unwrap();
    let json = serde_json::to_value(&proof).unwrap();
    assert_eq!(json["end"]["leaf"]["key_hash"], sha256(b"a").to_hex());
    assert_eq!(json["siblings"].as_array().unwrap().len(), proof.siblings.len());
}
