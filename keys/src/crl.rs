//! Issuing a province root's X.509 CRL (RFC 5280 §5) and extending it, one revocation at a
//! time, on disk.
//!
//! The CRL is how a province says "this holder certificate is revoked, since this instant";
//! seal verification reads it with `huren_crypto::crl::VerifiedCrl` to judge a signature at
//! its signing time. What is built here:
//!
//! - v2, `signature` = the root key's X.509 algorithm ([`PrivateKey::x509_signature_algorithm`]);
//! - `thisUpdate`, `nextUpdate` (always present: RFC 5280 §5.1.2.5 requires conforming CAs to
//!   include it, and verifiers need it to judge staleness);
//! - one entry per revoked serial with `revocationDate` and, when given, a `reasonCode` entry
//!   extension (non-critical);
//! - `authorityKeyIdentifier` and `cRLNumber` CRL extensions (non-critical; both MUST per
//!   §5.2.1 and §5.2.3).
//!
//! Every CRL built here is verified with `VerifiedCrl` against the issuer certificate before it
//! is returned, and an existing CRL is verified before it is extended, so a tampered file is
//! never laundered into a freshly signed one. Extending keeps every earlier entry byte for
//! byte (extensions included), raises the CRL number by one and refuses a `thisUpdate` older
//! than the previous one. On disk, [`revoke`] holds a lock file for the read–extend–write
//! cycle, because two concurrent revocations would otherwise each write a list without the
//! other's entry, and one revocation would be silently lost.
//!
//! This module never reads the clock: times are arguments.

use std::fs::{self, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use der::asn1::{BitString, ObjectIdentifier, OctetString, Uint};
use der::{Decode, Encode};
use huren_crypto::cert::{CertError, Certificate as ParsedCertificate};
use huren_crypto::crl::{CrlError, RevocationReason, VerifiedCrl, MAX_CRL_BYTES};
use huren_crypto::time::UnixTime;
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, CrlReason};
use x509_cert::ext::Extension;
use x509_cert::serial_number::SerialNumber;
use x509_cert::{Certificate, Version};

use crate::certificate::{key_identifier, to_time, CertBuildError};
use crate::keypair::PrivateKey;
use crate::store::{self, StoreError};

/// `cRLNumber` (RFC 5280 §5.2.3).
const CRL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.20");
/// `reasonCode` (RFC 5280 §5.3.1).
const REASON_CODE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.21");
/// `subjectKeyIdentifier` of the issuer certificate, reused as the CRL's authority key id.
const SUBJECT_KEY_IDENTIFIER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");
/// `authorityKeyIdentifier` (RFC 5280 §5.2.1).
const AUTHORITY_KEY_IDENTIFIER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");

/// Default distance from `thisUpdate` to `nextUpdate`: a root key is normally kept offline, so
/// CRLs are re-signed by hand; a month is the common rhythm for offline roots.
pub const DEFAULT_CRL_VALIDITY_DAYS: i64 = 30;

/// One revocation to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlEntry {
    /// The certificate's serial number: DER INTEGER content octets, as
    /// `huren_crypto::cert::Certificate::serial` gives them.
    pub serial: Vec<u8>,
    /// `revocationDate`: from when the certificate is revoked.
    pub revoked_at: UnixTime,
    /// `reasonCode`, if one is to be stated. Seal verification treats an entry without one
    /// (or with `unspecified`) as `keyCompromise` (SPEC §8), so `huren pki revoke-cert`
    /// always states one, `keyCompromise` unless told otherwise.
    pub reason: Option<RevocationReason>,
}

/// Everything a fresh CRL says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlContents {
    /// `cRLNumber`: must grow with every list the root issues.
    pub number: u128,
    /// `thisUpdate`.
    pub this_update: UnixTime,
    /// `nextUpdate`.
    pub next_update: UnixTime,
    /// The revocations.
    pub entries: Vec<CrlEntry>,
}

