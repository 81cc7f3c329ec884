//! `civic bench ingest`: wristband positions per second through the real watch-protocol TCP
//! gateway of a fresh dev network — framed, decoded, durably stored, evaluated against every
//! zone of a city's worth of cases (≥ 10,000 zones in one R-tree), and anchored on chain —
//! reported beside two limits of this machine measured in the same run: decoding alone on all
//! cores, and geofence evaluation alone on one core (the gateway's worker is one thread).
//!
//! The workload is checked, not just timed: every position must be stored, the one planted
//! exclusion-zone entry must raise exactly one `zone_entry` alert and nothing else may raise
//! any, and a stored position's RFC 6962 proof must verify against its on-chain anchor.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use civic_devices::watch::{self, FrameReader};
use civic_ledger::{Call, SignedTx, Transaction};
use civic_node::Node;
use civic_node::supervision::{Supervisor, SupervisorConfig};
use civic_supervision::engine::{AlertKind, CaseRules, CaseZone, Engine, EngineConfig, Fix};
use civic_supervision::module::{Alert, Protocol, SupervisionCall as S, keys};
use civic_supervision::zone::{Schedule, Shape, Weekday, Window, ZoneKind, ZoneSpec};
use civic_types::{AccountId, Hash32, Nonce, UnixMillis};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{DevBench, bar, commit_all, fresh_dev_network, run_for, threads};
use crate::supervision::WatchFix;
use civic_node::now_ms;

/// Options of `civic bench ingest`.
#[derive(clap::Args)]
pub struct IngestBenchArgs {
    /// Wristbands, each on its own case and its own TCP connection.
    #[arg(long, default_value_t = 1_000)]
    pub devices: usize,
    /// Zones per case: a district to stay in, a home with a curfew, and exclusion zones (at
    /// least 3). Devices × zones per case is the size of the engine's R-tree.
    #[arg(long, default_value_t = 10)]
    pub zones_per_case: usize,
    /// Positions each wristband sends (one fix per second of its track).
    #[arg(long, default_value_t = 2_000)]
    pub reports: usize,
    /// Seconds each machine-limit measurement runs.
    #[arg(long, default_value_t = 3)]
    pub limit_seconds: u64,
    /// Reports queued in front of the gateway's worker; beyond it, connections are slowed down
    /// (backpressure) and nothing may be lost.
    #[arg(long, default_value_t = SupervisorConfig::default().queue)]
    pub queue: usize,
    /// Embedded store of the benchmarked node.
    #[arg(long, value_enum, default_value = "fjall")]
    pub store: crate::run::Backend,
}

/// DESIGN.md §5: positions per second a node's gateway must ingest and evaluate.
const INGEST_TARGET_PER_S: f64 = 50_000.0;
/// DESIGN.md §5: the zone count that rate is measured against.
const INGEST_TARGET_ZONES: usize = 10_000;
/// Case setup transactions per submitted batch.
const SETUP_BATCH: usize = 500;
/// Metres per degree of latitude.
const M_PER_DEG: f64 = 111_320.0;
/// A district's half side, degrees; districts of neighbouring cases overlap.
const DISTRICT_HALF: f64 = 0.02;
/// Wristbands walk inside this half side around their home, degrees.
const WALK_HALF: f64 = 0.008;
/// Exclusion zones sit on a ring of this radius around home, degrees.
const RING: f64 = 0.016;
/// Exclusion zones' radius, metres.
const EXCLUSION_M: u32 = 200;
/// Zone tolerance buffer, metres.
const BUFFER_M: u32 = 25;

fn case_id(i: usize) -> String {
    format!("BENCH-{i:05}")
}

fn device_id(i: usize) -> String {
    format!("88{i:08}")
}

/// Centre (home) of case `i`: a grid over a city, 0.015° apart, so each point lies in up to
/// four cases' districts.
fn home(i: usize) -> (f64, f64) {
    (39.70 + (i / 40) as f64 * 0.015, 116.10 + (i % 40) as f64 * 0.015)
}

fn exclusion_centre(i: usize, n: usize, of: usize) -> (f64, f64) {
    let (lat, lon) = home(i);
    let a = std::f64::consts::TAU * n as f64 / of as f64;
    (lat + RING * a.cos(), lon + RING * a.sin())
}

