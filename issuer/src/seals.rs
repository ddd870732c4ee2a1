//! Electronic seals in the issuer (SPEC §8): making seals with the region's seal maker,
//! serving them, revoking, suspending and reinstating them through the status lists licences
//! use, sealing documents server-side with holder keys the platform holds, and serving the
//! region root's CRL.
//!
//! | method & path | scope | what |
//! |---|---|---|
//! | `POST /v1/seals` | `seal` | make a seal; honours `Idempotency-Key`; 201 with esID, status position and the `.esl` (base64) |
//! | `GET /v1/seals/{esID}` | `read`, `seal` or `seal_sign` | the `.esl` (DER, `application/octet-stream`), or the record as JSON under `Accept: application/json` |
//! | `POST /v1/seals/{esID}/revoke`, `/suspend`, `/reinstate` | `seal` | body `{reason}`; updates the status list |
//! | `POST /v1/seals/{esID}/sign` | `seal_sign` | body = the document (`application/octet-stream`, `application/pdf` or `application/ofd`, at most [`MAX_DOCUMENT_BYTES`]), optional `?property_info=`; the detached `SES_Signature` (DER), or JSON with it in base64 under `Accept: application/json` |
//! | `GET /v1/crl` | public | the region root's CRL (`application/pkix-crl`), as configured |
//!
//! Every endpoint checks the token (401) and its scope and region (403) before it reads the
//! body or looks anything up, so a refused request learns nothing and changes nothing.
//! Without a trusted seal maker, making answers 503 with the reason.
//!
//! # Seal types (印章类型)
//!
//! GB/T 38540 leaves the type codes to the seal registry; huren writes the codes of the
//! public-security seal registry, the same as `huren seal make` ([`SEAL_TYPES`]), and refuses
//! any other.
//!
//! # Status entries
//!
//! A seal's status lives in the region's status lists next to licences (the publisher puts
//! both into the signed list), so verifiers fetch one kind of list and a seal's entry hides
//! among licences. An index must never serve two holders. Licences draw only from the
//! region's newest list (`issuance::allocate_index`, and the batch path's `OpenList`, both
//! take the list with the highest `seq`), so seals draw only from older lists, which licences
//! never draw from again (`seal_list`); when no older list has room, a new list is opened,
//! which moves licences on and frees the previous one for seals. Both allocators run under the
//! audit-head lock every write transaction of the region takes first
//! (`store::RegionStore::begin`), so several processes on one database are serialised; and the `status_entries` primary key, filled by
//! triggers from both tables (migration `0002_seals`), makes a shared index a failed INSERT
//! even if that reasoning were ever broken.
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
//!
//! Over 800 lines until issue 11 splits it into `seals/{mod, request, image, records, crl_file}`.

use std::collections::HashSet;
use std::path::{Path as FsPath, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use huren_crypto::b64;
use huren_crypto::cert::Certificate;
use huren_crypto::crl::VerifiedCrl;
use huren_crypto::ids::{RegionCode, Uscc};
use huren_crypto::licence::FieldError;
use huren_crypto::oids::Purpose;
use huren_crypto::seal::build::MAX_PICTURE_SIDE_MM;
use huren_crypto::seal::decode::MAX_PROPERTY_INFO_BYTES;
use huren_crypto::seal::{
    make_seal, sign_document, EsId, HolderCerts, PictureType, Seal, SealBuildError, SealPicture,
    SealSpec, SealStatusReference,
};
use huren_crypto::time::UnixTime;
use huren_keys::store::Passphrase;
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};
use tokio::sync::Semaphore;

use crate::app::StartError;
use crate::audit::{self, Action};
use crate::config::IssuerConfig;
use crate::http::{ApiError, ApiJson, AppState};
use crate::issuance::{request_hash, Issuer, StatusChange, StatusPosition};
use crate::keyring::{PlatformHolder, SealKeys, SealMaker, SealMakerState};
use crate::store::{Confined, RegionTx};
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
/// Largest picture side in pixels accepted from a PNG.
const MAX_IMAGE_SIDE_PIXELS: u32 = 8192;

/// The seal types huren makes: one table for the issuer, the CLI and the page.
pub use huren_crypto::seal::{seal_type_name, SEAL_TYPES};

/// Seals take an older list while it is under 15/16 full, so at least one draw in 16 is free.
const SEAL_FILL_NUMERATOR: i64 = 15;
const SEAL_FILL_DENOMINATOR: i64 = 16;
/// Random indices checked per query, and queries before giving up: with at least 1/16 of the
/// list free, all 1024 draws are taken with probability (15/16)^1024 < 10^-28; reaching the
/// bound means the counters lie, and the seal is refused rather than looping.
const DRAWS_PER_QUERY: usize = 16;
const INDEX_QUERIES: usize = 64;
/// Draws of an unused esID (36^9 bodies per region: a collision is already unlikely once).
const ES_ID_ROUNDS: usize = 8;
/// The vendor identifier written into every seal header.
const VID: &str = "huren";
/// Content types accepted for a document to seal (any bytes are sealed as they are).
const DOCUMENT_TYPES: [&str; 3] = [
    "application/octet-stream",
    "application/pdf",
    "application/ofd",
];

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

/// Seal keys, the CRL and the sealing limit, shared by the handlers.
#[derive(Debug)]
pub struct Seals {
    keys: SealKeys,
    crl: Option<CrlFile>,
    signing: Arc<Semaphore>,
}

impl Seals {
    /// Loads the seal maker and the `[[seal_holders]]` keys, and the CRL if configured
    /// (verified under the region root, or the issuer does not start).
    pub fn load(
        config: &IssuerConfig,
        passphrase: Option<&Passphrase>,
        issuer: &Issuer,
    ) -> Result<Seals, StartError> {
        let region = huren_keys::layout::RegionDir::open(&config.region_dir)?
            .with_plaintext_keys(config.plaintext_keys);
        let keys = SealKeys::load(&region, passphrase, &issuer.trust, &config.seal_holders)?;
        let crl = match &config.crl {
            Some(path) => Some(CrlFile::load(path, &keys.root)?),
            None => None,
        };
        Ok(Seals {
            keys,
            crl,
            signing: Arc::new(Semaphore::new(MAX_CONCURRENT_SIGNINGS)),
        })
    }

    /// The seal keys.
    pub fn keys(&self) -> &SealKeys {
        &self.keys
    }

    /// The seal maker, or 503 with the reason it is off.
    fn maker(&self) -> Result<&SealMaker, ApiError> {
        match &self.keys.maker {
            SealMakerState::Ready(maker) => Ok(maker),
            SealMakerState::Unavailable(reason) => Err(ApiError::Unavailable(format!(
                "this issuer cannot make seals: {reason}"
            ))),
        }
    }

    /// The platform holder whose certificate is `der`, if the platform holds it.
    fn holder(&self, der: &[u8]) -> Option<&Arc<PlatformHolder>> {
        self.keys.holders.iter().find(|h| h.cert.der() == der)
    }
}

// ---------------------------------------------------------------------------------------------
// Requests and responses
// ---------------------------------------------------------------------------------------------

/// The body of `POST /v1/seals`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealRequest {
    /// 印章名称, as the seal shows it (e.g. `杭州示例建设有限公司合同专用章`).
    pub name: String,
    /// The organisation's 统一社会信用代码.
    pub uscc: String,
    /// 印章类型 ([`SEAL_TYPES`]).
    pub seal_type: i64,
    /// The seal image, standard base64.
    pub image_b64: String,
    /// `png` or `svg`.
    pub image_type: String,
    /// Printed width in millimetres.
    pub width_mm: u32,
    /// Printed height in millimetres.
    pub height_mm: u32,
    /// Start of validity: RFC 3339, or a date (the start of that day, China time); default now.
    #[serde(default)]
    pub valid_start: Option<String>,
    /// End of validity: RFC 3339, or a date (the end of that day, China time).
    pub valid_end: String,
    /// Holder certificates (PEM, one each) the seal may be applied with.
    #[serde(default)]
    pub holder_certs_pem: Vec<String>,
    /// Also list the holder certificates the platform holds for this USCC (server-side
    /// sealing).
    #[serde(default)]
    pub platform_holder: bool,
}

/// A request that passed every check.
#[derive(Debug)]
struct Checked {
    name: String,
    uscc: Uscc,
    seal_type: i64,
    picture: SealPicture,
    valid_start: UnixTime,
    valid_end: UnixTime,
    holder_certs: Vec<Certificate>,
}