/// Why a CRL could not be issued, extended or stored.
#[derive(Debug, thiserror::Error)]
pub enum CrlBuildError {
    /// A field did not encode.
    #[error("CRL field {field} does not encode")]
    Encode {
        /// Which field.
        field: &'static str,
        /// Why.
        source: der::Error,
    },
    /// The issuer certificate is unusable.
    #[error("issuer certificate")]
    IssuerCertificate(#[source] CertError),
    /// The issuer certificate may not sign CRLs.
    #[error("issuer certificate {subject:?} is not a CA allowed to sign CRLs")]
    NotACrlIssuer {
        /// Its subject.
        subject: String,
    },
    /// The key given is not the issuer certificate's key.
    #[error("the signing key is not the key of issuer certificate {subject:?}")]
    KeyMismatch {
        /// The certificate's subject.
        subject: String,
    },
    /// The key could not give its public key.
    #[error(transparent)]
    Key(#[from] crate::keypair::KeyError),
    /// Signing failed.
    #[error(transparent)]
    Sign(#[from] huren_crypto::SignError),
    /// A time did not encode (before 1970 or after 9999).
    #[error(transparent)]
    Time(#[from] CertBuildError),
    /// `nextUpdate` is not after `thisUpdate`.
    #[error("nextUpdate {next_update} is not after thisUpdate {this_update}")]
    UpdateOrder {
        /// `thisUpdate`.
        this_update: UnixTime,
        /// `nextUpdate`.
        next_update: UnixTime,
    },
    /// A revocation dated after the list's `thisUpdate`: a CRL reports revocations that have
    /// happened, it does not schedule them.
    #[error("revocation time {revoked_at} of serial {serial} is after the CRL's thisUpdate {this_update}")]
    RevocationInFuture {
        /// The serial, upper-case hex.
        serial: String,
        /// The revocation time asked for.
        revoked_at: UnixTime,
        /// The list's `thisUpdate`.
        this_update: UnixTime,
    },
    /// The serial is not a usable INTEGER encoding (empty, non-minimal, longer than 21 octets).
    #[error("serial {serial} is not a valid certificate serial number")]
    Serial {
        /// The serial, upper-case hex.
        serial: String,
        /// Why.
        source: der::Error,
    },
    /// The serial is already on the list.
    #[error("serial {serial} is already revoked on this CRL (since {since})")]
    AlreadyRevoked {
        /// The serial, upper-case hex.
        serial: String,
        /// Its listed revocation time.
        since: UnixTime,
    },
    /// The existing CRL does not verify against the issuer certificate.
    #[error("existing CRL {path} does not verify against the root certificate")]
    ExistingCrl {
        /// The file (or `<memory>`).
        path: String,
        /// Why.
        source: CrlError,
    },
    /// The new `thisUpdate` is older than the existing list's (the clock went backwards, or
    /// someone passed an old time): publishing it would make the newer list look older.
    #[error("new thisUpdate {this_update} is before the existing CRL's thisUpdate {previous}")]
    ThisUpdateBackwards {
        /// The existing list's `thisUpdate`.
        previous: UnixTime,
        /// The new one.
        this_update: UnixTime,
    },
    /// The existing CRL has no CRL number, or one too large to increment here.
    #[error("existing CRL number is {0}; it cannot be raised (missing or above 2^128)")]
    CrlNumber(String),
    /// The CRL built does not verify (a bug or a broken key); nothing was written.
    #[error("the CRL just built does not verify; nothing was written")]
    SelfCheck(#[source] CrlError),
    /// Another revocation holds the lock.
    #[error("{} exists: another `huren pki revoke-cert` is running on this CRL, or one crashed; remove the lock file if none is running", .path.display())]
    Locked {
        /// The lock file.
        path: PathBuf,
    },
    /// Reading or writing the CRL file failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn encode_err(field: &'static str) -> impl Fn(der::Error) -> CrlBuildError {
    move |source| CrlBuildError::Encode { field, source }
}

/// Issues a fresh CRL for `contents`, signed by `issuer_key`, the key of the CA certificate
/// `issuer_cert_der`. The result has been verified against that certificate.
///
/// ```
/// # use huren_crypto::alg::Algorithm;
/// # use huren_crypto::UnixTime;
/// # use huren_keys::layout::{init_region, InitRegion};
/// # use huren_keys::store::Protection;
/// # let dir = tempfile::tempdir().unwrap();
/// # let now = UnixTime(1_790_000_000);
/// # let region = init_region(&dir.path().join("zj"), &InitRegion { code: "330000".parse().unwrap(),
/// #     name: "浙江省".into(), alg: Algorithm::Es256, public_url: "https://issuer.zj.example".into(),
/// #     protection: Protection::Plaintext, now }).unwrap();
/// use huren_crypto::cert::Certificate;
/// use huren_crypto::crl::{RevocationReason, VerifiedCrl};
/// use huren_keys::crl::{issue_crl, CrlContents, CrlEntry};
///
/// let root_der = region.root_der()?;
/// let root_key = region.key(&region.config.root, None)?;
/// let contents = CrlContents {
///     number: 1,
///     this_update: now,
///     next_update: now.plus(30 * 86_400),
///     entries: vec![CrlEntry {
///         serial: vec![0x4f, 0x01],
///         revoked_at: now.minus(3_600),
///         reason: Some(RevocationReason::KeyCompromise),
///     }],
/// };
/// let der = issue_crl(&root_der, &root_key, &contents)?;
/// let crl = VerifiedCrl::verify(&der, &Certificate::from_der(&root_der)?)?;
/// assert_eq!(crl.revoked_at(&[0x4f, 0x01]), Some(now.minus(3_600)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn issue_crl(
    issuer_cert_der: &[u8],
    issuer_key: &PrivateKey,
    contents: &CrlContents,
) -> Result<Vec<u8>, CrlBuildError> {
    let revoked = contents
        .entries
        .iter()
        .map(|entry| revoked_cert(entry, contents.this_update))
        .collect::<Result<Vec<_>, _>>()?;
    let mut seen = std::collections::HashSet::with_capacity(revoked.len());
    for cert in &revoked {
        let serial = cert.serial_number.as_bytes();
        if !seen.insert(serial) {
            return Err(CrlBuildError::AlreadyRevoked {
                serial: hex::encode_upper(serial),
                since: crate::certificate::to_unix(cert.revocation_date),
            });
        }
    }
    sign_crl(
        issuer_cert_der,
        issuer_key,
        contents.number,
        contents.this_update,
        contents.next_update,
        revoked,
    )
}

/// Re-issues `existing_der` (a CRL of the same issuer, verified first) with `entry` added, the
/// CRL number raised by one, and the new `this_update` / `next_update`. Earlier entries are
/// kept exactly as they were.
pub fn extend_crl(
    existing_der: &[u8],
    issuer_cert_der: &[u8],
    issuer_key: &PrivateKey,
    entry: &CrlEntry,
    this_update: UnixTime,
    next_update: UnixTime,
) -> Result<Vec<u8>, CrlBuildError> {
    let issuer =
        ParsedCertificate::from_der(issuer_cert_der).map_err(CrlBuildError::IssuerCertificate)?;
    let existing = VerifiedCrl::verify(existing_der, &issuer).map_err(|source| {
        CrlBuildError::ExistingCrl {
            path: "<memory>".into(),
            source,
        }
    })?;
    if this_update < existing.this_update() {
        return Err(CrlBuildError::ThisUpdateBackwards {
            previous: existing.this_update(),
            this_update,
        });
    }
    if let Some(since) = existing.revoked_at(&entry.serial) {
        return Err(CrlBuildError::AlreadyRevoked {
            serial: hex::encode_upper(&entry.serial),
            since,
        });
    }
    let number = next_crl_number(existing.crl_number())?;
    // invariant: `VerifiedCrl::verify` just decoded these very bytes as a CertificateList.
    let list =
        CertificateList::from_der(existing_der).map_err(|source| CrlBuildError::ExistingCrl {
            path: "<memory>".into(),
            source: CrlError::Malformed {
                field: "CertificateList",
                source,
            },
        })?;
    let mut revoked = list.tbs_cert_list.revoked_certificates.unwrap_or_default();
    revoked.push(revoked_cert(entry, this_update)?);
    sign_crl(
        issuer_cert_der,
        issuer_key,
        number,
        this_update,
        next_update,
        revoked,
    )
}

/// What [`revoke`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoked {
    /// The CRL now on disk (DER).
    pub der: Vec<u8>,
    /// Its CRL number.
    pub number: u128,
    /// How many serials it lists.
    pub entries: usize,
    /// Whether the file was created (rather than extended).
    pub created: bool,
}

/// Adds `entry` to the CRL file at `path` (creating it with CRL number 1 if absent), signed by
/// `issuer_key`; the file is replaced atomically (mode 0644: a CRL is public). A lock file
/// `<path>.lock` is held throughout, so concurrent revocations cannot lose each other's entries.
pub fn revoke(
    path: &Path,
    issuer_cert_der: &[u8],
    issuer_key: &PrivateKey,
    entry: &CrlEntry,
    this_update: UnixTime,
    next_update: UnixTime,
) -> Result<Revoked, CrlBuildError> {
    let _lock = LockFile::acquire(path)?;
    let existing = match read_crl(path) {
        Ok(der) => Some(der),
        Err(StoreError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e.into()),
    };
    let created = existing.is_none();
    let der = match existing {
        Some(existing) => extend_crl(
            &existing,
            issuer_cert_der,
            issuer_key,
            entry,
            this_update,
            next_update,
        )
        .map_err(|e| match e {
            CrlBuildError::ExistingCrl { source, .. } => CrlBuildError::ExistingCrl {
                path: path.display().to_string(),
                source,
            },
            other => other,
        })?,
        None => issue_crl(
            issuer_cert_der,
            issuer_key,
            &CrlContents {
                number: 1,
                this_update,
                next_update,
                entries: vec![entry.clone()],
            },
        )?,
    };
    let issuer =
        ParsedCertificate::from_der(issuer_cert_der).map_err(CrlBuildError::IssuerCertificate)?;
    let crl = VerifiedCrl::verify(&der, &issuer).map_err(CrlBuildError::SelfCheck)?;
    let (number, entries) = (
        crl_number_value(crl.crl_number()).unwrap_or_default(),
        crl.len(),
    );
    store::write_atomic(path, &der, 0o644, true)?;
    Ok(Revoked {
        der,
        number,
        entries,
        created,
    })
}

/// Reads a CRL file (DER), bounded to [`MAX_CRL_BYTES`].
pub fn read_crl(path: &Path) -> Result<Vec<u8>, StoreError> {
    store::read_bounded(path, MAX_CRL_BYTES)
}

/// `<path>.lock`, created exclusively and removed on drop.
struct LockFile(PathBuf);

impl LockFile {
    fn acquire(path: &Path) -> Result<LockFile, CrlBuildError> {
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(".lock");
        let lock = path.with_file_name(name);
        match OpenOptions::new().write(true).create_new(true).open(&lock) {
            Ok(_) => Ok(LockFile(lock)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                Err(CrlBuildError::Locked { path: lock })
            }
            Err(source) => Err(StoreError::Io { path: lock, source }.into()),
        }
    }
}

impl Drop for LockFile {
    fn drop(&mut self) {
        // Nothing useful can be done if removal fails; the next run names the file to remove.
        let _ = fs::remove_file(&self.0);
    }
}

/// Signs a v2 CRL with the given entries and verifies the result.
fn sign_crl(
    issuer_cert_der: &[u8],
    issuer_key: &PrivateKey,
    number: u128,
    this_update: UnixTime,
    next_update: UnixTime,
    revoked: Vec<RevokedCert>,
) -> Result<Vec<u8>, CrlBuildError> {
    if next_update <= this_update {
        return Err(CrlBuildError::UpdateOrder {
            this_update,
            next_update,
        });
    }
    let parsed =
        ParsedCertificate::from_der(issuer_cert_der).map_err(CrlBuildError::IssuerCertificate)?;
    if !parsed.may_sign_crls() {
        return Err(CrlBuildError::NotACrlIssuer {
            subject: parsed.subject().to_owned(),
        });
    }
    if issuer_key.public_key_spki_der()? != parsed.public_key().spki_der() {
        return Err(CrlBuildError::KeyMismatch {
            subject: parsed.subject().to_owned(),
        });
    }
    let issuer = Certificate::from_der(issuer_cert_der).map_err(encode_err("issuer"))?;
    let aki = AuthorityKeyIdentifier {
        key_identifier: Some(
            OctetString::new(authority_key_id(&issuer))
                .map_err(encode_err("authorityKeyIdentifier"))?,
        ),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    };
    let number_der = Uint::new(&number.to_be_bytes())
        .and_then(|n| n.to_der())
        .map_err(encode_err("cRLNumber"))?;
    let extensions = vec![
        extension(
            AUTHORITY_KEY_IDENTIFIER,
            aki.to_der().map_err(encode_err("authorityKeyIdentifier"))?,
        )?,
        extension(CRL_NUMBER, number_der)?,
    ];
    let tbs = TbsCertList {
        version: Version::V2,
        signature: issuer_key.x509_signature_algorithm(),
        issuer: issuer.tbs_certificate.subject,
        this_update: to_time(this_update)?,
        next_update: Some(to_time(next_update)?),
        // RFC 5280 §5.1.2.6: when there are no revoked certificates the field is absent.
        revoked_certificates: (!revoked.is_empty()).then_some(revoked),
        crl_extensions: Some(extensions),
    };
    let tbs_der = tbs.to_der().map_err(encode_err("tbsCertList"))?;
    let signature = issuer_key.sign_x509(&tbs_der)?;
    let list = CertificateList {
        tbs_cert_list: tbs,
        signature_algorithm: issuer_key.x509_signature_algorithm(),
        signature: BitString::from_bytes(&signature).map_err(encode_err("signatureValue"))?,
    };
    let der = list.to_der().map_err(encode_err("CertificateList"))?;
    VerifiedCrl::verify(&der, &parsed).map_err(CrlBuildError::SelfCheck)?;
    Ok(der)
}

fn revoked_cert(entry: &CrlEntry, this_update: UnixTime) -> Result<RevokedCert, CrlBuildError> {
    if entry.revoked_at > this_update {
        return Err(CrlBuildError::RevocationInFuture {
            serial: hex::encode_upper(&entry.serial),
            revoked_at: entry.revoked_at,
            this_update,
        });
    }
    let extensions = match entry.reason {
        Some(reason) => Some(vec![extension(
            REASON_CODE,
            crl_reason(reason)
                .to_der()
                .map_err(encode_err("reasonCode"))?,
        )?]),
        None => None,
    };
    Ok(RevokedCert {
        serial_number: serial_number(&entry.serial)?,
        revocation_date: to_time(entry.revoked_at)?,
        crl_entry_extensions: extensions,
    })
}

/// The serial as the certificate encodes it: the content octets are wrapped in an INTEGER
/// header and decoded, so the CRL entry carries the very same INTEGER (a negative serial from
/// a non-conforming CA stays negative rather than being read as a large positive number).
fn serial_number(content: &[u8]) -> Result<SerialNumber, CrlBuildError> {
    let invalid = |source| CrlBuildError::Serial {
        serial: hex::encode_upper(content),
        source,
    };
    let length = der::Length::try_from(content.len()).map_err(invalid)?;
    let mut encoded = der::Header::new(der::Tag::Integer, length)
        .and_then(|h| h.to_der())
        .map_err(invalid)?;
    encoded.extend_from_slice(content);
    SerialNumber::from_der(&encoded).map_err(invalid)
}

fn crl_reason(reason: RevocationReason) -> CrlReason {
    match reason {
        RevocationReason::Unspecified => CrlReason::Unspecified,
        RevocationReason::KeyCompromise => CrlReason::KeyCompromise,
        RevocationReason::CaCompromise => CrlReason::CaCompromise,
        RevocationReason::AffiliationChanged => CrlReason::AffiliationChanged,
        RevocationReason::Superseded => CrlReason::Superseded,
        RevocationReason::CessationOfOperation => CrlReason::CessationOfOperation,
        RevocationReason::CertificateHold => CrlReason::CertificateHold,
        RevocationReason::PrivilegeWithdrawn => CrlReason::PrivilegeWithdrawn,
        RevocationReason::AaCompromise => CrlReason::AaCompromise,
    }
}

/// The issuer's subjectKeyIdentifier if it has one, else the RFC 7093 identifier of its key
/// (the same choice `certificate::issue` makes for certificates it issues).
fn authority_key_id(issuer: &Certificate) -> Vec<u8> {
    let tbs = &issuer.tbs_certificate;
    tbs.extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == SUBJECT_KEY_IDENTIFIER)
        .and_then(|e| OctetString::from_der(e.extn_value.as_bytes()).ok())
        .map(|o| o.as_bytes().to_vec())
        .unwrap_or_else(|| key_identifier(&tbs.subject_public_key_info))
}

fn extension(id: ObjectIdentifier, value: Vec<u8>) -> Result<Extension, CrlBuildError> {
    Ok(Extension {
        extn_id: id,
        critical: false,
        extn_value: OctetString::new(value).map_err(encode_err("extension"))?,
    })
}

/// The CRL number as a value, if it fits `u128`.
fn crl_number_value(number: Option<&[u8]>) -> Option<u128> {
    let bytes = number?;
    if bytes.len() > 16 {
        return None;
    }
    Some(bytes.iter().fold(0u128, |n, b| (n << 8) | u128::from(*b)))
}

fn next_crl_number(number: Option<&[u8]>) -> Result<u128, CrlBuildError> {
    let shown = || number.map_or_else(|| "absent".to_owned(), hex::encode_upper);
    crl_number_value(number)
        .and_then(|n| n.checked_add(1))
        .ok_or_else(|| CrlBuildError::CrlNumber(shown()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certificate::{issue, Profile, Subject, LEAF_VALIDITY_DAYS, ROOT_VALIDITY_DAYS};
    use huren_crypto::alg::Algorithm;
    use huren_crypto::oids::Purpose;

    const NOW: UnixTime = UnixTime(1_790_000_000);

    fn root(algorithm: Algorithm) -> (PrivateKey, Vec<u8>) {
        let key = PrivateKey::generate(algorithm).unwrap();
        let der = issue(
            &Subject {
                organization: "浙江省人民政府".into(),
                common_name: "浙江省 根".into(),
            },
            &key.public_key_spki_der().unwrap(),
            Profile::RootCa,
            NOW.minus(86_400),
            NOW.plus(ROOT_VALIDITY_DAYS * 86_400),
            None,
            &key,
            &mut rand_core::OsRng,
        )
        .unwrap();
        (key, der)
    }

    fn entry(serial: &[u8], revoked_at: UnixTime) -> CrlEntry {
        CrlEntry {
            serial: serial.to_vec(),
            revoked_at,
            reason: None,
        }
    }

    #[test]
    fn crl_of_every_algorithm_verifies_and_reports_its_entries() {
        for algorithm in Algorithm::ALL {
            let (key, root_der) = root(algorithm);
            let contents = CrlContents {
                number: 7,
                this_update: NOW,
                next_update: NOW.plus(86_400),
                entries: vec![
                    CrlEntry {
                        reason: Some(RevocationReason::KeyCompromise),
                        ..entry(&[0x00, 0x80, 0x01], NOW.minus(100))
                    },
                    entry(&[0x05], NOW),
                ],
            };
            let der = issue_crl(&root_der, &key, &contents).unwrap();
            let root = ParsedCertificate::from_der(&root_der).unwrap();
            let crl = VerifiedCrl::verify(&der, &root).unwrap();
            assert_eq!(crl.len(), 2, "{algorithm}");
            assert_eq!(crl.crl_number(), Some(&[7u8][..]));
            assert_eq!(crl.this_update(), NOW);
            assert_eq!(crl.next_update(), Some(NOW.plus(86_400)));
            assert_eq!(crl.issuer_name_der(), root.subject_name_der());
            assert_eq!(crl.revoked_at(&[0x00, 0x80, 0x01]), Some(NOW.minus(100)));
            assert_eq!(
                crl.entry(&[0x80, 0x01]).unwrap().reason,
                Some(RevocationReason::KeyCompromise)
            );
            assert_eq!(crl.revoked_at(&[0x05]), Some(NOW));
            assert_eq!(crl.revoked_at(&[0x06]), None);
        }
    }

    #[test]
    fn an_empty_crl_is_valid_and_lists_nothing() {
        let (key, root_der) = root(Algorithm::Es256);
        let der = issue_crl(
            &root_der,
            &key,
            &CrlContents {
                number: 1,
                this_update: NOW,
                next_update: NOW.plus(60),
                entries: vec![],
            },
        )
        .unwrap();
        let crl =
            VerifiedCrl::verify(&der, &ParsedCertificate::from_der(&root_der).unwrap()).unwrap();
        assert!(crl.is_empty());
    }

    #[test]
    fn extending_keeps_old_entries_and_raises_the_number() {
        let (key, root_der) = root(Algorithm::Es256);
        let root = ParsedCertificate::from_der(&root_der).unwrap();
        let first = issue_crl(
            &root_der,
            &key,
            &CrlContents {
                number: 1,
                this_update: NOW,
                next_update: NOW.plus(86_400),
                entries: vec![CrlEntry {
                    reason: Some(RevocationReason::Superseded),
                    ..entry(&[0x11], NOW.minus(5))
                }],
            },
        )
        .unwrap();
        let second = extend_crl(
            &first,
            &root_der,
            &key,
            &entry(&[0x22], NOW.plus(10)),
            NOW.plus(20),
            NOW.plus(86_400),
        )
        .unwrap();
        let crl = VerifiedCrl::verify(&second, &root).unwrap();
        assert_eq!(crl.crl_number(), Some(&[2u8][..]));
        assert_eq!(crl.this_update(), NOW.plus(20));
        assert_eq!(crl.revoked_at(&[0x11]), Some(NOW.minus(5)));
        assert_eq!(
            crl.entry(&[0x11]).unwrap().reason,
            Some(RevocationReason::Superseded)
        );
        assert_eq!(crl.revoked_at(&[0x22]), Some(NOW.plus(10)));

        let again = extend_crl(
            &second,
            &root_der,
            &key,
            &entry(&[0x00, 0x11], NOW.plus(30)),
            NOW.plus(30),
            NOW.plus(86_400),
        );
        assert!(
            matches!(again, Err(CrlBuildError::AlreadyRevoked { since, .. }) if since == NOW.minus(5)),
            "{again:?}"
        );
        let backwards = extend_crl(
            &second,
            &root_der,
            &key,
            &entry(&[0x33], NOW),
            NOW,
            NOW.plus(86_400),
        );
        assert!(
            matches!(backwards, Err(CrlBuildError::ThisUpdateBackwards { .. })),
            "{backwards:?}"
        );
    }

    #[test]
    fn a_tampered_or_foreign_crl_is_not_extended() {
        let (key, root_der) = root(Algorithm::Es256);
        let (other_key, other_root) = root(Algorithm::Es256);
        let foreign = issue_crl(
            &other_root,
            &other_key,
            &CrlContents {
                number: 1,
                this_update: NOW,
                next_update: NOW.plus(60),
                entries: vec![entry(&[1], NOW)],
            },
        )
        .unwrap();
        let err = extend_crl(
            &foreign,
            &root_der,
            &key,
            &entry(&[2], NOW),
            NOW,
            NOW.plus(60),
        )
        .unwrap_err();
        assert!(matches!(err, CrlBuildError::ExistingCrl { .. }), "{err:?}");

        let mut tampered = issue_crl(
            &root_der,
            &key,
            &CrlContents {
                number: 1,
                this_update: NOW,
                next_update: NOW.plus(60),
                entries: vec![entry(&[1], NOW)],
            },
        )
        .unwrap();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        let err = extend_crl(
            &tampered,
            &root_der,
            &key,
            &entry(&[2], NOW),
            NOW,
            NOW.plus(60),
        )
        .unwrap_err();
        assert!(matches!(err, CrlBuildError::ExistingCrl { .. }), "{err:?}");
    }

    #[test]
    fn bad_requests_are_refused_with_the_field_named() {
        let (key, root_der) = root(Algorithm::Es256);
        let contents = |entries, next_update| CrlContents {
            number: 1,
            this_update: NOW,
            next_update,
            entries,
        };
        let err = issue_crl(&root_der, &key, &contents(vec![], NOW)).unwrap_err();
        assert!(matches!(err, CrlBuildError::UpdateOrder { .. }), "{err:?}");
        let err = issue_crl(
            &root_der,
            &key,
            &contents(vec![entry(&[1], NOW.plus(1))], NOW.plus(60)),
        )
        .unwrap_err();
        assert!(
            matches!(err, CrlBuildError::RevocationInFuture { .. }),
            "{err:?}"
        );
        for bad_serial in [&[][..], &[0x00, 0x01][..], &[0x01; 22][..]] {
            let err = issue_crl(
                &root_der,
                &key,
                &contents(vec![entry(bad_serial, NOW)], NOW.plus(60)),
            )
            .unwrap_err();
            assert!(matches!(err, CrlBuildError::Serial { .. }), "{err:?}");
        }
        let err = issue_crl(
            &root_der,
            &key,
            &contents(vec![entry(&[1], NOW), entry(&[1], NOW)], NOW.plus(60)),
        )
        .unwrap_err();
        assert!(
            matches!(err, CrlBuildError::AlreadyRevoked { .. }),
            "{err:?}"
        );

        // The key must be the certificate's, and the certificate a CA.
        let (other_key, _) = root(Algorithm::Es256);
        let err = issue_crl(&root_der, &other_key, &contents(vec![], NOW.plus(60))).unwrap_err();
        assert!(matches!(err, CrlBuildError::KeyMismatch { .. }), "{err:?}");
        let leaf_key = PrivateKey::generate(Algorithm::Es256).unwrap();
        let leaf = issue(
            &Subject {
                organization: "o".into(),
                common_name: "leaf".into(),
            },
            &leaf_key.public_key_spki_der().unwrap(),
            Profile::Leaf(Purpose::SealHolder),
            NOW,
            NOW.plus(LEAF_VALIDITY_DAYS * 86_400),
            Some(&root_der),
            &key,
            &mut rand_core::OsRng,
        )
        .unwrap();
        let err = issue_crl(&leaf, &leaf_key, &contents(vec![], NOW.plus(60))).unwrap_err();
        assert!(
            matches!(err, CrlBuildError::NotACrlIssuer { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn a_negative_serial_is_listed_as_the_same_integer() {
        let (key, root_der) = root(Algorithm::Es256);
        let der = issue_crl(
            &root_der,
            &key,
            &CrlContents {
                number: 1,
                this_update: NOW,
                next_update: NOW.plus(60),
                entries: vec![entry(&[0xff, 0x01], NOW)],
            },
        )
        .unwrap();
        let list = CertificateList::from_der(&der).unwrap();
        let revoked = list.tbs_cert_list.revoked_certificates.unwrap();
        assert_eq!(
            revoked[0].serial_number.to_der().unwrap(),
            [0x02, 0x02, 0xff, 0x01]
        );
    }

    #[test]
    fn revoke_creates_then_extends_the_file_under_a_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crl.der");
        let (key, root_der) = root(Algorithm::Sm2Sm3);
        let first = revoke(
            &path,
            &root_der,
            &key,
            &entry(&[0x41], NOW),
            NOW,
            NOW.plus(86_400),
        )
        .unwrap();
        assert!(first.created);
        assert_eq!((first.number, first.entries), (1, 1));
        let second = revoke(
            &path,
            &root_der,
            &key,
            &entry(&[0x42], NOW.plus(1)),
            NOW.plus(1),
            NOW.plus(86_400),
        )
        .unwrap();
        assert!(!second.created);
        assert_eq!((second.number, second.entries), (2, 2));
        assert_eq!(read_crl(&path).unwrap(), second.der);
        assert!(!dir.path().join("crl.der.lock").exists());

        fs::write(dir.path().join("crl.der.lock"), b"").unwrap();
        let err = revoke(
            &path,
            &root_der,
            &key,
            &entry(&[0x43], NOW.plus(2)),
            NOW.plus(2),
            NOW.plus(86_400),
        )
        .unwrap_err();
        assert!(matches!(err, CrlBuildError::Locked { .. }), "{err:?}");
        assert!(err.to_string().contains("crl.der.lock"), "{err}");
        assert_eq!(read_crl(&path).unwrap(), second.der, "nothing changed");
    }
}
