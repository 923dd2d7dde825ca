//! A sliding-window rate limiter for sign-in attempts, shared by the recipients' portal
//! and the staff web application.
//!
//! Each attempt is counted under several keys at once (say, the address typed and the
//! client's IP), each with its own limit; an attempt is allowed only if every key is under
//! its limit, and only an allowed attempt is counted. Keys are SHA-256 hashes of a kind
//! label and the value, so the limiter holds no address in memory. It is per process:
//! several instances behind a load balancer each apply it.
//!
//! Password sign-ins count only their failures ([`Limiter::attempt`]): the attempt is
//! counted when it is let through, *before* the password is checked, and given back
//! ([`Attempt::succeeded`]) once it proved right. Counting first and refunding after
//! (rather than counting failures once known) keeps the bound under concurrency: a burst
//! of simultaneous guesses cannot all pass the check before any failure is recorded.

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

impl Limiter {
    /// Lets an attempt through at `now` if every `(kind, value, limit)` is under its
    /// limit, counting it as a failure until [`Attempt::succeeded`] gives it back;
    /// `None` (and nothing counted) if any key has reached its limit.
    pub fn attempt(&self, keys: &[(&str, &[u8], usize)], now: i64) -> Option<Attempt<'_>> {
        if !self.allow(keys, now) {
            return None;
        }
        Some(Attempt {
            limiter: self,
            keys: keys
                .iter()
                .map(|(kind, value, _)| key(kind, value))
                .collect(),
            at: now,
        })
    }

    fn refund(&self, keys: &[[u8; 32]], at: i64) {
        let Ok(mut map) = self.seen.lock() else {
            return;
        };
        for key in keys {
            if let Some(times) = map.get_mut(key) {
                if let Some(i) = times.iter().rposition(|t| *t == at) {
                    times.remove(i);
                }
                if times.is_empty() {
                    map.remove(key);
                }
            }
        }
    }
}

/// An attempt let through by [`Limiter::attempt`]: counted as a failure unless
/// [`Attempt::succeeded`] is called (dropping it keeps it counted, so an attempt that
/// ends in an error counts too).
#[must_use = "an attempt counts as a failure unless it is marked succeeded"]
pub struct Attempt<'a> {
    limiter: &'a Limiter,
    keys: Vec<[u8; 32]>,
    at: i64,
}

impl std::fmt::Debug for Attempt<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attempt")
            .field("at", &self.at)
            .finish_non_exhaustive()
    }
}

impl Attempt<'_> {
    /// The attempt succeeded: it no longer counts toward any of its keys' limits.
    pub fn succeeded(self) {
        self.limiter.refund(&self.keys, self.at);
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

    #[test]
    fn only_failed_attempts_count_and_a_burst_is_still_bounded() {
        let l = Limiter::new(1_000);
        let keys: &[(&str, &[u8], usize)] = &[("a", b"x", 3), ("ip", b"1", 5)];
        // Any number of successes in a row: none counts.
        for now in 0..20 {
            l.attempt(keys, now).expect("a success is free").succeeded();
        }
        // Failures (attempts dropped without success) count, up to the limit.
        for now in 20..23 {
            drop(l.attempt(keys, now).expect("under the limit"));
        }
        assert!(l.attempt(keys, 23).is_none(), "three failures: refused");
        // Another address from the same client still has the client's two left.
        let other: &[(&str, &[u8], usize)] = &[("a", b"y", 3), ("ip", b"1", 5)];
        drop(l.attempt(other, 24).expect("4th for the client"));
        drop(l.attempt(other, 24).expect("5th for the client"));
        assert!(l.attempt(other, 25).is_none(), "the client's limit");
        // A burst: attempts held at once count while in flight, so no more than the
        // limit pass together even before any of them is known to fail.
        let burst: &[(&str, &[u8], usize)] = &[("a", b"z", 2)];
        let first = l.attempt(burst, 30).expect("1");
        let second = l.attempt(burst, 30).expect("2");
        assert!(
            l.attempt(burst, 30).is_none(),
            "two in flight: the third waits"
        );
        first.succeeded();
        let third = l.attempt(burst, 31).expect("one given back");
        drop((second, third));
        // The window slides.
        assert!(l.attempt(keys, 1_030).is_some());
    }
}
