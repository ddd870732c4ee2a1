//! Electronic seals in the issuer (SPEC §8): making seals with the region's seal maker,
//! reading them, revoking, suspending and reinstating them through the status lists licences
//! use, sealing documents server-side with holder keys the platform holds, and keeping the
//! region root's CRL file (served by `crate::http`).
//!
//! The HTTP endpoints are in `crate::http::seals`. Every operation here checks the token's scope
//! and region before it looks anything up, so a refused request learns nothing and changes
//! nothing. Without a trusted seal maker, making answers [`SealError::Unavailable`] with the
//! reason.
//!
//! | module | owns |
//! |---|---|
//! | `mod` (here) | the seal state, making, status changes, server-side sealing |
//! | [`request`] | the body of `POST /v1/seals` and its field checks |
//! | [`image`] | the PNG/SVG sanitiser |
//! | [`records`] | what the endpoints answer, and the views of a stored row |
//! | [`crl_file`] | the region root's CRL file |
//!
//! # Seal types (印章类型)
//!
//! GB/T 38540 leaves the type codes to the seal registry; huren writes the codes of the
//! public-security seal registry, the same as `huren seal make` ([`SEAL_TYPES`]), and refuses
//! any other.
//!
//! # Status entries
//!
//! A seal's status lives in the region's status lists next to licences; its position comes from
//! [`crate::status_index::seal_position`], which owns the rule that an index never serves two
//! subjects. Revoking, suspending and reinstating follow [`crate::record_status`], as for
//! licences.
//!
//! # Audit
//!
//! Seal events go into the region's hash-chained log in the transaction that makes them, with the
//! esID as subject and actions of their own: `seal_make`, `seal_revoke` / `seal_suspend` /
//! `seal_reinstate` (`detail.object: "seal"`), and `seal_sign` for each server-side sealing
//! (`object: "seal_signature"`, the document's SHA-256 and size and the signer certificate's
//! serial — never the document). A signature is handed out only after its audit entry is
//! committed.
//!
//! This module never logs or returns key material or documents.

mod crl_file;
mod image;
mod records;
mod request;

use std::sync::Arc;

use huren_crypto::b64;
use huren_crypto::licence::FieldError;
use huren_crypto::seal::decode::MAX_PROPERTY_INFO_BYTES;
use huren_crypto::seal::{
    make_seal, sign_document, EsId, HolderCerts, Seal, SealBuildError, SealSpec,
    SealStatusReference,
};
use huren_crypto::time::UnixTime;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub use self::crl_file::{CrlFile, LoadedCrl};
use self::records::SealViews;
pub use self::records::{HolderView, Made, SealRecord, Sealed};
use self::request::Checked;
pub use self::request::SealRequest;
use crate::audit::{self, Action};
use crate::issuance::{Issuer, StatusPosition};
use crate::keyring::{PlatformHolder, SealKeys, SealMaker, SealMakerState};
use crate::record_status::{self, RecordStatus, StatusChange};
use crate::status_index::{self, Position};
use crate::store::seals::{self as rows, NewSeal, SealRow};
use crate::store::{idempotency, Confined, RegionTx, StoreError};
use crate::tokens::{Denied, Principal, Scope};

/// Largest seal image (decoded): the picture travels inside every signature made with it.
pub const MAX_IMAGE_BYTES: usize = 512 * 1024;
/// Largest document sealed server-side.
pub const MAX_DOCUMENT_BYTES: usize = 32 * 1024 * 1024;
/// Sealings at once: each holds its document in memory, so this bounds memory at
/// `MAX_CONCURRENT_SIGNINGS * MAX_DOCUMENT_BYTES`; further requests wait their turn.
pub const MAX_CONCURRENT_SIGNINGS: usize = 4;
/// Longest seal validity: a seal is a standing authority to sign for an organisation, and a
/// bounded one is re-examined at least this often. Owned by the key rollover, which keeps a
/// retired seal maker listed this long.
pub use huren_keys::rollover::MAX_SEAL_VALIDITY_SECONDS;
/// Longest seal name (印章名称), in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Most holder certificates in one seal (the decoder's bound on a certList).
pub const MAX_HOLDER_CERTS: usize = 16;

