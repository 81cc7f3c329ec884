//! `civic supervision …`: cases, devices and zones as signed transactions, alerts and their
//! workflow, positions and their anchoring proofs (checked here, not trusted), daily summaries,
//! and `simulate`, which walks a device along a track through the real gateway ports.

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use civic_devices::watch;
use civic_ledger::Call;
use civic_supervision::module::{Anchor, CaseOutcome, Protocol, SupervisionCall as S};
use civic_supervision::position::{PositionProof, to_e7};
use civic_supervision::zone::{self, Schedule, Shape, Weekday, Window, ZoneKind, ZoneSpec};
use civic_types::{AccountId, UnixMillis};
use serde_json::{Value, json};

use crate::commands::{Ctx, print_submitted, sign_and_submit};
use crate::license::{parse_time, signer_of};

fn submit(ctx: &Ctx, call: &S) -> Result<()> {
    let answer = sign_and_submit(ctx, Call::new(call), true)?;
    print_submitted(ctx, &answer);
    if answer["receipt"]["status"] == "rejected" {
        bail!("the ledger rejected the transaction: {}", answer["receipt"]["reason"].as_str().unwrap_or(""));
    }
    Ok(())
}

fn signed_get(ctx: &Ctx, path: &str) -> Result<Value> {
    let k = ctx.key.as_ref().ok_or_else(|| {
        anyhow!("positions are personal data: pass --key with the key file of an account of the case's organization")
    })?;
    let (signer, key) = signer_of(k)?;
    ctx.client().get_signed(path, &signer, &key)
}

/// What `case open` needs.
pub struct NewCase<'a> {
    pub id: &'a str,
    pub subject: &'a str,
    pub legal_basis: &'a str,
    pub term_start: &'a str,
    pub term_end: &'a str,
    pub officer: Option<&'a str>,
    pub time_zone: &'a str,
    pub escalation_minutes: u32,
    pub gone_dark_minutes: u32,
    pub offline_minutes: u32,
}

/// `civic supervision case open`.
pub fn open_case(ctx: &Ctx, c: NewCase<'_>) -> Result<()> {
    zone::check_time_zone(c.time_zone)?;
    let officer = match c.officer {
        Some(o) => AccountId::new(o)?,
        None => {
            let k = ctx.key.as_ref().ok_or_else(|| anyhow!("pass --key (the officer's key file)"))?;
            AccountId::new(signer_of(k)?.0)
                .context("--key must be an account's key file; or pass --officer")?
        }
    };
    submit(
        ctx,
        &S::OpenCase {
            case_id: c.id.into(),
            subject: c.subject.into(),
            legal_basis: c.legal_basis.into(),
            term_start: parse_time("--term-start", c.term_start)?,
            term_end: parse_time("--term-end", c.term_end)?,
            officer,
            time_zone: c.time_zone.into(),
            escalation_minutes: c.escalation_minutes,
            gone_dark_minutes: c.gone_dark_minutes,
            offline_minutes: c.offline_minutes,
        },
    )
}

/// `civic supervision case close`.
pub fn close_case(ctx: &Ctx, id: &str, revoked: bool, note: &str) -> Result<()> {
    let outcome = if revoked { CaseOutcome::Revoked } else { CaseOutcome::Completed };
    submit(ctx, &S::CloseCase { case_id: id.into(), outcome, note: note.into() })
}

/// `civic supervision cases` / `case show`.
pub fn cases(ctx: &Ctx, id: Option<&str>) -> Result<()> {
    let v: Value = match id {
        Some(id) => ctx.client().get(&format!("/v1/supervision/cases/{id}"))?,
        None => ctx.client().get("/v1/supervision/cases?limit=200")?,
    };
    let list = match id {
        Some(_) => vec![v.clone()],
        None => v["cases"].as_array().cloned().unwrap_or_default(),
    };
    ctx.print(&v, || {
        let mut out = String::new();
        for c in &list {
            let case = &c["case"];
            out.push_str(&format!(
                "{} [{}] subject {} — officer {}, device {}, {} open alert(s)\n  basis: {}\n",
                case["case_id"].as_str().unwrap_or(""),
                c["status"].as_str().unwrap_or(""),
                case["subject"].as_str().unwrap_or(""),
                case["officer"].as_str().unwrap_or(""),
                case["device"].as_str().unwrap_or("none"),
                c["open_alerts"],
                case["legal_basis"].as_str().unwrap_or(""),
            ));
            for z in c["zones"].as_array().into_iter().flatten() {
                let s = &z["spec"];
                out.push_str(&format!(
                    "  zone {} v{}: {} ({}), buffer {} m{}\n",
                    z["zone_id"].as_str().unwrap_or(""),
                    z["version"],
                    s["name"].as_str().unwrap_or(""),
                    s["kind"].as_str().unwrap_or(""),
                    s["buffer_m"],
                    if s["schedule"].is_null() { "" } else { ", scheduled" }
                ));
            }
        }
        out.trim_end().to_owned()
    });
    Ok(())
}

