//! Property tests: watch frames survive encode → FrameReader → decode for arbitrary ids, indices
//! and contents (including bytes that need escaping) however the stream is split, and no input
//! to any decoder panics.

use civic_devices::{
    MAX_CONTENT_BYTES, ReportKind,
    osmand::{decode_json, decode_query},
    watch::{Frame, FrameReader, decode, encode, reply},
};
use proptest::prelude::*;

fn read_all(stream: &[u8], chunk: usize) -> Vec<Result<Frame, civic_devices::watch::WatchError>> {
    let mut reader = FrameReader::new();
    let mut out = Vec::new();
    for part in stream.chunks(chunk.max(1)) {
        reader.push(part);
        out.extend(std::iter::from_fn(|| reader.next_frame()));
    }
    out
}

fn maker() -> impl Strategy<Value = String> {
    "[A-Z0-9]{2}"
}

/// Ids of printable non-space characters, including the ones that must be escaped.
fn device_id() -> impl Strategy<Value = String> {
    "[0-9A-Za-z*\\[\\]},#é]{1,64}"
}

proptest! {
    #[test]
    fn encode_then_read_round_trips(
        maker in maker(),
        id in device_id(),
        index in proptest::option::of(any::<u16>()),
        content in proptest::collection::vec(any::<u8>(), 0..600),
        garbage in proptest::collection::vec(any::<u8>().prop_filter("not '['", |b| *b != b'['), 0..20),
        chunk in 1usize..64,
    ) {
        let mut stream = garbage.clone();
        stream.extend(encode(&maker, &id, index, &content));
        stream.extend(encode(&maker, &id, index, b"LK"));
        let frames = read_all(&stream, chunk);
        prop_assert_eq!(frames.len(), 2);
        let frame = frames[0].clone().unwrap();
        prop_assert_eq!(&frame.maker, &maker);
        prop_assert_eq!(&frame.device, &id);
        prop_assert_eq!(frame.index, index);
        prop_assert_eq!(usize::from(frame.declared_len), content.len());
        prop_assert_eq!(&frame.content, &content);
        let _ = decode(&frame);
        let lk = frames[1].clone().unwrap();
        prop_assert_eq!(decode(&lk).unwrap().unwrap().kind, ReportKind::Heartbeat);
        let answer = reply(&lk).unwrap();
        let echoed = read_all(&answer, 7);
        prop_assert_eq!(echoed[0].clone().unwrap(), lk);
    }

    #[test]
    fn positions_round_trip(
        lat in -90.0f64..=90.0,
        lon in -180.0f64..=180.0,
        day in 1u32..=28, month in 1u32..=12, yy in 0u32..=99,
        hour in 0u32..24, minute in 0u32..60, second in 0u32..60,
        battery in 0u8..=100,
        steps in any::<u32>(),
        status in any::<u32>(),
        alarm_frame in any::<bool>(),
    ) {
        let kind = if alarm_frame { "AL_LTE" } else { "UD_LTE" };
        let content = format!(
            "{kind},{day:02}{month:02}{yy:02},{hour:02}{minute:02}{second:02},A,{:.6},{},{:.6},{},1.5,90,10,7,80,{battery},{steps},0,{status:08x},0,0",
            lat.abs(), if lat < 0.0 { "S" } else { "N" },
            lon.abs(), if lon < 0.0 { "W" } else { "E" },
        );
        let frames = read_all(&encode("3G", "123", None, content.as_bytes()), 13);
        let report = decode(frames[0].as_ref().unwrap()).unwrap().unwrap();
        let fix = report.fix.unwrap();
        prop_assert!((fix.lat - lat).abs() < 1e-6);
        prop_assert!((fix.lon - lon).abs() < 1e-6);
        prop_assert_eq!(report.battery_pct, Some(battery));
        prop_assert_eq!(report.steps, Some(steps));
        prop_assert_eq!(alarm_frame || !report.alarms.is_empty(), report.kind == ReportKind::Alarm);
        prop_assert_eq!(reply(frames[0].as_ref().unwrap()).is_some(), alarm_frame);
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..2000),
        chunk in 1usize..300,
    ) {
        for frame in read_all(&bytes, chunk).into_iter().flatten() {
            prop_assert!(frame.content.len() <= MAX_CONTENT_BYTES);
            prop_assert!(frame.device.chars().count() <= 64);
            if let Ok(Some(report)) = decode(&frame)
                && let Some(fix) = report.fix
            {
                prop_assert!(fix.lat.abs() <= 90.0 && fix.lon.abs() <= 180.0);
            }
            let _ = reply(&frame);
        }
    }

    #[test]
    fn framed_text_never_panics(
        maker in maker(),
        content in "(LK|UD|AL|UD_LTE|AL_LTE|WT|TK)(,[-0-9A-Za-z. ]{0,12}){0,20}",
    ) {
        let frames = read_all(&encode(&maker, "1", None, content.as_bytes()), 64);
        let _ = decode(frames[0].as_ref().unwrap());
    }

    #[test]
    fn arbitrary_osmand_params_never_panic(
        params in proptest::collection::vec(
            (
                prop_oneof![
                    Just("id".to_owned()), Just("deviceid".to_owned()), Just("lat".to_owned()),
                    Just("lon".to_owned()), Just("location".to_owned()),
                    Just("timestamp".to_owned()), Just("speed".to_owned()),
                    Just("bearing".to_owned()), Just("batt".to_owned()),
                    Just("charge".to_owned()), Just("alarm".to_owned()),
                    Just("valid".to_owned()), ".{0,8}",
                ],
                prop_oneof![".{0,30}", "-?[0-9]{1,14}(\\.[0-9]{0,8})?", Just("2026-11-22T10:15:30Z".to_owned())],
            ),
            0..80,
        ),
    ) {
        if let Ok(report) = decode_query(&params) {
            let fix = report.fix.unwrap();
            prop_assert!(fix.lat.abs() <= 90.0 && fix.lon.abs() <= 180.0);
            prop_assert!(report.device.chars().count() <= 64);
        }
    }

    #[test]
    fn arbitrary_json_never_panics(body in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = decode_json(&body);
    }
}
