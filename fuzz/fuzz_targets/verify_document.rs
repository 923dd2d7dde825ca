//! Any bytes given to the verifier (proof, certificate or tlog-proof) give a report or an
//! "unusable" error — never a panic, never a hang.
#![no_main]
use consentry_core::verify::{TrustedKeys, Verifier};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut v = Verifier::new(TrustedKeys {
        seal: vec![],
        log: vec!["consentry.example/log+afdc4da7+AVycbfJhycuEBHV3aq782US0BTKPqyj5s6le9ASQ096E".into()],
    });
    if let Ok(report) = v.verify(data) {
        // A report is valid exactly when no check failed.
        assert_eq!(report.valid, report.first_failure().is_none());
    }
});
