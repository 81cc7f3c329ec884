//! The supervision module (`supervision`): cases, devices, zones, position anchors and alerts.
//!
//! Guarantees:
//! - cases, devices and zones are kept by `officer` accounts of the supervising organization
//!   only; a case names its supervising officer, who must be an active officer of that
//!   organization;
//! - a device is bound to at most one open case and a case has at most one device; closing a
//!   case unbinds its device;
//! - a zone is versioned: every change (including removal) writes a new version record, and the
//!   previous versions stay readable, so what a case's rules were at any time is on record;
//! - position batches are anchored by `gateway` accounts with strictly increasing batch numbers
//!   (a gap is a batch that was never anchored, visible as such); only the RFC 6962 root and
//!   counts go on chain, never a location;
//! - alerts are raised by a `gateway` account of the case's organization on an open case, and at
//!   most one alert per (case, kind, zone) is unresolved at a time; they move open →
//!   acknowledged → resolved (officers, with a note), and an open alert escalates once the
//!   case's escalation time has passed since it was raised, judged by block time;
//! - every change the gateway depends on (cases, devices, bindings, zones, resolved alerts) bumps
//!   [`keys::REVISION`], so a node knows when to reload its rules.
//!
//! State keys are in [`keys`]; case, device and zone ids may not contain `/` or `:`, so records
//! can be listed by prefix and an alert id `<case>:<n>` splits unambiguously.

use std::fmt;

use civic_ledger::block::Event;
use civic_ledger::checks::{shown, text as check_text};
use civic_ledger::exec::{Ctx, Module, TxError};
use civic_ledger::modules::membership;
use civic_ledger::tx::{MAX_TX_BYTES, ModuleCall};
use civic_types::{AccountId, Hash32, Height, OrgId, Role, UnixMillis};
use serde::{Deserialize, Serialize};

use crate::engine::AlertKind;
use crate::zone::{self, ZoneSpec};

const MODULE: &str = "supervision";
/// Longest case, device or zone id (`[A-Za-z0-9._-]`).
pub const MAX_ID: usize = 64;
/// Longest subject (a DID or an internal id).
pub const MAX_SUBJECT: usize = 128;
/// Longest legal basis (court order reference).
pub const MAX_LEGAL_BASIS: usize = 256;
/// Longest note, reason or alert detail.
pub const MAX_NOTE: usize = 512;
/// Most position hashes an alert carries.
pub const MAX_ALERT_POSITIONS: usize = 32;
/// Longest timer or escalation period, in minutes (30 days).
pub const MAX_MINUTES: u32 = 30 * 24 * 60;

/// How a device talks to the gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// OsmAnd over HTTP (Traccar Client and compatible apps).
    Osmand,
    /// The "watch" TCP protocol of wristbands (`[SG*ID*LEN*CONTENT]`).
    Watch,
}

impl Protocol {
    /// Stable lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Osmand => "osmand",
            Protocol::Watch => "watch",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a case ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseOutcome {
    /// The term was served.
    Completed,
    /// Supervision was revoked (e.g. the person was returned to custody).
    Revoked,
}

/// Where an alert is in its workflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// Raised, nobody has acknowledged it yet.
    Open,
    /// An officer acknowledged it and is handling it.
    Acknowledged,
    /// An officer resolved it with a note.
    Resolved,
}

impl AlertState {
    /// Stable lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Open => "open",
            AlertState::Acknowledged => "acknowledged",
            AlertState::Resolved => "resolved",
        }
    }
}

impl std::str::FromStr for AlertState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [AlertState::Open, AlertState::Acknowledged, AlertState::Resolved]
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| format!("unknown alert state {s:?}; use open, acknowledged or resolved"))
    }
}

/// Supervision calls.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SupervisionCall {
    /// An officer opens a case in their organization.
    OpenCase {
        /// `[A-Za-z0-9._-]{1,64}`, unique on the chain.
        case_id: String,
        /// Who is supervised: a DID or the organization's internal id (1–128 bytes, no spaces).
        subject: String,
        /// The legal basis, e.g. the court order reference (1–256 bytes).
        legal_basis: String,
        /// Start of the term.
        term_start: UnixMillis,
        /// End of the term, after the start.
        term_end: UnixMillis,
        /// The supervising officer: an active `officer` of the same organization.
        officer: AccountId,
        /// IANA time zone the case's schedules are written in, e.g. `Asia/Shanghai`.
        time_zone: String,
        /// An alert not acknowledged within this many minutes escalates (1–43200).
        escalation_minutes: u32,
        /// No valid position for this many minutes raises "gone dark" (1–43200).
        gone_dark_minutes: u32,
        /// No message at all for this many minutes raises "device offline" (1–43200).
        offline_minutes: u32,
    },
    /// An officer hands a case to another officer of the organization.
    ReassignCase {
        /// The case.
        case_id: String,
        /// The new supervising officer.
        officer: AccountId,
    },
    /// An officer closes a case; its device is unbound.
    CloseCase {
        /// The case.
        case_id: String,
        /// How it ended.
        outcome: CaseOutcome,
        /// Why (1–512 bytes).
        note: String,
    },
    /// An officer registers a device of the organization by its protocol id.
    RegisterDevice {
        /// The protocol id: IMEI, watch id or OsmAnd id (`[A-Za-z0-9._-]{1,64}`).
        device_id: String,
        /// How it talks to the gateway.
        protocol: Protocol,
        /// Free text for officers (model, serial; 1–128 bytes).
        label: String,
    },
    /// An officer binds an unbound device to an open case without a device.
    BindDevice {
        /// The device.
        device_id: String,
        /// The case.
        case_id: String,
    },
    /// An officer unbinds a device from its case.
    UnbindDevice {
        /// The device.
        device_id: String,
        /// Why (1–512 bytes).
        reason: String,
    },
    /// An officer creates or changes a zone of an open case (a new version).
    SetZone {
        /// The case.
        case_id: String,
        /// `[A-Za-z0-9._-]{1,64}`, unique within the case.
        zone_id: String,
        /// What the zone is.
        spec: ZoneSpec,
    },
    /// An officer removes a zone (a new version that is removed).
    RemoveZone {
        /// The case.
        case_id: String,
        /// The zone.
        zone_id: String,
        /// Why (1–512 bytes).
        reason: String,
    },
    /// A gateway anchors a batch of positions: the RFC 6962 root of their leaves.
    AnchorPositions {
        /// The gateway's batch number, above every batch it anchored before.
        batch: u64,
        /// RFC 6962 Merkle tree hash of the batch's positions.
        root: Hash32,
        /// How many positions (≥ 1).
        count: u64,
        /// The gateway's sequence number of the first position; the batch holds
        /// `first_seq .. first_seq + count`.
        first_seq: u64,
        /// Earliest receive time in the batch.
        from: UnixMillis,
        /// Latest receive time in the batch.
        to: UnixMillis,
    },
    /// A gateway raises an alert on an open case of its organization.
    RaiseAlert {
        /// The case.
        case_id: String,
        /// What happened.
        kind: AlertKind,
        /// The zone concerned, for zone and curfew alerts.
        zone: Option<String>,
        /// When it happened (the triggering position's fix time or the timer's time).
        at: UnixMillis,
        /// RFC 6962 leaf hashes of the triggering positions (at most 32).
        positions: Vec<Hash32>,
        /// A sentence for officers (1–512 bytes).
        detail: String,
    },
    /// An officer acknowledges an open alert.
    AcknowledgeAlert {
        /// `<case>:<n>`.
        alert_id: String,
        /// What is being done (1–512 bytes).
        note: String,
    },
    /// An officer resolves an open or acknowledged alert.
    ResolveAlert {
        /// `<case>:<n>`.
        alert_id: String,
        /// How it was resolved (1–512 bytes).
        note: String,
    },
    /// A gateway escalates an open alert whose escalation time has passed.
    EscalateAlert {
        /// `<case>:<n>`.
        alert_id: String,
    },
}