fn e7(v: f64) -> i32 {
    civic_supervision::position::to_e7(v)
}

/// The zones of case `i`: `district` (inclusion polygon), `home` (inclusion circle under a
/// nightly curfew window that does not cover `now`), then `x0`, `x1`, … (exclusion circles).
fn zones(i: usize, per_case: usize, curfew: &Window) -> Vec<(String, ZoneSpec)> {
    let (lat, lon) = home(i);
    let (s, n, w, e) = (lat - DISTRICT_HALF, lat + DISTRICT_HALF, lon - DISTRICT_HALF, lon + DISTRICT_HALF);
    let district = format!(
        r#"{{"type":"Polygon","coordinates":[[[{w},{s}],[{e},{s}],[{e},{n}],[{w},{n}],[{w},{s}]]]}}"#
    );
    let mut out = vec![
        (
            "district".to_owned(),
            ZoneSpec {
                name: "District of residence".into(),
                kind: ZoneKind::Inclusion,
                shape: Shape::GeoJson { geometry: district },
                buffer_m: BUFFER_M,
                schedule: None,
            },
        ),
        (
            "home".to_owned(),
            ZoneSpec {
                name: "Home (curfew)".into(),
                kind: ZoneKind::Inclusion,
                shape: Shape::Circle { lat_e7: e7(lat), lon_e7: e7(lon), radius_m: 150 },
                buffer_m: BUFFER_M,
                schedule: Some(Schedule { windows: vec![curfew.clone()] }),
            },
        ),
    ];
    let exclusions = per_case - 2;
    for n in 0..exclusions {
        let (xl, xo) = exclusion_centre(i, n, exclusions);
        out.push((
            format!("x{n}"),
            ZoneSpec {
                name: format!("Exclusion {n}"),
                kind: ZoneKind::Exclusion,
                shape: Shape::Circle { lat_e7: e7(xl), lon_e7: e7(xo), radius_m: EXCLUSION_M },
                buffer_m: BUFFER_M,
                schedule: None,
            },
        ));
    }
    out
}

/// A two-hour nightly window starting three hours after the local time of `now`, so the
/// curfew is part of every evaluation but no fix of the run falls inside it.
fn curfew_not_covering(now: UnixMillis, time_zone: &str) -> Result<Window> {
    let local = civic_supervision::zone::local_time_in(now, time_zone)?;
    let minute = u16::try_from(i32::from(local.hour()) * 60 + i32::from(local.minute()))?;
    let start = (minute + 180) % 1440;
    use Weekday::*;
    Ok(Window { days: vec![Mon, Tue, Wed, Thu, Fri, Sat, Sun], start, end: (start + 120) % 1440 })
}

/// A deterministic generator (SplitMix64) for the tracks.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// Device `i`'s track: one fix per second ending at `end_s`, a walk at 1.4 m/s with a wandering
/// heading, kept inside the walking square (so inside the district and away from exclusion
/// zones). Device 0's last five fixes stand inside exclusion zone `x0`: the planted violation.
fn track(i: usize, reports: usize, end_s: u64) -> Vec<WatchFix> {
    let (lat0, lon0) = home(i);
    let lon_scale = lat0.to_radians().cos();
    let mut rng = Rng(i as u64 ^ 0xc1c1_c1c1);
    let (mut lat, mut lon) = (lat0, lon0);
    let mut heading = rng.unit() * std::f64::consts::PI;
    (0..reports)
        .map(|j| {
            heading += rng.unit() * 0.5;
            let (dn, de) = (1.4 * heading.cos(), 1.4 * heading.sin());
            lat += dn / M_PER_DEG;
            lon += de / (M_PER_DEG * lon_scale);
            if (lat - lat0).abs() > WALK_HALF || (lon - lon0).abs() > WALK_HALF {
                // Turn back towards home.
                lat = lat.clamp(lat0 - WALK_HALF, lat0 + WALK_HALF);
                lon = lon.clamp(lon0 - WALK_HALF, lon0 + WALK_HALF);
                heading += std::f64::consts::PI;
            }
            let (mut fl, mut fo) = (lat, lon);
            if i == 0 && j + 5 >= reports {
                (fl, fo) = exclusion_centre(0, 0, 1);
            }
            WatchFix {
                time_ms: (end_s + 1 + j as u64 - reports as u64) * 1000,
                lat: fl,
                lon: fo,
                speed_kmh: 5.0,
                course_deg: heading.to_degrees().rem_euclid(360.0),
                battery_pct: 90,
                steps: j as u32,
                strap_removed: false,
            }
        })
        .collect()
}

