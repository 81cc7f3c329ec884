//! Test support for application modules (feature `testkit`): an in-memory chain whose blocks are
//! proposed with [`chain::build`], re-checked with [`chain::verify`] exactly as another validator
//! would, then applied. Keys come from one-byte seeds so tests are reproducible.

use std::collections::{BTreeMap, BTreeSet};

use civic_types::{AccountId, ChainId, Nonce, OrgId, Role, SecretKey, UnixMillis};

use crate::chain::{self, Applied};
use crate::modules::membership::{GenesisAccount, GenesisOrg, GovernanceParams, Validator};
use crate::state::MemState;
use crate::{
    Block, BlockHeader, Call, Executor, Genesis, Module, ModuleCall, Receipt, SignedTx, Transaction,
};

/// Genesis accounts: organization, account name, role, key seed byte.
pub type Accounts = &'static [(&'static str, &'static str, Role, u8)];

/// Seed byte of the validator's key.
pub const VALIDATOR_SEED: u8 = 99;

/// The key whose RFC 8032 seed is 32 bytes of `n`.
pub fn key(n: u8) -> SecretKey {
    SecretKey::from_seed(&[n; 32])
}

/// A genesis with `accounts` (organizations in order of first appearance); the validator belongs
/// to the first organization.
pub fn genesis(chain_id: ChainId, accounts: Accounts) -> Genesis {
    let mut orgs: Vec<&str> = Vec::new();
    for (org, ..) in accounts {
        if !orgs.contains(org) {
            orgs.push(org);
        }
    }
    let org_id = |o: &str| OrgId::new(o).unwrap_or_else(|e| panic!("test organization {o}: {e}"));
    Genesis {
        chain_id,
        genesis_time: UnixMillis::new(1_700_000_000_000),
        organizations: orgs
            .iter()
            .map(|o| GenesisOrg {
                id: org_id(o),
                name: format!("Org {o}"),
                accounts: accounts
                    .iter()
                    .filter(|(org, ..)| org == o)
                    .map(|(_, name, role, seed)| GenesisAccount {
                        name: (*name).into(),
                        public_key: key(*seed).public_key(),
                        roles: BTreeSet::from([*role]),
                    })
                    .collect(),
            })
            .collect(),
        validators: vec![Validator {
            name: "v1".into(),
            org: org_id(orgs.first().copied().unwrap_or("test")),
            public_key: key(VALIDATOR_SEED).public_key(),
        }],
        governance: GovernanceParams::default(),
    }
}

/// An in-memory chain.
pub struct Chain {
    /// The state machine, with the modules under test registered.
    pub executor: Executor,
    /// Committed state.
    pub state: MemState,
    /// Latest header.
    pub head: BlockHeader,
    /// Every block, genesis first.
    pub blocks: Vec<Block>,
    /// Every block's receipts.
    pub receipts: Vec<Vec<Receipt>>,
    accounts: Accounts,
    nonces: BTreeMap<String, u64>,
}

impl Chain {
    /// A chain at genesis with `modules` registered.
    ///
    /// # Panics
    /// If the genesis is invalid (a test bug).
    pub fn new(chain_id: ChainId, accounts: Accounts, modules: Vec<Box<dyn Module>>) -> Chain {
        let g = genesis(chain_id, accounts);
        let applied = chain::genesis_block(&g).unwrap_or_else(|e| panic!("{e}"));
        let mut state = MemState::default();
        state.apply(&applied.writes, &applied.objects);
        let mut executor = Executor::new(g.chain_id.clone());
        for m in modules {
            executor.register(m);
        }
        Chain {
            executor,
            state,
            head: applied.block.header.clone(),
            blocks: vec![applied.block],
            receipts: vec![vec![]],
            accounts,
            nonces: BTreeMap::new(),
        }
    }

    fn account_key(&self, account: &str) -> SecretKey {
        let (org, name) = account.split_once('/').unwrap_or((account, ""));
        let (.., seed) = self
            .accounts
            .iter()
            .find(|(o, n, ..)| *o == org && *n == name)
            .unwrap_or_else(|| panic!("no genesis account {account}"));
        key(*seed)
    }

    /// A transaction by `account` (`org/name`) with its next nonce.
    pub fn tx<C: ModuleCall>(&mut self, account: &str, call: &C) -> SignedTx {
        let n = self.nonces.entry(account.to_owned()).or_insert(0);
        let nonce = *n;
        *n += 1;
        let signer = AccountId::new(account).unwrap_or_else(|e| panic!("{e}"));
        Transaction {
            chain_id: self.head.chain_id.clone(),
            signer,
            nonce: Nonce::new(nonce),
            call: Call::new(call),
        }
        .sign(&self.account_key(account))
    }

    /// The time the next block will carry.
    pub fn next_time(&self) -> UnixMillis {
        UnixMillis::new(self.head.timestamp.get() + 1000)
    }

    /// Proposes a block with `txs`, verifies it as another validator would, and applies it.
    ///
    /// # Panics
    /// If a transaction is dropped or verification disagrees with the proposal.
    pub fn block(&mut self, txs: Vec<SignedTx>) -> Applied {
        let proposer = key(VALIDATOR_SEED).public_key();
        let applied = chain::build(&self.executor, &self.state, &self.head, self.next_time(), proposer, txs)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(applied.dropped.is_empty(), "dropped: {:?}", applied.dropped);
        let verified = chain::verify(&self.executor, &self.state, &self.head, &applied.block, 2)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(verified.writes, applied.writes, "verification re-executes to the same writes");
        self.state.apply(&applied.writes, &applied.objects);
        self.head = applied.block.header.clone();
        self.blocks.push(applied.block.clone());
        self.receipts.push(applied.receipts.clone());
        applied
    }

    /// Runs one transaction in its own block and returns its receipt.
    pub fn run<C: ModuleCall>(&mut self, account: &str, call: &C) -> Receipt {
        let tx = self.tx(account, call);
        self.block(vec![tx]).receipts.remove(0)
    }
}
