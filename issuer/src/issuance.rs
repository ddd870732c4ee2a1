//! Issuing licences and changing their status: request → checks → one transaction (audit
//! lock, idempotency, status index, signature, record, supersession, audit entry) → response.
//!
//! A crash at any point leaves a licence fully issued or absent: the index allocation, the
//! record and the audit entry commit together, and the `UNIQUE (list_id, idx)` constraint makes
//! handing out an index twice impossible even if two processes share the database. Batches
//! ([`Issuer::issue_many`]) write the same rows and audit entries for many licences in one
//! transaction, with set-based statements per chunk rather than a round of statements per
//! licence.
//!
//! Over 800 lines until issue 11 splits it into `issuance/{mod, batch, rows, ids, self_check}`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use huren_crypto::ids::{HolderIdType, LicenceId};
use huren_crypto::licence::{
    CivilDate, FieldError, Holder, IssuingAuthority, Licence, LicenceClaims,
};
use huren_crypto::qr;
use huren_crypto::status_list::{StatusListPointer, StatusReference};
use huren_crypto::time::{Clock, UnixTime};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use crate::anchor::{self, HeadStore};
use crate::audit::{self, Action};
use crate::catalogue::Catalogue;
use crate::keyring::Keyring;
use crate::store::{self, AuditHead, Confined, RegionStore, RegionTx, StoreError};
use crate::tokens::{Denied, Principal, Scope};

/// Entries per status list (a power of two; SPEC §4 suggests 2^17).
pub const DEFAULT_LIST_CAPACITY: i64 = 1 << 17;
/// A list stops taking new licences at 7/8 full, so random allocation stays cheap.
const FILL_NUMERATOR: i64 = 7;
const FILL_DENOMINATOR: i64 = 8;
/// Draws of a free status index before issuance gives up (per licence for a single issuance,
/// per round of the whole chunk for a batch). A list takes licences only while under 7/8 full,
/// so a draw is free with probability at least 1/8 and still taken after 256 draws with
/// probability (7/8)^256 < 10^-14; reaching the bound means the list holds more licences than
/// its counter says, and the issuance fails (a batch as a whole) rather than loop.
const INDEX_ROUNDS: usize = 256;
/// Draws of an unused 证照标识 serial before issuance gives up (10^10 serials per type,
/// authority and year: a collision is already unlikely once).
const ID_ROUNDS: usize = 8;
/// Items per chunk of a batch ([`Issuer::issue_many`]). Its widest statement is the audit
/// `INSERT`, with up to two entries per item (the issuance, and the revocation of the licence
/// it supersedes); at this size every per-chunk statement fits the bound-parameter limit of
/// both engines in one go.
const CHUNK_ITEMS: usize = audit::ENTRIES_PER_INSERT / 2;
/// A batch yields to the runtime after signing this many licences (~2 ms of CPU).
const YIELD_EVERY: usize = 64;
/// The status reason of a licence revoked because a new one supersedes it.
const SUPERSEDED: &str = "superseded";

/// The body of `POST /v1/licences`: the `licence` object of SPEC §3 without derived fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    /// 证照类型代码.
    pub type_code: String,
    /// 证照类型名称 (default: from the catalogue).
    #[serde(default)]
    pub type_name: Option<String>,
    /// 证照编号.
    pub number: String,
    /// 持证主体.
    pub holder: Holder,
    /// 颁发机构.
    pub issuer: IssuingAuthority,
    /// 颁证日期 (default: today).
    #[serde(default)]
    pub issued_on: Option<CivilDate>,
    /// First day of validity (default: today).
    #[serde(default)]
    pub valid_from: Option<CivilDate>,
    /// Last day: absent = the type's default validity; `null` = long-term (长期).
    #[serde(default, deserialize_with = "present")]
    pub valid_until: Option<Option<CivilDate>>,
    /// 照面信息.
    #[serde(default)]
    pub face: std::collections::BTreeMap<String, String>,
    /// The 证照标识 this licence replaces (变更/换证); it is revoked as `superseded`.
    #[serde(default)]
    pub supersedes: Option<String>,
}

/// Distinguishes an absent field (outer `None`) from an explicit `null` (`Some(None)`).
fn present<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<CivilDate>>, D::Error> {
    Option::<CivilDate>::deserialize(deserializer).map(Some)
}

/// Where a licence's status lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusPosition {
    /// Status list id.
    pub list_id: String,
    /// Index in it.
    pub idx: i64,
    /// The list's URI.
    pub uri: String,
}

/// The response to an issuance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issued {
    /// The 证照标识.
    pub id: String,
    /// The signed token.
    pub token: String,
    /// Its `HR1:` QR text.
    pub qr_text: String,
    /// Its status position.
    pub status: StatusPosition,
}

/// What happened to one item of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOutcome {
    /// Issued now.
    Issued(Issued),
    /// Issued by an earlier run (same resume key); its 证照标识.
    AlreadyDone(String),
}

/// Current status of a licence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LicenceStatus {
    /// Valid.
    Valid,
    /// Revoked (final).
    Revoked,
    /// Suspended (may be reinstated).
    Suspended,
}

impl LicenceStatus {
    fn from_code(code: i64) -> LicenceStatus {
        match code {
            0 => LicenceStatus::Valid,
            2 => LicenceStatus::Suspended,
            // Fail closed: anything unknown reads as revoked.
            _ => LicenceStatus::Revoked,
        }
    }

    fn code(self) -> i64 {
        match self {
            LicenceStatus::Valid => 0,
            LicenceStatus::Revoked => 1,
            LicenceStatus::Suspended => 2,
        }
    }
}

/// A stored licence with its current status (`GET /v1/licences/{jti}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LicenceRecord {
    /// The 证照标识.
    pub id: String,
    /// Region.
    pub region: String,
    /// Type code.
    pub type_code: String,
    /// The signed token.
    pub token: String,
    /// `HR1:` text.
    pub qr_text: String,
    /// Status position.
    pub status: StatusPosition,
    /// Current status.
    pub current_status: LicenceStatus,
    /// Reason of the last status change.
    pub status_reason: Option<String>,
    /// When the status last changed.
    pub status_changed_at: Option<i64>,
    /// The licence this one replaced.
    pub supersedes: Option<String>,
    /// The licence that replaced this one.
    pub superseded_by: Option<String>,
    /// When it was issued.
    pub issued_at: i64,
}

/// A status change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    /// Revoke (吊销/注销): final.
    Revoke,
    /// Suspend (暂扣/中止).
    Suspend,
    /// Lift a suspension.
    Reinstate,
}

