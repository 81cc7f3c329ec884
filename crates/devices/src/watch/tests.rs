//! Unit tests for the watch protocol. Frames marked "Traccar" are taken from Traccar's
//! `WatchFrameDecoderTest.java` and `WatchProtocolDecoderTest.java`.

use super::*;

/// The Traccar `WatchFrameDecoderTest` stream: four frames back to back.
const TRACCAR_STREAM: &[u8] = b"[3G*9705141740*0009*LK,0,0,53][3G*9705141740*005A*UD,190723,190707,A,36.815109,N,10.1792312,E,8.24,127.9,21.0,5,100,53,0,0,00000000,0,0,58.0][3G*9705141740*0003*TKQ][3G*9705141740*0009*LK,0,0,53]";

fn frames(reader: &mut FrameReader) -> Vec<Result<Frame, WatchError>> {
    std::iter::from_fn(|| reader.next_frame()).collect()
}

fn one(bytes: &[u8]) -> Frame {
    let mut reader = FrameReader::new();
    reader.push(bytes);
    let mut all = frames(&mut reader);
    assert_eq!(all.len(), 1, "{all:?}");
    all.remove(0).unwrap()
}

fn report(bytes: &[u8]) -> Report {
    decode(&one(bytes)).unwrap().unwrap()
}

