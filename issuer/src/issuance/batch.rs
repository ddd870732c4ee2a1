//! Batches and bulk import ([`Issuer::issue_batch`], [`Issuer::issue_many`]): many licences in
//! one transaction, accepted in order exactly as if issued one after another, written with
//! set-based statements per chunk.

use std::collections::{HashMap, HashSet};

use huren_crypto::ids::LicenceId;
use huren_crypto::licence::{CivilDate, Licence};
use huren_crypto::qr;
use huren_crypto::time::UnixTime;
use huren_crypto::tlog::entry::token_sha256;

use super::self_check::SelfChecker;
use super::signing::SignJob;
use super::{ids, IssueError, IssueRequest, Issued, Issuer, StatusPosition, SUPERSEDED};
use crate::audit::{self, Action};
use crate::record_status::RecordStatus;
use crate::status_index::{LicencePositions, Position};
use crate::store::licences::{self as rows, LicenceRow, NewLicence};
use crate::store::{import_rows, RegionTx, StoreError};
use crate::tlog::LogReceipt;
use crate::tokens::{Principal, Scope};

/// Items per chunk of a batch ([`Issuer::issue_many`]). Its widest statement is the audit
/// `INSERT`, with up to two entries per item (the issuance, and the revocation of the licence
/// it supersedes); at this size every per-chunk statement fits the bound-parameter limit of
/// both engines in one go.
const CHUNK_ITEMS: usize = audit::ENTRIES_PER_INSERT / 2;

/// What happened to one item of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOutcome {
    /// Issued now.
    Issued(Issued),
    /// Issued by an earlier run (same resume key); its 证照标识.
    AlreadyDone(String),
}

impl Issuer {
    /// Issues many licences in one transaction, each item all-or-nothing on its own: an item
    /// that fails its checks writes nothing and the batch goes on; a database or signing
    /// failure fails the whole batch (nothing is stored). Returns one result per item, in order.
    pub async fn issue_batch(
        &self,
        principal: &Principal,
        requests: &[IssueRequest],
    ) -> Result<Vec<Result<Issued, IssueError>>, IssueError> {
        let items: Vec<(Option<&str>, &IssueRequest)> =
            requests.iter().map(|r| (None, r)).collect();
        let results = self.issue_many(principal, &items).await?;
        Ok(results
            .into_iter()
            .map(|r| {
                r.and_then(|item| match item {
                    BatchOutcome::Issued(issued) => Ok(issued),
                    BatchOutcome::AlreadyDone(jti) => {
                        Err(IssueError::Conflict(format!("already issued as {jti}")))
                    }
                })
            })
            .collect())
    }

    /// Like [`Issuer::issue_batch`], with an optional resume key per item: an item whose key
    /// was recorded by an earlier run is skipped (bulk import after a crash or Ctrl-C), and
    /// the key is recorded in the same transaction as the licence.
    ///
    /// The items go through in chunks of [`CHUNK_ITEMS`], each with a number of statements
    /// that does not grow with its size (on SQLite every statement costs a thread hand-off of
    /// 7–50 µs, whatever the SQL): the resume keys of the chunk are looked up with one
    /// query; each item is checked in memory and given a drawn 证照标识, and all of them are
    /// checked for collisions with one query per round ([`ids::make_free`]); the licences
    /// the chunk supersedes are read with one query; the items are then accepted or refused in
    /// order ([`Issuer::issue_chunk`]); the accepted ones get their status positions (one
    /// query per list and round, [`LicencePositions`]), are signed, and are written with one
    /// multi-row `INSERT` each into `licences`, `audit_log` and `import_rows`
    /// ([`Issuer::write_accepted`]). The audit chain is computed in memory in item order
    /// ([`audit::Chain`]) and the head stored once, before commit.
    pub async fn issue_many(
        &self,
        principal: &Principal,
        items: &[(Option<&str>, &IssueRequest)],
    ) -> Result<Vec<Result<BatchOutcome, IssueError>>, IssueError> {
        let now = self.clock.now();
        let today = now
            .china_date()
            .map(CivilDate)
            .ok_or_else(|| IssueError::Sign("clock out of range".into()))?;
        let mut tx = self.store.begin().await?;
        let head = tx.head().clone();
        let mut run = BatchRun {
            principal,
            now,
            today,
            chain: audit::Chain::new(head.clone()),
            positions: LicencePositions::new(self.list_capacity, now.seconds()),
            checker: SelfChecker::start(self.keys.signer_cert.public_key().clone()),
        };
        let mut results = Vec::with_capacity(items.len());
        for chunk in items.chunks(CHUNK_ITEMS) {
            results.extend(self.issue_chunk(&mut tx, &mut run, chunk).await?);
        }
        if run.chain.head() != &head {
            tx.set_head(run.chain.head().clone()).await?;
        }
        run.positions.save(&mut tx).await?;
        run.checker.finish().await?;
        self.commit(tx).await?;
        Ok(results)
    }

