//! Supervision over HTTP: cases with their zones and device, devices with what the gateway last
//! heard, alerts by case and state, stored positions, their anchoring proofs, and daily
//! behaviour summaries.
//!
//! Cases, devices, zones and alerts are on-chain records, readable like the rest of the chain.
//! Positions and summaries are personal location data kept off chain: they are served only to a
//! signed request by an account of the case's organization or an auditor. Writes (opening cases,
//! zones, acknowledging and resolving alerts) are signed transactions (`POST /v1/txs`, or
//! `civic supervision …`).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use civic_node::Node;
use civic_node::now_ms;
use civic_node::supervision::Supervisor;
use civic_supervision::engine::AlertKind;
use civic_supervision::module::{Alert, AlertState, Case, Device, Zone, is_id, keys, split_alert_id};
use civic_supervision::position::Position;
use civic_supervision::summary::{self, DayInput, SummaryAlert, SummaryFix};
use civic_types::{Role, UnixMillis};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use crate::auth::{Caller, SignedCaller, forbidden};
use crate::dto::{
    AlertListDto, CaseDto, CaseListDto, DeviceDto, DeviceListDto, PositionDto, PositionListDto,
    PositionProofDto, Problem,
};
use crate::extract::{ApiPath, ApiQuery};
use crate::problem::{ApiError, types};
use crate::routes::{PageParams, limit_param, paged, records, u64_param};
use crate::{AppState, blocking};

/// Most records scanned for one filtered list.
/// A gap between fixes longer than this counts as a data gap in summaries.
const SUMMARY_GAP_MS: u64 = 15 * 60_000;

fn json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn id_param(name: &str, s: &str) -> Result<(), ApiError> {
    if is_id(s) {
        Ok(())
    } else {
        Err(ApiError::bad_param(
            name,
            format!("{:?} is not an id ([A-Za-z0-9._-], 1-64)", s.chars().take(70).collect::<String>()),
        ))
    }
}

fn supervisor(st: &AppState) -> Result<Arc<Supervisor>, ApiError> {
    st.options.supervisor.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            types::NO_GATEWAY,
            "No device gateway on this node",
            "this node runs no device gateway, so it holds no positions; ask the node whose gateway the devices report to",
        )
    })
}

fn load_case(node: &Node, id: &str) -> Result<Case, ApiError> {
    node.state_value::<Case>(&keys::case(id))?
        .ok_or_else(|| ApiError::not_found(format!("case {id} does not exist")))
}

/// Location data is for the case's organization and auditors.
fn may_see_locations(caller: &Caller, case: &Case) -> Result<(), ApiError> {
    match caller {
        Caller::Account(a) if a.id.org() == case.org || a.roles.contains(&Role::Auditor) => Ok(()),
        _ => Err(forbidden(format!(
            "positions of case {} are for accounts of {} and auditors",
            case.case_id, case.org
        ))),
    }
}

/// Every version of the case's zones `current` (the latest record of each), zone by zone.
fn zone_versions(node: &Node, case_id: &str, current: &[Zone]) -> Result<Vec<Zone>, ApiError> {
    let mut versions = Vec::new();
    for z in current {
        versions.extend(records::<Zone>(node, &keys::zone_version_prefix(case_id, &z.zone_id))?);
    }
    Ok(versions)
}

fn case_dto(node: &Node, case: Case, with_history: bool) -> Result<CaseDto, ApiError> {
    let zones: Vec<Zone> = records(node, &keys::zone_prefix(&case.case_id))?;
    let history = if with_history {
        zone_versions(node, &case.case_id, &zones)?.iter().map(json).collect()
    } else {
        Vec::new()
    };
    let device = match &case.device {
        Some(d) => node.state_value::<Device>(&keys::device(d))?.map(|d| json(&d)),
        None => None,
    };
    let open_alerts = node
        .store()
        .state_range(format!("{}{}/", keys::OPEN_PREFIX, case.case_id).as_bytes(), None, 1000)
        .map_err(|e| ApiError::internal(&e))?
        .len() as u64;
    Ok(CaseDto {
        status: if case.is_open() { "open".into() } else { "closed".into() },
        case: json(&case),
        zones: zones.iter().filter(|z| !z.removed).map(json).collect(),
        zone_history: with_history.then_some(history),
        device,
        open_alerts,
    })
}

