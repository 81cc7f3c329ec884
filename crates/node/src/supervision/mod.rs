//! The supervision gateway's core inside a node: device reports in, positions stored and
//! anchored, the geofence engine run on every report, alerts and escalations submitted as the
//! node's `gateway` service accounts.
//!
//! Guarantees:
//! - a report is acknowledged ([`Supervisor::ingest`] returns `Ok`) only after its position is
//!   durably in the store; reports are written in groups, one durable write per group;
//! - the queue in front of the worker is bounded: when it is full, [`Supervisor::enqueue`]
//!   refuses (OsmAnd answers 503 and the client retries) and [`Supervisor::enqueue_waiting`]
//!   waits (a watch connection stops being read, so TCP slows the device down) — no position
//!   is dropped for overload;
//! - every position is evaluated against its case's rules as of the latest committed block the
//!   worker has seen (rules reload whenever the module's revision key changes);
//! - every closed batch is anchored on chain (its RFC 6962 root) by a `gateway` account; batches
//!   closed but not anchored before a crash are anchored after restart;
//! - the engine never raises a second unresolved alert for the same (case, kind, zone), and the
//!   module refuses one if two nodes try;
//! - timers (gone dark, offline, escalation, retention) run on the worker, never on the request
//!   path.
//!
//! Listeners (OsmAnd HTTP, watch TCP) live in the `civic-gateway` crate and call [`Supervisor`].

pub mod positions;
mod rules;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::mpsc::{RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use civic_devices::{Alarm, Report};
use civic_ledger::Call;
use civic_store::StoreError;
use civic_supervision::engine::{AlertDraft, AlertKind, DeviceAlarm, Engine, EngineConfig, Fix};
use civic_supervision::module::{Anchor, Device, Protocol, SupervisionCall, keys};
use civic_supervision::position::{Position, PositionProof, to_e7};
use civic_types::{AccountId, Hash32, Role, UnixMillis};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError, oneshot};

use crate::metrics::GatewayMetrics;
use crate::node::{Node, NodeError};
use crate::now_ms;
use crate::service::ServiceKeys;
use positions::{Batch, Cursor, Positions};
pub use rules::{DeviceEntry, Directory};

/// Gateway settings.
#[derive(Clone, Debug)]
pub struct SupervisorConfig {
    /// How often the open batch is closed and anchored.
    pub anchor_interval: Duration,
    /// How often timers (gone dark, offline, escalation, retention) run.
    pub tick_interval: Duration,
    /// How long positions are kept.
    pub retention: Duration,
    /// Consecutive violating fixes before a zone alert.
    pub consecutive_fixes: u32,
    /// Battery percentage at or below which a low-battery alert is raised.
    pub low_battery_pct: u8,
    /// Reports waiting for the worker: beyond this, [`Supervisor::enqueue`] refuses and
    /// [`Supervisor::enqueue_waiting`] waits.
    pub queue: usize,
}

impl Default for SupervisorConfig {
    fn default() -> Self {
        SupervisorConfig {
            anchor_interval: Duration::from_secs(1),
            tick_interval: Duration::from_secs(5),
            retention: Duration::from_secs(365 * 24 * 3600),
            consecutive_fixes: 3,
            low_battery_pct: 15,
            queue: 65_536,
        }
    }
}

/// Why a report was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    /// No device with this id is registered.
    #[error("device {0} is not registered")]
    UnknownDevice(String),
    /// The device is registered for the other protocol.
    #[error("device {device} is registered for the {expected} protocol")]
    WrongProtocol {
        /// The device.
        device: String,
        /// Its protocol on chain.
        expected: Protocol,
    },
    /// The device is not bound to an open case.
    #[error("device {0} is not bound to an open case")]
    Unbound(String),
    /// The worker's queue is full.
    #[error("the gateway is overloaded; retry shortly")]
    Overloaded,
    /// The node is shutting down or its store failed.
    #[error("the gateway is unavailable: {0}")]
    Unavailable(String),
}

/// What an accepted report became.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    /// The stored position's id, if the report had a position.
    pub seq: Option<u64>,
}