impl ModuleCall for SupervisionCall {
    const MODULE: &'static str = MODULE;
}

/// A closed case's closing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closing {
    /// How it ended.
    pub outcome: CaseOutcome,
    /// Why.
    pub note: String,
    /// Who closed it.
    pub by: AccountId,
    /// Block time.
    pub time: UnixMillis,
}

/// A case, at [`keys::case`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    /// Id.
    pub case_id: String,
    /// The supervising organization.
    pub org: OrgId,
    /// Who is supervised.
    pub subject: String,
    /// Court order reference or other legal basis.
    pub legal_basis: String,
    /// Start of the term.
    pub term_start: UnixMillis,
    /// End of the term.
    pub term_end: UnixMillis,
    /// The supervising officer.
    pub officer: AccountId,
    /// IANA time zone of the case's schedules.
    pub time_zone: String,
    /// Escalation period in minutes.
    pub escalation_minutes: u32,
    /// "Gone dark" period in minutes.
    pub gone_dark_minutes: u32,
    /// "Offline" period in minutes.
    pub offline_minutes: u32,
    /// The bound device.
    pub device: Option<String>,
    /// Block time the current device was bound (the start of monitoring).
    pub bound_at: Option<UnixMillis>,
    /// Set once the case is closed.
    pub closed: Option<Closing>,
    /// Who opened it.
    pub opened_by: AccountId,
    /// Block height of the opening.
    pub opened_height: Height,
    /// Block time of the opening.
    pub opened_at: UnixMillis,
    /// How many alerts were raised on it (the next alert is `<case>:<alerts + 1>`).
    pub alerts: u64,
}

impl Case {
    /// Whether the case is still open.
    pub fn is_open(&self) -> bool {
        self.closed.is_none()
    }
}

/// A device, at [`keys::device`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// The protocol id.
    pub device_id: String,
    /// How it talks.
    pub protocol: Protocol,
    /// Officers' label.
    pub label: String,
    /// The owning organization.
    pub org: OrgId,
    /// The case it is bound to.
    pub case_id: Option<String>,
    /// Who registered it.
    pub registered_by: AccountId,
    /// Block time of registration.
    pub registered_at: UnixMillis,
}

/// One version of a zone, at [`keys::zone_version`]; the latest also at [`keys::zone`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Zone {
    /// The case.
    pub case_id: String,
    /// Id within the case.
    pub zone_id: String,
    /// 1 for the first version.
    pub version: u64,
    /// What the zone is (the last definition, also for a removed zone).
    pub spec: ZoneSpec,
    /// Whether this version removed the zone.
    pub removed: bool,
    /// Why it was removed.
    pub reason: Option<String>,
    /// The officer who wrote this version.
    pub by: AccountId,
    /// Block height.
    pub height: Height,
    /// Block time.
    pub time: UnixMillis,
}

/// An anchored batch of positions, at [`keys::anchor`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    /// The gateway account.
    pub gateway: AccountId,
    /// Batch number.
    pub batch: u64,
    /// RFC 6962 root of the batch.
    pub root: Hash32,
    /// Number of positions.
    pub count: u64,
    /// Sequence number of the first position.
    pub first_seq: u64,
    /// Earliest receive time.
    pub from: UnixMillis,
    /// Latest receive time.
    pub to: UnixMillis,
    /// Block height.
    pub height: Height,
    /// Block time.
    pub time: UnixMillis,
}

/// An officer's step on an alert.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertStep {
    /// The officer.
    pub by: AccountId,
    /// The note.
    pub note: String,
    /// Block height.
    pub height: Height,
    /// Block time.
    pub time: UnixMillis,
}

/// An alert, at [`keys::alert`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// `<case>:<n>`.
    pub alert_id: String,
    /// The case.
    pub case_id: String,
    /// The case's organization.
    pub org: OrgId,
    /// What happened.
    pub kind: AlertKind,
    /// The zone concerned.
    pub zone: Option<String>,
    /// When it happened.
    pub at: UnixMillis,
    /// Leaf hashes of the triggering positions.
    pub positions: Vec<Hash32>,
    /// The gateway's sentence.
    pub detail: String,
    /// Workflow state.
    pub state: AlertState,
    /// The gateway account that raised it.
    pub raised_by: AccountId,
    /// Block height of raising.
    pub raised_height: Height,
    /// Block time of raising.
    pub raised_time: UnixMillis,
    /// Block time from which it may escalate.
    pub escalate_after: UnixMillis,
    /// Block time it escalated.
    pub escalated_at: Option<UnixMillis>,
    /// The acknowledgement.
    pub acknowledged: Option<AlertStep>,
    /// The resolution.
    pub resolved: Option<AlertStep>,
}

/// Splits an alert id `<case>:<n>`.
pub fn split_alert_id(alert_id: &str) -> Option<(&str, u64)> {
    let (case, n) = alert_id.rsplit_once(':')?;
    let n: u64 = n.parse().ok().filter(|n| *n >= 1)?;
    (is_id(case) && n.to_string().len() == alert_id.len() - case.len() - 1).then_some((case, n))
}