    /// One chunk of a batch (see [`Issuer::issue_many`]); one result per item, in order.
    ///
    /// Items are accepted in order, exactly as if each were issued before the next is looked
    /// at: a resume key issued earlier in the chunk makes a later item with the same key
    /// `AlreadyDone`, and a licence superseded earlier in the chunk is revoked for later items
    /// (`known` carries those revocations). The one thing memory cannot answer is an item
    /// superseding a licence accepted earlier in the chunk but not yet written (it would have
    /// to name a freshly drawn 证照标识): the accepted items are then written first, so that
    /// licence is stored before the item that supersedes it is checked.
    async fn issue_chunk<'r>(
        &self,
        conn: &mut RegionTx,
        run: &mut BatchRun<'_>,
        chunk: &'r [(Option<&'r str>, &'r IssueRequest)],
    ) -> Result<Vec<Result<BatchOutcome, IssueError>>, IssueError> {
        let keys: Vec<&str> = chunk.iter().filter_map(|(key, _)| *key).collect();
        let recorded = import_rows::recorded(conn, &keys).await?;
        let mut items: Vec<Item<'r>> = chunk
            .iter()
            .map(|(key, request)| {
                if let Some(jti) = key.and_then(|key| recorded.get(key)) {
                    return Item::Done(jti.clone());
                }
                let checked = run
                    .principal
                    .require(Scope::Issue, &self.keys.region, Some(&request.type_code))
                    .map_err(IssueError::from)
                    .and_then(|()| self.prepare(request, run.today));
                match checked {
                    Ok(licence) => Item::Checked {
                        key: *key,
                        supersedes: request.supersedes.as_deref(),
                        id: ids::draw_licence_id(&licence),
                        licence,
                    },
                    Err(error) => Item::Refused { key: *key, error },
                }
            })
            .collect();
        let mut drawn: Vec<(&Licence, &mut LicenceId)> = items
            .iter_mut()
            .filter_map(|item| match item {
                Item::Checked {
                    licence,
                    id: Ok(id),
                    ..
                } => Some((&*licence, id)),
                Item::Checked { id: Err(_), .. } | Item::Done(_) | Item::Refused { .. } => None,
            })
            .collect();
        ids::make_free(conn, &mut drawn).await?;
        let targets: HashSet<&'r str> = items
            .iter()
            .filter_map(|item| match item {
                Item::Checked { supersedes, .. } => *supersedes,
                Item::Done(_) | Item::Refused { .. } => None,
            })
            .collect();
        let mut known = rows::rows(conn, &targets).await?;

        let mut results: Vec<Option<Result<BatchOutcome, IssueError>>> =
            std::iter::repeat_with(|| None).take(items.len()).collect();
        // Resume keys of the items accepted in this chunk, with their 证照标识.
        let mut issued_keys: HashMap<&'r str, String> = HashMap::new();
        // Accepted and not yet written, and their 证照标识.
        let mut accepted: Vec<Accepted<'r>> = Vec::new();
        let mut accepted_ids: HashSet<String> = HashSet::new();
        for (position, item) in items.into_iter().enumerate() {
            let earlier = |key: Option<&str>| key.and_then(|key| issued_keys.get(key)).cloned();
            let (key, supersedes, licence, id) = match item {
                Item::Done(jti) => {
                    results[position] = Some(Ok(BatchOutcome::AlreadyDone(jti)));
                    continue;
                }
                Item::Refused { key, error } => {
                    results[position] = Some(match earlier(key) {
                        Some(jti) => Ok(BatchOutcome::AlreadyDone(jti)),
                        None => Err(error),
                    });
                    continue;
                }
                Item::Checked {
                    key,
                    supersedes,
                    licence,
                    id,
                } => (key, supersedes, licence, id),
            };
            if let Some(jti) = earlier(key) {
                results[position] = Some(Ok(BatchOutcome::AlreadyDone(jti)));
                continue;
            }
            let replaced = match supersedes {
                None => None,
                Some(old) => {
                    if accepted_ids.contains(old) {
                        let written = std::mem::take(&mut accepted);
                        self.write_accepted(conn, run, written, &targets, &mut known, &mut results)
                            .await?;
                        accepted_ids.clear();
                    }
                    match self.supersedable(run.principal, old, known.get(old).cloned()) {
                        Ok(row) => Some(row),
                        Err(error) => {
                            results[position] = Some(Err(error));
                            continue;
                        }
                    }
                }
            };
            let id = match id {
                Ok(id) => id,
                Err(error) => {
                    results[position] = Some(Err(error));
                    continue;
                }
            };
            // Accepted: from here on only a database or signing failure (which fails the
            // whole batch) can stop it, so later items may count on it.
            if let Some(old) = replaced.as_ref().and_then(|row| known.get_mut(&row.jti)) {
                old.status = RecordStatus::Revoked;
            }
            let id_text = id.to_string();
            if let Some(key) = key {
                issued_keys.insert(key, id_text.clone());
            }
            accepted_ids.insert(id_text);
            accepted.push(Accepted {
                position,
                key,
                supersedes,
                replaced,
                licence,
                id,
            });
        }
        self.write_accepted(conn, run, accepted, &targets, &mut known, &mut results)
            .await?;
        results
            .into_iter()
            .map(|result| {
                // invariant: every item was settled above or accepted and then written.
                result.ok_or_else(|| {
                    IssueError::Store(StoreError::Row("batch item left unsettled".into()))
                })
            })
            .collect()
    }

    /// Positions, signs and stores accepted items of a chunk, in order, with a fixed number of
    /// statements (see [`Issuer::issue_many`]), and settles their results. Every error here
    /// fails the whole batch.
    async fn write_accepted(
        &self,
        conn: &mut RegionTx,
        run: &mut BatchRun<'_>,
        accepted: Vec<Accepted<'_>>,
        targets: &HashSet<&str>,
        known: &mut HashMap<String, LicenceRow>,
        results: &mut [Option<Result<BatchOutcome, IssueError>>],
    ) -> Result<(), IssueError> {
        if accepted.is_empty() {
            return Ok(());
        }
        let positions = run.positions.take(conn, accepted.len()).await?;
        let actor = run.principal.id.as_str();
        let at = run.now.seconds();
        // Sign first (on two threads where that pays, `signing`; each token goes to the
        // self-checker as it is made), then write down each item in order.
        let mut jobs = Vec::with_capacity(accepted.len());
        let mut positioned = Vec::with_capacity(accepted.len());
        for (item, Position { list_id, idx }) in accepted.into_iter().zip(positions) {
            let uri = self.keys.status_uri(&list_id);
            let type_code = item.licence.type_code.clone();
            jobs.push(SignJob {
                id: item.id.clone(),
                licence: item.licence,
                uri: uri.clone(),
                idx,
            });
            positioned.push(Positioned {
                position: item.position,
                key: item.key,
                supersedes: item.supersedes,
                replaced: item.replaced,
                id: item.id,
                type_code,
                status: StatusPosition { list_id, idx, uri },
            });
        }
        let tokens = self.sign_jobs(run.now, jobs, &run.checker).await;
        let mut stored = Vec::with_capacity(positioned.len());
        let mut superseded = Vec::new();
        for (item, token) in positioned.into_iter().zip(tokens) {
            let Positioned {
                position,
                key,
                supersedes,
                replaced,
                id,
                type_code,
                status,
            } = item;
            let token = token?;
            let id = id.to_string();
            // The entries `store_in` appends for this item, in its order: the revocation of
            // the superseded licence (as `set_status_in` records it), then the issuance.
            if let Some(old) = replaced {
                let detail =
                    serde_json::json!({"reason": SUPERSEDED, "superseded_by": Some(id.as_str())});
                run.chain.push(at, actor, Action::Revoke, &old.jti, &detail);
                superseded.push((old, id.clone()));
            }
            let detail = serde_json::json!({"type_code": type_code, "list_id": status.list_id, "idx": status.idx, "supersedes": supersedes, "token_sha256": token_sha256(token.as_bytes())});
            let seq = run.chain.push(at, actor, Action::Issue, &id, &detail);
            let qr_text = qr::encode(&token).map_err(|e| IssueError::Sign(e.to_string()))?;
            stored.push(Stored {
                position,
                key,
                supersedes,
                type_code,
                issued: Issued {
                    id,
                    token,
                    qr_text,
                    status,
                    log: self.log.as_ref().map(|_| LogReceipt::of_seq(seq)),
                },
            });
        }
        let new: Vec<NewLicence<'_>> = stored
            .iter()
            .map(|item| NewLicence {
                jti: &item.issued.id,
                type_code: &item.type_code,
                token: &item.issued.token,
                list_id: &item.issued.status.list_id,
                idx: item.issued.status.idx,
                supersedes: item.supersedes,
            })
            .collect();
        rows::insert(conn, at, actor, &new).await?;
        rows::revoke_superseded(conn, at, SUPERSEDED, &superseded).await?;
        run.chain.write(conn).await?;
        let keyed: Vec<(&str, &str)> = stored
            .iter()
            .filter_map(|item| item.key.map(|key| (key, item.issued.id.as_str())))
            .collect();
        import_rows::record(conn, &keyed).await?;
        for item in stored {
            if targets.contains(item.issued.id.as_str()) {
                // A later item of the chunk supersedes this licence: it must find it stored.
                known.insert(
                    item.issued.id.clone(),
                    LicenceRow {
                        jti: item.issued.id.clone(),
                        type_code: item.type_code.clone(),
                        list_id: item.issued.status.list_id.clone(),
                        status: RecordStatus::Valid,
                    },
                );
            }
            results[item.position] = Some(Ok(BatchOutcome::Issued(item.issued)));
        }
        Ok(())
    }
}