/// Last contact with a device, as this node saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LastSeen {
    /// Last message of any kind (receive time).
    pub contact: Option<UnixMillis>,
    /// Last position's fix time.
    pub fix: Option<UnixMillis>,
    /// Last battery level.
    pub battery_pct: Option<u8>,
}

struct Job {
    /// The job's place in the queue, freed when the worker takes it.
    _slot: OwnedSemaphorePermit,
    report: Report,
    protocol: Protocol,
    received: UnixMillis,
    ack: oneshot::Sender<Result<Ack, IngestError>>,
}

/// A stored position with its anchoring.
#[derive(Debug, Clone)]
pub struct ProvenPosition {
    /// The proof (absent while the position's batch is still open).
    pub proof: Option<PositionProof>,
    /// The anchor on chain, once committed.
    pub anchor: Option<Anchor>,
    /// The position.
    pub position: Position,
}

/// The gateway core of a node.
pub struct Supervisor {
    node: Arc<Node>,
    jobs: Sender<Job>,
    slots: Arc<Semaphore>,
    directory: Arc<RwLock<Directory>>,
    seen: Arc<Mutex<BTreeMap<String, LastSeen>>>,
    counters: GatewayMetrics,
    config: SupervisorConfig,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor").field("config", &self.config).finish_non_exhaustive()
    }
}

impl Supervisor {
    /// Starts the worker thread.
    pub fn start(
        node: Arc<Node>,
        service: Arc<ServiceKeys>,
        config: SupervisorConfig,
    ) -> Result<Arc<Supervisor>, NodeError> {
        // The semaphore bounds the queue; the channel itself never refuses.
        let (jobs, rx) = std::sync::mpsc::channel::<Job>();
        let slots = Arc::new(Semaphore::new(config.queue.clamp(1, Semaphore::MAX_PERMITS)));
        let directory = Arc::new(RwLock::new(Directory::default()));
        let seen = Arc::new(Mutex::new(BTreeMap::new()));
        let counters = node.metrics().gateway.clone();
        let mut worker = Worker::new(
            node.clone(),
            service,
            config.clone(),
            directory.clone(),
            seen.clone(),
            counters.clone(),
        )?;
        std::thread::Builder::new()
            .name("supervision".into())
            .spawn(move || worker.run(&rx))
            .map_err(|e| NodeError::Corrupt(format!("cannot start the supervision worker: {e}")))?;
        Ok(Arc::new(Supervisor { node, jobs, slots, directory, seen, counters, config }))
    }

    /// The gateway's counters (also on `/metrics` as `civic_gateway_*`).
    pub fn counters(&self) -> &GatewayMetrics {
        &self.counters
    }

    /// The settings.
    pub fn config(&self) -> &SupervisorConfig {
        &self.config
    }

    /// Checks a device id before a listener reads more from it. A device the worker's directory
    /// does not know yet (registered or bound since its last reload) is looked up on chain.
    pub fn check_device(&self, device: &str, protocol: Protocol) -> Result<(), IngestError> {
        // (protocol, bound) — read under the lock, nothing copied on this per-report path.
        let known = (self.directory.read().unwrap_or_else(|p| p.into_inner()).devices.get(device))
            .filter(|d| d.case_id.is_some())
            .map(|d| (d.protocol, true));
        let entry = match known {
            Some(e) => Some(e),
            None => match self.node.state_value::<Device>(&keys::device(device)) {
                Ok(d) => d.map(|d| (d.protocol, d.case_id.is_some())),
                Err(e) => return Err(IngestError::Unavailable(e.to_string())),
            },
        };
        let refused = |e| {
            self.counters.refused.inc();
            Err(e)
        };
        match entry {
            None => refused(IngestError::UnknownDevice(device.to_owned())),
            Some((expected, _)) if expected != protocol => {
                refused(IngestError::WrongProtocol { device: device.to_owned(), expected })
            }
            Some((_, false)) => refused(IngestError::Unbound(device.to_owned())),
            Some(_) => Ok(()),
        }
    }

