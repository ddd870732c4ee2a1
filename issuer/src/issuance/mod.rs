//! Issuing licences and changing their status: request → checks → one transaction (audit
//! lock, idempotency, status index, signature, record, supersession, audit entry) → response.
//!
//! A crash at any point leaves a licence fully issued or absent: the index allocation, the
//! record and the audit entry commit together, and the `status_entries` key makes handing out
//! an index twice impossible even if two processes share the database. Batches
//! ([`Issuer::issue_many`], [`batch`]) write the same rows and audit entries for many licences in
//! one transaction, with set-based statements per chunk rather than a round of statements per
//! licence.
//!
//! | module | owns |
//! |---|---|
//! | `mod` (here) | the request and answer types, the single issuance, status changes, reads |
//! | [`batch`] | batches and bulk import: chunks, in-order acceptance, set-based writes |
//! | [`ids`] | drawing free 证照标识 |
//! | [`self_check`] | verifying every new token before it leaves |
//!
//! Status positions come from [`crate::status_index`], status transitions from
//! [`crate::record_status`], and the SQL from [`crate::store::licences`].

mod batch;
mod ids;
mod self_check;
mod signing;

use std::sync::Arc;

use huren_crypto::ids::{HolderIdType, LicenceId};
use huren_crypto::licence::{
    CivilDate, FieldError, Holder, IssuingAuthority, Licence, LicenceClaims,
};
use huren_crypto::qr;
use huren_crypto::status_list::{StatusListPointer, StatusReference};
use huren_crypto::time::{Clock, UnixTime};
use huren_crypto::tlog::entry::token_sha256;
use huren_crypto::tlog::note::NoteKeyPair;
use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest, Sha256};

pub use self::batch::BatchOutcome;
use crate::anchor::{self, HeadStore};
use crate::audit::{self, Action};
use crate::catalogue::Catalogue;
use crate::keyring::Keyring;
use crate::record_status::{self, RecordStatus, StatusChange};
use crate::status_index::{self, Position};
use crate::store::licences::{self as rows, LicenceRow, NewLicence, StoredLicence};
use crate::store::{audit_log, idempotency, AuditHead, RegionStore, RegionTx, StoreError};
use crate::tlog::{Log, LogReceipt};
use crate::tokens::{Denied, Principal, Scope};

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
    /// Its place in the region's transparency log (absent when the issuer keeps none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<LogReceipt>,
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
    pub current_status: RecordStatus,
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

/// The issuing service's core, shared by HTTP handlers and the bulk importer.
pub struct Issuer {
    /// The database, confined to this issuer's region (`store`): every query of licences,
    /// seals, status lists, the audit log, idempotency and import keys goes through it.
    pub store: RegionStore,
    /// The signed heads of the region's audit chain (`anchor`).
    pub heads: Arc<HeadStore>,
    /// The region's transparency log (`tlog`), when the region has a log key.
    pub log: Option<Arc<Log>>,
    /// This issuer's witness key, when it witnesses other regions' logs (`tlog::witness`).
    pub witness_key: Option<Arc<NoteKeyPair>>,
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

