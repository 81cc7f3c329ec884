//! Property tests: proofs agree with a transcription of RFC 6962's recursive definitions, every
//! honest proof verifies, every single corruption is rejected, and hostile input never panics.
//!
//! Leaves are distinct (a seed and the index are hashed into each), because with duplicate leaves
//! a proof of one copy legitimately proves the other and a "wrong index" test could not fail.

use civic_merkle::{
    EMPTY_ROOT, InclusionProof, MerkleError, consistency_proof, inclusion_proof, leaf_hash, node_hash, root,
    root_from_leaf_hashes, verify_consistency, verify_inclusion,
};
use civic_types::Hash32;
use proptest::prelude::*;

/// RFC 6962 §2.1, written as literally as possible so it can judge the iterative code.
mod reference {
    use super::*;

    /// "k be the largest power of two smaller than n (i.e., k < n <= 2k)".
    fn k(n: usize) -> usize {
        let mut k = 1;
        while 2 * k < n {
            k *= 2;
        }
        k
    }

    /// MTH(D[n]) over leaf hashes.
    pub fn mth(d: &[Hash32]) -> Hash32 {
        match d.len() {
            0 => civic_types::sha256(b""),
            1 => d[0],
            n => node_hash(&mth(&d[..k(n)]), &mth(&d[k(n)..])),
        }
    }

    /// PATH(m, D[n]).
    pub fn path(m: usize, d: &[Hash32]) -> Vec<Hash32> {
        let n = d.len();
        if n == 1 {
            return vec![];
        }
        let k = k(n);
        let (mut p, sibling) =
            if m < k { (path(m, &d[..k]), mth(&d[k..])) } else { (path(m - k, &d[k..]), mth(&d[..k])) };
        p.push(sibling);
        p
    }

    /// PROOF(m, D[n]) = SUBPROOF(m, D[n], true).
    pub fn proof(m: usize, d: &[Hash32]) -> Vec<Hash32> {
        subproof(m, d, true)
    }

    fn subproof(m: usize, d: &[Hash32], b: bool) -> Vec<Hash32> {
        let n = d.len();
        if m == n {
            return if b { vec![] } else { vec![mth(d)] };
        }
        let k = k(n);
        let (mut p, other) = if m <= k {
            (subproof(m, &d[..k], b), mth(&d[k..]))
        } else {
            (subproof(m - k, &d[k..], false), mth(&d[..k]))
        };
        p.push(other);
        p
    }
}

fn distinct_leaves(seed: u64, n: usize) -> Vec<Hash32> {
    (0..n as u64)
        .map(|i| {
            let mut data = seed.to_le_bytes().to_vec();
            data.extend_from_slice(&i.to_le_bytes());
            leaf_hash(&data)
        })
        .collect()
}

