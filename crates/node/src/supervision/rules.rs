//! Reads the supervision rules the gateway applies from committed state.
//!
//! Guarantees: everything comes from one node's committed state; a record that does not decode
//! is an error (state is corrupt), never skipped silently.

use std::collections::{BTreeMap, BTreeSet};

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

/// The rules of every open case with a device, the unresolved alerts and the device directory.
pub(super) fn load(node: &Node) -> Result<Loaded, NodeError> {
    let mut directory = Directory::default();
    for (_, d) in node.scan_state::<Device>(keys::DEVICE_PREFIX)? {
        directory.devices.insert(
            d.device_id.clone(),
            DeviceEntry { protocol: d.protocol, case_id: d.case_id, org: d.org },
        );
    }
    let mut cases = Vec::new();
    for (_, c) in node.scan_state::<Case>(keys::CASE_PREFIX)? {
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
    for (key, _) in node.scan_state::<String>(keys::OPEN_PREFIX)? {
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
    let zones = node
        .scan_state::<Zone>(&keys::zone_prefix(&c.case_id))?
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
    for (key, alert_id) in node.scan_state::<String>(keys::OPEN_PREFIX)? {
        let (case, n) =
            split_alert_id(&alert_id).ok_or_else(|| NodeError::Corrupt(format!("{key}: {alert_id}")))?;
        if let Some(a) = node.state_value::<Alert>(&keys::alert(case, n))? {
            out.push(a);
        }
    }
    Ok(out)
}