/// State keys, all under `supervision/`.
pub mod keys {
    use civic_types::AccountId;

    use crate::engine::AlertKind;

    /// Bumped by every change the geofence engine reads: cases, bindings, zones, resolutions.
    pub const REVISION: &str = "supervision/revision";
    /// Prefix of all cases.
    pub const CASE_PREFIX: &str = "supervision/case/";
    /// Prefix of all devices.
    pub const DEVICE_PREFIX: &str = "supervision/device/";
    /// Prefix of all current zones.
    pub const ZONE_PREFIX: &str = "supervision/zone/";
    /// Prefix of all alerts.
    pub const ALERT_PREFIX: &str = "supervision/alert/";
    /// Prefix of all unresolved-alert markers.
    pub const OPEN_PREFIX: &str = "supervision/open/";

    /// A case.
    pub fn case(case_id: &str) -> String {
        format!("{CASE_PREFIX}{case_id}")
    }
    /// A device.
    pub fn device(device_id: &str) -> String {
        format!("{DEVICE_PREFIX}{device_id}")
    }
    /// The current version of a zone.
    pub fn zone(case_id: &str, zone_id: &str) -> String {
        format!("{ZONE_PREFIX}{case_id}/{zone_id}")
    }
    /// Prefix of a case's current zones.
    pub fn zone_prefix(case_id: &str) -> String {
        format!("{ZONE_PREFIX}{case_id}/")
    }
    /// Version `version` of a zone.
    pub fn zone_version(case_id: &str, zone_id: &str, version: u64) -> String {
        format!("supervision/zone-version/{case_id}/{zone_id}/{version:020}")
    }
    /// Prefix of a zone's versions.
    pub fn zone_version_prefix(case_id: &str, zone_id: &str) -> String {
        format!("supervision/zone-version/{case_id}/{zone_id}/")
    }
    /// Alert `n` of a case.
    pub fn alert(case_id: &str, n: u64) -> String {
        format!("{ALERT_PREFIX}{case_id}/{n:020}")
    }
    /// Prefix of a case's alerts.
    pub fn alert_prefix(case_id: &str) -> String {
        format!("{ALERT_PREFIX}{case_id}/")
    }
    /// Present (holding the alert id) while an alert of `kind` about `zone` is unresolved.
    pub fn open(case_id: &str, kind: AlertKind, zone: Option<&str>) -> String {
        format!("{OPEN_PREFIX}{case_id}/{}/{}", kind.as_str(), zone.unwrap_or("-"))
    }
    /// Batch `batch` of a gateway.
    pub fn anchor(gateway: &AccountId, batch: u64) -> String {
        format!("supervision/anchor/{gateway}/{batch:020}")
    }
    /// The next batch number of a gateway.
    pub fn anchor_next(gateway: &AccountId) -> String {
        format!("supervision/anchor-next/{gateway}")
    }
}

/// The supervision module.
#[derive(Debug, Default, Clone, Copy)]
pub struct Supervision;

fn invalid(msg: impl Into<String>) -> TxError {
    TxError::Invalid(msg.into())
}

/// Whether `s` is a valid case, device or zone id.
pub fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_ID
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn check_id(what: &str, s: &str) -> Result<(), TxError> {
    if is_id(s) {
        Ok(())
    } else {
        Err(invalid(format!(
            "{what} {:?} is invalid: use 1-{MAX_ID} characters A-Z, a-z, 0-9, '.', '_' and '-'",
            shown(s)
        )))
    }
}

fn check_minutes(what: &str, m: u32) -> Result<(), TxError> {
    if (1..=MAX_MINUTES).contains(&m) {
        Ok(())
    } else {
        Err(invalid(format!("{what} must be 1-{MAX_MINUTES} minutes, not {m}")))
    }
}

fn parse(payload: &[u8]) -> Result<SupervisionCall, TxError> {
    civic_types::decode(payload, MAX_TX_BYTES)
        .map_err(|e| invalid(format!("malformed supervision call: {e}")))
}

/// Decodes a call and checks everything that needs no state.
fn decode(payload: &[u8]) -> Result<SupervisionCall, TxError> {
    use SupervisionCall as C;
    let call = parse(payload)?;
    match &call {
        C::OpenCase {
            case_id,
            subject,
            legal_basis,
            term_start,
            term_end,
            time_zone,
            escalation_minutes,
            gone_dark_minutes,
            offline_minutes,
            ..
        } => {
            check_id("case id", case_id)?;
            if subject.is_empty()
                || subject.len() > MAX_SUBJECT
                || subject.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                return Err(invalid(format!(
                    "subject {:?} must be a DID or internal id of 1-{MAX_SUBJECT} bytes without spaces",
                    shown(subject)
                )));
            }
            check_text("the legal basis", legal_basis, MAX_LEGAL_BASIS)?;
            if term_end <= term_start {
                return Err(invalid(format!(
                    "term_end {term_end} ms must be after term_start {term_start} ms"
                )));
            }
            zone::check_time_zone(time_zone).map_err(|e| invalid(e.to_string()))?;
            check_minutes("escalation_minutes", *escalation_minutes)?;
            check_minutes("gone_dark_minutes", *gone_dark_minutes)?;
            check_minutes("offline_minutes", *offline_minutes)?;
        }
        C::ReassignCase { case_id, .. } => check_id("case id", case_id)?,
        C::CloseCase { case_id, note, .. } => {
            check_id("case id", case_id)?;
            check_text("the note", note, MAX_NOTE)?;
        }
        C::RegisterDevice { device_id, label, .. } => {
            check_id("device id", device_id)?;
            check_text("the label", label, 128)?;
        }
        C::BindDevice { device_id, case_id } => {
            check_id("device id", device_id)?;
            check_id("case id", case_id)?;
        }
        C::UnbindDevice { device_id, reason } => {
            check_id("device id", device_id)?;
            check_text("the reason", reason, MAX_NOTE)?;
        }
        C::SetZone { case_id, zone_id, spec } => {
            check_id("case id", case_id)?;
            check_id("zone id", zone_id)?;
            zone::validate(spec).map_err(|e| invalid(format!("zone {zone_id}: {e}")))?;
        }
        C::RemoveZone { case_id, zone_id, reason } => {
            check_id("case id", case_id)?;
            check_id("zone id", zone_id)?;
            check_text("the reason", reason, MAX_NOTE)?;
        }
        C::AnchorPositions { count, first_seq, from, to, .. } => {
            if *count == 0 {
                return Err(invalid("an anchored batch holds at least one position"));
            }
            if first_seq.checked_add(*count).is_none() {
                return Err(invalid("first_seq + count overflows"));
            }
            if to < from {
                return Err(invalid(format!("batch ends ({to} ms) before it starts ({from} ms)")));
            }
        }
        C::RaiseAlert { case_id, kind, zone, positions, detail, .. } => {
            check_id("case id", case_id)?;
            let zonal = matches!(kind, AlertKind::ZoneExit | AlertKind::ZoneEntry | AlertKind::Curfew);
            match zone {
                Some(z) if zonal => check_id("zone id", z)?,
                None if !zonal => {}
                _ => {
                    return Err(invalid(format!(
                        "a {kind} alert {} a zone",
                        if zonal { "must name" } else { "names no" }
                    )));
                }
            }
            if positions.len() > MAX_ALERT_POSITIONS {
                return Err(invalid(format!(
                    "an alert carries at most {MAX_ALERT_POSITIONS} position hashes, not {}",
                    positions.len()
                )));
            }
            check_text("the detail", detail, MAX_NOTE)?;
        }
        C::AcknowledgeAlert { alert_id, note } | C::ResolveAlert { alert_id, note } => {
            check_alert_id(alert_id)?;
            check_text("the note", note, MAX_NOTE)?;
        }
        C::EscalateAlert { alert_id } => check_alert_id(alert_id)?,
    }
    Ok(call)
}

