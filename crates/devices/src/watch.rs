//! The "watch" protocol of Chinese GPS smartwatches and wristbands over TCP (the `3G`/`SG`/`CS`/
//! `ZJ` family that Traccar calls `watch`).
//!
//! A frame is `[MM*ID*LLLL*CONTENT]` or `[MM*ID*IIII*LLLL*CONTENT]`: `MM` a two-character maker
//! code, `ID` the device id, `IIII` an optional 4-hex-digit message index, `LLLL` the content
//! length in 4 hex digits, and `CONTENT` a type (`LK`, `UD`, `AL`, …) followed by
//! comma-separated fields. Inside fields the bytes `} [ ] , *` travel escaped as `}` followed by
//! the byte 0x01..=0x05 respectively.
//!
//! What it guarantees:
//! - [`FrameReader`] never panics on any byte stream, skips garbage between frames, never
//!   rejects a frame because its length field disagrees with its content (devices get it wrong),
//!   holds at most [`MAX_RAW_FRAME_BYTES`] of an incomplete frame, and after an oversize or
//!   truncated frame reports one error and resynchronises at the next `[`.
//! - [`decode`] is a pure function of the frame: the fix time is the UTC date and time the
//!   device wrote, never the time of receipt.
//! - [`encode`] output is read back by [`FrameReader`] as the same maker, id, index and content.
//!
//! Status word (16th position field, hex), as Traccar's `WatchProtocolDecoder` reads it. Unlike
//! Traccar, which keeps only the first set bit, every set bit below is reported:
//!
//! | bit | meaning (protocol documents)     | [`Alarm`]                    |
//! |-----|----------------------------------|------------------------------|
//! | 0   | low battery (state)              | [`Alarm::LowBattery`]        |
//! | 1   | outside fence (state)            | [`Alarm::Geofence`]          |
//! | 2   | inside fence (state)             | [`Alarm::Geofence`]          |
//! | 4   | moving (state)                   | — (not an alarm)             |
//! | 14  | external power cut               | [`Alarm::PowerCut`]          |
//! | 16  | SOS                              | [`Alarm::Sos`]               |
//! | 17  | low battery alarm                | [`Alarm::LowBattery`]        |
//! | 18  | geofence exit alarm              | [`Alarm::Geofence`]          |
//! | 19  | geofence enter alarm             | [`Alarm::Geofence`]          |
//! | 20  | watch/strap removed (tamper)     | [`Alarm::StrapRemoved`]      |
//! | 21  | fall down                        | [`Alarm::Fall`]              |
//! | 22  | fall down (second variant)       | [`Alarm::Fall`]              |
//!
//! Reference read (not copied): Traccar's `WatchFrameDecoder.java`, `WatchProtocolDecoder.java`
//! and their tests.

use std::collections::{BTreeSet, VecDeque};

use crate::{
    Alarm, FieldError, Fix, MAX_CONTENT_BYTES, MAX_DEVICE_ID_CHARS, Report, ReportKind, check_device,
    check_lat_lon, parse_f64, position_kind, time::Civil,
};

/// Largest raw frame, brackets and escapes included, that [`FrameReader`] buffers: the longest
/// frame with valid content and device id. Escaping at most doubles the content; a device id
/// character takes at most 4 bytes (2 when escaped, up to 4 in UTF-8); the rest is 16 bytes
/// (`[`, the 2-character maker, four `*`, the index and length fields, `]`).
pub const MAX_RAW_FRAME_BYTES: usize = 2 * MAX_CONTENT_BYTES + 4 * MAX_DEVICE_ID_CHARS + 16;

/// The escape byte; followed by 0x01..=0x05 it stands for `} [ ] , *`.
const ESCAPE: u8 = b'}';
const ESCAPED: [u8; 5] = [b'}', b'[', b']', b',', b'*'];

