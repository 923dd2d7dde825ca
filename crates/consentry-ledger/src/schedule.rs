//! When to anchor: every day at a local time in an IANA time zone (00:00 Europe/Paris by
//! default). Pure functions of the instant, so the days when clocks change are tested
//! directly.
//!
//! A run is named by its **slot**: the civil date, the configured local time and the
//! zone, e.g. `2026-11-30T00:00 Europe/Paris`. The slot, not the instant, is what the
//! database claims, so a day has exactly one slot even when the local time happens twice
//! (autumn) or never (spring; the run then happens at the first instant after the gap,
//! jiff's "compatible" rule, as cron-like schedulers do).

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ZonedDateTime};

/// A daily schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    at: Time,
    tz: TimeZone,
    tz_name: String,
}

/// A bad `--anchor-at` or `--anchor-timezone`.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// Not `HH:MM`.
    #[error("--anchor-at {0:?} is not a time of day such as 00:00 or 23:30")]
    Time(String),
    /// Not a known IANA zone.
    #[error("--anchor-timezone {0:?} is not an IANA time zone such as Europe/Paris")]
    Zone(String),
}

/// One scheduled run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// Its name (the key claimed in the database).
    pub key: String,
    /// The instant it falls at.
    pub at: Timestamp,
}

impl Schedule {
    /// Parses `HH:MM` and an IANA zone name.
    pub fn new(at: &str, tz: &str) -> Result<Schedule, ScheduleError> {
        let time = parse_hh_mm(at).ok_or_else(|| ScheduleError::Time(at.to_owned()))?;
        let zone = TimeZone::get(tz).map_err(|_| ScheduleError::Zone(tz.to_owned()))?;
        Ok(Schedule {
            at: time,
            tz: zone,
            tz_name: tz.to_owned(),
        })
    }

    /// The default: 00:00 Europe/Paris.
    pub fn paris_midnight() -> Result<Schedule, ScheduleError> {
        Schedule::new("00:00", "Europe/Paris")
    }

    /// 00:00 UTC (needs no time zone database).
    pub fn utc_midnight() -> Schedule {
        Schedule {
            at: Time::midnight(),
            tz: TimeZone::UTC,
            tz_name: "UTC".to_owned(),
        }
    }

    /// The configured time of day and zone, for messages (`00:00 Europe/Paris`).
    pub fn describe(&self) -> String {
        format!("{} {}", self.at.strftime("%H:%M"), self.tz_name)
    }

    /// The zone the web application reads and shows dates in.
    pub fn zone(&self) -> &TimeZone {
        &self.tz
    }

    /// The zone's IANA name.
    pub fn zone_name(&self) -> &str {
        &self.tz_name
    }

