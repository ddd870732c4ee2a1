//! The Merkle tree's arithmetic over stored hashes (RFC 6962, `tlog_tiles`' storage layout:
//! every complete subtree's hash at [`tlog_tiles::stored_hash_index`]).
//!
//! The store that holds the hashes is async and the tree math is not, so each computation is
//! split in two: `*_indexes` says which stored hashes it needs, the caller fetches them, and the
//! computation runs over what was fetched ([`Fetched`]). Appending needs only the tree's right
//! edge ([`Frontier`], at most 64 hashes), so a sequencer reads nothing per entry.
//!
//! Checking proofs (`check_*`) needs no store: it is what verifiers, witnesses and monitors do
//! with proofs they were sent, and refuses a proof longer than [`MAX_PROOF_HASHES`].

use std::cell::RefCell;
use std::collections::HashMap;

use tlog_tiles::{HashReader, EMPTY_HASH};

use super::{Hash, TlogError};

/// Longest proof accepted (a tree of 2^63 entries needs 63 hashes; tlog-witness allows 63).
pub const MAX_PROOF_HASHES: usize = 63;

/// Largest tree size accepted anywhere (the store's indexes are signed 64-bit).
pub const MAX_TREE_SIZE: u64 = i64::MAX as u64 / 2;

/// Stored hashes fetched for one computation, by stored index.
pub type Fetched = HashMap<u64, Hash>;

struct Recorder(RefCell<Vec<u64>>);

impl HashReader for Recorder {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        self.0.borrow_mut().extend_from_slice(indexes);
        Err(tlog_tiles::Error::IndexesNotInTree)
    }
}

struct FromFetched<'a>(&'a Fetched);

