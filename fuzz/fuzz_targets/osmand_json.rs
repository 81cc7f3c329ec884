//! Fuzz target: a Traccar Client JSON body. The checks are
//! [`civic_devices::fuzzing::osmand_json`], which `cargo test -p civic-devices` also runs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| civic_devices::fuzzing::osmand_json(data));
