//! Micro-benchmarks of the ledger's hot paths: canonical encoding, the RFC 6962 tx root, the
//! state-tree commit of a block's writes, and block execution. Run with
//! `cargo bench -p civic-ledger`.

use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;

use civic_ledger::chain;
use civic_ledger::modules::membership::{GenesisAccount, GenesisOrg, GovernanceParams, Validator};
use civic_ledger::modules::notary::NotaryCall;
use civic_ledger::state::{MemState, commit_writes};
use civic_ledger::{Call, Executor, Genesis, SignedTx, Transaction};
use civic_types::{AccountId, ChainId, Hash32, Nonce, OrgId, SecretKey, UnixMillis, sha256};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

const ACCOUNTS: usize = 200;

fn key(i: usize) -> SecretKey {
    let mut seed = [7u8; 32];
    seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
    SecretKey::from_seed(&seed)
}

fn genesis() -> Genesis {
    let org = OrgId::new("bench").unwrap();
    Genesis {
        chain_id: ChainId::new("bench").unwrap(),
        genesis_time: UnixMillis::new(0),
        organizations: vec![GenesisOrg {
            id: org.clone(),
            name: "Bench".into(),
            accounts: (0..ACCOUNTS)
                .map(|i| GenesisAccount {
                    name: format!("a{i}"),
                    public_key: key(i).public_key(),
                    // The first account administers the organization; genesis requires one.
                    roles: if i == 0 { BTreeSet::from([civic_types::Role::Admin]) } else { BTreeSet::new() },
                })
                .collect(),
        }],
        validators: vec![Validator { name: "v".into(), org, public_key: key(9999).public_key() }],
        governance: GovernanceParams::default(),
    }
}

fn txs(n: usize) -> Vec<SignedTx> {
    (0..n)
        .map(|j| {
            let a = j % ACCOUNTS;
            Transaction {
                chain_id: ChainId::new("bench").unwrap(),
                signer: AccountId::new(format!("bench/a{a}")).unwrap(),
                nonce: Nonce::new((j / ACCOUNTS) as u64),
                call: Call::new(&NotaryCall::Notarize {
                    digest: sha256(&(j as u64).to_le_bytes()),
                    label: String::new(),
                }),
            }
            .sign(&key(a))
        })
        .collect()
}

fn encoding(c: &mut Criterion) {
    let tx = txs(1).remove(0);
    let bytes = tx.to_bytes();
    let mut g = c.benchmark_group("encoding");
    g.throughput(Throughput::Elements(1));
    g.bench_function("signed_tx_encode", |b| b.iter(|| black_box(&tx).to_bytes()));
    g.bench_function("signed_tx_decode", |b| b.iter(|| SignedTx::from_bytes(black_box(&bytes)).unwrap()));
    g.bench_function("signed_tx_hash", |b| b.iter(|| black_box(&tx).hash()));
    g.finish();
}

fn merkle(c: &mut Criterion) {
    let txs = txs(20_000);
    let mut g = c.benchmark_group("merkle");
    g.throughput(Throughput::Elements(txs.len() as u64));
    g.sample_size(10);
    g.bench_function("tx_root_20000", |b| b.iter(|| civic_ledger::block::tx_root(black_box(&txs))));
    let leaves: Vec<Hash32> = txs.iter().map(|t| civic_merkle::leaf_hash(&t.to_bytes())).collect();
    g.bench_function("inclusion_proof_20000", |b| {
        b.iter(|| civic_merkle::inclusion_proof(&leaves, 12_345).unwrap())
    });
    g.finish();
}

fn state_commit(c: &mut Criterion) {
    // A state of 100,000 keys, then one block's 20,000 writes (half updates, half inserts).
    let mut state = MemState::default();
    let initial: BTreeMap<Vec<u8>, Option<Vec<u8>>> =
        (0..100_000u64).map(|i| (format!("k/{i}").into_bytes(), Some(i.to_le_bytes().to_vec()))).collect();
    let (root, objects) = commit_writes(&state, Hash32::ZERO, &initial).unwrap();
    state.apply(&initial, &objects);
    let block: BTreeMap<Vec<u8>, Option<Vec<u8>>> = (0..20_000u64)
        .map(|i| (format!("k/{}", i * 10).into_bytes(), Some((i + 1).to_be_bytes().to_vec())))
        .chain((0..10_000u64).map(|i| (format!("new/{i}").into_bytes(), Some(vec![1]))))
        .collect();
    let mut g = c.benchmark_group("state");
    g.throughput(Throughput::Elements(block.len() as u64));
    g.sample_size(10);
    g.bench_function("commit_30000_writes_over_100000_keys", |b| {
        b.iter(|| commit_writes(&state, root, black_box(&block)).unwrap())
    });
    g.finish();
}

fn execution(c: &mut Criterion) {
    let g0 = genesis();
    let applied = chain::genesis_block(&g0).unwrap();
    let mut state = MemState::default();
    state.apply(&applied.writes, &applied.objects);
    let executor = Executor::new(g0.chain_id.clone());
    let head = applied.block.header.clone();
    let block_txs = txs(5_000);
    let mut g = c.benchmark_group("execution");
    g.throughput(Throughput::Elements(block_txs.len() as u64));
    g.sample_size(10);
    g.bench_function("build_block_5000_notarizations", |b| {
        b.iter_batched(
            || block_txs.clone(),
            |t| {
                chain::build(&executor, &state, &head, UnixMillis::new(1), key(9999).public_key(), t).unwrap()
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("verify_signatures_5000_two_threads", |b| {
        b.iter(|| civic_ledger::tx::verify_signatures(black_box(&block_txs), 2))
    });
    g.finish();
}

criterion_group!(benches, encoding, merkle, state_commit, execution);
criterion_main!(benches);