/// Why a request was not carried out. Each maps to one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// Fields are invalid (422).
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    /// Not allowed (403).
    #[error(transparent)]
    Denied(#[from] Denied),
    /// No such licence (404).
    #[error("no licence {0}")]
    NotFound(String),
    /// The change conflicts with the current state (409).
    #[error("{0}")]
    Conflict(String),
    /// The same Idempotency-Key was used for a different request (422).
    #[error("Idempotency-Key was already used with a different request")]
    IdempotencyMismatch,
    /// Database failure (500).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Signing failed (500).
    #[error("signing failed: {0}")]
    Sign(String),
}

impl From<sqlx::Error> for IssueError {
    fn from(e: sqlx::Error) -> Self {
        IssueError::Store(StoreError::Sqlx(e))
    }
}

/// The issuing service's core, shared by HTTP handlers and the bulk importer.
pub struct Issuer {
    /// The database, confined to this issuer's region (`store`): every query of licences,
    /// seals, status lists, the audit log, idempotency and import keys goes through it.
    pub store: RegionStore,
    /// The signed heads of the region's audit chain (`anchor`).
    pub heads: Arc<HeadStore>,
    /// The keys.
    pub keys: Keyring,
    /// Licence types.
    pub catalogue: Catalogue,
    /// The trust list it was started with.
    pub trust: Arc<huren_crypto::trust_list::TrustList>,
    /// Entries per new status list.
    pub list_capacity: i64,
    /// The clock.
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuer")
            .field("region", &self.keys.region)
            .finish()
    }
}

/// SHA-256 of a request body, hex (for Idempotency-Key comparison).
pub fn request_hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

impl Issuer {
    /// Turns a request into a licence with derived fields filled, and checks it against the
    /// catalogue and the identifier rules. Returns every problem, each naming its field.
    pub fn prepare(&self, request: &IssueRequest, today: CivilDate) -> Result<Licence, IssueError> {
        let type_name = match &request.type_name {
            Some(name) => name.clone(),
            None => self
                .catalogue
                .get(&request.type_code)
                .map(|t| t.name.clone())
                .unwrap_or_default(),
        };
        let valid_from = request.valid_from.unwrap_or(today);
        let valid_until = match request.valid_until {
            Some(explicit) => explicit,
            None => self
                .catalogue
                .default_valid_until(&request.type_code, valid_from),
        };
        let licence = Licence {
            type_code: request.type_code.clone(),
            type_name,
            number: request.number.clone(),
            holder: request.holder.clone(),
            issuer: request.issuer.clone(),
            issued_on: request.issued_on.unwrap_or(today),
            valid_from,
            valid_until,
            face: request.face.clone(),
        };
        self.catalogue
            .check(&licence)
            .map_err(IssueError::Invalid)?;
        if licence.holder.id_type == HolderIdType::Uscc && licence.holder.id == licence.issuer.code
        {
            // Not an error in itself, but worth a log line: departments rarely license themselves.
            tracing::debug!(jti = "-", "holder and issuing authority share a code");
        }
        Ok(licence)
    }

