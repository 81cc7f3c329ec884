//! The OsmAnd HTTP protocol as the Traccar Client app sends it: GET query / POST form key-values
//! ([`decode_query`]) and the JSON body of newer Traccar Client versions ([`decode_json`]).
//!
//! What it guarantees: a [`Report`] is returned only with a device id, an in-range position and a
//! timestamp taken from the request (a request without a timestamp is refused, because this
//! crate never reads the clock). Inputs are bounded ([`MAX_CONTENT_BYTES`] of query text,
//! [`MAX_PARAMS`] parameters, [`MAX_JSON_BYTES`] of JSON); every refusal names the parameter.
//! Units follow the protocol as Traccar decodes it: query `speed` is knots, JSON `speed` is m/s;
//! both come out as km/h.
//!
//! Reference read (not copied): Traccar's `OsmAndProtocolDecoder.java` and its test vectors.

use std::collections::BTreeSet;

use serde::Deserialize;

use crate::{
    FieldError, Fix, MAX_CONTENT_BYTES, Report, ReportKind, alarm_from_name, battery_pct, check_device,
    check_lat_lon, parse_f64, position_kind, time::parse_rfc3339,
};

/// Most parameters accepted in one query; Traccar Client sends about a dozen.
pub const MAX_PARAMS: usize = 64;

/// Largest JSON body accepted, in bytes; Traccar Client sends under 1 KiB.
pub const MAX_JSON_BYTES: usize = 16 * 1024;

/// Knots → km/h (1 nautical mile = 1852 m).
const KMH_PER_KNOT: f64 = 1.852;
/// m/s → km/h.
const KMH_PER_MPS: f64 = 3.6;
/// Epoch numbers above this are milliseconds, below it seconds (10^11 s is the year 5138).
const EPOCH_MS_THRESHOLD: u64 = 100_000_000_000;
/// 9999-12-31T23:59:59.999Z, the latest instant the RFC 3339 path accepts too.
const MAX_TIME_MS: u64 = 253_402_300_799_999;

/// Why an OsmAnd request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OsmAndError {
    /// The request is larger than this decoder accepts.
    #[error("request too large: {what} exceeds {limit}; send one position per request")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// The limit.
        limit: usize,
    },
    /// A parameter that must appear once appeared more than once.
    #[error("parameter `{0}` appears more than once; send it once")]
    Duplicate(String),
    /// A parameter is missing or malformed.
    #[error("parameter {0}")]
    Field(#[from] FieldError),
    /// The JSON body does not have the Traccar Client shape.
    #[error("JSON body is not a Traccar Client location: {0}")]
    Json(String),
}

