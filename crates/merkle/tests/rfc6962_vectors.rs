//! Golden tests against the published RFC 6962 test vectors, so a change to any hash or proof
//! format fails loudly.
//!
//! Sources, copied verbatim (hex):
//! - transparency-dev/merkle `testonly/constants.go`: `LeafInputs`, `NodeHashes`, `RootHashes`.
//! - transparency-dev/merkle `proof/verify_test.go`: `inclusionProofs`, `consistencyProofs`,
//!   `roots`, `sha256SomeHash`, and the corruptions of `corruptInclusionProof` /
//!   `corruptConsistencyProof`. The same inclusion and consistency vectors appear in
//!   google/certificate-transparency-go `merkletree/merkle_verifier_test.go`.
//! - RFC 6962 §2.1.3, the worked 7-leaf example (audit paths and consistency proofs stated with
//!   the node labels of its diagram).
//!
//! Those suites number leaves from 1 in their inclusion tables (`leaf: 1, size: 8` is the first
//! leaf); here indices count from 0, as the Go tests do when they call the verifier with
//! `leaf - 1`.

use civic_merkle::{
    EMPTY_ROOT, MerkleError, consistency_proof, inclusion_proof, leaf_hash, node_hash, root,
    root_from_leaf_hashes, verify_consistency, verify_inclusion,
};
use civic_types::Hash32;

fn h(hex: &str) -> Hash32 {
    hex.parse().expect("test vector is 64 hex characters")
}

/// `LeafInputs()`.
const LEAF_INPUTS: [&str; 8] =
    ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"];

