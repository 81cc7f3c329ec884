//! Reads the supervision rules the gateway applies from committed state.
//!
//! Guarantees: everything comes from one node's committed state; a record that does not decode
//! is an error (state is corrupt), never skipped silently.

use std::collections::{BTreeMap, BTreeSet};

use civic_ledger::state::decode_value;
use civic_supervision::engine::{AlertKind, CaseRules, CaseZone};
use civic_supervision::module::{Alert, Case, Device, Protocol, Zone, keys, split_alert_id};
use civic_types::OrgId;

use crate::node::{Node, NodeError};

/// A registered device as the listeners need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceEntry {
    /// How it talks.
    pub protocol: Protocol,
    /// The open case it is bound to.
    pub case_id: Option<String>,
    /// Its organization.
    pub org: OrgId,
}

/// Registered devices and the organizations of open cases.
#[derive(Clone, Debug, Default)]
pub struct Directory {
    /// By protocol id.
    pub devices: BTreeMap<String, DeviceEntry>,
    /// Organization of each open case.
    pub case_orgs: BTreeMap<String, OrgId>,
}

pub(super) struct Loaded {
    pub cases: Vec<CaseRules>,
    pub open: BTreeSet<(String, AlertKind, Option<String>)>,
    pub directory: Directory,
}

/// Every value under `prefix`, decoded, with its key.
pub(crate) fn scan<T: serde::de::DeserializeOwned>(
    node: &Node,
    prefix: &str,
) -> Result<Vec<(String, T)>, NodeError> {
    let mut out = Vec::new();
    let mut after: Option<Vec<u8>> = None;
    loop {
        let page = node.store().state_range(prefix.as_bytes(), after.as_deref(), 4096)?;
        let Some((last, _)) = page.last() else { break };
        after = Some(last.clone());
        let n = page.len();
        for (k, v) in page {
            let key = String::from_utf8_lossy(&k).into_owned();
            let value = decode_value(&v).map_err(|e| NodeError::Corrupt(format!("{key}: {e}")))?;
            out.push((key, value));
        }
        if n < 4096 {
            break;
        }
    }
    Ok(out)
}

/// The rules of every open case with a device, the unresolved alerts and the device directory.
pub(super) fn load(node: &Node) -> Result<Loaded, NodeError> {
    let mut directory = Directory::default();
    for (_, d) in scan::<Device>(node, keys::DEVICE_PREFIX)? {
        directory.devices.insert(
            d.device_id.clone(),
            DeviceEntry { protocol: d.protocol, case_id: d.case_id, org: d.org },
        );
    }
    let mut cases = Vec::new();
    for (_, c) in scan::<Case>(node, keys::CASE_PREFIX)? {
        if !c.is_open() {
            continue;
        }
        directory.case_orgs.insert(c.case_id.clone(), c.org.clone());
        if c.device.is_none() {
            continue;
        }
        cases.push(case_rules(node, &c)?);
    }
    let mut open = BTreeSet::new();
    for (key, _) in scan::<String>(node, keys::OPEN_PREFIX)? {
        let rest = &key[keys::OPEN_PREFIX.len()..];
        let mut parts = rest.splitn(3, '/');
        let (Some(case), Some(kind), Some(zone)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NodeError::Corrupt(format!("open alert key {key}")));
        };
        let kind: AlertKind =
            kind.parse().map_err(|_| NodeError::Corrupt(format!("open alert key {key}")))?;
        open.insert((case.to_owned(), kind, (zone != "-").then(|| zone.to_owned())));
    }
    Ok(Loaded { cases, open, directory })
}

/// The engine rules of one case (its current, unremoved zones).
pub fn case_rules(node: &Node, c: &Case) -> Result<CaseRules, NodeError> {
    let zones = scan::<Zone>(node, &keys::zone_prefix(&c.case_id))?
        .into_iter()
        .filter(|(_, z)| !z.removed)
        .map(|(_, z)| CaseZone { zone_id: z.zone_id, version: z.version, spec: z.spec })
        .collect();
    Ok(CaseRules {
        case_id: c.case_id.clone(),
        time_zone: c.time_zone.clone(),
        zones,
        gone_dark_ms: u64::from(c.gone_dark_minutes) * 60_000,
        offline_ms: u64::from(c.offline_minutes) * 60_000,
        since: c.bound_at.unwrap_or(c.opened_at),
    })
}

/// Every unresolved alert.
pub fn open_alerts(node: &Node) -> Result<Vec<Alert>, NodeError> {
    let mut out = Vec::new();
    for (key, alert_id) in scan::<String>(node, keys::OPEN_PREFIX)? {
        let (case, n) =
            split_alert_id(&alert_id).ok_or_else(|| NodeError::Corrupt(format!("{key}: {alert_id}")))?;
        if let Some(a) = node.state_value::<Alert>(&keys::alert(case, n))? {
            out.push(a);
        }
    }
    Ok(out)
}