/// The answer to `POST /v1/seals`.
#[derive(Debug, Clone, Serialize)]
pub struct Made {
    /// 电子印章编码.
    #[serde(rename = "esID")]
    pub es_id: String,
    /// 印章名称.
    pub name: String,
    /// 统一社会信用代码.
    pub uscc: String,
    /// 印章类型.
    #[serde(rename = "type")]
    pub seal_type: i64,
    /// Where its status lives.
    pub status: StatusPosition,
    /// Start of validity (RFC 3339, China time).
    pub valid_start: String,
    /// End of validity.
    pub valid_end: String,
    /// The `.esl` (DER `SESeal`), standard base64.
    pub esl: String,
}

/// Current status of a seal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SealStatus {
    /// Usable.
    Valid,
    /// Revoked (final).
    Revoked,
    /// Suspended (may be reinstated).
    Suspended,
}

impl SealStatus {
    fn from_code(code: i64) -> SealStatus {
        match code {
            0 => SealStatus::Valid,
            2 => SealStatus::Suspended,
            // Fail closed: anything unknown reads as revoked.
            _ => SealStatus::Revoked,
        }
    }

    fn code(self) -> i64 {
        match self {
            SealStatus::Valid => 0,
            SealStatus::Revoked => 1,
            SealStatus::Suspended => 2,
        }
    }
}

/// A holder certificate as a seal record shows it.
#[derive(Debug, Clone, Serialize)]
pub struct HolderView {
    /// Subject.
    pub subject: String,
    /// Serial number, hex.
    pub serial: String,
    /// End of validity (RFC 3339, China time).
    pub not_after: String,
    /// Whether the platform holds its key (server-side sealing possible).
    pub platform_held: bool,
}

/// A stored seal (`GET /v1/seals/{esID}` with `Accept: application/json`, and the answer to
/// status changes).
#[derive(Debug, Clone, Serialize)]
pub struct SealRecord {
    /// 电子印章编码.
    #[serde(rename = "esID")]
    pub es_id: String,
    /// Region.
    pub region: String,
    /// 印章名称.
    pub name: String,
    /// 统一社会信用代码.
    pub uscc: String,
    /// 印章类型.
    #[serde(rename = "type")]
    pub seal_type: i64,
    /// Its name in [`SEAL_TYPES`].
    pub type_name: Option<&'static str>,
    /// Where its status lives.
    pub status: StatusPosition,
    /// Current status.
    pub current_status: SealStatus,
    /// Reason of the last status change.
    pub status_reason: Option<String>,
    /// When the status last changed (RFC 3339, China time).
    pub status_changed_at: Option<String>,
    /// Start of validity.
    pub valid_start: String,
    /// End of validity.
    pub valid_end: String,
    /// When it was made.
    pub created_at: String,
    /// Subject of the seal maker's certificate.
    pub maker_subject: String,
    /// The certificates it may be applied with.
    pub holder_certs: Vec<HolderView>,
}

/// The JSON answer of `POST /v1/seals/{esID}/sign` under `Accept: application/json`.
#[derive(Debug, Clone, Serialize)]
pub struct Sealed {
    /// The seal applied.
    #[serde(rename = "esID")]
    pub es_id: String,
    /// The detached `SES_Signature` (DER), standard base64.
    pub signature: String,
    /// Signing time written into it (RFC 3339, China time).
    pub signed_at: String,
    /// SHA-256 of the document, hex.
    pub document_sha256: String,
    /// Subject of the holder certificate that signed.
    pub signer_subject: String,
    /// Its serial number, hex.
    pub signer_serial: String,
}

/// The columns of a stored seal.
#[derive(Debug, Clone)]
struct SealRow {
    es_id: String,
    region: String,
    name: String,
    uscc: String,
    seal_type: i64,
    der: Vec<u8>,
    list_id: String,
    idx: i64,
    status: SealStatus,
    status_reason: Option<String>,
    status_changed_at: Option<i64>,
    valid_start: i64,
    valid_end: i64,
    created_at: i64,
}

const SEAL_COLUMNS: &str = "es_id, region, name, uscc, seal_type, der, list_id, idx, status, \
     status_reason, status_changed_at, valid_start, valid_end, created_at";

fn db(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(e.to_string())
}

/// The region's seal `es_id` (another region's is not found).
async fn seal_row(conn: &mut impl Confined, es_id: &str) -> Result<Option<SealRow>, ApiError> {
    let region = conn.region().as_str().to_owned();
    let row = sqlx::query(&format!(
        "SELECT {SEAL_COLUMNS} FROM seals WHERE es_id = $1 AND region = $2"
    ))
    .bind(es_id)
    .bind(region)
    .fetch_optional(&mut **conn)
    .await
    .map_err(db)?;
    row.map(|row| {
        Ok(SealRow {
            es_id: row.try_get("es_id")?,
            region: row.try_get("region")?,
            name: row.try_get("name")?,
            uscc: row.try_get("uscc")?,
            seal_type: row.try_get("seal_type")?,
            der: row.try_get("der")?,
            list_id: row.try_get("list_id")?,
            idx: row.try_get("idx")?,
            status: SealStatus::from_code(row.try_get("status")?),
            status_reason: row.try_get("status_reason")?,
            status_changed_at: row.try_get("status_changed_at")?,
            valid_start: row.try_get("valid_start")?,
            valid_end: row.try_get("valid_end")?,
            created_at: row.try_get("created_at")?,
        })
    })
    .transpose()
    .map_err(|e: sqlx::Error| db(e))
}

impl SealRow {
    fn position(&self, issuer: &Issuer) -> StatusPosition {
        StatusPosition {
            list_id: self.list_id.clone(),
            idx: self.idx,
            uri: issuer.keys.status_uri(&self.list_id),
        }
    }

    fn made(&self, issuer: &Issuer) -> Made {
        Made {
            es_id: self.es_id.clone(),
            name: self.name.clone(),
            uscc: self.uscc.clone(),
            seal_type: self.seal_type,
            status: self.position(issuer),
            valid_start: UnixTime(self.valid_start).to_rfc3339_china(),
            valid_end: UnixTime(self.valid_end).to_rfc3339_china(),
            esl: b64::encode_std(&self.der),
        }
    }

    fn record(&self, issuer: &Issuer, seals: &Seals) -> Result<SealRecord, ApiError> {
        let seal = Seal::from_der(&self.der)
            .map_err(|e| db(format!("stored seal {} does not decode: {e}", self.es_id)))?;
        let maker_subject = Certificate::from_der(seal.maker_cert())
            .map(|c| c.subject().to_owned())
            .unwrap_or_default();
        let holder_certs = match seal.holder_certs() {
            HolderCerts::Certs(certs) => certs
                .iter()
                .filter_map(|der| Certificate::from_der(der).ok())
                .map(|cert| HolderView {
                    subject: cert.subject().to_owned(),
                    serial: cert.serial_hex().to_owned(),
                    not_after: cert.not_after().to_rfc3339_china(),
                    platform_held: seals.holder(cert.der()).is_some(),
                })
                .collect(),
            // huren writes certListType 1 only.
            HolderCerts::Digests(_) => Vec::new(),
        };
        Ok(SealRecord {
            es_id: self.es_id.clone(),
            region: self.region.clone(),
            name: self.name.clone(),
            uscc: self.uscc.clone(),
            seal_type: self.seal_type,
            type_name: seal_type_name(self.seal_type),
            status: self.position(issuer),
            current_status: self.status,
            status_reason: self.status_reason.clone(),
            status_changed_at: self
                .status_changed_at
                .map(|at| UnixTime(at).to_rfc3339_china()),
            valid_start: UnixTime(self.valid_start).to_rfc3339_china(),
            valid_end: UnixTime(self.valid_end).to_rfc3339_china(),
            created_at: UnixTime(self.created_at).to_rfc3339_china(),
            maker_subject,
            holder_certs,
        })
    }