fn approx(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn traccar_stream_splits_into_frames() {
    let mut reader = FrameReader::new();
    reader.push(TRACCAR_STREAM);
    let got: Vec<Frame> = frames(&mut reader).into_iter().map(Result::unwrap).collect();
    let kinds: Vec<&[u8]> = got.iter().map(Frame::content_type).collect();
    assert_eq!(kinds, [&b"LK"[..], b"UD", b"TKQ", b"LK"]);
    assert_eq!(got[0].maker, "3G");
    assert_eq!(got[0].device, "9705141740");
    assert_eq!(got[0].index, None);
    assert_eq!(got[0].declared_len, 9);
    assert_eq!(got[0].content, b"LK,0,0,53");

    let ud = decode(&got[1]).unwrap().unwrap();
    let fix = ud.fix.unwrap();
    assert_eq!(fix.time_ms, 1_689_793_627_000); // 2023-07-19 19:07:07 UTC
    assert!(approx(fix.lat, 36.815109) && approx(fix.lon, 10.1792312));
    assert_eq!(fix.speed_kmh, Some(8.24));
    assert_eq!(fix.course_deg, Some(127.9));
    assert_eq!(fix.altitude_m, Some(21.0));
    assert_eq!(fix.satellites, Some(5));
    assert_eq!(ud.battery_pct, Some(53));
    assert_eq!(ud.kind, ReportKind::Position);
    assert!(decode(&got[2]).unwrap().is_none(), "TKQ is not a report");
}

#[test]
fn byte_by_byte_gives_the_same_frames() {
    let mut whole = FrameReader::new();
    whole.push(TRACCAR_STREAM);
    let expected = frames(&mut whole);
    let mut reader = FrameReader::new();
    let mut got = Vec::new();
    for b in TRACCAR_STREAM {
        reader.push(std::slice::from_ref(b));
        got.extend(frames(&mut reader));
    }
    assert_eq!(got, expected);
    assert_eq!(reader.buffered(), 0);
}

#[test]
fn heartbeats_with_and_without_battery() {
    let r = report(b"[3G*9705141740*0009*LK,0,0,53]");
    assert_eq!(r.kind, ReportKind::Heartbeat);
    assert_eq!((r.fix, r.battery_pct, r.steps), (None, Some(53), Some(0)));
    let r = report(b"[3G*9705141740*000d*LK,12345,3,100]");
    assert_eq!((r.battery_pct, r.steps), (Some(100), Some(12345)));
    let r = report(b"[3G*9705141740*0002*LK]");
    assert_eq!(r.kind, ReportKind::Heartbeat);
    assert_eq!((r.battery_pct, r.steps), (None, None));
    assert!(r.alarms.is_empty());
}

#[test]
fn index_form_heartbeat_and_reply() {
    // Traccar: [ZJ*014111001350304*0034*0009*LK,0,0,19]
    let frame = one(b"[ZJ*014111001350304*0034*0009*LK,0,0,19]");
    assert_eq!((frame.index, frame.declared_len), (Some(0x34), 9));
    assert_eq!(decode(&frame).unwrap().unwrap().battery_pct, Some(19));
    assert_eq!(reply(&frame).unwrap(), b"[ZJ*014111001350304*0034*0002*LK]");
    let plain = one(b"[3G*9705141740*0009*LK,0,0,53]");
    assert_eq!(reply(&plain).unwrap(), b"[3G*9705141740*0002*LK]");
}

#[test]
fn alarm_frames_status_bits_and_replies() {
    // Traccar: strap removed (bit 20) on an AL frame with the index form.
    let frame = one(b"[ZJ*014111001332708*0075*0064*AL,040418,052156,A,22.536207,N,113.938673,E,0,0,0,5,100,82,1000,50,00100000,1,255,460,0,9340,3663,35]");
    assert_eq!(frame.index, Some(0x75));
    let r = decode(&frame).unwrap().unwrap();
    assert_eq!(r.kind, ReportKind::Alarm);
    assert_eq!(r.alarms, BTreeSet::from([Alarm::StrapRemoved]));
    assert_eq!((r.battery_pct, r.steps), (Some(82), Some(1000)));
    assert_eq!(r.fix.unwrap().time_ms, 1_522_819_316_000);
    assert_eq!(reply(&frame).unwrap(), b"[ZJ*014111001332708*0075*0002*AL]");

    // Traccar: SOS (bit 16), invalid fix, longitude with a leading space.
    let r = report(b"[3G*8809008845*00C0*AL,271219,094744,V,00.000000,N, 0.0000000,E,0.00,0.0,0.0,0,100,81,0,0,00010000,7,0,460,0,9336,3981,141,9336,3912,141,9336,3982,140,9765,4233,134,9765,4071,134,9765,4321,134,9336,4353,132,0,0.0]");
    assert_eq!(r.alarms, BTreeSet::from([Alarm::Sos]));
    assert!(!r.fix.unwrap().valid);

    // Traccar: fall (bit 21) plus the motion bit 4, which is not an alarm.
    let r = report(b"[3G*8308373902*0080*AL,230817,095346,A,47.083950,N,15.4821850,E,7.60,273.8,0.0,4,15,44,0,0,00200010,2,255,232,1,7605,42530,118,7605,58036,119,0,65.8]");
    assert_eq!(r.alarms, BTreeSet::from([Alarm::Fall]));

    // Traccar: a vendor alarm type (ALCUSTOMER1) with strap removal and bit 3.
    let frame = one(b"[3G*358839237678820*0122*ALCUSTOMER1,251120,081821,V,0.0,N,0.0,E,2.58,317.462,35.147,14,100,2,11089,0,00100008,1,1,460,01,42308,101992452,100,5,shizhou1,44:56:e2:03:ea:2a,-69]");
    let r = decode(&frame).unwrap().unwrap();
    assert_eq!((r.kind, r.steps, r.battery_pct), (ReportKind::Alarm, Some(11089), Some(2)));
    assert_eq!(r.alarms, BTreeSet::from([Alarm::StrapRemoved]));
    assert_eq!(reply(&frame).unwrap(), b"[3G*358839237678820*0002*AL]");

    // Every mapped bit at once; an UD frame with alarm bits is an alarm report.
    let r = report(b"[SG*1*0000*UD,010125,000000,A,1,N,1,E,0,0,0,0,0,50,0,0,7f4017]");
    assert_eq!(r.kind, ReportKind::Alarm);
    assert_eq!(
        r.alarms,
        BTreeSet::from([
            Alarm::Sos,
            Alarm::StrapRemoved,
            Alarm::Fall,
            Alarm::LowBattery,
            Alarm::Geofence,
            Alarm::PowerCut
        ])
    );
}

#[test]
fn positions_in_every_hemisphere() {
    // Traccar: western hemisphere, satellites written as "00".
    let r = report(b"[SG*9059056143*0053*UD,251021,223408,A,41.46500,N,081.53128,W,0.926,000,0,00,70,70,0,50,00000000,0,1,,,,00]");
    let f = r.fix.unwrap();
    assert!(approx(f.lat, 41.465) && approx(f.lon, -81.53128));
    assert_eq!((f.time_ms, f.satellites), (1_635_201_248_000, Some(0)));
    assert_eq!(r.alarms, BTreeSet::new());

    // Traccar: UD2 and UD_LTE variants.
    let r = report(b"[3G*9031853319*004E*UD2,220322,055105,A,22.761162,N,114.360192,E,0,0,47,14,100,64,0,0,00000008,0,0]");
    assert_eq!((r.fix.unwrap().time_ms, r.battery_pct), (1_647_928_265_000, Some(64)));
    let r = report(b"[3G*2104326058*00E9*UD_LTE,300621,135101,A,32.162652,N,34.888748,E,30.84,265.158,65.621,18,100,83,0,0,00000000,1,1,425,01,10223,8012811,100,3,ES4104,22:74:1d:39:64:ff,-46,1.7055488]");
    assert_eq!(r.fix.unwrap().satellites, Some(18));

    let south_west = report(b"[3G*1*0000*UD,010125,000000,A,33.868820,S,151.209290,W,0,0,0,0,0,50,0,0,0]");
    let f = south_west.fix.unwrap();
    assert!(approx(f.lat, -33.86882) && approx(f.lon, -151.20929));
    // An empty hemisphere leaves the written sign alone; S/W never flip a negative back.
    let signed = report(b"[3G*1*0000*UD,010125,000000,A,-33.5,S,-70.25,,0,0,0,0,0,50,0,0,0]");
    let f = signed.fix.unwrap();
    assert!(approx(f.lat, -33.5) && approx(f.lon, -70.25));
}

#[test]
fn escapes_are_removed_and_length_field_is_not_trusted() {
    // Traccar: the TK audio frame with every escape.
    let mut raw = b"[CS*1234567890*000e*TK,#!AMR".to_vec();
    raw.extend_from_slice(&[0x7d, 0x01, 0x7d, 0x02, 0x7d, 0x03, 0x7d, 0x04, 0x7d, 0x05, 0xff]);
    raw.push(b']');
    let frame = one(&raw);
    assert_eq!(frame.content, b"TK,#!AMR}[],*\xff");
    assert_eq!(frame.declared_len, 14);
    assert_eq!(decode(&frame).unwrap(), None);
    assert_eq!(reply(&frame), None);
    // encode leaves commas raw (they separate fields), so only the `}04` differs.
    let reencoded = encode("CS", "1234567890", None, &frame.content);
    assert_eq!(reencoded.len(), raw.len() - 1);
    assert_eq!(one(&reencoded), frame);

    let wrong = one(b"[3G*9705141740*0001*LK,0,0,53]");
    assert_eq!((wrong.declared_len, wrong.content.len()), (1, 9));
    assert_eq!(decode(&wrong).unwrap().unwrap().battery_pct, Some(53));
}

#[test]
fn garbage_between_frames_is_skipped() {
    let mut reader = FrameReader::new();
    reader.push(b"\r\nGET / HTTP/1.1\r\n\x00\xff]]");
    reader.push(b"[3G*1*0002*LK]noise\n");
    reader.push(b"[3G*2*0002*LK]");
    let ids: Vec<String> = frames(&mut reader).into_iter().map(|f| f.unwrap().device).collect();
    assert_eq!(ids, ["1", "2"]);
}

#[test]
fn oversize_then_good_frame() {
    let mut reader = FrameReader::new();
    let mut stream = b"[3G*1*ffff*TK,".to_vec();
    stream.extend(std::iter::repeat_n(b'a', 3 * MAX_RAW_FRAME_BYTES));
    stream.extend_from_slice(b"][3G*1*0002*LK]");
    for chunk in stream.chunks(1000) {
        reader.push(chunk);
        assert!(reader.buffered() < MAX_RAW_FRAME_BYTES);
    }
    let got = frames(&mut reader);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0], Err(WatchError::FrameTooLong { limit: MAX_RAW_FRAME_BYTES }));
    assert_eq!(got[1].as_ref().unwrap().content, b"LK");
}

