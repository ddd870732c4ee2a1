//! Status-list positions: which list a new record takes its entry from, and which index in it —
//! for a single licence, a batch of licences, a seal, and an annotated copy's own entry (which
//! is drawn as a single licence's: [`licence_position`]; the `copies` trigger records it).
//!
//! Owns the rule **an index never serves two subjects**. Licences and seals share the region's
//! status lists (the publisher puts both into one signed list, so verifiers fetch one kind of
//! list and a seal's entry hides among licences). Three things keep a position single-use:
//! - *where*: licences draw only from the region's newest list, while it is under 7/8 full
//!   ([`LicencePositions`]); seals draw only from older lists, which licences never draw from
//!   again, while under 15/16 full ([`seal_position`]); when no older list has room, a new list
//!   is opened, which moves licences on and frees the previous one for seals;
//! - *which*: an index is drawn at random and taken only if `status_entries` (filled by
//!   triggers from every table that holds positions, migration `0002_seals`) does not have it;
//! - *when*: every allocation runs in a region write transaction ([`RegionTx`]), which holds
//!   the region's audit-head lock from its first statement, so writers of a region — threads or
//!   processes sharing the database — allocate one after another.
//!
//! And the `status_entries` primary key makes a shared index a failed `INSERT` even if that
//! reasoning were ever broken. Lists are filled below capacity so random draws stay cheap: a
//! draw is free with probability at least 1/16, and all [`INDEX_ROUNDS`] draws are taken with
//! probability (15/16)^1024 < 10^-28 — reaching the bound means the counters lie, and the
//! allocation fails rather than loop.

use std::collections::HashSet;

use rand_core::{OsRng, RngCore};

use crate::store::status_lists::{self, ListRow};
use crate::store::{RegionTx, StoreError};

/// Entries per status list (a power of two; SPEC §4 suggests 2^17).
pub const DEFAULT_LIST_CAPACITY: i64 = 1 << 17;
/// Licences take the newest list while it is under 7/8 full.
const LICENCE_FILL: (i64, i64) = (7, 8);
/// Seals take an older list while it is under 15/16 full.
const SEAL_FILL: (i64, i64) = (15, 16);
/// Draws (rounds of one query each) before an allocation gives up.
const INDEX_ROUNDS: usize = 1024;
/// Candidates one query checks when few positions are wanted (spares beyond one per position).
const CANDIDATES_PER_QUERY: usize = 64;

/// A position handed out: an index of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// The list, `<region>-<seq>`.
    pub list_id: String,
    /// The index in it.
    pub idx: i64,
}

fn below(list: &ListRow, (numerator, denominator): (i64, i64)) -> bool {
    list.allocated * denominator < list.capacity * numerator
}

/// Positions for licences, as many as a single issuance or a batch needs: each from the
/// region's newest list while it is under 7/8 full, a new list then (a batch may span two).
///
/// The open list is read (or created) once and its allocations counted in memory, written back
/// with one `UPDATE` when the batch moves to a new list and at [`LicencePositions::save`].
/// Per-item updates of the same `status_lists` row cost a statement each and, on PostgreSQL,
/// leave one row version per update inside the transaction that every later update of that
/// row walks (quadratic in batch size).
#[derive(Debug)]
pub struct LicencePositions {
    open: Option<ListRow>,
    /// Allocations of `open` not yet written to its row.
    unsaved: i64,
    capacity: i64,
    now: i64,
}

impl LicencePositions {
    /// Allocation for new lists of `capacity` entries, created at `now`.
    pub fn new(capacity: i64, now: i64) -> LicencePositions {
        LicencePositions {
            open: None,
            unsaved: 0,
            capacity,
            now,
        }
    }

