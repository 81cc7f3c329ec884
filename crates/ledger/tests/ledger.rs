//! Ledger behaviour: encodings pinned by golden hashes, execution, authorization, governance,
//! block verification.

mod common;

use std::collections::BTreeSet;

use civic_ledger::block::tx_root;
use civic_ledger::chain;
use civic_ledger::exec::nonce_key;
use civic_ledger::modules::membership::{
    self, Account, GovernanceAction, MembershipCall, Proposal, ProposalStatus,
};
use civic_ledger::modules::notary::NotaryCall;
use civic_ledger::state::{StateRead, decode_value};
use civic_ledger::{Outcome, SignedTx};
use civic_types::{AccountId, Hash32, OrgId, Role, sha256};
use common::{Chain, account_key, genesis, key};
use proptest::prelude::*;

fn notarize(n: u8) -> NotaryCall {
    NotaryCall::Notarize { digest: sha256(&[n]), label: format!("doc {n}") }
}

fn rejected(r: &civic_ledger::Receipt) -> (String, String) {
    match &r.outcome {
        Outcome::Rejected { code, reason } => (code.clone(), reason.clone()),
        Outcome::Ok => panic!("expected a rejection, got ok"),
    }
}

fn get<T: serde::de::DeserializeOwned>(c: &Chain, key: &str) -> Option<T> {
    c.state.get(key.as_bytes()).unwrap().map(|b| decode_value(&b).unwrap())
}

/// Golden hashes: if one of these changes, the on-chain format changed. That breaks every
/// existing chain, signature and proof, so it must be a deliberate, versioned decision.
#[test]
fn golden_encodings() {
    let c = Chain::new();
    let tx = c.tx("a/admin", 0, &notarize(1));
    let got = [
        sha256(&tx.tx.signing_bytes()).to_hex(),
        tx.hash().to_hex(),
        genesis().hash().to_hex(),
        c.head.hash().to_hex(),
        c.head.state_root.to_hex(),
    ];
    assert_eq!(
        got,
        [
            "6e203687148a2fe6f23f604dc651355bc8c5f00b16e178bc3a0b3655ef78a95f",
            "d7b809748df973f14cfa2c0de1ecbd05028a71c54e75406f764cc29b8a966ad3",
            "9958634f961de306dd0600f68329250918bc46acb855abda33cecf886ef7b0bf",
            "55e6eda393579e1fb5b1053eaa8b0cfc1cdfa633def7c1170e89a7bece542b21",
            "ae226662e8f996e8344a70e826f13f38bc361e58df0db58ec171bfd9e3eeb8b1",
        ]
    );
}

