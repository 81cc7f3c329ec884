//! The daily behaviour summary of one case: movement, time in each zone, violations, data gaps,
//! compliance, alerts and guidance for the supervising officer.
//!
//! Guarantees: a pure function of its input (no clock: "now" is the `until` field), so the same
//! day always summarizes the same way; local days follow the case's time zone, including 23 h and
//! 25 h DST days; zone rules are those of the engine (buffer and schedules included) with k = 1;
//! each fix is judged by the zone versions in force at its fix time (a zone changed or removed
//! later does not rewrite an earlier day); no panic on any input (non-finite coordinates count
//! as invalid fixes).
//!
//! Rules:
//! - Only fixes in `[from, min(until, to))` count; they are ordered by time. Only valid fixes
//!   with finite, in-range coordinates are positions ("valid fixes" below).
//! - `distance_m` sums haversine distances between consecutive valid fixes, skipping any step
//!   that implies more than 250 km/h (a GPS glitch).
//! - Each interval between consecutive valid fixes is attributed to the state at its earlier
//!   fix, unless it is longer than `gap_ms`: then it is a data gap. The stretch from the last
//!   valid fix to the end of the counted period is treated the same way; the stretch from the
//!   day's start to the first valid fix (or the whole period, without valid fixes) is a gap when
//!   longer than `gap_ms` and otherwise not counted at all (nothing is known before the first
//!   fix).
//! - `observed_ms` is the attributed time, `compliant_ms` the part of it attributed to fixes that
//!   violate no rule, and `compliance_ratio` their quotient (`None` when nothing was observed).
//! - A violation episode is a maximal run of consecutive valid fixes violating one zone's rule;
//!   it lasts from its first fix to the next valid fix after it, or to its last fix when none
//!   follows. Its kind (curfew, exit, entry) is that of the version in force at its first fix.
//! - Zones are reported by zone id (those with a version in force during the day), named as
//!   their last version in force that day; a fix outside every version's period is neither
//!   inside nor violating that zone.
//! - `alerts` counts the day's alerts (those raised in `[from, to)`) by kind.
//! - Guidance, in this order: any Tamper alert today → `tamper`; any SOS or Fall alert today →
//!   `safety`; at least 3 Curfew alerts in `week_alerts` → `curfew_pattern`; any escalated alert
//!   today → `review_escalated`; gaps over 2 h in total → `device_check`; compliance ≥ 0.99 and
//!   no alerts today → `compliant`.

use std::collections::BTreeMap;

use civic_types::UnixMillis;
use geo::{Distance, Haversine, Point};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::engine::{AlertKind, CaseZone, duration, rule_kind};
use crate::module::Zone;
use crate::zone::{self, CompiledZone, ZoneError, ZoneKind};

/// Steps implying a higher speed than this (km/h) are GPS glitches, not movement.
pub const MAX_SPEED_KMH: f64 = 250.0;
/// Curfew alerts in 7 days from which a home visit is advised.
pub const CURFEW_PATTERN_ALERTS: usize = 3;
/// Total gaps above this (ms) suggest a device problem.
pub const DEVICE_GAP_MS: u64 = 2 * 3_600_000;
/// Compliance from which the day needs no action (if there were no alerts).
pub const COMPLIANT_RATIO: f64 = 0.99;

/// The `[start, end)` of a local day in UTC milliseconds (DST days are 23 or 25 h long). The
/// date is written YYYY-MM-DD and must be on or after 1970-01-01 in the time zone.
pub fn day_bounds(date: &str, time_zone: &str) -> Result<(UnixMillis, UnixMillis), ZoneError> {
    let tz = zone::time_zone(time_zone)?;
    let refuse = || ZoneError::Date { date: date.chars().take(40).collect() };
    let day = parse_date(date).ok_or_else(refuse)?;
    let start = day.to_zoned(tz.clone()).map_err(|_| refuse())?;
    let end = day.tomorrow().and_then(|d| d.to_zoned(tz)).map_err(|_| refuse())?;
    let ms = |z: &jiff::Zoned| u64::try_from(z.timestamp().as_millisecond()).ok().map(UnixMillis::new);
    Ok((ms(&start).ok_or_else(refuse)?, ms(&end).ok_or_else(refuse)?))
}

