//! Runs the `cargo fuzz` target bodies of [`civic_devices::fuzzing`] on stable: over the committed
//! seed corpus in `fuzz/seeds/`, over arbitrary bytes, and over structure-aware inputs (seeds with
//! random mutations, frames at the size limits, queries and JSON bodies with extreme numbers).

use std::path::PathBuf;

use civic_devices::{
    MAX_CONTENT_BYTES,
    fuzzing::{osmand_json, osmand_query, watch_stream},
    osmand::{decode_json, decode_query},
    watch::FrameReader,
};
use proptest::{prelude::*, sample::Index};

/// The seed inputs committed for one fuzz target, sorted by file name.
fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds").join(target);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    paths.sort();
    let seeds: Vec<Vec<u8>> = paths.iter().map(|p| std::fs::read(p).unwrap()).collect();
    assert!(seeds.len() >= 3, "{} holds {} seeds", dir.display(), seeds.len());
    seeds
}

/// Seeds are real messages, so each must get past the framing and parsing the fuzzer would
/// otherwise have to discover; then the target body runs on it.
#[test]
fn seed_corpus_is_valid_and_passes_the_checks() {
    for seed in seeds("watch_frames") {
        let mut reader = FrameReader::new();
        reader.push(&seed);
        let frames: Vec<_> = std::iter::from_fn(|| reader.next_frame()).collect();
        assert!(!frames.is_empty() && frames.iter().all(Result::is_ok), "{frames:?}");
        watch_stream(&seed);
    }
    for seed in seeds("osmand_query") {
        // The query seeds percent-encode only ':', so this is all the decoding they need.
        let text = String::from_utf8(seed.clone()).unwrap();
        let params: Vec<(String, String)> = text
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.replace("%3A", ":").replace('+', " ")))
            .collect();
        assert!(decode_query(&params).is_ok(), "{text}: {:?}", decode_query(&params));
        osmand_query(&seed);
    }
    for seed in seeds("osmand_json") {
        assert!(decode_json(&seed).is_ok(), "{:?}", decode_json(&seed));
        osmand_json(&seed);
    }
}

/// Bytes the decoders treat specially, so mutations hit delimiters, escapes and number syntax.
fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        3 => proptest::sample::select(&b"[]*},&=%+:.-0159AENSVWZe\x01\x02\x03\x04\x05\"{}\\ "[..]),
        1 => any::<u8>(),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(Index, u8),
    Insert(Index, u8),
    Delete(Index),
    /// Copies the span between two positions to a third, as a fuzzer's crossover would.
    Splice(Index, Index, Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), interesting_byte()).prop_map(|(i, b)| Mutation::Replace(i, b)),
        (any::<Index>(), interesting_byte()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<Index>().prop_map(Mutation::Delete),
        (any::<Index>(), any::<Index>(), any::<Index>()).prop_map(|(a, b, c)| Mutation::Splice(a, b, c)),
    ]
}

fn mutate(mut data: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = data.len();
        match *m {
            Mutation::Replace(i, b) if len > 0 => data[i.index(len)] = b,
            Mutation::Insert(i, b) => data.insert(i.index(len + 1), b),
            Mutation::Delete(i) if len > 0 => {
                data.remove(i.index(len));
            }
            Mutation::Splice(a, b, to) if len > 0 => {
                let (a, b) = (a.index(len), b.index(len));
                let span = data[a.min(b)..=a.max(b)].to_vec();
                let at = to.index(len + 1);
                data.splice(at..at, span);
            }
            _ => {}
        }
    }
    data
}

/// One of the committed seeds of `target` with up to eight mutations.
fn mutated_seed(target: &str) -> impl Strategy<Value = Vec<u8>> + use<> {
    (proptest::sample::select(seeds(target)), proptest::collection::vec(mutation(), 0..8))
        .prop_map(|(seed, mutations)| mutate(seed, &mutations))
}

/// Numbers at and beyond the edges the decoders check: range limits, overflow under unit
/// conversion, non-finite spellings, and malformed ones.
fn number_text() -> impl Strategy<Value = String> {
    prop_oneof![
        (-200.0f64..200.0).prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| v.to_string()),
        proptest::sample::select(vec![
            "90",
            "-90",
            "90.0000001",
            "180",
            "-180.0",
            "1e308",
            "-1e308",
            "1.7976931348623157e308",
            "NaN",
            "inf",
            "-Infinity",
            "",
            " 1",
            "0x10",
            "1,2",
            "-1",
            "101",
            "1e-320",
        ])
        .prop_map(str::to_owned),
    ]
}