    /// Why this seal cannot be applied at `at`, if it cannot.
    fn unusable_at(&self, at: UnixTime) -> Option<String> {
        match self.status {
            SealStatus::Valid => {}
            SealStatus::Revoked => return Some(format!("seal {} is revoked", self.es_id)),
            SealStatus::Suspended => return Some(format!("seal {} is suspended", self.es_id)),
        }
        if at.seconds() < self.valid_start {
            return Some(format!(
                "seal {} is valid only from {}",
                self.es_id,
                UnixTime(self.valid_start)
            ));
        }
        if at.seconds() > self.valid_end {
            return Some(format!(
                "seal {} expired at {}",
                self.es_id,
                UnixTime(self.valid_end)
            ));
        }
        None
    }
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

fn field(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

fn forbidden(denied: Denied) -> ApiError {
    ApiError::Forbidden(denied.to_string())
}

impl Seals {
    /// Checks every field of a seal request at `now`; returns every problem, each naming its
    /// field.
    fn check(&self, request: &SealRequest, now: UnixTime) -> Result<Checked, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = request.name.clone();
        let chars = name.chars().count();
        if chars == 0
            || chars > MAX_NAME_CHARS
            || name.trim() != name
            || name.chars().any(char::is_control)
        {
            errors.push(field(
                "name",
                format!("must be 1 to {MAX_NAME_CHARS} characters, without control characters or surrounding spaces"),
            ));
        }
        let uscc = Uscc::parse(&request.uscc)
            .map_err(|e| errors.push(field("uscc", format!("not a 统一社会信用代码: {e}"))))
            .ok();
        if seal_type_name(request.seal_type).is_none() {
            let known: Vec<String> = SEAL_TYPES
                .iter()
                .map(|(code, name)| format!("{code} {name}"))
                .collect();
            errors.push(field(
                "seal_type",
                format!("must be one of {}", known.join(", ")),
            ));
        }
        let picture = self.check_picture(request, &mut errors);
        let valid_start = match &request.valid_start {
            Some(text) => parse_time(text, false)
                .map_err(|m| errors.push(field("valid_start", m)))
                .ok(),
            None => Some(now),
        };
        let valid_end = parse_time(&request.valid_end, true)
            .map_err(|m| errors.push(field("valid_end", m)))
            .ok();
        if let (Some(start), Some(end)) = (valid_start, valid_end) {
            if end <= start {
                errors.push(field("valid_end", "must be after valid_start"));
            } else if end <= now {
                errors.push(field("valid_end", format!("is not after now ({now})")));
            } else if end.seconds() - start.seconds() > MAX_SEAL_VALIDITY_SECONDS {
                errors.push(field("valid_end", "a seal is valid for at most 10 years"));
            }
        }
        let holder_certs = self.check_holders(request, uscc.as_ref(), now, &mut errors);
        match (uscc, picture, valid_start, valid_end, errors.is_empty()) {
            (Some(uscc), Some(picture), Some(valid_start), Some(valid_end), true) => Ok(Checked {
                name,
                uscc,
                seal_type: request.seal_type,
                picture,
                valid_start,
                valid_end,
                holder_certs,
            }),
            _ => Err(errors),
        }
    }

    fn check_picture(
        &self,
        request: &SealRequest,
        errors: &mut Vec<FieldError>,
    ) -> Option<SealPicture> {
        let kind = match request.image_type.as_str() {
            "png" => Some(PictureType::Png),
            "svg" => Some(PictureType::Svg),
            _ => {
                errors.push(field("image_type", "must be png or svg"));
                None
            }
        };
        for (name, side) in [
            ("width_mm", request.width_mm),
            ("height_mm", request.height_mm),
        ] {
            if side == 0 || side > MAX_PICTURE_SIDE_MM {
                errors.push(field(name, format!("must be 1 to {MAX_PICTURE_SIDE_MM}")));
            }
        }
        // Base64 is 4 characters per 3 bytes: anything longer decodes past the limit.
        let max_chars = MAX_IMAGE_BYTES.div_ceil(3) * 4;
        let data = match b64::decode_std(request.image_b64.trim(), max_chars) {
            Ok(data) if data.is_empty() => {
                errors.push(field("image_b64", "is empty"));
                return None;
            }
            Ok(data) if data.len() > MAX_IMAGE_BYTES => {
                errors.push(field(
                    "image_b64",
                    format!("the image is larger than {MAX_IMAGE_BYTES} bytes"),
                ));
                return None;
            }
            Ok(data) => data,
            Err(b64::Base64Error::TooLong { .. }) => {
                errors.push(field(
                    "image_b64",
                    format!("the image is larger than {MAX_IMAGE_BYTES} bytes"),
                ));
                return None;
            }
            Err(_) => {
                errors.push(field(
                    "image_b64",
                    "is not standard base64 (RFC 4648 §4, padded)",
                ));
                return None;
            }
        };
        let checked = match kind? {
            PictureType::Png => check_png(&data),
            PictureType::Svg => check_svg(&data),
        };
        if let Err(message) = checked {
            errors.push(field("image_b64", message));
            return None;
        }
        Some(SealPicture {
            kind: kind?,
            data,
            width_mm: request.width_mm,
            height_mm: request.height_mm,
        })
    }

    /// The holder certificates: those given, then the platform's for this USCC if asked.
    fn check_holders(
        &self,
        request: &SealRequest,
        uscc: Option<&Uscc>,
        now: UnixTime,
        errors: &mut Vec<FieldError>,
    ) -> Vec<Certificate> {
        let mut certs: Vec<Certificate> = Vec::new();
        for (i, pem) in request.holder_certs_pem.iter().enumerate() {
            let name = format!("holder_certs_pem[{i}]");
            let cert = match pem_certificate(pem)
                .and_then(|der| Certificate::from_der(&der).map_err(|e| e.to_string()))
            {
                Ok(cert) => cert,
                Err(message) => {
                    errors.push(field(name, message));
                    continue;
                }
            };
            if let Err(e) = cert.check_leaf_profile(Purpose::SealHolder) {
                errors.push(field(name, format!("not a seal-holder certificate: {e}")));
                continue;
            }
            if cert.not_after() < now {
                errors.push(field(
                    name,
                    format!("the certificate expired at {}", cert.not_after()),
                ));
                continue;
            }
            // The certificate must name this organisation: a seal for one company applied
            // with another's key is exactly what seals exist to prevent, and verifiers trust
            // the holder certificates because the province's maker listed them. One that
            // names no USCC cannot be checked, so it is refused too.
            let named = cert
                .subject_serial_number()
                .and_then(|text| Uscc::parse(text).ok());
            match (named, uscc) {
                (Some(named), Some(uscc)) if &named != uscc => {
                    errors.push(field(
                        name,
                        format!("the certificate is for USCC {named}, not {uscc}"),
                    ));
                    continue;
                }
                (None, _) => {
                    errors.push(field(
                        name,
                        "the certificate does not name the organisation's USCC (subject \
                         serialNumber, as `huren pki issue-holder` writes it)",
                    ));
                    continue;
                }
                _ => {}
            }
            if certs.iter().any(|c| c.der() == cert.der()) {
                errors.push(field(name, "this certificate is already listed"));
                continue;
            }
            certs.push(cert);
        }
        if request.platform_holder {
            if let Some(uscc) = uscc {
                let held: Vec<&Arc<PlatformHolder>> = self
                    .keys
                    .holders
                    .iter()
                    .filter(|h| h.uscc.as_ref() == Some(uscc) && h.cert.not_after() >= now)
                    .collect();
                if held.is_empty() {
                    errors.push(field(
                        "platform_holder",
                        format!("the platform holds no valid seal-holder key for USCC {uscc}"),
                    ));
                }
                for holder in held {
                    if !certs.iter().any(|c| c.der() == holder.cert.der()) {
                        certs.push(holder.cert.clone());
                    }
                }
            }
        }
        if certs.is_empty() && request.holder_certs_pem.is_empty() && !request.platform_holder {
            errors.push(field(
                "holder_certs_pem",
                "give at least one holder certificate, or platform_holder: true",
            ));
        }
        if certs.len() > MAX_HOLDER_CERTS {
            errors.push(field(
                "holder_certs_pem",
                format!("a seal lists at most {MAX_HOLDER_CERTS} holder certificates"),
            ));
        }
        certs
    }
}

/// `YYYY-MM-DD` (start or end of that day, China time) or RFC 3339.
fn parse_time(text: &str, end_of_day: bool) -> Result<UnixTime, String> {
    let text = text.trim();
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(date) = time::Date::parse(text, &date_format) {
        return Ok(if end_of_day {
            UnixTime::end_of_china_day(date)
        } else {
            UnixTime::start_of_china_day(date)
        });
    }
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(UnixTime::from_datetime)
        .map_err(|_| "must be a date (YYYY-MM-DD) or an RFC 3339 time".to_owned())
}

/// The DER of exactly one PEM `CERTIFICATE` block.
fn pem_certificate(text: &str) -> Result<Vec<u8>, String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let body = text
        .trim()
        .strip_prefix(BEGIN)
        .and_then(|rest| rest.strip_suffix(END))
        .ok_or(
            "must be one PEM certificate (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----)",
        )?;
    if body.contains("-----") {
        return Err("must hold exactly one certificate".into());
    }
    let base64: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    // 16 KiB is the decoder's bound on a certificate inside a seal.
    b64::decode_std(&base64, 16 * 1024 * 4 / 3 + 4)
        .map_err(|e| format!("the PEM body is not base64: {e}"))
}