    /// Hands a decoded report to the worker and waits until it is durably stored.
    pub async fn ingest(&self, report: Report, protocol: Protocol) -> Result<Ack, IngestError> {
        self.enqueue(report, protocol)?.await
    }

    /// Queues a decoded report at once, or refuses it with [`IngestError::Overloaded`] when the
    /// queue is full (for senders that retry, like OsmAnd clients on a 503); the returned future
    /// resolves when it is durably stored.
    pub fn enqueue(
        &self,
        report: Report,
        protocol: Protocol,
    ) -> Result<impl Future<Output = Result<Ack, IngestError>> + use<>, IngestError> {
        self.check_device(&report.device, protocol)?;
        let slot = match self.slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(TryAcquireError::NoPermits) => {
                self.counters.refused.inc();
                return Err(IngestError::Overloaded);
            }
            Err(TryAcquireError::Closed) => return Err(stopped()),
        };
        self.send(slot, report, protocol)
    }

    /// Queues a decoded report, waiting for room in the queue when it is full, so a connection
    /// that outpaces the worker is slowed down (TCP backpressure) instead of losing positions.
    /// Listeners queue every report of a read before awaiting any of the returned futures, so
    /// one connection's frames share a group write; the outer future resolves once queued, the
    /// inner one once durably stored.
    pub async fn enqueue_waiting(
        &self,
        report: Report,
        protocol: Protocol,
    ) -> Result<impl Future<Output = Result<Ack, IngestError>> + use<>, IngestError> {
        self.check_device(&report.device, protocol)?;
        let slot = self.slots.clone().acquire_owned().await.map_err(|_| stopped())?;
        self.send(slot, report, protocol)
    }

    fn send(
        &self,
        slot: OwnedSemaphorePermit,
        report: Report,
        protocol: Protocol,
    ) -> Result<impl Future<Output = Result<Ack, IngestError>> + use<>, IngestError> {
        let (ack, done) = oneshot::channel();
        self.jobs
            .send(Job { _slot: slot, report, protocol, received: now_ms(), ack })
            .map_err(|_| stopped())?;
        Ok(async move { done.await.unwrap_or_else(|_| Err(stopped())) })
    }

    /// Counts a malformed message seen by a listener.
    pub fn malformed(&self) {
        self.counters.malformed.inc();
    }

    /// What this node last heard from a device.
    pub fn last_seen(&self, device: &str) -> LastSeen {
        last_seen(&self.seen, device)
    }

    /// Up to `limit` stored positions of a device with fix time in `[from, to)`.
    pub fn positions(
        &self,
        device: &str,
        from: UnixMillis,
        to: UnixMillis,
        limit: usize,
    ) -> Result<Vec<Position>, StoreError> {
        Positions::new(self.node.store()).by_device(device, from, to, limit)
    }

    /// A stored position with its batch proof and on-chain anchor.
    pub fn proven(&self, seq: u64) -> Result<Option<ProvenPosition>, NodeError> {
        let series = Positions::new(self.node.store());
        let Some(position) = series.get(seq)? else { return Ok(None) };
        let Some(batch) = series.batch_of(seq)? else {
            return Ok(Some(ProvenPosition { proof: None, anchor: None, position }));
        };
        let leaves: Vec<Hash32> =
            series.range(batch.first_seq, batch.count)?.iter().map(Position::leaf_hash).collect();
        if leaves.len() as u64 != batch.count {
            return Err(NodeError::Corrupt(format!("batch {} lost positions", batch.batch)));
        }
        let inclusion = civic_merkle::inclusion_proof(&leaves, seq - batch.first_seq)
            .map_err(|e| NodeError::Corrupt(e.to_string()))?;
        let Some(gateway) = batch.gateway.clone() else {
            return Ok(Some(ProvenPosition { proof: None, anchor: None, position }));
        };
        let anchor = self.node.state_value::<Anchor>(&keys::anchor(&gateway, batch.batch))?;
        let proof = PositionProof {
            position_bcs: hex::encode(position.to_bytes()),
            leaf_hash: position.leaf_hash(),
            gateway,
            batch: batch.batch,
            root: batch.root,
            inclusion,
        };
        Ok(Some(ProvenPosition { proof: Some(proof), anchor, position }))
    }
}