/// Why a watch frame or its content was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WatchError {
    /// A frame grew past [`MAX_RAW_FRAME_BYTES`] without its closing `]`; it was dropped.
    #[error("frame longer than {limit} bytes dropped; resynchronising at the next '['")]
    FrameTooLong {
        /// The limit.
        limit: usize,
    },
    /// A `[` arrived before the previous frame's `]`; the partial frame was dropped.
    #[error("frame truncated: a new '[' started before ']'; the partial frame was dropped")]
    FrameTruncated,
    /// `}` followed by a byte other than 0x01..=0x05.
    #[error("invalid escape: '}}' followed by byte 0x{0:02x} (expected 0x01..=0x05)")]
    BadEscape(u8),
    /// The `MM*ID*[IIII*]LLLL*` header is malformed.
    #[error("malformed frame header: {0}")]
    BadHeader(&'static str),
    /// The unescaped content is longer than [`MAX_CONTENT_BYTES`].
    #[error("frame content of {len} bytes exceeds {limit}")]
    ContentTooLong {
        /// Content length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// A text message (`LK`, `UD`, `AL`, …) is not valid UTF-8.
    #[error("{0} content is not text")]
    NotText(String),
    /// A position message has fewer fields than the protocol requires.
    #[error("{kind} has {got} fields, expected at least {expected}")]
    TooFewFields {
        /// Content type.
        kind: String,
        /// Fields present.
        got: usize,
        /// Fields required.
        expected: usize,
    },
    /// One field is malformed or out of range.
    #[error("{kind} {source}")]
    Field {
        /// Content type.
        kind: String,
        /// What is wrong.
        source: FieldError,
    },
}

/// One frame with its escapes removed. The length field is kept as sent, never trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Two-character maker code (`3G`, `SG`, `CS`, `ZJ`, …), echoed in replies.
    pub maker: String,
    /// Device id, 1..=64 characters.
    pub device: String,
    /// Message index, present only in the `[MM*ID*IIII*LLLL*…]` form.
    pub index: Option<u16>,
    /// The length field as the device sent it; may disagree with `content.len()`.
    pub declared_len: u16,
    /// Unescaped content, e.g. `LK,0,0,53`; binary for audio/image types.
    pub content: Vec<u8>,
}

