//! Signed-note and checkpoint parsing: no panic, and anything accepted re-serialises to
//! the same body. The body is `consentry_core::fuzz::signed_note` (also replayed on stable).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| consentry_core::fuzz::signed_note(data));