fn check_alert_id(alert_id: &str) -> Result<(), TxError> {
    split_alert_id(alert_id)
        .map(|_| ())
        .ok_or_else(|| invalid(format!("alert id {:?} must be <case id>:<number>", shown(alert_id))))
}

fn bump_revision(ctx: &mut Ctx<'_, '_>) -> Result<(), TxError> {
    let rev = ctx.get::<u64>(keys::REVISION)?.unwrap_or(0);
    ctx.put(keys::REVISION, &(rev + 1));
    Ok(())
}

fn load_case(ctx: &Ctx<'_, '_>, case_id: &str) -> Result<Case, TxError> {
    ctx.get::<Case>(&keys::case(case_id))?
        .ok_or_else(|| TxError::NotFound(format!("case {case_id} does not exist")))
}

fn load_device(ctx: &Ctx<'_, '_>, device_id: &str) -> Result<Device, TxError> {
    ctx.get::<Device>(&keys::device(device_id))?.ok_or_else(|| {
        TxError::NotFound(format!("device {device_id} is not registered; an officer must register it first"))
    })
}

/// The signer must be an officer of `org`.
fn require_officer_of(ctx: &Ctx<'_, '_>, org: &OrgId, what: &str) -> Result<(), TxError> {
    ctx.require_role(Role::Officer)?;
    if ctx.signer.id.org() != *org {
        return Err(TxError::Unauthorized(format!(
            "{what} belongs to {org}; only its officers may act on it, not {}",
            ctx.signer.id
        )));
    }
    Ok(())
}

fn open_case_of(ctx: &Ctx<'_, '_>, case_id: &str) -> Result<Case, TxError> {
    let case = load_case(ctx, case_id)?;
    if !case.is_open() {
        return Err(TxError::Conflict(format!("case {case_id} is closed")));
    }
    Ok(case)
}

fn check_officer_account(ctx: &Ctx<'_, '_>, org: &OrgId, officer: &AccountId) -> Result<(), TxError> {
    let acct = ctx.get::<membership::Account>(&membership::keys::account(officer))?;
    let ok = acct.as_ref().is_some_and(|a| a.active && a.roles.contains(&Role::Officer));
    if officer.org() != *org || !ok {
        return Err(invalid(format!(
            "the supervising officer {officer} must be an active officer account of {org}"
        )));
    }
    Ok(())
}

struct NewCase {
    case_id: String,
    subject: String,
    legal_basis: String,
    term_start: UnixMillis,
    term_end: UnixMillis,
    officer: AccountId,
    time_zone: String,
    escalation_minutes: u32,
    gone_dark_minutes: u32,
    offline_minutes: u32,
}

fn open_case(ctx: &mut Ctx<'_, '_>, n: NewCase) -> Result<(), TxError> {
    ctx.require_role(Role::Officer)?;
    let org = ctx.signer.id.org();
    if ctx.get::<Case>(&keys::case(&n.case_id))?.is_some() {
        return Err(TxError::Conflict(format!("case {} already exists", n.case_id)));
    }
    check_officer_account(ctx, &org, &n.officer)?;
    let case = Case {
        case_id: n.case_id.clone(),
        org,
        subject: n.subject,
        legal_basis: n.legal_basis,
        term_start: n.term_start,
        term_end: n.term_end,
        officer: n.officer.clone(),
        time_zone: n.time_zone,
        escalation_minutes: n.escalation_minutes,
        gone_dark_minutes: n.gone_dark_minutes,
        offline_minutes: n.offline_minutes,
        device: None,
        bound_at: None,
        closed: None,
        opened_by: ctx.signer.id.clone(),
        opened_height: ctx.env.height,
        opened_at: ctx.env.time,
        alerts: 0,
    };
    ctx.put(&keys::case(&n.case_id), &case);
    bump_revision(ctx)?;
    ctx.emit(Event::new(
        MODULE,
        "case_opened",
        &[("case_id", n.case_id), ("officer", n.officer.to_string())],
    ));
    Ok(())
}

fn reassign_case(ctx: &mut Ctx<'_, '_>, case_id: String, officer: AccountId) -> Result<(), TxError> {
    let mut case = open_case_of(ctx, &case_id)?;
    require_officer_of(ctx, &case.org, &format!("case {case_id}"))?;
    check_officer_account(ctx, &case.org, &officer)?;
    case.officer = officer.clone();
    ctx.put(&keys::case(&case_id), &case);
    ctx.emit(Event::new(
        MODULE,
        "case_reassigned",
        &[("case_id", case_id), ("officer", officer.to_string())],
    ));
    Ok(())
}

fn close_case(
    ctx: &mut Ctx<'_, '_>,
    case_id: String,
    outcome: CaseOutcome,
    note: String,
) -> Result<(), TxError> {
    let mut case = open_case_of(ctx, &case_id)?;
    require_officer_of(ctx, &case.org, &format!("case {case_id}"))?;
    if let Some(device_id) = case.device.take() {
        let mut device = load_device(ctx, &device_id)?;
        device.case_id = None;
        ctx.put(&keys::device(&device_id), &device);
    }
    case.bound_at = None;
    case.closed = Some(Closing { outcome, note, by: ctx.signer.id.clone(), time: ctx.env.time });
    ctx.put(&keys::case(&case_id), &case);
    bump_revision(ctx)?;
    let outcome = match outcome {
        CaseOutcome::Completed => "completed",
        CaseOutcome::Revoked => "revoked",
    };
    ctx.emit(Event::new(MODULE, "case_closed", &[("case_id", case_id), ("outcome", outcome.into())]));
    Ok(())
}