/// A PNG that decodes, within bounds on its size in pixels and memory.
fn check_png(data: &[u8]) -> Result<(), String> {
    if !data.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Err("is not a PNG image (wrong signature)".into());
    }
    let mut reader =
        image::ImageReader::with_format(std::io::Cursor::new(data), image::ImageFormat::Png);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE_PIXELS);
    limits.max_image_height = Some(MAX_IMAGE_SIDE_PIXELS);
    limits.max_alloc = Some(64 * 1024 * 1024);
    reader.limits(limits);
    reader
        .decode()
        .map(|_| ())
        .map_err(|e| format!("is not a readable PNG image: {e}"))
}

/// An SVG document checked by a small tokenizer ("parse-lite"): UTF-8; one `<svg>` root
/// element, properly nested and closed; comments, an XML declaration and CDATA allowed;
/// refused: DTDs and entity declarations (entity expansion), `script`, `foreignObject` and
/// other embedding elements, event-handler attributes, `javascript:`, and references outside
/// the image (`href`, `url(…)`, `@import`), since verifiers and clerks' pages display the
/// picture and it must neither run code nor call home.
fn check_svg(data: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(data).map_err(|_| "an SVG image must be UTF-8".to_owned())?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lower = text.to_ascii_lowercase();
    // Character references and CSS escapes can spell any of the words refused below
    // (`&#x6A;avascript:`, `\75 rl(`, `@\69mport`) and no seal image needs them: write the
    // characters themselves (UTF-8).
    if text.contains("&#") {
        return Err(
            "numeric character references (&#…;) are not accepted in a seal image; write the characters in UTF-8".into(),
        );
    }
    if text.contains('\\') {
        return Err("backslash escapes are not accepted in a seal image".into());
    }
    if lower.contains("image-set(") {
        return Err("image-set(…) is not accepted in a seal image".into());
    }
    if lower.contains("javascript:") {
        return Err("javascript: URLs are not accepted in a seal image".into());
    }
    if lower.contains("@import") {
        return Err("@import is not accepted in a seal image".into());
    }
    for (at, _) in lower.match_indices("url(") {
        let target = lower[at + 4..].trim_start_matches([' ', '\'', '"']);
        if !(target.starts_with('#') || target.starts_with("data:")) {
            return Err("url(…) may only point inside the image".into());
        }
    }
    let mut stack: Vec<&str> = Vec::new();
    let mut root_seen = false;
    let mut root_closed = false;
    let mut at = 0;
    while at < text.len() {
        let Some(offset) = text[at..].find('<') else {
            if !text[at..].trim().is_empty() && stack.is_empty() {
                return Err("text outside the svg element".into());
            }
            break;
        };
        let start = at + offset;
        if stack.is_empty() && !text[at..start].trim().is_empty() {
            return Err("text outside the svg element".into());
        }
        let rest = &text[start..];
        let skip_to = |end: &str, what: &str| -> Result<usize, String> {
            rest.find(end)
                .map(|i| start + i + end.len())
                .ok_or_else(|| format!("unterminated {what}"))
        };
        if rest.starts_with("<!--") {
            at = skip_to("-->", "comment")?;
        } else if rest.starts_with("<?") {
            if root_seen {
                return Err(
                    "processing instructions are accepted only before the svg element".into(),
                );
            }
            at = skip_to("?>", "XML declaration")?;
        } else if rest.starts_with("<![CDATA[") {
            if stack.is_empty() {
                return Err("CDATA outside the svg element".into());
            }
            at = skip_to("]]>", "CDATA section")?;
        } else if rest.starts_with("<!") {
            return Err("DOCTYPE and other declarations are not accepted (no entities)".into());
        } else if let Some(tail) = rest.strip_prefix("</") {
            let name = xml_name(tail);
            let after = tail[name.len()..].trim_start();
            if name.is_empty() || !after.starts_with('>') {
                return Err("malformed end tag".into());
            }
            match stack.pop() {
                Some(open) if open == name => {}
                Some(open) => return Err(format!("</{name}> closes <{open}>")),
                None => return Err(format!("</{name}> closes nothing")),
            }
            if stack.is_empty() {
                root_closed = true;
            }
            at = start + 2 + name.len() + (tail.len() - name.len() - after.len()) + 1;
        } else {
            let (name, end, self_closing) = start_tag(&rest[1..])?;
            if root_closed {
                return Err("content after the svg element".into());
            }
            if !root_seen {
                if name != "svg" {
                    return Err(format!("the root element is <{name}>, not <svg>"));
                }
                root_seen = true;
            }
            let local = name.rsplit(':').next().unwrap_or(name).to_ascii_lowercase();
            if [
                "script",
                "foreignobject",
                "iframe",
                "object",
                "embed",
                "handler",
            ]
            .contains(&local.as_str())
            {
                return Err(format!("<{name}> is not accepted in a seal image"));
            }
            if self_closing {
                if stack.is_empty() {
                    root_closed = true;
                }
            } else {
                stack.push(name);
            }
            at = start + 1 + end;
        }
    }
    if !root_seen {
        return Err("no svg element".into());
    }
    if let Some(open) = stack.last() {
        return Err(format!("<{open}> is not closed"));
    }
    Ok(())
}

/// An XML name at the start of `text` (ASCII subset: what SVG uses).
fn xml_name(text: &str) -> &str {
    let end = text
        .char_indices()
        .find(|&(i, c)| {
            !(c.is_ascii_alphabetic()
                || c == '_'
                || c == ':'
                || (i > 0 && (c.is_ascii_digit() || c == '-' || c == '.')))
        })
        .map_or(text.len(), |(i, _)| i);
    &text[..end]
}

/// A start tag after its `<`: the element name, the offset just past its `>`, and whether it
/// closes itself. Checks every attribute.
fn start_tag(text: &str) -> Result<(&str, usize, bool), String> {
    let name = xml_name(text);
    if name.is_empty() {
        return Err("malformed tag".into());
    }
    let mut at = name.len();
    loop {
        let rest = &text[at..];
        let trimmed = rest.trim_start();
        let spaced = trimmed.len() < rest.len();
        at += rest.len() - trimmed.len();
        if trimmed.starts_with('>') {
            return Ok((name, at + 1, false));
        }
        if trimmed.starts_with("/>") {
            return Ok((name, at + 2, true));
        }
        // XML separates the name and each attribute by whitespace.
        if !spaced {
            return Err(format!("malformed attributes in <{name}>"));
        }
        let attribute = xml_name(trimmed);
        if attribute.is_empty() {
            return Err(format!("malformed attributes in <{name}>"));
        }
        at += attribute.len();
        let rest = text[at..].trim_start();
        let Some(rest) = rest.strip_prefix('=') else {
            return Err(format!("attribute {attribute} of <{name}> has no value"));
        };
        let rest = rest.trim_start();
        let quote = rest
            .chars()
            .next()
            .filter(|c| *c == '"' || *c == '\'')
            .ok_or_else(|| format!("attribute {attribute} of <{name}> is not quoted"))?;
        let value_start = text.len() - rest.len() + 1;
        let value_len = text[value_start..]
            .find(quote)
            .ok_or_else(|| format!("attribute {attribute} of <{name}> is not closed"))?;
        check_attribute(attribute, &text[value_start..value_start + value_len])?;
        at = value_start + value_len + 1;
    }
}

fn check_attribute(name: &str, value: &str) -> Result<(), String> {
    let local = name.rsplit(':').next().unwrap_or(name).to_ascii_lowercase();
    if local.starts_with("on") {
        return Err(format!("event handler attribute {name} is not accepted"));
    }
    if local == "href" || local == "src" {
        let value = value.trim().to_ascii_lowercase();
        if !(value.starts_with('#') || value.starts_with("data:image/")) {
            return Err(format!("{name} may only point inside the image"));
        }
    }
    Ok(())
}

