//! The accounts a node acts as itself ("service keys"): an issuer organization's account whose
//! key signs the credentials and status lists the node serves, and a `verifier` account that
//! records on chain the verifications the node performs for its callers.
//!
//! Guarantees: a key is used only while the ledger says it may be — the account is active, its
//! organization is active, it holds the role, and its on-chain key is this key — so removing an
//! account or rotating its key on chain stops the node using the old key at once. Transactions
//! a node signs for itself get gap-free nonces: one account's submissions are serialized, and a
//! nonce is only consumed when the node accepted the transaction.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use civic_ledger::modules::membership;
use civic_ledger::state::Overlay;
use civic_ledger::{Call, SignedTx, Transaction};
use civic_types::{AccountId, Nonce, OrgId, Role, SecretKey};

use crate::keyfile::{KeyFile, KeyFileError};
use crate::node::{Node, NodeError, StoreState, SubmitError};

/// Keys of the accounts this node acts as.
#[derive(Default)]
pub struct ServiceKeys {
    keys: BTreeMap<AccountId, SecretKey>,
    /// Next nonce per account as far as this node has submitted.
    next: Mutex<BTreeMap<AccountId, Nonce>>,
}

impl std::fmt::Debug for ServiceKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceKeys").field("accounts", &self.keys.keys().collect::<Vec<_>>()).finish()
    }
}

/// Why a service transaction was not submitted.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The node refused it.
    #[error(transparent)]
    Submit(#[from] SubmitError),
    /// State could not be read.
    #[error(transparent)]
    Node(#[from] NodeError),
    /// The node holds no key for that account.
    #[error("this node holds no key of account {0}")]
    NoKey(AccountId),
}

impl ServiceKeys {
    /// Service keys from account keys.
    pub fn new(keys: BTreeMap<AccountId, SecretKey>) -> ServiceKeys {
        ServiceKeys { keys, next: Mutex::default() }
    }

    /// Reads account key files (`civic keys new --account …`); files without an account are
    /// refused, since a service key must say whose it is.
    pub fn load(paths: &[impl AsRef<Path>]) -> Result<ServiceKeys, KeyFileError> {
        let mut keys = BTreeMap::new();
        for p in paths {
            let p = p.as_ref();
            let kf = KeyFile::read(p)?;
            let secret = kf
                .secret()
                .map_err(|reason| KeyFileError::Invalid { path: p.display().to_string(), reason })?;
            let account = kf.account.ok_or_else(|| KeyFileError::Invalid {
                path: p.display().to_string(),
                reason: "the key file names no account; a service key must belong to an account".into(),
            })?;
            keys.insert(account, secret);
        }
        Ok(ServiceKeys::new(keys))
    }

    /// The accounts whose keys this node holds.
    pub fn accounts(&self) -> impl Iterator<Item = &AccountId> {
        self.keys.keys()
    }

    /// The first account (in id order) of `org` (any org when `None`) that holds `role`, whose
    /// key this node holds and may use now.
    pub fn usable(
        &self,
        node: &Node,
        org: Option<&OrgId>,
        role: Role,
    ) -> Result<Option<(AccountId, &SecretKey)>, NodeError> {
        let state = StoreState(node.store());
        let overlay = Overlay::new(&state);
        for (id, key) in &self.keys {
            if org.is_some_and(|o| *o != id.org()) {
                continue;
            }
            let Some(acct) = membership::load_account(&overlay, id)? else { continue };
            if acct.active
                && acct.roles.contains(&role)
                && acct.public_key == key.public_key()
                && membership::org_active(&overlay, &id.org())?
            {
                return Ok(Some((id.clone(), key)));
            }
        }
        Ok(None)
    }

    /// Signs `call` as `account` with its next nonce and hands it to `submit` (which should
    /// register any commit watch and then submit to `node`). The account's submissions are
    /// serialized; the nonce is consumed only if `submit` succeeds.
    pub fn submit_as<T>(
        &self,
        node: &Node,
        account: &AccountId,
        call: Call,
        submit: impl FnOnce(SignedTx) -> Result<T, SubmitError>,
    ) -> Result<T, ServiceError> {
        let key = self.keys.get(account).ok_or_else(|| ServiceError::NoKey(account.clone()))?;
        let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
        let committed = node.next_nonce(account)?;
        let nonce = next.get(account).copied().filter(|n| *n > committed).unwrap_or(committed);
        let tx = Transaction {
            chain_id: node.executor().chain_id().clone(),
            signer: account.clone(),
            nonce,
            call,
        }
        .sign(key);
        let out = submit(tx)?;
        next.insert(account.clone(), nonce.checked_next().unwrap_or(nonce));
        Ok(out)
    }
}
