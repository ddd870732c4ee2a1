//! Annotated copies (加注件, SPEC §11) at the issuer: a licence's holder, authenticated by the
//! province's portal (scope `copy`), lets one using unit use the licence for one matter, for a
//! limited time, seeing only the fields chosen.
//!
//! Owns the rules of making, listing, viewing and withdrawing copies:
//! - the asserted holder (`holder.id_type`, `holder.id`) must be the licence's holder, or the
//!   request is refused (403 `holder_mismatch`): consent binds to the holder. The ID compares
//!   without regard to ASCII case (a resident ID's check character `x`/`X`);
//! - only a licence that is valid now gets a copy: revoked, suspended or expired → 409;
//! - the terms are checked field by field by [`CopyTerms`] (422 naming each field), face fields
//!   against the catalogue's `disclosable`;
//! - the copy's own status entry comes from the licence allocator ([`status_index`]), so it is
//!   recorded in `status_entries` and never reused; the token's `status` is the licence's own
//!   entry, so revoking or suspending the licence does the same to every copy and nothing is
//!   written to copies when a licence changes;
//! - withdrawal (the holder takes the authorisation back) revokes the copy's own entry; it is
//!   final, and a second one is a 409;
//! - every copy and withdrawal is an audit entry in the same transaction, with the purpose,
//!   the audience and the disclosed keys — never the holder's name or ID or a face value.
//!
//! The SQL lives in [`crate::store::copies`].

use huren_crypto::copy::{
    Copier, CopyClaims, CopyId, CopyMaking, CopyTerms, Purpose, Unit, MIN_COPY_SECONDS,
};
use huren_crypto::ids::HolderIdType;
use huren_crypto::licence::{FieldError, LicenceClaims};
use huren_crypto::qr;
use huren_crypto::status_list::{StatusListPointer, StatusReference};
use huren_crypto::tlog::entry::token_sha256;
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Action};
use crate::issuance::{IssueError, Issuer, StatusPosition};
use crate::record_status::{self, RecordStatus};
use crate::status_index::{self, Position};
use crate::store::copies::{self as rows, CopyRow, NewCopy};
use crate::store::licences as licence_rows;
use crate::store::{Confined, StoreError};
use crate::tlog::LogReceipt;
use crate::tokens::{self, Denied, Principal, Scope};

/// Scopes that may list and view copies.
const READ_SCOPES: [Scope; 2] = [Scope::Copy, Scope::Read];

/// The body of `POST /v1/licences/{jti}/copies`: the holder as the portal authenticated them,
/// and the holder's terms.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CopyRequest {
    /// Who asks: must be the licence's holder.
    pub holder: AssertedHolder,
    /// What for.
    pub purpose: Purpose,
    /// For whom; absent or `null` = any window.
    #[serde(default)]
    pub aud: Option<Unit>,
    /// Which fields; absent = `["number", "holder.name"]`.
    #[serde(default)]
    pub disclose: Option<Vec<String>>,
    /// How long; absent = 24 hours (never beyond the licence's own end).
    #[serde(default)]
    pub valid_for_secs: Option<i64>,
}

/// The holder a portal asserts (it has authenticated them).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssertedHolder {
    /// 持证主体代码类型.
    pub id_type: HolderIdType,
    /// 持证主体代码.
    pub id: String,
}

impl CopyRequest {
    fn terms(&self) -> CopyTerms {
        CopyTerms {
            purpose: self.purpose.clone(),
            aud: self.aud.clone(),
            disclose: self.disclose.clone(),
            valid_for_secs: self.valid_for_secs,
        }
    }
}

/// The answer to a copy made (201).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MadeCopy {
    /// The copy's id.
    pub id: String,
    /// The signed copy (`licence-copy+jwt`).
    pub token: String,
    /// Its `HR1:` QR text.
    pub qr_text: String,
    /// When it ends (Unix seconds; at most the licence's own end).
    pub expires_at: i64,
    /// Its own status position (withdrawal); `null` for an on-screen 亮证码, which has none.
    pub copy_status: Option<StatusPosition>,
    /// Its place in the region's transparency log (absent when the issuer keeps none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<LogReceipt>,
}

