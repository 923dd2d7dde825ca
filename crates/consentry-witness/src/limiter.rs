//! A token bucket per client IP address, so that one client cannot make the witness spend
//! its CPU (signature checks) and its disk (an fsync per cosignature) for everyone.
//!
//! Each address gets `burst` tokens, refilled at `per_second`; a request takes one. The
//! table is per process and forgets addresses whose bucket is full again once it holds
//! more than a bound, so it cannot grow without limit.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Addresses tracked before full buckets are dropped.
const CAPACITY: usize = 100_000;

/// The limit: a sustained rate and a burst.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Tokens added per second.
    pub per_second: f64,
    /// Bucket size.
    pub burst: f64,
}

/// Buckets by address.
#[derive(Debug)]
pub struct Limiter {
    rate: Rate,
    buckets: Mutex<HashMap<IpAddr, (f64, i64)>>,
}

impl Limiter {
    /// A limiter at `rate`.
    pub fn new(rate: Rate) -> Limiter {
        Limiter {
            rate,
            buckets: Mutex::default(),
        }
    }

    /// Takes a token for `ip` at `now_ms`; `false` if its bucket is empty.
    pub fn allow(&self, ip: IpAddr, now_ms: i64) -> bool {
        let Ok(mut map) = self.buckets.lock() else {
            return false;
        };
        let Rate { per_second, burst } = self.rate;
        let refill = |(tokens, at): (f64, i64)| {
            let elapsed = now_ms.saturating_sub(at).max(0) as f64 / 1000.0;
            (tokens + elapsed * per_second).min(burst)
        };
        if map.len() > CAPACITY {
            map.retain(|_, b| refill(*b) < burst);
        }
        let bucket = map.entry(ip).or_insert((burst, now_ms));
        let tokens = refill(*bucket);
        if tokens >= 1.0 {
            *bucket = (tokens - 1.0, now_ms);
            true
        } else {
            *bucket = (tokens, now_ms);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill_per_address() {
        let l = Limiter::new(Rate {
            per_second: 2.0,
            burst: 3.0,
        });
        let a: IpAddr = [127, 0, 0, 1].into();
        let b: IpAddr = [127, 0, 0, 2].into();
        assert!((0..3).all(|_| l.allow(a, 0)));
        assert!(!l.allow(a, 0));
        assert!(l.allow(b, 0), "another address has its own bucket");
        assert!(!l.allow(a, 400), "0.8 token after 400 ms");
        assert!(l.allow(a, 500), "1 token after 500 ms");
        assert!(!l.allow(a, 500));
        // Never above the burst, however long the pause.
        assert!((0..3).all(|_| l.allow(a, 1_000_000)));
        assert!(!l.allow(a, 1_000_000));
    }
}
