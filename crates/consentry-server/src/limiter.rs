//! A sliding-window rate limiter for sign-in attempts, shared by the recipients' portal
//! and the staff web application.
//!
//! Each attempt is counted under several keys at once (say, the address typed and the
//! client's IP), each with its own limit; an attempt is allowed only if every key is under
//! its limit, and only an allowed attempt is counted. Keys are SHA-256 hashes of a kind
//! label and the value, so the limiter holds no address in memory. It is per process:
//! several instances behind a load balancer each apply it.

use sha2::{Digest as _, Sha256};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Keys tracked before those with no recent attempt are dropped.
const CAPACITY: usize = 100_000;

/// Attempts per key within a window.
#[derive(Debug)]
pub struct Limiter {
    window_ms: i64,
    seen: Mutex<HashMap<[u8; 32], VecDeque<i64>>>,
}

impl Limiter {
    /// A limiter counting attempts over the last `window_ms`.
    pub fn new(window_ms: i64) -> Limiter {
        Limiter {
            window_ms,
            seen: Mutex::default(),
        }
    }

    /// Counts an attempt at `now` under every `(kind, value, limit)`; `false` (and nothing
    /// counted) if any key has reached its limit within the window.
    pub fn allow(&self, keys: &[(&str, &[u8], usize)], now: i64) -> bool {
        let Ok(mut map) = self.seen.lock() else {
            return false;
        };
        let window = self.window_ms;
        if map.len() > CAPACITY {
            map.retain(|_, times| times.back().is_some_and(|t| now - t < window));
        }
        let keys: Vec<([u8; 32], usize)> = keys
            .iter()
            .map(|(kind, value, limit)| (key(kind, value), *limit))
            .collect();
        for (key, limit) in &keys {
            let times = map.entry(*key).or_default();
            while times.front().is_some_and(|t| now - t >= window) {
                times.pop_front();
            }
            if times.len() >= *limit {
                return false;
            }
        }
        for (key, _) in keys {
            map.entry(key).or_default().push_back(now);
        }
        true
    }
}

fn key(kind: &str, value: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(kind.as_bytes());
    h.update([0]);
    h.update(value);
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_must_be_under_its_limit_and_refusals_are_not_counted() {
        let l = Limiter::new(1_000);
        for _ in 0..2 {
            assert!(l.allow(&[("a", b"x", 2), ("ip", b"1", 3)], 0));
        }
        assert!(!l.allow(&[("a", b"x", 2), ("ip", b"1", 3)], 10));
        // The refusal above was not counted against the IP: one more is allowed.
        assert!(l.allow(&[("a", b"y", 2), ("ip", b"1", 3)], 10));
        assert!(!l.allow(&[("a", b"z", 2), ("ip", b"1", 3)], 10));
        // Kinds are separate: the same value under another kind is a fresh key.
        assert!(l.allow(&[("b", b"x", 1)], 10));
        // The window slides.
        assert!(l.allow(&[("a", b"x", 2), ("ip", b"1", 3)], 1_000));
    }
}