/// What a batch carries from chunk to chunk inside its transaction.
struct BatchRun<'a> {
    principal: &'a Principal,
    now: UnixTime,
    today: CivilDate,
    /// The batch's audit entries; the head is stored once, before commit.
    chain: audit::Chain,
    /// Status positions of the batch.
    positions: LicencePositions,
    /// Self-checks of the new tokens (see [`SelfChecker`]).
    checker: SelfChecker,
}

/// An item of a chunk after the checks that need no database.
// Most items are `Checked`; they live in one vector for the length of a chunk, so boxing the
// large variant would only add an allocation per item.
#[allow(clippy::large_enum_variant)]
enum Item<'r> {
    /// Its resume key was recorded before this chunk: issued as this 证照标识.
    Done(String),
    /// Refused by the token's scope or the field checks (unless its resume key turns out to
    /// be issued earlier in the chunk, which is looked at first, as for every item).
    Refused {
        key: Option<&'r str>,
        error: IssueError,
    },
    /// Passed them; `id` is a drawn 证照标识 (free once [`ids::make_free`] has run), or why
    /// none can be formed.
    Checked {
        key: Option<&'r str>,
        supersedes: Option<&'r str>,
        licence: Licence,
        id: Result<LicenceId, IssueError>,
    },
}

/// An item accepted for issuance, not yet positioned, signed or written.
struct Accepted<'r> {
    /// Its place in the chunk.
    position: usize,
    key: Option<&'r str>,
    supersedes: Option<&'r str>,
    /// The licence it supersedes (checked).
    replaced: Option<LicenceRow>,
    licence: Licence,
    id: LicenceId,
}

