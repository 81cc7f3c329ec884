//! Zones: what a case's inclusion and exclusion zones say (stored on chain, integers only) and
//! their compiled, off-chain geometry.
//!
//! Guarantees: [`validate`] accepts only zones the engine can evaluate accurately (bounded size,
//! local extent, closed rings with area, sane schedules), and every refusal names what to fix;
//! [`canonical_geojson`] gives one spelling per geometry, so equal shapes store equal bytes;
//! [`CompiledZone`] never panics on any input coordinate, and its buffer always favours the
//! wearer: a zone is breached only when the position is beyond the boundary by more than the
//! buffer.

use std::fmt;

use civic_types::UnixMillis;
use geo::{Contains, Coord, Distance, Euclidean, Haversine, LineString, MultiPolygon, Point, Polygon};
use jiff::{Timestamp, civil::DateTime, tz::TimeZone};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Longest zone name, in bytes.
pub const MAX_NAME_BYTES: usize = 64;
/// Largest tolerance buffer around a zone's boundary, in metres.
pub const MAX_BUFFER_M: u32 = 5_000;
/// Largest circle radius, in metres.
pub const MAX_RADIUS_M: u32 = 100_000;
/// Longest GeoJSON geometry text, in bytes.
pub const MAX_GEOJSON_BYTES: usize = 64 * 1024;
/// Most positions in one GeoJSON geometry, over all rings.
pub const MAX_POSITIONS: usize = 10_000;
/// Most polygons in one MultiPolygon.
pub const MAX_POLYGONS: usize = 100;
/// Largest side of a polygon zone's bounding box, in metres.
pub const MAX_EXTENT_M: f64 = 100_000.0;
/// Polygon vertices must lie within this latitude (degrees), where the local projection stays
/// accurate; circles may lie anywhere.
pub const MAX_POLYGON_LAT: f64 = 85.0;
/// Most windows in one schedule.
pub const MAX_WINDOWS: usize = 28;
/// Minutes in a (civil) day; window bounds are below this.
pub const MINUTES_PER_DAY: u16 = 1440;
/// Longest time zone name, in bytes.
pub const MAX_TIME_ZONE_BYTES: usize = 64;

/// WGS 84 semi-major axis, metres.
const WGS84_A: f64 = 6_378_137.0;
/// WGS 84 first eccentricity squared.
const WGS84_E2: f64 = 0.006_694_379_990_14;
/// Smallest exterior-ring area accepted, square metres (a float-noise guard for "non-zero").
const MIN_AREA_M2: f64 = 1.0;

/// What a zone requires of the wearer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZoneKind {
    /// The wearer must stay inside (home, district).
    Inclusion,
    /// The wearer must stay out (a victim's home, a school).
    Exclusion,
}

/// A zone's outline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// A circle: centre in 1e-7 degrees (WGS 84), radius 1..=100_000 m.
    Circle {
        /// Latitude of the centre, 1e-7 degrees.
        lat_e7: i32,
        /// Longitude of the centre, 1e-7 degrees.
        lon_e7: i32,
        /// Radius in metres.
        radius_m: u32,
    },
    /// An RFC 7946 GeoJSON geometry object of type Polygon or MultiPolygon, as JSON text.
    GeoJson {
        /// The geometry object's JSON text (see [`canonical_geojson`]).
        geometry: String,
    },
}

/// A day of the week, Monday first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

impl Weekday {
    /// Every day, Monday first.
    pub const ALL: [Weekday; 7] =
        [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun];

    /// The day of a civil date.
    pub fn of(local: DateTime) -> Weekday {
        match local.weekday() {
            jiff::civil::Weekday::Monday => Weekday::Mon,
            jiff::civil::Weekday::Tuesday => Weekday::Tue,
            jiff::civil::Weekday::Wednesday => Weekday::Wed,
            jiff::civil::Weekday::Thursday => Weekday::Thu,
            jiff::civil::Weekday::Friday => Weekday::Fri,
            jiff::civil::Weekday::Saturday => Weekday::Sat,
            jiff::civil::Weekday::Sunday => Weekday::Sun,
        }
    }

    /// The day before.
    pub fn previous(self) -> Weekday {
        match self {
            Weekday::Mon => Weekday::Sun,
            Weekday::Tue => Weekday::Mon,
            Weekday::Wed => Weekday::Tue,
            Weekday::Thu => Weekday::Wed,
            Weekday::Fri => Weekday::Thu,
            Weekday::Sat => Weekday::Fri,
            Weekday::Sun => Weekday::Sat,
        }
    }
}

/// One weekly window, in the case's local time: it starts on each of `days` at `start` (minutes
/// after local midnight, 0..1440) and ends at `end` (0..1440) the same day, or the next day when
/// end <= start (22:00–06:00 = start 1320, end 360). end == start means a full 24 h.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// The days the window starts on.
    pub days: Vec<Weekday>,
    /// Start, minutes after local midnight.
    pub start: u16,
    /// End, minutes after local midnight (of the next day when `end <= start`).
    pub end: u16,
}

impl Window {
    /// Whether the window covers local minute `minute` (0..1440) of a day `day`.
    fn covers(&self, day: Weekday, minute: u16) -> bool {
        if self.start < self.end {
            self.days.contains(&day) && (self.start..self.end).contains(&minute)
        } else {
            // Wraps past midnight (or lasts 24 h): the tail of the start day plus the head of
            // the next one.
            (self.days.contains(&day) && minute >= self.start)
                || (self.days.contains(&day.previous()) && minute < self.end)
        }
    }
}

impl fmt::Display for Window {
    /// "22:00–06:00".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}–{:02}:{:02}", self.start / 60, self.start % 60, self.end / 60, self.end % 60)
    }
}

/// When a zone's rule applies; no schedule = always.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// The weekly windows; the rule applies while any of them is open.
    pub windows: Vec<Window>,
}

impl Schedule {
    /// Whether any window is open at this local civil time. A window starting on day D covers
    /// local minutes [start, end) of D, or [start, 1440) of D plus [0, end) of D+1 when
    /// end <= start.
    pub fn active_at(&self, local: DateTime) -> bool {
        self.active_window(local).is_some()
    }