/// A copy as listed: what it is for, for whom, what it shows, and its life — never the values
/// it discloses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CopySummary {
    /// The copy's id.
    pub id: String,
    /// The licence's 证照标识.
    pub copy_of: String,
    /// What for.
    pub purpose: Purpose,
    /// For whom; `null` = any window.
    pub aud: Option<Unit>,
    /// The disclosure keys.
    pub disclosed: Vec<String>,
    /// Who made it.
    pub copier: String,
    /// When it was made (Unix seconds).
    pub made_at: i64,
    /// When it ends (Unix seconds).
    pub expires_at: i64,
    /// When the holder withdrew it (`null`: not withdrawn).
    pub withdrawn_at: Option<i64>,
    /// Why.
    pub withdraw_reason: Option<String>,
    /// Its own status position; `null` for an on-screen 亮证码.
    pub copy_status: Option<StatusPosition>,
}

/// What the printable view of a copy is made from.
#[derive(Debug, Clone)]
pub struct CopyPage {
    /// The copy as signed.
    pub claims: CopyClaims,
    /// Its `HR1:` text.
    pub qr_text: String,
    /// Whether the holder withdrew it.
    pub withdrawn: bool,
    /// The licence's current status.
    pub licence_status: RecordStatus,
}

/// Why a copy request was not carried out. Each maps to one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// Fields are invalid (422).
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    /// Not allowed (403).
    #[error(transparent)]
    Denied(#[from] Denied),
    /// The asserted holder is not the licence's (403).
    #[error("the holder asserted is not the licence's holder")]
    HolderMismatch,
    /// No such licence in this region (404).
    #[error("no licence {0}")]
    NoLicence(String),
    /// No such copy in this region (404).
    #[error("no copy {0}")]
    NoCopy(String),
    /// The licence's or copy's state does not allow it (409).
    #[error("{0}")]
    Conflict(String),
    /// Database failure (500).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Signing or a stored record failed (500).
    #[error("{0}")]
    Internal(String),
}

impl From<IssueError> for CopyError {
    fn from(e: IssueError) -> Self {
        match e {
            IssueError::Store(e) => CopyError::Store(e),
            other => CopyError::Internal(other.to_string()),
        }
    }
}

