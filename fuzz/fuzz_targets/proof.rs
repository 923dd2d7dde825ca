//! Proof documents: typed parsing and seal checking never panic, and a parsed proof's
//! canonical bytes parse back to the same proof. The body is `consentry_core::fuzz::proof`
//! (also replayed on stable).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| consentry_core::fuzz::proof(data));