    /// Issues one licence for `principal`. With an idempotency key, a retry of the same request
    /// returns the licence issued the first time (`created = false`).
    pub async fn issue(
        &self,
        principal: &Principal,
        request: &IssueRequest,
        idempotency: Option<(&str, &str)>,
    ) -> Result<(Issued, bool), IssueError> {
        principal.require(Scope::Issue, &self.keys.region, Some(&request.type_code))?;
        let now = self.clock.now();
        let today = now
            .china_date()
            .map(CivilDate)
            .ok_or_else(|| IssueError::Sign("clock out of range".into()))?;
        let licence = self.prepare(request, today)?;
        let mut tx = self.store.begin().await?;
        if let Some((key, hash)) = idempotency {
            if let Some(existing) = self.replay(&mut tx, principal, key, hash).await? {
                return Ok((existing, false));
            }
        }
        let ready = self
            .prepare_in(
                &mut tx,
                principal,
                licence,
                request.supersedes.as_deref(),
                now,
            )
            .await?;
        let issued = self
            .store_in(
                &mut tx,
                principal,
                ready,
                request.supersedes.as_deref(),
                idempotency,
                now,
            )
            .await?;
        self.commit(tx).await?;
        Ok((issued, true))
    }

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
    /// checked for collisions with one query per round ([`free_licence_ids`]); the licences
    /// the chunk supersedes are read with one query; the items are then accepted or refused in
    /// order ([`Issuer::issue_chunk`]); the accepted ones get their status positions (one
    /// query per list and round, [`allocate_many`]), are signed, and are written with one
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
            open: None,
            checker: SelfChecker::start(self.keys.signer_cert.public_key().clone()),
        };
        let mut results = Vec::with_capacity(items.len());
        for chunk in items.chunks(CHUNK_ITEMS) {
            results.extend(self.issue_chunk(&mut tx, &mut run, chunk).await?);
        }
        if run.chain.head() != &head {
            tx.set_head(run.chain.head().clone()).await?;
        }
        OpenList::save(&mut run.open, &mut tx).await?;
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
        let recorded = recorded_keys(conn, &keys).await?;
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
                        id: draw_licence_id(&licence),
                        licence,
                    },
                    Err(error) => Item::Refused { key: *key, error },
                }
            })
            .collect();
        free_licence_ids(conn, &mut items).await?;
        let targets: HashSet<&'r str> = items
            .iter()
            .filter_map(|item| match item {
                Item::Checked { supersedes, .. } => *supersedes,
                Item::Done(_) | Item::Refused { .. } => None,
            })
            .collect();
        let mut known = stored_licences(conn, &targets).await?;

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
                old.status = LicenceStatus::Revoked;
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
        let positions = allocate_many(
            conn,
            &mut run.open,
            self.list_capacity,
            run.now.seconds(),
            accepted.len(),
        )
        .await?;
        let actor = run.principal.id.as_str();
        let at = run.now.seconds();
        let mut stored = Vec::with_capacity(accepted.len());
        let mut superseded = Vec::new();
        for (n, (item, (list_id, idx))) in accepted.into_iter().zip(positions).enumerate() {
            if n % YIELD_EVERY == YIELD_EVERY - 1 {
                // Signing is CPU work without an await: let other tasks on this worker run.
                tokio::task::yield_now().await;
            }
            let id = item.id.to_string();
            let type_code = item.licence.type_code.clone();
            let uri = self.keys.status_uri(&list_id);
            let token = self.sign_licence(item.id, run.now, item.licence, &uri, idx)?;
            run.checker.submit(&token);
            // The entries `store_in` appends for this item, in its order: the revocation of
            // the superseded licence (as `set_status_in` records it), then the issuance.
            if let Some(old) = item.replaced {
                let detail =
                    serde_json::json!({"reason": SUPERSEDED, "superseded_by": Some(id.as_str())});
                run.chain.push(at, actor, Action::Revoke, &old.jti, &detail);
                superseded.push((old, id.clone()));
            }
            let detail = serde_json::json!({"type_code": type_code, "list_id": list_id, "idx": idx, "supersedes": item.supersedes});
            run.chain.push(at, actor, Action::Issue, &id, &detail);
            let qr_text = qr::encode(&token).map_err(|e| IssueError::Sign(e.to_string()))?;
            stored.push(Stored {
                position: item.position,
                key: item.key,
                supersedes: item.supersedes,
                type_code,
                issued: Issued {
                    id,
                    token,
                    qr_text,
                    status: StatusPosition { list_id, idx, uri },
                },
            });
        }
        insert_licences(conn, at, actor, &stored).await?;
        revoke_superseded(conn, at, &superseded).await?;
        run.chain.write(conn).await?;
        record_keys(conn, &stored).await?;
        for item in stored {
            if targets.contains(item.issued.id.as_str()) {
                // A later item of the chunk supersedes this licence: it must find it stored.
                known.insert(
                    item.issued.id.clone(),
                    LicenceRow {
                        jti: item.issued.id.clone(),
                        type_code: item.type_code.clone(),
                        list_id: item.issued.status.list_id.clone(),
                        status: LicenceStatus::Valid,
                    },
                );
            }
            results[item.position] = Some(Ok(BatchOutcome::Issued(item.issued)));
        }
        Ok(())
    }

    /// The previously issued licence for this (token, key), or a mismatch error.
    async fn replay(
        &self,
        conn: &mut RegionTx,
        principal: &Principal,
        key: &str,
        hash: &str,
    ) -> Result<Option<Issued>, IssueError> {
        let row = sqlx::query(
            "SELECT request_hash, jti FROM idempotency WHERE token_id = $1 AND key = $2 AND region = $3",
        )
        .bind(&principal.id)
        .bind(key)
        .bind(conn.region().as_str().to_owned())
        .fetch_optional(&mut **conn)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let stored_hash: String = row.try_get("request_hash")?;
        if stored_hash != hash {
            return Err(IssueError::IdempotencyMismatch);
        }
        let jti: String = row.try_get("jti")?;
        let record = fetch_record(conn, &self.keys, &jti)
            .await?
            .ok_or_else(|| IssueError::NotFound(jti))?;
        Ok(Some(Issued {
            id: record.id,
            token: record.token,
            qr_text: record.qr_text,
            status: record.status,
        }))
    }

    /// The first transactional part of a single issuance: supersession check, status index,
    /// 证照标识, signature and self-check.
    async fn prepare_in(
        &self,
        conn: &mut RegionTx,
        principal: &Principal,
        licence: Licence,
        supersedes: Option<&str>,
        now: UnixTime,
    ) -> Result<Ready, IssueError> {
        let replaced = match supersedes {
            Some(old) => Some(self.check_supersedable(conn, principal, old).await?),
            None => None,
        };
        let (list_id, idx) = allocate_index(conn, self.list_capacity, now.seconds()).await?;
        let jti = new_licence_id(conn, &licence).await?;
        let uri = self.keys.status_uri(&list_id);
        let type_code = licence.type_code.clone();
        let token = self.sign_licence(jti.clone(), now, licence, &uri, idx)?;
        self.self_check(&token)?;
        Ok(Ready {
            replaced,
            id: jti.to_string(),
            type_code,
            token,
            list_id,
            idx,
            uri,
        })
    }

    /// Signs the claims of a new licence whose status lives at index `idx` of the list `uri`.
    fn sign_licence(
        &self,
        jti: LicenceId,
        now: UnixTime,
        licence: Licence,
        uri: &str,
        idx: i64,
    ) -> Result<String, IssueError> {
        let status = StatusReference {
            status_list: StatusListPointer {
                idx: u64::try_from(idx).map_err(|_| IssueError::Sign("negative index".into()))?,
                uri: uri.to_owned(),
            },
        };
        let claims = LicenceClaims::new(self.keys.region.clone(), jti, now, licence, Some(status));
        claims
            .sign(&self.keys.signer, self.keys.signer_cert.x5t_s256())
            .map_err(|e| IssueError::Sign(e.to_string()))
    }

    /// The second transactional part of a single issuance: the writes (record, supersession,
    /// idempotency key, audit entry). Any error here fails the whole transaction. Batches write the same rows and audit entries, chunk by chunk
    /// ([`Issuer::write_accepted`]).
    #[allow(clippy::too_many_arguments)]
    async fn store_in(
        &self,
        conn: &mut RegionTx,
        principal: &Principal,
        ready: Ready,
        supersedes: Option<&str>,
        idempotency: Option<(&str, &str)>,
        now: UnixTime,
    ) -> Result<Issued, IssueError> {
        let Ready {
            replaced,
            id,
            type_code,
            token,
            list_id,
            idx,
            uri,
        } = ready;
        sqlx::query(
            "INSERT INTO licences (jti, region, type_code, token, list_id, idx, status, supersedes, issued_at, issued_by) \
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9)",
        )
        .bind(&id)
        .bind(conn.region().as_str().to_owned())
        .bind(&type_code)
        .bind(&token)
        .bind(&list_id)
        .bind(idx)
        .bind(supersedes)
        .bind(now.seconds())
        .bind(&principal.id)
        .execute(&mut **conn)
        .await?;
        if let Some(old) = replaced {
            set_status_in(
                conn,
                &old,
                LicenceStatus::Revoked,
                SUPERSEDED,
                &principal.id,
                now.seconds(),
                Some(&id),
            )
            .await?;
        }
        if let Some((key, hash)) = idempotency {
            sqlx::query("INSERT INTO idempotency (token_id, key, request_hash, jti, created_at, region) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(&principal.id)
                .bind(key)
                .bind(hash)
                .bind(&id)
                .bind(now.seconds())
                .bind(conn.region().as_str().to_owned())
                .execute(&mut **conn)
                .await?;
        }
        let detail = serde_json::json!({"type_code": type_code, "list_id": list_id, "idx": idx, "supersedes": supersedes});
        audit::append(
            conn,
            now.seconds(),
            &principal.id,
            Action::Issue,
            &id,
            &detail,
        )
        .await?;
        let qr_text = qr::encode(&token).map_err(|e| IssueError::Sign(e.to_string()))?;
        Ok(Issued {
            id,
            token,
            qr_text,
            status: StatusPosition { list_id, idx, uri },
        })
    }

    /// Verifies our own signature before handing a token out: a faulty key or signing device
    /// must never produce licences that fail at every window.
    fn self_check(&self, token: &str) -> Result<(), IssueError> {
        check_own_signature(self.keys.signer_cert.public_key(), token).map_err(IssueError::Sign)
    }

    async fn check_supersedable(
        &self,
        conn: &mut RegionTx,
        principal: &Principal,
        old: &str,
    ) -> Result<LicenceRow, IssueError> {
        let row = licence_row(conn, old).await?;
        self.supersedable(principal, old, row)
    }

    /// Whether `principal` may supersede `old`, stored as `row` (`None`: no such licence).
    fn supersedable(
        &self,
        principal: &Principal,
        old: &str,
        row: Option<LicenceRow>,
    ) -> Result<LicenceRow, IssueError> {
        let row = row.ok_or_else(|| {
            IssueError::Invalid(vec![FieldError {
                field: "supersedes".into(),
                message: format!("no licence {old} in this issuer"),
            }])
        })?;
        principal.require(Scope::Revoke, &self.keys.region, Some(&row.type_code))?;
        if row.status == LicenceStatus::Revoked {
            return Err(IssueError::Conflict(format!(
                "{old} is already revoked and cannot be superseded"
            )));
        }
        Ok(row)
    }

    /// Revokes, suspends or reinstates a licence.
    pub async fn change_status(
        &self,
        principal: &Principal,
        jti: &str,
        change: StatusChange,
        reason: &str,
    ) -> Result<LicenceRecord, IssueError> {
        // Scope and region first: a refused token learns nothing, not even whether a
        // licence exists or what a valid reason looks like.
        principal.require(Scope::Revoke, &self.keys.region, None)?;
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 || reason.chars().any(char::is_control)
        {
            return Err(IssueError::Invalid(vec![FieldError {
                field: "reason".into(),
                message: "must be 1 to 500 characters of text".into(),
            }]));
        }
        let now = self.clock.now().seconds();
        let mut tx = self.store.begin().await?;
        let row = licence_row(&mut tx, jti)
            .await?
            .ok_or_else(|| IssueError::NotFound(jti.to_owned()))?;
        principal.require(Scope::Revoke, &self.keys.region, Some(&row.type_code))?;
        let target = match (change, row.status) {
            (StatusChange::Revoke, LicenceStatus::Valid | LicenceStatus::Suspended) => {
                LicenceStatus::Revoked
            }
            (StatusChange::Suspend, LicenceStatus::Valid) => LicenceStatus::Suspended,
            (StatusChange::Reinstate, LicenceStatus::Suspended) => LicenceStatus::Valid,
            (change, current) => {
                return Err(IssueError::Conflict(
                    format!("cannot {change:?} a licence that is {current:?}").to_lowercase(),
                ));
            }
        };
        set_status_in(&mut tx, &row, target, reason, &principal.id, now, None).await?;
        let record = fetch_record(&mut tx, &self.keys, jti)
            .await?
            .ok_or_else(|| IssueError::NotFound(jti.to_owned()))?;
        self.commit(tx).await?;
        Ok(record)
    }

    /// The claims of a token this issuer stored, checked against the trust list (the signer
    /// may have rolled over since).
    pub fn claims_of(&self, token: &str) -> Result<LicenceClaims, String> {
        let jws =
            huren_crypto::jws::UnverifiedJws::parse(token, huren_crypto::jws::Limits::LICENCE)
                .map_err(|e| e.to_string())?;
        let x5t = jws
            .header()
            .x5t_s256
            .ok_or("stored token has no x5t#S256")?;
        let signer = self
            .trust
            .signer(&x5t)
            .ok_or("stored token's signer is not in the trust list")?;
        let verified = jws
            .verify(signer.cert.public_key())
            .map_err(|e| e.to_string())?;
        let payload = verified
            .payload(huren_crypto::jws::MAX_LICENCE_PAYLOAD_BYTES)
            .map_err(|e| e.to_string())?;
        serde_json::from_slice(&payload).map_err(|e| e.to_string())
    }

    /// A stored licence, for a principal allowed to read it.
    pub async fn licence(
        &self,
        principal: &Principal,
        jti: &str,
    ) -> Result<LicenceRecord, IssueError> {
        principal.require(Scope::Read, &self.keys.region, None)?;
        let mut conn = self.store.acquire().await?;
        let record = fetch_record(&mut conn, &self.keys, jti)
            .await?
            .ok_or_else(|| IssueError::NotFound(jti.to_owned()))?;
        principal.require(Scope::Read, &self.keys.region, Some(&record.type_code))?;
        Ok(record)
    }

    /// Commits a write transaction of the region and anchors the region's new audit head
    /// outside the database ([`Issuer::anchor`]). Every write of the issuer ends here.
    pub async fn commit(&self, tx: RegionTx) -> Result<(), StoreError> {
        if let Some(head) = tx.commit().await? {
            self.anchor(&head).await;
        }
        Ok(())
    }

    /// Signs `head` with the region's status signer and stores it with the newest signed
    /// heads (`anchor`). A head that cannot be signed or stored is logged and the write it
    /// follows still succeeds: the write is committed, an error would only make the client
    /// retry it, and the next write's head covers this one.
    pub async fn anchor(&self, head: &AuditHead) {
        let signed = anchor::sign_head(
            &self.keys.region,
            head,
            self.clock.now(),
            &self.keys.status_signer,
            &self.keys.status_cert_der,
        );
        let token = match signed {
            Ok(token) => token,
            Err(e) => {
                tracing::error!(error = %e, seq = head.seq, "audit head not anchored");
                return;
            }
        };
        let heads = Arc::clone(&self.heads);
        let stored_head = head.clone();
        let stored = tokio::task::spawn_blocking(move || heads.store(&stored_head, &token)).await;
        match stored {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, seq = head.seq, "audit head not anchored"),
            Err(e) => tracing::error!(error = %e, seq = head.seq, "audit head not anchored"),
        }
    }
}

