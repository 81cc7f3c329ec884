//! Shared fixtures: a deterministic genesis and a helper to run blocks in memory.

#![allow(dead_code)]

use std::collections::BTreeSet;

use civic_ledger::chain::{self, Applied};
use civic_ledger::modules::membership::{GenesisAccount, GenesisOrg, GovernanceParams, Validator};
use civic_ledger::state::MemState;
use civic_ledger::{Block, BlockHeader, Call, Executor, Genesis, ModuleCall, Receipt, SignedTx, Transaction};
use civic_types::{AccountId, ChainId, Nonce, OrgId, Role, SecretKey, UnixMillis};

pub fn key(n: u8) -> SecretKey {
    SecretKey::from_seed(&[n; 32])
}

/// Three organizations (a, b, c), each with `admin` (admin) and `clerk` (registrar).
pub fn genesis() -> Genesis {
    let orgs = ["a", "b", "c"];
    Genesis {
        chain_id: ChainId::new("test-chain").unwrap(),
        genesis_time: UnixMillis::new(1_700_000_000_000),
        organizations: orgs
            .iter()
            .enumerate()
            .map(|(i, o)| GenesisOrg {
                id: OrgId::new(*o).unwrap(),
                name: format!("Org {o}"),
                accounts: vec![
                    GenesisAccount {
                        name: "admin".into(),
                        public_key: key(10 * i as u8 + 1).public_key(),
                        roles: BTreeSet::from([Role::Admin]),
                    },
                    GenesisAccount {
                        name: "clerk".into(),
                        public_key: key(10 * i as u8 + 2).public_key(),
                        roles: BTreeSet::from([Role::Registrar]),
                    },
                ],
            })
            .collect(),
        validators: vec![Validator {
            name: "v1".into(),
            org: OrgId::new("a").unwrap(),
            public_key: key(99).public_key(),
        }],
        governance: GovernanceParams::default(),
    }
}

/// The key of `org/name` in [`genesis`].
pub fn account_key(account: &str) -> SecretKey {
    let (org, name) = account.split_once('/').unwrap();
    let i = ["a", "b", "c"].iter().position(|o| *o == org).unwrap() as u8;
    key(10 * i + if name == "admin" { 1 } else { 2 })
}

pub struct Chain {
    pub executor: Executor,
    pub state: MemState,
    pub head: BlockHeader,
    pub blocks: Vec<Block>,
    pub receipts: Vec<Vec<Receipt>>,
}

impl Chain {
    pub fn new() -> Chain {
        let g = genesis();
        let applied = chain::genesis_block(&g).unwrap();
        let mut state = MemState::default();
        state.apply(&applied.writes, &applied.objects);
        Chain {
            executor: Executor::new(g.chain_id.clone()),
            state,
            head: applied.block.header.clone(),
            blocks: vec![applied.block],
            receipts: vec![vec![]],
        }
    }

    pub fn tx<C: ModuleCall>(&self, account: &str, nonce: u64, call: &C) -> SignedTx {
        self.tx_with_key(account, nonce, call, &account_key(account))
    }

    pub fn tx_with_key<C: ModuleCall>(
        &self,
        account: &str,
        nonce: u64,
        call: &C,
        key: &SecretKey,
    ) -> SignedTx {
        Transaction {
            chain_id: self.head.chain_id.clone(),
            signer: AccountId::new(account).unwrap(),
            nonce: Nonce::new(nonce),
            call: Call::new(call),
        }
        .sign(key)
    }

    /// Proposes a block with `txs`, verifies it as another validator would, and applies it.
    pub fn block(&mut self, txs: Vec<SignedTx>) -> Applied {
        let time = UnixMillis::new(self.head.timestamp.get() + 1000);
        let applied =
            chain::build(&self.executor, &self.state, &self.head, time, key(99).public_key(), txs).unwrap();
        let verified = chain::verify(&self.executor, &self.state, &self.head, &applied.block, 2).unwrap();
        assert_eq!(verified.writes, applied.writes, "verification re-executes to the same writes");
        self.state.apply(&applied.writes, &applied.objects);
        self.head = applied.block.header.clone();
        self.blocks.push(applied.block.clone());
        self.receipts.push(applied.receipts.clone());
        applied
    }
}