    /// An instant as local date and time in the schedule's zone (`2026-11-30 20:04`), as
    /// the web application shows times.
    pub fn local(&self, at: Timestamp) -> String {
        at.to_zoned_datetime(self.tz.clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    }

    /// An instant given in Unix milliseconds as local date and time to the second with
    /// the zone's name (`23/11/2026 20:04:05 (Europe/Paris)`), as proof PDFs, e-mails and
    /// the recipients' pages show times; `—` for an instant out of range.
    pub fn long_local(&self, ms: i64) -> String {
        match Timestamp::from_millisecond(ms) {
            Ok(t) => format!(
                "{} ({})",
                t.to_zoned_datetime(self.tz.clone())
                    .strftime("%d/%m/%Y %H:%M:%S"),
                self.tz_name
            ),
            Err(_) => String::from("—"),
        }
    }

    fn slot_on(&self, date: Date) -> Option<Slot> {
        // "compatible": a time in a spring gap runs just after the gap, a time in an
        // autumn fold runs at its first occurrence.
        let zoned: ZonedDateTime = date
            .to_datetime(self.at)
            .to_zoned_datetime(self.tz.clone())
            .ok()?;
        Some(Slot {
            key: format!("{}T{} {}", date, self.at.strftime("%H:%M"), self.tz_name),
            at: zoned.timestamp(),
        })
    }

    /// The latest slot at or before `now` (the run that should have happened last).
    pub fn slot_at_or_before(&self, now: Timestamp) -> Option<Slot> {
        let today = now.to_zoned_datetime(self.tz.clone()).date();
        let slot = self.slot_on(today)?;
        if slot.at <= now {
            return Some(slot);
        }
        self.slot_on(today.yesterday().ok()?)
    }

    /// The first slot strictly after `now`.
    pub fn slot_after(&self, now: Timestamp) -> Option<Slot> {
        let today = now.to_zoned_datetime(self.tz.clone()).date();
        let slot = self.slot_on(today)?;
        if slot.at > now {
            return Some(slot);
        }
        self.slot_on(today.tomorrow().ok()?)
    }
}

fn parse_hh_mm(s: &str) -> Option<Time> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let h: i8 = h.parse().ok()?;
    let m: i8 = m.parse().ok()?;
    Time::new(h, m, 0, 0).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_local_times_follow_the_zone_and_its_clock_changes() {
        let paris = Schedule::paris_midnight().unwrap();
        // 2026-11-23T19:04:05Z is 20:04:05 in Paris (CET, UTC+1)…
        assert_eq!(
            paris.long_local(1_795_460_645_000),
            "23/11/2026 20:04:05 (Europe/Paris)"
        );
        // …and 2026-07-01T12:00:00Z is 14:00 (CEST, UTC+2).
        assert_eq!(
            paris.long_local(1_782_907_200_000),
            "01/07/2026 14:00:00 (Europe/Paris)"
        );
        // Another zone configured: its own local time and name.
        let reunion = Schedule::new("00:00", "Indian/Reunion").unwrap();
        assert_eq!(
            reunion.long_local(1_795_460_645_000),
            "23/11/2026 23:04:05 (Indian/Reunion)"
        );
        assert_eq!(Schedule::utc_midnight().long_local(i64::MAX), "—");
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_refuses() {
        assert!(Schedule::new("00:00", "Europe/Paris").is_ok());
        assert!(Schedule::new("23:59", "America/New_York").is_ok());
        for bad in ["24:00", "0:00", "00:60", "noon", "00-00", ""] {
            assert!(
                matches!(
                    Schedule::new(bad, "Europe/Paris"),
                    Err(ScheduleError::Time(_))
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            Schedule::new("00:00", "Europe/Pariss"),
            Err(ScheduleError::Zone(_))
        ));
    }

    #[test]
    fn midnight_in_paris_winter_and_summer() {
        let s = Schedule::paris_midnight().unwrap();
        // 30 Nov 2026, 15:00 UTC: the last run was at 00:00 CET = 23:00 UTC the day before.
        let last = s.slot_at_or_before(ts("2026-11-30T15:00:00Z")).unwrap();
        assert_eq!(last.key, "2026-11-30T00:00 Europe/Paris");
        assert_eq!(last.at, ts("2026-11-29T23:00:00Z"));
        let next = s.slot_after(ts("2026-11-30T15:00:00Z")).unwrap();
        assert_eq!(next.key, "2026-12-01T00:00 Europe/Paris");
        assert_eq!(next.at, ts("2026-11-30T23:00:00Z"));
        // In July midnight is 22:00 UTC (CEST).
        let july = s.slot_after(ts("2026-07-01T12:00:00Z")).unwrap();
        assert_eq!(july.at, ts("2026-07-01T22:00:00Z"));
        // Exactly at the slot instant: that slot is "at or before", the next is tomorrow.
        assert_eq!(
            s.slot_at_or_before(ts("2026-11-29T23:00:00Z")).unwrap().key,
            "2026-11-30T00:00 Europe/Paris"
        );
        assert_eq!(
            s.slot_after(ts("2026-11-29T23:00:00Z")).unwrap().key,
            "2026-12-01T00:00 Europe/Paris"
        );
    }

    #[test]
    fn spring_forward_day_is_23_hours_and_a_time_in_the_gap_runs_after_it() {
        // 29 Mar 2026: Paris jumps from 02:00 CET to 03:00 CEST.
        let s = Schedule::paris_midnight().unwrap();
        let before = s.slot_after(ts("2026-03-28T12:00:00Z")).unwrap();
        let after = s.slot_after(before.at).unwrap();
        assert_eq!(before.at, ts("2026-03-28T23:00:00Z")); // 00:00 CET
        assert_eq!(after.at, ts("2026-03-29T22:00:00Z")); // 00:00 CEST
        assert_eq!(after.at.duration_since(before.at).as_hours(), 23);
        let gap = Schedule::new("02:30", "Europe/Paris").unwrap();
        let slot = gap.slot_after(ts("2026-03-29T00:00:00Z")).unwrap();
        assert_eq!(slot.key, "2026-03-29T02:30 Europe/Paris");
        assert_eq!(slot.at, ts("2026-03-29T01:30:00Z")); // 03:30 CEST, just after the gap
        // And the day after it is back at 02:30 local.
        assert_eq!(
            gap.slot_after(slot.at).unwrap().at,
            ts("2026-03-30T00:30:00Z")
        );
    }

    #[test]
    fn fall_back_day_is_25_hours_and_a_repeated_time_runs_once() {
        // 25 Oct 2026: Paris goes back from 03:00 CEST to 02:00 CET.
        let s = Schedule::paris_midnight().unwrap();
        let before = s.slot_after(ts("2026-10-24T12:00:00Z")).unwrap();
        let after = s.slot_after(before.at).unwrap();
        assert_eq!(before.at, ts("2026-10-24T22:00:00Z"));
        assert_eq!(after.at, ts("2026-10-25T23:00:00Z"));
        assert_eq!(after.at.duration_since(before.at).as_hours(), 25);
        let fold = Schedule::new("02:30", "Europe/Paris").unwrap();
        let first = fold.slot_after(ts("2026-10-24T23:00:00Z")).unwrap();
        assert_eq!(first.at, ts("2026-10-25T00:30:00Z")); // the first 02:30 (CEST)
        // During the second 02:30 (CET, 01:30 UTC) the slot already passed: it is the
        // same slot key, so it is not run again; the next one is the next day.
        let during_second = ts("2026-10-25T01:30:00Z");
        assert_eq!(
            fold.slot_at_or_before(during_second).unwrap().key,
            first.key
        );
        assert_eq!(
            fold.slot_after(during_second).unwrap().key,
            "2026-10-26T02:30 Europe/Paris"
        );
    }

    #[test]
    fn other_zones() {
        let ny = Schedule::new("00:00", "America/New_York").unwrap();
        // 8 Mar 2026: New York springs forward; midnight is unaffected (EST then EDT).
        assert_eq!(
            ny.slot_after(ts("2026-03-07T12:00:00Z")).unwrap().at,
            ts("2026-03-08T05:00:00Z")
        );
        assert_eq!(
            ny.slot_after(ts("2026-03-08T12:00:00Z")).unwrap().at,
            ts("2026-03-09T04:00:00Z")
        );
        let utc = Schedule::new("12:15", "UTC").unwrap();
        assert_eq!(
            utc.slot_after(ts("2026-11-30T12:15:00Z")).unwrap().at,
            ts("2026-12-01T12:15:00Z")
        );
    }
}