/// A licence signed and checked by [`Issuer::prepare_in`], not yet stored.
#[derive(Debug)]
struct Ready {
    /// The licence it supersedes (checked).
    replaced: Option<LicenceRow>,
    /// Its 证照标识.
    id: String,
    type_code: String,
    token: String,
    list_id: String,
    idx: i64,
    uri: String,
}

/// The columns status changes need.
#[derive(Debug, Clone)]
struct LicenceRow {
    jti: String,
    type_code: String,
    list_id: String,
    status: LicenceStatus,
}

/// The region's licence `jti` (another region's is not found).
async fn licence_row(
    conn: &mut impl Confined,
    jti: &str,
) -> Result<Option<LicenceRow>, IssueError> {
    let region = conn.region().as_str().to_owned();
    let row = sqlx::query(
        "SELECT jti, type_code, list_id, status FROM licences WHERE jti = $1 AND region = $2",
    )
    .bind(jti)
    .bind(region)
    .fetch_optional(&mut **conn)
    .await?;
    row.map(|row| {
        Ok(LicenceRow {
            jti: row.try_get("jti")?,
            type_code: row.try_get("type_code")?,
            list_id: row.try_get("list_id")?,
            status: LicenceStatus::from_code(row.try_get("status")?),
        })
    })
    .transpose()
}

