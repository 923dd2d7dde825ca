//! Proof documents: typed parsing and seal checking never panic, and a parsed proof's
//! canonical bytes parse back to the same proof.
#![no_main]
use consentry_core::proof::{SealedProof, verify_seal};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(serde_json::Value::Object(obj)) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let Ok(proof) = serde_json::from_value::<SealedProof>(serde_json::Value::Object(obj.clone())) else {
        return;
    };
    let _ = verify_seal(&obj, &proof.seal);
    let bytes = proof.entry_bytes().expect("a parsed proof canonicalises");
    let again: SealedProof = serde_json::from_slice(&bytes).expect("canonical bytes parse");
    assert_eq!(again, proof);
});
