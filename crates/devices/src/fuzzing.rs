//! The bodies of the `cargo fuzz` targets in the repository's `fuzz/` directory, kept here so
//! the same checks also run on stable in this crate's tests.
//!
//! Each function feeds arbitrary bytes to one decoder and panics if a documented guarantee is
//! broken, and returns normally otherwise. It checks that decoding never panics; that the
//! [`FrameReader`] never buffers more than [`MAX_RAW_FRAME_BYTES`]; that every frame it reads
//! comes back unchanged through [`watch::encode`] and a fresh reader, and its reply is addressed
//! to the same maker, device and index; and that every [`Report`] has a device id of
//! 1..=[`MAX_DEVICE_ID_CHARS`] characters, a position (if any) on the globe, only finite numbers,
//! a battery charge of at most 100% and the kind its alarms call for.

use crate::{
    Alarm, MAX_CONTENT_BYTES, MAX_DEVICE_ID_CHARS, Report, ReportKind, osmand,
    watch::{self, Frame, FrameReader, MAX_RAW_FRAME_BYTES},
};

/// Reads `data` as a watch TCP stream, decoding and answering every frame.
///
/// The stream is pushed in pieces of 1..=32 bytes, each piece's length picked by its own first
/// byte, so frames are split at input-dependent places as TCP would split them.
///
/// # Panics
/// If a guarantee of [`watch`] or of [`Report`] is broken.
pub fn watch_stream(data: &[u8]) {
    let mut reader = FrameReader::new();
    let mut rest = data;
    while let Some(&first) = rest.first() {
        let (piece, tail) = rest.split_at((usize::from(first % 32) + 1).min(rest.len()));
        rest = tail;
        reader.push(piece);
        assert!(
            reader.buffered() <= MAX_RAW_FRAME_BYTES,
            "reader buffers {} bytes, more than {MAX_RAW_FRAME_BYTES}",
            reader.buffered()
        );
        while let Some(read) = reader.next_frame() {
            match read {
                Ok(frame) => check_frame(&frame),
                Err(e) => assert!(!e.to_string().is_empty()),
            }
        }
    }
}

fn check_frame(frame: &Frame) {
    assert_eq!(frame.maker.chars().count(), 2, "maker {:?} is not two characters", frame.maker);
    check_device(&frame.device);
    assert!(frame.content.len() <= MAX_CONTENT_BYTES, "content of {} bytes", frame.content.len());

    // The length field is not part of the round trip: `encode` writes the true content length.
    let declared_len = u16::try_from(frame.content.len()).expect("content is at most 4096 bytes");
    let raw = watch::encode(&frame.maker, &frame.device, frame.index, &frame.content);
    assert_eq!(read_one(&raw), Frame { declared_len, ..frame.clone() }, "encode did not round-trip");

    match watch::decode(frame) {
        Ok(Some(report)) => {
            assert_eq!(report.device, frame.device, "report names another device");
            if frame.content_type().starts_with(b"AL") {
                assert_eq!(report.kind, ReportKind::Alarm, "an AL frame is always an alarm");
            }
            check_report(&report);
        }
        Ok(None) => {}
        Err(e) => assert!(!e.to_string().is_empty()),
    }

    if let Some(answer) = watch::reply(frame) {
        let echoed = read_one(&answer);
        assert_eq!(
            (&echoed.maker, &echoed.device, echoed.index),
            (&frame.maker, &frame.device, frame.index),
            "reply is addressed differently from the frame"
        );
    }
}

/// Reads `raw` through a fresh reader, which must yield exactly one frame and hold nothing back.
fn read_one(raw: &[u8]) -> Frame {
    let mut reader = FrameReader::new();
    reader.push(raw);
    let first = reader.next_frame();
    let second = reader.next_frame();
    match (first, second) {
        (Some(Ok(frame)), None) if reader.buffered() == 0 => frame,
        (first, second) => {
            panic!("an encoded frame of {} bytes read back as {first:?} then {second:?}", raw.len())
        }
    }
}