#[allow(clippy::too_many_arguments)]
async fn set_status_in(
    conn: &mut RegionTx,
    row: &LicenceRow,
    target: LicenceStatus,
    reason: &str,
    actor: &str,
    now: i64,
    superseded_by: Option<&str>,
) -> Result<(), IssueError> {
    let region = conn.region().as_str().to_owned();
    sqlx::query(
        "UPDATE licences SET status = $1, status_reason = $2, status_changed_at = $3, \
         superseded_by = COALESCE($4, superseded_by) WHERE jti = $5 AND region = $6",
    )
    .bind(target.code())
    .bind(reason)
    .bind(now)
    .bind(superseded_by)
    .bind(&row.jti)
    .bind(&region)
    .execute(&mut **conn)
    .await?;
    sqlx::query("UPDATE status_lists SET version = version + 1 WHERE id = $1 AND region = $2")
        .bind(&row.list_id)
        .bind(&region)
        .execute(&mut **conn)
        .await?;
    let action = match (row.status, target) {
        (_, LicenceStatus::Revoked) => Action::Revoke,
        (_, LicenceStatus::Suspended) => Action::Suspend,
        (_, LicenceStatus::Valid) => Action::Reinstate,
    };
    let detail = serde_json::json!({"reason": reason, "superseded_by": superseded_by});
    Ok(audit::append(conn, now, actor, action, &row.jti, &detail).await?)
}

/// The region's stored licence `jti` with its status (another region's is not found).
async fn fetch_record(
    conn: &mut impl Confined,
    keys: &Keyring,
    jti: &str,
) -> Result<Option<LicenceRecord>, IssueError> {
    let region = conn.region().as_str().to_owned();
    let row = sqlx::query(
        "SELECT jti, region, type_code, token, list_id, idx, status, status_reason, status_changed_at, \
         supersedes, superseded_by, issued_at FROM licences WHERE jti = $1 AND region = $2",
    )
    .bind(jti)
    .bind(region)
    .fetch_optional(&mut **conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let token: String = row.try_get("token")?;
    let list_id: String = row.try_get("list_id")?;
    Ok(Some(LicenceRecord {
        id: row.try_get("jti")?,
        region: row.try_get("region")?,
        type_code: row.try_get("type_code")?,
        qr_text: qr::encode(&token)
            .map_err(|e| IssueError::Store(StoreError::Row(e.to_string())))?,
        token,
        status: StatusPosition {
            uri: keys.status_uri(&list_id),
            list_id,
            idx: row.try_get("idx")?,
        },
        current_status: LicenceStatus::from_code(row.try_get("status")?),
        status_reason: row.try_get("status_reason")?,
        status_changed_at: row.try_get("status_changed_at")?,
        supersedes: row.try_get("supersedes")?,
        superseded_by: row.try_get("superseded_by")?,
        issued_at: row.try_get("issued_at")?,
    }))
}

/// Picks a random free index in the region's open status list, opening a new list when the
/// current one is 7/8 full. Runs under the audit lock, so allocation is serialised.
async fn allocate_index(
    conn: &mut RegionTx,
    capacity: i64,
    now: i64,
) -> Result<(String, i64), IssueError> {
    let region = conn.region().as_str().to_owned();
    let region = region.as_str();
    let conn: &mut AnyConnection = conn;
    let open = sqlx::query("SELECT id, seq, capacity, allocated FROM status_lists WHERE region = $1 ORDER BY seq DESC LIMIT 1")
        .bind(region)
        .fetch_optional(&mut *conn)
        .await?;
    let (list_id, list_capacity) = match open {
        Some(row)
            if row.try_get::<i64, _>("allocated")? * FILL_DENOMINATOR
                < row.try_get::<i64, _>("capacity")? * FILL_NUMERATOR =>
        {
            (
                row.try_get::<String, _>("id")?,
                row.try_get::<i64, _>("capacity")?,
            )
        }
        previous => {
            let seq = match previous {
                Some(row) => row.try_get::<i64, _>("seq")? + 1,
                None => 0,
            };
            let id = format!("{region}-{seq}");
            sqlx::query("INSERT INTO status_lists (id, region, seq, capacity, allocated, version, created_at) VALUES ($1, $2, $3, $4, 0, 0, $5)")
                .bind(&id)
                .bind(region)
                .bind(seq)
                .bind(capacity)
                .bind(now)
                .execute(&mut *conn)
                .await?;
            (id, capacity)
        }
    };
    let idx = free_index(conn, &list_id, list_capacity).await?;
    sqlx::query("UPDATE status_lists SET allocated = allocated + 1 WHERE id = $1 AND region = $2")
        .bind(&list_id)
        .bind(region)
        .execute(&mut *conn)
        .await?;
    Ok((list_id, idx))
}

/// A random index of `list_id` that no licence holds (a single issuance; batches use
/// [`free_indices`]). Runs under the audit lock.
async fn free_index(
    conn: &mut AnyConnection,
    list_id: &str,
    list_capacity: i64,
) -> Result<i64, IssueError> {
    let bound =
        u64::try_from(list_capacity).map_err(|_| IssueError::Sign("bad list capacity".into()))?;
    for _ in 0..INDEX_ROUNDS {
        let idx = i64::try_from(OsRng.next_u64() % bound)
            .map_err(|_| IssueError::Sign("bad index".into()))?;
        let taken = sqlx::query("SELECT 1 AS taken FROM licences WHERE list_id = $1 AND idx = $2")
            .bind(list_id)
            .bind(idx)
            .fetch_optional(&mut *conn)
            .await?;
        if taken.is_none() {
            return Ok(idx);
        }
    }
    Err(no_free_index(list_id))
}

/// The open status list as a batch sees it: read (or created) once, its allocations counted
/// in memory ([`allocate_many`]) and written back with one `UPDATE` ([`OpenList::save`]) when
/// the batch moves to a new list and before it commits. Per-item updates of the same `status_lists` row cost a
/// statement each and, on PostgreSQL, leave one row version per update inside the transaction
/// that every later update and foreign-key check of that row walks (quadratic in batch size).
/// The batch holds the audit lock throughout, so no other writer allocates meanwhile.
#[derive(Debug)]
struct OpenList {
    id: String,
    region: String,
    seq: i64,
    capacity: i64,
    /// Allocated entries, including `unsaved`.
    allocated: i64,
    /// Allocations not yet written to the row (every allocation is for a licence the batch
    /// stores, or the batch fails as a whole).
    unsaved: i64,
}

impl OpenList {
    fn has_room(&self) -> bool {
        self.allocated * FILL_DENOMINATOR < self.capacity * FILL_NUMERATOR
    }

    /// The list the next item takes its index from, with the same rule as
    /// [`allocate_index`]: the region's latest list while it is under 7/8 full, else a new one.
    async fn ensure<'a>(
        open: &'a mut Option<OpenList>,
        conn: &mut RegionTx,
        capacity: i64,
        now: i64,
    ) -> Result<&'a mut OpenList, IssueError> {
        if !open.as_ref().is_some_and(OpenList::has_room) {
            OpenList::save(open, conn).await?;
            *open = Some(OpenList::latest_or_new(conn, capacity, now).await?);
        }
        open.as_mut()
            .ok_or_else(|| IssueError::Store(StoreError::Row("no open status list".into())))
    }

    async fn latest_or_new(
        conn: &mut RegionTx,
        capacity: i64,
        now: i64,
    ) -> Result<OpenList, IssueError> {
        let region = conn.region().as_str().to_owned();
        let region = region.as_str();
        let conn: &mut AnyConnection = conn;
        let latest = sqlx::query("SELECT id, seq, capacity, allocated FROM status_lists WHERE region = $1 ORDER BY seq DESC LIMIT 1")
            .bind(region)
            .fetch_optional(&mut *conn)
            .await?;
        let latest = match latest {
            Some(row) => Some(OpenList {
                id: row.try_get("id")?,
                region: region.to_owned(),
                seq: row.try_get("seq")?,
                capacity: row.try_get("capacity")?,
                allocated: row.try_get("allocated")?,
                unsaved: 0,
            }),
            None => None,
        };
        let list = match latest {
            Some(list) if list.has_room() => list,
            previous => {
                let seq = previous.map_or(0, |list| list.seq + 1);
                let id = format!("{region}-{seq}");
                sqlx::query("INSERT INTO status_lists (id, region, seq, capacity, allocated, version, created_at) VALUES ($1, $2, $3, $4, 0, 0, $5)")
                    .bind(&id)
                    .bind(region)
                    .bind(seq)
                    .bind(capacity)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                OpenList {
                    id,
                    region: region.to_owned(),
                    seq,
                    capacity,
                    allocated: 0,
                    unsaved: 0,
                }
            }
        };
        Ok(list)
    }

    /// Writes the unsaved allocations of the open list back to its row.
    async fn save(open: &mut Option<OpenList>, conn: &mut RegionTx) -> Result<(), IssueError> {
        if let Some(list) = open.as_mut().filter(|list| list.unsaved > 0) {
            sqlx::query(
                "UPDATE status_lists SET allocated = allocated + $1 WHERE id = $2 AND region = $3",
            )
            .bind(list.unsaved)
            .bind(&list.id)
            .bind(&list.region)
            .execute(&mut **conn)
            .await?;
            list.unsaved = 0;
        }
        Ok(())
    }
}

