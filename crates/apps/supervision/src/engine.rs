//! The geofence engine: turns positions, heartbeats and device alarms into alert drafts.
//!
//! Guarantees: pure and deterministic — time only ever comes from its inputs, maps are ordered,
//! and the same calls yield the same drafts in the same order (zones in zone id order). It never
//! panics on any input and never drafts a second alert for a (case, kind, zone) that is open.
//! Zone rules need `k` consecutive valid violating fixes, so a single GPS glitch never raises an
//! alert; invalid fixes count as contact only. One global R-tree over every zone's buffered
//! envelope keeps evaluation fast with tens of thousands of zones, and updating one case touches
//! only that case's entries.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::str::FromStr;

use civic_types::{Hash32, UnixMillis};
use jiff::tz::TimeZone;
use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};
use serde::{Deserialize, Serialize};

use crate::zone::{self, CompiledZone, ZoneError, ZoneKind, ZoneSpec};

/// What an alert is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Left an inclusion zone that has no schedule.
    ZoneExit,
    /// Entered an exclusion zone (while its schedule applies, if it has one).
    ZoneEntry,
    /// Outside a scheduled inclusion zone while its schedule is active.
    Curfew,
    /// The strap was removed or cut.
    Tamper,
    /// The wearer pressed SOS.
    Sos,
    /// The device detected a fall.
    Fall,
    /// The battery is low.
    LowBattery,
    /// No valid position for too long.
    GoneDark,
    /// No message of any kind for too long.
    Offline,
}

impl AlertKind {
    /// Every kind, in canonical order.
    pub const ALL: [AlertKind; 9] = [
        AlertKind::ZoneExit,
        AlertKind::ZoneEntry,
        AlertKind::Curfew,
        AlertKind::Tamper,
        AlertKind::Sos,
        AlertKind::Fall,
        AlertKind::LowBattery,
        AlertKind::GoneDark,
        AlertKind::Offline,
    ];

    /// The snake_case name, as serialized ("zone_exit").
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::ZoneExit => "zone_exit",
            AlertKind::ZoneEntry => "zone_entry",
            AlertKind::Curfew => "curfew",
            AlertKind::Tamper => "tamper",
            AlertKind::Sos => "sos",
            AlertKind::Fall => "fall",
            AlertKind::LowBattery => "low_battery",
            AlertKind::GoneDark => "gone_dark",
            AlertKind::Offline => "offline",
        }
    }

    /// Whether alerts of this kind concern one zone (and carry its id).
    pub fn is_zonal(self) -> bool {
        matches!(self, AlertKind::ZoneExit | AlertKind::ZoneEntry | AlertKind::Curfew)
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no alert kind.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown alert kind {0:?}: use one of zone_exit, zone_entry, curfew, tamper, sos, fall, low_battery, gone_dark, offline"
)]
pub struct UnknownAlertKind(pub String);

impl FromStr for AlertKind {
    type Err = UnknownAlertKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AlertKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownAlertKind(s.chars().take(64).collect()))
    }
}

/// What the node maps device protocol alarms to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceAlarm {
    /// The wearer pressed SOS.
    Sos,
    /// The strap was opened or cut.
    StrapRemoved,
    /// A fall was detected.
    Fall,
    /// The device reports a low battery.
    LowBattery,
}

impl DeviceAlarm {
    /// The alert kind this alarm raises.
    pub fn alert_kind(self) -> AlertKind {
        match self {
            DeviceAlarm::Sos => AlertKind::Sos,
            DeviceAlarm::StrapRemoved => AlertKind::Tamper,
            DeviceAlarm::Fall => AlertKind::Fall,
            DeviceAlarm::LowBattery => AlertKind::LowBattery,
        }
    }
}

/// One zone of a case, with its on-chain id and version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseZone {
    /// The zone's id, unique within its case.
    pub zone_id: String,
    /// Bumped on every change on chain.
    pub version: u64,
    /// What the zone says.
    pub spec: ZoneSpec,
}

/// Everything the engine needs to know about one case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseRules {
    /// The case.
    pub case_id: String,
    /// IANA time zone in which schedules are read.
    pub time_zone: String,
    /// The case's zones.
    pub zones: Vec<CaseZone>,
    /// No valid fix for longer than this raises GoneDark; 0 disables the check.
    pub gone_dark_ms: u64,
    /// No message of any kind (heartbeats included) for longer than this raises Offline; 0
    /// disables the check.
    pub offline_ms: u64,
    /// When monitoring started (device bound): the base time for both timers before any report.
    pub since: UnixMillis,
}

/// One reported position.
#[derive(Clone, Debug, PartialEq)]
pub struct Fix {
    /// Hash of the position record (its leaf in the batch's Merkle tree).
    pub position: Hash32,
    /// When the device took the fix (the device's clock).
    pub time: UnixMillis,
    /// When the node received it (the node's clock). Timers run on receipt times, and a fix
    /// time later than its receipt (a device clock running ahead, or a forged timestamp) is
    /// read as the receipt time, so no device can postpone gone-dark or offline alerts or move
    /// a fix out of a curfew by writing a future time.
    pub received: UnixMillis,
    /// Latitude, degrees (WGS 84).
    pub lat: f64,
    /// Longitude, degrees (WGS 84).
    pub lon: f64,
    /// Whether the device reports a valid GNSS fix.
    pub valid: bool,
    /// Battery level, percent, if reported.
    pub battery_pct: Option<u8>,
    /// Alarms carried by the same message.
    pub alarms: Vec<DeviceAlarm>,
}