fn stopped() -> IngestError {
    IngestError::Unavailable("the supervision worker stopped".into())
}

fn last_seen(seen: &Mutex<BTreeMap<String, LastSeen>>, device: &str) -> LastSeen {
    seen.lock().unwrap_or_else(|p| p.into_inner()).get(device).copied().unwrap_or_default()
}

/// Maps device protocol alarms to what the engine acts on.
fn engine_alarms(alarms: &BTreeSet<Alarm>) -> Vec<DeviceAlarm> {
    alarms
        .iter()
        .filter_map(|a| match a {
            Alarm::Sos => Some(DeviceAlarm::Sos),
            Alarm::StrapRemoved => Some(DeviceAlarm::StrapRemoved),
            Alarm::Fall => Some(DeviceAlarm::Fall),
            Alarm::LowBattery => Some(DeviceAlarm::LowBattery),
            Alarm::Geofence | Alarm::PowerCut | Alarm::Other(_) => None,
        })
        .collect()
}

fn alarm_name(a: &Alarm) -> String {
    match a {
        Alarm::Sos => "sos".into(),
        Alarm::StrapRemoved => "strap_removed".into(),
        Alarm::Fall => "fall".into(),
        Alarm::LowBattery => "low_battery".into(),
        Alarm::Geofence => "geofence".into(),
        Alarm::PowerCut => "power_cut".into(),
        Alarm::Other(s) => s.clone(),
    }
}

/// Whole units of a measurement, or `None` when it does not fit.
fn whole<T: TryFrom<i64>>(v: Option<f64>, scale: f64) -> Option<T> {
    let v = v?;
    // Range-checked as i64 before the cast: finite decoder outputs only.
    let r = (v * scale).round();
    if r.is_finite() && r.abs() < 9.0e15 { T::try_from(r as i64).ok() } else { None }
}

/// The worker: owns the engine, the open batch and the store writes.
struct Worker {
    node: Arc<Node>,
    service: Arc<ServiceKeys>,
    config: SupervisorConfig,
    directory: Arc<RwLock<Directory>>,
    seen: Arc<Mutex<BTreeMap<String, LastSeen>>>,
    counters: GatewayMetrics,
    engine: Engine,
    revision: Option<u64>,
    cursor: Cursor,
    leaves: Vec<Hash32>,
    batch_from: UnixMillis,
    batch_to: UnixMillis,
    /// Alerts submitted but not yet seen on chain, with when.
    pending: BTreeMap<(String, AlertKind, Option<String>), Instant>,
    escalating: BTreeSet<String>,
    warned: BTreeSet<String>,
}

impl Worker {
    fn new(
        node: Arc<Node>,
        service: Arc<ServiceKeys>,
        config: SupervisorConfig,
        directory: Arc<RwLock<Directory>>,
        seen: Arc<Mutex<BTreeMap<String, LastSeen>>>,
        counters: GatewayMetrics,
    ) -> Result<Worker, NodeError> {
        let series = Positions::new(node.store());
        let cursor = series.cursor()?;
        // The open batch's leaves survive a restart in the store.
        let open = series.range(cursor.batch_start, cursor.next_seq - cursor.batch_start)?;
        let engine = Engine::new(EngineConfig {
            consecutive_fixes: config.consecutive_fixes.max(1),
            low_battery_pct: config.low_battery_pct,
        });
        let mut w = Worker {
            node,
            service,
            config,
            directory,
            seen,
            counters,
            engine,
            revision: None,
            cursor,
            leaves: open.iter().map(Position::leaf_hash).collect(),
            batch_from: open.first().map_or(UnixMillis::new(0), |p| p.received),
            batch_to: open.last().map_or(UnixMillis::new(0), |p| p.received),
            pending: BTreeMap::new(),
            escalating: BTreeSet::new(),
            warned: BTreeSet::new(),
        };
        w.reload()?;
        w.anchor_unanchored();
        Ok(w)
    }

