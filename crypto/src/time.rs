//! Time as a value: [`UnixTime`] and the [`Clock`] seam.
//!
//! Nothing in this crate reads the wall clock. Callers pass the time in, so verification is a
//! pure function and tests pin the time (house rule, after rustls-webpki's `UnixTime`).

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
    pub fn to_rfc3339_china(self) -> String {
        self.to_china_datetime()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_else(|| format!("@{}", self.0))
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
        f.write_str(&self.to_rfc3339_china())
    }
}

/// Where "now" comes from. Only `huren-keys`' `SystemClock` reads the wall clock; tests use a
/// fixed clock.
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
    fn china_day_bounds_are_utc_plus_eight() {
        let start = UnixTime::start_of_china_day(date!(2026 - 11 - 22));
        assert_eq!(start.to_rfc3339_china(), "2026-11-22T00:00:00+08:00");
        let end = UnixTime::end_of_china_day(date!(2026 - 11 - 22));
        assert_eq!(end.to_rfc3339_china(), "2026-11-22T23:59:59+08:00");
        assert_eq!(end.0 - start.0, 86_399);
    }
}