/// Whether the client asked for JSON rather than the DER file: `application/json` acceptable
/// and not ranked below `application/octet-stream`.
fn wants_json(headers: &HeaderMap) -> bool {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let quality = |wanted: &str| {
        accept
            .split(',')
            .filter_map(|range| {
                let mut parts = range.split(';');
                let media = parts.next()?.trim();
                if !media.eq_ignore_ascii_case(wanted) {
                    return None;
                }
                let q = parts
                    .filter_map(|p| p.trim().strip_prefix("q="))
                    .find_map(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0);
                Some(q)
            })
            .fold(None, |best: Option<f32>, q| {
                Some(best.map_or(q, |b| b.max(q)))
            })
    };
    match (
        quality("application/json"),
        quality("application/octet-stream"),
    ) {
        (Some(json), Some(der)) => json > 0.0 && json >= der,
        (Some(json), None) => json > 0.0,
        (None, _) => false,
    }
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    match headers
        .get("idempotency-key")
        .map(|v| v.to_str().map(str::to_owned))
    {
        Some(Ok(key)) if !key.is_empty() && key.len() <= 200 => Ok(Some(key)),
        Some(_) => Err(ApiError::Invalid(vec![field(
            "Idempotency-Key",
            "must be 1 to 200 visible ASCII characters",
        )])),
        None => Ok(None),
    }
}

fn check_reason(reason: &str) -> Result<&str, ApiError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 || reason.chars().any(char::is_control) {
        return Err(ApiError::Invalid(vec![field(
            "reason",
            "must be 1 to 500 characters of text",
        )]));
    }
    Ok(reason)
}

/// A seal build failure: a field the checks let through is the client's (422), anything else
/// is ours.
fn build_error(e: SealBuildError) -> ApiError {
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
            ApiError::Invalid(vec![field(name, reason)])
        }
        SealBuildError::Validity { .. } => {
            ApiError::Invalid(vec![field("valid_end", e.to_string())])
        }
        SealBuildError::Certificate { role: "holder", .. } => {
            ApiError::Invalid(vec![field("holder_certs_pem", e.to_string())])
        }
        other => ApiError::Internal(format!("sealing: {other}")),
    }
}

// ---------------------------------------------------------------------------------------------
// Status positions and identifiers
// ---------------------------------------------------------------------------------------------

struct ListRow {
    id: String,
    seq: i64,
    capacity: i64,
    allocated: i64,
}

impl ListRow {
    fn has_room_for_seals(&self) -> bool {
        self.allocated * SEAL_FILL_DENOMINATOR < self.capacity * SEAL_FILL_NUMERATOR
    }
}

async fn open_list(
    conn: &mut AnyConnection,
    region: &str,
    seq: i64,
    capacity: i64,
    now: i64,
) -> Result<ListRow, ApiError> {
    // The id form `issuance` gives its lists, so both allocators name lists alike.
    let id = format!("{region}-{seq}");
    sqlx::query("INSERT INTO status_lists (id, region, seq, capacity, allocated, version, created_at) VALUES ($1, $2, $3, $4, 0, 0, $5)")
        .bind(&id)
        .bind(region)
        .bind(seq)
        .bind(capacity)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(ListRow {
        id,
        seq,
        capacity,
        allocated: 0,
    })
}

/// The list a new seal takes its index from: the newest list licences no longer draw from
/// that is under 15/16 full; if there is none, the open list is closed to licences by opening
/// the next one, and taken (see the module doc). Runs under the audit lock.
async fn seal_list(conn: &mut RegionTx, capacity: i64, now: i64) -> Result<ListRow, ApiError> {
    let region = conn.region().as_str().to_owned();
    let region = region.as_str();
    let conn: &mut AnyConnection = conn;
    let read = |row: sqlx::any::AnyRow| -> Result<ListRow, sqlx::Error> {
        Ok(ListRow {
            id: row.try_get("id")?,
            seq: row.try_get("seq")?,
            capacity: row.try_get("capacity")?,
            allocated: row.try_get("allocated")?,
        })
    };
    let latest = sqlx::query(
        "SELECT id, seq, capacity, allocated FROM status_lists WHERE region = $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(region)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?
    .map(read)
    .transpose()
    .map_err(db)?;
    let Some(latest) = latest else {
        // First list of the region: list 0 for seals, list 1 for licences.
        let first = open_list(conn, region, 0, capacity, now).await?;
        open_list(conn, region, 1, capacity, now).await?;
        return Ok(first);
    };
    let closed = sqlx::query(
        "SELECT id, seq, capacity, allocated FROM status_lists WHERE region = $1 AND seq < $2 \
         AND allocated * $3 < capacity * $4 ORDER BY seq DESC LIMIT 1",
    )
    .bind(region)
    .bind(latest.seq)
    .bind(SEAL_FILL_DENOMINATOR)
    .bind(SEAL_FILL_NUMERATOR)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?
    .map(read)
    .transpose()
    .map_err(db)?;
    if let Some(closed) = closed {
        return Ok(closed);
    }
    let next = open_list(conn, region, latest.seq + 1, capacity, now).await?;
    if latest.has_room_for_seals() {
        return Ok(latest);
    }
    // The open list was full already (licences had just reached 7/8 of it): the list just
    // opened goes to seals, and licences move on once more.
    open_list(conn, region, latest.seq + 2, capacity, now).await?;
    Ok(next)
}

/// A random index of `list` that no licence or seal holds (`status_entries` records both),
/// counted as allocated. Runs under the audit lock. The check looks at the whole list, as the
/// `status_entries` key does (a list belongs to one region, and a taken index reveals nothing).
async fn allocate_seal_index(conn: &mut RegionTx, list: &ListRow) -> Result<i64, ApiError> {
    let region = conn.region().as_str().to_owned();
    let conn: &mut AnyConnection = conn;
    let bound = u64::try_from(list.capacity).map_err(db)?;
    for _ in 0..INDEX_QUERIES {
        let mut candidates: Vec<i64> = Vec::with_capacity(DRAWS_PER_QUERY);
        for _ in 0..DRAWS_PER_QUERY {
            let idx = i64::try_from(OsRng.next_u64() % bound).map_err(db)?;
            if !candidates.contains(&idx) {
                candidates.push(idx);
            }
        }
        let placeholders: Vec<String> =
            (2..candidates.len() + 2).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT idx FROM status_entries WHERE list_id = $1 AND idx IN ({})",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(&list.id);
        for idx in &candidates {
            query = query.bind(*idx);
        }
        let taken: HashSet<i64> = query
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?
            .iter()
            .map(|row| row.try_get("idx"))
            .collect::<Result<_, _>>()
            .map_err(db)?;
        if let Some(idx) = candidates.into_iter().find(|idx| !taken.contains(idx)) {
            sqlx::query(
                "UPDATE status_lists SET allocated = allocated + 1 WHERE id = $1 AND region = $2",
            )
            .bind(&list.id)
            .bind(&region)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
            return Ok(idx);
        }
    }
    Err(ApiError::Internal(format!(
        "no free status index found in {}",
        list.id
    )))
}

/// A fresh esID of `region`. Runs under the audit lock. The check covers every seal, as the
/// `es_id` key does.
async fn new_es_id(conn: &mut AnyConnection, region: &RegionCode) -> Result<EsId, ApiError> {
    for _ in 0..ES_ID_ROUNDS {
        let mut entropy = [0u8; 8];
        OsRng.fill_bytes(&mut entropy);
        let es_id = EsId::generate(region, entropy);
        let taken = sqlx::query("SELECT 1 AS taken FROM seals WHERE es_id = $1")
            .bind(es_id.as_str())
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
        if taken.is_none() {
            return Ok(es_id);
        }
    }
    Err(ApiError::Internal("could not find a free esID".into()))
}

// ---------------------------------------------------------------------------------------------
// Making seals
// ---------------------------------------------------------------------------------------------

impl Seals {
    /// Makes a seal in one transaction (audit lock, idempotency, status index, esID,
    /// signature, record, audit entry). With an idempotency key, a retry of the same request
    /// returns the seal made the first time (`created = false`).
    async fn make(
        &self,
        issuer: &Issuer,
        maker: &SealMaker,
        principal: &Principal,
        checked: Checked,
        idempotency: Option<(&str, &str)>,
        now: UnixTime,
    ) -> Result<(Made, bool), ApiError> {
        if let Err(e) = maker.cert.check_valid_at(now) {
            return Err(ApiError::Unavailable(format!(
                "this issuer cannot make seals: its seal-maker certificate is not valid now ({e})"
            )));
        }
        let mut tx = issuer.store.begin().await.map_err(db)?;
        let region = tx.region().clone();
        if let Some((key, hash)) = idempotency {
            if let Some(made) = replay(&mut tx, issuer, principal, key, hash).await? {
                return Ok((made, false));
            }
        }
        let list = seal_list(&mut tx, issuer.list_capacity, now.seconds()).await?;
        let idx = allocate_seal_index(&mut tx, &list).await?;
        let es_id = new_es_id(&mut tx, &region).await?;
        let uri = issuer.keys.status_uri(&list.id);
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
                idx: u64::try_from(idx).map_err(db)?,
            }),
            uscc: Some(checked.uscc.clone()),
        };
        // Signed under the lock because the status position is part of what is signed, as
        // for licences; `make_seal` verifies its own output before returning it.
        let der = make_seal(&spec, &maker.key, maker.cert.der()).map_err(build_error)?;
        sqlx::query(
            "INSERT INTO seals (es_id, region, name, uscc, seal_type, der, list_id, idx, status, \
             valid_start, valid_end, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10, $11, $12)",
        )
        .bind(es_id.as_str())
        .bind(region.as_str())
        .bind(&checked.name)
        .bind(checked.uscc.as_str())
        .bind(checked.seal_type)
        .bind(der.clone())
        .bind(&list.id)
        .bind(idx)
        .bind(checked.valid_start.seconds())
        .bind(checked.valid_end.seconds())
        .bind(now.seconds())
        .bind(&principal.id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if let Some((key, hash)) = idempotency {
            sqlx::query("INSERT INTO idempotency (token_id, key, request_hash, jti, created_at, region) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(&principal.id)
                .bind(key)
                .bind(hash)
                .bind(es_id.as_str())
                .bind(now.seconds())
                .bind(region.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
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
            "list_id": list.id,
            "idx": idx,
            "valid_start": checked.valid_start.seconds(),
            "valid_end": checked.valid_end.seconds(),
            "holder_serials": serials,
        });
        audit::append(
            &mut tx,
            now.seconds(),
            &principal.id,
            Action::SealMake,
            es_id.as_str(),
            &detail,
        )
        .await
        .map_err(db)?;
        issuer.commit(tx).await.map_err(db)?;
        Ok((
            Made {
                es_id: es_id.to_string(),
                name: checked.name,
                uscc: checked.uscc.to_string(),
                seal_type: checked.seal_type,
                status: StatusPosition {
                    list_id: list.id,
                    idx,
                    uri,
                },
                valid_start: checked.valid_start.to_rfc3339_china(),
                valid_end: checked.valid_end.to_rfc3339_china(),
                esl: b64::encode_std(&der),
            },
            true,
        ))
    }
}