#[test]
fn truncated_frame_resynchronises() {
    let mut reader = FrameReader::new();
    reader.push(b"[3G*1*0009*LK,0,[3G*1*0002*LK]");
    let got = frames(&mut reader);
    assert_eq!(got[0], Err(WatchError::FrameTruncated));
    assert_eq!(got[1].as_ref().unwrap().content, b"LK");
}

#[test]
fn malformed_headers_and_escapes() {
    for (raw, expected) in [
        (&b"[3G]"[..], "no '*' after the maker"),
        (b"[3G*1]", "no '*' after the device id"),
        (b"[3G*1*0002]", "no '*' after the length"),
        (b"[3G*1*00x2*LK]", "not 4 hex digits"),
        (b"[3GX*1*0002*LK]", "maker code"),
        (b"[3G**0002*LK]", "`ID` is missing"),
        (b"[3G*1*0002*LK}\x09]", "0x09"),
        (b"[3G*1*0002*LK}]", "invalid escape"),
    ] {
        let mut reader = FrameReader::new();
        reader.push(raw);
        let err = reader.next_frame().unwrap().unwrap_err().to_string();
        assert!(err.contains(expected), "{}: {err}", String::from_utf8_lossy(raw));
    }
    let long_id = format!("[3G*{}*0002*LK]", "1".repeat(65));
    let mut reader = FrameReader::new();
    reader.push(long_id.as_bytes());
    assert!(reader.next_frame().unwrap().unwrap_err().to_string().contains("longer than 64"));
}