/// An alert the node should record on chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertDraft {
    /// The case.
    pub case_id: String,
    /// What happened.
    pub kind: AlertKind,
    /// The zone, for zone alerts.
    pub zone: Option<String>,
    /// When it happened (the k-th violating fix, the alarm's message, or the timer check).
    pub at: UnixMillis,
    /// Hashes of the positions that prove it, in order.
    pub positions: Vec<Hash32>,
    /// A short sentence for officers.
    pub detail: String,
}

/// Tuning of the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineConfig {
    /// Consecutive valid violating fixes needed to raise a zone alert (k); 0 is read as 1.
    pub consecutive_fixes: u32,
    /// A reported battery level at or below this raises LowBattery.
    pub low_battery_pct: u8,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self { consecutive_fixes: 3, low_battery_pct: 15 }
    }
}

/// Identifies one zone's entry in the R-tree: the case's slot and a unique entry number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct EntryKey {
    case_slot: u64,
    entry: u64,
}

type Entry = GeomWithData<Rectangle<[f64; 2]>, EntryKey>;

/// An open alert's key: (case, kind, zone).
type OpenKey = (String, AlertKind, Option<String>);

#[derive(Clone, Debug)]
struct ZoneState {
    zone_id: String,
    version: u64,
    spec: ZoneSpec,
    compiled: CompiledZone,
    entry: Entry,
    /// The position hashes of the current run of consecutive valid violating fixes (at most k).
    streak: VecDeque<Hash32>,
}

#[derive(Clone, Debug)]
struct CaseState {
    slot: u64,
    time_zone: String,
    tz: TimeZone,
    gone_dark_ms: u64,
    offline_ms: u64,
    /// Sorted by zone id.
    zones: Vec<ZoneState>,
    last_valid_fix: UnixMillis,
    last_contact: UnixMillis,
}

/// The geofence engine. See the module documentation for its guarantees.
#[derive(Debug)]
pub struct Engine {
    config: EngineConfig,
    tree: RTree<Entry>,
    cases: BTreeMap<String, CaseState>,
    open: BTreeSet<OpenKey>,
    next_slot: u64,
    next_entry: u64,
}

enum Plan {
    /// Reuse the old zone at this index unchanged.
    Keep(usize),
    /// A new or changed zone; the index is an old zone whose counter carries over.
    New(CompiledZone, Option<usize>),
}

impl Engine {
    /// An empty engine.
    pub fn new(config: EngineConfig) -> Engine {
        let config = EngineConfig { consecutive_fixes: config.consecutive_fixes.max(1), ..config };
        Engine {
            config,
            tree: RTree::new(),
            cases: BTreeMap::new(),
            open: BTreeSet::new(),
            next_slot: 0,
            next_entry: 0,
        }
    }

    /// Inserts or replaces a case's rules. Keeps the k-counters of zones whose (zone_id,
    /// version) is unchanged and the last-contact / last-fix times (moved forward to `since` if
    /// it is later). On error the engine is unchanged.
    pub fn set_case(&mut self, rules: CaseRules) -> Result<(), ZoneError> {
        let tz = zone::time_zone(&rules.time_zone)?;
        let mut zones = rules.zones;
        zones.sort_by(|a, b| a.zone_id.cmp(&b.zone_id));
        for pair in zones.windows(2) {
            if pair[0].zone_id == pair[1].zone_id {
                return Err(ZoneError::DuplicateZone { zone_id: pair[0].zone_id.clone() });
            }
        }
        let old = self.cases.get(&rules.case_id);
        let mut plans = Vec::with_capacity(zones.len());
        for z in &zones {
            if z.zone_id.is_empty() || z.zone_id.len() > 64 {
                return Err(ZoneError::ZoneId { zone_id: z.zone_id.chars().take(80).collect() });
            }
            let previous = old.and_then(|c| {
                c.zones
                    .binary_search_by(|o| o.zone_id.as_str().cmp(&z.zone_id))
                    .ok()
                    .map(|i| (i, &c.zones[i]))
            });
            let plan = match previous {
                Some((i, o)) if o.version == z.version && o.spec == z.spec => Plan::Keep(i),
                Some((i, o)) if o.version == z.version => Plan::New(CompiledZone::new(&z.spec)?, Some(i)),
                _ => Plan::New(CompiledZone::new(&z.spec)?, None),
            };
            plans.push(plan);
        }

        // Everything is validated: apply.
        let (slot, mut old_zones, last_valid_fix, last_contact) = match self.cases.remove(&rules.case_id) {
            Some(c) => (
                c.slot,
                c.zones.into_iter().map(Some).collect::<Vec<_>>(),
                c.last_valid_fix.max(rules.since),
                c.last_contact.max(rules.since),
            ),
            None => {
                let slot = self.next_slot;
                self.next_slot += 1;
                (slot, Vec::new(), rules.since, rules.since)
            }
        };
        let mut states = Vec::with_capacity(zones.len());
        for (z, plan) in zones.into_iter().zip(plans) {
            let kept = match plan {
                Plan::Keep(i) => old_zones.get_mut(i).and_then(Option::take),
                Plan::New(..) => None,
            };
            if let Some(state) = kept {
                states.push(state);
                continue;
            }
            let (compiled, carry) = match plan {
                Plan::New(c, carry) => (c, carry),
                // Unreachable: ids are unique, so each old index is kept at most once. Should
                // it happen, compile afresh; the spec equals one that compiled before, so this
                // cannot fail, and the zone is skipped rather than the engine left half-updated.
                Plan::Keep(_) => match CompiledZone::new(&z.spec) {
                    Ok(c) => (c, None),
                    Err(_) => continue,
                },
            };
            let streak =
                carry.and_then(|i| old_zones.get(i)).and_then(|o| o.as_ref()).map(|o| o.streak.clone());
            let (lo, hi) = compiled.envelope();
            let entry = GeomWithData::new(
                Rectangle::from_corners(lo, hi),
                EntryKey { case_slot: slot, entry: self.next_entry },
            );
            self.next_entry += 1;
            self.tree.insert(entry);
            states.push(ZoneState {
                zone_id: z.zone_id,
                version: z.version,
                spec: z.spec,
                compiled,
                entry,
                streak: streak.unwrap_or_default(),
            });
        }
        for gone in old_zones.into_iter().flatten() {
            self.tree.remove(&gone.entry);
        }
        self.cases.insert(
            rules.case_id,
            CaseState {
                slot,
                time_zone: rules.time_zone,
                tz,
                gone_dark_ms: rules.gone_dark_ms,
                offline_ms: rules.offline_ms,
                zones: states,
                last_valid_fix,
                last_contact,
            },
        );
        Ok(())
    }

