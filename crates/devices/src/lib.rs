//! Pure decoders for the GPS device protocols that supervision wristbands and phones speak.
//!
//! What it guarantees:
//! - Every decoder is a plain function of its input bytes: no I/O, no clock, no randomness. The
//!   time of a [`Report`] is the time written in the message, never the time it was received.
//! - Untrusted input never panics and is bounded: frame content above [`MAX_CONTENT_BYTES`],
//!   device ids above [`MAX_DEVICE_ID_CHARS`], latitudes outside ±90°, longitudes outside ±180°
//!   and non-finite numbers are refused with an error that names the offending field.
//! - Both protocols decode into the same [`Report`], with SI-ish units spelled in field names
//!   (`time_ms` is Unix milliseconds UTC, `speed_kmh` is km/h, `altitude_m` is metres).
//!
//! Modules: [`osmand`] (HTTP, Traccar Client app) and [`watch`] (TCP, `[SG*ID*LLLL*...]`
//! smartwatch frames, with a bounded [`watch::FrameReader`]); [`fuzzing`] holds the checks the
//! `cargo fuzz` targets run, so tests run them too.
#![warn(missing_docs)]

pub mod fuzzing;
pub mod osmand;
mod time;
pub mod watch;

use std::collections::BTreeSet;

/// Longest device id accepted from either protocol, in characters.
pub const MAX_DEVICE_ID_CHARS: usize = 64;

/// Largest message content accepted: a watch frame's unescaped content, or the total size of an
/// OsmAnd query's keys and values.
pub const MAX_CONTENT_BYTES: usize = 4096;

/// One decoded device message.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Protocol id of the device: OsmAnd `id`/`deviceid`/`device_id`, or the watch frame's ID field.
    pub device: String,
    /// What the message is.
    pub kind: ReportKind,
    /// The position, absent for heartbeats that carry none.
    pub fix: Option<Fix>,
    /// Battery charge in percent, 0..=100.
    pub battery_pct: Option<u8>,
    /// Pedometer count as reported by the device (watches reset it daily).
    pub steps: Option<u32>,
    /// Whether the device is on its charger.
    pub charging: Option<bool>,
    /// Alarms raised by this message; empty for an ordinary position.
    pub alarms: BTreeSet<Alarm>,
}

/// What kind of message a [`Report`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReportKind {
    /// A periodic position.
    Position,
    /// A keep-alive; may carry battery and steps but usually no position.
    Heartbeat,
    /// An alarm message or a position that raises at least one alarm; carries a position when
    /// the device sent one.
    Alarm,
}

/// An alarm raised by a device.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Alarm {
    /// The wearer pressed the SOS button.
    Sos,
    /// The strap was removed or the device reports tampering.
    StrapRemoved,
    /// The device detected a fall.
    Fall,
    /// The battery is low.
    LowBattery,
    /// The device's own geofence was entered or left.
    Geofence,
    /// External power was cut.
    PowerCut,
    /// An alarm name this crate does not know, as the device spelled it (at most 64 chars).
    Other(String),
}

/// A position fix. Optional fields are `None` when the device did not report them.
#[derive(Debug, Clone, PartialEq)]
pub struct Fix {
    /// Time of the fix, Unix milliseconds UTC, as written by the device.
    pub time_ms: u64,
    /// Latitude in degrees, -90..=90, WGS 84.
    pub lat: f64,
    /// Longitude in degrees, -180..=180, WGS 84.
    pub lon: f64,
    /// Whether the device considers the fix valid (watch `A`/`V`, OsmAnd `valid`).
    pub valid: bool,
    /// Ground speed in km/h.
    pub speed_kmh: Option<f64>,
    /// Course over ground in degrees from true north.
    pub course_deg: Option<f64>,
    /// Altitude in metres.
    pub altitude_m: Option<f64>,
    /// Horizontal accuracy radius in metres.
    pub accuracy_m: Option<f64>,
    /// Horizontal dilution of precision (dimensionless).
    pub hdop: Option<f64>,
    /// Satellites used for the fix.
    pub satellites: Option<u8>,
}