    /// `count` positions, in order, at random indices nobody holds. Call
    /// [`LicencePositions::save`] before the transaction commits.
    pub async fn take(
        &mut self,
        tx: &mut RegionTx,
        count: usize,
    ) -> Result<Vec<Position>, StoreError> {
        // The lists used, in order, with how many positions each gives.
        let mut lists: Vec<(ListRow, usize)> = Vec::new();
        for _ in 0..count {
            let list = self.open_list(tx).await?;
            list.allocated += 1;
            let list = list.clone();
            self.unsaved += 1;
            match lists.last_mut() {
                Some((last, taken)) if last.id == list.id => *taken += 1,
                _ => lists.push((list, 1)),
            }
        }
        let mut positions = Vec::with_capacity(count);
        for (list, taken) in lists {
            let indices = free_indices(tx, &list, taken).await?;
            positions.extend(indices.into_iter().map(|idx| Position {
                list_id: list.id.clone(),
                idx,
            }));
        }
        Ok(positions)
    }

    /// Writes the allocations counted so far to the open list's row.
    pub async fn save(&mut self, tx: &mut RegionTx) -> Result<(), StoreError> {
        if let Some(list) = self.open.as_ref().filter(|_| self.unsaved > 0) {
            status_lists::add_allocated(tx, &list.id, self.unsaved).await?;
            self.unsaved = 0;
        }
        Ok(())
    }

    /// The list the next licence takes its position from.
    async fn open_list(&mut self, tx: &mut RegionTx) -> Result<&mut ListRow, StoreError> {
        if !self.open.as_ref().is_some_and(|l| below(l, LICENCE_FILL)) {
            self.save(tx).await?;
            let newest = status_lists::newest(tx).await?;
            self.open = Some(match newest {
                Some(list) if below(&list, LICENCE_FILL) => list,
                previous => {
                    let seq = previous.map_or(0, |list| list.seq + 1);
                    status_lists::open(tx, seq, self.capacity, self.now).await?
                }
            });
        }
        self.open
            .as_mut()
            .ok_or_else(|| StoreError::Row("no open status list".into()))
    }
}

/// One position for a licence (a single issuance).
pub async fn licence_position(
    tx: &mut RegionTx,
    capacity: i64,
    now: i64,
) -> Result<Position, StoreError> {
    let mut positions = LicencePositions::new(capacity, now);
    let position = positions.take(tx, 1).await?.pop();
    positions.save(tx).await?;
    position.ok_or_else(|| StoreError::Row("no status position".into()))
}

/// One position for a seal: in the newest list licences no longer draw from that is under
/// 15/16 full; if there is none, the open list is closed to licences by opening the next one,
/// and taken.
pub async fn seal_position(
    tx: &mut RegionTx,
    capacity: i64,
    now: i64,
) -> Result<Position, StoreError> {
    let list = seal_list(tx, capacity, now).await?;
    let idx = free_indices(tx, &list, 1)
        .await?
        .pop()
        .ok_or_else(|| no_free_index(&list.id))?;
    status_lists::add_allocated(tx, &list.id, 1).await?;
    Ok(Position {
        list_id: list.id,
        idx,
    })
}

async fn seal_list(tx: &mut RegionTx, capacity: i64, now: i64) -> Result<ListRow, StoreError> {
    let Some(newest) = status_lists::newest(tx).await? else {
        // The region's first lists: 0 for seals, 1 for licences.
        let first = status_lists::open(tx, 0, capacity, now).await?;
        status_lists::open(tx, 1, capacity, now).await?;
        return Ok(first);
    };
    let (numerator, denominator) = SEAL_FILL;
    if let Some(older) =
        status_lists::newest_older_below(tx, newest.seq, numerator, denominator).await?
    {
        return Ok(older);
    }
    let next = status_lists::open(tx, newest.seq + 1, capacity, now).await?;
    if below(&newest, SEAL_FILL) {
        return Ok(newest);
    }
    // The newest list was full already (licences had just reached 7/8 of it): the list just
    // opened goes to seals, and licences move on once more.
    status_lists::open(tx, newest.seq + 2, capacity, now).await?;
    Ok(next)
}