    /// Forgets a case and its zones (open alerts stay as set by [`Engine::set_open`]).
    pub fn remove_case(&mut self, case_id: &str) {
        if let Some(case) = self.cases.remove(case_id) {
            for z in &case.zones {
                self.tree.remove(&z.entry);
            }
        }
    }

    /// How many cases the engine watches.
    pub fn cases(&self) -> usize {
        self.cases.len()
    }

    /// How many zones the engine watches, over all cases.
    pub fn zones(&self) -> usize {
        self.tree.size()
    }

    /// The alerts currently open on chain (the engine never raises a second open alert for the
    /// same (case, kind, zone)). Replaces the whole set.
    pub fn set_open(&mut self, open: impl IntoIterator<Item = (String, AlertKind, Option<String>)>) {
        self.open = open.into_iter().collect();
    }

    /// Records that an alert was resolved: the next qualifying event raises it again, and for a
    /// zone alert the k-counter starts afresh.
    pub fn mark_resolved(&mut self, case_id: &str, kind: AlertKind, zone: Option<&str>) {
        self.open.remove(&(case_id.to_string(), kind, zone.map(str::to_string)));
        if let (Some(case), Some(zone_id)) = (self.cases.get_mut(case_id), zone)
            && let Ok(i) = case.zones.binary_search_by(|z| z.zone_id.as_str().cmp(zone_id))
        {
            case.zones[i].streak.clear();
        }
    }

    /// A message without a position (heartbeat): counts as contact for the Offline timer; its
    /// battery/alarms are evaluated too.
    pub fn contact(
        &mut self,
        case_id: &str,
        time: UnixMillis,
        battery_pct: Option<u8>,
        alarms: &[DeviceAlarm],
        position: Option<Hash32>,
    ) -> Vec<AlertDraft> {
        let Some(case) = self.cases.get_mut(case_id) else {
            return Vec::new();
        };
        case.last_contact = case.last_contact.max(time);
        let mut drafts = Vec::new();
        self.device_drafts(case_id, time, battery_pct, alarms, position, &mut drafts);
        drafts
    }

