//! Fuzz target: an OsmAnd query string or form body. The checks are
//! [`civic_devices::fuzzing::osmand_query`], which `cargo test -p civic-devices` also runs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| civic_devices::fuzzing::osmand_query(data));