/// Parses `token` and verifies its signature with `key` (the self-check before a token is
/// handed out).
fn check_own_signature(key: &huren_crypto::key::PublicKey, token: &str) -> Result<(), String> {
    let jws = huren_crypto::jws::UnverifiedJws::parse(token, huren_crypto::jws::Limits::LICENCE)
        .map_err(|e| format!("self-check: {e}"))?;
    jws.verify(key)
        .map(|_| ())
        .map_err(|e| format!("self-check: {e}"))
}

/// Verifies a batch's new tokens on a blocking thread while the batch goes on with the next
/// items (signature verification is the largest CPU cost per item; on two or more cores it
/// then overlaps with signing and the database round trips). [`SelfChecker::finish`] waits for
/// all of them: a batch commits only if every token passed, so no licence that fails its
/// self-check is ever stored or handed out.
struct SelfChecker {
    tokens: std::sync::mpsc::Sender<String>,
    done: tokio::task::JoinHandle<Result<(), String>>,
}

impl SelfChecker {
    fn start(key: huren_crypto::key::PublicKey) -> SelfChecker {
        let (tokens, queue) = std::sync::mpsc::channel::<String>();
        let done = tokio::task::spawn_blocking(move || {
            // Checks everything submitted, until the sender is dropped; stops at the first
            // failure (later submissions then go nowhere, and `finish` reports the failure).
            for token in queue {
                check_own_signature(&key, &token)?;
            }
            Ok(())
        });
        SelfChecker { tokens, done }
    }

    fn submit(&self, token: &str) {
        // A send fails only once the checker has stopped on a failure, which `finish` reports.
        let _ = self.tokens.send(token.to_owned());
    }

    async fn finish(self) -> Result<(), IssueError> {
        drop(self.tokens);
        self.done
            .await
            .map_err(|e| IssueError::Sign(format!("self-check: {e}")))?
            .map_err(IssueError::Sign)
    }
}

/// A 证照标识 for `licence` with a fresh serial: year + 10 random digits, version 001, correct
/// check character. Whether it is free is for the caller to check.
fn draw_licence_id(licence: &Licence) -> Result<LicenceId, IssueError> {
    let serial = format!(
        "{:04}{:010}",
        licence.issued_on.0.year(),
        OsRng.next_u64() % 10_000_000_000
    );
    LicenceId::generate(&licence.type_code, &licence.issuer.code, &serial, "001").map_err(|e| {
        IssueError::Invalid(vec![FieldError {
            field: "issuer.code".into(),
            message: format!("cannot form the 证照标识: {e}"),
        }])
    })
}

/// A fresh 证照标识 for `licence`, regenerated in the (astronomically unlikely) case it exists.
async fn new_licence_id(
    conn: &mut AnyConnection,
    licence: &Licence,
) -> Result<LicenceId, IssueError> {
    for _ in 0..ID_ROUNDS {
        let jti = draw_licence_id(licence)?;
        let exists = sqlx::query("SELECT 1 AS taken FROM licences WHERE jti = $1")
            .bind(jti.to_string())
            .fetch_optional(&mut *conn)
            .await?;
        if exists.is_none() {
            return Ok(jti);
        }
    }
    Err(no_free_licence_id())
}

fn no_free_licence_id() -> IssueError {
    IssueError::Store(StoreError::Row("could not find a free 证照标识".into()))
}

/// What a batch carries from chunk to chunk inside its transaction.
struct BatchRun<'a> {
    principal: &'a Principal,
    now: UnixTime,
    today: CivilDate,
    /// The batch's audit entries; the head is stored once, before commit.
    chain: audit::Chain,
    /// The open status list (see [`OpenList`]).
    open: Option<OpenList>,
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
    /// Passed them; `id` is a drawn 证照标识 (free once [`free_licence_ids`] has run), or why
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

/// An accepted item, signed, as it is written.
struct Stored<'r> {
    position: usize,
    key: Option<&'r str>,
    supersedes: Option<&'r str>,
    type_code: String,
    issued: Issued,
}

