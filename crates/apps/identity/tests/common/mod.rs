//! An in-memory chain with the identity module: genesis with a data bureau (registrar, admin), a
//! tax office and a bank (a verifier each); blocks are built, re-verified and
//! applied by `civic_ledger::testkit::Chain`.

#![allow(dead_code)]

use civic_ledger::testkit::Accounts;
pub use civic_ledger::testkit::{Chain, key};
use civic_types::{ChainId, Role};

/// Every genesis account, with its key seed byte.
const ACCOUNTS: Accounts = &[
    ("data-bureau", "registrar", Role::Registrar, 1),
    ("data-bureau", "admin", Role::Admin, 2),
    ("tax", "reader", Role::Verifier, 3),
    ("bank", "reader", Role::Verifier, 4),
];

pub fn chain_id() -> ChainId {
    ChainId::new("civic-test").unwrap()
}

/// A chain at genesis with the module under test.
pub fn chain() -> Chain {
    Chain::new(chain_id(), ACCOUNTS, vec![Box::new(civic_identity::Identity::new(chain_id()))])
}