    /// A position: evaluated immediately against the case's zones and schedules. Zone drafts
    /// come first (in zone id order), then device alarm drafts (in [`AlertKind`] order). A fix
    /// with non-finite or out-of-range coordinates is treated as invalid.
    pub fn evaluate(&mut self, case_id: &str, fix: &Fix) -> Vec<AlertDraft> {
        let k = usize::try_from(self.config.consecutive_fixes).unwrap_or(usize::MAX);
        let Some(case) = self.cases.get_mut(case_id) else {
            return Vec::new();
        };
        let time = fix.time.min(fix.received);
        case.last_contact = case.last_contact.max(fix.received);
        let mut drafts = Vec::new();
        let usable = fix.valid
            && fix.lat.is_finite()
            && fix.lon.is_finite()
            && (-90.0..=90.0).contains(&fix.lat)
            && (-180.0..=180.0).contains(&fix.lon);
        if usable {
            case.last_valid_fix = case.last_valid_fix.max(time);
            let slot = case.slot;
            let hits: Vec<u64> = self
                .tree
                .locate_all_at_point(&[fix.lon, fix.lat])
                .filter(|e| e.data.case_slot == slot)
                .map(|e| e.data.entry)
                .collect();
            let local = if case.zones.iter().any(|z| z.spec.schedule.is_some()) {
                zone::local_time(time, &case.tz)
            } else {
                None
            };
            for z in &mut case.zones {
                let applies = z.compiled.applies_at(local);
                let violating = applies
                    && if hits.contains(&z.entry.data.entry) {
                        z.compiled.breached(fix.lat, fix.lon)
                    } else {
                        // Outside the envelope: far outside the zone.
                        z.compiled.kind() == ZoneKind::Inclusion
                    };
                if !violating {
                    z.streak.clear();
                    continue;
                }
                z.streak.push_back(fix.position);
                while z.streak.len() > k {
                    z.streak.pop_front();
                }
                if z.streak.len() < k {
                    continue;
                }
                let kind = rule_kind(&z.spec);
                let key = (case_id.to_string(), kind, Some(z.zone_id.clone()));
                if self.open.contains(&key) {
                    continue;
                }
                let distance = z.compiled.signed_distance_m(fix.lat, fix.lon);
                let window = local.and_then(|l| z.compiled.schedule().and_then(|s| s.active_window(l)));
                let name = z.compiled.name();
                let window = window.map(|w| format!("{w} ({})", case.time_zone));
                let detail = match (kind, window) {
                    (AlertKind::Curfew, Some(w)) => {
                        format!("outside '{name}' by {} during curfew {w}", metres(distance))
                    }
                    (AlertKind::Curfew, None) => {
                        format!("outside '{name}' by {} during curfew", metres(distance))
                    }
                    (AlertKind::ZoneEntry, Some(w)) => {
                        format!("inside exclusion zone '{name}' by {} during {w}", metres(-distance))
                    }
                    (AlertKind::ZoneEntry, None) => {
                        format!("inside exclusion zone '{name}' by {}", metres(-distance))
                    }
                    _ => format!("left inclusion zone '{name}' by {}", metres(distance)),
                };
                drafts.push(AlertDraft {
                    case_id: case_id.to_string(),
                    kind,
                    zone: Some(z.zone_id.clone()),
                    at: time,
                    positions: z.streak.drain(..).collect(),
                    detail,
                });
                self.open.insert(key);
            }
        }
        self.device_drafts(case_id, time, fix.battery_pct, &fix.alarms, Some(fix.position), &mut drafts);
        drafts
    }

    /// Timer check at `now`: GoneDark / Offline drafts for silent cases, in case id order
    /// (GoneDark before Offline within a case).
    pub fn tick(&mut self, now: UnixMillis) -> Vec<AlertDraft> {
        let mut drafts = Vec::new();
        for (case_id, case) in &self.cases {
            let checks = [
                (AlertKind::GoneDark, case.gone_dark_ms, case.last_valid_fix, "no valid position for"),
                (AlertKind::Offline, case.offline_ms, case.last_contact, "no message from the device for"),
            ];
            for (kind, limit_ms, last, what) in checks {
                let silent_ms = now.get().saturating_sub(last.get());
                if limit_ms == 0 || silent_ms <= limit_ms {
                    continue;
                }
                let key = (case_id.clone(), kind, None);
                if self.open.contains(&key) {
                    continue;
                }
                drafts.push(AlertDraft {
                    case_id: case_id.clone(),
                    kind,
                    zone: None,
                    at: now,
                    positions: Vec::new(),
                    detail: format!("{what} {}", duration(silent_ms)),
                });
                self.open.insert(key);
            }
        }
        drafts
    }

    fn device_drafts(
        &mut self,
        case_id: &str,
        time: UnixMillis,
        battery_pct: Option<u8>,
        alarms: &[DeviceAlarm],
        position: Option<Hash32>,
        drafts: &mut Vec<AlertDraft>,
    ) {
        let mut kinds: BTreeSet<AlertKind> = alarms.iter().map(|a| a.alert_kind()).collect();
        if battery_pct.is_some_and(|b| b <= self.config.low_battery_pct) {
            kinds.insert(AlertKind::LowBattery);
        }
        for kind in kinds {
            let key = (case_id.to_string(), kind, None);
            if self.open.contains(&key) {
                continue;
            }
            let detail = match (kind, battery_pct) {
                (AlertKind::Tamper, _) => "strap removed".to_string(),
                (AlertKind::Sos, _) => "SOS pressed".to_string(),
                (AlertKind::Fall, _) => "fall detected".to_string(),
                (_, Some(pct)) => format!("battery {pct}%"),
                _ => "the device reports a low battery".to_string(),
            };
            drafts.push(AlertDraft {
                case_id: case_id.to_string(),
                kind,
                zone: None,
                at: time,
                positions: position.into_iter().collect(),
                detail,
            });
            self.open.insert(key);
        }
    }
}

/// The alert kind a zone's rule raises: ZoneExit for an inclusion zone without a schedule,
/// Curfew for one with a schedule, ZoneEntry for an exclusion zone.
pub fn rule_kind(spec: &ZoneSpec) -> AlertKind {
    match (spec.kind, spec.schedule.is_some()) {
        (ZoneKind::Inclusion, false) => AlertKind::ZoneExit,
        (ZoneKind::Inclusion, true) => AlertKind::Curfew,
        (ZoneKind::Exclusion, _) => AlertKind::ZoneEntry,
    }
}

/// "420 m", or "12.3 km" from 10 km on.
fn metres(d: f64) -> String {
    let d = if d.is_finite() { d.max(0.0) } else { 0.0 };
    if d < 10_000.0 { format!("{:.0} m", d) } else { format!("{:.1} km", d / 1000.0) }
}