/// The resume keys among `keys` that earlier runs (or earlier chunks) recorded, with the
/// 证照标识 issued for each. One query.
async fn recorded_keys(
    conn: &mut RegionTx,
    keys: &[&str],
) -> Result<HashMap<String, String>, IssueError> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let region = conn.region().as_str().to_owned();
    let conn: &mut AnyConnection = conn;
    let mut placeholders = store::Placeholders::for_connection(conn);
    let mut sql = String::from("SELECT row_key, jti FROM import_rows WHERE region = ");
    placeholders.push(&mut sql);
    sql.push_str(" AND row_key IN (");
    placeholders.push_list(&mut sql, keys.len());
    sql.push(')');
    let mut query = sqlx::query(&sql).bind(region);
    for key in keys {
        query = query.bind(*key);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|row| Ok((row.try_get("row_key")?, row.try_get("jti")?)))
        .collect()
}

/// The region's stored licences among `jtis` (the ones a chunk supersedes; another region's
/// are not found). One query.
async fn stored_licences(
    conn: &mut RegionTx,
    jtis: &HashSet<&str>,
) -> Result<HashMap<String, LicenceRow>, IssueError> {
    if jtis.is_empty() {
        return Ok(HashMap::new());
    }
    let region = conn.region().as_str().to_owned();
    let conn: &mut AnyConnection = conn;
    let mut placeholders = store::Placeholders::for_connection(conn);
    let mut sql =
        String::from("SELECT jti, type_code, list_id, status FROM licences WHERE region = ");
    placeholders.push(&mut sql);
    sql.push_str(" AND jti IN (");
    placeholders.push_list(&mut sql, jtis.len());
    sql.push(')');
    let mut query = sqlx::query(&sql).bind(region);
    for jti in jtis {
        query = query.bind(*jti);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|row| {
            let jti: String = row.try_get("jti")?;
            let licence = LicenceRow {
                jti: jti.clone(),
                type_code: row.try_get("type_code")?,
                list_id: row.try_get("list_id")?,
                status: LicenceStatus::from_code(row.try_get("status")?),
            };
            Ok((jti, licence))
        })
        .collect()
}

/// Makes the drawn 证照标识 of a chunk's items free: distinct from each other (in memory) and
/// from every stored licence (one query per round); only the colliding ones are drawn again.
/// Runs under the audit lock, so nobody stores a licence between the check and the `INSERT`.
///
/// Not confined to the region, on purpose: the 证照标识 is the key of every licence in the
/// database, so the check must see whatever that key covers (a narrower check would turn a
/// redraw into a failed batch), and it reveals nothing (a taken identifier is drawn again).
/// The status-index checks ([`free_indices`], [`free_index`]) look at whole lists for the same
/// reason.
async fn free_licence_ids(
    conn: &mut AnyConnection,
    items: &mut [Item<'_>],
) -> Result<(), IssueError> {
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
    let mut seen = HashSet::with_capacity(drawn.len());
    for (licence, id) in &mut drawn {
        redraw_while_seen(licence, id, &mut seen)?;
    }
    let mut unchecked: Vec<usize> = (0..drawn.len()).collect();
    for _ in 0..ID_ROUNDS {
        if unchecked.is_empty() {
            return Ok(());
        }
        let candidates: Vec<String> = unchecked.iter().map(|&n| drawn[n].1.to_string()).collect();
        let mut sql = String::from("SELECT jti FROM licences WHERE jti IN (");
        store::Placeholders::for_connection(conn).push_list(&mut sql, candidates.len());
        sql.push(')');
        let mut query = sqlx::query(&sql);
        for candidate in &candidates {
            query = query.bind(candidate.as_str());
        }
        let taken: HashSet<String> = query
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| row.try_get("jti"))
            .collect::<Result<_, _>>()?;
        let mut colliding = Vec::new();
        for (n, candidate) in unchecked.into_iter().zip(&candidates) {
            if taken.contains(candidate) {
                let (licence, id) = &mut drawn[n];
                **id = draw_licence_id(licence)?;
                redraw_while_seen(licence, id, &mut seen)?;
                colliding.push(n);
            }
        }
        unchecked = colliding;
    }
    if unchecked.is_empty() {
        Ok(())
    } else {
        Err(no_free_licence_id())
    }
}

/// Redraws `id` until no other item of the chunk has it, and marks it seen.
fn redraw_while_seen(
    licence: &Licence,
    id: &mut LicenceId,
    seen: &mut HashSet<String>,
) -> Result<(), IssueError> {
    for _ in 0..ID_ROUNDS {
        if seen.insert(id.to_string()) {
            return Ok(());
        }
        *id = draw_licence_id(licence)?;
    }
    Err(no_free_licence_id())
}

/// Status positions for `count` licences of a batch, in order: each from the open list while
/// it is under 7/8 full, opening the next one then (the rule of [`allocate_index`]; a chunk may
/// span two lists), at random indices no licence holds ([`free_indices`]). Counts the
/// allocations in `open`, which writes them back.
async fn allocate_many(
    conn: &mut RegionTx,
    open: &mut Option<OpenList>,
    capacity: i64,
    now: i64,
    count: usize,
) -> Result<Vec<(String, i64)>, IssueError> {
    // The lists used, in order, with how many positions each gives.
    let mut lists: Vec<(String, i64, usize)> = Vec::new();
    for _ in 0..count {
        let list = OpenList::ensure(open, conn, capacity, now).await?;
        list.allocated += 1;
        list.unsaved += 1;
        match lists.last_mut() {
            Some((id, _, taken)) if *id == list.id => *taken += 1,
            _ => lists.push((list.id.clone(), list.capacity, 1)),
        }
    }
    let mut positions = Vec::with_capacity(count);
    for (list_id, list_capacity, taken) in lists {
        let indices = free_indices(conn, &list_id, list_capacity, taken).await?;
        positions.extend(indices.into_iter().map(|idx| (list_id.clone(), idx)));
    }
    Ok(positions)
}

/// `count` distinct random indices of `list_id` that no licence holds: all drawn at once and
/// checked with one query per round; only those found taken are drawn again. Runs under the
/// audit lock, so nobody takes an index between the check and the `INSERT` (and the
/// `UNIQUE (list_id, idx)` constraint stands behind it).
async fn free_indices(
    conn: &mut AnyConnection,
    list_id: &str,
    list_capacity: i64,
    count: usize,
) -> Result<Vec<i64>, IssueError> {
    let bound =
        u64::try_from(list_capacity).map_err(|_| IssueError::Sign("bad list capacity".into()))?;
    // Indices drawn here (chosen or being checked) and indices found taken: never drawn again.
    let mut seen = HashSet::with_capacity(count);
    let mut chosen = Vec::with_capacity(count);
    for _ in 0..count {
        chosen.push(draw_unseen_index(list_id, bound, &mut seen)?);
    }
    let mut unchecked: Vec<usize> = (0..count).collect();
    for _ in 0..INDEX_ROUNDS {
        if unchecked.is_empty() {
            return Ok(chosen);
        }
        let mut placeholders = store::Placeholders::for_connection(conn);
        let mut sql = String::from("SELECT idx FROM licences WHERE list_id = ");
        placeholders.push(&mut sql);
        sql.push_str(" AND idx IN (");
        placeholders.push_list(&mut sql, unchecked.len());
        sql.push(')');
        let mut query = sqlx::query(&sql).bind(list_id);
        for &n in &unchecked {
            query = query.bind(chosen[n]);
        }
        let taken: HashSet<i64> = query
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| row.try_get("idx"))
            .collect::<Result<_, _>>()?;
        let mut colliding = Vec::new();
        for n in unchecked {
            if taken.contains(&chosen[n]) {
                chosen[n] = draw_unseen_index(list_id, bound, &mut seen)?;
                colliding.push(n);
            }
        }
        unchecked = colliding;
    }
    if unchecked.is_empty() {
        Ok(chosen)
    } else {
        Err(no_free_index(list_id))
    }
}