/// An accepted item with its status position, its licence handed over to be signed.
struct Positioned<'r> {
    position: usize,
    key: Option<&'r str>,
    supersedes: Option<&'r str>,
    replaced: Option<LicenceRow>,
    id: LicenceId,
    type_code: String,
    status: StatusPosition,
}

/// An accepted item, signed, as it is written.
struct Stored<'r> {
    position: usize,
    key: Option<&'r str>,
    supersedes: Option<&'r str>,
    type_code: String,
    issued: Issued,
}

#[cfg(test)]
mod tests {
    use sqlx::Row;

    use super::*;
    use crate::testing::{self, principal, request};

    async fn licences_stored(issuer: &Issuer) -> i64 {
        sqlx::query("SELECT COUNT(*) AS n FROM licences")
            .fetch_one(issuer.store.pool())
            .await
            .unwrap()
            .try_get("n")
            .unwrap()
    }

    fn issued(result: &Result<BatchOutcome, IssueError>) -> &Issued {
        match result {
            Ok(BatchOutcome::Issued(issued)) => issued,
            other => panic!("not issued: {other:?}"),
        }
    }

    fn already_done(result: &Result<BatchOutcome, IssueError>) -> &str {
        match result {
            Ok(BatchOutcome::AlreadyDone(jti)) => jti,
            other => panic!("not already done: {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_refused_item_writes_nothing_and_the_batch_goes_on() {
        let (issuer, _dir) = testing::issuer().await;
        let mut bad = request();
        bad.holder.id = "91350100M000100Y44".into(); // wrong check character
        let (good, principal) = (request(), principal(&issuer));
        let items = [(None, &good), (None, &bad), (None, &good)];
        let results = issuer.issue_many(&principal, &items).await.unwrap();
        assert_eq!(results.len(), 3);
        let (first, third) = (issued(&results[0]), issued(&results[2]));
        match &results[1] {
            Err(IssueError::Invalid(errors)) => {
                assert_eq!(errors.len(), 1, "{errors:?}");
                assert_eq!(errors[0].field, "holder.id");
            }
            other => panic!("expected the item refused: {other:?}"),
        }
        assert_ne!(first.id, third.id);
        assert_ne!(
            (&first.status.list_id, first.status.idx),
            (&third.status.list_id, third.status.idx)
        );
        assert_eq!(licences_stored(&issuer).await, 2);
        // One audit entry per licence issued, none for the refused item.
        assert_eq!(issuer.store.audit_head().await.unwrap().seq, 2);
    }

    #[tokio::test]
    async fn a_resume_key_is_issued_once_within_a_batch_and_across_runs() {
        let (issuer, _dir) = testing::issuer().await;
        let (req, principal) = (request(), principal(&issuer));
        let items = [
            (Some("row-1"), &req),
            (Some("row-1"), &req),
            (Some("row-2"), &req),
        ];
        let results = issuer.issue_many(&principal, &items).await.unwrap();
        let first = issued(&results[0]).id.clone();
        assert_eq!(already_done(&results[1]), first);
        let second = issued(&results[2]).id.clone();
        assert_eq!(licences_stored(&issuer).await, 2);

        let again = [(Some("row-2"), &req), (Some("row-1"), &req)];
        let results = issuer.issue_many(&principal, &again).await.unwrap();
        assert_eq!(results.len(), 2);
        assert_eq!(already_done(&results[0]), second);
        assert_eq!(already_done(&results[1]), first);
        assert_eq!(licences_stored(&issuer).await, 2);
    }

    #[tokio::test]
    async fn a_licence_superseded_earlier_in_the_batch_cannot_be_superseded_again() {
        let (issuer, _dir) = testing::issuer().await;
        let principal = principal(&issuer);
        let (old, _) = issuer.issue(&principal, &request(), None).await.unwrap();
        let mut replacing = request();
        replacing.supersedes = Some(old.id.clone());
        let items = [(None, &replacing), (None, &replacing)];
        let results = issuer.issue_many(&principal, &items).await.unwrap();
        let new = issued(&results[0]).id.clone();
        match &results[1] {
            Err(IssueError::Conflict(detail)) => {
                assert_eq!(
                    detail,
                    &format!("{} is already revoked and cannot be superseded", old.id)
                );
            }
            other => panic!("expected a conflict: {other:?}"),
        }
        let stored = issuer.licence(&principal, &old.id).await.unwrap();
        assert_eq!(stored.current_status, RecordStatus::Revoked);
        assert_eq!(stored.status_reason.as_deref(), Some(SUPERSEDED));
        assert_eq!(stored.superseded_by, Some(new));
        assert_eq!(licences_stored(&issuer).await, 2);
    }
}
