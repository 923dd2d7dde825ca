//! Timestamps as proofs carry them: RFC 3339, UTC, exactly millisecond precision
//! (`2026-11-23T19:04:05.123Z`), one spelling per instant so that canonical bytes are stable.
//!
//! The core never reads the clock; the service passes the time in.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An instant, in milliseconds since 1970-01-01T00:00:00Z, between years 1970 and 9999.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Timestamp(i64);

/// Why a timestamp was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// Not of the form `YYYY-MM-DDTHH:MM:SS.mmmZ` or not a real date and time.
    #[error("{0:?} is not an RFC 3339 UTC timestamp with milliseconds (YYYY-MM-DDTHH:MM:SS.mmmZ)")]
    Malformed(String),
    /// Outside 1970–9999.
    #[error("timestamp out of range")]
    OutOfRange,
}

const MAX_MILLIS: i64 = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

impl Timestamp {
    /// From milliseconds since the Unix epoch.
    pub fn from_unix_millis(ms: i64) -> Result<Timestamp, TimeError> {
        if (0..=MAX_MILLIS).contains(&ms) {
            Ok(Timestamp(ms))
        } else {
            Err(TimeError::OutOfRange)
        }
    }

    /// Milliseconds since the Unix epoch.
    pub fn unix_millis(&self) -> i64 {
        self.0
    }

    /// Parses the one accepted spelling.
    pub fn parse(s: &str) -> Result<Timestamp, TimeError> {
        let bad = || TimeError::Malformed(s.chars().take(40).collect());
        let b = s.as_bytes();
        if b.len() != 24 {
            return Err(bad());
        }
        for (i, &c) in b.iter().enumerate() {
            let expected = match i {
                4 | 7 => Some(b'-'),
                10 => Some(b'T'),
                13 | 16 => Some(b':'),
                19 => Some(b'.'),
                23 => Some(b'Z'),
                _ => None,
            };
            match expected {
                Some(e) if c != e => return Err(bad()),
                None if !c.is_ascii_digit() => return Err(bad()),
                _ => {}
            }
        }
        let num = |r: std::ops::Range<usize>| -> i64 {
            b[r].iter().fold(0, |acc, d| acc * 10 + i64::from(d - b'0'))
        };
        let (y, mo, d) = (num(0..4), num(5..7), num(8..10));
        let (h, mi, sec, ms) = (num(11..13), num(14..16), num(17..19), num(20..23));
        if !(1..=12).contains(&mo)
            || d < 1
            || d > days_in_month(y, mo)
            || h > 23
            || mi > 59
            || sec > 59
        {
            return Err(bad());
        }
        let days = days_from_civil(y, mo, d);
        let millis = ((days * 24 + h) * 60 + mi) * 60_000 + sec * 1000 + ms;
        Timestamp::from_unix_millis(millis).map_err(|_| bad())
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's days_from_civil / civil_from_days (public domain algorithms).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(86_400_000);
        let rem = self.0.rem_euclid(86_400_000);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
            rem / 3_600_000,
            rem / 60_000 % 60,
            rem / 1000 % 60,
            rem % 1000
        )
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl TryFrom<String> for Timestamp {
    type Error = TimeError;
    fn try_from(s: String) -> Result<Timestamp, TimeError> {
        Timestamp::parse(&s)
    }
}

impl From<Timestamp> for String {
    fn from(t: Timestamp) -> String {
        t.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_instants() {
        // `date -u -d @1795460645.123 +%FT%T.%3NZ` → 2026-11-23T19:04:05.123Z
        let t = Timestamp::from_unix_millis(1_795_460_645_123).unwrap();
        assert_eq!(t.to_string(), "2026-11-23T19:04:05.123Z");
        assert_eq!(
            Timestamp::parse("1970-01-01T00:00:00.000Z")
                .unwrap()
                .unix_millis(),
            0
        );
        assert_eq!(
            Timestamp::parse("2000-02-29T12:00:00.001Z")
                .unwrap()
                .unix_millis(),
            951_825_600_001
        );
    }

    #[test]
    fn other_spellings_are_refused() {
        for bad in [
            "2026-11-23T19:04:05Z",
            "2026-11-23T19:04:05.123+00:00",
            "2026-11-23 19:04:05.123Z",
            "2026-11-23T19:04:05.1234Z",
            "2026-02-30T00:00:00.000Z",
            "2025-02-29T00:00:00.000Z",
            "2026-13-01T00:00:00.000Z",
            "2026-11-23T24:00:00.000Z",
            "2026-11-23T23:59:60.000Z",
            "1969-12-31T23:59:59.999Z",
            "２026-11-23T19:04:05.123Z",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn display_and_parse_round_trip(ms in 0i64..=MAX_MILLIS) {
            let t = Timestamp::from_unix_millis(ms).unwrap();
            prop_assert_eq!(Timestamp::parse(&t.to_string()).unwrap(), t);
        }
    }
}