impl HashReader for FromFetched<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|i| {
                self.0
                    .get(i)
                    .copied()
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

/// The indexes a computation reads (each `tlog_tiles` computation reads once).
fn recorded<T>(run: impl FnOnce(&Recorder) -> Result<T, tlog_tiles::Error>) -> Vec<u64> {
    let recorder = Recorder(RefCell::new(Vec::new()));
    let _ = run(&recorder);
    recorder.0.into_inner()
}

fn missing(fetched: &Fetched, indexes: &[u64]) -> TlogError {
    let absent = indexes.iter().find(|i| !fetched.contains_key(i));
    TlogError::MissingHash(absent.copied().unwrap_or_default())
}

fn check_size(size: u64) -> Result<(), TlogError> {
    if size > MAX_TREE_SIZE {
        return Err(TlogError::Proof(format!("tree size {size} is too large")));
    }
    Ok(())
}

/// The stored index of the hash of the `n`-th subtree at tree `level` (level 0: leaves).
pub fn stored_index(level: u8, n: u64) -> u64 {
    tlog_tiles::stored_hash_index(level, n)
}

/// The (tree level, number at that level) of a stored index.
pub fn split_stored_index(index: u64) -> (u8, u64) {
    tlog_tiles::split_stored_hash_index(index)
}

/// The stored hashes the root of a tree of `size` entries is made of.
pub fn root_indexes(size: u64) -> Vec<u64> {
    if size == 0 {
        Vec::new()
    } else {
        tlog_tiles::sub_tree_index(0, size, Vec::new())
    }
}

/// The root of a tree of `size` entries.
pub fn root(size: u64, fetched: &Fetched) -> Result<Hash, TlogError> {
    check_size(size)?;
    tlog_tiles::tree_hash(size, &FromFetched(fetched))
        .map_err(|_| missing(fetched, &root_indexes(size)))
}

/// The stored hashes an inclusion proof of entry `index` in a tree of `size` reads.
pub fn inclusion_indexes(size: u64, index: u64) -> Result<Vec<u64>, TlogError> {
    check_size(size)?;
    if index >= size {
        return Err(TlogError::Proof(format!(
            "entry {index} is not in a tree of {size}"
        )));
    }
    Ok(recorded(|r| tlog_tiles::prove_record(size, index, r)))
}

/// The inclusion proof of entry `index` in a tree of `size`.
pub fn inclusion_proof(size: u64, index: u64, fetched: &Fetched) -> Result<Vec<Hash>, TlogError> {
    let indexes = inclusion_indexes(size, index)?;
    tlog_tiles::prove_record(size, index, &FromFetched(fetched))
        .map_err(|_| missing(fetched, &indexes))
}

/// The stored hashes a consistency proof from `old` to `new` entries reads (none when `old` is
/// 0 or equals `new`: those need no proof).
pub fn consistency_indexes(new: u64, old: u64) -> Result<Vec<u64>, TlogError> {
    check_size(new)?;
    if old > new {
        return Err(TlogError::Proof(format!(
            "a tree of {new} cannot extend one of {old}"
        )));
    }
    if old == 0 || old == new {
        return Ok(Vec::new());
    }
    Ok(recorded(|r| tlog_tiles::prove_tree(new, old, r)))
}

/// The consistency proof from a tree of `old` entries to one of `new`.
pub fn consistency_proof(new: u64, old: u64, fetched: &Fetched) -> Result<Vec<Hash>, TlogError> {
    let indexes = consistency_indexes(new, old)?;
    if indexes.is_empty() {
        return Ok(Vec::new());
    }
    tlog_tiles::prove_tree(new, old, &FromFetched(fetched)).map_err(|_| missing(fetched, &indexes))
}

/// Checks that `leaf` (the entry's bytes) is entry `index` of the tree (`size`, `root`).
pub fn check_inclusion(
    proof: &[Hash],
    size: u64,
    root: &Hash,
    index: u64,
    leaf: &[u8],
) -> Result<(), TlogError> {
    check_size(size)?;
    if proof.len() > MAX_PROOF_HASHES {
        return Err(TlogError::Proof("inclusion proof is too long".into()));
    }
    if index >= size {
        return Err(TlogError::Proof(format!(
            "entry {index} is not in a tree of {size}"
        )));
    }
    tlog_tiles::check_record(
        &proof.to_vec(),
        size,
        *root,
        index,
        tlog_tiles::record_hash(leaf),
    )
    .map_err(|_| {
        TlogError::Proof(format!(
            "the inclusion proof does not put this entry at {index} in the tree of {size}"
        ))
    })
}

/// Checks that the tree (`new`, `new_root`) extends the tree (`old`, `old_root`).
pub fn check_consistency(
    proof: &[Hash],
    old: u64,
    old_root: &Hash,
    new: u64,
    new_root: &Hash,
) -> Result<(), TlogError> {
    check_size(new)?;
    if proof.len() > MAX_PROOF_HASHES {
        return Err(TlogError::Proof("consistency proof is too long".into()));
    }
    let inconsistent = || {
        TlogError::Proof(format!(
            "the tree of {new} does not extend the tree of {old} seen before"
        ))
    };
    if old > new {
        return Err(TlogError::Proof(format!(
            "the tree shrank from {old} to {new} entries"
        )));
    }
    if old == 0 {
        return if proof.is_empty() && (new > 0 || *new_root == EMPTY_HASH) {
            Ok(())
        } else {
            Err(inconsistent())
        };
    }
    if old == new {
        return if proof.is_empty() && old_root == new_root {
            Ok(())
        } else {
            Err(inconsistent())
        };
    }
    tlog_tiles::check_tree(&proof.to_vec(), new, *new_root, old, *old_root)
        .map_err(|_| inconsistent())
}

/// The right edge of a tree: the stored hashes of its complete subtrees ([`root_indexes`]),
/// all that appending and the root need.
#[derive(Debug, Clone)]
pub struct Frontier {
    size: u64,
    hashes: Fetched,
}

impl Frontier {
    /// The empty tree.
    pub fn empty() -> Frontier {
        Frontier {
            size: 0,
            hashes: Fetched::new(),
        }
    }