/// Officer transactions that open the cases, register and bind the wristbands and set zones.
fn setup_txs(
    dev: &civic_node::devnet::DevNet,
    node: &Node,
    args: &IngestBenchArgs,
    curfew: &Window,
) -> Result<Vec<SignedTx>> {
    let officer = AccountId::new("justice/officer")?;
    let key = dev.keys.get(&officer).context("the dev network has no justice/officer key")?;
    let start = dev.genesis.genesis_time;
    let mut nonce = node.next_nonce(&officer)?.get();
    let mut txs = Vec::with_capacity(args.devices * (args.zones_per_case + 3));
    let mut push = |call: S| {
        txs.push(
            Transaction {
                chain_id: dev.genesis.chain_id.clone(),
                signer: officer.clone(),
                nonce: Nonce::new(nonce),
                call: Call::new(&call),
            }
            .sign(key),
        );
        nonce += 1;
    };
    for i in 0..args.devices {
        push(S::OpenCase {
            case_id: case_id(i),
            subject: format!("internal:BENCH-SUBJECT-{i:05}"),
            legal_basis: format!("Benchmark court order No. {i}"),
            term_start: start,
            term_end: UnixMillis::new(start.get() + 2 * 365 * 24 * 3600 * 1000),
            officer: officer.clone(),
            time_zone: civic_node::devnet::DEMO_TIME_ZONE.into(),
            escalation_minutes: 60,
            gone_dark_minutes: 30,
            offline_minutes: 60,
        });
        push(S::RegisterDevice {
            device_id: device_id(i),
            protocol: Protocol::Watch,
            label: format!("Benchmark wristband {i}"),
        });
        for (zone_id, spec) in zones(i, args.zones_per_case, curfew) {
            push(S::SetZone { case_id: case_id(i), zone_id, spec });
        }
        push(S::BindDevice { device_id: device_id(i), case_id: case_id(i) });
    }
    Ok(txs)
}

/// Frames per second that [`FrameReader`] + [`watch::decode`] get through on `t` threads, over
/// the benchmark's own byte streams read 4 KiB at a time as the listener reads them.
fn decode_limit(streams: &[Vec<u8>], frames_per_stream: usize, t: usize, seconds: u64) -> Result<f64> {
    let n = streams.len();
    let timed = run_for(t, Duration::from_secs(seconds), &|thread, i| {
        let stream = &streams[(thread * n / t + i as usize) % n];
        let mut reader = FrameReader::new();
        let mut decoded = 0;
        for chunk in stream.chunks(4096) {
            reader.push(chunk);
            while let Some(frame) = reader.next_frame() {
                let frame = frame.map_err(|e| e.to_string())?;
                if watch::decode(&frame).map_err(|e| e.to_string())?.is_some() {
                    decoded += 1;
                }
            }
        }
        if decoded == frames_per_stream { Ok(()) } else { Err(format!("decoded {decoded} reports")) }
    });
    if timed.failures > 0 {
        bail!("decoding the benchmark frames failed: {}", timed.first_failure.unwrap_or_default());
    }
    Ok(timed.calls as f64 * frames_per_stream as f64 / timed.seconds)
}

