//! tlog-proof@v1 parsing: no panic, and anything accepted serialises back byte for byte.
#![no_main]
use consentry_core::tlog_proof::TlogProof;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(p) = TlogProof::parse(text) {
        assert_eq!(p.to_text(), text);
    }
});