/// Decodes the key-values of an OsmAnd GET query or POST form (already percent-decoded, `+` as
/// space). Recognised keys: `id`/`deviceid`, `lat`+`lon` or `location=lat,lon`, `timestamp`,
/// `valid`, `speed` (knots), `bearing`/`heading`, `altitude`, `accuracy`, `hdop`, `batt`,
/// `charge`, `alarm`. Other keys are ignored. Each recognised key may appear at most once.
pub fn decode_query(params: &[(String, String)]) -> Result<Report, OsmAndError> {
    if params.len() > MAX_PARAMS {
        return Err(OsmAndError::TooLarge { what: "parameter count", limit: MAX_PARAMS });
    }
    let total: usize = params.iter().map(|(k, v)| k.len() + v.len()).sum();
    if total > MAX_CONTENT_BYTES {
        return Err(OsmAndError::TooLarge { what: "query size in bytes", limit: MAX_CONTENT_BYTES });
    }

    let mut seen: BTreeSet<&'static str> = BTreeSet::new();
    let mut device = None;
    let mut lat = None;
    let mut lon = None;
    let mut time_ms = None;
    let mut fix = Fix {
        time_ms: 0,
        lat: 0.0,
        lon: 0.0,
        valid: true,
        speed_kmh: None,
        course_deg: None,
        altitude_m: None,
        accuracy_m: None,
        hdop: None,
        satellites: None,
    };
    let mut battery = None;
    let mut charging = None;
    let mut alarms = BTreeSet::new();

    for (key, value) in params {
        let key = key.as_str();
        // Aliases share a slot (`id`/`deviceid`, `bearing`/`heading`, and `location` fills both
        // `lat` and `lon`), so a request cannot name two devices or two positions.
        let slots: &[&'static str] = match key {
            "id" | "deviceid" => &["id"],
            "bearing" | "heading" => &["bearing"],
            "location" => &["lat", "lon"],
            "lat" => &["lat"],
            "lon" => &["lon"],
            "valid" => &["valid"],
            "timestamp" => &["timestamp"],
            "speed" => &["speed"],
            "altitude" => &["altitude"],
            "accuracy" => &["accuracy"],
            "hdop" => &["hdop"],
            "batt" => &["batt"],
            "charge" => &["charge"],
            "alarm" => &["alarm"],
            _ => continue,
        };
        for slot in slots {
            if !seen.insert(slot) {
                return Err(OsmAndError::Duplicate(key.to_owned()));
            }
        }
        match key {
            "id" | "deviceid" => device = Some(check_device(key, value)?),
            "valid" => fix.valid = parse_bool(key, value)?,
            "timestamp" => time_ms = Some(parse_timestamp(key, value)?),
            "lat" => lat = Some(parse_f64(key, value)?),
            "lon" => lon = Some(parse_f64(key, value)?),
            "location" => {
                let (a, b) = value
                    .split_once(',')
                    .ok_or_else(|| FieldError::invalid(key, value, "is not `lat,lon`"))?;
                lat = Some(parse_f64(key, a)?);
                lon = Some(parse_f64(key, b)?);
            }
            "speed" => fix.speed_kmh = Some(to_kmh(key, parse_f64(key, value)?, KMH_PER_KNOT)?),
            "bearing" | "heading" => fix.course_deg = Some(parse_f64(key, value)?),
            "altitude" => fix.altitude_m = Some(parse_f64(key, value)?),
            "accuracy" => fix.accuracy_m = Some(parse_f64(key, value)?),
            "hdop" => fix.hdop = Some(parse_f64(key, value)?),
            "batt" => battery = Some(battery_pct(key, parse_f64(key, value)?)?),
            "charge" => charging = Some(parse_bool(key, value)?),
            "alarm" if !value.trim().is_empty() => {
                alarms.insert(alarm_from_name(value));
            }
            _ => {}
        }
    }

    let device = device.ok_or_else(|| FieldError::missing("id"))?;
    let lat = lat.ok_or_else(|| FieldError::missing("lat"))?;
    let lon = lon.ok_or_else(|| FieldError::missing("lon"))?;
    check_lat_lon(lat, lon)?;
    fix.time_ms = time_ms.ok_or_else(|| FieldError::missing("timestamp"))?;
    fix.lat = lat;
    fix.lon = lon;
    Ok(Report {
        device,
        kind: position_kind(&alarms),
        fix: Some(fix),
        battery_pct: battery,
        steps: None,
        charging,
        alarms,
    })
}

/// Converts a finite speed to km/h. The product of a finite speed near `f64::MAX` and the unit
/// factor is infinite, so it is checked again rather than letting an infinity into a [`Fix`].
fn to_kmh(field: &str, speed: f64, kmh_per_unit: f64) -> Result<f64, FieldError> {
    let kmh = speed * kmh_per_unit;
    if kmh.is_finite() {
        Ok(kmh)
    } else {
        Err(FieldError::invalid(field, &speed.to_string(), "is too large to be a speed"))
    }
}

fn parse_bool(field: &str, value: &str) -> Result<bool, FieldError> {
    match value.trim() {
        v if v.eq_ignore_ascii_case("true") || v == "1" => Ok(true),
        v if v.eq_ignore_ascii_case("false") || v == "0" => Ok(false),
        _ => Err(FieldError::invalid(field, value, "is not true/false")),
    }
}

/// Epoch seconds, epoch milliseconds (numbers above 10^11) or RFC 3339.
fn parse_timestamp(field: &str, value: &str) -> Result<u64, FieldError> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        let n: u64 = v.parse().map_err(|_| FieldError::invalid(field, value, "is too large"))?;
        // Below the threshold n ≤ 10^11, so the multiplication cannot overflow.
        let ms = if n > EPOCH_MS_THRESHOLD { n } else { n * 1000 };
        return if ms <= MAX_TIME_MS {
            Ok(ms)
        } else {
            Err(FieldError::invalid(field, value, "is after the year 9999"))
        };
    }
    parse_rfc3339(v).ok_or_else(|| {
        FieldError::invalid(field, value, "is neither epoch seconds/ms nor an RFC 3339 UTC time")
    })
}

#[derive(Deserialize)]
struct JsonBody {
    device_id: String,
    location: JsonLocation,
}