/// Geofence evaluations per second on one thread: an engine holding every case's zones, fed
/// the benchmark's fixes round-robin across devices, as the worker sees them.
fn evaluation_limit(rules: Vec<CaseRules>, tracks: &[Vec<WatchFix>], seconds: u64) -> Result<(f64, usize)> {
    let mut engine = Engine::new(EngineConfig { consecutive_fixes: 3, low_battery_pct: 15 });
    for r in rules {
        let id = r.case_id.clone();
        engine.set_case(r).with_context(|| format!("compiling the zones of {id}"))?;
    }
    let zones = engine.zones();
    // Device 0's planted violation is left out: a raised alert would be deduplicated anyway.
    let ids: Vec<String> = (0..tracks.len()).map(case_id).collect();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let mut evaluations = 0u64;
    'outer: for j in 0.. {
        for (d, track) in tracks.iter().enumerate().skip(1) {
            let f = &track[j % (track.len() - 5)];
            let fix = Fix {
                position: Hash32([0; 32]),
                time: UnixMillis::new(f.time_ms),
                received: UnixMillis::new(f.time_ms),
                lat: f.lat,
                lon: f.lon,
                valid: true,
                battery_pct: Some(90),
                alarms: Vec::new(),
            };
            let drafts = engine.evaluate(&ids[d], &fix);
            if !drafts.is_empty() {
                bail!(
                    "the evaluation-only engine raised {:?} for {}: the workload is not as designed",
                    drafts[0].kind,
                    ids[d]
                );
            }
            evaluations += 1;
            if evaluations.is_multiple_of(4096) && Instant::now() >= deadline {
                break 'outer;
            }
        }
    }
    Ok((evaluations as f64 / start.elapsed().as_secs_f64(), zones))
}

/// What the gateway phase measured.
struct Ingested {
    positions: u64,
    seconds: f64,
}

