//! The workspace's one read of the wall clock: [`SystemClock`], the implementation of the
//! [`Clock`] seam that services and the CLI hold. Verification never calls it; it takes the
//! time as an argument.

use crate::time::{Clock, UnixTime};

/// The system clock: the workspace's single read of the wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // invariant: this is the one wall-clock read.
    fn now(&self) -> UnixTime {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        UnixTime(i64::try_from(now).unwrap_or(i64::MAX))
    }
}