/// The seal an earlier request with this (token, key) made, or a mismatch error (also when
/// the key was used for a licence: keys are per token, whatever they were used for).
async fn replay(
    conn: &mut RegionTx,
    issuer: &Issuer,
    principal: &Principal,
    key: &str,
    hash: &str,
) -> Result<Option<Made>, ApiError> {
    let region = conn.region().as_str().to_owned();
    let row = sqlx::query(
        "SELECT request_hash, jti FROM idempotency WHERE token_id = $1 AND key = $2 AND region = $3",
    )
    .bind(&principal.id)
    .bind(key)
    .bind(region)
    .fetch_optional(&mut **conn)
    .await
    .map_err(db)?;
    let Some(row) = row else { return Ok(None) };
    let stored_hash: String = row.try_get("request_hash").map_err(db)?;
    let subject: String = row.try_get("jti").map_err(db)?;
    if stored_hash != hash {
        return Err(ApiError::IdempotencyMismatch);
    }
    match seal_row(conn, &subject).await? {
        Some(seal) => Ok(Some(seal.made(issuer))),
        None => Err(ApiError::IdempotencyMismatch),
    }
}

/// `POST /v1/seals`.
pub async fn make(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    request: Request,
) -> Result<Response, ApiError> {
    let issuer = &state.issuer;
    principal
        .require(Scope::Seal, &issuer.keys.region, None)
        .map_err(forbidden)?;
    let maker = state.seals.maker()?;
    let body = ApiJson::<SealRequest>::from_request(request, &state).await?;
    let key = idempotency_key(&headers)?;
    let now = issuer.clock.now();
    let checked = state
        .seals
        .check(&body.value, now)
        .map_err(ApiError::Invalid)?;
    let hash = request_hash(&body.raw);
    let (made, created) = state
        .seals
        .make(
            issuer,
            maker,
            &principal,
            checked,
            key.as_deref().map(|k| (k, hash.as_str())),
            now,
        )
        .await?;
    let status = if created {
        state.metrics.seals_made.fetch_add(1, Ordering::Relaxed);
        tracing::info!(es_id = %made.es_id, by = %principal.id, "seal made");
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(made)).into_response())
}

// ---------------------------------------------------------------------------------------------
// Reading seals
// ---------------------------------------------------------------------------------------------

/// The stored seal `es_id` of this issuer's region (404 otherwise).
async fn stored_seal(issuer: &Issuer, es_id: &str) -> Result<SealRow, ApiError> {
    let not_found = || ApiError::NotFound(format!("no seal {es_id}"));
    let parsed = EsId::parse(es_id).map_err(|_| not_found())?;
    if parsed.region() != &issuer.keys.region {
        return Err(not_found());
    }
    let mut conn = issuer.store.acquire().await.map_err(db)?;
    seal_row(&mut conn, es_id).await?.ok_or_else(not_found)
}

/// `GET /v1/seals/{esID}`.
pub async fn read(
    State(state): State<AppState>,
    principal: Principal,
    Path(es_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let issuer = &state.issuer;
    // Whoever may read licences, make seals or apply them may read a seal: the .esl travels
    // inside every signature made with it anyway.
    let scope = [Scope::Read, Scope::Seal, Scope::SealSign]
        .into_iter()
        .find(|s| principal.scopes.contains(s))
        .unwrap_or(Scope::Read);
    principal
        .require(scope, &issuer.keys.region, None)
        .map_err(forbidden)?;
    let seal = stored_seal(issuer, &es_id).await?;
    if wants_json(&headers) {
        return Ok(Json(seal.record(issuer, &state.seals)?).into_response());
    }
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}.esl\"", seal.es_id),
            ),
            (header::CACHE_CONTROL, "private, max-age=60".to_owned()),
        ],
        seal.der,
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------------
// Status changes
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonBody {
    reason: String,
}

impl Seals {
    /// Revokes, suspends or reinstates a seal, as licences are: the row, the list's version
    /// (so the publisher re-signs it) and the audit entry in one transaction.
    async fn change_status(
        &self,
        issuer: &Issuer,
        principal: &Principal,
        es_id: &str,
        change: StatusChange,
        reason: &str,
    ) -> Result<SealRecord, ApiError> {
        let reason = check_reason(reason)?;
        let not_found = || ApiError::NotFound(format!("no seal {es_id}"));
        let parsed = EsId::parse(es_id).map_err(|_| not_found())?;
        if parsed.region() != &issuer.keys.region {
            return Err(not_found());
        }
        let now = issuer.clock.now().seconds();
        let mut tx = issuer.store.begin().await.map_err(db)?;
        let region = tx.region().as_str().to_owned();
        let row = seal_row(&mut tx, es_id).await?.ok_or_else(not_found)?;
        let (target, action) = match (change, row.status) {
            (StatusChange::Revoke, SealStatus::Valid | SealStatus::Suspended) => {
                (SealStatus::Revoked, Action::SealRevoke)
            }
            (StatusChange::Suspend, SealStatus::Valid) => {
                (SealStatus::Suspended, Action::SealSuspend)
            }
            (StatusChange::Reinstate, SealStatus::Suspended) => {
                (SealStatus::Valid, Action::SealReinstate)
            }
            (change, current) => {
                return Err(ApiError::Conflict(
                    format!("cannot {change:?} a seal that is {current:?}").to_lowercase(),
                ));
            }
        };
        sqlx::query(
            "UPDATE seals SET status = $1, status_reason = $2, status_changed_at = $3 \
             WHERE es_id = $4 AND region = $5",
        )
        .bind(target.code())
        .bind(reason)
        .bind(now)
        .bind(es_id)
        .bind(&region)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query("UPDATE status_lists SET version = version + 1 WHERE id = $1 AND region = $2")
            .bind(&row.list_id)
            .bind(&region)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let detail = serde_json::json!({"object": "seal", "reason": reason});
        audit::append(&mut tx, now, &principal.id, action, es_id, &detail)
            .await
            .map_err(db)?;
        let row = seal_row(&mut tx, es_id).await?.ok_or_else(not_found)?;
        issuer.commit(tx).await.map_err(db)?;
        row.record(issuer, self)
    }
}