    /// The previously issued licence for this (token, key), or a mismatch error.
    async fn replay(
        &self,
        conn: &mut RegionTx,
        principal: &Principal,
        key: &str,
        hash: &str,
    ) -> Result<Option<Issued>, IssueError> {
        let Some(recorded) = idempotency::find(conn, &principal.id, key).await? else {
            return Ok(None);
        };
        if recorded.request_hash != hash {
            return Err(IssueError::IdempotencyMismatch);
        }
        // The key may have made a seal: a licence request does not replay it.
        let record = self
            .record_in(conn, &recorded.subject)
            .await?
            .ok_or(IssueError::IdempotencyMismatch)?;
        let log = match &self.log {
            Some(_) => audit_log::seq_of(conn, Action::Issue.name(), &record.id)
                .await?
                .map(LogReceipt::of_seq),
            None => None,
        };
        Ok(Some(Issued {
            id: record.id,
            token: record.token,
            qr_text: record.qr_text,
            status: record.status,
            log,
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
        let Position { list_id, idx } =
            status_index::licence_position(conn, self.list_capacity, now.seconds()).await?;
        let jti = ids::new_licence_id(conn, &licence).await?;
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
    /// idempotency key, audit entry). Any error here fails the whole transaction. Batches write the same rows and audit
    /// entries, chunk by chunk ([`batch`]).
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
        let new = NewLicence {
            jti: &id,
            type_code: &type_code,
            token: &token,
            list_id: &list_id,
            idx,
            supersedes,
        };
        rows::insert(conn, now.seconds(), &principal.id, &[new]).await?;
        if let Some(old) = replaced {
            set_status_in(
                conn,
                &old,
                RecordStatus::Revoked,
                SUPERSEDED,
                &principal.id,
                now.seconds(),
                Some(&id),
            )
            .await?;
        }
        if let Some((key, hash)) = idempotency {
            idempotency::record(conn, &principal.id, key, hash, &id, now.seconds()).await?;
        }
        let detail = serde_json::json!({"type_code": type_code, "list_id": list_id, "idx": idx, "supersedes": supersedes, "token_sha256": token_sha256(token.as_bytes())});
        let seq = audit::append(
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
            log: self.log.as_ref().map(|_| LogReceipt::of_seq(seq)),
        })
    }

    /// Verifies our own signature before handing a token out: a faulty key or signing device
    /// must never produce licences that fail at every window.
    pub(crate) fn self_check(&self, token: &str) -> Result<(), IssueError> {
        self_check::check_own_signature(self.keys.signer_cert.public_key(), token)
            .map_err(IssueError::Sign)
    }

    async fn check_supersedable(
        &self,
        conn: &mut RegionTx,
        principal: &Principal,
        old: &str,
    ) -> Result<LicenceRow, IssueError> {
        let row = rows::row(conn, old).await?;
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
        if row.status == RecordStatus::Revoked {
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
        let reason =
            record_status::check_reason(reason).map_err(|e| IssueError::Invalid(vec![e]))?;
        let now = self.clock.now().seconds();
        let mut tx = self.store.begin().await?;
        let row = rows::row(&mut tx, jti)
            .await?
            .ok_or_else(|| IssueError::NotFound(jti.to_owned()))?;
        principal.require(Scope::Revoke, &self.keys.region, Some(&row.type_code))?;
        let target = row
            .status
            .after(change, "licence")
            .map_err(|refused| IssueError::Conflict(refused.to_string()))?;
        set_status_in(&mut tx, &row, target, reason, &principal.id, now, None).await?;
        let record = self
            .record_in(&mut tx, jti)
            .await?
            .ok_or_else(|| IssueError::NotFound(jti.to_owned()))?;
        self.commit(tx).await?;
        Ok(record)
    }

    /// The claims of a token this issuer stored, checked against the trust list (the signer
    /// may have rolled over since).
    pub fn claims_of(&self, token: &str) -> Result<LicenceClaims, String> {
        self.stored_claims(token)
    }

    /// The claims, of type `T`, of a token this issuer stored (a licence or an annotated
    /// copy), checked against the trust list as [`Issuer::claims_of`] does.
    pub fn stored_claims<T: serde::de::DeserializeOwned>(&self, token: &str) -> Result<T, String> {
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
        let record = self
            .record_in(&mut conn, jti)
            .await?
            .ok_or_else(|| IssueError::NotFound(jti.to_owned()))?;
        principal.require(Scope::Read, &self.keys.region, Some(&record.type_code))?;
        Ok(record)
    }

    /// The region's stored licence `jti` with its status (another region's is not found).
    async fn record_in(
        &self,
        conn: &mut impl crate::store::Confined,
        jti: &str,
    ) -> Result<Option<LicenceRecord>, IssueError> {
        let Some(stored) = rows::stored(conn, jti).await? else {
            return Ok(None);
        };
        let StoredLicence {
            jti,
            region,
            type_code,
            token,
            list_id,
            idx,
            status,
            status_reason,
            status_changed_at,
            supersedes,
            superseded_by,
            issued_at,
        } = stored;
        Ok(Some(LicenceRecord {
            qr_text: qr::encode(&token)
                .map_err(|e| IssueError::Store(StoreError::Row(e.to_string())))?,
            id: jti,
            region,
            type_code,
            token,
            status: StatusPosition {
                uri: self.keys.status_uri(&list_id),
                list_id,
                idx,
            },
            current_status: status,
            status_reason,
            status_changed_at,
            supersedes,
            superseded_by,
            issued_at,
        }))
    }

    /// Commits a write transaction of the region and anchors the region's new audit head
    /// outside the database ([`Issuer::anchor`]). Every write of the issuer ends here.
    pub async fn commit(&self, tx: RegionTx) -> Result<(), StoreError> {
        if let Some(head) = tx.commit().await? {
            if let Some(log) = &self.log {
                // The new entries are the log's outbox: the sequencer appends them.
                log.wake.notify_one();
            }
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

/// Sets a licence's status (the row, its list's version) and appends the audit entry of the
/// change, in the caller's transaction.
#[allow(clippy::too_many_arguments)]
async fn set_status_in(
    conn: &mut RegionTx,
    row: &LicenceRow,
    target: RecordStatus,
    reason: &str,
    actor: &str,
    now: i64,
    superseded_by: Option<&str>,
) -> Result<(), IssueError> {
    rows::set_status(conn, row, target, reason, now, superseded_by).await?;
    let action = match target {
        RecordStatus::Revoked => Action::Revoke,
        RecordStatus::Suspended => Action::Suspend,
        RecordStatus::Valid => Action::Reinstate,
    };
    let detail = serde_json::json!({"reason": reason, "superseded_by": superseded_by});
    audit::append(conn, now, actor, action, &row.jti, &detail).await?;
    Ok(())
}