/// `count` distinct random indices of `list` that nobody holds: all drawn at once and checked
/// with one query per round; only those found taken are drawn again.
async fn free_indices(
    tx: &mut RegionTx,
    list: &ListRow,
    count: usize,
) -> Result<Vec<i64>, StoreError> {
    let bound = u64::try_from(list.capacity)
        .ok()
        .filter(|&b| b > 0)
        .ok_or_else(|| StoreError::Row(format!("list {} has no capacity", list.id)))?;
    // Indices drawn here (chosen or being checked) and indices found taken: never drawn again.
    let mut seen = HashSet::with_capacity(count);
    let mut chosen = Vec::with_capacity(count);
    for _ in 0..count {
        chosen.push(draw_unseen(&list.id, bound, &mut seen)?);
    }
    let mut unchecked: Vec<usize> = (0..count).collect();
    for _ in 0..INDEX_ROUNDS {
        if unchecked.is_empty() {
            return Ok(chosen);
        }
        // Few positions wanted (a seal, one licence): each brings spare candidates, so a list
        // near its bound still needs about one query, not one per draw.
        let spares = (CANDIDATES_PER_QUERY / unchecked.len()).saturating_sub(1);
        let offers: Vec<Vec<i64>> = unchecked
            .iter()
            .map(|&n| {
                let mut offer = vec![chosen[n]];
                offer.extend(std::iter::from_fn(|| draw_spare(bound, &mut seen)).take(spares));
                offer
            })
            .collect();
        let candidates: Vec<i64> = offers.iter().flatten().copied().collect();
        let taken = status_lists::taken_indices(tx, &list.id, &candidates).await?;
        let mut colliding = Vec::new();
        for (n, offer) in unchecked.into_iter().zip(offers) {
            let mut free = offer.into_iter().filter(|idx| !taken.contains(idx));
            match free.next() {
                Some(idx) => chosen[n] = idx,
                None => {
                    chosen[n] = draw_unseen(&list.id, bound, &mut seen)?;
                    colliding.push(n);
                }
            }
            // Free spares it did not need go back to the pool: on a nearly full list they may
            // be the only free indices left for the other positions.
            for spare in free {
                seen.remove(&spare);
            }
        }
        unchecked = colliding;
    }
    if unchecked.is_empty() {
        Ok(chosen)
    } else {
        Err(no_free_index(&list.id))
    }
}

/// A random index below `bound` not in `seen`, which it joins.
fn draw_unseen(list_id: &str, bound: u64, seen: &mut HashSet<i64>) -> Result<i64, StoreError> {
    draw_spare(bound, seen).ok_or_else(|| no_free_index(list_id))
}

/// A random index below `bound` not in `seen` (which it joins), if one turns up within
/// [`INDEX_ROUNDS`] draws.
fn draw_spare(bound: u64, seen: &mut HashSet<i64>) -> Option<i64> {
    (0..INDEX_ROUNDS).find_map(|_| {
        let idx = i64::try_from(OsRng.next_u64() % bound).ok()?;
        seen.insert(idx).then_some(idx)
    })
}