/// Deterministic per-call pseudo-randomness derived from a proptest-chosen salt (splitmix64).
fn mix(salt: u64, i: u64) -> u64 {
    let mut z = salt.wrapping_add(i.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn flip_bit(hash: Hash32, bit: u64) -> Hash32 {
    let mut bytes = hash.0;
    bytes[(bit / 8 % 32) as usize] ^= 1 << (bit % 8);
    Hash32(bytes)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn roots_match_the_rfc_definition(n in 0usize..300, seed in any::<u64>()) {
        let hashes = distinct_leaves(seed, n);
        prop_assert_eq!(root_from_leaf_hashes(&hashes), reference::mth(&hashes));
        let data: Vec<Vec<u8>> = (0..n).map(|i| format!("{seed}/{i}").into_bytes()).collect();
        let data_hashes: Vec<Hash32> = data.iter().map(|d| leaf_hash(d)).collect();
        prop_assert_eq!(root(&data), root_from_leaf_hashes(&data_hashes));
    }

    #[test]
    fn every_inclusion_proof_verifies_and_every_corruption_fails(
        n in 1usize..300,
        seed in any::<u64>(),
        salt in any::<u64>(),
    ) {
        // The tree under test is the first n leaves; the longer list gives the true roots of the
        // other sizes a wrong claim might name.
        let all = distinct_leaves(seed, 2 * n + 2);
        let hashes = &all[..n];
        let size = n as u64;
        let root = root_from_leaf_hashes(hashes);
        let true_root = |s: u64| root_from_leaf_hashes(&all[..s as usize]);
        let other_sizes: Vec<u64> = [size - 1, size + 1, size * 2, size / 2, 1 + mix(salt, 0) % (2 * size + 2)]
            .into_iter()
            .filter(|&s| s != size)
            .collect();
        let other_roots: Vec<(u64, Hash32)> = other_sizes.iter().map(|&s| (s, true_root(s))).collect();

        for index in 0..size {
            let i = index as usize;
            let r = mix(salt, index + 1);
            let proof = inclusion_proof(hashes, index).unwrap();
            prop_assert_eq!(&proof.path, &reference::path(i, hashes));
            prop_assert_eq!(verify_inclusion(hashes[i], &proof, root), Ok(()));

            // A single flipped bit anywhere: in a path hash, the leaf hash or the root.
            if !proof.path.is_empty() {
                let mut bad = proof.clone();
                let at = (r % proof.path.len() as u64) as usize;
                bad.path[at] = flip_bit(bad.path[at], r >> 8);
                prop_assert!(verify_inclusion(hashes[i], &bad, root).is_err());
            }
            prop_assert!(verify_inclusion(flip_bit(hashes[i], r), &proof, root).is_err());
            prop_assert!(verify_inclusion(hashes[i], &proof, flip_bit(root, r)).is_err());
            prop_assert!(verify_inclusion(hashes[i], &proof, EMPTY_ROOT).is_err());

            // A hash too many or too few is a length error, whatever it is.
            let mut longer = proof.clone();
            longer.path.push(root);
            let expected = proof.path.len();
            prop_assert_eq!(
                verify_inclusion(hashes[i], &longer, root),
                Err(MerkleError::WrongProofLength { expected, got: expected + 1 })
            );
            if let Some((_, shorter)) = proof.path.split_last() {
                let shorter = InclusionProof { path: shorter.to_vec(), ..proof.clone() };
                prop_assert_eq!(
                    verify_inclusion(hashes[i], &shorter, root),
                    Err(MerkleError::WrongProofLength { expected, got: expected - 1 })
                );
            }

            // Wrong index: claiming this leaf, or the leaf really there, sits elsewhere.
            for other in [index.wrapping_sub(1), index + 1, index ^ 2, r % (size + 2)] {
                if other == index {
                    continue;
                }
                let moved = InclusionProof { leaf_index: other, ..proof.clone() };
                prop_assert!(verify_inclusion(hashes[i], &moved, root).is_err(), "index {} as {}", index, other);
                if let Some(&there) = hashes.get(other as usize) {
                    prop_assert!(verify_inclusion(there, &moved, root).is_err());
                }
            }

            // Wrong size: against the true root of the claimed size the claim is false and must
            // fail. Against this tree's own root, a wrong size may share the proof's shape and
            // then pass (see the crate docs), except for the doubled and halved sizes the Go
            // suites use, which always change the proof length.
            for &(other, other_root) in &other_roots {
                let resized = InclusionProof { tree_size: other, ..proof.clone() };
                prop_assert!(verify_inclusion(hashes[i], &resized, other_root).is_err(), "size {} as {}", size, other);
                if other == size * 2 || other == size / 2 {
                    prop_assert!(verify_inclusion(hashes[i], &resized, root).is_err());
                }
            }
        }
        prop_assert_eq!(
            inclusion_proof(hashes, size),
            Err(MerkleError::IndexOutOfRange { index: size, tree_size: size })
        );
    }

    #[test]
    fn every_consistency_proof_verifies_and_every_corruption_fails(
        n in 0usize..300,
        seed in any::<u64>(),
        salt in any::<u64>(),
    ) {
        let all = distinct_leaves(seed, n + 2);
        let hashes = &all[..n];
        let new_size = n as u64;
        // roots[s] is the true root of the first s leaves, for s up to n + 2.
        let roots: Vec<Hash32> = (0..=n + 2).map(|s| root_from_leaf_hashes(&all[..s])).collect();
        let new_root = roots[n];

        for old_size in 0..=new_size {
            let old = old_size as usize;
            let r = mix(salt, old_size);
            let old_root = roots[old];
            let proof = consistency_proof(hashes, old_size).unwrap();
            prop_assert_eq!((proof.old_size, proof.new_size), (old_size, new_size));
            let expected = if old == 0 { vec![] } else { reference::proof(old, hashes) };
            prop_assert_eq!(&proof.path, &expected);
            let path = &proof.path;
            prop_assert_eq!(verify_consistency(old_size, new_size, old_root, new_root, path), Ok(()));

            // A single flipped bit in any one hash of the path or in either root.
            for at in 0..path.len() {
                let mut bad = path.clone();
                bad[at] = flip_bit(bad[at], r.wrapping_add(at as u64));
                prop_assert!(verify_consistency(old_size, new_size, old_root, new_root, &bad).is_err());
            }
            prop_assert!(verify_consistency(old_size, new_size, flip_bit(old_root, r), new_root, path).is_err());
            // From the empty tree to a larger one nothing is claimed about the new root, so only
            // then may it change.
            let changed_new_root = verify_consistency(old_size, new_size, old_root, flip_bit(new_root, r), path);
            prop_assert_eq!(changed_new_root.is_ok(), old_size == 0 && new_size > 0);
            if old_root != new_root {
                prop_assert!(verify_consistency(old_size, new_size, new_root, old_root, path).is_err());
            }

            // A hash too many or too few.
            let mut longer = path.clone();
            longer.push(new_root);
            let got = verify_consistency(old_size, new_size, old_root, new_root, &longer);
            prop_assert!(matches!(got, Err(MerkleError::WrongProofLength { .. })), "{:?}", got);
            if let Some((_, shorter)) = path.split_last() {
                let got = verify_consistency(old_size, new_size, old_root, new_root, shorter);
                prop_assert!(matches!(got, Err(MerkleError::WrongProofLength { .. })), "{:?}", got);
            }

            // Wrong sizes, each with the true root of the size claimed: the claim is false. The
            // exceptions are true claims: the empty tree is a prefix of every tree, and an empty
            // path is also the proof that a tree extends itself.
            for other in [old_size.wrapping_sub(1), old_size + 1, old_size ^ 2, r % (new_size + 1)] {
                let true_claim = other == 0 || (other == new_size && path.is_empty());
                if other == old_size || other > new_size || true_claim {
                    continue;
                }
                prop_assert!(
                    verify_consistency(other, new_size, roots[other as usize], new_root, path).is_err(),
                    "old size {} as {} (new size {})", old_size, other, new_size
                );
            }
            for other in [new_size.wrapping_sub(1), new_size + 1, new_size + 2] {
                if other < old_size || other > new_size + 2 || other == new_size || old_size == 0 {
                    continue;
                }
                prop_assert!(
                    verify_consistency(old_size, other, old_root, roots[other as usize], path).is_err(),
                    "new size {} as {} (old size {})", new_size, other, old_size
                );
            }
        }
        prop_assert_eq!(
            consistency_proof(hashes, new_size + 1),
            Err(MerkleError::OldSizeExceedsNewSize { old_size: new_size + 1, new_size })
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    // Proofs arrive from untrusted parties: any claim at all must return, not panic or spin.
    #[test]
    fn hostile_inclusion_claims_never_panic(
        leaf_index in any::<u64>(),
        tree_size in prop_oneof![any::<u64>(), 0u64..70, (u64::MAX - 70)..=u64::MAX],
        path in prop::collection::vec(any::<[u8; 32]>().prop_map(Hash32), 0..80),
        leaf in any::<[u8; 32]>().prop_map(Hash32),
        root in any::<[u8; 32]>().prop_map(Hash32),
    ) {
        let proof = InclusionProof { leaf_index, tree_size, path };
        prop_assert!(verify_inclusion(leaf, &proof, root).is_err());
    }

    #[test]
    fn hostile_consistency_claims_never_panic(
        old_size in prop_oneof![any::<u64>(), 0u64..70, (u64::MAX - 70)..=u64::MAX],
        new_size in prop_oneof![any::<u64>(), 0u64..70, (u64::MAX - 70)..=u64::MAX],
        path in prop::collection::vec(any::<[u8; 32]>().prop_map(Hash32), 0..80),
        old_root in any::<[u8; 32]>().prop_map(Hash32),
        new_root in any::<[u8; 32]>().prop_map(Hash32),
    ) {
        // Random roots are never the empty-tree root and never equal, so no claim can hold.
        prop_assert!(verify_consistency(old_size, new_size, old_root, new_root, &path).is_err());
    }
}

/// Every tree of up to 64 leaves, exhaustively: every proof matches the RFC definition and
/// verifies, and naming a wrong (non-zero) old size with that size's true root never verifies.
#[test]
fn small_trees_exhaustively() {
    let all = distinct_leaves(7, 64);
    let roots: Vec<Hash32> = (0..=all.len()).map(|s| root_from_leaf_hashes(&all[..s])).collect();
    for new in 1..=all.len() {
        let hashes = &all[..new];
        for index in 0..new {
            let proof = inclusion_proof(hashes, index as u64).unwrap();
            assert_eq!(proof.path, reference::path(index, hashes), "leaf {index} of {new}");
            assert_eq!(verify_inclusion(hashes[index], &proof, roots[new]), Ok(()));
        }
        for old in 1..=new {
            let proof = consistency_proof(hashes, old as u64).unwrap();
            assert_eq!(proof.path, reference::proof(old, hashes), "{old} -> {new}");
            let ok = verify_consistency(old as u64, new as u64, roots[old], roots[new], &proof.path);
            assert_eq!(ok, Ok(()), "{old} -> {new}");
            for other in (1..=new).filter(|&other| other != old) {
                let got = verify_consistency(other as u64, new as u64, roots[other], roots[new], &proof.path);
                assert!(got.is_err(), "proof {old} -> {new} verified as {other} -> {new}");
            }
        }
    }
}