/// `RootHashes()`, indexed by tree size from 0.
const ROOT_HASHES: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// `NodeHashes()`: level 0 are the leaf hashes, then each level up.
const NODE_HASHES: [&[&str]; 4] = [
    &[
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    &[
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    &[
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    &["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
];

/// `sha256SomeHash` from `proof/verify_test.go`: a well-formed hash that is no node of the tree.
const SOME_HASH: &str = "abacaba000000000000000000000000000000000000000000060061e00123456";

/// `inclusionProofs` (entries 1..=5; entry 0 is the invalid `{0, 0, nil}`), as
/// (leaf number from 1, tree size, path).
const INCLUSION_PROOFS: [(u64, u64, &[&str]); 5] = [
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (3, 3, &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        2,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

/// `consistencyProofs`, as (old size, new size, path).
const CONSISTENCY_PROOFS: [(u64, u64, &[&str]); 5] = [
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

fn leaf_inputs() -> Vec<Vec<u8>> {
    LEAF_INPUTS.iter().map(|s| hex::decode(s).expect("leaf input is hex")).collect()
}

fn leaf_hashes() -> Vec<Hash32> {
    leaf_inputs().iter().map(|d| leaf_hash(d)).collect()
}

fn tree_root(size: u64) -> Hash32 {
    h(ROOT_HASHES[size as usize])
}

fn path(hexes: &[&str]) -> Vec<Hash32> {
    hexes.iter().map(|s| h(s)).collect()
}

fn flip_bit(hash: Hash32, byte: usize, mask: u8) -> Hash32 {
    let mut bytes = hash.0;
    bytes[byte] ^= mask;
    Hash32(bytes)
}

#[test]
fn roots_of_every_prefix() {
    let inputs = leaf_inputs();
    let hashes = leaf_hashes();
    assert_eq!(EMPTY_ROOT, h(ROOT_HASHES[0]));
    for size in 0..=8 {
        assert_eq!(root(&inputs[..size]), h(ROOT_HASHES[size]), "root of {size} leaves");
        assert_eq!(root_from_leaf_hashes(&hashes[..size]), h(ROOT_HASHES[size]));
    }
}

#[test]
fn leaf_and_node_hashes() {
    let hashes = leaf_hashes();
    let mut level = hashes.clone();
    assert_eq!(level, path(NODE_HASHES[0]));
    for expected in &NODE_HASHES[1..] {
        level = level.chunks(2).map(|pair| node_hash(&pair[0], &pair[1])).collect();
        assert_eq!(level, path(expected));
    }
}

#[test]
fn published_inclusion_proofs_are_generated_and_verify() {
    let hashes = leaf_hashes();
    for &(leaf, size, expected) in &INCLUSION_PROOFS {
        let index = leaf - 1;
        let proof = inclusion_proof(&hashes[..size as usize], index).unwrap();
        assert_eq!(proof.path, path(expected), "path of leaf {index} in a tree of {size}");
        assert_eq!((proof.leaf_index, proof.tree_size), (index, size));
        let leaf_hash = hashes[index as usize];
        let root = tree_root(size);
        assert_eq!(verify_inclusion(leaf_hash, &proof, root), Ok(()));

        // The corruptions of `corruptInclusionProof`; each must be rejected.
        let some = h(SOME_HASH);
        let mut probes = Vec::new();
        let mut with = |desc: String, i: u64, s: u64, leaf: Hash32, p: Vec<Hash32>, r: Hash32| {
            let probe = civic_merkle::InclusionProof { leaf_index: i, tree_size: s, path: p };
            probes.push((desc, probe, leaf, r));
        };
        let p = proof.path.clone();
        // Wrong leaf index (`leafIndex - 1` wraps around in Go, so it is out of range there too).
        with("index - 1".into(), index.wrapping_sub(1), size, leaf_hash, p.clone(), root);
        with("index + 1".into(), index + 1, size, leaf_hash, p.clone(), root);
        with("index ^ 2".into(), index ^ 2, size, leaf_hash, p.clone(), root);
        // Wrong tree height.
        with("size * 2".into(), index, size * 2, leaf_hash, p.clone(), root);
        with("size / 2".into(), index, size / 2, leaf_hash, p.clone(), root);
        // Wrong leaf or root.
        with("wrong leaf".into(), index, size, some, p.clone(), root);
        with("empty root".into(), index, size, leaf_hash, p.clone(), EMPTY_ROOT);
        with("random root".into(), index, size, leaf_hash, p.clone(), some);
        // Garbage at the end or the front.
        for extra in [Hash32::ZERO, root] {
            let mut longer = p.clone();
            longer.push(extra);
            with("trailing garbage".into(), index, size, leaf_hash, longer, root);
            let mut longer = vec![extra];
            longer.extend_from_slice(&p);
            with("preceding garbage".into(), index, size, leaf_hash, longer, root);
        }
        for i in 0..p.len() {
            let mut modified = p.clone();
            modified[i] = flip_bit(modified[i], 0, 8);
            with(format!("modified path[{i}] bit 3"), index, size, leaf_hash, modified, root);
        }
        if let Some((_, shorter)) = p.split_last() {
            with("removed component".into(), index, size, leaf_hash, shorter.to_vec(), root);
        }
        if p.len() > 1 {
            let mut inserted = vec![p[0], some];
            inserted.extend_from_slice(&p[1..]);
            with("inserted component".into(), index, size, leaf_hash, inserted, root);
        }
        for (desc, probe, leaf, r) in probes {
            assert!(
                verify_inclusion(leaf, &probe, r).is_err(),
                "leaf {index} of {size}: verified despite {desc}"
            );
        }
    }
}

#[test]
fn published_consistency_proofs_are_generated_and_verify() {
    let hashes = leaf_hashes();
    for &(old, new, expected) in &CONSISTENCY_PROOFS {
        let proof = consistency_proof(&hashes[..new as usize], old).unwrap();
        assert_eq!(proof.path, path(expected), "proof from {old} to {new}");
        assert_eq!((proof.old_size, proof.new_size), (old, new));
        let (old_root, new_root) = (tree_root(old), tree_root(new));
        assert_eq!(verify_consistency(old, new, old_root, new_root, &proof.path), Ok(()));
        // Like the Go suites, corrupt only non-trivial proofs.
        if proof.path.is_empty() {
            continue;
        }

        // The corruptions of `corruptConsistencyProof`; each must be rejected.
        let p = proof.path.clone();
        let some = h(SOME_HASH);
        let mut probes: Vec<(String, u64, u64, Hash32, Hash32, Vec<Hash32>)> = vec![
            ("old - 1".into(), old - 1, new, old_root, new_root, p.clone()),
            ("old + 1".into(), old + 1, new, old_root, new_root, p.clone()),
            ("old ^ 2".into(), old ^ 2, new, old_root, new_root, p.clone()),
            ("new * 2".into(), old, new * 2, old_root, new_root, p.clone()),
            ("new / 2".into(), old, new / 2, old_root, new_root, p.clone()),
            ("wrong old root".into(), old, new, some, new_root, p.clone()),
            ("wrong new root".into(), old, new, old_root, some, p.clone()),
            ("swapped roots".into(), old, new, new_root, old_root, p.clone()),
            ("empty proof".into(), old, new, old_root, new_root, vec![]),
        ];
        for extra in [Hash32::ZERO, old_root, new_root, p[0]] {
            let mut longer = p.clone();
            longer.push(extra);
            probes.push(("trailing garbage".into(), old, new, old_root, new_root, longer));
            let mut longer = vec![extra];
            longer.extend_from_slice(&p);
            probes.push(("preceding garbage".into(), old, new, old_root, new_root, longer));
        }
        probes.push(("truncated".into(), old, new, old_root, new_root, p[..p.len() - 1].to_vec()));
        for i in 0..p.len() {
            let mut modified = p.clone();
            modified[i] = flip_bit(modified[i], 0, 16);
            probes.push((format!("modified path[{i}] bit 4"), old, new, old_root, new_root, modified));
        }
        for (desc, o, n, or, nr, pp) in probes {
            assert!(
                verify_consistency(o, n, or, nr, &pp).is_err(),
                "{old} -> {new}: verified despite {desc}"
            );
        }
    }
}

/// `TestVerifyInclusion`'s invalid probes (index, size) with an empty path, and
/// `TestVerifyInclusionSingleEntry`.
#[test]
fn degenerate_inclusion_claims() {
    let some = h(SOME_HASH);
    for (index, size) in [(0, 0), (0, 1), (1, 0), (2, 1)] {
        let proof = civic_merkle::InclusionProof { leaf_index: index, tree_size: size, path: vec![] };
        assert!(verify_inclusion(some, &proof, EMPTY_ROOT).is_err(), "{index} of {size}");
        assert!(verify_inclusion(EMPTY_ROOT, &proof, some).is_err(), "{index} of {size}");
    }
    let (index, size) = (0, 0);
    let proof = civic_merkle::InclusionProof { leaf_index: index, tree_size: size, path: vec![] };
    assert_eq!(
        verify_inclusion(some, &proof, some),
        Err(MerkleError::IndexOutOfRange { index, tree_size: size })
    );

    // A one-leaf tree's root is its leaf hash and the proof is empty.
    let data = leaf_hash(b"data");
    let single = civic_merkle::InclusionProof { leaf_index: 0, tree_size: 1, path: vec![] };
    assert_eq!(verify_inclusion(data, &single, data), Ok(()));
    assert!(verify_inclusion(data, &single, some).is_err());
    assert!(verify_inclusion(some, &single, data).is_err());
}

/// `TestVerifyConsistency`'s table. Where the Go suite passes arbitrary "don't care" roots for
/// size 0, this crate insists on the empty-tree root, which is the only root a tree of size 0
/// has; those rows use `EMPTY_ROOT` instead.
#[test]
fn degenerate_consistency_claims() {
    let (r1, r2) = (leaf_hash(b"don't care 1"), leaf_hash(b"don't care 2"));
    let empty = EMPTY_ROOT;
    let cases: [(u64, u64, Hash32, Hash32, &[Hash32], bool); 13] = [
        (0, 0, empty, r2, &[], false),
        (1, 1, r1, r2, &[], false),
        // Sizes that are always consistent.
        (0, 0, empty, empty, &[], true),
        (0, 1, empty, r2, &[], true),
        (1, 1, r2, r2, &[], true),
        // Time travel to the past.
        (1, 0, r1, r2, &[], false),
        (2, 1, r1, r2, &[], false),
        // Empty proof.
        (1, 2, r1, r2, &[], false),
        // Roots don't match.
        (0, 0, empty, r2, &[], false),
        (1, 1, empty, r2, &[], false),
        // Roots match but the proof is not empty.
        (0, 0, empty, empty, &[empty], false),
        (0, 1, empty, empty, &[empty], false),
        (1, 1, empty, empty, &[empty], false),
    ];
    for (old, new, old_root, new_root, proof, ok) in cases {
        let got = verify_consistency(old, new, old_root, new_root, proof);
        assert_eq!(got.is_ok(), ok, "{old} -> {new}: {got:?}");
    }
    // The one row where this crate is stricter than the Go suite: a non-empty root for size 0.
    assert!(verify_consistency(0, 1, r1, r2, &[]).is_err());
}

/// RFC 6962 §2.1.3: "The audit path for d0 is [b, h, l]. The audit path for d3 is [c, g, l]. The
/// audit path for d4 is [f, j, k]. The audit path for d6 is [i, k]." and "PROOF(3, D[7]) =
/// [c, d, g, l]", "PROOF(4, D[7]) = [l]", "PROOF(6, D[7]) = [i, j, k]", on the first 7 of the
/// published leaves.
#[test]
fn rfc6962_worked_example() {
    let hashes = leaf_hashes();
    let seven = &hashes[..7];
    let node = |level: usize, i: usize| h(NODE_HASHES[level][i]);
    let [a, b, c, d, e, f] = [0, 1, 2, 3, 4, 5].map(|i| node(0, i));
    let [g, h_, i] = [0, 1, 2].map(|i| node(1, i));
    // In a 7-leaf tree, d6 is promoted unchanged to j, and l joins i and j.
    let j = node(0, 6);
    let k = node(2, 0);
    let l = node_hash(&i, &j);
    assert_eq!(node_hash(&k, &l), tree_root(7));

    let leaves = [a, b, c, d, e, f, j];
    for (index, expected) in [(0u64, vec![b, h_, l]), (3, vec![c, g, l]), (4, vec![f, j, k]), (6, vec![i, k])]
    {
        let proof = inclusion_proof(seven, index).unwrap();
        assert_eq!(proof.path, expected, "audit path for d{index}");
        assert_eq!(verify_inclusion(leaves[index as usize], &proof, tree_root(7)), Ok(()));
    }
    for (old, expected) in [(3u64, vec![c, d, g, l]), (4, vec![l]), (6, vec![i, j, k])] {
        let proof = consistency_proof(seven, old).unwrap();
        assert_eq!(proof.path, expected, "PROOF({old}, D[7])");
        assert_eq!(verify_consistency(old, 7, tree_root(old), tree_root(7), &proof.path), Ok(()));
    }
}

#[test]
fn proofs_serialize_as_hex_in_json_and_raw_in_binary() {
    let hashes = leaf_hashes();
    let proof = inclusion_proof(&hashes[..3], 2).unwrap();
    let json = serde_json::to_string(&proof).unwrap();
    assert_eq!(
        json,
        r#"{"leaf_index":2,"tree_size":3,"path":["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]}"#
    );
    assert_eq!(serde_json::from_str::<civic_merkle::InclusionProof>(&json).unwrap(), proof);
    let extra = json.replace("{", r#"{"extra":1,"#);
    assert!(serde_json::from_str::<civic_merkle::InclusionProof>(&extra).is_err());

    // BCS: two little-endian u64s, a one-byte length, then the raw 32-byte hash.
    let bytes = civic_types::encode(&proof);
    assert_eq!(bytes.len(), 8 + 8 + 1 + 32);
    assert_eq!(civic_types::decode::<civic_merkle::InclusionProof>(&bytes, 1024).unwrap(), proof);

    let cproof = consistency_proof(&hashes, 6).unwrap();
    let json = serde_json::to_string(&cproof).unwrap();
    assert_eq!(serde_json::from_str::<civic_merkle::ConsistencyProof>(&json).unwrap(), cproof);
    let bytes = civic_types::encode(&cproof);
    assert_eq!(civic_types::decode::<civic_merkle::ConsistencyProof>(&bytes, 1024).unwrap(), cproof);
}
