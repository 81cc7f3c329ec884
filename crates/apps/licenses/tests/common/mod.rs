//! An in-memory chain with the licenses module: genesis with a justice bureau (admin, issuer,
//! clerk), a provincial bureau that has an issuer but is not trusted, and a court (a verifier);
//! blocks are proposed with `chain::build`, re-checked
//! with `chain::verify` as another validator would, then applied.

#![allow(dead_code)]

use std::collections::BTreeSet;

use civic_ledger::chain::{self, Applied};
use civic_ledger::modules::membership::{GenesisAccount, GenesisOrg, GovernanceParams, Validator};
use civic_ledger::state::MemState;
use civic_ledger::{Block, BlockHeader, Call, Executor, Genesis, ModuleCall, Receipt, SignedTx, Transaction};
use civic_licenses::Licenses;
use civic_types::{AccountId, ChainId, Nonce, OrgId, Role, SecretKey, UnixMillis};

/// Every genesis account, with its key seed byte.
const ACCOUNTS: [(&str, &str, Role, u8); 5] = [
    ("justice", "admin", Role::Admin, 1),
    ("justice", "issuer", Role::Issuer, 2),
    ("justice", "clerk", Role::Verifier, 3),
    ("province", "issuer", Role::Issuer, 4),
    ("court", "verifier", Role::Verifier, 5),
];

pub fn key(n: u8) -> SecretKey {
    SecretKey::from_seed(&[n; 32])
}

pub fn chain_id() -> ChainId {
    ChainId::new("civic-test").unwrap()
}

pub fn genesis() -> Genesis {
    let orgs = ["justice", "province", "court"];
    Genesis {
        chain_id: chain_id(),
        genesis_time: UnixMillis::new(1_700_000_000_000),
        organizations: orgs
            .iter()
            .map(|o| GenesisOrg {
                id: OrgId::new(*o).unwrap(),
                name: format!("Org {o}"),
                accounts: ACCOUNTS
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
            org: OrgId::new("justice").unwrap(),
            public_key: key(99).public_key(),
        }],
        governance: GovernanceParams::default(),
    }
}

fn account_key(account: &str) -> SecretKey {
    let (org, name) = account.split_once('/').unwrap();
    let (.., seed) = ACCOUNTS.iter().find(|(o, n, ..)| *o == org && *n == name).unwrap();
    key(*seed)
}

pub struct Chain {
    pub executor: Executor,
    pub state: MemState,
    pub head: BlockHeader,
    pub blocks: Vec<Block>,
    pub receipts: Vec<Vec<Receipt>>,
    nonces: std::collections::BTreeMap<String, u64>,
}

impl Chain {
    pub fn new() -> Chain {
        let g = genesis();
        let applied = chain::genesis_block(&g).unwrap();
        let mut state = MemState::default();
        state.apply(&applied.writes, &applied.objects);
        let mut executor = Executor::new(g.chain_id.clone());
        executor.register(Box::new(Licenses));
        Chain {
            executor,
            state,
            head: applied.block.header.clone(),
            blocks: vec![applied.block],
            receipts: vec![vec![]],
            nonces: Default::default(),
        }
    }

    /// A transaction by `account` (`org/name`) with its next nonce.
    pub fn tx<C: ModuleCall>(&mut self, account: &str, call: &C) -> SignedTx {
        let n = self.nonces.entry(account.to_owned()).or_insert(0);
        let nonce = *n;
        *n += 1;
        Transaction {
            chain_id: self.head.chain_id.clone(),
            signer: AccountId::new(account).unwrap(),
            nonce: Nonce::new(nonce),
            call: Call::new(call),
        }
        .sign(&account_key(account))
    }

    /// The time the next block will carry.
    pub fn next_time(&self) -> UnixMillis {
        UnixMillis::new(self.head.timestamp.get() + 1000)
    }

    /// Proposes a block with `txs`, verifies it as another validator would, and applies it.
    pub fn block(&mut self, txs: Vec<SignedTx>) -> Applied {
        let applied = chain::build(
            &self.executor,
            &self.state,
            &self.head,
            self.next_time(),
            key(99).public_key(),
            txs,
        )
        .unwrap();
        assert!(applied.dropped.is_empty(), "dropped: {:?}", applied.dropped);
        let verified = chain::verify(&self.executor, &self.state, &self.head, &applied.block, 2).unwrap();
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
