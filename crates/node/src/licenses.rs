//! The licenses application's reads over a node's committed state: the [`LedgerView`] that
//! credential verification asks, and the set bits of a status list page.
//!
//! Guarantees: every answer comes from committed state only (never the mempool), so a
//! verification reflects exactly the blocks the node has durably stored.

use civic_ledger::modules::membership::{self, Account, Org};
use civic_licenses::credential::{LIST_ENTRIES, StatusListId};
use civic_licenses::verify::LedgerView;
use civic_licenses::{License, TrustedIssuer, keys};
use civic_types::{AccountId, OrgId, PublicKey, Role};

use crate::node::{Node, NodeError};

/// [`LedgerView`] over a node's committed state.
pub struct NodeLedger<'a>(pub &'a Node);

fn text(e: NodeError) -> String {
    e.to_string()
}

impl LedgerView for NodeLedger<'_> {
    fn civic_assertion_key(&self, org: &OrgId, account_name: &str) -> Result<Option<PublicKey>, String> {
        let Ok(id) = AccountId::from_parts(org, account_name) else { return Ok(None) };
        let Some(acct) = self.0.state_value::<Account>(&membership::keys::account(&id)).map_err(text)? else {
            return Ok(None);
        };
        let org_active =
            self.0.state_value::<Org>(&membership::keys::org(org)).map_err(text)?.is_some_and(|o| o.active);
        let asserts = acct.roles.contains(&Role::Issuer) || acct.roles.contains(&Role::Registrar);
        Ok((acct.active && org_active && asserts).then_some(acct.public_key))
    }

    fn is_trusted_issuer(&self, type_id: &str, org: &OrgId) -> Result<bool, String> {
        Ok(self.0.state_value::<TrustedIssuer>(&keys::issuer(type_id, org)).map_err(text)?.is_some())
    }

    fn license(&self, license_id: &str) -> Result<Option<License>, String> {
        self.0.state_value::<License>(&keys::license(license_id)).map_err(text)
    }

    fn status_bit(&self, list: &StatusListId, position: u64) -> Result<bool, String> {
        let Some(index) = list.page.checked_mul(LIST_ENTRIES).and_then(|b| b.checked_add(position)) else {
            return Ok(false);
        };
        let key = keys::status_bit(&list.org, &list.type_id, list.purpose, index);
        Ok(self.0.store().state_get(key.as_bytes()).map_err(|e| e.to_string())?.is_some())
    }
}

/// The set positions (within the page) of status list `list`, in order.
pub fn status_list_positions(node: &Node, list: &StatusListId) -> Result<Vec<u64>, NodeError> {
    let prefix = keys::status_bit_prefix(&list.org, &list.type_id, list.purpose);
    let first = list.page.saturating_mul(LIST_ENTRIES);
    let end = first.saturating_add(LIST_ENTRIES);
    let mut out = Vec::new();
    // Start just before the page's first index: keys are zero-padded, so they sort numerically.
    let mut after: Option<Vec<u8>> = first
        .checked_sub(1)
        .map(|i| keys::status_bit(&list.org, &list.type_id, list.purpose, i).into_bytes());
    loop {
        let page = node.store().state_range(prefix.as_bytes(), after.as_deref(), 4096)?;
        let Some((last, _)) = page.last() else { break };
        after = Some(last.clone());
        for (k, _) in &page {
            let index =
                std::str::from_utf8(&k[prefix.len()..]).ok().and_then(|s| s.parse::<u64>().ok()).ok_or_else(
                    || NodeError::Corrupt(format!("status list key {:?}", String::from_utf8_lossy(k))),
                )?;
            if index >= end {
                return Ok(out);
            }
            out.push(index - first);
        }
        if page.len() < 4096 {
            break;
        }
    }
    Ok(out)
}