    /// The first window open at this local civil time, if any.
    pub fn active_window(&self, local: DateTime) -> Option<&Window> {
        let day = Weekday::of(local);
        // Hour and minute are always in range, so the sum fits a u16.
        let minute = u16::try_from(i32::from(local.hour()) * 60 + i32::from(local.minute())).unwrap_or(0);
        self.windows.iter().find(|w| w.covers(day, minute))
    }
}

/// What a case's zone says (the payload of the on-chain set_zone call minus ids).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneSpec {
    /// A name officers recognise ("Home", "School").
    pub name: String,
    /// Stay inside or stay out.
    pub kind: ZoneKind,
    /// The outline.
    pub shape: Shape,
    /// Tolerance against GPS drift, metres; always in the wearer's favour.
    pub buffer_m: u32,
    /// When the rule applies; `None` = always.
    pub schedule: Option<Schedule>,
}

/// Why a zone, schedule, time zone or date was refused; each message says what to fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ZoneError {
    /// The zone name is empty, too long or not printable.
    #[error(
        "zone name is invalid ({len} bytes): use 1 to 64 bytes of printable text without control characters"
    )]
    Name {
        /// Length of the refused name, in bytes.
        len: usize,
    },
    /// The buffer is too wide.
    #[error("buffer_m is {buffer_m}: the tolerance buffer must be at most 5000 m")]
    Buffer {
        /// The refused buffer.
        buffer_m: u32,
    },
    /// The circle's centre is not a coordinate.
    #[error(
        "circle centre ({lat_e7}, {lon_e7}) is out of range: lat_e7 must be within ±900000000 and lon_e7 within ±1800000000 (1e-7 degrees)"
    )]
    Centre {
        /// The refused latitude.
        lat_e7: i32,
        /// The refused longitude.
        lon_e7: i32,
    },
    /// The circle's radius is zero or too large.
    #[error("circle radius_m is {radius_m}: use 1 to 100000 m")]
    Radius {
        /// The refused radius.
        radius_m: u32,
    },
    /// The GeoJSON text is too long.
    #[error("GeoJSON geometry is {len} bytes: at most 65536 are allowed; simplify the outline")]
    GeoJsonTooLarge {
        /// Length of the refused text, in bytes.
        len: usize,
    },
    /// The GeoJSON geometry is malformed or unsuitable; the text says where and why.
    #[error("GeoJSON geometry refused: {0}")]
    GeoJson(String),
    /// The schedule is malformed; the text says where and why.
    #[error("schedule refused: {0}")]
    Schedule(String),
    /// The time zone is not a known IANA name.
    #[error("time zone {name:?} refused: {reason}")]
    TimeZone {
        /// The refused name (truncated when very long).
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A calendar date is malformed or out of range.
    #[error("date {date:?} refused: use an existing day written YYYY-MM-DD")]
    Date {
        /// The refused date (truncated when very long).
        date: String,
    },
    /// A zone id is empty or too long.
    #[error("zone id {zone_id:?} refused: use 1 to 64 bytes")]
    ZoneId {
        /// The refused id (truncated when very long).
        zone_id: String,
    },
    /// Two zones of one case share an id.
    #[error("zone id {zone_id:?} appears twice in the case: give each zone its own id")]
    DuplicateZone {
        /// The repeated id.
        zone_id: String,
    },
}

