//! Identifiers and secrets from the operating system's CSPRNG.
//!
//! IDs are time-ordered (48-bit millisecond time, then 80 random bits, in hex) so that
//! new rows land at the end of B-tree indexes; tokens and API keys are 256 random bits.
//! Tests check their shape and uniqueness, never their values, so the OS source is used
//! directly rather than injected.

use rand_core::{OsRng, RngCore as _};

/// `n` random bytes.
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    OsRng.fill_bytes(&mut b);
    b
}

/// A time-ordered ID suffix: 12 hex digits of milliseconds, 20 of randomness.
pub fn id_suffix(now_ms: i64) -> String {
    let ms = u64::try_from(now_ms).unwrap_or(0) & 0xffff_ffff_ffff;
    format!("{ms:012x}{}", hex::encode(bytes::<10>()))
}

/// The OS random source, for APIs that take an RNG.
pub fn rng() -> OsRng {
    OsRng
}
