//! The public keys parsed recently, shared: a key read again from a certificate — a seal
//! holder's or maker's, embedded in every seal they stamp — gets the same [`PublicPoint`], so
//! it keeps the tables it has earned (its odd multiples, and its comb after
//! [`super::comb::KEY_COMB_AFTER`] verifications) instead of starting cold every time. Keys
//! are public and the point is a pure function of the encoding, so sharing cannot change a
//! verdict. Bounded: the least recently used key leaves when [`CAPACITY`] are held (at most
//! 88 KB of comb each).

use std::num::NonZeroUsize;
use std::sync::{Arc, LazyLock, Mutex};

use lru::LruCache;

use super::verify::PublicPoint;
use super::POINT_LEN;

/// Keys kept.
const CAPACITY: NonZeroUsize = match NonZeroUsize::new(256) {
    Some(n) => n,
    None => panic!("capacity is not zero"),
};

static KEYS: LazyLock<Mutex<LruCache<[u8; POINT_LEN], Arc<PublicPoint>>>> =
    LazyLock::new(|| Mutex::new(LruCache::new(CAPACITY)));

/// The shared point for the uncompressed encoding `sec1`, made by `make` (which checks it)
/// if it is not held; `None` if `make` refuses it.
pub(super) fn shared(
    sec1: &[u8; POINT_LEN],
    make: impl FnOnce() -> Option<PublicPoint>,
) -> Option<Arc<PublicPoint>> {
    // A panic elsewhere while holding the lock leaves the cache consistent (every operation
    // on it is a single LruCache call), so a poisoned lock is still usable.
    let mut keys = KEYS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(point) = keys.get(sec1) {
        return Some(Arc::clone(point));
    }
    let point = Arc::new(make()?);
    keys.put(*sec1, Arc::clone(&point));
    Some(point)
}
