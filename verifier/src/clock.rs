//! The one place this crate reads the wall clock. Verification itself takes the time as an
//! argument; only the service and embedders asking for "now" come here.

use huren_crypto::time::UnixTime;

/// The current time from the system clock.
#[allow(clippy::disallowed_methods)] // invariant: the library's single clock read.
pub fn now() -> UnixTime {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    UnixTime(i64::try_from(seconds).unwrap_or(i64::MAX))
}