fn register_device(
    ctx: &mut Ctx<'_, '_>,
    device_id: String,
    protocol: Protocol,
    label: String,
) -> Result<(), TxError> {
    ctx.require_role(Role::Officer)?;
    if ctx.get::<Device>(&keys::device(&device_id))?.is_some() {
        return Err(TxError::Conflict(format!("device {device_id} is already registered")));
    }
    let device = Device {
        device_id: device_id.clone(),
        protocol,
        label,
        org: ctx.signer.id.org(),
        case_id: None,
        registered_by: ctx.signer.id.clone(),
        registered_at: ctx.env.time,
    };
    ctx.put(&keys::device(&device_id), &device);
    bump_revision(ctx)?;
    ctx.emit(Event::new(
        MODULE,
        "device_registered",
        &[("device_id", device_id), ("protocol", protocol.to_string())],
    ));
    Ok(())
}

fn bind_device(ctx: &mut Ctx<'_, '_>, device_id: String, case_id: String) -> Result<(), TxError> {
    let mut device = load_device(ctx, &device_id)?;
    require_officer_of(ctx, &device.org, &format!("device {device_id}"))?;
    let mut case = open_case_of(ctx, &case_id)?;
    if case.org != device.org {
        return Err(TxError::Unauthorized(format!(
            "device {device_id} belongs to {} and case {case_id} to {}",
            device.org, case.org
        )));
    }
    if let Some(other) = &device.case_id {
        return Err(TxError::Conflict(format!(
            "device {device_id} is bound to case {other}; unbind it first"
        )));
    }
    if let Some(other) = &case.device {
        return Err(TxError::Conflict(format!("case {case_id} already has device {other}; unbind it first")));
    }
    device.case_id = Some(case_id.clone());
    case.device = Some(device_id.clone());
    case.bound_at = Some(ctx.env.time);
    ctx.put(&keys::device(&device_id), &device);
    ctx.put(&keys::case(&case_id), &case);
    bump_revision(ctx)?;
    ctx.emit(Event::new(MODULE, "device_bound", &[("device_id", device_id), ("case_id", case_id)]));
    Ok(())
}

fn unbind_device(ctx: &mut Ctx<'_, '_>, device_id: String, reason: String) -> Result<(), TxError> {
    let mut device = load_device(ctx, &device_id)?;
    require_officer_of(ctx, &device.org, &format!("device {device_id}"))?;
    let Some(case_id) = device.case_id.take() else {
        return Err(TxError::Conflict(format!("device {device_id} is not bound to a case")));
    };
    let mut case = load_case(ctx, &case_id)?;
    case.device = None;
    case.bound_at = None;
    ctx.put(&keys::device(&device_id), &device);
    ctx.put(&keys::case(&case_id), &case);
    bump_revision(ctx)?;
    ctx.emit(Event::new(
        MODULE,
        "device_unbound",
        &[("device_id", device_id), ("case_id", case_id), ("reason", reason)],
    ));
    Ok(())
}

fn write_zone(
    ctx: &mut Ctx<'_, '_>,
    case_id: String,
    zone_id: String,
    spec: Option<ZoneSpec>,
    reason: Option<String>,
) -> Result<(), TxError> {
    let case = open_case_of(ctx, &case_id)?;
    require_officer_of(ctx, &case.org, &format!("case {case_id}"))?;
    let current = ctx.get::<Zone>(&keys::zone(&case_id, &zone_id))?;
    let removed = spec.is_none();
    let spec = match (spec, &current) {
        (Some(mut s), _) => {
            if let zone::Shape::GeoJson { geometry } = &mut s.shape {
                *geometry =
                    zone::canonical_geojson(geometry).map_err(|e| invalid(format!("zone {zone_id}: {e}")))?;
            }
            s
        }
        (None, Some(z)) if !z.removed => z.spec.clone(),
        _ => return Err(TxError::NotFound(format!("case {case_id} has no zone {zone_id}"))),
    };
    let version = current.map_or(1, |z| z.version + 1);
    let zone = Zone {
        case_id: case_id.clone(),
        zone_id: zone_id.clone(),
        version,
        spec,
        removed,
        reason,
        by: ctx.signer.id.clone(),
        height: ctx.env.height,
        time: ctx.env.time,
    };
    ctx.put(&keys::zone_version(&case_id, &zone_id, version), &zone);
    ctx.put(&keys::zone(&case_id, &zone_id), &zone);
    bump_revision(ctx)?;
    ctx.emit(Event::new(
        MODULE,
        if removed { "zone_removed" } else { "zone_set" },
        &[("case_id", case_id), ("zone_id", zone_id), ("version", version.to_string())],
    ));
    Ok(())
}

struct NewAnchor {
    batch: u64,
    root: Hash32,
    count: u64,
    first_seq: u64,
    from: UnixMillis,
    to: UnixMillis,
}

fn anchor(ctx: &mut Ctx<'_, '_>, a: NewAnchor) -> Result<(), TxError> {
    ctx.require_role(Role::Gateway)?;
    let gateway = ctx.signer.id.clone();
    let next = ctx.get::<u64>(&keys::anchor_next(&gateway))?.unwrap_or(0);
    if a.batch < next {
        return Err(TxError::Conflict(format!(
            "gateway {gateway} has anchored batches up to {}; batch {} is not new",
            next - 1,
            a.batch
        )));
    }
    let record = Anchor {
        gateway: gateway.clone(),
        batch: a.batch,
        root: a.root,
        count: a.count,
        first_seq: a.first_seq,
        from: a.from,
        to: a.to,
        height: ctx.env.height,
        time: ctx.env.time,
    };
    ctx.put(&keys::anchor(&gateway, a.batch), &record);
    ctx.put(&keys::anchor_next(&gateway), &(a.batch + 1));
    ctx.emit(Event::new(
        MODULE,
        "positions_anchored",
        &[
            ("gateway", gateway.to_string()),
            ("batch", a.batch.to_string()),
            ("count", a.count.to_string()),
            ("root", a.root.to_hex()),
        ],
    ));
    Ok(())
}