fn no_free_index(list_id: &str) -> StoreError {
    StoreError::Row(format!("no free index found in {list_id}"))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use huren_crypto::ids::RegionCode;

    use super::*;
    use crate::store::{RegionStore, Store};

    async fn region_store(dir: &tempfile::TempDir) -> RegionStore {
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("huren.db").display()
        );
        let store = Store::connect(&url).await.unwrap();
        RegionStore::new(store, RegionCode::parse("330000").unwrap())
    }

    /// Records a position the way the tables' triggers do, so later draws see it taken.
    async fn hold(tx: &mut RegionTx, position: &Position, kind: &str) {
        sqlx::query("INSERT INTO status_entries (list_id, idx, kind) VALUES ($1, $2, $3)")
            .bind(&position.list_id)
            .bind(position.idx)
            .bind(kind)
            .execute(&mut **tx)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn licences_and_seals_never_share_an_index_and_seals_stay_off_the_newest_list() {
        let dir = tempfile::tempdir().unwrap();
        let store = region_store(&dir).await;
        // Tiny lists, so the run opens many and fills each to its bound.
        let capacity = 16;
        let mut held: HashMap<(String, i64), &str> = HashMap::new();
        for round in 0..60 {
            let mut tx = store.begin().await.unwrap();
            let (position, kind) = if round % 3 == 2 {
                let position = seal_position(&mut tx, capacity, 0).await.unwrap();
                let newest = status_lists::newest(&mut tx).await.unwrap().unwrap();
                assert_ne!(
                    position.list_id, newest.id,
                    "a seal took the licences' list"
                );
                (position, "seal")
            } else {
                (
                    licence_position(&mut tx, capacity, 0).await.unwrap(),
                    "licence",
                )
            };
            hold(&mut tx, &position, kind).await;
            assert!((0..capacity).contains(&position.idx));
            let key = (position.list_id.clone(), position.idx);
            assert!(
                held.insert(key, kind).is_none(),
                "{position:?} handed out twice"
            );
            tx.commit().await.unwrap();
        }
        // Licences fill their list to 7/8 (14 of 16) before moving on.
        let licence_lists: HashSet<&str> = held
            .iter()
            .filter(|(_, kind)| **kind == "licence")
            .map(|((list, _), _)| list.as_str())
            .collect();
        assert!(licence_lists.len() >= 3, "{licence_lists:?}");
    }

    #[tokio::test]
    async fn a_batch_spans_lists_and_counts_every_position_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = region_store(&dir).await;
        let mut tx = store.begin().await.unwrap();
        let mut positions = LicencePositions::new(16, 0);
        let taken = positions.take(&mut tx, 20).await.unwrap();
        positions.save(&mut tx).await.unwrap();
        let distinct: HashSet<(String, i64)> =
            taken.iter().map(|p| (p.list_id.clone(), p.idx)).collect();
        assert_eq!(distinct.len(), 20);
        // 14 from the first list (7/8 of 16), 6 from the next; the counters say so.
        let first: Vec<&Position> = taken.iter().filter(|p| p.list_id == "330000-0").collect();
        assert_eq!(first.len(), 14);
        assert!(taken[14..].iter().all(|p| p.list_id == "330000-1"));
        let newest = status_lists::newest(&mut tx).await.unwrap().unwrap();
        assert_eq!((newest.id.as_str(), newest.allocated), ("330000-1", 6));
    }

    #[tokio::test]
    async fn an_index_held_by_another_record_is_never_drawn() {
        let dir = tempfile::tempdir().unwrap();
        let store = region_store(&dir).await;
        let mut tx = store.begin().await.unwrap();
        let list = status_lists::open(&mut tx, 0, 8, 0).await.unwrap();
        // Seven of eight entries held: the only free one must come back, every time.
        for idx in 0..8 {
            if idx != 5 {
                hold(
                    &mut tx,
                    &Position {
                        list_id: list.id.clone(),
                        idx,
                    },
                    "seal",
                )
                .await;
            }
        }
        for _ in 0..20 {
            assert_eq!(free_indices(&mut tx, &list, 1).await.unwrap(), [5]);
        }
        hold(
            &mut tx,
            &Position {
                list_id: list.id.clone(),
                idx: 5,
            },
            "licence",
        )
        .await;
        let full = free_indices(&mut tx, &list, 1).await.unwrap_err();
        assert!(
            full.to_string().contains("no free index found in 330000-0"),
            "{full}"
        );
    }

    #[tokio::test]
    async fn the_last_free_indices_of_a_list_all_go_to_one_batch() {
        let dir = tempfile::tempdir().unwrap();
        let store = region_store(&dir).await;
        let mut tx = store.begin().await.unwrap();
        let list = status_lists::open(&mut tx, 0, 16, 0).await.unwrap();
        for idx in (0..16).filter(|idx| ![3, 7, 11].contains(idx)) {
            hold(
                &mut tx,
                &Position {
                    list_id: list.id.clone(),
                    idx,
                },
                "licence",
            )
            .await;
        }
        // Spare candidates one position does not need must stay available to the others.
        for _ in 0..20 {
            let mut found = free_indices(&mut tx, &list, 3).await.unwrap();
            found.sort_unstable();
            assert_eq!(found, [3, 7, 11]);
        }
    }
}