async fn change(
    state: AppState,
    principal: Principal,
    es_id: String,
    change: StatusChange,
    request: Request,
) -> Result<Response, ApiError> {
    let issuer = &state.issuer;
    // Scope and region first: a refused token learns nothing, not even whether a seal exists
    // or what a valid reason looks like.
    principal
        .require(Scope::Seal, &issuer.keys.region, None)
        .map_err(forbidden)?;
    let body = ApiJson::<ReasonBody>::from_request(request, &state).await?;
    let record = state
        .seals
        .change_status(issuer, &principal, &es_id, change, &body.value.reason)
        .await?;
    let counter = match change {
        StatusChange::Revoke => &state.metrics.seals_revoked,
        StatusChange::Suspend => &state.metrics.seals_suspended,
        StatusChange::Reinstate => &state.metrics.seals_reinstated,
    };
    counter.fetch_add(1, Ordering::Relaxed);
    tracing::info!(es_id = %es_id, by = %principal.id, change = ?change, "seal status changed");
    Ok(Json(record).into_response())
}

/// `POST /v1/seals/{esID}/revoke`.
pub async fn revoke(
    State(state): State<AppState>,
    principal: Principal,
    Path(es_id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    change(state, principal, es_id, StatusChange::Revoke, request).await
}

/// `POST /v1/seals/{esID}/suspend`.
pub async fn suspend(
    State(state): State<AppState>,
    principal: Principal,
    Path(es_id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    change(state, principal, es_id, StatusChange::Suspend, request).await
}

/// `POST /v1/seals/{esID}/reinstate`.
pub async fn reinstate(
    State(state): State<AppState>,
    principal: Principal,
    Path(es_id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    change(state, principal, es_id, StatusChange::Reinstate, request).await
}

// ---------------------------------------------------------------------------------------------
// Server-side sealing
// ---------------------------------------------------------------------------------------------

/// The query of `POST /v1/seals/{esID}/sign`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignQuery {
    /// `propertyInfo` of the signature: what the document is (OFD: the path of its
    /// `Signature.xml`). Default: the document's content type.
    property_info: Option<String>,
}

fn check_property_info(text: &str) -> Result<(), ApiError> {
    if text.is_empty()
        || text.len() > MAX_PROPERTY_INFO_BYTES
        || !text.bytes().all(|b| (0x20..0x7f).contains(&b))
    {
        return Err(ApiError::Invalid(vec![field(
            "property_info",
            format!(
                "must be 1 to {MAX_PROPERTY_INFO_BYTES} printable ASCII characters (an IA5String)"
            ),
        )]));
    }
    Ok(())
}

impl Seals {
    /// The platform-held holder key to apply `seal` with at `at`: one the seal lists, whose
    /// certificate is valid and not revoked in the region's CRL. 409 with the reason if none.
    async fn signer_for(
        &self,
        seal: &SealRow,
        at: UnixTime,
    ) -> Result<Arc<PlatformHolder>, ApiError> {
        let decoded = Seal::from_der(&seal.der)
            .map_err(|e| db(format!("stored seal {} does not decode: {e}", seal.es_id)))?;
        let listed: Vec<&Arc<PlatformHolder>> = match decoded.holder_certs() {
            HolderCerts::Certs(certs) => certs.iter().filter_map(|der| self.holder(der)).collect(),
            HolderCerts::Digests(_) => Vec::new(),
        };
        if listed.is_empty() {
            return Err(ApiError::Conflict(format!(
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
        Err(ApiError::Conflict(why))
    }
}

/// `POST /v1/seals/{esID}/sign`.
pub async fn sign(
    State(state): State<AppState>,
    principal: Principal,
    Path(es_id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    request: Request,
) -> Result<Response, ApiError> {
    let issuer = &state.issuer;
    principal
        .require(Scope::SealSign, &issuer.keys.region, None)
        .map_err(forbidden)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| DOCUMENT_TYPES.contains(&v.as_str()))
        .ok_or_else(|| {
            ApiError::UnsupportedMediaType(format!(
                "send the document as one of {}",
                DOCUMENT_TYPES.join(", ")
            ))
        })?;
    let query: Query<SignQuery> = Query::try_from_uri(&uri)
        .map_err(|e| ApiError::Invalid(vec![field("query", e.body_text())]))?;
    let property_info = query.0.property_info.unwrap_or(content_type);
    check_property_info(&property_info)?;

    // Refuse before reading a large body when the seal cannot be applied anyway.
    let now = issuer.clock.now();
    let seal = stored_seal(issuer, &es_id).await?;
    if let Some(why) = seal.unusable_at(now) {
        return Err(ApiError::Conflict(why));
    }
    let holder = state.seals.signer_for(&seal, now).await?;

    let _permit = Arc::clone(&state.seals.signing)
        .acquire_owned()
        .await
        .map_err(db)?;
    let document = Bytes::from_request(request, &state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::BodyTooLarge(MAX_DOCUMENT_BYTES)
            } else {
                ApiError::BadJson(rejection.body_text())
            }
        })?;
    if document.is_empty() {
        return Err(ApiError::Invalid(vec![field(
            "body",
            "the document is empty",
        )]));
    }
    let signed_at = issuer.clock.now();
    let seal_der = seal.der.clone();
    let signer = Arc::clone(&holder);
    // Hashing tens of MiB and signing are CPU work: off the async workers.
    let (signature, document_sha256, document_bytes) = tokio::task::spawn_blocking(move || {
        let sha256 = hex::encode(Sha256::digest(&document));
        sign_document(
            &seal_der,
            &document,
            signed_at,
            &property_info,
            &signer.key,
            signer.cert.der(),
        )
        .map(|der| (der, sha256, document.len()))
    })
    .await
    .map_err(db)?
    .map_err(build_error)?;

    // Commit: the seal must still be usable (a revocation may have landed meanwhile), and the
    // audit entry is written before the signature leaves.
    let mut tx = issuer.store.begin().await.map_err(db)?;
    let current = seal_row(&mut tx, &es_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no seal {es_id}")))?;
    if let Some(why) = current.unusable_at(signed_at) {
        return Err(ApiError::Conflict(why));
    }
    let detail = serde_json::json!({
        "object": "seal_signature",
        "document_sha256": document_sha256,
        "document_bytes": document_bytes,
        "signer_serial": holder.cert.serial_hex(),
        "signed_at": signed_at.seconds(),
    });
    audit::append(
        &mut tx,
        signed_at.seconds(),
        &principal.id,
        Action::SealSign,
        &es_id,
        &detail,
    )
    .await
    .map_err(db)?;
    issuer.commit(tx).await.map_err(db)?;
    state
        .metrics
        .documents_sealed
        .fetch_add(1, Ordering::Relaxed);
    tracing::info!(es_id = %es_id, by = %principal.id, "document sealed");

    if wants_json(&headers) {
        return Ok(Json(Sealed {
            es_id,
            signature: b64::encode_std(&signature),
            signed_at: signed_at.to_rfc3339_china(),
            document_sha256,
            signer_subject: holder.cert.subject().to_owned(),
            signer_serial: holder.cert.serial_hex().to_owned(),
        })
        .into_response());
    }
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{es_id}.ses\""),
            ),
        ],
        signature,
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------------
// The CRL
// ---------------------------------------------------------------------------------------------

/// A verified CRL as read from its file.
#[derive(Debug, Clone)]
struct LoadedCrl {
    /// File modification time and length when read: a change means `huren pki revoke-cert`
    /// wrote a new list.
    stamp: (Option<std::time::SystemTime>, u64),
    der: Bytes,
    crl: Arc<VerifiedCrl>,
    etag: String,
}

/// The region root's CRL file, re-read when it changes. A replacement that does not verify
/// under the root is refused (logged) and the last good list stays in use: a broken file must
/// not make revocations disappear.
#[derive(Debug)]
struct CrlFile {
    path: PathBuf,
    root: Certificate,
    last: Mutex<Option<LoadedCrl>>,
}

fn read_crl(path: &FsPath, root: &Certificate) -> Result<LoadedCrl, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    let der = huren_keys::crl::read_crl(path).map_err(|e| e.to_string())?;
    let crl = VerifiedCrl::verify(&der, root)
        .map_err(|e| format!("does not verify under the region root: {e}"))?;
    let digest = Sha256::digest(&der);
    Ok(LoadedCrl {
        stamp: (meta.modified().ok(), meta.len()),
        etag: format!("\"{}\"", hex::encode(&digest[..16])),
        der: Bytes::from(der),
        crl: Arc::new(crl),
    })
}

impl CrlFile {
    fn load(path: &FsPath, root: &Certificate) -> Result<CrlFile, StartError> {
        let loaded = read_crl(path, root).map_err(|message| StartError::File {
            path: path.display().to_string(),
            message,
        })?;
        Ok(CrlFile {
            path: path.to_path_buf(),
            root: root.clone(),
            last: Mutex::new(Some(loaded)),
        })
    }

    fn cached(&self) -> Option<LoadedCrl> {
        self.last.lock().ok().and_then(|last| last.clone())
    }

    /// The current CRL: the file's if it changed and verifies, else the last good one.
    async fn current(&self) -> Option<LoadedCrl> {
        let path = self.path.clone();
        let root = self.root.clone();
        let cached = self.cached();
        let known = cached.as_ref().map(|c| c.stamp);
        let fresh = tokio::task::spawn_blocking(move || {
            let meta = std::fs::metadata(&path).ok()?;
            if Some((meta.modified().ok(), meta.len())) == known {
                return None;
            }
            Some(read_crl(&path, &root))
        })
        .await
        .ok()
        .flatten();
        match fresh {
            None => cached,
            Some(Ok(loaded)) => {
                if let Ok(mut last) = self.last.lock() {
                    *last = Some(loaded.clone());
                }
                Some(loaded)
            }
            Some(Err(message)) => {
                tracing::error!(path = %self.path.display(), %message, "CRL file refused; serving the last good CRL");
                cached
            }
        }
    }
}

/// `GET /v1/crl` (public): the region root's CRL, DER.
pub async fn crl(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let Some(file) = &state.seals.crl else {
        return Err(ApiError::NotFound("this issuer serves no CRL".into()));
    };
    let loaded = file
        .current()
        .await
        .ok_or_else(|| ApiError::Unavailable("the CRL cannot be read".into()))?;
    // Until the CA's nextUpdate, at most an hour: a new revocation reaches verifiers within
    // the hour even though the list itself claims longer.
    let now = state.issuer.clock.now();
    let max_age = loaded
        .crl
        .next_update()
        .map_or(0, |next| (next.seconds() - now.seconds()).clamp(0, 3600));
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == loaded.etag));
    let response_headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/pkix-crl"),
        ),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_str(&format!("public, max-age={max_age}")).map_err(db)?,
        ),
        (
            header::ETAG,
            HeaderValue::from_str(&loaded.etag).map_err(db)?,
        ),
    ];
    if not_modified {
        return Ok((StatusCode::NOT_MODIFIED, response_headers).into_response());
    }
    Ok((response_headers, loaded.der).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_seal_images_are_parsed_lightly_and_active_content_is_refused() {
        let ok = [
            r#"<svg xmlns="http://www.w3.org/2000/svg"/>"#,
            "\u{feff}<?xml version=\"1.0\"?>\n<!-- seal -->\n<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 10 10\"><circle cx=\"5\" cy='5' r=\"4\" fill=\"red\"/><text x=\"1\" y=\"5\">印 &amp; 章</text></svg>\n",
            r##"<svg><defs><linearGradient id="g"/></defs><rect fill="url(#g)" width="1" height="1"/><use href="#g"/></svg>"##,
            r#"<svg><image href="data:image/png;base64,AAAA" width="1" height="1"/></svg>"#,
            r#"<svg><style><![CDATA[ rect { fill: red } ]]></style></svg>"#,
        ];
        for svg in ok {
            assert_eq!(check_svg(svg.as_bytes()), Ok(()), "{svg}");
        }
        let bad = [
            "",
            "not xml",
            "<html/>",
            "<svg>",
            "<svg><g></svg>",
            "<svg></svg><svg/>",
            "<svg/>trailing",
            r#"<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg>&a;</svg>"#,
            "<svg><script>alert(1)</script></svg>",
            "<svg><foreignObject/></svg>",
            r#"<svg onload="alert(1)"/>"#,
            r#"<svg><a xlink:href="javascript:alert(1)"/></svg>"#,
            r#"<svg><image href="https://tracker.example/p.png"/></svg>"#,
            r#"<svg><rect style="fill: url(https://x.example/a)"/></svg>"#,
            "<svg><style>@import 'https://x.example/a.css';</style></svg>",
            "<svg width=1/>",
            r#"<svg width="1/>"#,
            // Spelled with references or escapes so the word checks would miss them.
            r#"<svg><a href="&#x6A;avascript:alert(1)"/></svg>"#,
            r#"<svg><set attributeName="href" to="&#106;avascript:alert(1)"/></svg>"#,
            r#"<svg><rect style="fill: \75 rl(https://x.example/a)"/></svg>"#,
            r#"<svg><style>@\69mport 'https://x.example/a.css';</style></svg>"#,
            r#"<svg><rect style="fill: image-set('https://x.example/a.png' 1x)"/></svg>"#,
        ];
        for svg in bad {
            assert!(check_svg(svg.as_bytes()).is_err(), "{svg}");
        }
        assert!(check_svg(&[0xff, 0xfe]).is_err());
    }

    #[test]
    fn svg_checks_never_panic_on_truncated_or_spliced_input() {
        let svg = "\u{feff}<?xml version=\"1.0\"?><!-- 印章 --><svg a=\"1\"\u{3000}b='印'><g><text>印 章</text></g><![CDATA[x]]><rect/></svg>";
        let bytes = svg.as_bytes();
        for end in 0..=bytes.len() {
            let _ = check_svg(&bytes[..end]);
            let _ = check_svg(&bytes[end..]);
            let mut spliced = bytes[..end].to_vec();
            spliced.extend_from_slice(b"</ <a =\"'><!");
            spliced.extend_from_slice(&bytes[end..]);
            let _ = check_svg(&spliced);
        }
    }

    #[test]
    fn png_images_must_decode() {
        let mut png = Vec::new();
        image::RgbaImage::new(4, 4)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        assert_eq!(check_png(&png), Ok(()));
        assert!(check_png(&png[..png.len() / 2]).is_err());
        assert!(check_png(b"GIF89a").is_err());
    }

    #[test]
    fn validity_times_are_dates_or_rfc3339() {
        let start = parse_time("2026-11-22", false).unwrap();
        let end = parse_time("2026-11-22", true).unwrap();
        assert_eq!(start.to_rfc3339_china(), "2026-11-22T00:00:00+08:00");
        assert_eq!(end.to_rfc3339_china(), "2026-11-22T23:59:59+08:00");
        let at = parse_time("2026-11-22T01:30:00Z", false).unwrap();
        assert_eq!(at.to_rfc3339_china(), "2026-11-22T09:30:00+08:00");
        assert!(parse_time("22/11/2026", false).is_err());
    }

    #[test]
    fn json_is_chosen_only_when_asked_for() {
        let accept = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
            wants_json(&headers)
        };
        assert!(!wants_json(&HeaderMap::new()));
        assert!(accept("application/json"));
        assert!(accept("application/json, application/octet-stream"));
        assert!(!accept("application/octet-stream, application/json;q=0.5"));
        assert!(!accept("application/json;q=0"));
        assert!(!accept("*/*"));
    }

    #[test]
    fn pem_holds_exactly_one_certificate() {
        let block = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----";
        assert_eq!(pem_certificate(block).unwrap(), vec![0x30, 0x00]);
        assert!(pem_certificate(&format!("{block}\n{block}")).is_err());
        assert!(pem_certificate("MAA=").is_err());
        assert!(
            pem_certificate("-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----").is_err()
        );
    }
}