struct NewAlert {
    case_id: String,
    kind: AlertKind,
    zone: Option<String>,
    at: UnixMillis,
    positions: Vec<Hash32>,
    detail: String,
}

fn raise_alert(ctx: &mut Ctx<'_, '_>, a: NewAlert) -> Result<(), TxError> {
    ctx.require_role(Role::Gateway)?;
    let mut case = open_case_of(ctx, &a.case_id)?;
    if ctx.signer.id.org() != case.org {
        return Err(TxError::Unauthorized(format!(
            "case {} belongs to {}; only its gateways may raise alerts on it",
            a.case_id, case.org
        )));
    }
    let open_key = keys::open(&a.case_id, a.kind, a.zone.as_deref());
    if let Some(existing) = ctx.get::<String>(&open_key)? {
        return Err(TxError::Conflict(format!(
            "alert {existing} of the same kind is still unresolved; resolve it first"
        )));
    }
    case.alerts += 1;
    let n = case.alerts;
    let alert_id = format!("{}:{n}", a.case_id);
    let alert = Alert {
        alert_id: alert_id.clone(),
        case_id: a.case_id.clone(),
        org: case.org.clone(),
        kind: a.kind,
        zone: a.zone.clone(),
        at: a.at,
        positions: a.positions,
        detail: a.detail.clone(),
        state: AlertState::Open,
        raised_by: ctx.signer.id.clone(),
        raised_height: ctx.env.height,
        raised_time: ctx.env.time,
        escalate_after: UnixMillis::new(
            ctx.env.time.get().saturating_add(u64::from(case.escalation_minutes) * 60_000),
        ),
        escalated_at: None,
        acknowledged: None,
        resolved: None,
    };
    ctx.put(&keys::alert(&a.case_id, n), &alert);
    ctx.put(&open_key, &alert_id);
    ctx.put(&keys::case(&a.case_id), &case);
    ctx.emit(Event::new(
        MODULE,
        "alert_raised",
        &[
            ("alert_id", alert_id),
            ("case_id", a.case_id),
            ("kind", a.kind.as_str().into()),
            ("zone", a.zone.unwrap_or_default()),
            ("at", a.at.get().to_string()),
            ("officer", case.officer.to_string()),
            ("detail", a.detail),
        ],
    ));
    Ok(())
}

fn load_alert(ctx: &Ctx<'_, '_>, alert_id: &str) -> Result<Alert, TxError> {
    let (case_id, n) =
        split_alert_id(alert_id).ok_or_else(|| invalid(format!("alert id {alert_id:?} is malformed")))?;
    ctx.get::<Alert>(&keys::alert(case_id, n))?
        .ok_or_else(|| TxError::NotFound(format!("alert {alert_id} does not exist")))
}

fn step_alert(ctx: &mut Ctx<'_, '_>, alert_id: String, note: String, to: AlertState) -> Result<(), TxError> {
    let mut alert = load_alert(ctx, &alert_id)?;
    require_officer_of(ctx, &alert.org, &format!("alert {alert_id}"))?;
    let step = AlertStep { by: ctx.signer.id.clone(), note, height: ctx.env.height, time: ctx.env.time };
    match (alert.state, to) {
        (AlertState::Resolved, _) => {
            return Err(TxError::Conflict(format!("alert {alert_id} is already resolved")));
        }
        (AlertState::Acknowledged, AlertState::Acknowledged) => {
            return Err(TxError::Conflict(format!("alert {alert_id} is already acknowledged")));
        }
        (_, AlertState::Acknowledged) => alert.acknowledged = Some(step),
        (_, _) => {
            alert.resolved = Some(step);
            ctx.delete(&keys::open(&alert.case_id, alert.kind, alert.zone.as_deref()));
            bump_revision(ctx)?;
        }
    }
    alert.state = to;
    let (case_id, n) = split_alert_id(&alert_id).unwrap_or_default();
    ctx.put(&keys::alert(case_id, n), &alert);
    let kind = if to == AlertState::Resolved { "alert_resolved" } else { "alert_acknowledged" };
    ctx.emit(Event::new(MODULE, kind, &[("alert_id", alert_id), ("case_id", alert.case_id)]));
    Ok(())
}

fn escalate_alert(ctx: &mut Ctx<'_, '_>, alert_id: String) -> Result<(), TxError> {
    ctx.require_role(Role::Gateway)?;
    let mut alert = load_alert(ctx, &alert_id)?;
    if ctx.signer.id.org() != alert.org {
        return Err(TxError::Unauthorized(format!(
            "alert {alert_id} belongs to {}; only its gateways may escalate it",
            alert.org
        )));
    }
    if alert.state != AlertState::Open || alert.escalated_at.is_some() {
        return Err(TxError::Conflict(format!(
            "alert {alert_id} is {}{}; only an open, unescalated alert escalates",
            alert.state.as_str(),
            if alert.escalated_at.is_some() { " and escalated" } else { "" }
        )));
    }
    if ctx.env.time < alert.escalate_after {
        return Err(TxError::Conflict(format!(
            "alert {alert_id} may escalate from {} ms, block time is {} ms",
            alert.escalate_after, ctx.env.time
        )));
    }
    alert.escalated_at = Some(ctx.env.time);
    let (case_id, n) = split_alert_id(&alert_id).unwrap_or_default();
    ctx.put(&keys::alert(case_id, n), &alert);
    let officer = ctx.get::<Case>(&keys::case(case_id))?.map(|c| c.officer.to_string()).unwrap_or_default();
    ctx.emit(Event::new(
        MODULE,
        "alert_escalated",
        &[
            ("alert_id", alert_id),
            ("case_id", alert.case_id),
            ("kind", alert.kind.as_str().into()),
            ("officer", officer),
        ],
    ));
    Ok(())
}

impl Module for Supervision {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn check(&self, payload: &[u8]) -> Result<(), TxError> {
        decode(payload).map(|_| ())
    }