/// A random index below `bound` not in `seen`, which it joins. `seen` never holds more than
/// the list's allocated entries (under 7/8 of it), so a draw succeeds with probability at
/// least 1/8.
fn draw_unseen_index(
    list_id: &str,
    bound: u64,
    seen: &mut HashSet<i64>,
) -> Result<i64, IssueError> {
    for _ in 0..INDEX_ROUNDS {
        let idx = i64::try_from(OsRng.next_u64() % bound)
            .map_err(|_| IssueError::Sign("bad index".into()))?;
        if seen.insert(idx) {
            return Ok(idx);
        }
    }
    Err(no_free_index(list_id))
}

fn no_free_index(list_id: &str) -> IssueError {
    IssueError::Store(StoreError::Row(format!("no free index found in {list_id}")))
}

/// Bound parameters of one row of [`insert_licences`]: jti, region, type_code, token,
/// list_id, idx, supersedes, issued_at, issued_by.
const LICENCE_ROW_PARAMETERS: usize = 9;

/// The `licences` rows of a batch's new licences (the columns and values `store_in` writes),
/// with multi-row `INSERT`s.
async fn insert_licences(
    conn: &mut RegionTx,
    issued_at: i64,
    issued_by: &str,
    stored: &[Stored<'_>],
) -> Result<(), IssueError> {
    let region = conn.region().as_str().to_owned();
    let region = region.as_str();
    let conn: &mut AnyConnection = conn;
    for rows in stored.chunks(store::rows_per_statement(LICENCE_ROW_PARAMETERS, 0)) {
        let mut sql = String::with_capacity(160 + rows.len() * 40);
        sql.push_str(
            "INSERT INTO licences (jti, region, type_code, token, list_id, idx, supersedes, issued_at, issued_by, status) VALUES ",
        );
        let mut placeholders = store::Placeholders::for_connection(conn);
        for n in 0..rows.len() {
            if n > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            placeholders.push_list(&mut sql, LICENCE_ROW_PARAMETERS);
            sql.push_str(", 0)");
        }
        let mut query = sqlx::query(&sql);
        for row in rows {
            query = query
                .bind(row.issued.id.as_str())
                .bind(region)
                .bind(row.type_code.as_str())
                .bind(row.issued.token.as_str())
                .bind(row.issued.status.list_id.as_str())
                .bind(row.issued.status.idx)
                .bind(row.supersedes)
                .bind(issued_at)
                .bind(issued_by);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Revokes the licences a batch's new licences supersede, as `set_status_in` does one by one
/// (status, reason, time, `superseded_by`; the version of each status list bumped once per
/// licence): one `UPDATE licences` and one `UPDATE status_lists` per list concerned.
async fn revoke_superseded(
    conn: &mut RegionTx,
    now: i64,
    superseded: &[(LicenceRow, String)],
) -> Result<(), IssueError> {
    let region = conn.region().as_str().to_owned();
    let conn: &mut AnyConnection = conn;
    // Per licence: its jti and successor in `CASE`, its jti again in `IN`.
    const PER_LICENCE: usize = 3;
    const SHARED: usize = 4;
    for pairs in superseded.chunks(store::rows_per_statement(PER_LICENCE, SHARED)) {
        let mut placeholders = store::Placeholders::for_connection(conn);
        let mut sql = String::from("UPDATE licences SET status = ");
        placeholders.push(&mut sql);
        sql.push_str(", status_reason = ");
        placeholders.push(&mut sql);
        sql.push_str(", status_changed_at = ");
        placeholders.push(&mut sql);
        sql.push_str(", superseded_by = CASE jti");
        for _ in pairs {
            sql.push_str(" WHEN ");
            placeholders.push(&mut sql);
            sql.push_str(" THEN ");
            placeholders.push(&mut sql);
        }
        sql.push_str(" END WHERE jti IN (");
        placeholders.push_list(&mut sql, pairs.len());
        sql.push_str(") AND region = ");
        placeholders.push(&mut sql);
        let mut query = sqlx::query(&sql)
            .bind(LicenceStatus::Revoked.code())
            .bind(SUPERSEDED)
            .bind(now);
        for (old, new) in pairs {
            query = query.bind(old.jti.as_str()).bind(new.as_str());
        }
        for (old, _) in pairs {
            query = query.bind(old.jti.as_str());
        }
        query = query.bind(region.as_str());
        query.execute(&mut *conn).await?;
    }
    let mut changes: BTreeMap<&str, i64> = BTreeMap::new();
    for (old, _) in superseded {
        *changes.entry(old.list_id.as_str()).or_default() += 1;
    }
    for (list_id, count) in changes {
        sqlx::query("UPDATE status_lists SET version = version + $1 WHERE id = $2 AND region = $3")
            .bind(count)
            .bind(list_id)
            .bind(region.as_str())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Records the resume keys of a batch's new licences (`import_rows`), with multi-row
/// `INSERT`s in the transaction that stores the licences.
async fn record_keys(conn: &mut RegionTx, stored: &[Stored<'_>]) -> Result<(), IssueError> {
    let region = conn.region().as_str().to_owned();
    let conn: &mut AnyConnection = conn;
    let keyed: Vec<(&str, &str)> = stored
        .iter()
        .filter_map(|item| item.key.map(|key| (key, item.issued.id.as_str())))
        .collect();
    const PER_ROW: usize = 3;
    for rows in keyed.chunks(store::rows_per_statement(PER_ROW, 0)) {
        let mut sql = String::from("INSERT INTO import_rows (region, row_key, jti) VALUES ");
        store::Placeholders::for_connection(conn).push_tuples(&mut sql, rows.len(), PER_ROW);
        let mut query = sqlx::query(&sql);
        for (key, jti) in rows {
            query = query.bind(region.as_str()).bind(*key).bind(*jti);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}