impl Issuer {
    /// Makes a copy of the region's licence `jti` for its holder (see the module doc for the
    /// order of the checks: scope, terms, licence, type, holder, status, disclosure).
    pub async fn make_copy(
        &self,
        principal: &Principal,
        jti: &str,
        request: &CopyRequest,
    ) -> Result<MadeCopy, CopyError> {
        let region = &self.keys.region;
        principal.require(Scope::Copy, region, None)?;
        let terms = request.terms();
        terms.check().map_err(CopyError::Invalid)?;
        let now = self.clock.now();
        let copier = tokens::label(&self.store, principal).await?;
        let mut tx = self.store.begin().await?;
        let stored = licence_rows::stored(&mut tx, jti)
            .await?
            .ok_or_else(|| CopyError::NoLicence(jti.to_owned()))?;
        principal.require(Scope::Copy, region, Some(&stored.type_code))?;
        let licence: LicenceClaims = self
            .stored_claims(&stored.token)
            .map_err(CopyError::Internal)?;
        if !holder_matches(&licence, &request.holder) {
            return Err(CopyError::HolderMismatch);
        }
        match stored.status {
            RecordStatus::Valid => {}
            RecordStatus::Revoked => {
                return Err(CopyError::Conflict(format!(
                    "licence {jti} is revoked: no copy can be made of it"
                )))
            }
            RecordStatus::Suspended => {
                return Err(CopyError::Conflict(format!(
                    "licence {jti} is suspended: no copy can be made of it until reinstated"
                )))
            }
        }
        if licence
            .exp
            .is_some_and(|exp| exp < now.seconds() + MIN_COPY_SECONDS)
        {
            return Err(CopyError::Conflict(format!(
                "licence {jti} has expired or ends within {MIN_COPY_SECONDS} s: no copy can be \
                 made of it"
            )));
        }
        let catalogue_type = self.catalogue.get(&licence.licence.type_code);
        let face_disclosable = |key: &str| catalogue_type.is_some_and(|t| t.face_disclosable(key));
        let mut random = [0u8; 16];
        OsRng.fill_bytes(&mut random);
        let making = CopyMaking {
            id: CopyId::from_random(random),
            iat: now,
            copier: Copier { name: copier },
            copy_status: None,
            face_disclosable: &face_disclosable,
        };
        let mut claims = terms.make(&licence, making).map_err(CopyError::Invalid)?;
        // The copy's own entry, from the licences' allocator (recorded in `status_entries`
        // by the `copies` trigger, so it is never handed out again) — except for an on-screen
        // 亮证码: a phone refreshes it every few minutes, and it ends before a withdrawal could
        // reach a verifier, so an entry each would only fill the lists (the licence's entry
        // still ends it).
        let position = if claims.is_on_screen() {
            None
        } else {
            let Position { list_id, idx } =
                status_index::licence_position(&mut tx, self.list_capacity, now.seconds()).await?;
            let uri = self.keys.status_uri(&list_id);
            claims.copy_status = Some(StatusReference {
                status_list: StatusListPointer {
                    idx: u64::try_from(idx)
                        .map_err(|_| CopyError::Internal("negative index".into()))?,
                    uri: uri.clone(),
                },
            });
            Some(StatusPosition { list_id, idx, uri })
        };
        let token = claims
            .sign(&self.keys.signer, self.keys.signer_cert.x5t_s256())
            .map_err(|e| CopyError::Internal(format!("signing failed: {e}")))?;
        self.self_check(&token)?;
        let qr_text = qr::encode(&token).map_err(|e| CopyError::Internal(e.to_string()))?;
        let id = claims.jti.to_string();
        let purpose = json_text(&claims.purpose)?;
        let disclosed = json_text(&claims.disclosed)?;
        rows::insert(
            &mut tx,
            &NewCopy {
                id: &id,
                licence_jti: jti,
                purpose: &purpose,
                aud_code: claims.aud.as_ref().map(|a| a.code.as_str()),
                aud_name: claims.aud.as_ref().map(|a| a.name.as_str()),
                disclosed: &disclosed,
                copier: &claims.copier.name,
                made_at: claims.iat,
                made_by: &principal.id,
                expires_at: claims.exp,
                token: &token,
                list_id: position.as_ref().map(|p| p.list_id.as_str()),
                idx: position.as_ref().map(|p| p.idx),
            },
        )
        .await?;
        // Identifiers, the purpose, the audience and the disclosed keys: no personal data.
        let detail = serde_json::json!({
            "copy_of": jti,
            "type_code": stored.type_code,
            "purpose": claims.purpose,
            "aud": claims.aud,
            "disclosed": claims.disclosed,
            "expires_at": claims.exp,
            "list_id": position.as_ref().map(|p| &p.list_id),
            "idx": position.as_ref().map(|p| p.idx),
            "token_sha256": token_sha256(token.as_bytes()),
        });
        let seq = audit::append(
            &mut tx,
            now.seconds(),
            &principal.id,
            Action::CopyMake,
            &id,
            &detail,
        )
        .await?;
        self.commit(tx).await?;
        Ok(MadeCopy {
            id,
            token,
            qr_text,
            expires_at: claims.exp,
            copy_status: position,
            log: self.log.as_ref().map(|_| LogReceipt::of_seq(seq)),
        })
    }

    /// The copies of the region's licence `jti` (scope `copy` or `read`), oldest first.
    pub async fn copies_of(
        &self,
        principal: &Principal,
        jti: &str,
    ) -> Result<Vec<CopySummary>, CopyError> {
        let region = &self.keys.region;
        principal.require_any(&READ_SCOPES, region, None)?;
        let mut conn = self.store.acquire().await?;
        let licence = licence_rows::row(&mut conn, jti)
            .await?
            .ok_or_else(|| CopyError::NoLicence(jti.to_owned()))?;
        principal.require_any(&READ_SCOPES, region, Some(&licence.type_code))?;
        rows::of_licence(&mut conn, jti)
            .await?
            .into_iter()
            .map(|row| self.summary(row))
            .collect()
    }

