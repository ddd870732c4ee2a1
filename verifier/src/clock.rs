//! "Now" for embedders and the service: the workspace's one clock, [`SystemClock`].
//! Verification itself takes the time as an argument.

use huren_crypto::time::{Clock, SystemClock, UnixTime};

/// The current time from the system clock.
pub fn now() -> UnixTime {
    SystemClock.now()
}
