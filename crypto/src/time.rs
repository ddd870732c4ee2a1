//! Time as a value: [`UnixTime`] and the [`Clock`] seam.
//!
//! Nothing in this crate asks for the time: callers pass it in, so verification is a pure
//! function and tests pin the time (house rule, after rustls-webpki's `UnixTime`). The seam's
//! one wall-clock implementation, [`SystemClock`], is in `crate::clock` (re-exported here) so
//! that every crate shares it.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime, UtcOffset};

/// Seconds since the Unix epoch (UTC), as in JWT `iat`/`nbf`/`exp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnixTime(pub i64);

/// China Standard Time, the time zone licences state their dates in (no daylight saving).
pub const CHINA_OFFSET: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(offset) => offset,
    Err(_) => UtcOffset::UTC,
};

impl UnixTime {
    /// Seconds since the epoch.
    pub fn seconds(self) -> i64 {
        self.0
    }

    /// `self + seconds`, saturating.
    pub fn plus(self, seconds: i64) -> UnixTime {
        UnixTime(self.0.saturating_add(seconds))
    }

    /// `self - seconds`, saturating.
    pub fn minus(self, seconds: i64) -> UnixTime {
        UnixTime(self.0.saturating_sub(seconds))
    }

    /// From a `time` value.
    pub fn from_datetime(datetime: OffsetDateTime) -> UnixTime {
        UnixTime(datetime.unix_timestamp())
    }

    /// As a `time` value in China Standard Time; `None` outside the representable range.
    pub fn to_china_datetime(self) -> Option<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp(self.0)
            .ok()
            .map(|t| t.to_offset(CHINA_OFFSET))
    }

    /// RFC 3339 in China Standard Time, e.g. `2026-11-22T09:30:00+08:00`, as reports show it.
    ///
    /// Every verification report carries several of these, so this is plain arithmetic (Howard
    /// Hinnant's days-to-civil algorithm) rather than a format-description interpreter; a unit
    /// test holds it to the `time` crate's output.
    pub fn to_rfc3339_china(self) -> String {
        match self.rfc3339_china_bytes() {
            // The buffer holds ASCII digits and punctuation only.
            Some(bytes) => std::str::from_utf8(&bytes).unwrap_or_default().to_owned(),
            None => format!("@{}", self.0),
        }
    }

    /// Appends [`UnixTime::to_rfc3339_china`] to `out` without an intermediate allocation.
    pub fn push_rfc3339_china(self, out: &mut String) {
        match self.rfc3339_china_bytes() {
            Some(bytes) => out.push_str(std::str::from_utf8(&bytes).unwrap_or_default()),
            None => {
                out.push('@');
                out.push_str(itoa::Buffer::new().format(self.0));
            }
        }
    }

    /// The 25 ASCII bytes of [`UnixTime::to_rfc3339_china`], written digit by digit (no
    /// formatter machinery); `None` outside years 0000-9999, which RFC 3339 cannot express.
    fn rfc3339_china_bytes(self) -> Option<[u8; 25]> {
        const MIN: i64 = -62_167_248_000; // 0000-01-01T00:00:00+08:00
        const MAX: i64 = 253_402_271_999; // 9999-12-31T23:59:59+08:00
        if !(MIN..=MAX).contains(&self.0) {
            return None;
        }
        let local = self.0 + 8 * 3600;
        let (days, seconds) = (local.div_euclid(86_400), local.rem_euclid(86_400));
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let day_of_era = z.rem_euclid(146_097);
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let month_index = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * month_index + 2) / 5 + 1;
        let month = if month_index < 10 {
            month_index + 3
        } else {
            month_index - 9
        };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        let mut out = *b"0000-00-00T00:00:00+08:00";
        let mut put = |at: usize, width: usize, mut value: i64| {
            for slot in out[at..at + width].iter_mut().rev() {
                // 0 <= value % 10 <= 9 for the non-negative fields checked above.
                *slot = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        put(0, 4, year);
        put(5, 2, month);
        put(8, 2, day);
        put(11, 2, seconds / 3600);
        put(14, 2, seconds / 60 % 60);
        put(17, 2, seconds % 60);
        Some(out)
    }

    /// The calendar date in China Standard Time.
    pub fn china_date(self) -> Option<Date> {
        self.to_china_datetime().map(|t| t.date())
    }

    /// The first second of `date` in China Standard Time (licences are valid from the start of
    /// their first day).
    pub fn start_of_china_day(date: Date) -> UnixTime {
        UnixTime(date.midnight().assume_offset(CHINA_OFFSET).unix_timestamp())
    }

    /// The last second of `date` in China Standard Time (licences are valid to the end of
    /// their last day).
    pub fn end_of_china_day(date: Date) -> UnixTime {
        UnixTime::start_of_china_day(date).plus(86_400 - 1)
    }
}

impl fmt::Display for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.rfc3339_china_bytes() {
            Some(bytes) => f.write_str(std::str::from_utf8(&bytes).map_err(|_| fmt::Error)?),
            None => write!(f, "@{}", self.0),
        }
    }
}

/// `serialize_with` helpers writing a [`UnixTime`] as [`UnixTime::to_rfc3339_china`], so
/// reports can keep times as numbers until (and unless) they are serialized.
pub mod rfc3339_china {
    use super::UnixTime;

    /// One time.
    pub fn serialize<S: serde::Serializer>(
        at: &UnixTime,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_str(at)
    }

    /// An optional time (`null` when absent).
    pub fn serialize_option<S: serde::Serializer>(
        at: &Option<UnixTime>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => serializer.collect_str(at),
            None => serializer.serialize_none(),
        }
    }
}

pub use crate::clock::SystemClock;

/// Where "now" comes from: the one clock abstraction of the workspace. [`SystemClock`] is the
/// only reader of the wall clock (clippy's `disallowed-methods` refuses any other); the
/// issuer, the verifier service and the CLI hold a `Clock`, and tests give them a
/// [`FixedClock`]. Verification itself never asks: it takes the time as an argument.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> UnixTime;
}

/// A clock that always answers the same time (tests, reproducible reports).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub UnixTime);

impl Clock for FixedClock {
    fn now(&self) -> UnixTime {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn rfc3339_matches_the_time_crate() {
        let reference = |t: UnixTime| {
            t.to_china_datetime()
                .and_then(|d| {
                    d.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap()
        };
        let mut t: i64 = -62_167_248_000;
        while t < 253_402_271_999 {
            assert_eq!(
                UnixTime(t).to_rfc3339_china(),
                reference(UnixTime(t)),
                "{t}"
            );
            t += 7_919_993; // about 92 days, an odd step so every field varies
        }
        for t in [0, 951_782_400, 1_795_400_000, -1, 253_402_271_999] {
            assert_eq!(
                UnixTime(t).to_rfc3339_china(),
                reference(UnixTime(t)),
                "{t}"
            );
        }
        assert_eq!(
            UnixTime(i64::MAX).to_rfc3339_china(),
            format!("@{}", i64::MAX)
        );
    }

    #[test]
    fn china_day_bounds_are_utc_plus_eight() {
        let start = UnixTime::start_of_china_day(date!(2026 - 11 - 22));
        assert_eq!(start.to_rfc3339_china(), "2026-11-22T00:00:00+08:00");
        let end = UnixTime::end_of_china_day(date!(2026 - 11 - 22));
        assert_eq!(end.to_rfc3339_china(), "2026-11-22T23:59:59+08:00");
        assert_eq!(end.0 - start.0, 86_399);
    }
}