/// Connects every wristband, logs each in with an `LK` heartbeat (answered once the gateway
/// knows it), then releases all of them at once and measures until every position is stored.
fn flood(
    rt: &tokio::runtime::Runtime,
    sup: &Arc<Supervisor>,
    addr: std::net::SocketAddr,
    streams: Vec<Vec<u8>>,
    expected: u64,
) -> Result<Ingested> {
    let counters = sup.counters();
    let n = streams.len();
    let go = Arc::new(tokio::sync::Barrier::new(n + 1));
    let failed: Arc<std::sync::Mutex<Option<String>>> = Arc::default();
    // Wristbands log in a few hundred at a time, as after a network outage, rather than all
    // in one burst.
    let connecting = Arc::new(tokio::sync::Semaphore::new(256));
    let pb = bar(n, "connecting wristbands");
    let clients: Vec<_> = streams
        .into_iter()
        .enumerate()
        .map(|(i, bytes)| {
            let (go, pb, failed, connecting) = (go.clone(), pb.clone(), failed.clone(), connecting.clone());
            rt.spawn(async move {
                let login = async {
                    let _turn = connecting.acquire().await?;
                    let mut c = tokio::net::TcpStream::connect(addr).await?;
                    c.set_nodelay(true)?;
                    c.write_all(&watch::encode("3G", &device_id(i), None, b"LK,0,0,90")).await?;
                    let mut reply = [0u8; 64];
                    let got = tokio::time::timeout(Duration::from_secs(30), c.read(&mut reply)).await;
                    match got {
                        Ok(Ok(k)) if k > 0 => anyhow::Ok(c),
                        _ => bail!("wristband {} got no LK reply: is it registered and bound?", device_id(i)),
                    }
                };
                let result = login.await;
                if let Err(e) = &result {
                    failed.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(format!("{e:#}"));
                }
                pb.inc(1);
                go.wait().await;
                let mut c = result?;
                c.write_all(&bytes).await?;
                // Hold the connection open until the gateway has read everything.
                let mut rest = Vec::new();
                let _ = tokio::time::timeout(Duration::from_secs(600), c.read_to_end(&mut rest)).await;
                anyhow::Ok(())
            })
        })
        .collect();
    // Only heartbeats have been sent so far, so nothing is stored until the barrier opens; the
    // clock starts when it does (every wristband logged in).
    let base = counters.positions.get();
    rt.block_on(go.wait());
    let start = Instant::now();
    pb.finish_and_clear();
    if let Some(e) = failed.lock().unwrap_or_else(|p| p.into_inner()).take() {
        bail!(
            "a wristband could not log in: {e}. Each wristband holds two sockets in this process; \
             with many, raise the open-file limit (ulimit -n) above twice --devices"
        );
    }
    let pb = bar(expected as usize, "stored positions");
    let mut last = (base, Instant::now());
    loop {
        let now = counters.positions.get();
        pb.set_position(now - base);
        if now - base >= expected {
            break;
        }
        if now != last.0 {
            last = (now, Instant::now());
        } else if last.1.elapsed() > Duration::from_secs(30) {
            bail!(
                "the gateway stored {} of {expected} positions and then stalled for 30 s (refused {}, malformed {})",
                now - base,
                counters.refused.get(),
                counters.malformed.get()
            );
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let seconds = start.elapsed().as_secs_f64();
    pb.finish_and_clear();
    for c in clients {
        c.abort();
    }
    Ok(Ingested { positions: counters.positions.get() - base, seconds })
}

/// Waits up to `within` for `check` to return `Some`.
fn eventually<T>(within: Duration, mut check: impl FnMut() -> Result<Option<T>>) -> Result<Option<T>> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = check()? {
            return Ok(Some(v));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `civic bench ingest`.
pub fn ingest(args: IngestBenchArgs, json_out: bool) -> Result<()> {
    if args.devices == 0 || args.reports < 10 || args.limit_seconds == 0 || args.queue == 0 {
        bail!("--devices, --queue and --limit-seconds must be positive and --reports at least 10");
    }
    if args.zones_per_case < 3 {
        bail!("--zones-per-case must be at least 3 (a district, a home with a curfew, an exclusion zone)");
    }
    let t = threads();
    let DevBench { dev, running, rt, _dir } = fresh_dev_network(args.store)?;
    let node = running.node.clone();

    let now = now_ms();
    let time_zone = civic_node::devnet::DEMO_TIME_ZONE;
    let curfew = curfew_not_covering(now, time_zone)?;
    let txs = setup_txs(&dev, &node, &args, &curfew)?;
    let pb = bar(txs.len(), "setting up cases and zones");
    let mut done = 0;
    let mut txs = txs.into_iter().peekable();
    while txs.peek().is_some() {
        let chunk: Vec<SignedTx> = txs.by_ref().take(SETUP_BATCH).collect();
        done += chunk.len();
        commit_all(&rt, &node, chunk)?;
        pb.set_position(done as u64);
    }
    pb.finish_and_clear();

    eprintln!("generating {} wristband tracks of {} fixes…", args.devices, args.reports);
    let end_s = now.get() / 1000;
    let tracks: Vec<Vec<WatchFix>> = (0..args.devices).map(|i| track(i, args.reports, end_s)).collect();
    let streams: Vec<Vec<u8>> = tracks
        .iter()
        .enumerate()
        .map(|(i, tr)| tr.iter().flat_map(|f| f.frame(&device_id(i))).collect())
        .collect();
    let bytes: usize = streams.iter().map(Vec::len).sum();

    eprintln!("measuring this machine's limits: decoding on {t} threads, geofence evaluation on one…");
    let decode_rate = decode_limit(&streams, args.reports, t, args.limit_seconds)?;
    let rules: Vec<CaseRules> = (0..args.devices)
        .map(|i| CaseRules {
            case_id: case_id(i),
            time_zone: time_zone.into(),
            zones: zones(i, args.zones_per_case, &curfew)
                .into_iter()
                .map(|(zone_id, spec)| CaseZone { zone_id, version: 1, spec })
                .collect(),
            gone_dark_ms: 30 * 60_000,
            offline_ms: 60 * 60_000,
            since: now,
        })
        .collect();
    let (eval_rate, zones_total) = evaluation_limit(rules, &tracks, args.limit_seconds)?;

    let service = crate::run::dev_service_keys(&dev);
    let config = SupervisorConfig { queue: args.queue, ..SupervisorConfig::default() };
    let sup = Supervisor::start(node.clone(), service, config)?;
    let listener = rt.block_on(async { civic_gateway::bind(([127, 0, 0, 1], 0).into()) })?;
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(civic_gateway::watch::serve(
        listener,
        sup.clone(),
        civic_gateway::Limits::default(),
        async {
            let _ = stop_rx.await;
        },
    ));

    let expected = (args.devices * args.reports) as u64;
    eprintln!(
        "{} wristbands streaming {expected} positions ({:.1} MB of frames) into the watch gateway at {addr}…",
        args.devices,
        bytes as f64 / 1e6
    );
    let ingested = flood(&rt, &sup, addr, streams, expected)?;
    let counters = sup.counters();
    let (refused, malformed) = (counters.refused.get(), counters.malformed.get());
    if refused > 0 || malformed > 0 {
        bail!("the gateway refused {refused} reports and counted {malformed} malformed frames");
    }

    // The planted violation: exactly one alert, a zone entry into x0 of case 0.
    let planted =
        eventually(Duration::from_secs(30), || Ok(node.state_value::<Alert>(&keys::alert(&case_id(0), 1))?))?
            .context("the planted exclusion-zone entry raised no alert within 30 s")?;
    if planted.kind != AlertKind::ZoneEntry || planted.zone.as_deref() != Some("x0") {
        bail!(
            "the planted violation raised {} in zone {:?}, not zone_entry in x0",
            planted.kind.as_str(),
            planted.zone
        );
    }
    let alerts = counters.alerts.get();
    if alerts != 1 {
        bail!("the gateway raised {alerts} alerts; the workload plants exactly one");
    }

    // A stored position from the middle of the run, proven against its anchor on chain.
    let sample = sup
        .positions(&device_id(1), UnixMillis::new(0), UnixMillis::new(u64::MAX), args.reports)?
        .get(args.reports / 2)
        .cloned()
        .context("the gateway returned no positions for wristband 1")?;
    let proven = eventually(Duration::from_secs(30), || {
        Ok(sup.proven(sample.seq)?.and_then(|p| Some((p.proof?, p.anchor?))))
    })?
    .context("the sampled position's batch was not anchored on chain within 30 s")?;
    let verified = proven.0.verify(&proven.1).context("the sampled position's proof does not verify")?;
    if verified != sample {
        bail!("the proof verified a different position than the one stored");
    }
    let anchors = counters.anchors.get();

    let _ = stop_tx.send(());
    let _ = rt.block_on(server);
    drop(sup);
    drop(node);
    running.shutdown()?;

    let rate = ingested.positions as f64 / ingested.seconds;
    let met = rate >= INGEST_TARGET_PER_S && zones_total >= INGEST_TARGET_ZONES;
    if json_out {
        let report = json!({
            "machine": { "threads": t,
                         "decode_per_s": decode_rate.round(),
                         "evaluate_one_thread_per_s": eval_rate.round() },
            "workload": { "store": format!("{:?}", args.store), "devices": args.devices, "connections": args.devices,
                          "zones": zones_total, "zones_per_case": args.zones_per_case, "queue": args.queue,
                          "positions": expected, "frame_bytes": bytes, "protocol": "watch (TCP)" },
            "positions_stored": ingested.positions,
            "refused": refused,
            "seconds": ingested.seconds,
            "positions_per_s": rate.round(),
            "fraction_of_decode_limit": rate / decode_rate,
            "fraction_of_evaluation_limit": rate / eval_rate,
            "batches_anchored": anchors,
            "alerts_raised": alerts,
            "planted_alert": planted.alert_id,
            "proof_verified": true,
            "target_per_s": INGEST_TARGET_PER_S,
            "target_zones": INGEST_TARGET_ZONES,
            "target_met": met,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "Position ingestion ({:?}; {} wristbands on as many TCP connections; {} zones in the engine, {} per case; {} positions, {:.1} MB of watch frames):",
        args.store,
        args.devices,
        zones_total,
        args.zones_per_case,
        expected,
        bytes as f64 / 1e6
    );
    println!(
        "  through the watch gateway   {:>9.0}/s  framed, decoded, stored durably, evaluated, anchored ({} batches)",
        rate, anchors
    );
    println!(
        "  decode only (same frames)   {:>9.0}/s on {t} threads   <- ceiling of the listener side",
        decode_rate
    );
    println!(
        "  geofence evaluation only    {:>9.0}/s on 1 thread    <- ceiling of the gateway's single worker",
        eval_rate
    );
    println!("  gateway / decode            {:>9.2}", rate / decode_rate);
    println!(
        "  target (DESIGN.md §5)       {:>9.0}/s against ≥ {} zones  {}",
        INGEST_TARGET_PER_S,
        INGEST_TARGET_ZONES,
        if met { "met" } else { "NOT met" }
    );
    println!(
        "  checks: all {expected} positions stored; the planted exclusion-zone entry raised alert {} (zone_entry, x0) and nothing else raised one; position {} proven against anchor batch {}",
        planted.alert_id, sample.seq, proven.1.batch
    );
    Ok(())
}
