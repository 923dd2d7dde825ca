//! RFC 3161: a TSA's `TimeStampResp` and a time-stamp token, from untrusted bytes, with and
//! without a pinned CA — no panic, and the pinned and unpinned checks agree. The body is
//! `consentry_core::fuzz::rfc3161` (also replayed on stable).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| consentry_core::fuzz::rfc3161(data));