/// Parses `data` as a URL query or form body (`+` is a space, `%XX` escapes are decoded and
/// invalid UTF-8 is replaced, as `serde_urlencoded` does) and decodes it as an OsmAnd request.
///
/// # Panics
/// If a guarantee of [`osmand`] or of [`Report`] is broken.
pub fn osmand_query(data: &[u8]) {
    let params = parse_query(data);
    match osmand::decode_query(&params) {
        Ok(report) => {
            assert!(params.len() <= osmand::MAX_PARAMS, "{} parameters accepted", params.len());
            let size: usize = params.iter().map(|(k, v)| k.len() + v.len()).sum();
            assert!(size <= MAX_CONTENT_BYTES, "query of {size} bytes accepted");
            assert!(report.fix.is_some(), "a query report without a position");
            check_report(&report);
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

/// Decodes `data` as a Traccar Client JSON body.
///
/// # Panics
/// If a guarantee of [`osmand`] or of [`Report`] is broken.
pub fn osmand_json(data: &[u8]) {
    match osmand::decode_json(data) {
        Ok(report) => {
            assert!(data.len() <= osmand::MAX_JSON_BYTES, "JSON body of {} bytes accepted", data.len());
            check_report(&report);
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

fn check_device(device: &str) {
    let chars = device.chars().count();
    assert!((1..=MAX_DEVICE_ID_CHARS).contains(&chars), "device id of {chars} characters");
}

fn check_report(report: &Report) {
    check_device(&report.device);
    if let Some(fix) = &report.fix {
        assert!(fix.lat.is_finite() && (-90.0..=90.0).contains(&fix.lat), "latitude {}", fix.lat);
        assert!(fix.lon.is_finite() && (-180.0..=180.0).contains(&fix.lon), "longitude {}", fix.lon);
        for (name, value) in [
            ("speed_kmh", fix.speed_kmh),
            ("course_deg", fix.course_deg),
            ("altitude_m", fix.altitude_m),
            ("accuracy_m", fix.accuracy_m),
            ("hdop", fix.hdop),
        ] {
            assert!(value.is_none_or(f64::is_finite), "{name} is {value:?}");
        }
    }
    assert!(report.battery_pct.is_none_or(|pct| pct <= 100), "battery {:?}%", report.battery_pct);
    for alarm in &report.alarms {
        if let Alarm::Other(name) = alarm {
            assert!(name.chars().count() <= MAX_DEVICE_ID_CHARS, "alarm name {name:?}");
        }
    }
    if !report.alarms.is_empty() {
        assert_eq!(report.kind, ReportKind::Alarm, "a report raising alarms is not an alarm");
    }
    if report.kind == ReportKind::Position {
        assert!(report.fix.is_some(), "a position report without a position");
    }
}

/// Splits a query into key-value pairs the way `application/x-www-form-urlencoded` parsers do:
/// empty pairs are skipped and a pair without `=` has an empty value.
fn parse_query(data: &[u8]) -> Vec<(String, String)> {
    data.split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.iter().position(|&b| b == b'=') {
            Some(eq) => (percent_decode(&pair[..eq]), percent_decode(&pair[eq + 1..])),
            None => (percent_decode(pair), String::new()),
        })
        .collect()
}

/// `+` becomes a space and `%XX` the byte it names; a `%` without two hex digits stays as it is.
fn percent_decode(text: &[u8]) -> String {
    fn hex(b: u8) -> Option<u8> {
        char::from(b).to_digit(16).and_then(|d| u8::try_from(d).ok())
    }
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        let escaped =
            match (b, text.get(i + 1).copied().and_then(hex), text.get(i + 2).copied().and_then(hex)) {
                (b'%', Some(hi), Some(lo)) => Some((hi << 4) | lo),
                _ => None,
            };
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(if b == b'+' { b' ' } else { b });
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parsing_matches_form_urlencoding() {
        let parsed = parse_query(b"id=1&&time=2014-06-04+09%3A10%3a11&flag&%zz=%4&e=%C3%A9%FF");
        let expected = [
            ("id", "1"),
            ("time", "2014-06-04 09:10:11"),
            ("flag", ""),
            ("%zz", "%4"),
            ("e", "\u{e9}\u{fffd}"),
        ];
        let expected: Vec<(String, String)> =
            expected.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        assert_eq!(parsed, expected);
    }
}
