//! C2SP tlog-tiles paths and entry bundles.
//!
//! A tile holds up to 256 consecutive hashes of one tree level: tile level `L` holds the hashes
//! at tree level `8·L`, tile `N` of it those numbered `256·N …`. Paths are `tile/<L>/<N>` for a
//! full tile and `tile/<L>/<N>.p/<W>` for the first `W` (1 … 255) hashes of one that is not
//! full yet; entry bundles (`tile/entries/<N>[.p/<W>]`) hold the leaves whose hashes the
//! level-0 tile holds, each as a big-endian `u16` length and the bytes. `N` is written in
//! groups of three digits, every group but the last prefixed with `x` (`1234067` →
//! `x001/x234/067`). [`TilePath::parse`] accepts only the canonical spelling (it re-encodes and
//! compares), so two paths never name one tile.

use super::entry::MAX_ENTRY_BYTES;
use super::{excerpt, TlogError};

/// Hashes (or entries) in a full tile.
pub const TILE_WIDTH: u64 = 256;
/// Tree levels per tile level.
pub const TILE_HEIGHT: u8 = 8;

/// A tile, or an entry bundle, by its place in the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TilePath {
    /// `None` for an entry bundle, else the tile level.
    pub level: Option<u8>,
    /// Which tile of the level.
    pub index: u64,
    /// How many hashes (entries): 256 for a full tile.
    pub width: u16,
}

impl TilePath {
    /// Parses a path after the log's prefix: `tile/<L>/<N>[.p/<W>]` or
    /// `tile/entries/<N>[.p/<W>]`.
    pub fn parse(path: &str) -> Result<TilePath, TlogError> {
        let bad = || TlogError::Tile(format!("{} is not a tile path", excerpt(path)));
        if path.len() > 100 {
            return Err(bad());
        }
        let rest = path.strip_prefix("tile/").ok_or_else(bad)?;
        let (level, rest) = rest.split_once('/').ok_or_else(bad)?;
        let level = if level == "entries" {
            None
        } else {
            let l: u8 = level.parse().map_err(|_| bad())?;
            // Level 7 holds tree level 56 and up: enough for 2^63 entries.
            if l > 7 {
                return Err(bad());
            }
            Some(l)
        };
        let (index, width) = match rest.split_once(".p/") {
            Some((index, width)) => {
                let w: u16 = width.parse().map_err(|_| bad())?;
                if !(1..TILE_WIDTH as u16).contains(&w) {
                    return Err(bad());
                }
                (index, w)
            }
            None => (rest, TILE_WIDTH as u16),
        };
        let mut n: u64 = 0;
        for group in index.split('/') {
            let digits = group.strip_prefix('x').unwrap_or(group);
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let value: u64 = digits.parse().map_err(|_| bad())?;
            n = n
                .checked_mul(1000)
                .and_then(|n| n.checked_add(value))
                .ok_or_else(bad)?;
        }
        let tile = TilePath {
            level,
            index: n,
            width,
        };
        if tile.to_path() != path {
            return Err(bad());
        }
        Ok(tile)
    }

    /// The canonical path (`tile/…`).
    pub fn to_path(&self) -> String {
        let mut groups = vec![format!("{:03}", self.index % 1000)];
        let mut n = self.index / 1000;
        while n > 0 {
            groups.push(format!("x{:03}", n % 1000));
            n /= 1000;
        }
        groups.reverse();
        let level = match self.level {
            Some(l) => l.to_string(),
            None => "entries".to_owned(),
        };
        let mut path = format!("tile/{level}/{}", groups.join("/"));
        if u64::from(self.width) < TILE_WIDTH {
            path.push_str(&format!(".p/{}", self.width));
        }
        path
    }

    /// The tree level whose hashes the tile holds (entry bundles: the leaves, level 0).
    pub fn tree_level(&self) -> u8 {
        self.level.unwrap_or(0) * TILE_HEIGHT
    }

    /// The first hash (or entry) number at [`TilePath::tree_level`] the tile holds.
    pub fn first(&self) -> u64 {
        self.index * TILE_WIDTH
    }

    /// Whether a tree of `size` entries has this tile (a partial tile of width `W` is a prefix
    /// of every wider version of it, so any `W` up to what the tree has is served).
    pub fn within(&self, size: u64) -> bool {
        let hashes = size >> self.tree_level();
        self.first()
            .checked_add(u64::from(self.width))
            .is_some_and(|end| end <= hashes)
    }
}

/// The tiles of level `level` a tree of `size` entries has, full ones then the partial one.
pub fn tiles_at(size: u64, level: Option<u8>) -> Vec<TilePath> {
    let shift = level.unwrap_or(0) * TILE_HEIGHT;
    let hashes = size >> shift;
    let mut tiles: Vec<TilePath> = (0..hashes / TILE_WIDTH)
        .map(|index| TilePath {
            level,
            index,
            width: TILE_WIDTH as u16,
        })
        .collect();
    if hashes % TILE_WIDTH != 0 {
        tiles.push(TilePath {
            level,
            index: hashes / TILE_WIDTH,
            width: (hashes % TILE_WIDTH) as u16,
        });
    }
    tiles
}

/// An entry bundle of `entries`.
pub fn bundle<E: AsRef<[u8]>>(entries: &[E]) -> Result<Vec<u8>, TlogError> {
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.as_ref();
        let len = u16::try_from(entry.len())
            .map_err(|_| TlogError::Tile("an entry is longer than 65535 bytes".into()))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(entry);
    }
    Ok(out)
}

/// The entries of a bundle that must hold exactly `width` of them, each at most
/// [`MAX_ENTRY_BYTES`].
pub fn unbundle(bytes: &[u8], width: u16) -> Result<Vec<&[u8]>, TlogError> {
    let mut entries = Vec::with_capacity(usize::from(width));
    let mut rest = bytes;
    while !rest.is_empty() {
        let Some((len, tail)) = rest.split_first_chunk::<2>() else {
            return Err(TlogError::Tile("entry bundle ends inside a length".into()));
        };
        let len = usize::from(u16::from_be_bytes(*len));
        if len > MAX_ENTRY_BYTES {
            return Err(TlogError::Tile(format!(
                "entry {} is longer than {MAX_ENTRY_BYTES} bytes",
                entries.len()
            )));
        }
        let (entry, tail) = tail
            .split_at_checked(len)
            .ok_or_else(|| TlogError::Tile("entry bundle ends inside an entry".into()))?;
        entries.push(entry);
        if entries.len() > usize::from(width) {
            break;
        }
        rest = tail;
    }
    if entries.len() != usize::from(width) {
        return Err(TlogError::Tile(format!(
            "entry bundle holds {}{} entries, the tile {width}",
            entries.len(),
            if entries.len() > usize::from(width) {
                "+"
            } else {
                ""
            }
        )));
    }
    Ok(entries)
}
