//! An in-memory chain with the licenses module: genesis with a justice bureau (admin, issuer,
//! clerk), a provincial bureau that has an issuer but is not trusted, and a court (a verifier);
//! blocks are built, re-verified and applied by `civic_ledger::testkit::Chain`.

#![allow(dead_code)]

use civic_ledger::testkit::Accounts;
pub use civic_ledger::testkit::Chain;
use civic_types::{ChainId, Role};

/// Every genesis account, with its key seed byte.
const ACCOUNTS: Accounts = &[
    ("justice", "admin", Role::Admin, 1),
    ("justice", "issuer", Role::Issuer, 2),
    ("justice", "clerk", Role::Verifier, 3),
    ("province", "issuer", Role::Issuer, 4),
    ("court", "verifier", Role::Verifier, 5),
];

pub fn chain_id() -> ChainId {
    ChainId::new("civic-test").unwrap()
}

/// A chain at genesis with the module under test.
pub fn chain() -> Chain {
    Chain::new(chain_id(), ACCOUNTS, vec![Box::new(civic_licenses::Licenses)])
}