    fn run(&mut self, rx: &std::sync::mpsc::Receiver<Job>) {
        let mut next_anchor = Instant::now() + self.config.anchor_interval;
        let mut next_tick = Instant::now() + self.config.tick_interval;
        loop {
            let wait = next_anchor.min(next_tick).saturating_duration_since(Instant::now());
            match rx.recv_timeout(wait) {
                Ok(first) => {
                    let mut group = vec![first];
                    while group.len() < 8192 {
                        match rx.try_recv() {
                            Ok(j) => group.push(j),
                            Err(_) => break,
                        }
                    }
                    self.process(group);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            let now = Instant::now();
            if now >= next_anchor {
                if let Err(e) = self.close_batch() {
                    tracing::error!(error = %e, "closing a position batch failed");
                }
                next_anchor = now + self.config.anchor_interval;
            }
            if now >= next_tick {
                if let Err(e) = self.tick() {
                    tracing::error!(error = %e, "supervision timers failed");
                }
                next_tick = now + self.config.tick_interval;
            }
        }
    }

    /// Reloads rules when the module's revision moved.
    fn reload(&mut self) -> Result<(), NodeError> {
        let rev = self.node.state_value::<u64>(keys::REVISION)?;
        if rev == self.revision && self.revision.is_some() {
            return Ok(());
        }
        let loaded = rules::load(&self.node)?;
        let live: BTreeSet<&str> = loaded.cases.iter().map(|c| c.case_id.as_str()).collect();
        let stale: Vec<String> =
            self.directory_cases().into_iter().filter(|c| !live.contains(c.as_str())).collect();
        for c in stale {
            self.engine.remove_case(&c);
        }
        for rules in loaded.cases.iter().cloned() {
            let id = rules.case_id.clone();
            if let Err(e) = self.engine.set_case(rules) {
                tracing::warn!(case = %id, error = %e, "a case's zones do not compile; it is monitored without them");
            }
        }
        let now = Instant::now();
        self.pending
            .retain(|k, t| now.duration_since(*t) < Duration::from_secs(30) && !loaded.open.contains(k));
        self.engine.set_open(loaded.open.iter().cloned().chain(self.pending.keys().cloned()));
        *self.directory.write().unwrap_or_else(|p| p.into_inner()) = loaded.directory;
        self.revision = rev.or(Some(0));
        Ok(())
    }

    fn directory_cases(&self) -> Vec<String> {
        let dir = self.directory.read().unwrap_or_else(|p| p.into_inner());
        dir.devices.values().filter_map(|d| d.case_id.clone()).collect()
    }

    fn process(&mut self, group: Vec<Job>) {
        if let Err(e) = self.reload() {
            tracing::error!(error = %e, "reloading supervision rules failed");
        }
        let mut stored = Vec::new();
        let mut acks = Vec::new();
        let mut drafts = Vec::new();
        let mut cursor = self.cursor;
        // The worker is the directory's only writer (in `reload`, above), so reading it under a
        // shared lock for the whole group sees one consistent version without copying it.
        let directory = self.directory.clone();
        let dir = directory.read().unwrap_or_else(|p| p.into_inner());
        let mut seen = BTreeMap::new();
        for job in group {
            let Some(case_id) = dir.devices.get(&job.report.device).and_then(|d| d.case_id.clone()) else {
                let _ = job.ack.send(Err(IngestError::Unbound(job.report.device.clone())));
                continue;
            };
            let r = &job.report;
            let alarms = engine_alarms(&r.alarms);
            let entry: &mut LastSeen =
                seen.entry(r.device.clone()).or_insert_with(|| last_seen(&self.seen, &r.device));
            entry.contact = entry.contact.max(Some(job.received));
            if r.battery_pct.is_some() {
                entry.battery_pct = r.battery_pct;
            }
            let seq = match &r.fix {
                Some(fix) => {
                    let p = Position {
                        seq: cursor.next_seq,
                        device: r.device.clone(),
                        protocol: job.protocol,
                        case_id: case_id.clone(),
                        fix_time: UnixMillis::new(fix.time_ms),
                        received: job.received,
                        lat_e7: to_e7(fix.lat),
                        lon_e7: to_e7(fix.lon),
                        valid: fix.valid,
                        speed_dkmh: whole(fix.speed_kmh, 10.0),
                        course_deg: whole(fix.course_deg, 1.0),
                        altitude_m: whole(fix.altitude_m, 1.0),
                        accuracy_m: whole(fix.accuracy_m, 1.0),
                        battery_pct: r.battery_pct,
                        alarms: r.alarms.iter().map(alarm_name).collect(),
                    };
                    // Encoded once: the leaf hash and the stored record are the same bytes.
                    let bytes = p.to_bytes();
                    let leaf = civic_merkle::leaf_hash(&bytes);
                    // A fix dated after its receipt counts as received now (see `Fix::received`).
                    entry.fix = entry.fix.max(Some(p.fix_time.min(job.received)));
                    drafts.extend(self.engine.evaluate(
                        &case_id,
                        &Fix {
                            position: leaf,
                            time: p.fix_time,
                            received: job.received,
                            lat: fix.lat,
                            lon: fix.lon,
                            valid: fix.valid,
                            battery_pct: r.battery_pct,
                            alarms,
                        },
                    ));
                    cursor.next_seq += 1;
                    if self.leaves.is_empty() {
                        self.batch_from = job.received;
                    }
                    self.batch_to = job.received;
                    self.leaves.push(leaf);
                    stored.push((p, bytes));
                    Some(cursor.next_seq - 1)
                }
                None => {
                    drafts.extend(self.engine.contact(&case_id, job.received, r.battery_pct, &alarms, None));
                    None
                }
            };
            acks.push((job.ack, seq));
        }
        let stored_count = stored.len();
        let result = if stored.is_empty() {
            Ok(())
        } else {
            Positions::new(self.node.store()).append(stored, &cursor)
        };
        match result {
            Ok(()) => {
                self.cursor = cursor;
                self.counters.reports.inc_by(acks.len() as u64);
                self.counters.positions.inc_by(stored_count as u64);
                self.seen.lock().unwrap_or_else(|p| p.into_inner()).extend(seen);
                for (ack, seq) in acks {
                    let _ = ack.send(Ok(Ack { seq }));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "storing positions failed; the reports are refused");
                self.leaves.truncate(self.leaves.len() - stored_count);
                for (ack, _) in acks {
                    let _ = ack.send(Err(IngestError::Unavailable(e.to_string())));
                }
                return;
            }
        }
        self.raise(drafts);
    }

    /// The first usable gateway account of `org` (any organization when `None`).
    fn gateway(&mut self, org: Option<&civic_types::OrgId>) -> Option<AccountId> {
        match self.service.usable(&self.node, org, Role::Gateway) {
            Ok(Some((id, _))) => Some(id),
            Ok(None) => {
                let what = org.map_or_else(|| "any organization".to_owned(), |o| o.to_string());
                if self.warned.insert(what.clone()) {
                    tracing::warn!(org = %what, "this node holds no usable gateway key; alerts and anchors are not submitted");
                }
                None
            }
            Err(e) => {
                tracing::error!(error = %e, "reading service accounts failed");
                None
            }
        }
    }

    fn submit(&mut self, account: &AccountId, call: SupervisionCall) -> bool {
        let node = self.node.clone();
        match self.service.submit_as(&node, account, Call::new(&call), |tx| node.submit(tx)) {
            Ok(_) => true,
            Err(e) => {
                tracing::warn!(error = %e, "a gateway transaction was refused");
                false
            }
        }
    }

    fn raise(&mut self, drafts: Vec<AlertDraft>) {
        for d in drafts {
            let org = {
                let dir = self.directory.read().unwrap_or_else(|p| p.into_inner());
                dir.case_orgs.get(&d.case_id).cloned()
            };
            let Some(account) = self.gateway(org.as_ref()) else { continue };
            let key = (d.case_id.clone(), d.kind, d.zone.clone());
            tracing::info!(case = %d.case_id, kind = d.kind.as_str(), zone = ?d.zone, detail = %d.detail, "alert");
            let call = SupervisionCall::RaiseAlert {
                case_id: d.case_id,
                kind: d.kind,
                zone: d.zone,
                at: d.at,
                positions: d.positions.into_iter().take(32).collect(),
                detail: d.detail.chars().take(500).collect(),
            };
            if self.submit(&account, call) {
                self.counters.alerts.inc();
                self.pending.insert(key, Instant::now());
            }
        }
    }

    /// Closes the open batch (if any position is in it) and anchors it.
    fn close_batch(&mut self) -> Result<(), NodeError> {
        if self.leaves.is_empty() {
            return Ok(());
        }
        let gateway = self.gateway(None);
        let batch = Batch {
            batch: self.cursor.next_batch,
            first_seq: self.cursor.batch_start,
            count: self.leaves.len() as u64,
            root: civic_merkle::root_from_leaf_hashes(&self.leaves),
            from: self.batch_from,
            to: self.batch_to,
            gateway,
        };
        let cursor = Cursor {
            next_seq: self.cursor.next_seq,
            next_batch: self.cursor.next_batch + 1,
            batch_start: self.cursor.next_seq,
        };
        Positions::new(self.node.store()).close_batch(&batch, &cursor)?;
        self.cursor = cursor;
        self.leaves.clear();
        self.anchor(&batch);
        Ok(())
    }

    fn anchor(&mut self, batch: &Batch) {
        let Some(account) = batch.gateway.clone() else { return };
        let call = SupervisionCall::AnchorPositions {
            batch: batch.batch,
            root: batch.root,
            count: batch.count,
            first_seq: batch.first_seq,
            from: batch.from,
            to: batch.to,
        };
        if self.submit(&account, call) {
            self.counters.anchors.inc();
        }
    }

    /// After a restart: anchors the closed batches the chain does not have yet.
    fn anchor_unanchored(&mut self) {
        let series = Positions::new(self.node.store());
        let Some(last) = self.cursor.next_batch.checked_sub(1) else { return };
        let mut todo = Vec::new();
        // Walk back from the newest batch until one is anchored (or pruned).
        for b in (0..=last).rev().take(1024) {
            let Ok(Some(batch)) = series.batch(b) else { break };
            let Some(gw) = &batch.gateway else { break };
            match self.node.state_value::<Anchor>(&keys::anchor(gw, b)) {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) => todo.push(batch),
            }
        }
        for batch in todo.into_iter().rev() {
            tracing::info!(batch = batch.batch, "anchoring a batch closed before the restart");
            self.anchor(&batch);
        }
    }

    fn tick(&mut self) -> Result<(), NodeError> {
        self.reload()?;
        let now = now_ms();
        let drafts = self.engine.tick(now);
        self.raise(drafts);
        self.escalate(now)?;
        let retention = u64::try_from(self.config.retention.as_millis()).unwrap_or(u64::MAX);
        let cutoff = UnixMillis::new(now.get().saturating_sub(retention));
        let pruned = Positions::new(self.node.store()).prune(cutoff, 10_000)?;
        if pruned > 0 {
            tracing::info!(pruned, "positions past the retention period deleted");
        }
        Ok(())
    }

    /// Escalates open alerts past their escalation time.
    fn escalate(&mut self, now: UnixMillis) -> Result<(), NodeError> {
        for alert in rules::open_alerts(&self.node)? {
            let due = alert.state == civic_supervision::module::AlertState::Open
                && alert.escalated_at.is_none()
                && alert.escalate_after <= now;
            if !due || self.escalating.contains(&alert.alert_id) {
                continue;
            }
            let Some(account) = self.gateway(Some(&alert.org)) else { continue };
            if self.submit(&account, SupervisionCall::EscalateAlert { alert_id: alert.alert_id.clone() }) {
                tracing::warn!(alert = %alert.alert_id, "alert escalated: not acknowledged in time");
                self.escalating.insert(alert.alert_id);
            }
        }
        Ok(())
    }
}