/// Query of `GET /v1/supervision/cases`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CaseListParams {
    /// Only cases of this organization.
    org: Option<String>,
    /// Only cases supervised by this officer account.
    officer: Option<String>,
    /// `open` or `closed`.
    status: Option<String>,
    /// Cases per page, 1 to 200 (default 50).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// Start after this case id.
    after: Option<String>,
}

/// Cases in id order, each with its current zones, bound device and open alert count.
#[utoipa::path(
    get,
    path = "/v1/supervision/cases",
    tag = "supervision",
    params(CaseListParams),
    responses(
        (status = 200, description = "A page of cases", body = CaseListDto),
        (status = 400, description = "A malformed parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn cases(
    State(st): State<AppState>,
    ApiQuery(q): ApiQuery<CaseListParams>,
) -> Result<Json<CaseListDto>, ApiError> {
    let limit = limit_param(q.limit.as_deref(), 50, 200)?;
    if let Some(s) = q.status.as_deref().filter(|s| !matches!(*s, "open" | "closed")) {
        return Err(ApiError::bad_param("status", format!("{s:?}: use open or closed")));
    }
    if let Some(a) = &q.after {
        id_param("after", a)?;
    }
    let node = st.node.clone();
    blocking(move || {
        let (cases, next) = paged::<Case>(&node, keys::CASE_PREFIX, q.after.as_deref(), limit, |case| {
            q.org.as_ref().is_none_or(|o| *o == case.org.as_str())
                && q.officer.as_ref().is_none_or(|o| *o == case.officer.as_str())
                && q.status.as_deref().is_none_or(|s| (s == "open") == case.is_open())
        })?;
        let out = cases.into_iter().map(|c| case_dto(&node, c, false)).collect::<Result<_, _>>()?;
        Ok(Json(CaseListDto { cases: out, next }))
    })
    .await
}

/// One case with its zones (current and every version), device and open alert count.
#[utoipa::path(
    get,
    path = "/v1/supervision/cases/{id}",
    tag = "supervision",
    params(("id" = String, Path, description = "Case id")),
    responses(
        (status = 200, description = "The case", body = CaseDto),
        (status = 400, description = "Not a case id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn case(
    State(st): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<CaseDto>, ApiError> {
    id_param("id", &id)?;
    let node = st.node.clone();
    blocking(move || {
        let case = load_case(&node, &id)?;
        Ok(Json(case_dto(&node, case, true)?))
    })
    .await
}

/// Registered devices, each with its protocol id, bound case and what this node's gateway last
/// heard from it.
#[utoipa::path(
    get,
    path = "/v1/supervision/devices",
    tag = "supervision",
    params(PageParams),
    responses(
        (status = 200, description = "Devices in id order", body = DeviceListDto),
        (status = 400, description = "A malformed parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn devices(
    State(st): State<AppState>,
    ApiQuery(q): ApiQuery<PageParams>,
) -> Result<Json<DeviceListDto>, ApiError> {
    let limit = limit_param(q.limit.as_deref(), 200, 1000)?;
    let node = st.node.clone();
    let sup = st.options.supervisor.clone();
    blocking(move || {
        let (devices, next) =
            paged::<Device>(&node, keys::DEVICE_PREFIX, q.after.as_deref(), limit, |_| true)?;
        let out = devices
            .into_iter()
            .map(|d| {
                let seen = sup.as_ref().map(|s| s.last_seen(&d.device_id)).unwrap_or_default();
                DeviceDto {
                    device_id: d.device_id,
                    protocol: d.protocol.to_string(),
                    label: d.label,
                    org: d.org.to_string(),
                    case_id: d.case_id,
                    last_contact_ms: seen.contact.map(UnixMillis::get),
                    last_fix_ms: seen.fix.map(UnixMillis::get),
                    battery_pct: seen.battery_pct,
                }
            })
            .collect();
        Ok(Json(DeviceListDto { devices: out, next }))
    })
    .await
}

/// Query of `GET /v1/supervision/alerts`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AlertListParams {
    /// Only this case's alerts.
    case: Option<String>,
    /// `open`, `acknowledged` or `resolved`.
    state: Option<String>,
    /// Only this kind (`zone_exit`, `zone_entry`, `curfew`, `tamper`, `sos`, `fall`,
    /// `low_battery`, `gone_dark`, `offline`).
    kind: Option<String>,
    /// Alerts per page, 1 to 500 (default 100).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 500)]
    limit: Option<String>,
    /// The previous page's `next`.
    after: Option<String>,
}

/// Alerts, by case then number, filtered by case, state and kind.
#[utoipa::path(
    get,
    path = "/v1/supervision/alerts",
    tag = "supervision",
    params(AlertListParams),
    responses(
        (status = 200, description = "Alerts", body = AlertListDto),
        (status = 400, description = "A malformed parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn alerts(
    State(st): State<AppState>,
    ApiQuery(q): ApiQuery<AlertListParams>,
) -> Result<Json<AlertListDto>, ApiError> {
    let limit = limit_param(q.limit.as_deref(), 100, 500)?;
    let state: Option<AlertState> = q
        .state
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e: String| ApiError::bad_param("state", e))?;
    let kind: Option<AlertKind> = q
        .kind
        .as_deref()
        .map(|k| k.parse::<AlertKind>().map_err(|e| ApiError::bad_param("kind", e)))
        .transpose()?;
    if let Some(c) = &q.case {
        id_param("case", c)?;
    }
    let node = st.node.clone();
    blocking(move || {
        let prefix = match &q.case {
            Some(c) => keys::alert_prefix(c),
            None => keys::ALERT_PREFIX.to_owned(),
        };
        let (alerts, next) = paged::<Alert>(&node, &prefix, q.after.as_deref(), limit, |a| {
            state.is_none_or(|s| s == a.state) && kind.is_none_or(|k| k == a.kind)
        })?;
        let out = alerts.iter().map(json).collect();
        Ok(Json(AlertListDto { alerts: out, next }))
    })
    .await
}

/// One alert.
#[utoipa::path(
    get,
    path = "/v1/supervision/alerts/{id}",
    tag = "supervision",
    params(("id" = String, Path, description = "Alert id `<case>:<n>`")),
    responses(
        (status = 200, description = "The alert", body = Object),
        (status = 400, description = "Not an alert id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such alert", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn alert(
    State(st): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let (case, n) = split_alert_id(&id).ok_or_else(|| ApiError::bad_param("id", "use <case id>:<number>"))?;
    let key = keys::alert(case, n);
    let node = st.node.clone();
    blocking(move || {
        let a: Alert = node
            .state_value(&key)?
            .ok_or_else(|| ApiError::not_found(format!("alert {id} does not exist")))?;
        Ok(Json(json(&a)))
    })
    .await
}

fn position_dto(p: &Position) -> PositionDto {
    PositionDto {
        id: p.seq,
        device: p.device.clone(),
        case_id: p.case_id.clone(),
        lat: p.lat(),
        lon: p.lon(),
        fix_time_ms: p.fix_time.get(),
        received_ms: p.received.get(),
        valid: p.valid,
        speed_kmh: p.speed_dkmh.map(|s| f64::from(s) / 10.0),
        course_deg: p.course_deg,
        altitude_m: p.altitude_m,
        accuracy_m: p.accuracy_m,
        battery_pct: p.battery_pct,
        alarms: p.alarms.clone(),
        leaf_hash: p.leaf_hash().to_hex(),
    }
}

/// Query of `GET /v1/supervision/devices/{id}/positions`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PositionParams {
    /// Fix time from (Unix ms, inclusive; default 24 hours ago).
    #[param(value_type = Option<u64>)]
    from: Option<String>,
    /// Fix time to (Unix ms, exclusive; default now + 1 minute).
    #[param(value_type = Option<u64>)]
    to: Option<String>,
    /// Positions per page, 1 to 10000 (default 1000).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 10000)]
    limit: Option<String>,
}

/// A device's stored positions by fix time, oldest first. Signed request by an account of the
/// device's organization or an auditor.
#[utoipa::path(
    get,
    path = "/v1/supervision/devices/{id}/positions",
    tag = "supervision",
    params(
        ("id" = String, Path, description = "Device protocol id"),
        PositionParams,
        ("Civic-Signer" = String, Header, description = "An account of the device's organization, or an auditor"),
        ("Civic-Timestamp" = u64, Header, description = "Unix milliseconds"),
        ("Civic-Signature" = String, Header, description = "Signed request"),
    ),
    responses(
        (status = 200, description = "Positions", body = PositionListDto),
        (status = 400, description = "A malformed parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not this organization's", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such device", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No gateway on this node", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn positions(
    State(st): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<PositionParams>,
    SignedCaller(caller): SignedCaller,
) -> Result<Json<PositionListDto>, ApiError> {
    id_param("id", &id)?;
    let now = now_ms().get();
    let from = q
        .from
        .as_deref()
        .map(|s| u64_param("from", s))
        .transpose()?
        .unwrap_or(now.saturating_sub(86_400_000));
    let to = q.to.as_deref().map(|s| u64_param("to", s)).transpose()?.unwrap_or(now + 60_000);
    if to <= from {
        return Err(ApiError::bad_param("to", format!("must be after from ({from})")));
    }
    let limit = limit_param(q.limit.as_deref(), 1000, 10_000)?;
    let sup = supervisor(&st)?;
    let node = st.node.clone();
    blocking(move || {
        let device: Device = node
            .state_value(&keys::device(&id))?
            .ok_or_else(|| ApiError::not_found(format!("device {id} is not registered")))?;
        match &caller {
            Caller::Account(a) if a.id.org() == device.org || a.roles.contains(&Role::Auditor) => {}
            _ => {
                return Err(forbidden(format!(
                    "positions of device {id} are for accounts of {} and auditors",
                    device.org
                )));
            }
        }
        let ps = sup
            .positions(&id, UnixMillis::new(from), UnixMillis::new(to), limit)
            .map_err(|e| ApiError::internal(&e))?;
        Ok(Json(PositionListDto { device: id, positions: ps.iter().map(position_dto).collect() }))
    })
    .await
}

/// A stored position with the RFC 6962 proof of its inclusion in an anchored batch, and the
/// anchor on chain. Check it with `civic supervision proof`, or: leaf = SHA-256(0x00 ‖
/// position_bcs); the inclusion path leads to `root`; `root` equals the anchor's root at
/// `anchor_state_key`.
#[utoipa::path(
    get,
    path = "/v1/supervision/positions/{id}/proof",
    tag = "supervision",
    params(
        ("id" = u64, Path, description = "Position id"),
        ("Civic-Signer" = String, Header, description = "An account of the case's organization, or an auditor"),
        ("Civic-Timestamp" = u64, Header, description = "Unix milliseconds"),
        ("Civic-Signature" = String, Header, description = "Signed request"),
    ),
    responses(
        (status = 200, description = "The position and its proof (proof absent while its batch is still open, anchor absent until committed)", body = PositionProofDto),
        (status = 400, description = "Not a position id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not this organization's", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such position (or past retention)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn proof(
    State(st): State<AppState>,
    ApiPath(id): ApiPath<String>,
    SignedCaller(caller): SignedCaller,
) -> Result<Json<PositionProofDto>, ApiError> {
    let seq = u64_param("id", &id)?;
    let sup = supervisor(&st)?;
    let node = st.node.clone();
    blocking(move || {
        let proven =
            sup.proven(seq)?.ok_or_else(|| ApiError::not_found(format!("no position {seq} on this node")))?;
        let case = load_case(&node, &proven.position.case_id)?;
        may_see_locations(&caller, &case)?;
        let anchor_state_key = proven.proof.as_ref().map(|p| keys::anchor(&p.gateway, p.batch));
        Ok(Json(PositionProofDto {
            position: position_dto(&proven.position),
            proof: proven.proof.as_ref().map(json),
            anchor: proven.anchor.as_ref().map(json),
            anchor_state_key,
        }))
    })
    .await
}

/// The daily behaviour summary of a case for a local date in the case's time zone: time in each
/// zone, distance, violations, data gaps, compliance ratio and officer guidance.
#[utoipa::path(
    get,
    path = "/v1/supervision/cases/{id}/days/{date}",
    tag = "supervision",
    params(
        ("id" = String, Path, description = "Case id"),
        ("date" = String, Path, description = "Local date YYYY-MM-DD"),
        ("Civic-Signer" = String, Header, description = "An account of the case's organization, or an auditor"),
        ("Civic-Timestamp" = u64, Header, description = "Unix milliseconds"),
        ("Civic-Signature" = String, Header, description = "Signed request"),
    ),
    responses(
        (status = 200, description = "The summary", body = Object),
        (status = 400, description = "A malformed parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not this organization's", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn day(
    State(st): State<AppState>,
    ApiPath((id, date)): ApiPath<(String, String)>,
    SignedCaller(caller): SignedCaller,
) -> Result<Json<Value>, ApiError> {
    id_param("id", &id)?;
    let sup = supervisor(&st)?;
    let node = st.node.clone();
    blocking(move || {
        let case = load_case(&node, &id)?;
        may_see_locations(&caller, &case)?;
        let (from, to) =
            summary::day_bounds(&date, &case.time_zone).map_err(|e| ApiError::bad_param("date", e))?;
        let week_from = UnixMillis::new(from.get().saturating_sub(6 * 86_400_000));
        // Every version of every zone: each fix is judged by the rules in force at its time.
        let current: Vec<Zone> = records(&node, &keys::zone_prefix(&id))?;
        let zones = summary::zone_history(&zone_versions(&node, &id, &current)?);
        let mut fixes = Vec::new();
        let devices: Vec<String> = case.device.iter().cloned().collect();
        for d in &devices {
            let ps = sup.positions(d, from, to, 200_000).map_err(|e| ApiError::internal(&e))?;
            fixes.extend(ps.iter().filter(|p| p.case_id == id).map(|p| SummaryFix {
                time: p.fix_time,
                lat: p.lat(),
                lon: p.lon(),
                valid: p.valid,
            }));
        }
        // Every alert of the case (a long term can hold thousands): the week's are needed.
        let all: Vec<Alert> =
            node.scan_state::<Alert>(&keys::alert_prefix(&id))?.into_iter().map(|(_, a)| a).collect();
        let to_summary = |a: &Alert| SummaryAlert {
            kind: a.kind,
            zone: a.zone.clone(),
            at: a.at,
            escalated: a.escalated_at.is_some(),
        };
        let alerts: Vec<SummaryAlert> =
            all.iter().filter(|a| a.at >= from && a.at < to).map(to_summary).collect();
        let week: Vec<SummaryAlert> =
            all.iter().filter(|a| a.at >= week_from && a.at < to).map(to_summary).collect();
        let input = DayInput {
            date: &date,
            time_zone: &case.time_zone,
            zones: &zones,
            fixes: &fixes,
            alerts: &alerts,
            week_alerts: &week,
            gap_ms: SUMMARY_GAP_MS,
            until: now_ms(),
        };
        let s = summary::summarize(&input).map_err(|e| ApiError::bad_param("date", e))?;
        let mut v = json(&s);
        if let Value::Object(m) = &mut v {
            m.insert("case_id".into(), Value::String(id));
        }
        Ok(Json(v))
    })
    .await
}
