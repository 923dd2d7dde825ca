//! The address-book CSV import: any uploaded bytes give checked rows or a list of bad
//! lines — never a panic. The body is `consentry_server::contacts_csv::fuzz_parse` (also
//! replayed on stable).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = consentry_server::contacts_csv::fuzz_parse(data);
});