/// Checks everything about a zone specification that the engine relies on.
pub fn validate(spec: &ZoneSpec) -> Result<(), ZoneError> {
    check_name(&spec.name)?;
    if spec.buffer_m > MAX_BUFFER_M {
        return Err(ZoneError::Buffer { buffer_m: spec.buffer_m });
    }
    match &spec.shape {
        Shape::Circle { lat_e7, lon_e7, radius_m } => check_circle(*lat_e7, *lon_e7, *radius_m)?,
        Shape::GeoJson { geometry } => {
            parse_geojson(geometry)?;
        }
    }
    if let Some(schedule) = &spec.schedule {
        check_schedule(schedule)?;
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), ZoneError> {
    if name.is_empty() || name.len() > MAX_NAME_BYTES || name.chars().any(char::is_control) {
        return Err(ZoneError::Name { len: name.len() });
    }
    Ok(())
}

fn check_circle(lat_e7: i32, lon_e7: i32, radius_m: u32) -> Result<(), ZoneError> {
    if !(-900_000_000..=900_000_000).contains(&lat_e7) || !(-1_800_000_000..=1_800_000_000).contains(&lon_e7)
    {
        return Err(ZoneError::Centre { lat_e7, lon_e7 });
    }
    if !(1..=MAX_RADIUS_M).contains(&radius_m) {
        return Err(ZoneError::Radius { radius_m });
    }
    Ok(())
}

fn check_schedule(schedule: &Schedule) -> Result<(), ZoneError> {
    let n = schedule.windows.len();
    if n == 0 || n > MAX_WINDOWS {
        return Err(ZoneError::Schedule(format!(
            "it has {n} windows: give 1 to {MAX_WINDOWS}, or no schedule for a rule that always applies"
        )));
    }
    for (i, w) in schedule.windows.iter().enumerate() {
        if w.days.is_empty() || w.days.len() > 7 {
            return Err(ZoneError::Schedule(format!("window {i} has {} days: give 1 to 7", w.days.len())));
        }
        let mut seen = std::collections::BTreeSet::new();
        if let Some(day) = w.days.iter().find(|d| !seen.insert(**d)) {
            return Err(ZoneError::Schedule(format!("window {i} lists {day:?} twice: list each day once")));
        }
        if w.start >= MINUTES_PER_DAY || w.end >= MINUTES_PER_DAY {
            return Err(ZoneError::Schedule(format!(
                "window {i} runs from minute {} to {}: both must be below 1440 (minutes after local midnight)",
                w.start, w.end
            )));
        }
    }
    Ok(())
}

fn truncated(s: &str) -> String {
    s.chars().take(80).collect()
}

/// Looks a time zone up by its IANA name in the bundled database, refusing empty, overlong,
/// unknown and non-canonically spelled names (so the chain stores one spelling).
pub fn time_zone(name: &str) -> Result<TimeZone, ZoneError> {
    let refuse = |reason: String| ZoneError::TimeZone { name: truncated(name), reason };
    if name.is_empty() || name.len() > MAX_TIME_ZONE_BYTES {
        return Err(refuse("give an IANA name of 1 to 64 bytes, e.g. \"Asia/Shanghai\"".into()));
    }
    let tz = TimeZone::get(name).map_err(|_| {
        refuse("not in the IANA time zone database; use a name like \"Europe/Berlin\"".into())
    })?;
    match tz.iana_name() {
        Some(canonical) if canonical == name => Ok(tz),
        Some(canonical) => Err(refuse(format!("spell it exactly as {canonical:?}"))),
        None => Err(refuse("not an IANA time zone; use a name like \"Europe/Berlin\"".into())),
    }
}

/// Checks that `tz` is an IANA time zone name known to the bundled database, spelled exactly as
/// the database spells it ("Asia/Shanghai", "Europe/Berlin", "UTC").
pub fn check_time_zone(tz: &str) -> Result<(), ZoneError> {
    time_zone(tz).map(|_| ())
}

/// The local civil time of an instant in a time zone, or `None` when the instant is beyond the
/// calendar's range (year 9999). Reuse the `TimeZone`: looking one up is far slower than this.
pub fn local_time(time: UnixMillis, tz: &TimeZone) -> Option<DateTime> {
    let ms = i64::try_from(time.get()).ok()?;
    let ts = Timestamp::from_millisecond(ms).ok()?;
    Some(tz.to_datetime(ts))
}

/// The local civil time of an instant in the named time zone (a convenience for one-off
/// conversions; see [`local_time`]).
pub fn local_time_in(time: UnixMillis, tz: &str) -> Result<DateTime, ZoneError> {
    let zone = time_zone(tz)?;
    local_time(time, &zone).ok_or_else(|| ZoneError::TimeZone {
        name: truncated(tz),
        reason: format!("instant {} ms is beyond the calendar's range", time.get()),
    })
}

/// Validates a GeoJSON Polygon or MultiPolygon and re-serializes it in one compact spelling:
/// `{"coordinates":…,"type":…}`, positions as `[lon,lat]` floats (altitudes, `bbox` and foreign
/// members dropped), so equal shapes store equal bytes. Idempotent.
pub fn canonical_geojson(geometry: &str) -> Result<String, ZoneError> {
    let parsed = parse_geojson(geometry)?;
    let number = |x: f64| {
        // Adding 0.0 turns -0.0 into 0.0; every value here is finite, so from_f64 succeeds.
        serde_json::Number::from_f64(x + 0.0).map(Value::Number).unwrap_or(Value::Null)
    };
    let polygon = |rings: &Vec<Vec<[f64; 2]>>| {
        Value::Array(
            rings
                .iter()
                .map(|ring| {
                    Value::Array(
                        ring.iter().map(|p| Value::Array(vec![number(p[0]), number(p[1])])).collect(),
                    )
                })
                .collect(),
        )
    };
    let (type_name, coordinates) = if parsed.multi {
        ("MultiPolygon", Value::Array(parsed.polygons.iter().map(polygon).collect()))
    } else {
        let first = parsed.polygons.first().map(polygon).unwrap_or(Value::Array(Vec::new()));
        ("Polygon", first)
    };
    // Written by hand so the key order does not depend on serde_json's `preserve_order` feature;
    // arrays of numbers serialize the same way under every feature set.
    Ok(format!("{{\"coordinates\":{coordinates},\"type\":\"{type_name}\"}}"))
}

/// A parsed GeoJSON geometry: polygons of rings of `[lon, lat]`.
struct ParsedGeometry {
    multi: bool,
    polygons: Vec<Vec<Vec<[f64; 2]>>>,
}

fn geo_err(msg: String) -> ZoneError {
    ZoneError::GeoJson(msg)
}

fn parse_geojson(text: &str) -> Result<ParsedGeometry, ZoneError> {
    if text.len() > MAX_GEOJSON_BYTES {
        return Err(ZoneError::GeoJsonTooLarge { len: text.len() });
    }
    // serde_json bounds nesting depth, so hostile text cannot exhaust the stack.
    let value: Value = serde_json::from_str(text)
        .map_err(|e| geo_err(format!("not valid JSON ({e}); send a geometry object")))?;
    let object = value.as_object().ok_or_else(|| {
        geo_err("it must be a JSON object like {\"type\":\"Polygon\",\"coordinates\":[…]}".into())
    })?;
    let multi = match object.get("type").and_then(Value::as_str) {
        Some("Polygon") => false,
        Some("MultiPolygon") => true,
        Some(other) => {
            return Err(geo_err(format!(
                "type is {:?}: only \"Polygon\" and \"MultiPolygon\" are supported",
                truncated(other)
            )));
        }
        None => return Err(geo_err("\"type\" is missing or not a string".into())),
    };
    let coordinates = object
        .get("coordinates")
        .and_then(Value::as_array)
        .ok_or_else(|| geo_err("\"coordinates\" is missing or not an array".into()))?;
    let mut budget = MAX_POSITIONS;
    let polygons = if multi {
        if coordinates.is_empty() || coordinates.len() > MAX_POLYGONS {
            return Err(geo_err(format!(
                "the MultiPolygon has {} polygons: give 1 to {MAX_POLYGONS}",
                coordinates.len()
            )));
        }
        coordinates
            .iter()
            .enumerate()
            .map(|(i, p)| parse_polygon(p, i, &mut budget))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        vec![parse_polygon(&value["coordinates"], 0, &mut budget)?]
    };
    let parsed = ParsedGeometry { multi, polygons };
    check_extent(&parsed)?;
    let frame = LocalFrame::around(&parsed);
    for (i, rings) in parsed.polygons.iter().enumerate() {
        let exterior = rings.first().map(Vec::as_slice).unwrap_or(&[]);
        let area = shoelace(exterior.iter().map(|p| frame.project(p[1], p[0]))).abs();
        if area.is_nan() || area < MIN_AREA_M2 {
            return Err(geo_err(format!(
                "polygon {i}'s exterior ring encloses no area: give at least three distinct, non-collinear corners"
            )));
        }
    }
    Ok(parsed)
}

fn parse_polygon(value: &Value, index: usize, budget: &mut usize) -> Result<Vec<Vec<[f64; 2]>>, ZoneError> {
    let rings =
        value.as_array().ok_or_else(|| geo_err(format!("polygon {index} is not an array of rings")))?;
    if rings.is_empty() {
        return Err(geo_err(format!("polygon {index} has no rings: give an exterior ring")));
    }
    let mut out = Vec::with_capacity(rings.len());
    for (r, ring) in rings.iter().enumerate() {
        let positions = ring
            .as_array()
            .ok_or_else(|| geo_err(format!("polygon {index} ring {r} is not an array of positions")))?;
        if positions.len() < 4 {
            return Err(geo_err(format!(
                "polygon {index} ring {r} has {} positions: a closed ring needs at least 4",
                positions.len()
            )));
        }
        if positions.len() > *budget {
            return Err(geo_err(format!(
                "more than {MAX_POSITIONS} positions in total: simplify the outline"
            )));
        }
        *budget -= positions.len();
        let mut points = Vec::with_capacity(positions.len());
        for (p, position) in positions.iter().enumerate() {
            points.push(
                parse_position(position)
                    .map_err(|why| geo_err(format!("polygon {index} ring {r} position {p}: {why}")))?,
            );
        }
        if points.first() != points.last() {
            return Err(geo_err(format!(
                "polygon {index} ring {r} is not closed: repeat the first position at the end"
            )));
        }
        out.push(points);
    }
    Ok(out)
}

fn parse_position(value: &Value) -> Result<[f64; 2], String> {
    let items = value.as_array().ok_or("not an array [lon, lat]")?;
    if items.len() < 2 || items.len() > 3 {
        return Err(format!("has {} elements: give [lon, lat] or [lon, lat, altitude]", items.len()));
    }
    let mut xy = [0.0; 2];
    for (slot, item) in xy.iter_mut().zip(items) {
        let x = item.as_f64().filter(|x| x.is_finite()).ok_or("coordinates must be finite numbers")?;
        *slot = x;
    }
    if let Some(alt) = items.get(2)
        && !alt.as_f64().is_some_and(f64::is_finite)
    {
        return Err("the altitude must be a finite number".into());
    }
    let [lon, lat] = xy;
    if !(-180.0..=180.0).contains(&lon) {
        return Err(format!("longitude {lon} is outside -180..180 (positions are [lon, lat])"));
    }
    if !(-MAX_POLYGON_LAT..=MAX_POLYGON_LAT).contains(&lat) {
        return Err(format!(
            "latitude {lat} is outside -{MAX_POLYGON_LAT}..{MAX_POLYGON_LAT}: polygon zones must stay away from the poles (use a circle there)"
        ));
    }
    Ok(xy)
}

/// Bounding box of a parsed geometry: ([min lon, min lat], [max lon, max lat]).
fn bbox(parsed: &ParsedGeometry) -> ([f64; 2], [f64; 2]) {
    let mut lo = [f64::INFINITY; 2];
    let mut hi = [f64::NEG_INFINITY; 2];
    for p in parsed.polygons.iter().flatten().flatten() {
        for i in 0..2 {
            lo[i] = lo[i].min(p[i]);
            hi[i] = hi[i].max(p[i]);
        }
    }
    (lo, hi)
}

fn check_extent(parsed: &ParsedGeometry) -> Result<(), ZoneError> {
    let (lo, hi) = bbox(parsed);
    let mid_lat = (lo[1] + hi[1]) / 2.0;
    // The widest parallel of the box is the one closest to the equator.
    let widest = if lo[1] <= 0.0 && hi[1] >= 0.0 { 0.0 } else { lo[1].abs().min(hi[1].abs()) };
    let height_m = (hi[1] - lo[1]).to_radians() * meridional_radius(mid_lat);
    let width_m = (hi[0] - lo[0]).to_radians() * parallel_radius(widest);
    if !(height_m <= MAX_EXTENT_M && width_m <= MAX_EXTENT_M) {
        return Err(geo_err(format!(
            "its bounding box is {:.0} m × {:.0} m: zones must fit within 100 km on each side (and must not cross the antimeridian)",
            width_m, height_m
        )));
    }
    Ok(())
}

/// WGS 84 meridional radius of curvature at a latitude (degrees): metres per radian of latitude.
fn meridional_radius(lat: f64) -> f64 {
    let s = lat.to_radians().sin();
    let w = 1.0 - WGS84_E2 * s * s;
    WGS84_A * (1.0 - WGS84_E2) / (w * w.sqrt())
}

/// Radius of a parallel at a latitude (degrees): metres per radian of longitude.
fn parallel_radius(lat: f64) -> f64 {
    let r = lat.to_radians();
    let s = r.sin();
    WGS84_A / (1.0 - WGS84_E2 * s * s).sqrt() * r.cos()
}

/// Longitude difference folded into -180..=180.
fn wrap_lon(d: f64) -> f64 {
    if d > 180.0 {
        d - 360.0
    } else if d < -180.0 {
        d + 360.0
    } else {
        d
    }
}

/// A local metric frame: a sinusoidal projection on the WGS 84 ellipsoid centred on the zone.
/// x is exact along each parallel and y along the central meridian; within 100 km of the centre
/// and 85° of latitude, distances are off by well under 1%.
#[derive(Clone, Copy, Debug, PartialEq)]
struct LocalFrame {
    lat0: f64,
    lon0: f64,
    m_per_rad_lat: f64,
}

impl LocalFrame {
    fn new(lat0: f64, lon0: f64) -> Self {
        Self { lat0, lon0, m_per_rad_lat: meridional_radius(lat0) }
    }

    fn around(parsed: &ParsedGeometry) -> Self {
        let (lo, hi) = bbox(parsed);
        Self::new((lo[1] + hi[1]) / 2.0, (lo[0] + hi[0]) / 2.0)
    }

    fn project(&self, lat: f64, lon: f64) -> Coord<f64> {
        let lat = lat.clamp(-90.0, 90.0);
        Coord {
            x: wrap_lon((lon - self.lon0) % 360.0).to_radians() * parallel_radius(lat),
            y: (lat - self.lat0).to_radians() * self.m_per_rad_lat,
        }
    }
}

/// Twice-signed-area / 2 of a ring (shoelace), in the units of its coordinates squared.
fn shoelace(points: impl Iterator<Item = Coord<f64>>) -> f64 {
    let pts: Vec<Coord<f64>> = points.collect();
    let sum: f64 = pts.windows(2).map(|w| w[0].x * w[1].y - w[1].x * w[0].y).sum();
    sum / 2.0
}

/// The compiled outline.
#[derive(Clone, Debug, PartialEq)]
enum Outline {
    /// Distance by great circle (haversine, mean Earth radius) from the centre.
    Circle { lat: f64, lon: f64, radius_m: f64 },
    /// Polygons projected into a local metric frame, with their rings for boundary distance.
    Area { frame: LocalFrame, polygons: MultiPolygon<f64>, rings: Vec<LineString<f64>> },
}

/// A zone ready for evaluation: the outline in metres, its rule and its search envelope.
#[derive(Clone, Debug, PartialEq)]
pub struct CompiledZone {
    name: String,
    kind: ZoneKind,
    buffer_m: u32,
    schedule: Option<Schedule>,
    outline: Outline,
    envelope: ([f64; 2], [f64; 2]),
}

impl CompiledZone {
    /// Validates and compiles a zone specification.
    pub fn new(spec: &ZoneSpec) -> Result<CompiledZone, ZoneError> {
        validate(spec)?;
        let reach_m = |extra: f64| {
            // Margin over buffer + projection error, so that every position within the buffer
            // (or inside) is inside the envelope.
            (f64::from(spec.buffer_m) + extra) * 1.02 + 50.0
        };
        let (outline, envelope) = match &spec.shape {
            Shape::Circle { lat_e7, lon_e7, radius_m } => {
                let lat = f64::from(*lat_e7) / 1e7;
                let lon = f64::from(*lon_e7) / 1e7;
                let reach = reach_m(f64::from(*radius_m));
                let outline = Outline::Circle { lat, lon, radius_m: f64::from(*radius_m) };
                (outline, envelope_around([lon, lat], [lon, lat], reach))
            }
            Shape::GeoJson { geometry } => {
                let parsed = parse_geojson(geometry)?;
                let frame = LocalFrame::around(&parsed);
                let mut polygons = Vec::with_capacity(parsed.polygons.len());
                let mut all_rings = Vec::new();
                for rings in &parsed.polygons {
                    let mut projected: Vec<LineString<f64>> = rings
                        .iter()
                        .map(|ring| LineString::new(ring.iter().map(|p| frame.project(p[1], p[0])).collect()))
                        .collect();
                    all_rings.extend(projected.iter().cloned());
                    let exterior =
                        if projected.is_empty() { LineString::new(Vec::new()) } else { projected.remove(0) };
                    polygons.push(Polygon::new(exterior, projected));
                }
                let (lo, hi) = bbox(&parsed);
                let outline =
                    Outline::Area { frame, polygons: MultiPolygon::new(polygons), rings: all_rings };
                (outline, envelope_around(lo, hi, reach_m(0.0)))
            }
        };
        Ok(CompiledZone {
            name: spec.name.clone(),
            kind: spec.kind,
            buffer_m: spec.buffer_m,
            schedule: spec.schedule.clone(),
            outline,
            envelope,
        })
    }

    /// The zone's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Stay inside or stay out.
    pub fn kind(&self) -> ZoneKind {
        self.kind
    }

    /// The tolerance buffer, metres.
    pub fn buffer_m(&self) -> u32 {
        self.buffer_m
    }

    /// When the rule applies; `None` = always.
    pub fn schedule(&self) -> Option<&Schedule> {
        self.schedule.as_ref()
    }

    /// The search envelope in degrees, `([min lon, min lat], [max lon, max lat])`: the outline
    /// expanded by the buffer plus a margin. Every position that is inside the zone or within
    /// the buffer of it lies in the envelope.
    pub fn envelope(&self) -> ([f64; 2], [f64; 2]) {
        self.envelope
    }

    /// Whether a position lies in the search envelope.
    pub fn in_envelope(&self, lat: f64, lon: f64) -> bool {
        let (lo, hi) = self.envelope;
        (lo[0]..=hi[0]).contains(&lon) && (lo[1]..=hi[1]).contains(&lat)
    }

    /// Whether a position is inside the outline (the boundary counts as outside; the buffer is
    /// not applied). Non-finite coordinates are outside.
    pub fn inside(&self, lat: f64, lon: f64) -> bool {
        self.signed_distance_m(lat, lon) < 0.0
    }

    /// Distance from a position to the outline's boundary in metres: negative inside, positive
    /// outside (holes are outside). Non-finite coordinates are infinitely far outside.
    pub fn signed_distance_m(&self, lat: f64, lon: f64) -> f64 {
        if !lat.is_finite() || !lon.is_finite() {
            return f64::INFINITY;
        }
        match &self.outline {
            Outline::Circle { lat: clat, lon: clon, radius_m } => {
                Haversine.distance(Point::new(*clon, *clat), Point::new(lon, lat.clamp(-90.0, 90.0)))
                    - radius_m
            }
            Outline::Area { frame, polygons, rings } => {
                let p = Point::from(frame.project(lat, lon));
                let d = rings.iter().map(|r| Euclidean.distance(&p, r)).fold(f64::INFINITY, f64::min);
                if polygons.contains(&p) { -d } else { d }
            }
        }
    }

    /// Whether a signed distance breaches the zone, buffer applied in the wearer's favour: an
    /// inclusion zone when outside by more than the buffer, an exclusion zone when inside by
    /// more than the buffer.
    pub fn breached_at_distance(&self, signed_distance_m: f64) -> bool {
        let buffer = f64::from(self.buffer_m);
        match self.kind {
            ZoneKind::Inclusion => signed_distance_m > buffer,
            ZoneKind::Exclusion => signed_distance_m < -buffer,
        }
    }

    /// Whether a position breaches the zone's geometry (schedule not considered).
    pub fn breached(&self, lat: f64, lon: f64) -> bool {
        self.breached_at_distance(self.signed_distance_m(lat, lon))
    }

    /// Whether the rule applies at a local time: always without a schedule; with one, only
    /// inside its windows (and never when the local time is unknown).
    pub fn applies_at(&self, local: Option<DateTime>) -> bool {
        match (&self.schedule, local) {
            (None, _) => true,
            (Some(s), Some(local)) => s.active_at(local),
            (Some(_), None) => false,
        }
    }
}

/// The envelope of a box `[lo, hi]` (degrees, [lon, lat]) expanded by `reach_m` metres. Falls
/// back to every longitude when the expanded box nears a pole or crosses the antimeridian, so
/// the envelope always contains every position within reach.
fn envelope_around(lo: [f64; 2], hi: [f64; 2], reach_m: f64) -> ([f64; 2], [f64; 2]) {
    // 110_000 m per degree underestimates every meridian degree (110_574..111_694), so the
    // latitude reach is generous.
    let dlat = reach_m / 110_000.0;
    let min_lat = lo[1] - dlat;
    let max_lat = hi[1] + dlat;
    let extreme = min_lat.abs().max(max_lat.abs());
    let lat_range = [min_lat.max(-90.0), max_lat.min(90.0)];
    if extreme >= 89.0 {
        return ([-180.0, lat_range[0]], [180.0, lat_range[1]]);
    }
    let dlon = reach_m / (parallel_radius(extreme).to_radians() * 0.99);
    let (min_lon, max_lon) = (lo[0] - dlon, hi[0] + dlon);
    if min_lon < -180.0 || max_lon > 180.0 {
        return ([-180.0, lat_range[0]], [180.0, lat_range[1]]);
    }
    ([min_lon, lat_range[0]], [max_lon, lat_range[1]])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(lon0: f64, lat0: f64, side: f64) -> String {
        format!(
            r#"{{"type":"Polygon","coordinates":[[[{a},{b}],[{c},{b}],[{c},{d}],[{a},{d}],[{a},{b}]]]}}"#,
            a = lon0,
            b = lat0,
            c = lon0 + side,
            d = lat0 + side
        )
    }

    fn spec(shape: Shape, kind: ZoneKind, buffer_m: u32) -> ZoneSpec {
        ZoneSpec { name: "Home".into(), kind, shape, buffer_m, schedule: None }
    }

    fn circle(lat: f64, lon: f64, radius_m: u32) -> Shape {
        Shape::Circle { lat_e7: (lat * 1e7) as i32, lon_e7: (lon * 1e7) as i32, radius_m }
    }

    fn geo(text: &str) -> Shape {
        Shape::GeoJson { geometry: text.into() }
    }

    fn err(spec: &ZoneSpec) -> String {
        validate(spec).expect_err("must be refused").to_string()
    }

    #[test]
    fn refusals_name_the_problem() {
        let ok = spec(circle(31.0, 121.0, 100), ZoneKind::Inclusion, 0);
        assert_eq!(validate(&ok), Ok(()));

        let mut s = ok.clone();
        s.name = String::new();
        assert!(err(&s).contains("1 to 64 bytes"));
        s.name = "a".repeat(65);
        assert!(err(&s).contains("1 to 64 bytes"));
        s.name = "bad\nname".into();
        assert!(err(&s).contains("control"));

        let mut s = ok.clone();
        s.buffer_m = 5_001;
        assert!(err(&s).contains("at most 5000 m"));

        let s = spec(Shape::Circle { lat_e7: 900_000_001, lon_e7: 0, radius_m: 5 }, ZoneKind::Inclusion, 0);
        assert!(err(&s).contains("lat_e7 must be within"));
        let s =
            spec(Shape::Circle { lat_e7: 0, lon_e7: -1_800_000_001, radius_m: 5 }, ZoneKind::Inclusion, 0);
        assert!(err(&s).contains("lon_e7"));
        for r in [0, 100_001] {
            let s = spec(circle(0.0, 0.0, r), ZoneKind::Inclusion, 0);
            assert!(err(&s).contains("1 to 100000 m"), "{}", err(&s));
        }
    }

    #[test]
    fn geojson_refusals() {
        let cases: &[(&str, &str)] = &[
            ("not json", "not valid JSON"),
            ("[1,2]", "JSON object"),
            (r#"{"type":"Point","coordinates":[1,2]}"#, "only \"Polygon\" and \"MultiPolygon\""),
            (r#"{"type":"Polygon"}"#, "\"coordinates\" is missing"),
            (r#"{"type":"Polygon","coordinates":[]}"#, "no rings"),
            (r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}"#, "at least 4"),
            (r#"{"type":"Polygon","coordinates":[[[0,0],[0.01,0],[0.01,0.01],[0,0.02]]]}"#, "not closed"),
            (r#"{"type":"Polygon","coordinates":[[[0,0],[0.01,0],[0.01,0.01,3,4],[0,0]]]}"#, "4 elements"),
            (r#"{"type":"Polygon","coordinates":[[[0,0],[0.01,"x"],[0.01,0.01],[0,0]]]}"#, "finite numbers"),
            (r#"{"type":"Polygon","coordinates":[[[0,0],[181,0],[0.01,0.01],[0,0]]]}"#, "longitude 181"),
            (r#"{"type":"Polygon","coordinates":[[[0,88],[0.01,88],[0.01,88.01],[0,88]]]}"#, "poles"),
            (r#"{"type":"Polygon","coordinates":[[[0,0],[0.01,0],[0.02,0],[0,0]]]}"#, "encloses no area"),
            (r#"{"type":"MultiPolygon","coordinates":[]}"#, "1 to 100"),
            (r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}"#, "within 100 km"),
            (
                r#"{"type":"Polygon","coordinates":[[[179.9,0],[-179.9,0],[-179.9,0.1],[179.9,0]]]}"#,
                "antimeridian",
            ),
        ];
        for (text, needle) in cases {
            let e = err(&spec(geo(text), ZoneKind::Exclusion, 0));
            assert!(e.contains(needle), "{text}: {e}");
        }
        let big = " ".repeat(MAX_GEOJSON_BYTES + 1);
        assert!(err(&spec(geo(&big), ZoneKind::Exclusion, 0)).contains("at most 65536"));

        // 10,001 positions of 6 bytes each fit in 64 KiB but exceed the position limit.
        let ring = vec!["[0,0]"; 10_001].join(",");
        let text = format!(r#"{{"type":"Polygon","coordinates":[[{ring}]]}}"#);
        assert!(text.len() <= MAX_GEOJSON_BYTES);
        assert!(err(&spec(geo(&text), ZoneKind::Exclusion, 0)).contains("more than 10000 positions"));

        let many: Vec<String> =
            (0..101).map(|_| "[[[0,0],[0.001,0],[0.001,0.001],[0,0]]]".to_string()).collect();
        let text = format!(r#"{{"type":"MultiPolygon","coordinates":[{}]}}"#, many.join(","));
        assert!(err(&spec(geo(&text), ZoneKind::Exclusion, 0)).contains("101 polygons"));
    }

    #[test]
    fn schedule_refusals() {
        let mut s = spec(circle(0.0, 0.0, 10), ZoneKind::Inclusion, 0);
        s.schedule = Some(Schedule { windows: vec![] });
        assert!(err(&s).contains("0 windows"));
        s.schedule = Some(Schedule { windows: vec![Window { days: vec![], start: 0, end: 60 }] });
        assert!(err(&s).contains("0 days"));
        s.schedule = Some(Schedule {
            windows: vec![Window { days: vec![Weekday::Mon, Weekday::Mon], start: 0, end: 60 }],
        });
        assert!(err(&s).contains("Mon twice"));
        s.schedule =
            Some(Schedule { windows: vec![Window { days: vec![Weekday::Mon], start: 1440, end: 60 }] });
        assert!(err(&s).contains("below 1440"));
        let w = Window { days: vec![Weekday::Mon], start: 0, end: 60 };
        s.schedule = Some(Schedule { windows: vec![w; 29] });
        assert!(err(&s).contains("29 windows"));
    }

    #[test]
    fn canonical_form_is_compact_and_stable() {
        let text = r#" { "bbox": [0,0,1,1], "coordinates": [[[0, 0, 12], [0.01, 0], [0.01, 0.01], [-0.0, 0.01], [0, 0, 12]]], "type": "Polygon", "x": 1 } "#;
        let c = canonical_geojson(text).expect("valid");
        assert_eq!(
            c,
            r#"{"coordinates":[[[0.0,0.0],[0.01,0.0],[0.01,0.01],[0.0,0.01],[0.0,0.0]]],"type":"Polygon"}"#
        );
        assert_eq!(canonical_geojson(&c), Ok(c.clone()));
        let multi = format!(
            r#"{{"type":"MultiPolygon","coordinates":[{0},{0}]}}"#,
            "[[[0,0],[1e-3,0],[1e-3,1e-3],[0,0]]]"
        );
        let c = canonical_geojson(&multi).expect("valid");
        assert!(
            c.starts_with(r#"{"coordinates":[[[[0.0,0.0],[0.001,0.0]"#)
                && c.ends_with(r#""type":"MultiPolygon"}"#)
        );
    }

    #[test]
    fn square_polygon_distances() {
        // A 0.01° square at the equator: 1113.19 m east-west, 1105.74 m north-south.
        let z =
            CompiledZone::new(&spec(geo(&square(0.0, 0.0, 0.01)), ZoneKind::Inclusion, 0)).expect("valid");
        let d = z.signed_distance_m(0.005, 0.005);
        assert!((d + 552.87).abs() < 1.0, "{d}");
        assert!(z.inside(0.005, 0.005));
        // 0.001° east of the east edge: 111.32 m outside.
        let d = z.signed_distance_m(0.005, 0.011);
        assert!((d - 111.32).abs() < 0.2, "{d}");
        assert!(!z.inside(0.005, 0.011));
        // West of the west edge, across lon 0 (negative longitudes).
        let d = z.signed_distance_m(0.005, -0.002);
        assert!((d - 222.64).abs() < 0.3, "{d}");
        // Width of the square as projected.
        let w = z.signed_distance_m(0.005, 0.0001);
        assert!((w + 11.13).abs() < 0.05, "{w}");
        assert!(!z.inside(f64::NAN, 0.0));
    }

    #[test]
    fn polygon_with_hole() {
        let text = r#"{"type":"Polygon","coordinates":[
            [[0,0],[0.01,0],[0.01,0.01],[0,0.01],[0,0]],
            [[0.004,0.004],[0.006,0.004],[0.006,0.006],[0.004,0.006],[0.004,0.004]]]}"#;
        let z = CompiledZone::new(&spec(geo(text), ZoneKind::Inclusion, 0)).expect("valid");
        // The centre is in the hole: 0.001° (≈110.6 m north-south, 111.3 east-west) from its edges.
        let d = z.signed_distance_m(0.005, 0.005);
        assert!(!z.inside(0.005, 0.005));
        assert!((d - 110.57).abs() < 0.3, "{d}");
        // Between the hole and the outer edge: 0.002° from the hole's west edge, 0.002° from
        // the outer west edge at lon 0.
        let d = z.signed_distance_m(0.005, 0.002);
        assert!(z.inside(0.005, 0.002));
        assert!((d + 222.64).abs() < 0.3, "{d}");
    }

    #[test]
    fn circle_distances() {
        // 0.01° of latitude on the mean-radius sphere is 1111.95 m.
        let z = CompiledZone::new(&spec(circle(31.2, 121.5, 500), ZoneKind::Inclusion, 0)).expect("valid");
        let d = z.signed_distance_m(31.21, 121.5);
        assert!((d - 611.95).abs() < 0.5, "{d}");
        assert!(z.inside(31.2001, 121.5001));
        assert!((z.signed_distance_m(31.2, 121.5) + 500.0).abs() < 1e-6);
        // East-west: 0.01° of longitude at 31.2° ≈ 1111.95 · cos(31.2°) = 950.8 m.
        let d = z.signed_distance_m(31.2, 121.51);
        assert!((d - 450.8).abs() < 1.0, "{d}");
    }

    #[test]
    fn buffer_favours_the_wearer() {
        // Inclusion, 100 m buffer: 60 m outside is fine, 150 m outside breaches.
        let inc =
            CompiledZone::new(&spec(geo(&square(0.0, 0.0, 0.01)), ZoneKind::Inclusion, 100)).expect("valid");
        assert!(!inc.breached(0.005, 0.01 + 60.0 / 111_320.0));
        assert!(inc.breached(0.005, 0.01 + 150.0 / 111_320.0));
        assert!(!inc.breached(0.005, 0.005));
        // Exclusion, 100 m buffer: 60 m inside is fine, 150 m inside breaches, outside is fine.
        let exc =
            CompiledZone::new(&spec(geo(&square(0.0, 0.0, 0.01)), ZoneKind::Exclusion, 100)).expect("valid");
        assert!(!exc.breached(0.005, 0.01 - 60.0 / 111_320.0));
        assert!(exc.breached(0.005, 0.01 - 150.0 / 111_320.0));
        assert!(!exc.breached(0.005, 0.02));
        // The envelope covers the buffer.
        assert!(inc.in_envelope(0.005, 0.01 + 100.0 / 111_320.0));
        assert!(!inc.in_envelope(0.005, 0.02));
        // Circles too.
        let c = CompiledZone::new(&spec(circle(0.0, 0.0, 100), ZoneKind::Exclusion, 30)).expect("valid");
        assert!(!c.breached(0.0, 80.0 / 111_195.0));
        assert!(c.breached(0.0, 60.0 / 111_195.0));
    }

    #[test]
    fn envelopes_near_the_antimeridian_and_poles() {
        let c =
            CompiledZone::new(&spec(circle(10.0, 179.999, 1_000), ZoneKind::Exclusion, 0)).expect("valid");
        assert!(c.in_envelope(10.0, -179.999));
        assert!(c.breached(10.0, -179.9995));
        let p = CompiledZone::new(&spec(circle(89.99, 0.0, 5_000), ZoneKind::Inclusion, 0)).expect("valid");
        assert!(p.in_envelope(89.995, 135.0));
        assert!(p.inside(89.995, 135.0));
    }

    fn window(days: &[Weekday], start: u16, end: u16) -> Window {
        Window { days: days.to_vec(), start, end }
    }

    fn at(y: i16, m: i8, d: i8, h: i8, min: i8) -> DateTime {
        jiff::civil::date(y, m, d).at(h, min, 0, 0)
    }

    #[test]
    fn schedule_windows() {
        // 2024-06-03 is a Monday.
        let s = Schedule { windows: vec![window(&[Weekday::Mon], 1320, 360)] };
        assert!(!s.active_at(at(2024, 6, 3, 21, 59)));
        assert!(s.active_at(at(2024, 6, 3, 22, 0)));
        assert!(s.active_at(at(2024, 6, 3, 23, 59)));
        // Wraps into Tuesday morning (the day rule: the window belongs to its start day).
        assert!(s.active_at(at(2024, 6, 4, 5, 59)));
        assert!(!s.active_at(at(2024, 6, 4, 6, 0)));
        assert!(!s.active_at(at(2024, 6, 4, 22, 30)));
        // Monday early morning belongs to Sunday's window, which does not exist.
        assert!(!s.active_at(at(2024, 6, 3, 1, 0)));

        let day = Schedule { windows: vec![window(&[Weekday::Sat, Weekday::Sun], 480, 1020)] };
        assert!(day.active_at(at(2024, 6, 8, 8, 0)));
        assert!(!day.active_at(at(2024, 6, 8, 17, 0)));
        assert!(!day.active_at(at(2024, 6, 10, 9, 0)));

        // end == start: 24 h from 08:00 Wednesday to 08:00 Thursday.
        let full = Schedule { windows: vec![window(&[Weekday::Wed], 480, 480)] };
        assert!(!full.active_at(at(2024, 6, 5, 7, 59)));
        assert!(full.active_at(at(2024, 6, 5, 8, 0)));
        assert!(full.active_at(at(2024, 6, 6, 7, 59)));
        assert!(!full.active_at(at(2024, 6, 6, 8, 0)));
        assert_eq!(s.windows[0].to_string(), "22:00–06:00");
    }

    #[test]
    fn time_zones() {
        assert_eq!(check_time_zone("Asia/Shanghai"), Ok(()));
        assert_eq!(check_time_zone("Europe/Berlin"), Ok(()));
        assert_eq!(check_time_zone("UTC"), Ok(()));
        for bad in ["", "Mars/Olympus", "asia/shanghai", "Etc/Unknown"] {
            assert!(check_time_zone(bad).is_err(), "{bad}");
        }
        assert!(check_time_zone(&"A".repeat(65)).unwrap_err().to_string().contains("1 to 64 bytes"));
        assert!(check_time_zone("asia/shanghai").unwrap_err().to_string().contains("\"Asia/Shanghai\""));

        // 2024-01-01T00:00:00Z is 08:00 in Shanghai.
        let t = UnixMillis::new(1_704_067_200_000);
        assert_eq!(local_time_in(t, "Asia/Shanghai"), Ok(at(2024, 1, 1, 8, 0)));
        // Berlin: UTC+1 in winter, UTC+2 after 2024-03-31 01:00Z.
        assert_eq!(
            local_time_in(UnixMillis::new(1_711_846_800_000 - 1), "Europe/Berlin").map(|d| d.hour()),
            Ok(1)
        );
        assert_eq!(
            local_time_in(UnixMillis::new(1_711_846_800_000), "Europe/Berlin").map(|d| d.hour()),
            Ok(3)
        );
        assert!(local_time(UnixMillis::new(u64::MAX), &TimeZone::UTC).is_none());
    }

    proptest::proptest! {
        #[test]
        fn random_geometry_never_panics(
            text in "\\PC{0,200}",
            corners in proptest::collection::vec((-0.05..0.05f64, -0.05..0.05f64), 3..8),
            (lat0, lon0) in (-89.0..89.0f64, -179.9..179.9f64),
            (plat, plon) in (proptest::num::f64::ANY, proptest::num::f64::ANY),
            (dlat, dlon) in (-0.1..0.1f64, -0.1..0.1f64),
            buffer_m in 0u32..6000,
        ) {
            let _ = canonical_geojson(&text);
            let mut ring: Vec<String> = corners
                .iter()
                .map(|(a, b)| format!("[{},{}]", lon0 + a, (lat0 + b).clamp(-85.0, 85.0)))
                .collect();
            ring.push(ring[0].clone());
            let text = format!(r#"{{"type":"Polygon","coordinates":[[{}]]}}"#, ring.join(","));
            if let Ok(c) = canonical_geojson(&text) {
                proptest::prop_assert_eq!(canonical_geojson(&c), Ok(c.clone()));
            }
            let shapes = [geo(&text), circle(lat0, lon0, 1 + buffer_m * 10)];
            for shape in shapes {
                if let Ok(z) = CompiledZone::new(&spec(shape, ZoneKind::Inclusion, buffer_m)) {
                    for (lat, lon) in [(plat, plon), (lat0 + dlat, lon0 + dlon)] {
                        let d = z.signed_distance_m(lat, lon);
                        proptest::prop_assert_eq!(z.inside(lat, lon), d < 0.0);
                        // Whatever is within the buffer lies in the envelope.
                        if d <= f64::from(buffer_m) {
                            proptest::prop_assert!(z.in_envelope(lat, lon), "{} {} {}", lat, lon, d);
                        }
                    }
                }
            }
        }
    }
}
