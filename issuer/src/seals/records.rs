//! What the seal endpoints answer: the made seal, the stored record, a server-side sealing;
//! and the views of a stored row ([`SealViews`]).

use huren_crypto::b64;
use huren_crypto::cert::Certificate;
use huren_crypto::seal::{seal_type_name, HolderCerts, Seal};
use huren_crypto::time::UnixTime;
use serde::Serialize;

use super::{SealError, Seals};
use crate::issuance::{Issuer, StatusPosition};
use crate::record_status::RecordStatus;
use crate::store::seals::SealRow;

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
    pub current_status: RecordStatus,
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

/// The views of a stored seal.
pub(super) trait SealViews {
    /// Where its status lives.
    fn position(&self, issuer: &Issuer) -> StatusPosition;
    /// The answer to `POST /v1/seals` (also on a replay).
    fn made(&self, issuer: &Issuer) -> Made;
    /// The record `GET /v1/seals/{esID}` shows.
    fn record(&self, issuer: &Issuer, seals: &Seals) -> Result<SealRecord, SealError>;
    fn unusable_at(&self, at: UnixTime) -> Option<String>;
}

impl SealViews for SealRow {
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

    fn record(&self, issuer: &Issuer, seals: &Seals) -> Result<SealRecord, SealError> {
        let seal = Seal::from_der(&self.der).map_err(|e| {
            SealError::Internal(format!("stored seal {} does not decode: {e}", self.es_id))
        })?;
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

    fn unusable_at(&self, at: UnixTime) -> Option<String> {
        match self.status {
            RecordStatus::Valid => {}
            RecordStatus::Revoked => return Some(format!("seal {} is revoked", self.es_id)),
            RecordStatus::Suspended => return Some(format!("seal {} is suspended", self.es_id)),
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
