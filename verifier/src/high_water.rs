//! The "never older" guard for revocation material (SPEC §4): for each source (a status-list
//! URI, a CRL URL and the root that signs it) the newest signing time this verifier has ever
//! accepted. Material signed before that mark is refused, so a stale proxy, a replayed copy or
//! a back-dated list from a signer still in force cannot un-revoke anything.
//!
//! The marks outlive what they guard: a trust-list change empties the status-list and CRL
//! caches (their signers may have changed), but not the marks, and with a cache directory the
//! marks are written to disk whenever one rises, so a restart keeps them too. This module owns
//! that rule for both caches; it does not verify anything itself.

use std::collections::HashMap;
use std::sync::RwLock;

use huren_crypto::time::UnixTime;

use crate::disk::DiskCache;

/// Most sources remembered. Only material that verified against the trust list raises a mark,
/// so this is reached only by an issuer minting list URIs without end; past it, material from
/// a source not yet marked is refused (fail closed) rather than taken unguarded.
pub const MAX_MARKS: usize = 16_384;

/// Per-source newest signing times.
#[derive(Debug)]
pub struct HighWater {
    marks: RwLock<HashMap<String, i64>>,
    disk: Option<(DiskCache, &'static str)>,
}

impl HighWater {
    /// The marks kept in `file` of `disk` by an earlier run (none without a disk cache, or if
    /// the file is missing or unreadable: the cached material loaded next raises them again).
    pub fn load(disk: Option<DiskCache>, file: &'static str) -> HighWater {
        let marks = disk
            .as_ref()
            .and_then(|d| d.read(file))
            .and_then(|text| serde_json::from_str::<HashMap<String, i64>>(&text).ok())
            .map(|mut marks| {
                // A hand-edited file cannot make the map unbounded.
                if marks.len() > MAX_MARKS {
                    marks = marks.into_iter().take(MAX_MARKS).collect();
                }
                marks
            })
            .unwrap_or_default();
        HighWater {
            marks: RwLock::new(marks),
            disk: disk.map(|d| (d, file)),
        }
    }

    /// The newest signing time accepted for `source`, if any.
    pub fn mark(&self, source: &str) -> Option<UnixTime> {
        self.marks.read().ok()?.get(source).copied().map(UnixTime)
    }

    /// Takes material for `source` signed at `signed_at` if it is not older than the mark,
    /// raising the mark (and writing the marks to disk when it rose). Returns whether it was
    /// taken.
    pub fn admit(&self, source: &str, signed_at: UnixTime) -> bool {
        let Ok(mut marks) = self.marks.write() else {
            return false;
        };
        match marks.get(source).copied() {
            Some(mark) if signed_at.seconds() < mark => return false,
            Some(mark) if signed_at.seconds() == mark => return true,
            None if marks.len() >= MAX_MARKS => {
                tracing::warn!(target: "huren::status", source, "high-water table full; refused");
                return false;
            }
            _ => {}
        }
        marks.insert(source.to_owned(), signed_at.seconds());
        if let Some((disk, file)) = &self.disk {
            match serde_json::to_vec(&*marks) {
                Ok(json) => {
                    if let Err(error) = disk.write(file, &json) {
                        tracing::warn!(target: "huren::status", %error, "high-water marks not saved");
                    }
                }
                Err(error) => {
                    tracing::warn!(target: "huren::status", %error, "high-water marks not saved")
                }
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn older_material_is_refused_equal_or_newer_taken() {
        let marks = HighWater::load(None, "marks.json");
        assert!(marks.admit("u", UnixTime(100)));
        assert!(!marks.admit("u", UnixTime(99)));
        assert!(marks.admit("u", UnixTime(100)));
        assert!(marks.admit("u", UnixTime(101)));
        assert!(!marks.admit("u", UnixTime(100)));
        assert!(marks.admit("other", UnixTime(1)));
        assert_eq!(marks.mark("u"), Some(UnixTime(101)));
    }

    #[test]
    fn marks_survive_a_restart_through_the_disk_cache() {
        let dir = tempfile::tempdir().unwrap();
        let disk = DiskCache::new(dir.path()).unwrap();
        let marks = HighWater::load(Some(disk.clone()), "marks.json");
        assert!(marks.admit("u", UnixTime(500)));
        drop(marks);
        let again = HighWater::load(Some(disk), "marks.json");
        assert_eq!(again.mark("u"), Some(UnixTime(500)));
        assert!(!again.admit("u", UnixTime(499)));
    }

    #[test]
    fn the_table_is_bounded_and_fails_closed_when_full() {
        let marks = HighWater::load(None, "marks.json");
        for i in 0..MAX_MARKS {
            assert!(marks.admit(&i.to_string(), UnixTime(1)));
        }
        assert!(!marks.admit("one more", UnixTime(1)));
        assert!(marks.admit("0", UnixTime(2)), "known sources still advance");
    }
}