/// Parses exactly `YYYY-MM-DD`.
fn parse_date(date: &str) -> Option<Date> {
    let b = date.as_bytes();
    let shape_ok = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() });
    if !shape_ok {
        return None;
    }
    let num = |r: std::ops::Range<usize>| date.get(r).and_then(|s| s.parse::<i16>().ok());
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    Date::new(y, i8::try_from(m).ok()?, i8::try_from(d).ok()?).ok()
}

/// One position as the summary needs it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SummaryFix {
    /// When the fix was taken.
    pub time: UnixMillis,
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
    /// Whether the device reported a valid fix.
    pub valid: bool,
}

/// One alert as the summary needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryAlert {
    /// What it was about.
    pub kind: AlertKind,
    /// Its zone, for zone alerts.
    pub zone: Option<String>,
    /// When it was raised.
    pub at: UnixMillis,
    /// Whether it was escalated.
    pub escalated: bool,
}

/// Everything one day's summary is computed from.
#[derive(Clone, Debug)]
pub struct DayInput<'a> {
    /// The local day, YYYY-MM-DD.
    pub date: &'a str,
    /// The case's IANA time zone.
    pub time_zone: &'a str,
    /// The versions of the case's zones with the periods they were in force (any order; see
    /// [`zone_history`]); versions not in force during the day are ignored.
    pub zones: &'a [ZoneInForce],
    /// The day's fixes, in any order (fixes outside the counted period are ignored).
    pub fixes: &'a [SummaryFix],
    /// Alerts raised that day (others are ignored).
    pub alerts: &'a [SummaryAlert],
    /// Alerts raised in the 7 local days ending with this one, for guidance.
    pub week_alerts: &'a [SummaryAlert],
    /// A stretch without valid fixes longer than this is a data gap, e.g. 15 min.
    pub gap_ms: u64,
    /// Time after this is not counted (neither as gap nor as observed): "now" for today, or the
    /// day's end (or later) for a past day.
    pub until: UnixMillis,
}

/// One version of a zone and the period it was in force: from the block time that wrote it
/// until the block time of the next version (or the removal) of the same zone, exclusive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneInForce {
    /// The version.
    pub zone: CaseZone,
    /// In force from.
    pub from: UnixMillis,
    /// In force until (exclusive); `None` while it is the current version.
    pub until: Option<UnixMillis>,
}

impl ZoneInForce {
    /// A version in force at all times.
    pub fn always(zone: CaseZone) -> ZoneInForce {
        ZoneInForce { zone, from: UnixMillis::new(0), until: None }
    }

    fn covers(&self, t: UnixMillis) -> bool {
        self.from <= t && self.until.is_none_or(|u| t < u)
    }

    fn overlaps(&self, from: UnixMillis, to: UnixMillis) -> bool {
        self.from < to && self.until.is_none_or(|u| u > from)
    }
}

/// The periods in force of every version of a case's zones, from their on-chain version records
/// (in any order). A removal ends the version before it and is not in force itself.
pub fn zone_history(versions: &[Zone]) -> Vec<ZoneInForce> {
    let mut sorted: Vec<&Zone> = versions.iter().collect();
    sorted.sort_by(|a, b| (&a.zone_id, a.version).cmp(&(&b.zone_id, b.version)));
    let mut out = Vec::new();
    for (i, v) in sorted.iter().enumerate() {
        if v.removed {
            continue;
        }
        let until = sorted.get(i + 1).filter(|n| n.zone_id == v.zone_id).map(|n| n.time);
        out.push(ZoneInForce {
            zone: CaseZone { zone_id: v.zone_id.clone(), version: v.version, spec: v.spec.clone() },
            from: v.time,
            until,
        });
    }
    out
}

/// Time spent inside one zone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneTime {
    /// The zone's id.
    pub zone_id: String,
    /// The zone's name.
    pub name: String,
    /// Inclusion or exclusion.
    pub kind: ZoneKind,
    /// Observed time inside its outline (buffer not applied).
    pub inside_ms: u64,
}

/// Violations seen in the day's fixes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violations {
    /// Number of episodes, over all zones.
    pub count: u64,
    /// Their total duration.
    pub total_ms: u64,
    /// Episodes outside a scheduled inclusion zone during its schedule.
    pub curfew: u64,
    /// Episodes outside an unscheduled inclusion zone.
    pub zone_exit: u64,
    /// Episodes inside an exclusion zone.
    pub zone_entry: u64,
}