#[derive(Deserialize)]
struct JsonLocation {
    timestamp: String,
    coords: Option<JsonCoords>,
    battery: Option<JsonBattery>,
    alarm: Option<String>,
    extras: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct JsonCoords {
    latitude: f64,
    longitude: f64,
    speed: Option<f64>,
    heading: Option<f64>,
    altitude: Option<f64>,
    accuracy: Option<f64>,
}

#[derive(Deserialize)]
struct JsonBattery {
    level: Option<f64>,
    is_charging: Option<bool>,
}

/// The background-geolocation library behind Traccar Client writes -1 for "unknown".
fn known(v: Option<f64>) -> Option<f64> {
    v.filter(|x| *x >= 0.0)
}

/// Decodes the JSON body newer Traccar Client versions POST:
/// `{"device_id", "location": {"timestamp", "coords": {"latitude", "longitude", "speed" (m/s),
/// "heading", "altitude", "accuracy"}, "battery": {"level" (0..1), "is_charging"}, "alarm",
/// "extras": {"alarm"}}}`. Negative speed, heading, accuracy or battery level mean "unknown".
/// A body without `coords` has no fix: a [`ReportKind::Heartbeat`], or a [`ReportKind::Alarm`] if
/// it names an alarm.
pub fn decode_json(body: &[u8]) -> Result<Report, OsmAndError> {
    if body.len() > MAX_JSON_BYTES {
        return Err(OsmAndError::TooLarge { what: "JSON body in bytes", limit: MAX_JSON_BYTES });
    }
    let parsed: JsonBody = serde_json::from_slice(body).map_err(|e| OsmAndError::Json(e.to_string()))?;
    let device = check_device("device_id", &parsed.device_id)?;
    let loc = parsed.location;
    let time_ms = parse_rfc3339(&loc.timestamp).ok_or_else(|| {
        FieldError::invalid("location.timestamp", &loc.timestamp, "is not an RFC 3339 UTC time")
    })?;

    let mut alarms = BTreeSet::new();
    let extras_alarm = loc.extras.as_ref().and_then(|e| e.get("alarm")).and_then(serde_json::Value::as_str);
    for name in [loc.alarm.as_deref(), extras_alarm].into_iter().flatten() {
        if !name.trim().is_empty() {
            alarms.insert(alarm_from_name(name));
        }
    }

    let (battery, charging) = match loc.battery {
        Some(b) => {
            let pct = match known(b.level) {
                Some(level) => Some(battery_pct("location.battery.level", level * 100.0)?),
                None => None,
            };
            (pct, b.is_charging)
        }
        None => (None, None),
    };

    let fix = match loc.coords {
        Some(c) => {
            check_lat_lon(c.latitude, c.longitude)?;
            Some(Fix {
                time_ms,
                lat: c.latitude,
                lon: c.longitude,
                valid: true,
                speed_kmh: known(c.speed)
                    .map(|mps| to_kmh("location.coords.speed", mps, KMH_PER_MPS))
                    .transpose()?,
                course_deg: known(c.heading),
                altitude_m: c.altitude,
                accuracy_m: known(c.accuracy),
                hdop: None,
                satellites: None,
            })
        }
        None => None,
    };
    let kind = match fix {
        Some(_) => position_kind(&alarms),
        None if alarms.is_empty() => ReportKind::Heartbeat,
        None => ReportKind::Alarm,
    };
    Ok(Report { device, kind, fix, battery_pct: battery, steps: None, charging, alarms })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Alarm;

    fn q(s: &str) -> Vec<(String, String)> {
        s.split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.replace("%3A", ":").replace('+', " ")))
            .collect()
    }

    fn approx(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    // Queries from Traccar's OsmAndProtocolDecoderTest.java (testDecodeQuery).
    #[test]
    fn traccar_iso_timestamp_query() {
        let r = decode_query(&q(
            "id=902064&lat=42.06288&lon=-88.23412&timestamp=2016-01-27T18%3A55%3A47Z&hdop=6.0&altitude=224.0&speed=0.0",
        ))
        .unwrap();
        assert_eq!(r.device, "902064");
        assert_eq!(r.kind, ReportKind::Position);
        let f = r.fix.unwrap();
        assert_eq!(f.time_ms, 1_453_920_947_000);
        assert!(approx(f.lat, 42.06288) && approx(f.lon, -88.23412));
        assert_eq!((f.hdop, f.altitude_m, f.speed_kmh), (Some(6.0), Some(224.0), Some(0.0)));
        assert!(f.valid);
    }

    #[test]
    fn epoch_seconds_and_millis() {
        let ms = decode_query(&q("id=902064&lat=42.06288&lon=-88.23412&timestamp=1442068686579")).unwrap();
        assert_eq!(ms.fix.unwrap().time_ms, 1_442_068_686_579);
        let s = decode_query(&q("id=123456&timestamp=1377177267&lat=60.0&lon=30.0")).unwrap();
        assert_eq!(s.fix.unwrap().time_ms, 1_377_177_267_000);
    }

    #[test]
    fn space_separated_date_and_deviceid_alias() {
        let r = decode_query(&q(
            "lat=49.60688&lon=6.15788&timestamp=2014-06-04+09%3A10%3A11&altitude=384.7&speed=0.0&deviceid=353861053849681",
        ))
        .unwrap();
        assert_eq!(r.device, "353861053849681");
        assert_eq!(r.fix.unwrap().time_ms, 1_401_873_011_000);
    }

    #[test]
    fn location_param_speed_bearing_battery_charge_alarm() {
        let r = decode_query(&q(
            "id=123456789012345&timestamp=1504763810&location=40.7232948571,-74.0061408571&bearing=7.19889788244&speed=40&batt=87.6&charge=true&alarm=sos&ignition=true",
        ))
        .unwrap();
        let f = r.fix.clone().unwrap();
        assert!(approx(f.lat, 40.7232948571) && approx(f.lon, -74.0061408571));
        assert!(approx(f.speed_kmh.unwrap(), 74.08));
        assert_eq!(f.course_deg, Some(7.19889788244));
        assert_eq!(r.battery_pct, Some(88));
        assert_eq!(r.charging, Some(true));
        assert_eq!(r.kind, ReportKind::Alarm);
        assert_eq!(r.alarms, BTreeSet::from([Alarm::Sos]));
    }

    #[test]
    fn alarm_names() {
        for (name, alarm) in [
            ("fall", Alarm::Fall),
            ("tampering", Alarm::StrapRemoved),
            ("removing", Alarm::StrapRemoved),
            ("lowBattery", Alarm::LowBattery),
            ("geofenceExit", Alarm::Geofence),
            ("vibration", Alarm::Other("vibration".into())),
        ] {
            let r =
                decode_query(&q(&format!("id=1&timestamp=1377177267&lat=1&lon=2&alarm={name}&valid=false")))
                    .unwrap();
            assert_eq!(r.alarms, BTreeSet::from([alarm]));
            assert!(!r.fix.unwrap().valid);
        }
    }

    #[test]
    fn refusals_name_the_parameter() {
        let cases = [
            ("timestamp=1377177267&lat=60.0&lon=30.0", "`id` is missing"),
            ("id=1&timestamp=1377177267&lon=30.0", "`lat` is missing"),
            ("id=1&timestamp=1377177267&lat=60.0", "`lon` is missing"),
            ("id=1&lat=60.0&lon=30.0", "`timestamp` is missing"),
            ("id=1&timestamp=yesterday&lat=60.0&lon=30.0", "`timestamp` = \"yesterday\""),
            ("id=1&timestamp=253402300800000&lat=1&lon=1", "after the year 9999"),
            ("id=1&timestamp=-5&lat=1&lon=1", "`timestamp` = \"-5\""),
            ("id=1&timestamp=1377177267&lat=north&lon=30.0", "`lat` = \"north\" is not a number"),
            ("id=1&timestamp=1377177267&lat=91&lon=30.0", "`lat` = \"91\" is outside"),
            ("id=1&timestamp=1377177267&lat=1&lon=-180.5", "`lon` = \"-180.5\" is outside"),
            ("id=1&timestamp=1377177267&lat=NaN&lon=1", "`lat` = \"NaN\" is not a finite"),
            ("id=1&timestamp=1377177267&lat=1&lon=1&batt=140", "`batt` = \"140\" is outside"),
            ("id=1&timestamp=1377177267&lat=1&lon=1&charge=maybe", "`charge`"),
            ("id=1&timestamp=1377177267&location=1;2", "`location`"),
        ];
        for (query, expected) in cases {
            let err = decode_query(&q(query)).unwrap_err().to_string();
            assert!(err.contains(expected), "{query}: {err}");
        }
        let long_id = format!("id={}&timestamp=1&lat=1&lon=1", "9".repeat(65));
        assert!(decode_query(&q(&long_id)).unwrap_err().to_string().contains("longer than 64"));
    }

    #[test]
    fn speeds_that_overflow_in_km_h_are_refused() {
        // 1e308 is finite, but not once converted from knots or m/s to km/h.
        let err = decode_query(&q("id=1&timestamp=1377177267&lat=1&lon=1&speed=1e308")).unwrap_err();
        assert!(err.to_string().contains("`speed`"), "{err}");
        let body = br#"{"device_id":"7","location":{"timestamp":"2026-11-22T10:15:30Z","coords":{"latitude":1,"longitude":1,"speed":1e308}}}"#;
        let err = decode_json(body).unwrap_err();
        assert!(err.to_string().contains("`location.coords.speed`"), "{err}");
    }

    #[test]
    fn duplicates_and_oversize_are_refused() {
        for query in [
            "id=1&deviceid=2&timestamp=1&lat=1&lon=1",
            "id=1&timestamp=1&lat=1&lon=1&lat=2",
            "id=1&timestamp=1&lat=1&lon=1&location=2,3",
            "id=1&timestamp=1&location=2,3&lon=4",
        ] {
            assert!(matches!(decode_query(&q(query)), Err(OsmAndError::Duplicate(_))), "{query}");
        }
        let many: Vec<_> = (0..65).map(|i| (format!("k{i}"), String::new())).collect();
        assert!(matches!(decode_query(&many), Err(OsmAndError::TooLarge { .. })));
        let big = vec![("note".to_owned(), "x".repeat(MAX_CONTENT_BYTES + 1))];
        assert!(matches!(decode_query(&big), Err(OsmAndError::TooLarge { .. })));
    }

    // Bodies from Traccar's OsmAndProtocolDecoderTest.java (testDecodeJson).
    #[test]
    fn traccar_client_json() {
        let body = br#"{"location":{"event":"motionchange","is_moving":false,"uuid":"0e9a2473-a9a7-4c00-997b-fb97d2154e75","timestamp":"2021-07-21T08:06:34.444Z","odometer":0,"coords":{"latitude":-6.1148096,"longitude":106.6837015,"accuracy":3.8,"speed":18.67,"speed_accuracy":0.26,"heading":63,"heading_accuracy":0.28,"altitude":35.7,"altitude_accuracy":3.8},"activity":{"type":"still","confidence":100},"battery":{"is_charging":false,"level":0.79},"extras":{}},"device_id":"8737767034"}"#;
        let r = decode_json(body).unwrap();
        assert_eq!(r.device, "8737767034");
        assert_eq!(r.kind, ReportKind::Position);
        let f = r.fix.unwrap();
        assert_eq!(f.time_ms, 1_626_854_794_444);
        assert!(approx(f.lat, -6.1148096) && approx(f.lon, 106.6837015));
        assert!(approx(f.speed_kmh.unwrap(), 18.67 * 3.6));
        assert_eq!((f.course_deg, f.altitude_m, f.accuracy_m), (Some(63.0), Some(35.7), Some(3.8)));
        assert_eq!((r.battery_pct, r.charging), (Some(79), Some(false)));
    }

    #[test]
    fn json_unknown_values_and_alarm_in_extras() {
        let body = br#"{"location":{"extras":{"alarm":"sos"},"mock":true,"coords":{"speed_accuracy":-1,"speed":-1,"longitude":-122.406417,"ellipsoidal_altitude":0,"floor":null,"heading_accuracy":-1,"latitude":37.785834000000001,"accuracy":5,"altitude_accuracy":-1,"altitude":0,"heading":-1},"is_moving":false,"battery":{"level":-1,"is_charging":false},"timestamp":"2025-05-09T04:11:30.579Z"},"device_id":"658765"}"#;
        let r = decode_json(body).unwrap();
        let f = r.fix.unwrap();
        assert_eq!((f.speed_kmh, f.course_deg), (None, None));
        assert_eq!(r.battery_pct, None);
        assert_eq!(r.kind, ReportKind::Alarm);
        assert_eq!(r.alarms, BTreeSet::from([Alarm::Sos]));
    }

    #[test]
    fn json_without_coords_is_a_heartbeat_and_bad_json_is_refused() {
        let r = decode_json(
            br#"{"device_id":"7","location":{"timestamp":"2026-11-22T10:15:30Z","battery":{"level":0.5,"is_charging":true}}}"#,
        )
        .unwrap();
        assert_eq!((r.kind, r.fix, r.battery_pct), (ReportKind::Heartbeat, None, Some(50)));
        for bad in [
            &br#"{"device_id":"7"}"#[..],
            br#"{"device_id":"7","location":{"timestamp":"soon"}}"#,
            br#"{"device_id":"7","location":{"timestamp":"2026-11-22T10:15:30Z","coords":{"latitude":95,"longitude":0}}}"#,
            br#"{"device_id":"","location":{"timestamp":"2026-11-22T10:15:30Z"}}"#,
            b"not json",
        ] {
            assert!(decode_json(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        assert!(matches!(decode_json(&vec![b' '; MAX_JSON_BYTES + 1]), Err(OsmAndError::TooLarge { .. })));
    }
}