    /// Withdraws the region's copy `id` (scope `copy`): its own entry reads revoked from the
    /// list's next publication. Final: a second withdrawal is a conflict.
    pub async fn withdraw_copy(
        &self,
        principal: &Principal,
        id: &str,
        reason: &str,
    ) -> Result<CopySummary, CopyError> {
        let region = &self.keys.region;
        principal.require(Scope::Copy, region, None)?;
        let reason =
            record_status::check_reason(reason).map_err(|e| CopyError::Invalid(vec![e]))?;
        let now = self.clock.now().seconds();
        let mut tx = self.store.begin().await?;
        let row = self
            .copy_row(&mut tx, principal, &[Scope::Copy], id)
            .await?;
        if row.withdrawn_at.is_some() {
            return Err(CopyError::Conflict(format!(
                "copy {id} was withdrawn already"
            )));
        }
        if row.list_id.is_none() {
            return Err(CopyError::Conflict(format!(
                "copy {id} is an on-screen code with no entry of its own: it ends at {} by \
                 itself (revoking the licence ends it at once)",
                row.expires_at
            )));
        }
        rows::withdraw(&mut tx, &row, now, reason).await?;
        let detail = serde_json::json!({
            "copy_of": row.licence_jti,
            "reason": reason,
            "list_id": row.list_id,
            "idx": row.idx,
        });
        audit::append(
            &mut tx,
            now,
            &principal.id,
            Action::CopyWithdraw,
            id,
            &detail,
        )
        .await?;
        let row = rows::find(&mut tx, id)
            .await?
            .ok_or_else(|| CopyError::NoCopy(id.to_owned()))?;
        self.commit(tx).await?;
        self.summary(row)
    }

    /// What the printable view of the region's copy `id` shows (scope `copy` or `read`).
    pub async fn copy_page(&self, principal: &Principal, id: &str) -> Result<CopyPage, CopyError> {
        principal.require_any(&READ_SCOPES, &self.keys.region, None)?;
        let mut conn = self.store.acquire().await?;
        let row = self
            .copy_row(&mut conn, principal, &READ_SCOPES, id)
            .await?;
        let licence = licence_rows::row(&mut conn, &row.licence_jti)
            .await?
            .ok_or_else(|| CopyError::NoLicence(row.licence_jti.clone()))?;
        let claims: CopyClaims = self
            .stored_claims(&row.token)
            .map_err(CopyError::Internal)?;
        Ok(CopyPage {
            qr_text: qr::encode(&row.token).map_err(|e| CopyError::Internal(e.to_string()))?,
            claims,
            withdrawn: row.withdrawn_at.is_some(),
            licence_status: licence.status,
        })
    }

    /// The region's copy `id`, for a principal with one of `scopes` for its licence's type.
    async fn copy_row(
        &self,
        conn: &mut impl Confined,
        principal: &Principal,
        scopes: &[Scope],
        id: &str,
    ) -> Result<CopyRow, CopyError> {
        let row = rows::find(conn, id)
            .await?
            .ok_or_else(|| CopyError::NoCopy(id.to_owned()))?;
        principal.require_any(scopes, &self.keys.region, Some(&row.type_code))?;
        Ok(row)
    }

    fn summary(&self, row: CopyRow) -> Result<CopySummary, CopyError> {
        let bad = |e: serde_json::Error| CopyError::Store(StoreError::Row(e.to_string()));
        let aud = match (row.aud_code, row.aud_name) {
            (Some(code), Some(name)) => Some(Unit { name, code }),
            _ => None,
        };
        Ok(CopySummary {
            purpose: serde_json::from_str(&row.purpose).map_err(bad)?,
            disclosed: serde_json::from_str(&row.disclosed).map_err(bad)?,
            copy_status: row
                .list_id
                .zip(row.idx)
                .map(|(list_id, idx)| StatusPosition {
                    uri: self.keys.status_uri(&list_id),
                    list_id,
                    idx,
                }),
            id: row.id,
            copy_of: row.licence_jti,
            aud,
            copier: row.copier,
            made_at: row.made_at,
            expires_at: row.expires_at,
            withdrawn_at: row.withdrawn_at,
            withdraw_reason: row.withdraw_reason,
        })
    }
}

/// Whether the asserted holder is the licence's: same identifier type, same identifier (ASCII
/// case aside).
fn holder_matches(licence: &LicenceClaims, asserted: &AssertedHolder) -> bool {
    let holder = &licence.licence.holder;
    holder.id_type == asserted.id_type && holder.id.eq_ignore_ascii_case(asserted.id.trim())
}

fn json_text<T: Serialize>(value: &T) -> Result<String, CopyError> {
    serde_json::to_string(value).map_err(|e| CopyError::Internal(e.to_string()))
}
