//! Fuzz target: a watch TCP byte stream. The checks are
//! [`civic_devices::fuzzing::watch_stream`], which `cargo test -p civic-devices` also runs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| civic_devices::fuzzing::watch_stream(data));