/// The canonical layout, byte by byte, of a small transaction: BCS strings and vectors are
/// ULEB128-length-prefixed, integers little-endian, enums a ULEB128 variant index.
#[test]
fn canonical_layout_is_bcs() {
    let tx = civic_ledger::Transaction {
        chain_id: civic_types::ChainId::new("c").unwrap(),
        signer: AccountId::new("o/a").unwrap(),
        nonce: civic_types::Nonce::new(258),
        call: civic_ledger::Call { module: "m".into(), payload: vec![0xab] },
    };
    assert_eq!(
        civic_types::encode(&tx),
        vec![1, b'c', 3, b'o', b'/', b'a', 2, 1, 0, 0, 0, 0, 0, 0, 1, b'm', 1, 0xab]
    );
    let call = MembershipCall::Vote { proposal: 1, approve: true };
    // Variant 5 of the call enum, then u64 1, then bool 1.
    assert_eq!(civic_types::encode(&call), vec![5, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
}

#[test]
fn signed_tx_round_trips_and_rejects_garbage() {
    let c = Chain::new();
    let tx = c.tx("a/admin", 7, &notarize(3));
    let bytes = tx.to_bytes();
    assert_eq!(SignedTx::from_bytes(&bytes).unwrap(), tx);
    assert!(tx.verify_signature());
    let mut bad = tx.clone();
    bad.tx.nonce = civic_types::Nonce::new(8);
    assert!(!bad.verify_signature(), "changing any signed field breaks the signature");
    assert!(SignedTx::from_bytes(&bytes[..bytes.len() - 1]).is_err());
    assert!(SignedTx::from_bytes(&vec![0u8; civic_ledger::tx::MAX_TX_BYTES + 1]).is_err());
}

#[test]
fn notarize_executes_and_consumes_nonce() {
    let mut c = Chain::new();
    let a = c.block(vec![c.tx("a/clerk", 0, &notarize(1)), c.tx("a/clerk", 1, &notarize(1))]);
    assert_eq!(a.receipts[0].outcome, Outcome::Ok);
    let (code, reason) = rejected(&a.receipts[1]);
    assert_eq!(code, "conflict");
    assert!(reason.contains("already notarized"), "{reason}");
    let n: civic_types::Nonce = get(&c, &nonce_key(&AccountId::new("a/clerk").unwrap())).unwrap();
    assert_eq!(n.get(), 2, "a rejected transaction still consumes its nonce");
    assert_eq!(c.head.tx_root, tx_root(&c.blocks[1].txs));
}

#[test]
fn proposer_drops_unexecutable_transactions() {
    let mut c = Chain::new();
    let wrong_nonce = c.tx("a/clerk", 5, &notarize(1));
    let wrong_key = c.tx_with_key("a/clerk", 0, &notarize(2), &key(77));
    let unknown = c.tx_with_key("a/nobody", 0, &notarize(3), &key(78));
    let good = c.tx("a/clerk", 0, &notarize(4));
    let a = c.block(vec![wrong_nonce, wrong_key, unknown, good.clone()]);
    assert_eq!(a.block.txs, vec![good]);
    assert_eq!(a.dropped.len(), 3);
}

#[test]
fn verify_rejects_tampered_blocks() {
    let c = Chain::new();
    let txs = vec![c.tx("a/clerk", 0, &notarize(1))];
    let applied =
        chain::build(&c.executor, &c.state, &c.head, c.head.timestamp, key(99).public_key(), txs).unwrap();
    let ok = chain::verify(&c.executor, &c.state, &c.head, &applied.block, 1);
    assert!(ok.is_ok());

    let mut b = applied.block.clone();
    b.header.state_root = Hash32::ZERO;
    assert!(matches!(
        chain::verify(&c.executor, &c.state, &c.head, &b, 1),
        Err(chain::VerifyError::Header { field: "state_root", .. })
    ));
    let mut b = applied.block.clone();
    b.txs[0].signature.0[0] ^= 1;
    assert!(matches!(
        chain::verify(&c.executor, &c.state, &c.head, &b, 1),
        Err(chain::VerifyError::BadSignature(_))
    ));
    let mut b = applied.block.clone();
    b.txs.push(b.txs[0].clone());
    assert!(
        chain::verify(&c.executor, &c.state, &c.head, &b, 1).is_err(),
        "a replayed transaction is invalid"
    );
    let mut b = applied.block;
    b.header.timestamp = civic_types::UnixMillis::new(0);
    assert!(chain::verify(&c.executor, &c.state, &c.head, &b, 1).is_err(), "time never goes backwards");
}

#[test]
fn org_admin_manages_own_accounts_but_not_others() {
    let mut c = Chain::new();
    let new = key(50).public_key();
    let add_own = MembershipCall::AddAccount {
        account: AccountId::new("a/officer").unwrap(),
        public_key: new,
        roles: BTreeSet::from([Role::Officer]),
    };
    let add_other = MembershipCall::AddAccount {
        account: AccountId::new("b/officer").unwrap(),
        public_key: key(51).public_key(),
        roles: BTreeSet::from([Role::Officer]),
    };
    let grant_admin = MembershipCall::SetRoles {
        account: AccountId::new("a/clerk").unwrap(),
        roles: BTreeSet::from([Role::Admin]),
    };
    let clerk_adds = MembershipCall::AddAccount {
        account: AccountId::new("a/x").unwrap(),
        public_key: key(52).public_key(),
        roles: BTreeSet::new(),
    };
    let a = c.block(vec![
        c.tx("a/admin", 0, &add_own),
        c.tx("a/admin", 1, &add_other),
        c.tx("a/admin", 2, &grant_admin),
        c.tx("a/clerk", 0, &clerk_adds),
    ]);
    assert_eq!(a.receipts[0].outcome, Outcome::Ok);
    let (code, reason) = rejected(&a.receipts[1]);
    assert_eq!(code, "unauthorized");
    assert!(reason.contains("governance proposal"), "{reason}");
    let (code, reason) = rejected(&a.receipts[2]);
    assert_eq!(code, "unauthorized");
    assert!(reason.contains("admin role"), "{reason}");
    let (code, reason) = rejected(&a.receipts[3]);
    assert_eq!(code, "unauthorized");
    assert!(reason.contains("lacks the role admin"), "{reason}");
    let acct: Account = get(&c, "membership/account/a/officer").unwrap();
    assert_eq!(acct.public_key, new);
}

#[test]
fn key_rotation_retires_the_old_key() {
    let mut c = Chain::new();
    let rotate = MembershipCall::RotateKey {
        account: AccountId::new("a/clerk").unwrap(),
        new_key: key(60).public_key(),
    };
    c.block(vec![c.tx("a/clerk", 0, &rotate)]);
    let acct: Account = get(&c, "membership/account/a/clerk").unwrap();
    assert_eq!(acct.public_key, key(60).public_key());
    assert_eq!(acct.key_history[0].public_key, account_key("a/clerk").public_key());
    // The old key can no longer sign for the account; the new one can.
    let a =
        c.block(vec![c.tx("a/clerk", 1, &notarize(1)), c.tx_with_key("a/clerk", 1, &notarize(2), &key(60))]);
    assert_eq!(a.block.txs.len(), 1);
    assert_eq!(a.block.txs[0].public_key, key(60).public_key());
    // A key cannot be registered twice.
    let reuse = MembershipCall::RotateKey {
        account: AccountId::new("a/admin").unwrap(),
        new_key: key(60).public_key(),
    };
    let a = c.block(vec![c.tx("a/admin", 0, &reuse)]);
    assert_eq!(rejected(&a.receipts[0]).0, "conflict");
}

#[test]
fn governance_needs_a_quorum_of_organizations() {
    let mut c = Chain::new();
    let add_org = MembershipCall::Propose {
        title: "admit d".into(),
        action: GovernanceAction::AddOrganization {
            org: OrgId::new("d").unwrap(),
            name: "Org d".into(),
            admin: AccountId::new("d/admin").unwrap(),
            admin_key: key(70).public_key(),
        },
    };
    let a = c.block(vec![c.tx("a/admin", 0, &add_org)]);
    assert_eq!(a.receipts[0].outcome, Outcome::Ok);
    let p: Proposal = get(&c, &membership::keys::proposal(0)).unwrap();
    assert_eq!(p.status, ProposalStatus::Open, "one of three organizations is not a quorum");
    assert_eq!(p.required, 2);

    // A non-admin cannot vote; the same organization cannot vote twice.
    let vote = MembershipCall::Vote { proposal: 0, approve: true };
    let a = c.block(vec![c.tx("b/clerk", 0, &vote), c.tx("a/admin", 1, &vote)]);
    assert_eq!(rejected(&a.receipts[0]).0, "unauthorized");
    assert_eq!(rejected(&a.receipts[1]).0, "conflict");
    assert!(get::<Account>(&c, "membership/account/d/admin").is_none());

    let a = c.block(vec![c.tx("b/admin", 0, &vote)]);
    assert_eq!(a.receipts[0].outcome, Outcome::Ok);
    let p: Proposal = get(&c, &membership::keys::proposal(0)).unwrap();
    assert!(matches!(p.status, ProposalStatus::Executed { .. }));
    let d: Account = get(&c, "membership/account/d/admin").unwrap();
    assert!(d.roles.contains(&Role::Admin));
    // The new organization's admin can transact at once.
    let a = c.block(vec![c.tx_with_key("d/admin", 0, &notarize(9), &key(70))]);
    assert_eq!(a.receipts[0].outcome, Outcome::Ok);
    // Votes on a closed proposal are refused with its status.
    let a = c.block(vec![c.tx("c/admin", 0, &vote)]);
    assert!(rejected(&a.receipts[0]).1.contains("executed"));
}

#[test]
fn governance_rejection_when_quorum_impossible() {
    let mut c = Chain::new();
    let remove = MembershipCall::Propose {
        title: "remove c".into(),
        action: GovernanceAction::RemoveOrganization { org: OrgId::new("c").unwrap() },
    };
    c.block(vec![c.tx("a/admin", 0, &remove)]);
    let no = MembershipCall::Vote { proposal: 0, approve: false };
    c.block(vec![c.tx("b/admin", 0, &no), c.tx("c/admin", 0, &no)]);
    let p: Proposal = get(&c, &membership::keys::proposal(0)).unwrap();
    assert_eq!(p.status, ProposalStatus::Rejected);
}

#[test]
fn state_proofs_at_every_height() {
    let mut c = Chain::new();
    c.block(vec![c.tx("a/clerk", 0, &notarize(1))]);
    let root1 = c.head.state_root;
    c.block(vec![c.tx("a/clerk", 1, &notarize(2))]);
    let k = nonce_key(&AccountId::new("a/clerk").unwrap());
    let p1 = civic_ledger::state::prove(&c.state, root1, k.as_bytes()).unwrap();
    assert_eq!(decode_value::<civic_types::Nonce>(p1.value.as_ref().unwrap()).unwrap().get(), 1);
    p1.verify(&root1).unwrap();
    assert!(p1.verify(&c.head.state_root).is_err(), "a proof is bound to its root");
    let p2 = civic_ledger::state::prove(&c.state, c.head.state_root, k.as_bytes()).unwrap();
    p2.verify(&c.head.state_root).unwrap();
    let absent =
        civic_ledger::state::prove(&c.state, c.head.state_root, b"membership/account/z/none").unwrap();
    assert!(absent.value.is_none());
    absent.verify(&c.head.state_root).unwrap();
    let mut forged = absent.clone();
    forged.value = Some(vec![1]);
    assert!(forged.verify(&c.head.state_root).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    /// Execution is deterministic: the same transactions give the same roots, whatever order the
    /// accounts' queues are interleaved in when each account's nonces stay ordered.
    #[test]
    fn execution_is_deterministic(ns in proptest::collection::vec(0u8..40, 1..12)) {
        let mut c1 = Chain::new();
        let mut c2 = Chain::new();
        let txs: Vec<SignedTx> = ns.iter().enumerate().map(|(i, n)| c1.tx("b/clerk", i as u64, &notarize(*n))).collect();
        let a1 = c1.block(txs.clone());
        let a2 = c2.block(txs);
        prop_assert_eq!(a1.block.header, a2.block.header);
        prop_assert_eq!(a1.receipts, a2.receipts);
    }
}