/// "45 s", "31 min", "2 h 5 min", "3 d 4 h".
pub(crate) fn duration(ms: u64) -> String {
    let s = ms / 1000;
    let (d, h, m) = (s / 86_400, s / 3600 % 24, s / 60 % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::{Schedule, Shape, Weekday, Window};
    use proptest::prelude::*;

    const T0: u64 = 1_717_372_800_000; // 2024-06-03T00:00:00Z, a Monday
    const MIN: u64 = 60_000;

    fn circle(lat: f64, lon: f64, radius_m: u32) -> Shape {
        Shape::Circle { lat_e7: (lat * 1e7).round() as i32, lon_e7: (lon * 1e7).round() as i32, radius_m }
    }

    fn square(lon0: f64, lat0: f64, side: f64) -> Shape {
        Shape::GeoJson {
            geometry: format!(
                r#"{{"type":"Polygon","coordinates":[[[{a},{b}],[{c},{b}],[{c},{d}],[{a},{d}],[{a},{b}]]]}}"#,
                a = lon0,
                b = lat0,
                c = lon0 + side,
                d = lat0 + side
            ),
        }
    }

    fn zone(id: &str, name: &str, kind: ZoneKind, shape: Shape, schedule: Option<Schedule>) -> CaseZone {
        CaseZone {
            zone_id: id.into(),
            version: 1,
            spec: ZoneSpec { name: name.into(), kind, shape, buffer_m: 50, schedule },
        }
    }

    fn rules(case_id: &str, zones: Vec<CaseZone>) -> CaseRules {
        CaseRules {
            case_id: case_id.into(),
            time_zone: "Asia/Shanghai".into(),
            zones,
            gone_dark_ms: 30 * MIN,
            offline_ms: 60 * MIN,
            since: UnixMillis::new(T0),
        }
    }

    fn hash(n: u64) -> Hash32 {
        let mut b = [0; 32];
        b[..8].copy_from_slice(&n.to_be_bytes());
        Hash32(b)
    }

    fn fix(n: u64, t: u64, lat: f64, lon: f64) -> Fix {
        Fix {
            position: hash(n),
            time: UnixMillis::new(t),
            received: UnixMillis::new(t),
            lat,
            lon,
            valid: true,
            battery_pct: Some(80),
            alarms: vec![],
        }
    }

    // Home: a 500 m circle at (31.2, 121.5). 0.01° north is ~1112 m away: outside by ~612 m.
    const HOME: (f64, f64) = (31.2, 121.5);
    const AWAY: (f64, f64) = (31.21, 121.5);

    fn home_engine() -> Engine {
        let mut e = Engine::new(EngineConfig::default());
        let home = zone("home", "Home", ZoneKind::Inclusion, circle(HOME.0, HOME.1, 500), None);
        e.set_case(rules("c1", vec![home])).expect("valid rules");
        e
    }

    #[test]
    fn k_consecutive_and_dedup_until_resolved() {
        let mut e = home_engine();
        assert!(e.evaluate("c1", &fix(1, T0 + MIN, AWAY.0, AWAY.1)).is_empty());
        assert!(e.evaluate("c1", &fix(2, T0 + 2 * MIN, AWAY.0, AWAY.1)).is_empty());
        // A compliant fix resets the count.
        assert!(e.evaluate("c1", &fix(3, T0 + 3 * MIN, HOME.0, HOME.1)).is_empty());
        assert!(e.evaluate("c1", &fix(4, T0 + 4 * MIN, AWAY.0, AWAY.1)).is_empty());
        assert!(e.evaluate("c1", &fix(5, T0 + 5 * MIN, AWAY.0, AWAY.1)).is_empty());
        let d = e.evaluate("c1", &fix(6, T0 + 6 * MIN, AWAY.0, AWAY.1));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].kind, AlertKind::ZoneExit);
        assert_eq!(d[0].zone.as_deref(), Some("home"));
        assert_eq!(d[0].at, UnixMillis::new(T0 + 6 * MIN));
        assert_eq!(d[0].positions, vec![hash(4), hash(5), hash(6)]);
        assert_eq!(d[0].detail, "left inclusion zone 'Home' by 612 m");
        // Open: no more drafts.
        for n in 7..20 {
            assert!(e.evaluate("c1", &fix(n, T0 + n * MIN, AWAY.0, AWAY.1)).is_empty());
        }
        e.mark_resolved("c1", AlertKind::ZoneExit, Some("home"));
        assert!(e.evaluate("c1", &fix(20, T0 + 20 * MIN, AWAY.0, AWAY.1)).is_empty());
        assert!(e.evaluate("c1", &fix(21, T0 + 21 * MIN, AWAY.0, AWAY.1)).is_empty());
        let d = e.evaluate("c1", &fix(22, T0 + 22 * MIN, AWAY.0, AWAY.1));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].positions, vec![hash(20), hash(21), hash(22)]);
    }

    #[test]
    fn invalid_fixes_neither_count_nor_reset() {
        let mut e = home_engine();
        let mut v = fix(0, 0, HOME.0, HOME.1);
        v.valid = false;
        assert!(e.evaluate("c1", &fix(1, T0 + MIN, AWAY.0, AWAY.1)).is_empty());
        // An invalid fix "at home" does not reset; one "away" does not count.
        v.time = UnixMillis::new(T0 + 2 * MIN);
        assert!(e.evaluate("c1", &v).is_empty());
        v.lat = AWAY.0;
        assert!(e.evaluate("c1", &v).is_empty());
        assert!(e.evaluate("c1", &fix(2, T0 + 3 * MIN, AWAY.0, AWAY.1)).is_empty());
        // Non-finite coordinates on a "valid" fix are treated as invalid.
        assert!(e.evaluate("c1", &fix(9, T0 + 3 * MIN, f64::NAN, AWAY.1)).is_empty());
        let d = e.evaluate("c1", &fix(3, T0 + 4 * MIN, AWAY.0, AWAY.1));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].positions, vec![hash(1), hash(2), hash(3)]);
    }

    #[test]
    fn set_open_suppresses_and_unknown_case_is_silent() {
        let mut e = home_engine();
        e.set_open([("c1".to_string(), AlertKind::ZoneExit, Some("home".to_string()))]);
        for n in 0..5 {
            assert!(e.evaluate("c1", &fix(n, T0 + n * MIN, AWAY.0, AWAY.1)).is_empty());
        }
        assert!(e.evaluate("nobody", &fix(1, T0, AWAY.0, AWAY.1)).is_empty());
        assert!(e.contact("nobody", UnixMillis::new(T0), Some(1), &[DeviceAlarm::Sos], None).is_empty());
    }

    fn curfew_engine() -> Engine {
        // Curfew 22:00–06:00 every day, Asia/Shanghai (UTC+8).
        let windows = vec![Window { days: Weekday::ALL.to_vec(), start: 1320, end: 360 }];
        let home = zone(
            "home",
            "Home",
            ZoneKind::Inclusion,
            circle(HOME.0, HOME.1, 500),
            Some(Schedule { windows }),
        );
        let mut e = Engine::new(EngineConfig { consecutive_fixes: 2, low_battery_pct: 15 });
        e.set_case(rules("c1", vec![home])).expect("valid rules");
        e
    }

    #[test]
    fn curfew_only_inside_its_window() {
        let mut e = curfew_engine();
        // T0 is 08:00 local: away all day raises nothing.
        for n in 0..10 {
            assert!(e.evaluate("c1", &fix(n, T0 + n * 60 * MIN, AWAY.0, AWAY.1)).is_empty());
        }
        // 21:59 local = 13:59Z counts nothing; 22:00 and 22:05 local raise (k = 2).
        let t2159 = T0 + 14 * 60 * MIN - MIN;
        assert!(e.evaluate("c1", &fix(20, t2159, AWAY.0, AWAY.1)).is_empty());
        assert!(e.evaluate("c1", &fix(21, t2159 + MIN, AWAY.0, AWAY.1)).is_empty());
        let d = e.evaluate("c1", &fix(22, t2159 + 6 * MIN, AWAY.0, AWAY.1));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].kind, AlertKind::Curfew);
        assert_eq!(d[0].positions, vec![hash(21), hash(22)]);
        assert_eq!(d[0].detail, "outside 'Home' by 612 m during curfew 22:00–06:00 (Asia/Shanghai)");
    }

    #[test]
    fn curfew_window_in_the_morning_and_home_is_fine() {
        let mut e = curfew_engine();
        // 05:58 local (21:58Z the day before T0) at home, 05:59 away: one violating fix.
        let t0558 = T0 - 2 * 60 * MIN - 2 * MIN;
        assert!(e.evaluate("c1", &fix(1, t0558, HOME.0, HOME.1)).is_empty());
        assert!(e.evaluate("c1", &fix(2, t0558 + MIN, AWAY.0, AWAY.1)).is_empty());
        // 06:00 local: the window closed, the counter resets.
        assert!(e.evaluate("c1", &fix(3, t0558 + 2 * MIN, AWAY.0, AWAY.1)).is_empty());
        assert!(e.evaluate("c1", &fix(4, t0558 + 3 * MIN, AWAY.0, AWAY.1)).is_empty());
    }

    #[test]
    fn exclusion_entry() {
        let mut e = Engine::new(EngineConfig { consecutive_fixes: 1, low_battery_pct: 15 });
        let school = zone("school", "School", ZoneKind::Exclusion, square(121.0, 31.0, 0.01), None);
        e.set_case(rules("c1", vec![school])).expect("valid");
        // Outside, and inside by less than the 50 m buffer: nothing.
        assert!(e.evaluate("c1", &fix(1, T0, 30.99, 121.005)).is_empty());
        assert!(e.evaluate("c1", &fix(2, T0, 31.0003, 121.005)).is_empty());
        // 0.002° north of the south edge: ~222 m inside.
        let d = e.evaluate("c1", &fix(3, T0 + MIN, 31.002, 121.005));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].kind, AlertKind::ZoneEntry);
        assert_eq!(d[0].detail, "inside exclusion zone 'School' by 222 m");
    }

    #[test]
    fn device_alarms() {
        let mut e = home_engine();
        let mut f = fix(1, T0, HOME.0, HOME.1);
        f.alarms = vec![DeviceAlarm::StrapRemoved, DeviceAlarm::Sos, DeviceAlarm::Sos];
        f.battery_pct = Some(9);
        let d = e.evaluate("c1", &f);
        let kinds: Vec<_> = d.iter().map(|d| d.kind).collect();
        assert_eq!(kinds, vec![AlertKind::Tamper, AlertKind::Sos, AlertKind::LowBattery]);
        assert!(d.iter().all(|d| d.positions == vec![hash(1)] && d.zone.is_none()));
        assert_eq!(d[0].detail, "strap removed");
        assert_eq!(d[2].detail, "battery 9%");
        // Deduplicated while open, on heartbeats too.
        assert!(
            e.contact("c1", UnixMillis::new(T0 + 1), Some(5), &[DeviceAlarm::StrapRemoved], None).is_empty()
        );
        let d = e.contact("c1", UnixMillis::new(T0 + 2), None, &[DeviceAlarm::Fall], None);
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].kind, d[0].detail.as_str()), (AlertKind::Fall, "fall detected"));
        assert!(d[0].positions.is_empty());
        e.mark_resolved("c1", AlertKind::Tamper, None);
        let d = e.contact("c1", UnixMillis::new(T0 + 3), None, &[DeviceAlarm::StrapRemoved], None);
        assert_eq!(d.len(), 1);
        // An invalid fix still carries alarms.
        let mut v = fix(2, T0 + 4, 0.0, 0.0);
        v.valid = false;
        v.alarms = vec![DeviceAlarm::LowBattery];
        e.mark_resolved("c1", AlertKind::LowBattery, None);
        let d = e.evaluate("c1", &v);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].detail, "battery 80%");
    }

    #[test]
    fn gone_dark_and_offline() {
        let mut e = home_engine();
        // Nothing yet 30 min after `since`.
        assert!(e.tick(UnixMillis::new(T0 + 30 * MIN)).is_empty());
        let d = e.tick(UnixMillis::new(T0 + 31 * MIN));
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].kind, d[0].detail.as_str()), (AlertKind::GoneDark, "no valid position for 31 min"));
        // Heartbeats keep it online but not lit.
        e.contact("c1", UnixMillis::new(T0 + 50 * MIN), None, &[], None);
        assert!(e.tick(UnixMillis::new(T0 + 100 * MIN)).is_empty());
        let d = e.tick(UnixMillis::new(T0 + 111 * MIN));
        assert_eq!(d.len(), 1);
        assert_eq!(
            (d[0].kind, d[0].detail.as_str()),
            (AlertKind::Offline, "no message from the device for 1 h 1 min")
        );
        assert_eq!(d[0].at, UnixMillis::new(T0 + 111 * MIN));
        // An old fix does not move the timers back; a new valid one resets gone-dark.
        e.mark_resolved("c1", AlertKind::GoneDark, None);
        e.mark_resolved("c1", AlertKind::Offline, None);
        e.evaluate("c1", &fix(1, T0 + 120 * MIN, HOME.0, HOME.1));
        e.evaluate("c1", &fix(2, T0 + 10 * MIN, HOME.0, HOME.1));
        assert!(e.tick(UnixMillis::new(T0 + 150 * MIN)).is_empty());
        assert_eq!(e.tick(UnixMillis::new(T0 + 151 * MIN)).len(), 1);
    }

    #[test]
    fn a_future_fix_time_is_read_as_its_receipt_time() {
        let mut e = home_engine();
        // A device claims its fix was taken a day from now, then falls silent.
        let mut forged = fix(1, T0 + 24 * 60 * MIN, HOME.0, HOME.1);
        forged.received = UnixMillis::new(T0 + MIN);
        assert!(e.evaluate("c1", &forged).is_empty());
        // Gone dark and offline still run from the receipt time.
        assert!(e.tick(UnixMillis::new(T0 + 31 * MIN)).is_empty());
        let kinds: Vec<AlertKind> = e.tick(UnixMillis::new(T0 + 32 * MIN)).iter().map(|d| d.kind).collect();
        assert_eq!(kinds, vec![AlertKind::GoneDark]);
        let kinds: Vec<AlertKind> = e.tick(UnixMillis::new(T0 + 62 * MIN)).iter().map(|d| d.kind).collect();
        assert_eq!(kinds, vec![AlertKind::Offline]);
        // Alerts it raises carry the receipt time, not the claimed one.
        let mut e = home_engine();
        let mut last = Vec::new();
        for n in 1..=3 {
            let mut away = fix(n, T0 + 24 * 60 * MIN, AWAY.0, AWAY.1);
            away.received = UnixMillis::new(T0 + n * MIN);
            last = e.evaluate("c1", &away);
        }
        assert_eq!(last.len(), 1);
        assert_eq!(last[0].at, UnixMillis::new(T0 + 3 * MIN));
    }

    #[test]
    fn set_case_replaces_zones_and_keeps_counters() {
        let mut e = home_engine();
        assert_eq!((e.cases(), e.zones()), (1, 1));
        e.evaluate("c1", &fix(1, T0 + MIN, AWAY.0, AWAY.1));
        e.evaluate("c1", &fix(2, T0 + 2 * MIN, AWAY.0, AWAY.1));
        // Same zone and version plus a new exclusion zone: the counter survives.
        let home = zone("home", "Home", ZoneKind::Inclusion, circle(HOME.0, HOME.1, 500), None);
        let far = zone("park", "Park", ZoneKind::Exclusion, circle(0.0, 0.0, 100), None);
        e.set_case(rules("c1", vec![far.clone(), home.clone()])).expect("valid");
        assert_eq!(e.zones(), 2);
        let d = e.evaluate("c1", &fix(3, T0 + 3 * MIN, AWAY.0, AWAY.1));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].positions, vec![hash(1), hash(2), hash(3)]);

        // A bigger home (new version) now contains AWAY: compliant.
        e.mark_resolved("c1", AlertKind::ZoneExit, Some("home"));
        let mut bigger = zone("home", "Home", ZoneKind::Inclusion, circle(HOME.0, HOME.1, 2_000), None);
        bigger.version = 2;
        e.set_case(rules("c1", vec![bigger])).expect("valid");
        assert_eq!(e.zones(), 1);
        for n in 4..10 {
            assert!(e.evaluate("c1", &fix(n, T0 + n * MIN, AWAY.0, AWAY.1)).is_empty());
        }
        // Errors leave the engine unchanged.
        let dup = rules("c1", vec![home.clone(), home.clone()]);
        assert!(matches!(e.set_case(dup), Err(ZoneError::DuplicateZone { .. })));
        let mut bad_tz = rules("c1", vec![]);
        bad_tz.time_zone = "Nowhere/City".into();
        assert!(e.set_case(bad_tz).is_err());
        assert_eq!((e.cases(), e.zones()), (1, 1));
        e.remove_case("c1");
        assert_eq!((e.cases(), e.zones()), (0, 0));
    }

    #[test]
    fn ten_thousand_zones() {
        let mut e = Engine::new(EngineConfig { consecutive_fixes: 1, low_battery_pct: 15 });
        // 5,000 cases on a 100 × 50 grid, 0.02° apart, each with a 300 m home circle and a
        // 0.002° exclusion square 0.005° east of home.
        let centre = |i: u64| (30.0 + (i / 100) as f64 * 0.02, 120.0 + (i % 100) as f64 * 0.02);
        for i in 0..5_000 {
            let (lat, lon) = centre(i);
            let home = zone("a-home", "Home", ZoneKind::Inclusion, circle(lat, lon, 300), None);
            let bar = zone("b-bar", "Bar", ZoneKind::Exclusion, square(lon + 0.005, lat, 0.002), None);
            e.set_case(rules(&format!("case-{i:04}"), vec![home, bar])).expect("valid");
        }
        assert_eq!((e.cases(), e.zones()), (5_000, 10_000));
        let mut raised = BTreeMap::<AlertKind, usize>::new();
        for n in 0..20_000u64 {
            let i = n % 5_000;
            let (lat, lon) = centre(i);
            // Rounds: 0 home, 1 in the bar, 2 home, 3 far away.
            let (flat, flon) = match n / 5_000 {
                0 | 2 => (lat, lon),
                1 => (lat + 0.001, lon + 0.006),
                _ => (lat + 0.01, lon - 0.01),
            };
            let case_id = format!("case-{i:04}");
            for d in e.evaluate(&case_id, &fix(n, T0 + n, flat, flon)) {
                assert_eq!(d.case_id, case_id);
                *raised.entry(d.kind).or_default() += 1;
            }
        }
        // Round 1 is outside home (≈ 580 m) and inside the bar: both raise for every case.
        // Round 3 is far outside home but ZoneExit is still open; nothing else raises.
        assert_eq!(raised.get(&AlertKind::ZoneEntry), Some(&5_000));
        assert_eq!(raised.get(&AlertKind::ZoneExit), Some(&5_000));
        assert_eq!(raised.len(), 2);
    }

    #[test]
    fn alert_kind_names_round_trip() {
        for k in AlertKind::ALL {
            assert_eq!(k.as_str().parse::<AlertKind>(), Ok(k));
            assert_eq!(serde_json::to_string(&k).ok(), Some(format!("\"{k}\"")));
        }
        assert!("zone-exit".parse::<AlertKind>().is_err());
        assert_eq!(duration(45_000), "45 s");
        assert_eq!(duration(2 * 3_600_000 + 5 * MIN), "2 h 5 min");
        assert_eq!(duration(3 * 86_400_000 + 4 * 3_600_000), "3 d 4 h");
    }

    proptest! {
        #[test]
        fn random_messages_never_panic(
            msgs in proptest::collection::vec(
                (any::<u64>(), any::<f64>(), any::<f64>(), -91.0..91.0f64, -181.0..181.0f64,
                 any::<bool>(), any::<bool>(), proptest::option::of(any::<u8>()), 0u8..16),
                1..60)
        ) {
            let mut e = curfew_engine();
            let school = zone("school", "School", ZoneKind::Exclusion, square(121.5, 31.2, 0.01), None);
            let home = zone("home", "Home", ZoneKind::Inclusion, circle(HOME.0, HOME.1, 500), None);
            e.set_case(rules("c2", vec![school, home])).expect("valid");
            for (n, (t, rlat, rlon, lat, lon, valid, raw, battery, alarm_bits)) in msgs.into_iter().enumerate() {
                let alarms: Vec<DeviceAlarm> = [DeviceAlarm::Sos, DeviceAlarm::StrapRemoved, DeviceAlarm::Fall, DeviceAlarm::LowBattery]
                    .into_iter().enumerate().filter(|(i, _)| alarm_bits & (1 << i) != 0).map(|(_, a)| a).collect();
                let (lat, lon) = if raw { (rlat, rlon) } else { (lat, lon) };
                let f = Fix { position: hash(n as u64), time: UnixMillis::new(t), received: UnixMillis::new(t), lat, lon, valid, battery_pct: battery, alarms };
                for d in e.evaluate("c1", &f).into_iter().chain(e.evaluate("c2", &f)) {
                    prop_assert!(!d.detail.is_empty());
                }
                e.contact("c2", UnixMillis::new(t), battery, &f.alarms, None);
                e.tick(UnixMillis::new(t));
            }
        }
    }
}