/// Why one field of a message was refused; wrapped by each protocol's error enum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}` {problem}")]
pub struct FieldError {
    /// The protocol's name for the field.
    pub field: String,
    /// What is wrong with it, e.g. "is missing" or "= \"abc\" is not a number".
    pub problem: String,
}

impl FieldError {
    pub(crate) fn missing(field: &str) -> Self {
        Self { field: field.to_owned(), problem: "is missing".to_owned() }
    }

    pub(crate) fn invalid(field: &str, value: &str, why: &str) -> Self {
        Self { field: field.to_owned(), problem: format!("= {:?} {why}", clip(value)) }
    }
}

/// Shortens a value quoted in an error message so an error never echoes a whole hostile input.
fn clip(value: &str) -> &str {
    match value.char_indices().nth(40) {
        Some((end, _)) => &value[..end],
        None => value,
    }
}

/// Checks a device id: 1..=64 printable characters without whitespace.
pub(crate) fn check_device(field: &str, id: &str) -> Result<String, FieldError> {
    if id.is_empty() {
        return Err(FieldError::missing(field));
    }
    if id.chars().count() > MAX_DEVICE_ID_CHARS {
        return Err(FieldError::invalid(field, id, "is longer than 64 characters"));
    }
    if id.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(FieldError::invalid(field, id, "contains whitespace or control characters"));
    }
    Ok(id.to_owned())
}

/// Parses a finite decimal number (leading/trailing spaces allowed).
pub(crate) fn parse_f64(field: &str, value: &str) -> Result<f64, FieldError> {
    match value.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err(FieldError::invalid(field, value, "is not a finite number")),
        Err(_) => Err(FieldError::invalid(field, value, "is not a number")),
    }
}

/// Checks that a latitude/longitude pair is finite and on the globe.
pub(crate) fn check_lat_lon(lat: f64, lon: f64) -> Result<(), FieldError> {
    if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
        return Err(FieldError::invalid("lat", &lat.to_string(), "is outside -90..=90"));
    }
    if !(lon.is_finite() && (-180.0..=180.0).contains(&lon)) {
        return Err(FieldError::invalid("lon", &lon.to_string(), "is outside -180..=180"));
    }
    Ok(())
}

/// Converts a battery percentage (possibly fractional) to a whole percent, refusing values
/// outside 0..=100 rather than guessing what the device meant.
pub(crate) fn battery_pct(field: &str, pct: f64) -> Result<u8, FieldError> {
    if pct.is_finite() && (0.0..=100.0).contains(&pct) {
        // In range 0..=100 after rounding, so the cast is exact.
        Ok(pct.round() as u8)
    } else {
        Err(FieldError::invalid(field, &pct.to_string(), "is outside 0..=100 percent"))
    }
}

/// Maps an alarm name as OsmAnd clients and Traccar spell it to an [`Alarm`].
pub(crate) fn alarm_from_name(name: &str) -> Alarm {
    let lower = name.trim().to_ascii_lowercase();
    match lower.as_str() {
        "sos" => Alarm::Sos,
        "fall" | "falldown" | "fall_down" => Alarm::Fall,
        "tampering" | "removing" | "strapremoved" | "strap_removed" => Alarm::StrapRemoved,
        "lowbattery" | "low_battery" => Alarm::LowBattery,
        "powercut" | "power_cut" => Alarm::PowerCut,
        g if g.starts_with("geofence") => Alarm::Geofence,
        _ => Alarm::Other(clip_to(name.trim(), MAX_DEVICE_ID_CHARS)),
    }
}

fn clip_to(value: &str, chars: usize) -> String {
    value.chars().take(chars).collect()
}

/// Kind of a report that carries a position: an alarm if any alarm is raised.
pub(crate) fn position_kind(alarms: &BTreeSet<Alarm>) -> ReportKind {
    if alarms.is_empty() { ReportKind::Position } else { ReportKind::Alarm }
}