impl Frame {
    /// The content type: the bytes before the first `,` (`LK`, `UD`, `AL`, `TK`, …).
    pub fn content_type(&self) -> &[u8] {
        let end = self.content.iter().position(|&b| b == b',').unwrap_or(self.content.len());
        &self.content[..end]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReaderState {
    /// Between frames: skipping bytes until `[`.
    Seeking,
    /// Inside a frame: collecting bytes until `]`.
    InFrame,
    /// After an oversize frame: skipping bytes until the next `[`.
    Discarding,
}

/// Splits a TCP byte stream into [`Frame`]s.
///
/// Feed received bytes with [`push`](Self::push), then call [`next_frame`](Self::next_frame)
/// until it returns `None`. The reader holds at most one incomplete frame of
/// [`MAX_RAW_FRAME_BYTES`]; complete frames wait in a queue until taken, so a caller that drains
/// after every push holds no more than one push's worth of frames.
#[derive(Debug)]
pub struct FrameReader {
    state: ReaderState,
    partial: Vec<u8>,
    ready: VecDeque<Result<Frame, WatchError>>,
}

impl Default for FrameReader {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameReader {
    /// An empty reader.
    pub fn new() -> Self {
        Self { state: ReaderState::Seeking, partial: Vec::new(), ready: VecDeque::new() }
    }

    /// Bytes of the incomplete frame currently buffered (for metrics and tests).
    pub fn buffered(&self) -> usize {
        self.partial.len()
    }

    /// Appends received bytes, completing any frames they close.
    pub fn push(&mut self, bytes: &[u8]) {
        for &b in bytes {
            match (self.state, b) {
                (ReaderState::Seeking | ReaderState::Discarding, b'[') => {
                    self.partial.clear();
                    self.state = ReaderState::InFrame;
                }
                (ReaderState::Seeking | ReaderState::Discarding, _) => {}
                (ReaderState::InFrame, b'[') => {
                    // Raw '[' never occurs inside a frame, so the previous frame lost its end.
                    self.partial.clear();
                    self.ready.push_back(Err(WatchError::FrameTruncated));
                }
                (ReaderState::InFrame, b']') => {
                    self.ready.push_back(parse_frame(&self.partial));
                    self.partial.clear();
                    self.state = ReaderState::Seeking;
                }
                (ReaderState::InFrame, _) => {
                    // The opening '[' and closing ']' are not stored, hence the 2.
                    if self.partial.len() + 2 >= MAX_RAW_FRAME_BYTES {
                        self.partial.clear();
                        self.partial.shrink_to(MAX_RAW_FRAME_BYTES);
                        self.ready.push_back(Err(WatchError::FrameTooLong { limit: MAX_RAW_FRAME_BYTES }));
                        self.state = ReaderState::Discarding;
                    } else {
                        self.partial.push(b);
                    }
                }
            }
        }
    }

    /// The next complete frame, or an error for a frame that was dropped; `None` when more bytes
    /// are needed.
    pub fn next_frame(&mut self) -> Option<Result<Frame, WatchError>> {
        self.ready.pop_front()
    }
}

fn unescape(raw: &[u8]) -> Result<Vec<u8>, WatchError> {
    let mut out = Vec::with_capacity(raw.len());
    let mut bytes = raw.iter();
    while let Some(&b) = bytes.next() {
        if b == ESCAPE {
            let code = bytes.next().copied().unwrap_or(b']');
            match code {
                1..=5 => out.push(ESCAPED[usize::from(code - 1)]),
                other => return Err(WatchError::BadEscape(other)),
            }
        } else {
            out.push(b);
        }
    }
    Ok(out)
}

fn hex4(field: &[u8]) -> Option<u16> {
    if field.len() != 4 || !field.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u16::from_str_radix(std::str::from_utf8(field).ok()?, 16).ok()
}

/// Parses the bytes between `[` and `]`, escapes still in place. Raw `*` are delimiters, so the
/// header is split before unescaping.
fn parse_frame(raw: &[u8]) -> Result<Frame, WatchError> {
    let mut parts = raw.splitn(4, |&b| b == b'*');
    let maker = parts.next().unwrap_or_default();
    let id = parts.next().ok_or(WatchError::BadHeader("no '*' after the maker code"))?;
    let third = parts.next().ok_or(WatchError::BadHeader("no '*' after the device id"))?;
    let rest = parts.next().ok_or(WatchError::BadHeader("no '*' after the length field"))?;

    let field3 = hex4(third).ok_or(WatchError::BadHeader("length/index is not 4 hex digits"))?;
    // The index form has a second 4-hex field followed by '*' (the rule Traccar uses).
    let (index, declared_len, content) = match (rest.get(..4).and_then(hex4), rest.get(4)) {
        (Some(len), Some(b'*')) => (Some(field3), len, &rest[5..]),
        _ => (None, field3, rest),
    };

    let maker = unescape(maker)?;
    if maker.len() != 2 || !maker.iter().all(u8::is_ascii_alphanumeric) {
        return Err(WatchError::BadHeader("maker code is not 2 ASCII letters/digits"));
    }
    let id = String::from_utf8(unescape(id)?).map_err(|_| WatchError::BadHeader("device id is not UTF-8"))?;
    let device = check_device("ID", &id)
        .map_err(|e| WatchError::Field { kind: "frame header".to_owned(), source: e })?;
    let content = unescape(content)?;
    if content.len() > MAX_CONTENT_BYTES {
        return Err(WatchError::ContentTooLong { len: content.len(), limit: MAX_CONTENT_BYTES });
    }
    Ok(Frame { maker: String::from_utf8_lossy(&maker).into_owned(), device, index, declared_len, content })
}

/// Encodes a frame: escapes `} [ ] *` in every field and writes the length of the unescaped
/// content in 4 lowercase hex digits (saturating at `ffff`), as Traccar's replies do. Commas are
/// left alone because they separate the content's fields.
pub fn encode(maker: &str, id: &str, index: Option<u16>, content: &[u8]) -> Vec<u8> {
    fn escape_into(out: &mut Vec<u8>, bytes: &[u8]) {
        for &b in bytes {
            match b {
                b'}' | b'[' | b']' | b'*' => {
                    out.push(ESCAPE);
                    // Position in ESCAPED is 0..5, so the code is 1..=5.
                    let code = ESCAPED.iter().position(|&e| e == b).unwrap_or(0) as u8 + 1;
                    out.push(code);
                }
                _ => out.push(b),
            }
        }
    }
    let len = u16::try_from(content.len()).unwrap_or(u16::MAX);
    let mut out = Vec::with_capacity(content.len() + id.len() + 20);
    out.push(b'[');
    escape_into(&mut out, maker.as_bytes());
    out.push(b'*');
    escape_into(&mut out, id.as_bytes());
    out.push(b'*');
    if let Some(index) = index {
        out.extend_from_slice(format!("{index:04x}*").as_bytes());
    }
    out.extend_from_slice(format!("{len:04x}*").as_bytes());
    escape_into(&mut out, content);
    out.push(b']');
    out
}

/// The `ddmmyy` and `hhmmss` (UTC) fields a position frame carries for Unix milliseconds `ms`,
/// for encoders (tests, simulators).
pub fn date_time_fields(ms: u64) -> (String, String) {
    let c = crate::time::civil_from_unix_ms(ms);
    (
        format!("{:02}{:02}{:02}", c.day, c.month, c.year.rem_euclid(100)),
        format!("{:02}{:02}{:02}", c.hour, c.minute, c.second),
    )
}

/// The reply the device expects, if any: `LK` → `LK`, `AL*` → `AL` (the device repeats an
/// unacknowledged alarm), and, as Traccar does, `INIT` → `INIT,1` and `TKQ`/`TKQ2` echoed. The
/// reply uses the frame's maker, id and index form.
pub fn reply(frame: &Frame) -> Option<Vec<u8>> {
    let kind = frame.content_type();
    let content: &[u8] = match kind {
        b"LK" => b"LK",
        b"INIT" => b"INIT,1",
        b"TKQ" | b"TKQ2" => kind,
        k if k.starts_with(b"AL") => b"AL",
        _ => return None,
    };
    Some(encode(&frame.maker, &frame.device, frame.index, content))
}

/// Decodes a frame's content. `LK` is a heartbeat (optionally `,steps,rolls,battery`); types
/// starting with `UD` or `AL` (`UD`, `UD2`, `UD_LTE`, `UD_WCDMA`, `AL`, `AL_LTE`, …) and `WT`
/// carry a position; `AL*` is always an alarm. Other types (audio, images, health readings,
/// command acknowledgements) return `Ok(None)`.
pub fn decode(frame: &Frame) -> Result<Option<Report>, WatchError> {
    let kind_bytes = frame.content_type();
    let is_lk = kind_bytes == b"LK";
    let is_position = kind_bytes.starts_with(b"UD") || kind_bytes.starts_with(b"AL") || kind_bytes == b"WT";
    if !is_lk && !is_position {
        return Ok(None);
    }
    let content = std::str::from_utf8(&frame.content)
        .map_err(|_| WatchError::NotText(String::from_utf8_lossy(kind_bytes).into_owned()))?;
    let (kind, fields) = match content.split_once(',') {
        Some((k, rest)) => (k, rest.split(',').collect::<Vec<_>>()),
        None => (content, Vec::new()),
    };
    let field_err = |source: FieldError| WatchError::Field { kind: kind.to_owned(), source };
    if is_lk {
        decode_heartbeat(frame, &fields).map_err(field_err).map(Some)
    } else {
        const REQUIRED: usize = 16;
        if fields.len() < REQUIRED {
            return Err(WatchError::TooFewFields {
                kind: kind.to_owned(),
                got: fields.len(),
                expected: REQUIRED,
            });
        }
        decode_position(frame, kind, &fields).map_err(field_err).map(Some)
    }
}

fn parse_int<T: std::str::FromStr>(field: &str, value: &str) -> Result<T, FieldError> {
    value.trim().parse().map_err(|_| FieldError::invalid(field, value, "is not a whole number in range"))
}

fn battery(value: &str) -> Result<u8, FieldError> {
    let pct: u8 = parse_int("battery", value)?;
    if pct > 100 {
        return Err(FieldError::invalid("battery", value, "is outside 0..=100 percent"));
    }
    Ok(pct)
}

fn decode_heartbeat(frame: &Frame, fields: &[&str]) -> Result<Report, FieldError> {
    let non_empty = |i: usize| fields.get(i).copied().filter(|v| !v.trim().is_empty());
    let steps = non_empty(0).map(|v| parse_int::<u32>("steps", v)).transpose()?;
    let battery_pct = non_empty(2).map(battery).transpose()?;
    Ok(Report {
        device: frame.device.clone(),
        kind: ReportKind::Heartbeat,
        fix: None,
        battery_pct,
        steps,
        charging: None,
        alarms: BTreeSet::new(),
    })
}

/// Applies a hemisphere letter: `S`/`W` make the value negative, `N`/`E` and an empty field
/// leave the sign as written.
fn hemisphere(field: &str, value: f64, hem: &str) -> Result<f64, FieldError> {
    match hem.trim() {
        "" | "N" | "E" => Ok(value),
        "S" | "W" => Ok(-value.abs()),
        other => Err(FieldError::invalid(field, other, "is not a hemisphere (N/S/E/W)")),
    }
}

fn six_digits(field: &str, value: &str) -> Result<[u32; 3], FieldError> {
    let b = value.as_bytes();
    if b.len() != 6 || !b.iter().all(u8::is_ascii_digit) {
        return Err(FieldError::invalid(field, value, "is not 6 digits"));
    }
    let pair = |i: usize| u32::from(b[i] - b'0') * 10 + u32::from(b[i + 1] - b'0');
    Ok([pair(0), pair(2), pair(4)])
}

fn status_alarms(status: u32) -> BTreeSet<Alarm> {
    const TABLE: [(u32, Alarm); 11] = [
        (0, Alarm::LowBattery),
        (1, Alarm::Geofence),
        (2, Alarm::Geofence),
        (14, Alarm::PowerCut),
        (16, Alarm::Sos),
        (17, Alarm::LowBattery),
        (18, Alarm::Geofence),
        (19, Alarm::Geofence),
        (20, Alarm::StrapRemoved),
        (21, Alarm::Fall),
        (22, Alarm::Fall),
    ];
    TABLE.iter().filter(|(bit, _)| status & (1 << bit) != 0).map(|(_, alarm)| alarm.clone()).collect()
}

fn decode_position(frame: &Frame, kind: &str, f: &[&str]) -> Result<Report, FieldError> {
    let [day, month, yy] = six_digits("date", f[0])?;
    let [hour, minute, second] = six_digits("time", f[1])?;
    let civil = Civil { year: 2000 + i64::from(yy), month, day, hour, minute, second, millis: 0 };
    let time_ms = civil.to_unix_ms(0).ok_or_else(|| {
        FieldError::invalid("date/time", &format!("{},{}", f[0], f[1]), "is not a real UTC date and time")
    })?;
    let valid = match f[2].trim() {
        "A" => true,
        "V" => false,
        other => return Err(FieldError::invalid("validity", other, "is not A or V")),
    };
    let lat = hemisphere("lat hemisphere", parse_f64("lat", f[3])?, f[4])?;
    let lon = hemisphere("lon hemisphere", parse_f64("lon", f[5])?, f[6])?;
    check_lat_lon(lat, lon)?;
    let speed_kmh = parse_f64("speed", f[7])?;
    let course_deg = parse_f64("course", f[8])?;
    let altitude_m = parse_f64("altitude", f[9])?;
    let satellites: u8 = parse_int("satellites", f[10])?;
    let battery_pct = battery(f[12])?;
    let steps: u32 = parse_int("steps", f[13])?;
    let status_text = f[15].trim();
    if status_text.is_empty() || status_text.len() > 8 {
        return Err(FieldError::invalid("status", f[15], "is not 1..=8 hex digits"));
    }
    let status = u32::from_str_radix(status_text, 16)
        .map_err(|_| FieldError::invalid("status", f[15], "is not 1..=8 hex digits"))?;
    let alarms = status_alarms(status);
    let kind = if kind.starts_with("AL") { ReportKind::Alarm } else { position_kind(&alarms) };
    Ok(Report {
        device: frame.device.clone(),
        kind,
        fix: Some(Fix {
            time_ms,
            lat,
            lon,
            valid,
            speed_kmh: Some(speed_kmh),
            course_deg: Some(course_deg),
            altitude_m: Some(altitude_m),
            accuracy_m: None,
            hdop: None,
            satellites: Some(satellites),
        }),
        battery_pct: Some(battery_pct),
        steps: Some(steps),
        charging: None,
        alarms,
    })
}

#[cfg(test)]
mod tests;
