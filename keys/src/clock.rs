//! The one place that reads the wall clock.

use huren_crypto::time::{Clock, UnixTime};

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // invariant: this is the clock module.
    fn now(&self) -> UnixTime {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        UnixTime(i64::try_from(now).unwrap_or(i64::MAX))
    }
}