    fn apply(&self, ctx: &mut Ctx<'_, '_>, payload: &[u8]) -> Result<(), TxError> {
        use SupervisionCall as C;
        match decode(payload)? {
            C::OpenCase {
                case_id,
                subject,
                legal_basis,
                term_start,
                term_end,
                officer,
                time_zone,
                escalation_minutes,
                gone_dark_minutes,
                offline_minutes,
            } => open_case(
                ctx,
                NewCase {
                    case_id,
                    subject,
                    legal_basis,
                    term_start,
                    term_end,
                    officer,
                    time_zone,
                    escalation_minutes,
                    gone_dark_minutes,
                    offline_minutes,
                },
            ),
            C::ReassignCase { case_id, officer } => reassign_case(ctx, case_id, officer),
            C::CloseCase { case_id, outcome, note } => close_case(ctx, case_id, outcome, note),
            C::RegisterDevice { device_id, protocol, label } => {
                register_device(ctx, device_id, protocol, label)
            }
            C::BindDevice { device_id, case_id } => bind_device(ctx, device_id, case_id),
            C::UnbindDevice { device_id, reason } => unbind_device(ctx, device_id, reason),
            C::SetZone { case_id, zone_id, spec } => write_zone(ctx, case_id, zone_id, Some(spec), None),
            C::RemoveZone { case_id, zone_id, reason } => {
                write_zone(ctx, case_id, zone_id, None, Some(reason))
            }
            C::AnchorPositions { batch, root, count, first_seq, from, to } => {
                anchor(ctx, NewAnchor { batch, root, count, first_seq, from, to })
            }
            C::RaiseAlert { case_id, kind, zone, at, positions, detail } => {
                raise_alert(ctx, NewAlert { case_id, kind, zone, at, positions, detail })
            }
            C::AcknowledgeAlert { alert_id, note } => {
                step_alert(ctx, alert_id, note, AlertState::Acknowledged)
            }
            C::ResolveAlert { alert_id, note } => step_alert(ctx, alert_id, note, AlertState::Resolved),
            C::EscalateAlert { alert_id } => escalate_alert(ctx, alert_id),
        }
    }

    fn describe(&self, payload: &[u8]) -> serde_json::Value {
        match parse(payload) {
            Ok(c) => serde_json::json!({ "module": MODULE, "call": c }),
            Err(e) => serde_json::json!({ "module": MODULE, "error": e.to_string() }),
        }
    }

    fn encode_json(&self, call: serde_json::Value) -> Result<Vec<u8>, TxError> {
        let c: SupervisionCall =
            serde_json::from_value(call).map_err(|e| invalid(format!("not a SupervisionCall: {e}")))?;
        Ok(civic_types::encode(&c))
    }
}

#[cfg(test)]
mod tests {
    use civic_ledger::Outcome;
    use civic_ledger::testkit::{Accounts, Chain};
    use civic_types::ChainId;

    use super::*;
    use crate::zone::{Shape, ZoneKind};

    const ACCOUNTS: Accounts = &[
        ("justice", "admin", Role::Admin, 9),
        ("justice", "officer", Role::Officer, 1),
        ("justice", "gateway", Role::Gateway, 2),
        ("justice", "clerk", Role::Issuer, 3),
        ("police", "officer", Role::Officer, 4),
        ("police", "gateway", Role::Gateway, 5),
    ];

    fn chain() -> Chain {
        Chain::new(ChainId::new("test").unwrap(), ACCOUNTS, vec![Box::new(Supervision)])
    }

    fn code(c: &mut Chain, account: &str, call: &SupervisionCall) -> String {
        match c.run(account, call).outcome {
            Outcome::Ok => "ok".into(),
            Outcome::Rejected { code, .. } => code,
        }
    }

    fn open(case_id: &str) -> SupervisionCall {
        SupervisionCall::OpenCase {
            case_id: case_id.into(),
            subject: "internal:1".into(),
            legal_basis: "Court order 1".into(),
            term_start: UnixMillis::new(0),
            term_end: UnixMillis::new(10),
            officer: AccountId::new("justice/officer").unwrap(),
            time_zone: "Asia/Shanghai".into(),
            escalation_minutes: 1,
            gone_dark_minutes: 10,
            offline_minutes: 30,
        }
    }

    fn zone(radius_m: u32) -> ZoneSpec {
        ZoneSpec {
            name: "Home".into(),
            kind: ZoneKind::Inclusion,
            shape: Shape::Circle { lat_e7: 310_000_000, lon_e7: 1_210_000_000, radius_m },
            buffer_m: 10,
            schedule: None,
        }
    }

    fn raise(kind: AlertKind, zone: Option<&str>) -> SupervisionCall {
        SupervisionCall::RaiseAlert {
            case_id: "C1".into(),
            kind,
            zone: zone.map(str::to_owned),
            at: UnixMillis::new(5),
            positions: vec![Hash32([1; 32])],
            detail: "left 'Home'".into(),
        }
    }

    fn get<T: serde::de::DeserializeOwned>(c: &Chain, key: &str) -> Option<T> {
        use civic_ledger::state::StateRead;
        c.state.get(key.as_bytes()).unwrap().map(|b| civic_ledger::state::decode_value(&b).unwrap())
    }

    #[test]
    fn cases_devices_and_zones_follow_the_rules() {
        let mut c = chain();
        assert_eq!(code(&mut c, "justice/clerk", &open("C1")), "unauthorized");
        assert_eq!(code(&mut c, "justice/officer", &open("C1")), "ok");
        assert_eq!(code(&mut c, "justice/officer", &open("C1")), "conflict");
        let mut bad = open("C2");
        if let SupervisionCall::OpenCase { time_zone, .. } = &mut bad {
            *time_zone = "Mars/Olympus".into();
        }
        assert_eq!(code(&mut c, "justice/officer", &bad), "invalid");
        let device = |id: &str| SupervisionCall::RegisterDevice {
            device_id: id.into(),
            protocol: Protocol::Watch,
            label: "band".into(),
        };
        assert_eq!(code(&mut c, "justice/officer", &device("D1")), "ok");
        assert_eq!(code(&mut c, "police/officer", &device("D2")), "ok");
        let bind = |d: &str| SupervisionCall::BindDevice { device_id: d.into(), case_id: "C1".into() };
        assert_eq!(code(&mut c, "police/officer", &bind("D2")), "unauthorized");
        assert_eq!(code(&mut c, "justice/officer", &bind("D1")), "ok");
        assert_eq!(code(&mut c, "justice/officer", &bind("D1")), "conflict");
        let set =
            |r| SupervisionCall::SetZone { case_id: "C1".into(), zone_id: "home".into(), spec: zone(r) };
        assert_eq!(code(&mut c, "justice/officer", &set(100)), "ok");
        assert_eq!(code(&mut c, "justice/officer", &set(200)), "ok");
        assert_eq!(code(&mut c, "police/officer", &set(300)), "unauthorized");
        let z: Zone = get(&c, &keys::zone("C1", "home")).unwrap();
        assert_eq!(z.version, 2);
        let v1: Zone = get(&c, &keys::zone_version("C1", "home", 1)).unwrap();
        assert!(matches!(v1.spec.shape, Shape::Circle { radius_m: 100, .. }));
        let remove = SupervisionCall::RemoveZone {
            case_id: "C1".into(),
            zone_id: "home".into(),
            reason: "moved".into(),
        };
        assert_eq!(code(&mut c, "justice/officer", &remove), "ok");
        assert_eq!(code(&mut c, "justice/officer", &remove), "not_found");
        assert!(get::<Zone>(&c, &keys::zone("C1", "home")).unwrap().removed);
        assert_eq!(get::<Zone>(&c, &keys::zone_version("C1", "home", 3)).unwrap().version, 3);
        // Closing unbinds the device.
        let close = SupervisionCall::CloseCase {
            case_id: "C1".into(),
            outcome: CaseOutcome::Completed,
            note: "served".into(),
        };
        assert_eq!(code(&mut c, "justice/officer", &close), "ok");
        assert_eq!(get::<Device>(&c, &keys::device("D1")).unwrap().case_id, None);
        assert_eq!(code(&mut c, "justice/officer", &set(100)), "conflict");
        assert!(get::<u64>(&c, keys::REVISION).unwrap() >= 7);
    }

