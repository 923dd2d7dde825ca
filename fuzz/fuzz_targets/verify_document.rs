//! Any bytes given to the verifier (proof, certificate, tlog-proof or anchor history) give
//! a report or an "unusable" error — never a panic, never a hang. The body is
//! `consentry_core::fuzz::verify_document`, which the stable corpus replay runs too.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = consentry_core::fuzz::verify_document(data);
});