/// Data gaps (stretches without a valid fix longer than `gap_ms`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gaps {
    /// Number of gaps.
    pub count: u64,
    /// Their total length.
    pub total_ms: u64,
    /// The longest one.
    pub longest_ms: u64,
}

/// One piece of advice for the officer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guidance {
    /// Stable machine-readable code ("curfew_pattern").
    pub code: String,
    /// The advice, one sentence.
    pub text: String,
}

/// One case's day (off-chain JSON). See the module documentation for the rules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DaySummary {
    /// The local day, YYYY-MM-DD.
    pub date: String,
    /// The case's time zone.
    pub time_zone: String,
    /// Start of the local day (UTC ms).
    pub from: UnixMillis,
    /// End of the local day, exclusive (UTC ms).
    pub to: UnixMillis,
    /// End of the counted period: `until` clamped to `[from, to]`.
    pub counted_to: UnixMillis,
    /// Fixes in the counted period.
    pub fixes: u64,
    /// Of which valid.
    pub valid_fixes: u64,
    /// Distance travelled, metres.
    pub distance_m: f64,
    /// Time inside each zone, in zone id order.
    pub zones: Vec<ZoneTime>,
    /// Violations seen in the fixes.
    pub violations: Violations,
    /// Data gaps.
    pub gaps: Gaps,
    /// Time with a known position.
    pub observed_ms: u64,
    /// Part of `observed_ms` without any violation.
    pub compliant_ms: u64,
    /// `compliant_ms / observed_ms`; `None` when nothing was observed.
    pub compliance_ratio: Option<f64>,
    /// The day's alerts by kind.
    pub alerts: BTreeMap<AlertKind, u64>,
    /// Advice, in rule order.
    pub guidance: Vec<Guidance>,
}

/// Per valid fix: time, position, and per zone whether inside and whether violating.
struct Observed {
    time: u64,
    lat: f64,
    lon: f64,
    inside: Vec<bool>,
    violating: Vec<bool>,
}

