//! Supervision end to end with the real binary: a case with a zone and a phone, OsmAnd reports
//! and watch frames over the real gateway ports, positions and their anchoring proofs, exactly
//! one zone-exit alert on the API and on SSE, acknowledge and resolve, a strap-removal tamper
//! alert, garbage on the ports not disturbing other devices, and a gone-dark alert from silence.

#![allow(clippy::disallowed_methods)] // an end-to-end test reads the wall clock for fix times and deadlines

mod harness;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use civic_devices::watch;
use civic_supervision::engine::AlertKind;
use civic_supervision::module::{Anchor, Protocol, SupervisionCall as S};
use civic_supervision::position::{PositionProof, to_e7};
use civic_supervision::zone::{Shape, ZoneKind, ZoneSpec};
use civic_types::{AccountId, UnixMillis};
use harness::*;
use serde_json::Value;

const CASE: &str = "E2E-CASE-1";
const PHONE: &str = "e2e-phone-1";
const HOME: (f64, f64) = (31.2304, 121.4737);

fn now_s() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn osmand(node: &DevNode, query: &str) -> (u16, String) {
    let mut resp = agent().get(format!("http://{}/?{query}", node.osmand)).call().expect("osmand");
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_to_string().unwrap_or_default())
}

fn alerts(node: &DevNode, query: &str) -> Vec<Value> {
    let (s, v) = node.get(&format!("/v1/supervision/alerts?{query}"));
    assert_eq!(s, 200, "{v}");
    v["alerts"].as_array().cloned().unwrap_or_default()
}

fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(t) = f() {
            return t;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn commit(node: &DevNode, account: &str, call: &S) {
    let (s, v) = node.submit_wait(&node.sign(account, call));
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["receipt"]["status"], "ok", "{call:?}: {v}");
}