    #[test]
    fn alerts_are_deduplicated_acknowledged_resolved_and_escalated() {
        let mut c = chain();
        assert_eq!(code(&mut c, "justice/officer", &open("C1")), "ok");
        assert_eq!(
            code(&mut c, "justice/officer", &raise(AlertKind::ZoneExit, Some("home"))),
            "unauthorized"
        );
        assert_eq!(code(&mut c, "police/gateway", &raise(AlertKind::ZoneExit, Some("home"))), "unauthorized");
        assert_eq!(code(&mut c, "justice/gateway", &raise(AlertKind::ZoneExit, None)), "invalid");
        assert_eq!(code(&mut c, "justice/gateway", &raise(AlertKind::Tamper, Some("home"))), "invalid");
        assert_eq!(code(&mut c, "justice/gateway", &raise(AlertKind::ZoneExit, Some("home"))), "ok");
        // One unresolved alert per (case, kind, zone).
        assert_eq!(code(&mut c, "justice/gateway", &raise(AlertKind::ZoneExit, Some("home"))), "conflict");
        assert_eq!(code(&mut c, "justice/gateway", &raise(AlertKind::ZoneExit, Some("city"))), "ok");
        assert_eq!(code(&mut c, "justice/gateway", &raise(AlertKind::Tamper, None)), "ok");
        // Escalation waits for the case's escalation time (one minute) by block time.
        let esc = |id: &str| SupervisionCall::EscalateAlert { alert_id: id.into() };
        assert_eq!(code(&mut c, "justice/gateway", &esc("C1:1")), "conflict");
        for _ in 0..60 {
            c.block(vec![]);
        }
        assert_eq!(code(&mut c, "justice/officer", &esc("C1:1")), "unauthorized");
        assert_eq!(code(&mut c, "justice/gateway", &esc("C1:1")), "ok");
        assert_eq!(code(&mut c, "justice/gateway", &esc("C1:1")), "conflict");
        let a: Alert = get(&c, &keys::alert("C1", 1)).unwrap();
        assert!(a.escalated_at.is_some());
        let ack = |id: &str| SupervisionCall::AcknowledgeAlert { alert_id: id.into(), note: "on it".into() };
        let resolve = |id: &str| SupervisionCall::ResolveAlert { alert_id: id.into(), note: "done".into() };
        assert_eq!(code(&mut c, "police/officer", &ack("C1:1")), "unauthorized");
        assert_eq!(code(&mut c, "justice/officer", &ack("C1:1")), "ok");
        assert_eq!(code(&mut c, "justice/officer", &ack("C1:1")), "conflict");
        assert_eq!(code(&mut c, "justice/gateway", &esc("C1:2")), "ok");
        assert_eq!(code(&mut c, "justice/officer", &resolve("C1:1")), "ok");
        assert_eq!(code(&mut c, "justice/officer", &resolve("C1:1")), "conflict");
        assert_eq!(code(&mut c, "justice/officer", &ack("C1:9")), "not_found");
        assert_eq!(code(&mut c, "justice/officer", &ack("C1")), "invalid");
        let a: Alert = get(&c, &keys::alert("C1", 1)).unwrap();
        assert_eq!(a.state, AlertState::Resolved);
        assert_eq!(a.resolved.unwrap().note, "done");
        // Resolved: the same kind and zone may be raised again, with the next number.
        assert_eq!(code(&mut c, "justice/gateway", &raise(AlertKind::ZoneExit, Some("home"))), "ok");
        assert!(get::<Alert>(&c, &keys::alert("C1", 4)).is_some());
    }

    #[test]
    fn anchors_need_a_gateway_and_increasing_batches() {
        let mut c = chain();
        let anchor = |batch: u64, count: u64| SupervisionCall::AnchorPositions {
            batch,
            root: Hash32([batch as u8; 32]),
            count,
            first_seq: batch * 10,
            from: UnixMillis::new(1),
            to: UnixMillis::new(2),
        };
        assert_eq!(code(&mut c, "justice/officer", &anchor(0, 3)), "unauthorized");
        assert_eq!(code(&mut c, "justice/gateway", &anchor(0, 0)), "invalid");
        assert_eq!(code(&mut c, "justice/gateway", &anchor(0, 3)), "ok");
        assert_eq!(code(&mut c, "justice/gateway", &anchor(0, 3)), "conflict");
        assert_eq!(code(&mut c, "justice/gateway", &anchor(2, 3)), "ok");
        assert_eq!(code(&mut c, "justice/gateway", &anchor(1, 3)), "conflict");
        assert_eq!(code(&mut c, "police/gateway", &anchor(0, 3)), "ok");
        let gw = AccountId::new("justice/gateway").unwrap();
        let a: Anchor = get(&c, &keys::anchor(&gw, 2)).unwrap();
        assert_eq!((a.count, a.first_seq, a.root), (3, 20, Hash32([2; 32])));
    }

    #[test]
    fn alert_ids_split_unambiguously() {
        assert_eq!(split_alert_id("CASE-2026-0001:12"), Some(("CASE-2026-0001", 12)));
        for bad in ["C1", "C1:", "C1:0", "C1:01", ":3", "C/1:3", "C1:x"] {
            assert_eq!(split_alert_id(bad), None, "{bad}");
        }
    }
}
