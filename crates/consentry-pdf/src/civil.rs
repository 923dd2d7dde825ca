//! A Unix time as the calendar date and time of day in UTC, for the PDF's `/M` and
//! information dates and the XMP dates (this crate takes no time library for that).

/// An instant in UTC, broken down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Instant {
    year: i32,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
}

impl Instant {
    /// The UTC calendar date and time of `unix` seconds (H. Hinnant's `civil_from_days`).
    pub(crate) fn from_unix(unix: i64) -> Instant {
        let days = unix.div_euclid(86_400);
        let secs = unix.rem_euclid(86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Instant {
            year: i32::try_from(year).unwrap_or(i32::MAX),
            month: month as u8,
            day: day as u8,
            hour: (secs / 3_600) as u8,
            minute: (secs % 3_600 / 60) as u8,
            second: (secs % 60) as u8,
        }
    }

    /// As a PDF date (`D:YYYYMMDDHHmmSSZ`).
    pub(crate) fn pdf_date(self) -> pdf_writer::Date {
        pdf_writer::Date::new(u16::try_from(self.year).unwrap_or(9999))
            .month(self.month)
            .day(self.day)
            .hour(self.hour)
            .minute(self.minute)
            .second(self.second)
            .utc_offset_hour(0)
            .utc_offset_minute(0)
    }

    /// As an XMP date, in UTC.
    pub(crate) fn xmp_date(self) -> xmp_writer::DateTime {
        xmp_writer::DateTime {
            year: u16::try_from(self.year).unwrap_or(9999),
            month: Some(self.month),
            day: Some(self.day),
            hour: Some(self.hour),
            minute: Some(self.minute),
            second: Some(self.second),
            timezone: Some(xmp_writer::Timezone::Utc),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        // 2026-12-07T21:00:00Z, the epoch, and a leap day.
        assert_eq!(
            Instant::from_unix(1_796_677_200),
            Instant {
                year: 2026,
                month: 12,
                day: 7,
                hour: 21,
                minute: 0,
                second: 0
            }
        );
        assert_eq!(
            Instant::from_unix(0),
            Instant {
                year: 1970,
                month: 1,
                day: 1,
                hour: 0,
                minute: 0,
                second: 0
            }
        );
        assert_eq!(
            Instant::from_unix(951_825_599),
            Instant {
                year: 2000,
                month: 2,
                day: 29,
                hour: 11,
                minute: 59,
                second: 59
            }
        );
    }
}
