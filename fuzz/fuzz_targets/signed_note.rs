//! Signed-note and checkpoint parsing: no panic, and anything accepted re-serialises to
//! the same body (one spelling per checkpoint).
#![no_main]
use consentry_core::checkpoint::{Checkpoint, parse_signed_checkpoint, verify_signed_checkpoint};
use libfuzzer_sys::fuzz_target;

const VKEY: &str = "consentry.example/log+afdc4da7+AVycbfJhycuEBHV3aq782US0BTKPqyj5s6le9ASQ096E";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(cp) = Checkpoint::parse_body(text) {
        assert_eq!(cp.body(), text);
    }
    if let Ok((cp, _)) = parse_signed_checkpoint(text) {
        assert!(text.starts_with(&cp.body()));
    }
    let _ = verify_signed_checkpoint(text, VKEY);
});