/// `civic supervision device register`.
pub fn register_device(ctx: &Ctx, id: &str, protocol: &str, label: &str) -> Result<()> {
    let protocol = match protocol {
        "watch" => Protocol::Watch,
        "osmand" => Protocol::Osmand,
        p => bail!("unknown protocol {p:?}: use watch (wristbands, TCP) or osmand (Traccar Client, HTTP)"),
    };
    submit(ctx, &S::RegisterDevice { device_id: id.into(), protocol, label: label.into() })
}

/// `civic supervision device bind` / `unbind`.
pub fn bind(ctx: &Ctx, device: &str, case: Option<&str>, reason: Option<&str>) -> Result<()> {
    match (case, reason) {
        (Some(c), _) => submit(ctx, &S::BindDevice { device_id: device.into(), case_id: c.into() }),
        (None, Some(r)) => submit(ctx, &S::UnbindDevice { device_id: device.into(), reason: r.into() }),
        (None, None) => bail!("pass --case to bind or --reason to unbind"),
    }
}

/// `civic supervision devices`.
pub fn devices(ctx: &Ctx) -> Result<()> {
    let v = json!({ "devices": ctx.client().get_all("/v1/supervision/devices", "devices", None)? });
    ctx.print(&v, || {
        v["devices"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| {
                format!(
                    "{:<18} {:<7} case {:<16} last contact {}  battery {}  ({})",
                    d["device_id"].as_str().unwrap_or(""),
                    d["protocol"].as_str().unwrap_or(""),
                    d["case_id"].as_str().unwrap_or("-"),
                    d["last_contact_ms"].as_u64().map_or("never".into(), time),
                    d["battery_pct"].as_u64().map_or("-".into(), |b| format!("{b}%")),
                    d["label"].as_str().unwrap_or(""),
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}

fn time(ms: u64) -> String {
    civic_licenses::credential::rfc3339(UnixMillis::new(ms))
}

/// What `zone set` needs.
pub struct NewZone<'a> {
    pub case: &'a str,
    pub zone: &'a str,
    pub name: &'a str,
    pub exclusion: bool,
    pub circle: Option<&'a str>,
    pub geojson: Option<&'a Path>,
    pub buffer_m: u32,
    pub window: Option<&'a str>,
    pub days: Option<&'a str>,
}

fn hhmm(s: &str) -> Result<u16> {
    let (h, m) = s.split_once(':').ok_or_else(|| anyhow!("{s:?} is not HH:MM"))?;
    let (h, m): (u16, u16) = (h.parse()?, m.parse()?);
    if h > 23 || m > 59 {
        bail!("{s:?} is not a time of day");
    }
    Ok(h * 60 + m)
}

/// `civic supervision zone set`.
pub fn set_zone(ctx: &Ctx, z: NewZone<'_>) -> Result<()> {
    let shape = match (z.circle, z.geojson) {
        (Some(c), None) => {
            let parts: Vec<&str> = c.split(',').map(str::trim).collect();
            let [lat, lon, r] = parts[..] else { bail!("--circle takes LAT,LON,RADIUS_M") };
            let (lat, lon): (f64, f64) = (lat.parse()?, lon.parse()?);
            if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
                bail!("--circle: latitude must be -90..90 and longitude -180..180");
            }
            Shape::Circle {
                lat_e7: to_e7(lat),
                lon_e7: to_e7(lon),
                radius_m: r.parse().context("radius in metres")?,
            }
        }
        (None, Some(p)) => Shape::GeoJson {
            geometry: std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
        },
        _ => bail!(
            "give the zone's shape: --circle LAT,LON,RADIUS_M or --geojson FILE (Polygon or MultiPolygon)"
        ),
    };
    let schedule = match z.window {
        None => None,
        Some(w) => {
            let (a, b) =
                w.split_once('-').ok_or_else(|| anyhow!("--window takes HH:MM-HH:MM, e.g. 22:00-06:00"))?;
            let days = match z.days {
                None => Weekday::ALL.to_vec(),
                Some(d) => d
                    .split(',')
                    .map(|d| {
                        serde_json::from_value::<Weekday>(Value::String(d.trim().to_lowercase()))
                            .map_err(|_| anyhow!("--days: {d:?} is not mon, tue, wed, thu, fri, sat or sun"))
                    })
                    .collect::<Result<_>>()?,
            };
            Some(Schedule { windows: vec![Window { days, start: hhmm(a)?, end: hhmm(b)? }] })
        }
    };
    let spec = ZoneSpec {
        name: z.name.into(),
        kind: if z.exclusion { ZoneKind::Exclusion } else { ZoneKind::Inclusion },
        shape,
        buffer_m: z.buffer_m,
        schedule,
    };
    zone::validate(&spec)?;
    submit(ctx, &S::SetZone { case_id: z.case.into(), zone_id: z.zone.into(), spec })
}

/// `civic supervision zone remove`.
pub fn remove_zone(ctx: &Ctx, case: &str, zone: &str, reason: &str) -> Result<()> {
    submit(ctx, &S::RemoveZone { case_id: case.into(), zone_id: zone.into(), reason: reason.into() })
}

/// `civic supervision alerts`.
pub fn alerts(ctx: &Ctx, case: Option<&str>, state: Option<&str>) -> Result<()> {
    let mut q = vec!["limit=500".to_owned()];
    q.extend(case.map(|c| format!("case={c}")));
    q.extend(state.map(|s| format!("state={s}")));
    let v = json!({
        "alerts": ctx.client().get_all(&format!("/v1/supervision/alerts?{}", q.join("&")), "alerts", None)?
    });
    ctx.print(&v, || {
        let lines: Vec<String> = v["alerts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| {
                format!(
                    "{:<20} {:<12} {:<11} {}{}  {}",
                    a["alert_id"].as_str().unwrap_or(""),
                    a["kind"].as_str().unwrap_or(""),
                    a["state"].as_str().unwrap_or(""),
                    a["at"].as_u64().map(time).unwrap_or_default(),
                    if a["escalated_at"].is_null() { "" } else { " ESCALATED" },
                    a["detail"].as_str().unwrap_or(""),
                )
            })
            .collect();
        if lines.is_empty() { "no alerts".into() } else { lines.join("\n") }
    });
    Ok(())
}

/// `civic supervision ack` / `resolve`.
pub fn step(ctx: &Ctx, alert: &str, note: &str, resolve: bool) -> Result<()> {
    let call = if resolve {
        S::ResolveAlert { alert_id: alert.into(), note: note.into() }
    } else {
        S::AcknowledgeAlert { alert_id: alert.into(), note: note.into() }
    };
    submit(ctx, &call)
}

/// `civic supervision positions`.
pub fn positions(ctx: &Ctx, device: &str, from: Option<&str>, to: Option<&str>) -> Result<()> {
    let mut q = vec!["limit=10000".to_owned()];
    if let Some(f) = from {
        q.push(format!("from={}", parse_time("--from", f)?.get()));
    }
    if let Some(t) = to {
        q.push(format!("to={}", parse_time("--to", t)?.get()));
    }
    let v = signed_get(ctx, &format!("/v1/supervision/devices/{device}/positions?{}", q.join("&")))?;
    ctx.print(&v, || {
        v["positions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                format!(
                    "#{:<8} {}  {:>10.6} {:>11.6}  {}  {:>6} km/h  battery {}  {}",
                    p["id"],
                    p["fix_time_ms"].as_u64().map(time).unwrap_or_default(),
                    p["lat"].as_f64().unwrap_or(0.0),
                    p["lon"].as_f64().unwrap_or(0.0),
                    if p["valid"] == true { "A" } else { "V" },
                    p["speed_kmh"].as_f64().map_or("-".into(), |s| format!("{s:.1}")),
                    p["battery_pct"].as_u64().map_or("-".into(), |b| format!("{b}%")),
                    p["alarms"]
                        .as_array()
                        .map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(","))
                        .unwrap_or_default(),
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}

/// `civic supervision proof`: fetches a position's proof and checks it against the anchor the
/// chain holds (read separately from the state endpoint), exiting 1 if it does not hold.
pub fn proof(ctx: &Ctx, id: u64) -> Result<()> {
    let v = signed_get(ctx, &format!("/v1/supervision/positions/{id}/proof"))?;
    if v["proof"].is_null() || v["anchor_state_key"].is_null() {
        bail!("position {id} is not anchored yet (its batch closes within a second); try again");
    }
    let proof: PositionProof =
        serde_json::from_value(v["proof"].clone()).context("unexpected proof shape")?;
    let key = v["anchor_state_key"].as_str().unwrap_or_default();
    let state: Value = ctx.client().get(&format!("/v1/state/{key}"))?;
    let anchor: Anchor = serde_json::from_value(state["value"].clone())
        .or_else(|_| serde_json::from_value(v["anchor"].clone()))
        .context("the anchor is not on chain yet; try again in a moment")?;
    let position = proof.verify(&anchor).map_err(|e| anyhow!("the proof does NOT hold: {e}"))?;
    let out = serde_json::json!({ "valid": true, "position": v["position"], "batch": anchor.batch, "root": anchor.root, "anchored_at_height": anchor.height });
    ctx.print(&out, || {
        format!(
            "position #{} of {} at {} ({:.6}, {:.6}) is untampered: leaf {} is in batch {} of {} (root {}), anchored by {} at height {}",
            position.seq,
            position.device,
            time(position.fix_time.get()),
            position.lat(),
            position.lon(),
            proof.leaf_hash,
            anchor.batch,
            anchor.gateway,
            anchor.root,
            anchor.gateway,
            anchor.height
        )
    });
    Ok(())
}

/// `civic supervision day`.
pub fn day(ctx: &Ctx, case: &str, date: &str) -> Result<()> {
    let v = signed_get(ctx, &format!("/v1/supervision/cases/{case}/days/{date}"))?;
    ctx.print(&v, || {
        let mut out = format!(
            "{case} on {date} ({}): {} fixes, {:.0} m travelled, compliance {}\n  violations {} ({} min), data gaps {} ({} min)\n",
            v["time_zone"].as_str().unwrap_or(""),
            v["fixes"],
            v["distance_m"].as_f64().unwrap_or(0.0),
            v["compliance_ratio"].as_f64().map_or("n/a".into(), |r| format!("{:.1}%", r * 100.0)),
            v["violations"]["count"],
            v["violations"]["total_ms"].as_u64().unwrap_or(0) / 60_000,
            v["gaps"]["count"],
            v["gaps"]["total_ms"].as_u64().unwrap_or(0) / 60_000,
        );
        for z in v["zones"].as_array().into_iter().flatten() {
            out.push_str(&format!(
                "  in {:<28} {} min\n",
                z["name"].as_str().unwrap_or(""),
                z["inside_ms"].as_u64().unwrap_or(0) / 60_000
            ));
        }
        for g in v["guidance"].as_array().into_iter().flatten() {
            out.push_str(&format!("  guidance: {}\n", g["text"].as_str().unwrap_or("")));
        }
        out.trim_end().to_owned()
    });
    Ok(())
}

/// What `simulate` replays.
pub struct Simulation<'a> {
    pub device: &'a str,
    pub protocol: &'a str,
    pub gateway: &'a str,
    pub from: (f64, f64),
    pub heading_deg: f64,
    pub step_m: f64,
    pub steps: u32,
    pub interval: Duration,
    pub strap_removed: bool,
}

/// One position as a wristband sends it over the watch protocol.
pub(crate) struct WatchFix {
    /// Fix time, Unix milliseconds (the frame carries whole seconds).
    pub time_ms: u64,
    pub lat: f64,
    pub lon: f64,
    pub speed_kmh: f64,
    pub course_deg: f64,
    pub battery_pct: u32,
    pub steps: u32,
    /// Sends an `AL` alarm frame with the strap-removed status bit instead of a `UD` position.
    pub strap_removed: bool,
}

impl WatchFix {
    /// The `[3G*device*LLLL*UD,…]` (or `AL`) frame of this fix, valid (`A`) and escaped.
    pub fn frame(&self, device: &str) -> Vec<u8> {
        let (date, tod) = watch::date_time_fields(self.time_ms);
        let (kind, status) = if self.strap_removed { ("AL", "00100000") } else { ("UD", "00000000") };
        let content = format!(
            "{kind},{date},{tod},A,{:.6},{},{:.6},{},{:.1},{:.0},50,9,100,{},{},0,{status}",
            self.lat.abs(),
            if self.lat >= 0.0 { 'N' } else { 'S' },
            self.lon.abs(),
            if self.lon >= 0.0 { 'E' } else { 'W' },
            self.speed_kmh,
            self.course_deg,
            self.battery_pct,
            self.steps
        );
        watch::encode("3G", device, None, content.as_bytes())
    }
}

/// Seconds between the walk's fix times: 30 (a walking pace), or fewer (down to 3) when the
/// device's case got its current zones too recently for the walk to fit after them, so the
/// daily summary, which judges each fix by the zones in force at its time, covers the whole
/// walk. Read from the node's API; if that is unreachable the pace stays 30 s.
fn fix_spacing_s(ctx: &Ctx, device: &str, steps: u32, now_s: u64) -> u64 {
    let zones_since_s = || -> Result<Option<u64>> {
        let client = ctx.client();
        let devices = client.get_all("/v1/supervision/devices", "devices", None)?;
        let case = devices
            .iter()
            .find(|d| d["device_id"] == device)
            .and_then(|d| d["case_id"].as_str().map(str::to_owned));
        let Some(case) = case else { return Ok(None) };
        let case: Value = client.get(&format!("/v1/supervision/cases/{case}"))?;
        let zones = case["zones"].as_array().cloned().unwrap_or_default();
        Ok(zones.iter().filter_map(|z| z["time"].as_u64()).max().map(|ms| ms / 1000 + 1))
    };
    match zones_since_s() {
        Ok(Some(since)) => (now_s.saturating_sub(since) / u64::from(steps.max(1))).clamp(3, 30),
        _ => 30,
    }
}

/// `civic supervision simulate`: walks a straight track from `from` along `heading_deg`, one fix
/// per step, through the real gateway port; with a realistic pace (fix times 30 s apart, ending
/// now; closer together on a case whose zones are younger than that, see [`fix_spacing_s`]),
/// and optionally removes the strap at the end.
pub fn simulate(ctx: &Ctx, s: Simulation<'_>) -> Result<()> {
    let now = civic_node::now_ms().get() / 1000;
    let spacing = fix_spacing_s(ctx, s.device, s.steps, now);
    let (lat0, lon0) = s.from;
    let rad = s.heading_deg.to_radians();
    let mut conn = match s.protocol {
        "watch" => Some(
            std::net::TcpStream::connect(s.gateway)
                .with_context(|| format!("connecting to the watch gateway at {}", s.gateway))?,
        ),
        "osmand" => None,
        p => bail!("unknown protocol {p:?}: use watch or osmand"),
    };
    if let Some(c) = conn.as_mut() {
        c.set_read_timeout(Some(Duration::from_secs(5)))?;
        c.write_all(&watch::encode("3G", s.device, None, b"LK,0,0,90"))?;
        let mut buf = [0u8; 256];
        let n = c.read(&mut buf).unwrap_or(0);
        if n == 0 {
            bail!(
                "the gateway closed the connection: is device {} registered and bound to a case?",
                s.device
            );
        }
    }
    let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
    for i in 0..=s.steps {
        let d = s.step_m * f64::from(i);
        let lat = lat0 + d * rad.cos() / 110_574.0;
        let lon = lon0 + d * rad.sin() / (111_320.0 * lat0.to_radians().cos());
        let t = now - u64::from(s.steps - i) * spacing;
        let last = i == s.steps;
        match conn.as_mut() {
            Some(c) => {
                let fix = WatchFix {
                    time_ms: t * 1000,
                    lat,
                    lon,
                    speed_kmh: s.step_m / spacing as f64 * 3.6,
                    course_deg: s.heading_deg,
                    battery_pct: 90u32.saturating_sub(i),
                    steps: i * 40,
                    strap_removed: last && s.strap_removed,
                };
                c.write_all(&fix.frame(s.device))?;
            }
            None => {
                let url = format!(
                    "http://{}/?id={}&lat={lat:.6}&lon={lon:.6}&timestamp={t}&speed={:.2}&bearing={}&batt={}{}",
                    s.gateway,
                    s.device,
                    s.step_m / spacing as f64 * 1.943_844,
                    s.heading_deg,
                    90u32.saturating_sub(i),
                    if last && s.strap_removed { "&alarm=tampering" } else { "" }
                );
                let mut r = agent
                    .get(&url)
                    .call()
                    .with_context(|| format!("reaching the OsmAnd gateway at {}", s.gateway))?;
                if r.status().as_u16() != 200 {
                    bail!(
                        "the gateway refused the report: {}",
                        r.body_mut().read_to_string().unwrap_or_default().trim()
                    );
                }
            }
        }
        if !ctx.json {
            println!("fix {i:>3}: {lat:.6}, {lon:.6}  ({d:.0} m from the start)");
        }
        std::thread::sleep(s.interval);
    }
    println!("sent {} fixes for {} over {}", s.steps + 1, s.device, s.protocol);
    Ok(())
}