#[test]
fn malformed_positions_name_the_field() {
    let base = "010125,000000,A,1,N,1,E,0,0,0,0,0,50,0,0,0";
    let cases = [
        ("320125,000000,A,1,N,1,E,0,0,0,0,0,50,0,0,0", "date/time"),
        ("010125,250000,A,1,N,1,E,0,0,0,0,0,50,0,0,0", "date/time"),
        ("0101,000000,A,1,N,1,E,0,0,0,0,0,50,0,0,0", "`date`"),
        ("010125,000000,X,1,N,1,E,0,0,0,0,0,50,0,0,0", "`validity`"),
        ("010125,000000,A,91,N,1,E,0,0,0,0,0,50,0,0,0", "`lat`"),
        ("010125,000000,A,1,N,181,E,0,0,0,0,0,50,0,0,0", "`lon`"),
        ("010125,000000,A,1,Q,1,E,0,0,0,0,0,50,0,0,0", "`lat hemisphere`"),
        ("010125,000000,A,1,N,1,E,inf,0,0,0,0,50,0,0,0", "`speed`"),
        ("010125,000000,A,1,N,1,E,0,0,0,300,0,50,0,0,0", "`satellites`"),
        ("010125,000000,A,1,N,1,E,0,0,0,0,0,101,0,0,0", "`battery`"),
        ("010125,000000,A,1,N,1,E,0,0,0,0,0,50,0,0,zz", "`status`"),
        ("010125,000000,A,1,N,1,E,0,0,0,0,0,50,0,0,123456789", "`status`"),
        ("010125,000000,A,1,N,1,E,0,0,0,0,0,50,0,0", "has 15 fields"),
    ];
    assert!(report(format!("[3G*1*0000*UD,{base}]").as_bytes()).fix.is_some());
    for (fields, expected) in cases {
        let err = decode(&one(format!("[3G*1*0000*UD,{fields}]").as_bytes())).unwrap_err();
        assert!(err.to_string().contains(expected), "{fields}: {err}");
    }
    let err = decode(&one(b"[3G*1*0000*LK,0,0,abc]")).unwrap_err().to_string();
    assert!(err.contains("`battery`"), "{err}");
    let err = decode(&one(b"[3G*1*0000*UD,\xff]")).unwrap_err().to_string();
    assert!(err.contains("not text"), "{err}");
}

#[test]
fn encode_escapes_header_and_content() {
    let raw = encode("3G", "a*b", Some(0xbeef), b"UD,[x]}");
    assert_eq!(raw, b"[3G*a}\x05b*beef*0007*UD,}\x02x}\x03}\x01]");
    let frame = one(&raw);
    assert_eq!(frame.device, "a*b");
    assert_eq!((frame.index, frame.declared_len), (Some(0xbeef), 7));
    assert_eq!(frame.content, b"UD,[x]}");
}

#[test]
fn longest_valid_frames_are_read() {
    // Content at the limit that is all escapes, from a 64-character id whose characters are
    // escaped or 4 bytes long: once refused as too long, so `encode` output did not read back.
    for id in ["\u{10348}".repeat(64), "*".repeat(64)] {
        let raw = encode("3G", &id, Some(0xffff), &[b'}'; MAX_CONTENT_BYTES]);
        assert!(raw.len() <= MAX_RAW_FRAME_BYTES);
        let frame = one(&raw);
        assert_eq!((frame.device, frame.content.len()), (id, MAX_CONTENT_BYTES));
    }
    let longest = encode("3G", &"\u{10348}".repeat(64), Some(0), &[b'}'; MAX_CONTENT_BYTES]);
    assert_eq!(longest.len(), MAX_RAW_FRAME_BYTES);
}