/// Reads the SSE stream into a channel of lines.
fn sse(node: &DevNode) -> mpsc::Receiver<String> {
    let addr = node.url.trim_start_matches("http://").to_owned();
    let mut s = TcpStream::connect(&addr).expect("connect");
    write!(s, "GET /v1/events HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n").unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(s).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn watch_frame(device: &str, content: &str) -> Vec<u8> {
    watch::encode("3G", device, None, content.as_bytes())
}

/// A watch position content at `(lat, lon)` now, with status word `status`.
fn ud(kind: &str, lat: f64, lon: f64, status: &str) -> String {
    let (d, tm) = watch::date_time_fields(now_s() * 1000);
    format!("{kind},{d},{tm},A,{lat:.6},N,{lon:.6},E,0.0,0,50,8,90,77,1000,0,{status}")
}

fn read_some(s: &mut TcpStream) -> Vec<u8> {
    let mut buf = vec![0u8; 1024];
    match s.read(&mut buf) {
        Ok(n) => buf[..n].to_vec(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn wristbands_and_phones_walk_out_and_officers_see_it() {
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(tmp.path(), &["--tick-secs", "1"]);
    let officer = AccountId::new("justice/officer").unwrap();

    // A case with a 300 m home zone, a phone bound to it; gone dark after one minute.
    let start = UnixMillis::new(now_s() * 1000 - 86_400_000);
    commit(
        &node,
        "justice/officer",
        &S::OpenCase {
            case_id: CASE.into(),
            subject: "internal:E2E-0001".into(),
            legal_basis: "Test court order 1".into(),
            term_start: start,
            term_end: UnixMillis::new(start.get() + 365 * 86_400_000),
            officer: officer.clone(),
            time_zone: "Asia/Shanghai".into(),
            escalation_minutes: 60,
            gone_dark_minutes: 1,
            offline_minutes: 60,
        },
    );
    commit(
        &node,
        "justice/officer",
        &S::RegisterDevice {
            device_id: PHONE.into(),
            protocol: Protocol::Osmand,
            label: "test phone".into(),
        },
    );
    commit(
        &node,
        "justice/officer",
        &S::SetZone {
            case_id: CASE.into(),
            zone_id: "home".into(),
            spec: ZoneSpec {
                name: "Home".into(),
                kind: ZoneKind::Inclusion,
                shape: Shape::Circle { lat_e7: to_e7(HOME.0), lon_e7: to_e7(HOME.1), radius_m: 300 },
                buffer_m: 25,
                schedule: None,
            },
        },
    );
    commit(&node, "justice/officer", &S::BindDevice { device_id: PHONE.into(), case_id: CASE.into() });
    let (s, case) = node.get(&format!("/v1/supervision/cases/{CASE}"));
    assert_eq!(s, 200, "{case}");
    assert_eq!(case["case"]["device"], PHONE);
    assert_eq!(case["zones"][0]["zone_id"], "home");
    let (_, devices) = node.get("/v1/supervision/devices");
    assert!(
        devices["devices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["device_id"] == PHONE && d["protocol"] == "osmand")
    );
    // Paged one at a time, the pages add up to the whole list.
    let all: Vec<Value> = devices["devices"].as_array().unwrap().clone();
    let (mut paged, mut after) = (Vec::new(), String::new());
    loop {
        let (s, page) = node.get(&format!("/v1/supervision/devices?limit=1{after}"));
        assert_eq!(s, 200, "{page}");
        paged.extend(page["devices"].as_array().unwrap().iter().map(|d| d["device_id"].clone()));
        match page["next"].as_str() {
            Some(n) => after = format!("&after={n}"),
            None => break,
        }
    }
    assert_eq!(paged, all.iter().map(|d| d["device_id"].clone()).collect::<Vec<_>>());
    assert!(paged.len() >= 3, "{paged:?}");
    let (s, _) = node.get("/v1/supervision/devices?after=");
    assert_eq!(s, 400);

    // Unknown device and malformed reports: 400 with a reason.
    let (s, body) = osmand(&node, &format!("id=nobody&lat=31.2&lon=121.4&timestamp={}", now_s()));
    assert_eq!(s, 400);
    assert!(body.contains("not registered"), "{body}");
    let (s, body) = osmand(&node, &format!("id={PHONE}&lat=91&lon=121.4&timestamp={}", now_s()));
    assert_eq!(s, 400);
    assert!(body.contains("lat"), "{body}");

    // Positions inside the zone, both parameter spellings. The zone is on chain already, so the
    // day summary judges these fixes and the walk below by it (it judges each fix by the zone
    // versions in force at its time). The walk's fix times run a few seconds ahead of the wall
    // clock (the engine reads them as their receipt time); by the time the summary is asked
    // for, after the gone-dark minute, they are all in the past.
    let t0 = now_s();
    let (s, body) =
        osmand(&node, &format!("id={PHONE}&lat={}&lon={}&timestamp={t0}&speed=1.5&batt=88", HOME.0, HOME.1));
    assert_eq!(s, 200, "{body}");
    let (s, _) = osmand(
        &node,
        &format!("deviceid={PHONE}&location={},{}&timestamp={}", HOME.0 + 0.001, HOME.1, t0 + 1),
    );
    assert_eq!(s, 200);

    // Positions are for the case's organization (signed) only.
    let path = format!("/v1/supervision/devices/{PHONE}/positions?from={}", (t0 - 10) * 1000);
    let (s, _) = node.get(&path);
    assert_eq!(s, 401);
    let (s, _) = node.signed_get(&path, "city-bank/verifier");
    assert_eq!(s, 403);
    let (s, v) = node.signed_get(&path, "justice/officer");
    assert_eq!(s, 200, "{v}");
    let ps = v["positions"].as_array().unwrap().clone();
    assert_eq!(ps.len(), 2, "{v}");
    assert!((ps[0]["lat"].as_f64().unwrap() - HOME.0).abs() < 1e-6);
    assert_eq!(ps[0]["fix_time_ms"], t0 * 1000);
    assert_eq!(ps[0]["valid"], true);
    assert_eq!(ps[0]["battery_pct"], 88);
    assert!((ps[0]["speed_kmh"].as_f64().unwrap() - 1.5 * 1.852).abs() < 0.1, "{}", ps[0]);

    // Walk out: 667 m north (the zone is 300 m), four fixes (k = 3): exactly one alert, on SSE too.
    let events = sse(&node);
    for i in 0..4 {
        let (s, _) = osmand(
            &node,
            &format!("id={PHONE}&lat={}&lon={}&timestamp={}", HOME.0 + 0.006, HOME.1, t0 + 15 + i),
        );
        assert_eq!(s, 200);
    }
    let alert = wait_for("the zone exit alert", 30, || {
        let a = alerts(&node, &format!("case={CASE}&kind=zone_exit"));
        (!a.is_empty()).then(|| a[0].clone())
    });
    let seen = wait_for("the alert on SSE", 30, || {
        loop {
            match events.try_recv() {
                Ok(line) if line.contains("alert_raised") && line.contains(CASE) => return Some(line),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
    });
    assert!(seen.contains("zone_exit"), "{seen}");
    assert_eq!(alert["state"], "open");
    assert_eq!(alert["zone"], "home");
    assert_eq!(alert["positions"].as_array().unwrap().len(), 3);
    assert!(alert["detail"].as_str().unwrap().contains("Home"), "{alert}");
    // More violating fixes while it is open raise nothing new.
    for i in 0..4 {
        osmand(&node, &format!("id={PHONE}&lat={}&lon={}&timestamp={}", HOME.0 + 0.006, HOME.1, t0 + 20 + i));
    }
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(alerts(&node, &format!("case={CASE}&kind=zone_exit")).len(), 1);

    // The officer acknowledges and resolves it.
    let id = alert["alert_id"].as_str().unwrap().to_owned();
    commit(
        &node,
        "justice/officer",
        &S::AcknowledgeAlert { alert_id: id.clone(), note: "calling the subject".into() },
    );
    assert_eq!(alerts(&node, &format!("case={CASE}&state=acknowledged")).len(), 1);
    commit(
        &node,
        "justice/officer",
        &S::ResolveAlert { alert_id: id.clone(), note: "back home, visit booked".into() },
    );
    let resolved = alerts(&node, &format!("case={CASE}&state=resolved"));
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0]["resolved"]["by"], "justice/officer");
    assert_eq!(resolved[0]["resolved"]["note"], "back home, visit booked");
    // Another organization's officer cannot touch it.
    let (_, v) = node.submit_wait(
        &node
            .sign("public-security/officer", &S::AcknowledgeAlert { alert_id: id.clone(), note: "x".into() }),
    );
    assert_eq!(v["receipt"]["status"], "rejected", "{v}");

    // The anchoring proof of the first position verifies against the anchor on chain.
    let first = ps[0]["id"].as_u64().unwrap();
    let proven = wait_for("the anchor", 30, || {
        let (s, v) = node.signed_get(&format!("/v1/supervision/positions/{first}/proof"), "justice/officer");
        assert_eq!(s, 200, "{v}");
        (!v["anchor"].is_null()).then_some(v)
    });
    let proof: PositionProof = serde_json::from_value(proven["proof"].clone()).unwrap();
    let anchor: Anchor = serde_json::from_value(proven["anchor"].clone()).unwrap();
    let position = proof.verify(&anchor).expect("the proof verifies");
    assert_eq!(position.seq, first);
    assert_eq!(position.device, PHONE);
    let (s, _) = node.get(&format!("/v1/state/{}", proven["anchor_state_key"].as_str().unwrap()));
    assert_eq!(s, 200);
    let mut forged = proof.clone();
    forged.position_bcs = hex::encode({
        let mut p = position.clone();
        p.lat_e7 += 10;
        p.to_bytes()
    });
    assert!(forged.verify(&anchor).is_err());
    let (s, _) = node.signed_get("/v1/supervision/positions/notanumber/proof", "justice/officer");
    assert_eq!(s, 400);

    // The demo wristband over the watch protocol: heartbeat answered, position stored, strap
    // removal raises a tamper alert; garbage on another connection disturbs nothing.
    let band = civic_node::devnet::DEMO_DEVICES[0];
    let (home_lat, home_lon) = civic_node::devnet::DEMO_HOME;
    let mut conn = TcpStream::connect(&node.watch).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    conn.write_all(&watch_frame(band, "LK,120,0,77")).unwrap();
    let reply = read_some(&mut conn);
    assert!(String::from_utf8_lossy(&reply).contains("*LK]"), "{:?}", String::from_utf8_lossy(&reply));
    let mut junk = TcpStream::connect(&node.watch).unwrap();
    junk.write_all(b"\x00\xff[[[garbage*]]]*** [3G*123*zz*]\r\n").unwrap();
    junk.write_all(&[0x5b; 5000]).unwrap();
    conn.write_all(&watch_frame(band, &ud("UD", home_lat, home_lon, "00000000"))).unwrap();
    conn.write_all(&watch_frame(band, &ud("AL", home_lat, home_lon, "00100000"))).unwrap();
    let reply = read_some(&mut conn);
    assert!(String::from_utf8_lossy(&reply).contains("*AL]"), "{:?}", String::from_utf8_lossy(&reply));
    let case1 = civic_node::devnet::DEMO_CASES[0];
    let tamper = wait_for("the tamper alert", 30, || {
        let a = alerts(&node, &format!("case={case1}&kind=tamper"));
        (!a.is_empty()).then(|| a[0].clone())
    });
    assert_eq!(tamper["kind"], AlertKind::Tamper.as_str());
    let (s, v) = node.signed_get(&format!("/v1/supervision/devices/{band}/positions"), "justice/officer");
    assert_eq!(s, 200);
    assert_eq!(v["positions"].as_array().unwrap().len(), 2, "{v}");
    // The heartbeat still works after the garbage, and OsmAnd garbage is a 400.
    conn.write_all(&watch_frame(band, "LK")).unwrap();
    assert!(String::from_utf8_lossy(&read_some(&mut conn)).contains("*LK]"));
    let (s, _) = osmand(&node, "%%%=%%%&id");
    assert_eq!(s, 400);
    // A frame from an unknown device closes its connection.
    let mut stranger = TcpStream::connect(&node.watch).unwrap();
    stranger.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stranger.write_all(&watch_frame("999999", "LK")).unwrap();
    assert!(read_some(&mut stranger).is_empty());
    let (s, status) = node.get("/v1/status");
    assert_eq!(s, 200, "{status}");
    // The gateway's counters are on /metrics for the operators.
    let metrics = node.text("/metrics");
    let counter = |name: &str| -> u64 {
        let line =
            metrics.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{name} in {metrics}"));
        line.rsplit(' ').next().and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{line}"))
    };
    assert!(counter("civic_gateway_positions_total") >= 10, "{metrics}");
    assert!(counter("civic_gateway_malformed_total") >= 1, "{metrics}");
    assert!(counter("civic_gateway_refused_total") >= 2, "{metrics}");
    assert!(counter("civic_gateway_alerts_total") >= 2, "{metrics}");

    // Silence: no valid position for a minute raises "gone dark" on the test case.
    let dark = wait_for("the gone-dark alert", 120, || {
        let a = alerts(&node, &format!("case={CASE}&kind=gone_dark"));
        (!a.is_empty()).then(|| a[0].clone())
    });
    assert_eq!(dark["state"], "open");

    // The day's summary: distance walked, time in the zone, a violation.
    let date = {
        let (_, v) = node.signed_get(
            &format!("/v1/supervision/devices/{PHONE}/positions?from={}", (t0 - 10) * 1000),
            "justice/officer",
        );
        let t = v["positions"][0]["fix_time_ms"].as_u64().unwrap() / 1000 + 8 * 3600;
        let out = std::process::Command::new("date")
            .args(["-u", "-d", &format!("@{t}"), "+%Y-%m-%d"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let (s, day) = node.signed_get(&format!("/v1/supervision/cases/{CASE}/days/{date}"), "justice/officer");
    assert_eq!(s, 200, "{day}");
    let (_, walked) = node.signed_get(
        &format!("/v1/supervision/devices/{PHONE}/positions?from={}", (t0 - 10) * 1000),
        "justice/officer",
    );
    assert!(day["distance_m"].as_f64().unwrap() > 500.0, "{day}\n{walked}");
    assert!(day["violations"]["count"].as_u64().unwrap() >= 1, "{day}");
    assert!(!day["guidance"].as_array().unwrap().is_empty(), "{day}");
    let (s, _) = node.signed_get(&format!("/v1/supervision/cases/{CASE}/days/2026-13-45"), "justice/officer");
    assert_eq!(s, 400);
    node.stop();
}