/// Summarizes one case's day. Fails only on an unknown time zone, a malformed date or an
/// invalid zone.
pub fn summarize(input: &DayInput) -> Result<DaySummary, ZoneError> {
    let tz = zone::time_zone(input.time_zone)?;
    let (from, to) = day_bounds(input.date, input.time_zone)?;
    let end = input.until.clamp(from, to).get();
    let mut versions: Vec<(&ZoneInForce, CompiledZone)> = input
        .zones
        .iter()
        .filter(|z| z.overlaps(from, to))
        .map(|z| CompiledZone::new(&z.zone.spec).map(|c| (z, c)))
        .collect::<Result<_, _>>()?;
    versions.sort_by(|a, b| (&a.0.zone.zone_id, a.0.from).cmp(&(&b.0.zone.zone_id, b.0.from)));
    // One slot per zone id, holding the indices of its versions in time order.
    let mut zones: Vec<Vec<usize>> = Vec::new();
    for (i, (v, _)) in versions.iter().enumerate() {
        match zones.last_mut() {
            Some(slot) if versions[slot[0]].0.zone.zone_id == v.zone.zone_id => slot.push(i),
            _ => zones.push(vec![i]),
        }
    }
    let in_force = |slot: &[usize], t: UnixMillis| slot.iter().copied().find(|&i| versions[i].0.covers(t));

    let mut fixes: Vec<&SummaryFix> =
        input.fixes.iter().filter(|f| (from.get()..end).contains(&f.time.get())).collect();
    fixes.sort_by_key(|f| f.time);
    let observed: Vec<Observed> = fixes
        .iter()
        .filter(|f| {
            f.valid && f.lat.is_finite() && f.lon.is_finite() && f.lat.abs() <= 90.0 && f.lon.abs() <= 180.0
        })
        .map(|f| {
            let local = zone::local_time(f.time, &tz);
            let (inside, violating) = zones
                .iter()
                .map(|slot| match in_force(slot, f.time) {
                    Some(i) => {
                        let c = &versions[i].1;
                        let d = c.signed_distance_m(f.lat, f.lon);
                        (d < 0.0, c.applies_at(local) && c.breached_at_distance(d))
                    }
                    None => (false, false),
                })
                .unzip();
            Observed { time: f.time.get(), lat: f.lat, lon: f.lon, inside, violating }
        })
        .collect();

    let mut distance_m = 0.0;
    for w in observed.windows(2) {
        let d = Haversine.distance(Point::new(w[0].lon, w[0].lat), Point::new(w[1].lon, w[1].lat));
        let dt_ms = w[1].time - w[0].time;
        // d / dt ≤ v, written without division: metres · 3.6e6 ≤ km/h · 1000 · ms.
        if d * 3_600_000.0 <= MAX_SPEED_KMH * 1000.0 * dt_ms as f64 {
            distance_m += d;
        }
    }

    let mut gaps = Gaps::default();
    let mut add_gap = |ms: u64| {
        gaps.count += 1;
        gaps.total_ms += ms;
        gaps.longest_ms = gaps.longest_ms.max(ms);
    };
    let head = observed.first().map_or(end, |o| o.time) - from.get();
    if head > input.gap_ms {
        add_gap(head);
    }
    let (mut observed_ms, mut compliant_ms) = (0u64, 0u64);
    let mut inside_ms = vec![0u64; zones.len()];
    for (i, o) in observed.iter().enumerate() {
        let next = observed.get(i + 1).map_or(end, |n| n.time);
        let span = next - o.time;
        if span > input.gap_ms {
            add_gap(span);
            continue;
        }
        observed_ms += span;
        if !o.violating.iter().any(|v| *v) {
            compliant_ms += span;
        }
        for (total, inside) in inside_ms.iter_mut().zip(&o.inside) {
            if *inside {
                *total += span;
            }
        }
    }

    let mut violations = Violations::default();
    for (j, slot) in zones.iter().enumerate() {
        let mut i = 0;
        while i < observed.len() {
            if !observed[i].violating[j] {
                i += 1;
                continue;
            }
            let first = i;
            while i + 1 < observed.len() && observed[i + 1].violating[j] {
                i += 1;
            }
            let stop = observed.get(i + 1).map_or(observed[i].time, |n| n.time);
            violations.count += 1;
            violations.total_ms += stop - observed[first].time;
            let version = in_force(slot, UnixMillis::new(observed[first].time)).unwrap_or(slot[0]);
            match rule_kind(&versions[version].0.zone.spec) {
                AlertKind::Curfew => violations.curfew += 1,
                AlertKind::ZoneEntry => violations.zone_entry += 1,
                _ => violations.zone_exit += 1,
            }
            i += 1;
        }
    }

    let day_alerts: Vec<&SummaryAlert> =
        input.alerts.iter().filter(|a| (from.get()..to.get()).contains(&a.at.get())).collect();
    let mut alerts = BTreeMap::new();
    for a in &day_alerts {
        *alerts.entry(a.kind).or_insert(0) += 1;
    }
    let compliance_ratio = (observed_ms > 0).then(|| compliant_ms as f64 / observed_ms as f64);

    let count = |kinds: &[AlertKind]| day_alerts.iter().filter(|a| kinds.contains(&a.kind)).count();
    let mut guidance = Vec::new();
    let mut advise = |code: &str, text: String| guidance.push(Guidance { code: code.into(), text });
    let tamper = count(&[AlertKind::Tamper]);
    if tamper > 0 {
        advise("tamper", format!("{} today: inspect the band in person", plural(tamper, "tamper alert")));
    }
    let safety = count(&[AlertKind::Sos, AlertKind::Fall]);
    if safety > 0 {
        advise(
            "safety",
            format!("{} today: confirm the wearer is safe", plural(safety, "SOS or fall alert")),
        );
    }
    let curfews = input.week_alerts.iter().filter(|a| a.kind == AlertKind::Curfew).count();
    if curfews >= CURFEW_PATTERN_ALERTS {
        advise(
            "curfew_pattern",
            format!("{} in the last 7 days: schedule a home visit", plural(curfews, "curfew violation")),
        );
    }
    let escalated = day_alerts.iter().filter(|a| a.escalated).count();
    if escalated > 0 {
        advise(
            "review_escalated",
            format!("{}: review unacknowledged alerts", plural(escalated, "escalated alert")),
        );
    }
    if gaps.total_ms > DEVICE_GAP_MS {
        advise(
            "device_check",
            format!(
                "no position for {} in total: check the device: charging and coverage",
                duration(gaps.total_ms)
            ),
        );
    }
    if compliance_ratio.is_some_and(|r| r >= COMPLIANT_RATIO) && day_alerts.is_empty() {
        advise("compliant", "compliant: no action needed".into());
    }

    Ok(DaySummary {
        date: input.date.to_string(),
        time_zone: input.time_zone.to_string(),
        from,
        to,
        counted_to: UnixMillis::new(end),
        fixes: fixes.len() as u64,
        valid_fixes: observed.len() as u64,
        distance_m,
        zones: zones
            .iter()
            .zip(inside_ms)
            .map(|(slot, inside_ms)| {
                let last = &versions[slot[slot.len() - 1]].0.zone;
                ZoneTime {
                    zone_id: last.zone_id.clone(),
                    name: last.spec.name.clone(),
                    kind: last.spec.kind,
                    inside_ms,
                }
            })
            .collect(),
        violations,
        gaps,
        observed_ms,
        compliant_ms,
        compliance_ratio,
        alerts,
        guidance,
    })
}