    /// The right edge of a tree of `size` entries from its [`root_indexes`] hashes.
    pub fn new(size: u64, hashes: Fetched) -> Result<Frontier, TlogError> {
        check_size(size)?;
        let indexes = root_indexes(size);
        if let Some(absent) = indexes.iter().find(|i| !hashes.contains_key(i)) {
            return Err(TlogError::MissingHash(*absent));
        }
        let hashes = indexes
            .into_iter()
            .filter_map(|i| Some((i, *hashes.get(&i)?)))
            .collect();
        Ok(Frontier { size, hashes })
    }

    /// Entries in the tree.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf; returns the stored hashes to write, numbered from
    /// `stored_hash_index(0, size)` on.
    pub fn append(&mut self, leaf: &[u8]) -> Result<Vec<(u64, Hash)>, TlogError> {
        check_size(self.size + 1)?;
        let first = tlog_tiles::stored_hash_index(0, self.size);
        let new = tlog_tiles::stored_hashes(self.size, leaf, &FromFetched(&self.hashes))
            .map_err(|_| TlogError::MissingHash(first))?;
        let numbered: Vec<(u64, Hash)> = (first..).zip(new).collect();
        self.size += 1;
        self.hashes.extend(numbered.iter().copied());
        let keep = root_indexes(self.size);
        self.hashes.retain(|i, _| keep.contains(i));
        Ok(numbered)
    }

    /// The tree's root.
    pub fn root(&self) -> Result<Hash, TlogError> {
        root(self.size, &self.hashes)
    }
}

struct TileFetcher<'a> {
    fetch: &'a dyn Fn(&super::tiles::TilePath) -> Result<Vec<u8>, String>,
    failure: RefCell<Option<String>>,
}

impl tlog_tiles::TileReader for TileFetcher<'_> {
    fn height(&self) -> u8 {
        super::tiles::TILE_HEIGHT
    }

    fn read_tiles(&self, tiles: &[tlog_tiles::Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
        tiles
            .iter()
            .map(|t| {
                let path = super::tiles::TilePath {
                    level: Some(t.level()),
                    index: t.level_index(),
                    width: u16::try_from(t.width()).unwrap_or(u16::MAX),
                };
                (self.fetch)(&path).map_err(|e| {
                    *self.failure.borrow_mut() = Some(format!("{}: {e}", path.to_path()));
                    tlog_tiles::Error::InvalidTile
                })
            })
            .collect()
    }

    fn save_tiles(&self, _tiles: &[tlog_tiles::Tile], _data: &[Vec<u8>]) {}
}

/// Checks that the tree (`new`, `new_root`) extends (`old`, `old_root`) from the new tree's
/// tiles alone, as Go's `sumdb` client does: the hashes that make up the old root are read from
/// tiles authenticated against the new root, and must give the old root. `fetch` gets a
/// tile's bytes by its C2SP path (a monitor fetches them from the log).
pub fn check_consistency_from_tiles(
    old: u64,
    old_root: &Hash,
    new: u64,
    new_root: &Hash,
    fetch: &dyn Fn(&super::tiles::TilePath) -> Result<Vec<u8>, String>,
) -> Result<(), TlogError> {
    check_size(new)?;
    if old > new {
        return Err(TlogError::Proof(format!(
            "the tree shrank from {old} to {new} entries"
        )));
    }
    if old == 0 || old == new {
        return check_consistency(&[], old, old_root, new, new_root);
    }
    let reader = TileFetcher {
        fetch,
        failure: RefCell::new(None),
    };
    let hashes = tlog_tiles::TileHashReader::new(new, *new_root, &reader);
    match tlog_tiles::tree_hash(old, &hashes) {
        Ok(root) if root == *old_root => Ok(()),
        Ok(_) => Err(TlogError::Proof(format!(
            "the tree of {new} does not extend the tree of {old} seen before"
        ))),
        Err(tlog_tiles::Error::InconsistentTile) => Err(TlogError::Proof(format!(
            "the log's tiles do not match its checkpoint of {new} entries"
        ))),
        Err(e) => Err(TlogError::Tile(
            reader.failure.into_inner().unwrap_or_else(|| e.to_string()),
        )),
    }
}
