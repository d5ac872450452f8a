#![no_main]
//! `switchboard::fuzzing::sse`, which `tests/fuzz_corpus.rs` replays.
libfuzzer_sys::fuzz_target!(|data: &[u8]| switchboard::fuzzing::sse(data));