/// "1 tamper alert", "3 tamper alerts".
fn plural(n: usize, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::{Schedule, Shape, Weekday, Window, ZoneSpec};

    const MIN: u64 = 60_000;
    const HOUR: u64 = 60 * MIN;
    const HOME: (f64, f64) = (31.2, 121.5);

    fn circle_zone(id: &str, name: &str, radius_m: u32, schedule: Option<Schedule>) -> CaseZone {
        CaseZone {
            zone_id: id.into(),
            version: 1,
            spec: ZoneSpec {
                name: name.into(),
                kind: ZoneKind::Inclusion,
                shape: Shape::Circle { lat_e7: 312_000_000, lon_e7: 1_215_000_000, radius_m },
                buffer_m: 50,
                schedule,
            },
        }
    }

    fn zones() -> Vec<CaseZone> {
        let curfew =
            Schedule { windows: vec![Window { days: Weekday::ALL.to_vec(), start: 1320, end: 360 }] };
        vec![
            circle_zone("home", "Home", 500, Some(curfew)),
            circle_zone("district", "District", 20_000, None),
        ]
    }

    fn alert(kind: AlertKind, at: u64, escalated: bool) -> SummaryAlert {
        SummaryAlert { kind, zone: None, at: UnixMillis::new(at), escalated }
    }

    #[test]
    fn day_bounds_follow_the_time_zone() {
        // Shanghai is UTC+8: 2024-06-03 starts at 2024-06-02T16:00Z.
        let (a, b) = day_bounds("2024-06-03", "Asia/Shanghai").expect("valid");
        assert_eq!(a, UnixMillis::new(1_717_344_000_000));
        assert_eq!(b.get() - a.get(), 24 * HOUR);
        // Berlin's DST days.
        let (a, b) = day_bounds("2024-03-31", "Europe/Berlin").expect("valid");
        assert_eq!(a, UnixMillis::new(1_711_839_600_000));
        assert_eq!(b.get() - a.get(), 23 * HOUR);
        let (a, b) = day_bounds("2024-10-27", "Europe/Berlin").expect("valid");
        assert_eq!(b.get() - a.get(), 25 * HOUR);
        for bad in
            ["2024-02-30", "2024-6-3", "20240603", "2024-06-03T00:00", "", "1969-12-31", "２０２４-06-03"]
        {
            assert!(matches!(day_bounds(bad, "UTC"), Err(ZoneError::Date { .. })), "{bad}");
        }
        assert!(matches!(day_bounds("2024-06-03", "Mars/Base"), Err(ZoneError::TimeZone { .. })));
    }

    #[test]
    fn hand_built_day() {
        let zones: Vec<ZoneInForce> = zones().into_iter().map(ZoneInForce::always).collect();
        let (from, to) = day_bounds("2024-06-03", "Asia/Shanghai").expect("valid");
        let t = |h: u64, m: u64| from.get() + h * HOUR + m * MIN;
        let mut fixes = Vec::new();
        for i in 0..144 {
            let at = from.get() + i * 10 * MIN;
            // A two-hour gap: nothing between 12:00 and 14:00.
            if at > t(12, 0) && at < t(14, 0) {
                continue;
            }
            let (lat, lon) = if at == t(8, 0) {
                // A glitch 1° north (~111 km in 10 min): outside the district.
                (HOME.0 + 1.0, HOME.1)
            } else if at == t(23, 0) || at == t(23, 10) {
                // Out during curfew, 0.01° (1111.95 m) north.
                (HOME.0 + 0.01, HOME.1)
            } else {
                HOME
            };
            fixes.push(SummaryFix { time: UnixMillis::new(at), lat, lon, valid: true });
        }
        fixes.push(SummaryFix { time: UnixMillis::new(t(15, 5)), lat: f64::NAN, lon: 0.0, valid: false });
        // Out of the day: ignored.
        fixes.push(SummaryFix { time: to, lat: 0.0, lon: 0.0, valid: true });
        fixes.reverse();
        let alerts = [alert(AlertKind::Curfew, t(23, 10), false), alert(AlertKind::Tamper, t(9, 0), false)];
        let week = [
            alert(AlertKind::Curfew, t(23, 10) - 24 * HOUR, false),
            alert(AlertKind::Curfew, t(23, 10) - 48 * HOUR, false),
            alerts[0].clone(),
        ];
        let input = DayInput {
            date: "2024-06-03",
            time_zone: "Asia/Shanghai",
            zones: &zones,
            fixes: &fixes,
            alerts: &alerts,
            week_alerts: &week,
            gap_ms: 15 * MIN,
            until: UnixMillis::new(u64::MAX),
        };
        let s = summarize(&input).expect("valid");
        assert_eq!((s.from, s.to, s.counted_to), (from, to, to));
        assert_eq!((s.fixes, s.valid_fixes), (134, 133));
        assert!((s.distance_m - 2.0 * 1111.95).abs() < 0.2, "{}", s.distance_m);
        assert_eq!(s.gaps, Gaps { count: 1, total_ms: 2 * HOUR, longest_ms: 2 * HOUR });
        assert_eq!(s.observed_ms, 22 * HOUR);
        assert_eq!(s.compliant_ms, 22 * HOUR - 30 * MIN);
        assert_eq!(
            s.violations,
            Violations { count: 2, total_ms: 30 * MIN, curfew: 1, zone_exit: 1, zone_entry: 0 }
        );
        let inside: Vec<_> = s.zones.iter().map(|z| (z.zone_id.as_str(), z.inside_ms)).collect();
        assert_eq!(inside, vec![("district", 22 * HOUR - 10 * MIN), ("home", 22 * HOUR - 30 * MIN)]);
        let ratio = s.compliance_ratio.unwrap_or(0.0);
        assert!((ratio - 77_400.0 / 79_200.0).abs() < 1e-12);
        assert_eq!(s.alerts, BTreeMap::from([(AlertKind::Curfew, 1), (AlertKind::Tamper, 1)]));
        let codes: Vec<_> = s.guidance.iter().map(|g| g.code.as_str()).collect();
        assert_eq!(codes, vec!["tamper", "curfew_pattern"]);
        assert_eq!(s.guidance[1].text, "3 curfew violations in the last 7 days: schedule a home visit");
        assert_eq!(s.guidance[0].text, "1 tamper alert today: inspect the band in person");
        // It serializes as plain JSON and back.
        let json = serde_json::to_string(&s).expect("serializable");
        assert!(json.contains("\"alerts\":{\"curfew\":1,\"tamper\":1}"));
        let back: DaySummary = serde_json::from_str(&json).expect("deserializable");
        assert_eq!(
            (&back.zones, &back.violations, &back.gaps, &back.guidance),
            (&s.zones, &s.violations, &s.gaps, &s.guidance)
        );
        assert!((back.distance_m - s.distance_m).abs() < 1e-9);
    }

    #[test]
    fn each_fix_is_judged_by_the_zone_version_in_force() {
        let (from, _) = day_bounds("2024-06-03", "Asia/Shanghai").expect("valid");
        let t = |h: u64, m: u64| UnixMillis::new(from.get() + h * HOUR + m * MIN);
        let curfew =
            Schedule { windows: vec![Window { days: Weekday::ALL.to_vec(), start: 1320, end: 360 }] };
        let record = |version: u64, time: UnixMillis, name: &str, radius_m: u32, removed: bool| Zone {
            case_id: "C1".into(),
            zone_id: "home".into(),
            version,
            spec: circle_zone("home", name, radius_m, Some(curfew.clone())).spec,
            removed,
            reason: removed.then(|| "curfew lifted".into()),
            by: civic_types::AccountId::new("justice/officer").expect("valid"),
            height: civic_types::Height::new(version),
            time,
        };
        // v1 (500 m) since the day before; v2 widens it to 2 km at 12:00; v3 removes it at 23:30.
        let history = zone_history(&[
            record(3, t(23, 30), "Home (widened)", 2_000, true),
            record(1, UnixMillis::new(from.get() - HOUR), "Home", 500, false),
            record(2, t(12, 0), "Home (widened)", 2_000, false),
        ]);
        assert_eq!(history.len(), 2);
        assert_eq!((history[0].zone.version, history[0].until), (1, Some(t(12, 0))));
        assert_eq!(
            (history[1].zone.version, history[1].from, history[1].until),
            (2, t(12, 0), Some(t(23, 30)))
        );

        // All day 1112 m north of home, a fix every 10 minutes.
        let fixes: Vec<SummaryFix> = (0..144)
            .map(|i| SummaryFix { time: t(0, i * 10), lat: HOME.0 + 0.01, lon: HOME.1, valid: true })
            .collect();
        let input = DayInput {
            date: "2024-06-03",
            time_zone: "Asia/Shanghai",
            zones: &history,
            fixes: &fixes,
            alerts: &[],
            week_alerts: &[],
            gap_ms: 15 * MIN,
            until: UnixMillis::new(u64::MAX),
        };
        let s = summarize(&input).expect("valid");
        // Under v1 the night until 06:00 breaks the curfew; under v2 the evening is inside the
        // wider zone; after the removal nothing applies.
        assert_eq!((s.violations.count, s.violations.curfew, s.violations.total_ms), (1, 1, 6 * HOUR));
        assert_eq!(s.zones.len(), 1);
        assert_eq!(
            (s.zones[0].name.as_str(), s.zones[0].inside_ms),
            ("Home (widened)", 11 * HOUR + 30 * MIN)
        );
        assert_eq!(s.compliant_ms, 18 * HOUR);
    }

    #[test]
    fn guidance_rules_and_until() {
        let zones: Vec<ZoneInForce> = zones().into_iter().map(ZoneInForce::always).collect();
        let (from, _) = day_bounds("2024-06-03", "Asia/Shanghai").expect("valid");
        // At home every 10 min until 10:00; "now" is 10:05.
        let fixes: Vec<SummaryFix> = (0..=60)
            .map(|i| SummaryFix {
                time: UnixMillis::new(from.get() + i * 10 * MIN),
                lat: HOME.0,
                lon: HOME.1,
                valid: true,
            })
            .collect();
        let mut input = DayInput {
            date: "2024-06-03",
            time_zone: "Asia/Shanghai",
            zones: &zones,
            fixes: &fixes,
            alerts: &[],
            week_alerts: &[],
            gap_ms: 15 * MIN,
            until: UnixMillis::new(from.get() + 10 * HOUR + 5 * MIN),
        };
        let s = summarize(&input).expect("valid");
        assert_eq!((s.gaps.count, s.observed_ms), (0, 10 * HOUR + 5 * MIN));
        assert_eq!(s.compliance_ratio, Some(1.0));
        assert_eq!(
            s.guidance,
            vec![Guidance { code: "compliant".into(), text: "compliant: no action needed".into() }]
        );

        // The same day seen at midnight: 14 h without a fix.
        input.until = UnixMillis::new(u64::MAX);
        let s = summarize(&input).expect("valid");
        assert_eq!(s.gaps, Gaps { count: 1, total_ms: 14 * HOUR, longest_ms: 14 * HOUR });
        let codes: Vec<_> = s.guidance.iter().map(|g| g.code.as_str()).collect();
        assert_eq!(codes, vec!["device_check", "compliant"]);
        assert_eq!(
            s.guidance[0].text,
            "no position for 14 h in total: check the device: charging and coverage"
        );

        // An escalated SOS.
        let alerts = [alert(AlertKind::Sos, from.get() + HOUR, true)];
        input.alerts = &alerts;
        let s = summarize(&input).expect("valid");
        let codes: Vec<_> = s.guidance.iter().map(|g| g.code.as_str()).collect();
        assert_eq!(codes, vec!["safety", "review_escalated", "device_check"]);

        // Nothing at all: one gap over the whole day, no ratio.
        input.fixes = &[];
        input.alerts = &[];
        let s = summarize(&input).expect("valid");
        assert_eq!((s.gaps.total_ms, s.observed_ms, s.compliance_ratio), (24 * HOUR, 0, None));
        assert!(s.guidance.iter().all(|g| g.code != "compliant"));
    }
}