/// An OsmAnd query from the recognised keys (and an unknown one), with numeric, timestamp,
/// boolean and free-text values, some of them percent-encoded.
fn query() -> impl Strategy<Value = Vec<u8>> {
    let key = proptest::sample::select(vec![
        "id",
        "deviceid",
        "lat",
        "lon",
        "location",
        "timestamp",
        "valid",
        "speed",
        "bearing",
        "heading",
        "altitude",
        "accuracy",
        "hdop",
        "batt",
        "charge",
        "alarm",
        "ignition",
    ]);
    let value = prop_oneof![
        4 => number_text(),
        1 => (number_text(), number_text()).prop_map(|(a, b)| format!("{a},{b}")),
        1 => proptest::sample::select(vec![
            "1377177267", "1442068686579", "2016-01-27T18%3A55%3A47Z", "2014-06-04+09%3A10%3A11",
            "253402300799999", "99999999999999999999", "true", "0", "sos", "geofence%20exit", "%C3%A9%FF",
        ])
        .prop_map(str::to_owned),
        1 => "[ -~]{0,20}",
    ];
    let pairs = proptest::collection::vec((key, value), 0..12);
    (pairs, any::<bool>()).prop_map(|(pairs, with_id)| {
        let mut text = if with_id { "id=42&timestamp=1504763810&".to_owned() } else { String::new() };
        let pairs: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
        text.push_str(&pairs.join("&"));
        text.into_bytes()
    })
}

/// A Traccar Client JSON body with every number drawn from [`number_text`]; values that are not
/// valid JSON numbers make the body invalid, which is also worth feeding.
fn json_body() -> impl Strategy<Value = Vec<u8>> {
    let on_globe =
        |limit: f64| prop_oneof![3 => (-limit..=limit).prop_map(|v| v.to_string()), 1 => number_text()];
    (
        (on_globe(90.0), on_globe(180.0), proptest::collection::vec(number_text(), 5)),
        proptest::sample::select(vec!["2021-07-21T08:06:34.444Z", "2026-11-22T10:15:30+02:00", "soon"]),
        proptest::option::of(proptest::sample::select(vec!["sos", "", "geofenceEnter", "x"])),
        any::<bool>(),
    )
        .prop_map(|((lat, lon, n), timestamp, alarm, with_coords)| {
            let coords = if with_coords {
                format!(
                    r#","coords":{{"latitude":{},"longitude":{},"speed":{},"heading":{},"altitude":{},"accuracy":{}}}"#,
                    lat, lon, n[0], n[1], n[2], n[3]
                )
            } else {
                String::new()
            };
            let alarm = alarm.map(|a| format!(r#","alarm":"{a}""#)).unwrap_or_default();
            format!(
                r#"{{"device_id":"8737767034","location":{{"timestamp":"{timestamp}"{coords}{alarm},"battery":{{"level":{},"is_charging":true}}}}}}"#,
                n[4]
            )
            .into_bytes()
        })
}

/// Escapes the bytes the watch protocol escapes, except that `*` may be left raw where the reader
/// accepts it (in the content, after the header's last `*`).
fn escape(bytes: &[u8], raw_star: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 * bytes.len());
    for &b in bytes {
        match b"}[],*".iter().position(|&e| e == b) {
            Some(4) if raw_star => out.push(b),
            Some(i) => out.extend_from_slice(&[b'}', i as u8 + 1]),
            None => out.push(b),
        }
    }
    out
}

/// The longest frames a device can send: content at or near the size limit made of bytes that
/// need escaping (a device may send `*` raw in the content, where `encode` escapes it), and a
/// device id of up to 64 characters that are escaped or take several bytes in UTF-8.
fn largest_frame() -> impl Strategy<Value = Vec<u8>> {
    (
        "[0A*\\[\\]}é\u{10348}]{1,64}",
        proptest::option::of(any::<u16>()),
        proptest::collection::vec(
            proptest::sample::select(&b"}[]*"[..]),
            MAX_CONTENT_BYTES - 8..=MAX_CONTENT_BYTES,
        ),
        any::<bool>(),
        0u8..32,
    )
        .prop_map(|(id, index, content, raw_star, lead)| {
            // The reader skips the leading byte (it is not '['), but it picks the first push's size.
            let mut stream = vec![lead, b'['];
            stream.extend_from_slice(b"3G*");
            stream.extend(escape(id.as_bytes(), false));
            if let Some(index) = index {
                stream.extend_from_slice(format!("*{index:04X}").as_bytes());
            }
            stream.extend_from_slice(format!("*{:04X}*", content.len()).as_bytes());
            stream.extend(escape(&content, raw_star));
            stream.push(b']');
            stream
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn watch_stream_on_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..1500)) {
        watch_stream(&data);
    }

    #[test]
    fn watch_stream_on_mutated_seeds(data in mutated_seed("watch_frames")) {
        watch_stream(&data);
    }

    #[test]
    fn watch_stream_on_largest_frames(data in largest_frame()) {
        watch_stream(&data);
    }

    #[test]
    fn osmand_query_on_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        osmand_query(&data);
    }

    #[test]
    fn osmand_query_on_mutated_seeds(data in mutated_seed("osmand_query")) {
        osmand_query(&data);
    }

    #[test]
    fn osmand_query_on_generated_queries(data in query()) {
        osmand_query(&data);
    }

    #[test]
    fn osmand_json_on_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        osmand_json(&data);
    }

    #[test]
    fn osmand_json_on_mutated_seeds(data in mutated_seed("osmand_json")) {
        osmand_json(&data);
    }

    #[test]
    fn osmand_json_on_generated_bodies(data in json_body()) {
        osmand_json(&data);
    }
}
