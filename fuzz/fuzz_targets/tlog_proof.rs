//! tlog-proof@v1 parsing: no panic, and anything accepted serialises back byte for byte.
//! The body is `consentry_core::fuzz::tlog_proof` (also replayed on stable).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| consentry_core::fuzz::tlog_proof(data));