/// The seal types huren makes: one table for the issuer, the CLI and the page.
pub use huren_crypto::seal::{seal_type_name, SEAL_TYPES};

/// Draws of an unused esID (36^9 bodies per region: a collision is already unlikely once).
const ES_ID_ROUNDS: usize = 8;
/// The vendor identifier written into every seal header.
const VID: &str = "huren";

/// Why a seal operation was not carried out. Each maps to one HTTP status
/// (`crate::http::error`).
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// Fields are invalid (422).
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    /// Not allowed (403).
    #[error(transparent)]
    Denied(#[from] Denied),
    /// No such seal in this region (404), and what was looked for.
    #[error("{0}")]
    NotFound(String),
    /// The seal's state does not allow it (409), and why.
    #[error("{0}")]
    Conflict(String),
    /// The same Idempotency-Key was used for a different request (422).
    #[error("Idempotency-Key was already used with a different request")]
    IdempotencyMismatch,
    /// This issuer cannot do it (503), and why.
    #[error("{0}")]
    Unavailable(String),
    /// Database failure (500).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Anything else of ours (500); logged, never sent.
    #[error("{0}")]
    Internal(String),
}

fn field(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

/// Seal keys, the CRL and the sealing limit.
#[derive(Debug)]
pub struct Seals {
    keys: SealKeys,
    crl: Option<CrlFile>,
    signing: Arc<Semaphore>,
}

impl Seals {
    /// The seal state from the loaded keys and, if configured, the region root's CRL file.
    pub fn new(keys: SealKeys, crl: Option<CrlFile>) -> Seals {
        Seals {
            keys,
            crl,
            signing: Arc::new(Semaphore::new(MAX_CONCURRENT_SIGNINGS)),
        }
    }

    /// The seal keys.
    pub fn keys(&self) -> &SealKeys {
        &self.keys
    }

    /// The CRL file, if this issuer serves one.
    pub fn crl(&self) -> Option<&CrlFile> {
        self.crl.as_ref()
    }

    /// The seal maker, or why this issuer cannot make seals.
    fn maker(&self) -> Result<&SealMaker, SealError> {
        match &self.keys.maker {
            SealMakerState::Ready(maker) => Ok(maker),
            SealMakerState::Unavailable(reason) => Err(SealError::Unavailable(format!(
                "this issuer cannot make seals: {reason}"
            ))),
        }
    }

    /// The platform holder whose certificate is `der`, if the platform holds it.
    fn holder(&self, der: &[u8]) -> Option<&Arc<PlatformHolder>> {
        self.keys.holders.iter().find(|h| h.cert.der() == der)
    }
}

/// A seal build failure: a field the checks let through is the client's (422), anything else
/// is ours.
fn build_error(e: SealBuildError) -> SealError {
    match e {
        SealBuildError::Field {
            field: name,
            reason,
        } => {
            let name = match name {
                "picture" => "image_b64",
                "width" => "width_mm",
                "height" => "height_mm",
                "holder_certs" => "holder_certs_pem",
                other => other,
            };
            SealError::Invalid(vec![field(name, reason)])
        }
        SealBuildError::Validity { .. } => {
            SealError::Invalid(vec![field("valid_end", e.to_string())])
        }
        SealBuildError::Certificate { role: "holder", .. } => {
            SealError::Invalid(vec![field("holder_certs_pem", e.to_string())])
        }
        other => SealError::Internal(format!("sealing: {other}")),
    }
}

// ---------------------------------------------------------------------------------------------
// Making seals
// ---------------------------------------------------------------------------------------------

impl Seals {
    /// Whether `principal` may make seals here and this issuer can: what the endpoint asks
    /// before it reads a body.
    pub fn may_make(&self, issuer: &Issuer, principal: &Principal) -> Result<(), SealError> {
        principal.require(Scope::Seal, &issuer.keys.region, None)?;
        self.maker().map(|_| ())
    }

    /// Makes a seal in one transaction (audit lock, idempotency, status position, esID,
    /// signature, record, audit entry). With an idempotency key `(key, request hash)`, a retry
    /// of the same request returns the seal made the first time (`created = false`).
    pub async fn make(
        &self,
        issuer: &Issuer,
        principal: &Principal,
        request: &SealRequest,
        idempotency: Option<(&str, &str)>,
    ) -> Result<(Made, bool), SealError> {
        principal.require(Scope::Seal, &issuer.keys.region, None)?;
        let maker = self.maker()?;
        let now = issuer.clock.now();
        let checked = self.check(request, now).map_err(SealError::Invalid)?;
        if let Err(e) = maker.cert.check_valid_at(now) {
            return Err(SealError::Unavailable(format!(
                "this issuer cannot make seals: its seal-maker certificate is not valid now ({e})"
            )));
        }
        let mut tx = issuer.store.begin().await?;
        if let Some((key, hash)) = idempotency {
            if let Some(made) = replay(&mut tx, issuer, principal, key, hash).await? {
                return Ok((made, false));
            }
        }
        let made = make_in(&mut tx, issuer, maker, principal, checked, idempotency, now).await?;
        issuer.commit(tx).await?;
        Ok((made, true))
    }
}

/// The writes of [`Seals::make`], in its transaction.
async fn make_in(
    tx: &mut RegionTx,
    issuer: &Issuer,
    maker: &SealMaker,
    principal: &Principal,
    checked: Checked,
    idempotency: Option<(&str, &str)>,
    now: UnixTime,
) -> Result<Made, SealError> {
    let region = tx.region().clone();
    let Position { list_id, idx } =
        status_index::seal_position(tx, issuer.list_capacity, now.seconds()).await?;
    let es_id = new_es_id(tx, &region).await?;
    let uri = issuer.keys.status_uri(&list_id);
    let spec = SealSpec {
        vid: VID.into(),
        es_id: es_id.clone(),
        seal_type: checked.seal_type,
        name: checked.name.clone(),
        holder_certs: checked
            .holder_certs
            .iter()
            .map(|c| c.der().to_vec())
            .collect(),
        create_date: now,
        valid_start: checked.valid_start,
        valid_end: checked.valid_end,
        picture: checked.picture,
        status: Some(SealStatusReference {
            uri: uri.clone(),
            idx: u64::try_from(idx).map_err(|e| SealError::Internal(e.to_string()))?,
        }),
        uscc: Some(checked.uscc.clone()),
    };
    // Signed under the lock because the status position is part of what is signed, as for
    // licences; `make_seal` verifies its own output before returning it.
    let der = make_seal(&spec, &maker.key, maker.cert.der()).map_err(build_error)?;
    let new = NewSeal {
        es_id: es_id.as_str(),
        name: &checked.name,
        uscc: checked.uscc.as_str(),
        seal_type: checked.seal_type,
        der: &der,
        list_id: &list_id,
        idx,
        valid_start: checked.valid_start.seconds(),
        valid_end: checked.valid_end.seconds(),
        created_at: now.seconds(),
        created_by: &principal.id,
    };
    rows::insert(tx, &new).await?;
    if let Some((key, hash)) = idempotency {
        idempotency::record(tx, &principal.id, key, hash, es_id.as_str(), now.seconds()).await?;
    }
    let serials: Vec<&str> = checked
        .holder_certs
        .iter()
        .map(|c| c.serial_hex())
        .collect();
    let detail = serde_json::json!({
        "object": "seal",
        "seal_type": checked.seal_type,
        "uscc": checked.uscc.as_str(),
        "list_id": list_id,
        "idx": idx,
        "valid_start": checked.valid_start.seconds(),
        "valid_end": checked.valid_end.seconds(),
        "holder_serials": serials,
        // The transparency log's leaf records the exact seal made (SPEC §12).
        "token_sha256": hex::encode(Sha256::digest(&der)),
    });
    audit::append(
        tx,
        now.seconds(),
        &principal.id,
        Action::SealMake,
        es_id.as_str(),
        &detail,
    )
    .await?;
    Ok(Made {
        es_id: es_id.to_string(),
        name: checked.name,
        uscc: checked.uscc.to_string(),
        seal_type: checked.seal_type,
        status: StatusPosition { list_id, idx, uri },
        valid_start: checked.valid_start.to_rfc3339_china(),
        valid_end: checked.valid_end.to_rfc3339_china(),
        esl: b64::encode_std(&der),
    })
}

/// The seal an earlier request with this (token, key) made, or a mismatch error (also when
/// the key was used for a licence: keys are per token, whatever they were used for).
async fn replay(
    tx: &mut RegionTx,
    issuer: &Issuer,
    principal: &Principal,
    key: &str,
    hash: &str,
) -> Result<Option<Made>, SealError> {
    let Some(recorded) = idempotency::find(tx, &principal.id, key).await? else {
        return Ok(None);
    };
    if recorded.request_hash != hash {
        return Err(SealError::IdempotencyMismatch);
    }
    match rows::row(tx, &recorded.subject).await? {
        Some(seal) => Ok(Some(seal.made(issuer))),
        None => Err(SealError::IdempotencyMismatch),
    }
}

/// A fresh esID of `region`. Runs under the audit lock. The check covers every seal, as the
/// `es_id` key does.
async fn new_es_id(
    conn: &mut AnyConnection,
    region: &huren_crypto::ids::RegionCode,
) -> Result<EsId, SealError> {
    for _ in 0..ES_ID_ROUNDS {
        let mut entropy = [0u8; 8];
        OsRng.fill_bytes(&mut entropy);
        let es_id = EsId::generate(region, entropy);
        if !rows::es_id_taken(conn, es_id.as_str()).await? {
            return Ok(es_id);
        }
    }
    Err(SealError::Internal("could not find a free esID".into()))
}

// ---------------------------------------------------------------------------------------------
// Reading seals
// ---------------------------------------------------------------------------------------------

impl Seals {
    /// The stored seal `es_id` of this issuer's region, for a principal allowed to read it:
    /// whoever may read licences, make seals or apply them (the `.esl` travels inside every
    /// signature made with it anyway).
    pub async fn read(
        &self,
        issuer: &Issuer,
        principal: &Principal,
        es_id: &str,
    ) -> Result<SealRow, SealError> {
        let scope = [Scope::Read, Scope::Seal, Scope::SealSign]
            .into_iter()
            .find(|s| principal.scopes.contains(s))
            .unwrap_or(Scope::Read);
        principal.require(scope, &issuer.keys.region, None)?;
        stored_seal(issuer, es_id).await
    }

    /// The record of a stored seal, as `GET /v1/seals/{esID}` shows it in JSON.
    pub fn record(&self, issuer: &Issuer, seal: &SealRow) -> Result<SealRecord, SealError> {
        seal.record(issuer, self)
    }
}

fn not_found(es_id: &str) -> SealError {
    SealError::NotFound(format!("no seal {es_id}"))
}

/// The stored seal `es_id` of this issuer's region (not found otherwise).
async fn stored_seal(issuer: &Issuer, es_id: &str) -> Result<SealRow, SealError> {
    let parsed = EsId::parse(es_id).map_err(|_| not_found(es_id))?;
    if parsed.region() != &issuer.keys.region {
        return Err(not_found(es_id));
    }
    let mut conn = issuer.store.acquire().await?;
    rows::row(&mut conn, es_id)
        .await?
        .ok_or_else(|| not_found(es_id))
}

// ---------------------------------------------------------------------------------------------
// Status changes
// ---------------------------------------------------------------------------------------------

impl Seals {
    /// Revokes, suspends or reinstates a seal, as licences are: the row, the list's version
    /// (so the publisher re-signs it) and the audit entry in one transaction.
    pub async fn change_status(
        &self,
        issuer: &Issuer,
        principal: &Principal,
        es_id: &str,
        change: StatusChange,
        reason: &str,
    ) -> Result<SealRecord, SealError> {
        // Scope and region first: a refused token learns nothing, not even whether a seal
        // exists or what a valid reason looks like.
        principal.require(Scope::Seal, &issuer.keys.region, None)?;
        let reason =
            record_status::check_reason(reason).map_err(|e| SealError::Invalid(vec![e]))?;
        let parsed = EsId::parse(es_id).map_err(|_| not_found(es_id))?;
        if parsed.region() != &issuer.keys.region {
            return Err(not_found(es_id));
        }
        let now = issuer.clock.now().seconds();
        let mut tx = issuer.store.begin().await?;
        let row = rows::row(&mut tx, es_id)
            .await?
            .ok_or_else(|| not_found(es_id))?;
        let target = row
            .status
            .after(change, "seal")
            .map_err(|refused| SealError::Conflict(refused.to_string()))?;
        rows::set_status(&mut tx, &row, target, reason, now).await?;
        let action = match target {
            RecordStatus::Revoked => Action::SealRevoke,
            RecordStatus::Suspended => Action::SealSuspend,
            RecordStatus::Valid => Action::SealReinstate,
        };
        let detail = serde_json::json!({"object": "seal", "reason": reason});
        audit::append(&mut tx, now, &principal.id, action, es_id, &detail).await?;
        let row = rows::row(&mut tx, es_id)
            .await?
            .ok_or_else(|| not_found(es_id))?;
        issuer.commit(tx).await?;
        row.record(issuer, self)
    }
}

// ---------------------------------------------------------------------------------------------
// Server-side sealing
// ---------------------------------------------------------------------------------------------

/// `propertyInfo` of a signature (what the document is; OFD: the path of its `Signature.xml`):
/// an IA5String of bounded length.
pub fn check_property_info(text: &str) -> Result<(), SealError> {
    if text.is_empty()
        || text.len() > MAX_PROPERTY_INFO_BYTES
        || !text.bytes().all(|b| (0x20..0x7f).contains(&b))
    {
        return Err(SealError::Invalid(vec![field(
            "property_info",
            format!(
                "must be 1 to {MAX_PROPERTY_INFO_BYTES} printable ASCII characters (an IA5String)"
            ),
        )]));
    }
    Ok(())
}

/// A seal found usable, with the platform-held key to apply it: what a sealing needs before
/// it reads the document.
#[derive(Debug)]
pub struct Signer {
    seal: SealRow,
    holder: Arc<PlatformHolder>,
}

/// A sealing done: its answer, and the detached `SES_Signature` (DER).
#[derive(Debug)]
pub struct SealedDocument {
    /// The answer under `Accept: application/json`.
    pub sealed: Sealed,
    /// The signature, DER.
    pub der: Vec<u8>,
}

impl Seals {
    /// The seal `es_id` and the key to apply it with now, for a principal allowed to seal:
    /// refused before the document is read when the seal cannot be applied anyway.
    pub async fn signer(
        &self,
        issuer: &Issuer,
        principal: &Principal,
        es_id: &str,
    ) -> Result<Signer, SealError> {
        principal.require(Scope::SealSign, &issuer.keys.region, None)?;
        let now = issuer.clock.now();
        let seal = stored_seal(issuer, es_id).await?;
        if let Some(why) = seal.unusable_at(now) {
            return Err(SealError::Conflict(why));
        }
        let holder = self.signer_for(&seal, now).await?;
        Ok(Signer { seal, holder })
    }

    /// A turn to seal: at most [`MAX_CONCURRENT_SIGNINGS`] documents are held at once.
    pub async fn signing_turn(&self) -> Result<OwnedSemaphorePermit, SealError> {
        Arc::clone(&self.signing)
            .acquire_owned()
            .await
            .map_err(|e| SealError::Internal(e.to_string()))
    }

    /// Seals `document` with `signer`: signs off the async workers, then commits the audit
    /// entry — after checking the seal is still usable (a revocation may have landed
    /// meanwhile) — before the signature is handed out.
    pub async fn sign(
        &self,
        issuer: &Issuer,
        principal: &Principal,
        signer: Signer,
        document: impl AsRef<[u8]> + Send + 'static,
        property_info: String,
    ) -> Result<SealedDocument, SealError> {
        check_property_info(&property_info)?;
        if document.as_ref().is_empty() {
            return Err(SealError::Invalid(vec![field(
                "body",
                "the document is empty",
            )]));
        }
        let Signer { seal, holder } = signer;
        let es_id = seal.es_id.clone();
        let signed_at = issuer.clock.now();
        let seal_der = seal.der;
        let key = Arc::clone(&holder);
        // Hashing tens of MiB and signing are CPU work: off the async workers.
        let (signature, document_sha256, document_bytes) = tokio::task::spawn_blocking(move || {
            let document = document.as_ref();
            let sha256 = hex::encode(Sha256::digest(document));
            sign_document(
                &seal_der,
                document,
                signed_at,
                &property_info,
                &key.key,
                key.cert.der(),
            )
            .map(|der| (der, sha256, document.len()))
        })
        .await
        .map_err(|e| SealError::Internal(format!("sealing task: {e}")))?
        .map_err(build_error)?;

        let mut tx = issuer.store.begin().await?;
        let current = rows::row(&mut tx, &es_id)
            .await?
            .ok_or_else(|| not_found(&es_id))?;
        if let Some(why) = current.unusable_at(signed_at) {
            return Err(SealError::Conflict(why));
        }
        let detail = serde_json::json!({
            "object": "seal_signature",
            "document_sha256": document_sha256,
            "document_bytes": document_bytes,
            "signer_serial": holder.cert.serial_hex(),
            "signed_at": signed_at.seconds(),
            // The transparency log's leaf records the exact signature made (SPEC §12).
            "token_sha256": hex::encode(Sha256::digest(&signature)),
        });
        audit::append(
            &mut tx,
            signed_at.seconds(),
            &principal.id,
            Action::SealSign,
            &es_id,
            &detail,
        )
        .await?;
        issuer.commit(tx).await?;
        Ok(SealedDocument {
            sealed: Sealed {
                es_id,
                signature: b64::encode_std(&signature),
                signed_at: signed_at.to_rfc3339_china(),
                document_sha256,
                signer_subject: holder.cert.subject().to_owned(),
                signer_serial: holder.cert.serial_hex().to_owned(),
            },
            der: signature,
        })
    }

    /// The platform-held holder key to apply `seal` with at `at`: one the seal lists, whose
    /// certificate is valid and not revoked in the region's CRL. 409 with the reason if none.
    async fn signer_for(
        &self,
        seal: &SealRow,
        at: UnixTime,
    ) -> Result<Arc<PlatformHolder>, SealError> {
        let decoded = Seal::from_der(&seal.der).map_err(|e| {
            SealError::Internal(format!("stored seal {} does not decode: {e}", seal.es_id))
        })?;
        let listed: Vec<&Arc<PlatformHolder>> = match decoded.holder_certs() {
            HolderCerts::Certs(certs) => certs.iter().filter_map(|der| self.holder(der)).collect(),
            HolderCerts::Digests(_) => Vec::new(),
        };
        if listed.is_empty() {
            return Err(SealError::Conflict(format!(
                "the platform holds no holder key for seal {}: apply it with the organisation's own key",
                seal.es_id
            )));
        }
        let crl = match &self.crl {
            Some(file) => file.current().await,
            None => None,
        };
        let mut why = String::new();
        for holder in listed {
            if holder.cert.check_valid_at(at).is_err() {
                why = format!(
                    "the platform-held holder certificate {} is valid only from {} to {}",
                    holder.cert.serial_hex(),
                    holder.cert.not_before(),
                    holder.cert.not_after()
                );
                continue;
            }
            let revoked = crl
                .as_ref()
                .and_then(|crl| crl.crl.revoked_at(holder.cert.serial()))
                .filter(|since| *since <= at);
            if let Some(since) = revoked {
                why = format!(
                    "the platform-held holder certificate {} is revoked since {since}",
                    holder.cert.serial_hex()
                );
                continue;
            }
            return Ok(Arc::clone(holder));
        }
        Err(SealError::Conflict(why))
    }
}
