//! X.509 certificate revocation lists (RFC 5280 §5), verified against the CA that issued them.
//!
//! Owns parsing a DER `CertificateList`, checking it was signed by a given issuer certificate
//! over the exact TBS bytes received, and answering "since when is this serial revoked?" in
//! O(log n). Electronic seals need that answer at the document's signing time (SPEC §8): a
//! holder certificate revoked *before* signing makes the signature invalid, one revoked
//! *after* does not.
//!
//! It does not fetch CRLs, read the clock or decide freshness: [`VerifiedCrl::this_update`]
//! and [`VerifiedCrl::next_update`] are facts for the caller, who knows what time it is and
//! how stale a list it accepts. It does not build CRLs either (that is `huren-keys`).
//!
//! Decisions, each failing closed:
//! - **v2 only.** RFC 5280 §5.1.2.1 requires v2 whenever extensions are present, and a
//!   conforming CA must include the authority key identifier and CRL number extensions
//!   (§5.2.1, §5.2.3), so every conforming CRL is v2. A v1 list cannot say which of two lists
//!   is newer except by its dates, and cannot mark an extension critical; nothing huren issues
//!   or accepts needs it.
//! - **Complete CRLs only.** A delta CRL (deltaCRLIndicator, §5.2.4) lists only changes since a
//!   base CRL; read as complete, it would silently un-revoke everything else. It is refused
//!   whatever its criticality flag says. Other critical extensions huren does not process
//!   (issuingDistributionPoint, which scopes a list; certificateIssuer on an entry, which makes
//!   an indirect CRL) are refused as §5.2 and §5.3 demand.
//! - **Earliest time wins.** An entry's revocation time is its revocationDate, or its
//!   invalidityDate (§5.3.2: when the key is known or suspected to have been compromised) if
//!   that is earlier. A serial listed twice is revoked from the earlier of the two.
//! - **`removeFromCRL` is refused.** It only has meaning in a delta CRL (§5.3.1).

use std::fmt;
use std::str::FromStr;

use der::asn1::{AnyRef, BitStringRef, GeneralizedTime, ObjectIdentifier, Uint};
use der::{Decode, Encode, Reader, SliceReader};
use spki::AlgorithmIdentifierRef;
use x509_cert::crl::{RevokedCert, TbsCertList};
use x509_cert::ext::pkix::CrlReason;
use x509_cert::ext::Extension;
use x509_cert::Version;

use crate::cert::Certificate;
use crate::key::SignatureError;
use crate::time::UnixTime;

/// Largest CRL accepted, in bytes. A province revoking a few hundred thousand holder
/// certificates fits with room to spare; anything larger is refused before decoding.
pub const MAX_CRL_BYTES: usize = 8 * 1024 * 1024;

/// Most entries accepted in one CRL. The smallest entry (serial, UTCTime) takes about 20
/// bytes, so [`MAX_CRL_BYTES`] alone caps a list near 400,000 entries; this bound keeps the
/// index's size independent of how compact a hostile encoding manages to be.
pub const MAX_CRL_ENTRIES: usize = 1_000_000;

/// `cRLNumber` (RFC 5280 §5.2.3).
const CRL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.20");
/// `reasonCode` (RFC 5280 §5.3.1).
const REASON_CODE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.21");
/// `invalidityDate` (RFC 5280 §5.3.2).
const INVALIDITY_DATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.24");
/// `deltaCRLIndicator` (RFC 5280 §5.2.4).
const DELTA_CRL_INDICATOR: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.27");
/// `authorityKeyIdentifier` (RFC 5280 §5.2.1). Understood in the sense that ignoring it is
/// safe: the signature check decides which key signed.
const AUTHORITY_KEY_IDENTIFIER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");

/// Largest CRL number kept (RFC 5280 §5.2.3: at most 20 octets).
const MAX_CRL_NUMBER_OCTETS: usize = 20;

/// `CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue }`,
/// with the TBS part kept raw so the signature is checked over exactly what was received.
#[derive(der::Sequence)]
struct RawCertificateList<'a> {
    tbs: AnyRef<'a>,
    signature_algorithm: AlgorithmIdentifierRef<'a>,
    signature: BitStringRef<'a>,
}

/// Why a certificate was revoked: `CRLReason` (RFC 5280 §5.3.1) without `removeFromCRL`,
/// which only delta CRLs use.
///
/// ```text
/// CRLReason ::= ENUMERATED {
///      unspecified             (0),
///      keyCompromise           (1),
///      cACompromise            (2),
///      affiliationChanged      (3),
///      superseded              (4),
///      cessationOfOperation    (5),
///      certificateHold         (6),
///           -- value 7 is not used
///      removeFromCRL           (8),
///      privilegeWithdrawn      (9),
///      aACompromise           (10) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RevocationReason {
    /// `unspecified` (0).
    Unspecified,
    /// `keyCompromise` (1): the private key is known or suspected to be compromised.
    KeyCompromise,
    /// `cACompromise` (2).
    CaCompromise,
    /// `affiliationChanged` (3): e.g. the organisation changed its name or was dissolved.
    AffiliationChanged,
    /// `superseded` (4): replaced by a new certificate.
    Superseded,
    /// `cessationOfOperation` (5).
    CessationOfOperation,
    /// `certificateHold` (6): suspended; the CA may lift the hold by leaving the entry out of
    /// a later CRL.
    CertificateHold,
    /// `privilegeWithdrawn` (9).
    PrivilegeWithdrawn,
    /// `aACompromise` (10).
    AaCompromise,
}

impl RevocationReason {
    /// Every reason, in code order.
    pub const ALL: [RevocationReason; 9] = [
        RevocationReason::Unspecified,
        RevocationReason::KeyCompromise,
        RevocationReason::CaCompromise,
        RevocationReason::AffiliationChanged,
        RevocationReason::Superseded,
        RevocationReason::CessationOfOperation,
        RevocationReason::CertificateHold,
        RevocationReason::PrivilegeWithdrawn,
        RevocationReason::AaCompromise,
    ];

    /// The ENUMERATED value.
    pub fn code(self) -> u8 {
        match self {
            RevocationReason::Unspecified => 0,
            RevocationReason::KeyCompromise => 1,
            RevocationReason::CaCompromise => 2,
            RevocationReason::AffiliationChanged => 3,
            RevocationReason::Superseded => 4,
            RevocationReason::CessationOfOperation => 5,
            RevocationReason::CertificateHold => 6,
            RevocationReason::PrivilegeWithdrawn => 9,
            RevocationReason::AaCompromise => 10,
        }
    }

    /// The RFC 5280 name, e.g. `keyCompromise` (also what [`FromStr`] reads).
    pub fn name(self) -> &'static str {
        match self {
            RevocationReason::Unspecified => "unspecified",
            RevocationReason::KeyCompromise => "keyCompromise",
            RevocationReason::CaCompromise => "cACompromise",
            RevocationReason::AffiliationChanged => "affiliationChanged",
            RevocationReason::Superseded => "superseded",
            RevocationReason::CessationOfOperation => "cessationOfOperation",
            RevocationReason::CertificateHold => "certificateHold",
            RevocationReason::PrivilegeWithdrawn => "privilegeWithdrawn",
            RevocationReason::AaCompromise => "aACompromise",
        }
    }

    /// The reason for an ENUMERATED value; `None` for 7 (unused), 8 (`removeFromCRL`) and
    /// anything above 10.
    pub fn from_code(code: u8) -> Option<RevocationReason> {
        RevocationReason::ALL.into_iter().find(|r| r.code() == code)
    }
}

impl fmt::Display for RevocationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A reason name that is not one of [`RevocationReason::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown revocation reason {0:?} (expected one of: unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, cessationOfOperation, certificateHold, privilegeWithdrawn, aACompromise)")]
pub struct UnknownReason(pub String);

impl FromStr for RevocationReason {
    type Err = UnknownReason;

    /// Reads the RFC 5280 name; case is ignored (`keycompromise` works) so operators need not
    /// remember the odd capitals of `cACompromise`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RevocationReason::ALL
            .into_iter()
            .find(|r| r.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownReason(s.to_owned()))
    }
}

/// One revoked certificate as a verified CRL lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevokedEntry {
    /// `revocationDate`: when the CA processed the revocation.
    pub revocation_date: UnixTime,
    /// `invalidityDate` entry extension: when the key is known or suspected to have been
    /// compromised, or the certificate otherwise became invalid.
    pub invalidity_date: Option<UnixTime>,
    /// `reasonCode` entry extension.
    pub reason: Option<RevocationReason>,
}

impl RevokedEntry {
    /// From when the certificate must be treated as revoked: the earlier of
    /// [`revocation_date`](Self::revocation_date) and
    /// [`invalidity_date`](Self::invalidity_date). Signatures made at or after this instant
    /// are not to be trusted.
    pub fn revoked_at(&self) -> UnixTime {
        self.invalidity_date
            .map_or(self.revocation_date, |d| d.min(self.revocation_date))
    }
}

/// Why a CRL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrlError {
    /// Larger than [`MAX_CRL_BYTES`].
    #[error("CRL of {size} bytes is larger than the {MAX_CRL_BYTES}-byte limit")]
    TooLarge {
        /// Its size.
        size: usize,
    },
    /// A field does not decode as RFC 5280 DER.
    #[error("CRL field {field} is malformed: {source}")]
    Malformed {
        /// The ASN.1 field, as RFC 5280 names it.
        field: &'static str,
        /// The decoder's complaint.
        source: der::Error,
    },
    /// A revoked-certificate entry does not decode (its serial, when it could be read).
    #[error("CRL entry {serial} field {field} is malformed: {source}")]
    MalformedEntry {
        /// The entry's serial number, upper-case hex.
        serial: String,
        /// The ASN.1 field.
        field: &'static str,
        /// The decoder's complaint.
        source: der::Error,
    },
    /// Not a v2 CRL (see the module documentation for why v1 is refused).
    #[error("CRL version is {version:?}; only v2 CRLs are accepted")]
    NotV2 {
        /// The version found.
        version: Version,
    },
    /// More entries than [`MAX_CRL_ENTRIES`].
    #[error("CRL lists {count} certificates, more than the {MAX_CRL_ENTRIES} accepted")]
    TooManyEntries {
        /// How many it lists.
        count: usize,
    },
    /// The `signature` field inside tbsCertList differs from the outer `signatureAlgorithm`
    /// (RFC 5280 §5.1.1.2 requires them to be identical).
    #[error("CRL signature algorithm {outer} does not match tbsCertList.signature {inner}")]
    AlgorithmMismatch {
        /// Outer `signatureAlgorithm` OID.
        outer: String,
        /// `tbsCertList.signature` OID.
        inner: String,
    },
    /// `nextUpdate` is not after `thisUpdate`.
    #[error("CRL nextUpdate {next_update} is not after thisUpdate {this_update}")]
    UpdateOrder {
        /// `thisUpdate`.
        this_update: UnixTime,
        /// `nextUpdate`.
        next_update: UnixTime,
    },
    /// A delta CRL, which lists only changes and cannot stand alone.
    #[error("CRL is a delta CRL (deltaCRLIndicator); only complete CRLs are accepted")]
    DeltaCrl,
    /// A critical CRL extension huren does not process (RFC 5280 §5.2: must not use the CRL).
    #[error("CRL has critical extension {oid} that huren does not process")]
    UnknownCriticalExtension {
        /// Its OID, dotted.
        oid: String,
    },
    /// A critical entry extension huren does not process (RFC 5280 §5.3).
    #[error("CRL entry {serial} has critical extension {oid} that huren does not process")]
    UnknownCriticalEntryExtension {
        /// The entry's serial, upper-case hex.
        serial: String,
        /// Its OID, dotted.
        oid: String,
    },
    /// An extension appears twice (RFC 5280 §4.2: at most one instance of each).
    #[error("CRL {place} repeats extension {oid}")]
    DuplicateExtension {
        /// `crlExtensions`, or `entry <serial>`.
        place: String,
        /// Its OID, dotted.
        oid: String,
    },
    /// An entry with reason `removeFromCRL`, which only a delta CRL may carry.
    #[error("CRL entry {serial} has reason removeFromCRL, which only delta CRLs may use")]
    RemoveFromCrl {
        /// The entry's serial, upper-case hex.
        serial: String,
    },
    /// The CRL's issuer is not the certificate's subject.
    #[error("CRL issuer {crl_issuer:?} is not the subject {certificate_subject:?} of the issuer certificate")]
    IssuerMismatch {
        /// Issuer named in the CRL.
        crl_issuer: String,
        /// Subject of the certificate offered as its issuer.
        certificate_subject: String,
    },
    /// The issuer certificate is not a CA allowed to sign CRLs.
    #[error("{subject:?} is not a CA allowed to sign CRLs (needs basicConstraints CA:true and keyUsage cRLSign)")]
    NotACrlIssuer {
        /// The would-be issuer.
        subject: String,
    },
    /// The signature does not verify under the issuer's key.
    #[error("CRL signature by {issuer:?} does not verify")]
    BadSignature {
        /// The issuer certificate's subject.
        issuer: String,
        /// Why.
        source: SignatureError,
    },
}

/// One index row: the normalised serial and what the CRL says about it.
struct Entry {
    serial: Box<[u8]>,
    revoked: RevokedEntry,
}

/// A CRL whose signature by its issuer has been checked, indexed by serial number.
///
/// Only [`VerifiedCrl::verify`] makes one.
pub struct VerifiedCrl {
    issuer_name_der: Vec<u8>,
    issuer: String,
    this_update: UnixTime,
    next_update: Option<UnixTime>,
    crl_number: Option<Vec<u8>>,
    /// Sorted by normalised serial, one row per serial.
    entries: Vec<Entry>,
}

impl fmt::Debug for VerifiedCrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the entries: a CRL may list hundreds of thousands.
        f.debug_struct("VerifiedCrl")
            .field("issuer", &self.issuer)
            .field("this_update", &self.this_update)
            .field("next_update", &self.next_update)
            .field("entries", &self.entries.len())
            .finish()
    }
}

impl VerifiedCrl {
    /// Parses a DER CRL (at most [`MAX_CRL_BYTES`]) and verifies it was issued by `issuer`:
    /// v2, complete (not delta), no unprocessed critical extension, issuer name equal to the
    /// certificate's subject, the certificate a CA allowed to sign CRLs, and the signature
    /// valid over the exact `tbsCertList` bytes received.
    ///
    /// It does not look at the clock: whether the list is fresh enough, and whether `issuer`
    /// was itself valid and trusted, are the caller's questions.
    ///
    /// ```
    /// # use huren_crypto::alg::Algorithm;
    /// # use huren_crypto::UnixTime;
    /// # use huren_keys::crl::{issue_crl, CrlContents, CrlEntry};
    /// # use huren_keys::layout::{init_region, InitRegion};
    /// # use huren_keys::store::Protection;
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let now = UnixTime(1_790_000_000);
    /// # let region = init_region(&dir.path().join("zj"), &InitRegion { code: "330000".parse().unwrap(),
    /// #     name: "浙江省".into(), alg: Algorithm::Es256, public_url: "https://issuer.zj.example".into(),
    /// #     protection: Protection::Plaintext, now }).unwrap();
    /// # let root_der = region.root_der().unwrap();
    /// # let key = region.key(&region.config.root, None).unwrap();
    /// # let contents = CrlContents { number: 1, this_update: now, next_update: now.plus(86_400),
    /// #     entries: vec![CrlEntry { serial: vec![0x00, 0x9f, 0x01], revoked_at: now.minus(60),
    /// #     reason: None }] };
    /// # let crl_der = issue_crl(&root_der, &key, &contents).unwrap();
    /// use huren_crypto::cert::Certificate;
    /// use huren_crypto::crl::VerifiedCrl;
    ///
    /// let root = Certificate::from_der(&root_der)?;
    /// let crl = VerifiedCrl::verify(&crl_der, &root)?;
    /// // The holder certificate with serial 0x009F01 was revoked a minute before `now`:
    /// let revoked_at = crl.revoked_at(&[0x00, 0x9f, 0x01]).unwrap();
    /// assert!(revoked_at < now, "a document signed at `now` is not to be trusted");
    /// assert_eq!(crl.revoked_at(&[0x9f, 0x01]), Some(revoked_at)); // 0x00 padding is ignored
    /// assert_eq!(crl.revoked_at(&[0x01]), None);
    ///
    /// assert!(VerifiedCrl::verify(b"\x30\x00", &root).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn verify(der: &[u8], issuer: &Certificate) -> Result<VerifiedCrl, CrlError> {
        if der.len() > MAX_CRL_BYTES {
            return Err(CrlError::TooLarge { size: der.len() });
        }
        let malformed = |field| move |source| CrlError::Malformed { field, source };
        let raw = RawCertificateList::from_der(der).map_err(malformed("CertificateList"))?;
        let tbs_der = exact_tbs_bytes(der, &raw)?;
        let tbs = TbsCertList::from_der(&tbs_der).map_err(malformed("tbsCertList"))?;
        if tbs.version != Version::V2 {
            return Err(CrlError::NotV2 {
                version: tbs.version,
            });
        }
        let inner_algorithm = tbs
            .signature
            .to_der()
            .map_err(malformed("tbsCertList.signature"))?;
        let outer_algorithm = raw
            .signature_algorithm
            .to_der()
            .map_err(malformed("signatureAlgorithm"))?;
        if inner_algorithm != outer_algorithm {
            return Err(CrlError::AlgorithmMismatch {
                outer: raw.signature_algorithm.oid.to_string(),
                inner: tbs.signature.oid.to_string(),
            });
        }
        let signature = raw
            .signature
            .as_bytes()
            .ok_or_else(|| CrlError::Malformed {
                field: "signatureValue",
                source: der::Tag::BitString.value_error(),
            })?;

        let this_update = to_unix(tbs.this_update);
        let next_update = tbs.next_update.map(to_unix);
        if let Some(next_update) = next_update {
            if next_update <= this_update {
                return Err(CrlError::UpdateOrder {
                    this_update,
                    next_update,
                });
            }
        }
        let crl_number = crl_extensions(tbs.crl_extensions.as_deref().unwrap_or_default())?;
        let revoked = tbs.revoked_certificates.unwrap_or_default();
        if revoked.len() > MAX_CRL_ENTRIES {
            return Err(CrlError::TooManyEntries {
                count: revoked.len(),
            });
        }
        let entries = index(&revoked)?;

        let issuer_name_der = tbs.issuer.to_der().map_err(malformed("issuer"))?;
        if issuer_name_der != issuer.subject_name_der() {
            return Err(CrlError::IssuerMismatch {
                crl_issuer: tbs.issuer.to_string(),
                certificate_subject: issuer.subject().to_owned(),
            });
        }
        if !issuer.may_sign_crls() {
            return Err(CrlError::NotACrlIssuer {
                subject: issuer.subject().to_owned(),
            });
        }
        let parameters = raw
            .signature_algorithm
            .parameters
            .map(|p| p.to_der())
            .transpose()
            .map_err(malformed("signatureAlgorithm.parameters"))?;
        issuer
            .public_key()
            .verify_x509(
                &raw.signature_algorithm.oid,
                parameters.as_deref(),
                &tbs_der,
                signature,
            )
            .map_err(|source| CrlError::BadSignature {
                issuer: issuer.subject().to_owned(),
                source,
            })?;

        Ok(VerifiedCrl {
            issuer_name_der,
            issuer: tbs.issuer.to_string(),
            this_update,
            next_update,
            crl_number,
            entries,
        })
    }

    /// DER of the CRL's issuer `Name` (equal to its issuer certificate's subject).
    pub fn issuer_name_der(&self) -> &[u8] {
        &self.issuer_name_der
    }

    /// The issuer name (RFC 4514 form), for reports.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// `thisUpdate`: when the list was issued.
    pub fn this_update(&self) -> UnixTime {
        self.this_update
    }

    /// `nextUpdate`: when the next list is due, if the CA said.
    pub fn next_update(&self) -> Option<UnixTime> {
        self.next_update
    }

    /// The `cRLNumber` extension as unsigned big-endian bytes without leading zeros (the list's
    /// sequence number: a larger number is a newer list), if present.
    pub fn crl_number(&self) -> Option<&[u8]> {
        self.crl_number.as_deref()
    }

    /// From when the certificate with serial number `serial` is revoked, or `None` if this
    /// list does not revoke it (see [`RevokedEntry::revoked_at`]).
    ///
    /// `serial` is the DER INTEGER content octets as the certificate carries them
    /// ([`Certificate::serial`]). Leading 0x00 octets are ignored on both sides, so the same
    /// serial written with or without sign padding matches. A negative serial (RFC 5280
    /// forbids them, some old CAs issued them) could therefore match the positive serial with
    /// the same octets; the error is towards "revoked", never towards "not revoked".
    pub fn revoked_at(&self, serial: &[u8]) -> Option<UnixTime> {
        self.entry(serial).map(|e| e.revoked_at())
    }

    /// Everything the list says about `serial` (see [`VerifiedCrl::revoked_at`] for how the
    /// serial is matched).
    pub fn entry(&self, serial: &[u8]) -> Option<RevokedEntry> {
        let wanted = normalise_serial(serial);
        self.entries
            .binary_search_by(|e| (*e.serial).cmp(wanted))
            .ok()
            .map(|i| self.entries[i].revoked)
    }

    /// How many distinct serial numbers the list revokes.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the list revokes nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The `tbsCertList` bytes exactly as they appear in `der`. The decoder re-encodes the
/// element it read; because DER has one encoding per value the two must be identical, and
/// this checks that they are rather than trusting it, so the signature is always verified over
/// the received bytes.
fn exact_tbs_bytes(der: &[u8], raw: &RawCertificateList<'_>) -> Result<Vec<u8>, CrlError> {
    let malformed = |source| CrlError::Malformed {
        field: "tbsCertList",
        source,
    };
    let reencoded = raw.tbs.to_der().map_err(malformed)?;
    let mut reader = SliceReader::new(der).map_err(malformed)?;
    der::Header::decode(&mut reader).map_err(malformed)?;
    let start = usize::try_from(reader.position()).map_err(malformed)?;
    let received = der.get(start..start.saturating_add(reencoded.len()));
    if received != Some(reencoded.as_slice()) {
        return Err(malformed(der::Tag::Sequence.non_canonical_error()));
    }
    Ok(reencoded)
}

/// Checks `crlExtensions` and returns the CRL number, if any.
fn crl_extensions(extensions: &[Extension]) -> Result<Option<Vec<u8>>, CrlError> {
    check_no_duplicates(extensions, || "crlExtensions".to_owned())?;
    let mut number = None;
    for extension in extensions {
        match extension.extn_id {
            // Refused even if (wrongly) marked non-critical: see the module documentation.
            DELTA_CRL_INDICATOR => return Err(CrlError::DeltaCrl),
            CRL_NUMBER => {
                let value = Uint::from_der(extension.extn_value.as_bytes()).map_err(|source| {
                    CrlError::Malformed {
                        field: "cRLNumber",
                        source,
                    }
                })?;
                if value.as_bytes().len() > MAX_CRL_NUMBER_OCTETS {
                    return Err(CrlError::Malformed {
                        field: "cRLNumber",
                        source: der::Tag::Integer.length_error(),
                    });
                }
                number = Some(value.as_bytes().to_vec());
            }
            AUTHORITY_KEY_IDENTIFIER => {}
            id if extension.critical => {
                return Err(CrlError::UnknownCriticalExtension {
                    oid: id.to_string(),
                })
            }
            _ => {}
        }
    }
    Ok(number)
}

/// Builds the sorted index, one row per serial (the earliest revocation wins).
fn index(revoked: &[RevokedCert]) -> Result<Vec<Entry>, CrlError> {
    let mut entries = Vec::with_capacity(revoked.len());
    for cert in revoked {
        let raw_serial = cert.serial_number.as_bytes();
        let serial_hex = || hex::encode_upper(raw_serial);
        let extensions = cert.crl_entry_extensions.as_deref().unwrap_or_default();
        check_no_duplicates(extensions, || format!("entry {}", serial_hex()))?;
        let mut reason = None;
        let mut invalidity_date = None;
        for extension in extensions {
            let value = extension.extn_value.as_bytes();
            let malformed = |field| {
                move |source| CrlError::MalformedEntry {
                    serial: serial_hex(),
                    field,
                    source,
                }
            };
            match extension.extn_id {
                REASON_CODE => {
                    let code = CrlReason::from_der(value).map_err(malformed("reasonCode"))?;
                    if code == CrlReason::RemoveFromCRL {
                        return Err(CrlError::RemoveFromCrl {
                            serial: serial_hex(),
                        });
                    }
                    reason = RevocationReason::from_code(code as u8);
                }
                INVALIDITY_DATE => {
                    let date =
                        GeneralizedTime::from_der(value).map_err(malformed("invalidityDate"))?;
                    invalidity_date = Some(seconds(date.to_unix_duration()));
                }
                id if extension.critical => {
                    return Err(CrlError::UnknownCriticalEntryExtension {
                        serial: serial_hex(),
                        oid: id.to_string(),
                    })
                }
                _ => {}
            }
        }
        entries.push(Entry {
            serial: normalise_serial(raw_serial).into(),
            revoked: RevokedEntry {
                revocation_date: to_unix(cert.revocation_date),
                invalidity_date,
                reason,
            },
        });
    }
    // Stable sort, then keep the earliest revocation of each serial.
    entries.sort_by(|a, b| {
        a.serial
            .cmp(&b.serial)
            .then(a.revoked.revoked_at().cmp(&b.revoked.revoked_at()))
    });
    entries.dedup_by(|later, earlier| later.serial == earlier.serial);
    Ok(entries)
}

fn check_no_duplicates(
    extensions: &[Extension],
    place: impl Fn() -> String,
) -> Result<(), CrlError> {
    // A set, not a pairwise scan: this runs before the signature is checked, and a hostile
    // 8 MiB list could carry hundreds of thousands of extensions in one entry.
    let mut seen = std::collections::HashSet::with_capacity(extensions.len());
    for extension in extensions {
        if !seen.insert(&extension.extn_id) {
            return Err(CrlError::DuplicateExtension {
                place: place(),
                oid: extension.extn_id.to_string(),
            });
        }
    }
    Ok(())
}

/// The serial without leading 0x00 octets, the form the index is keyed by.
fn normalise_serial(serial: &[u8]) -> &[u8] {
    let zeros = serial.iter().take_while(|b| **b == 0).count();
    &serial[zeros..]
}

fn to_unix(t: x509_cert::time::Time) -> UnixTime {
    seconds(t.to_unix_duration())
}

fn seconds(d: std::time::Duration) -> UnixTime {
    UnixTime(i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
    use der::asn1::{BitString, OctetString, UtcTime};
    use proptest::prelude::*;
    use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
    use x509_cert::crl::CertificateList;
    use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
    use x509_cert::name::Name;
    use x509_cert::serial_number::SerialNumber;
    use x509_cert::time::{Time, Validity};
    use x509_cert::TbsCertificate;

    use super::*;
    use crate::oids;

    const NOW: i64 = 1_790_000_000;

    /// A P-256 CA built directly on aws-lc-rs and x509-cert, so these tests control every
    /// field (huren-keys would be a second copy of this crate in a unit-test build).
    struct Ca {
        key: EcdsaKeyPair,
        cert: Certificate,
        name: Name,
    }

    fn algorithm() -> AlgorithmIdentifierOwned {
        AlgorithmIdentifierOwned {
            oid: oids::ECDSA_WITH_SHA256,
            parameters: None,
        }
    }

    fn time(seconds: i64) -> Time {
        let duration = Duration::from_secs(u64::try_from(seconds).unwrap());
        Time::UtcTime(UtcTime::from_unix_duration(duration).unwrap())
    }

    fn extension(oid: &str, critical: bool, value: Vec<u8>) -> Extension {
        Extension {
            extn_id: ObjectIdentifier::new_unwrap(oid),
            critical,
            extn_value: OctetString::new(value).unwrap(),
        }
    }

    fn sign(key: &EcdsaKeyPair, message: &[u8]) -> BitString {
        let signature = key.sign(&SystemRandom::new(), message).unwrap();
        BitString::from_bytes(signature.as_ref()).unwrap()
    }

    fn make_ca(subject: &str, ca: bool, usage: KeyUsage) -> Ca {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let key =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).unwrap();
        let spki = key.public_key().as_der().unwrap();
        let name: Name = subject.parse().unwrap();
        let constraints = BasicConstraints {
            ca,
            path_len_constraint: None,
        };
        let tbs = TbsCertificate {
            version: x509_cert::Version::V3,
            serial_number: SerialNumber::new(&[0x9f, 0x01]).unwrap(),
            signature: algorithm(),
            issuer: name.clone(),
            validity: Validity {
                not_before: time(NOW - 86_400),
                not_after: time(NOW + 365 * 86_400),
            },
            subject: name.clone(),
            subject_public_key_info: SubjectPublicKeyInfoOwned::from_der(spki.as_ref()).unwrap(),
            issuer_unique_id: None,
            subject_unique_id: None,
            extensions: Some(vec![
                extension("2.5.29.19", true, constraints.to_der().unwrap()),
                extension("2.5.29.15", true, usage.to_der().unwrap()),
            ]),
        };
        let signature = sign(&key, &tbs.to_der().unwrap());
        let der = x509_cert::Certificate {
            tbs_certificate: tbs,
            signature_algorithm: algorithm(),
            signature,
        }
        .to_der()
        .unwrap();
        Ca {
            key,
            cert: Certificate::from_der(&der).unwrap(),
            name,
        }
    }

    fn root() -> Ca {
        make_ca(
            "CN=Root,O=Zhejiang,C=CN",
            true,
            KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign),
        )
    }

    fn revoked(serial: &[u8], at: i64, extensions: Vec<Extension>) -> RevokedCert {
        let mut encoded = vec![0x02, u8::try_from(serial.len()).unwrap()];
        encoded.extend_from_slice(serial);
        RevokedCert {
            serial_number: SerialNumber::from_der(&encoded).unwrap(),
            revocation_date: time(at),
            crl_entry_extensions: (!extensions.is_empty()).then_some(extensions),
        }
    }

    fn crl_number(n: u8) -> Extension {
        extension("2.5.29.20", false, vec![0x02, 0x01, n])
    }

    fn tbs(ca: &Ca, entries: Vec<RevokedCert>, extensions: Vec<Extension>) -> TbsCertList {
        TbsCertList {
            version: Version::V2,
            signature: algorithm(),
            issuer: ca.name.clone(),
            this_update: time(NOW),
            next_update: Some(time(NOW + 86_400)),
            revoked_certificates: (!entries.is_empty()).then_some(entries),
            crl_extensions: (!extensions.is_empty()).then_some(extensions),
        }
    }

    fn signed(ca: &Ca, tbs: TbsCertList) -> Vec<u8> {
        let signature = sign(&ca.key, &tbs.to_der().unwrap());
        CertificateList {
            tbs_cert_list: tbs,
            signature_algorithm: algorithm(),
            signature,
        }
        .to_der()
        .unwrap()
    }

    fn sample(ca: &Ca) -> Vec<u8> {
        let reason = |code: u8| extension("2.5.29.21", false, vec![0x0a, 0x01, code]);
        signed(
            ca,
            tbs(
                ca,
                vec![
                    revoked(&[0x01], NOW - 100, vec![reason(1)]),
                    // A positive serial whose first octet has the high bit: encoded 00 9F 01.
                    revoked(&[0x00, 0x9f, 0x01], NOW - 200, vec![]),
                    revoked(&[0x7f, 0xff, 0xff, 0xff, 0xff], NOW - 300, vec![reason(6)]),
                ],
                vec![crl_number(42)],
            ),
        )
    }

    #[test]
    fn a_crl_signed_by_its_root_verifies() {
        let ca = root();
        let crl = VerifiedCrl::verify(&sample(&ca), &ca.cert).unwrap();
        assert_eq!(crl.len(), 3);
        assert!(!crl.is_empty());
        assert_eq!(crl.this_update(), UnixTime(NOW));
        assert_eq!(crl.next_update(), Some(UnixTime(NOW + 86_400)));
        assert_eq!(crl.crl_number(), Some(&[42u8][..]));
        assert_eq!(crl.issuer_name_der(), ca.cert.subject_name_der());
        assert!(format!("{crl:?}").contains("entries: 3"));
    }

    #[test]
    fn revoked_at_finds_serials_with_or_without_zero_padding() {
        let ca = root();
        let crl = VerifiedCrl::verify(&sample(&ca), &ca.cert).unwrap();
        assert_eq!(crl.revoked_at(&[0x01]), Some(UnixTime(NOW - 100)));
        assert_eq!(crl.revoked_at(&[0x00, 0x01]), Some(UnixTime(NOW - 100)));
        assert_eq!(
            crl.revoked_at(&[0x00, 0x9f, 0x01]),
            Some(UnixTime(NOW - 200))
        );
        assert_eq!(crl.revoked_at(&[0x9f, 0x01]), Some(UnixTime(NOW - 200)));
        assert_eq!(
            crl.revoked_at(&[0x7f, 0xff, 0xff, 0xff, 0xff]),
            Some(UnixTime(NOW - 300))
        );
        assert_eq!(
            crl.entry(&[0x01]).unwrap().reason,
            Some(RevocationReason::KeyCompromise)
        );
        assert_eq!(
            crl.entry(&[0x7f, 0xff, 0xff, 0xff, 0xff]).unwrap().reason,
            Some(RevocationReason::CertificateHold)
        );
        assert_eq!(crl.entry(&[0x9f, 0x01]).unwrap().reason, None);
        for absent in [
            &[0x02][..],
            &[0x9f][..],
            &[0x01, 0x00][..],
            &[][..],
            &[0x00][..],
        ] {
            assert_eq!(crl.revoked_at(absent), None, "{absent:02x?}");
        }
    }

    #[test]
    fn certificate_serials_look_up_as_they_are_encoded() {
        // `Certificate::serial` keeps the 0x00 sign octet; the index must match it.
        let ca = root();
        assert_eq!(ca.cert.serial(), [0x00, 0x9f, 0x01]);
        assert_eq!(ca.cert.serial_hex(), "009F01");
        let crl = VerifiedCrl::verify(&sample(&ca), &ca.cert).unwrap();
        assert_eq!(crl.revoked_at(ca.cert.serial()), Some(UnixTime(NOW - 200)));
    }

    #[test]
    fn the_earliest_of_revocation_and_invalidity_dates_wins() {
        let ca = root();
        let invalidity = |at: i64| {
            let date = GeneralizedTime::from_unix_duration(Duration::from_secs(
                u64::try_from(at).unwrap(),
            ))
            .unwrap();
            extension("2.5.29.24", false, date.to_der().unwrap())
        };
        let der = signed(
            &ca,
            tbs(
                &ca,
                vec![
                    revoked(&[0x05], NOW - 10, vec![invalidity(NOW - 5_000)]),
                    revoked(&[0x06], NOW - 10, vec![invalidity(NOW - 1)]),
                    // Listed twice: revoked from the earlier time.
                    revoked(&[0x07], NOW - 10, vec![]),
                    revoked(&[0x07], NOW - 20, vec![]),
                    revoked(&[0x07], NOW - 15, vec![]),
                ],
                vec![],
            ),
        );
        let crl = VerifiedCrl::verify(&der, &ca.cert).unwrap();
        assert_eq!(crl.len(), 3);
        assert_eq!(crl.revoked_at(&[0x05]), Some(UnixTime(NOW - 5_000)));
        let entry = crl.entry(&[0x05]).unwrap();
        assert_eq!(entry.revocation_date, UnixTime(NOW - 10));
        assert_eq!(entry.invalidity_date, Some(UnixTime(NOW - 5_000)));
        assert_eq!(crl.revoked_at(&[0x06]), Some(UnixTime(NOW - 10)));
        assert_eq!(crl.revoked_at(&[0x07]), Some(UnixTime(NOW - 20)));
        assert_eq!(crl.crl_number(), None);
    }

    #[test]
    fn an_empty_crl_revokes_nothing() {
        let ca = root();
        let crl = VerifiedCrl::verify(&signed(&ca, tbs(&ca, vec![], vec![])), &ca.cert).unwrap();
        assert!(crl.is_empty());
        assert_eq!(crl.revoked_at(&[0x01]), None);
    }

    #[test]
    fn a_tampered_crl_is_refused() {
        let ca = root();
        let good = sample(&ca);
        // Move a revocation date: 1 second later changes one digit of the UTCTime.
        let mut later = good.clone();
        let date = time(NOW - 100).to_der().unwrap();
        let at = later
            .windows(date.len())
            .position(|w| w == date.as_slice())
            .unwrap();
        later[at + date.len() - 2] ^= 0x01;
        assert!(matches!(
            VerifiedCrl::verify(&later, &ca.cert),
            Err(CrlError::BadSignature { .. })
        ));
        // Drop an entry by editing the serial of another.
        let mut serial = good.clone();
        let at = serial
            .windows(5)
            .position(|w| w == [0x02, 0x03, 0x00, 0x9f, 0x01])
            .unwrap();
        serial[at + 4] = 0x02;
        assert!(matches!(
            VerifiedCrl::verify(&serial, &ca.cert),
            Err(CrlError::BadSignature { .. })
        ));
        let mut signature = good.clone();
        let last = signature.len() - 1;
        signature[last] ^= 0x80;
        assert!(VerifiedCrl::verify(&signature, &ca.cert).is_err());
        // Trailing bytes after the CertificateList.
        let mut trailing = good;
        trailing.push(0);
        assert!(matches!(
            VerifiedCrl::verify(&trailing, &ca.cert),
            Err(CrlError::Malformed { .. })
        ));
    }

    #[test]
    fn a_crl_from_another_issuer_is_refused() {
        let ca = root();
        let der = sample(&ca);
        // Same name, other key: only the signature tells them apart.
        let impostor = root();
        assert!(matches!(
            VerifiedCrl::verify(&der, &impostor.cert),
            Err(CrlError::BadSignature { .. })
        ));
        let other = make_ca(
            "CN=Root,O=Guangdong,C=CN",
            true,
            KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign),
        );
        let err = VerifiedCrl::verify(&der, &other.cert).unwrap_err();
        assert!(matches!(err, CrlError::IssuerMismatch { .. }), "{err:?}");
        assert!(err.to_string().contains("Zhejiang"), "{err}");

        // The right name and key, but not allowed to sign CRLs.
        for (ca_flag, usage) in [
            (false, KeyUsage(KeyUsages::DigitalSignature.into())),
            (true, KeyUsage(KeyUsages::KeyCertSign.into())),
        ] {
            let weak = make_ca("CN=Weak,O=Zhejiang,C=CN", ca_flag, usage);
            let der = signed(&weak, tbs(&weak, vec![], vec![]));
            assert!(matches!(
                VerifiedCrl::verify(&der, &weak.cert),
                Err(CrlError::NotACrlIssuer { .. })
            ));
        }
    }

    #[test]
    fn structural_rules_fail_closed() {
        let ca = root();
        let check = |tbs: TbsCertList| VerifiedCrl::verify(&signed(&ca, tbs), &ca.cert);

        let mut v1 = tbs(&ca, vec![], vec![]);
        v1.version = Version::V1;
        assert!(matches!(check(v1), Err(CrlError::NotV2 { .. })));

        let delta = tbs(
            &ca,
            vec![],
            vec![extension("2.5.29.27", false, vec![0x02, 0x01, 0x01])],
        );
        assert_eq!(check(delta).unwrap_err(), CrlError::DeltaCrl);

        let scoped = tbs(
            &ca,
            vec![],
            vec![extension("2.5.29.28", true, vec![0x30, 0x00])],
        );
        assert!(matches!(
            check(scoped),
            Err(CrlError::UnknownCriticalExtension { oid }) if oid == "2.5.29.28"
        ));
        // Unknown but non-critical: ignored, as RFC 5280 allows.
        let freshest = tbs(
            &ca,
            vec![],
            vec![extension("2.5.29.46", false, vec![0x30, 0x00])],
        );
        check(freshest).unwrap();

        let indirect = tbs(
            &ca,
            vec![revoked(
                &[0x01],
                NOW,
                vec![extension("2.5.29.29", true, vec![0x30, 0x00])],
            )],
            vec![],
        );
        assert!(matches!(
            check(indirect),
            Err(CrlError::UnknownCriticalEntryExtension { serial, .. }) if serial == "01"
        ));

        let remove = tbs(
            &ca,
            vec![revoked(
                &[0x01],
                NOW,
                vec![extension("2.5.29.21", false, vec![0x0a, 0x01, 0x08])],
            )],
            vec![],
        );
        assert!(matches!(check(remove), Err(CrlError::RemoveFromCrl { .. })));
        let unused_reason = tbs(
            &ca,
            vec![revoked(
                &[0x01],
                NOW,
                vec![extension("2.5.29.21", false, vec![0x0a, 0x01, 0x07])],
            )],
            vec![],
        );
        assert!(matches!(
            check(unused_reason),
            Err(CrlError::MalformedEntry {
                field: "reasonCode",
                ..
            })
        ));

        let twice = tbs(&ca, vec![], vec![crl_number(1), crl_number(2)]);
        assert!(matches!(
            check(twice),
            Err(CrlError::DuplicateExtension { .. })
        ));
        let negative_number = tbs(
            &ca,
            vec![],
            vec![extension("2.5.29.20", false, vec![0x02, 0x01, 0xff])],
        );
        assert!(matches!(
            check(negative_number),
            Err(CrlError::Malformed {
                field: "cRLNumber",
                ..
            })
        ));

        let mut backwards = tbs(&ca, vec![], vec![]);
        backwards.next_update = Some(time(NOW));
        assert!(matches!(
            check(backwards),
            Err(CrlError::UpdateOrder { .. })
        ));
        let mut no_next = tbs(&ca, vec![], vec![]);
        no_next.next_update = None;
        assert_eq!(check(no_next).unwrap().next_update(), None);

        let mut mismatch = tbs(&ca, vec![], vec![]);
        mismatch.signature = AlgorithmIdentifierOwned {
            oid: oids::SHA256_WITH_RSA,
            parameters: None,
        };
        assert!(matches!(
            check(mismatch),
            Err(CrlError::AlgorithmMismatch { .. })
        ));
    }

    #[test]
    fn garbage_and_oversized_input_is_an_error_not_a_panic() {
        let ca = root();
        assert_eq!(
            VerifiedCrl::verify(&vec![0x30; MAX_CRL_BYTES + 1], &ca.cert).unwrap_err(),
            CrlError::TooLarge {
                size: MAX_CRL_BYTES + 1
            }
        );
        for garbage in [
            &b""[..],
            b"\x30",
            b"\x30\x00",
            b"\x30\x80\x00\x00",
            b"hello",
        ] {
            assert!(matches!(
                VerifiedCrl::verify(garbage, &ca.cert),
                Err(CrlError::Malformed { .. })
            ));
        }
        // A certificate is not a CRL.
        assert!(VerifiedCrl::verify(ca.cert.der(), &ca.cert).is_err());
        // Every truncation of a good CRL.
        let good = sample(&ca);
        for end in 0..good.len() {
            assert!(
                VerifiedCrl::verify(&good[..end], &ca.cert).is_err(),
                "{end}"
            );
        }
    }

    #[test]
    fn a_large_crl_indexes_every_entry() {
        let ca = root();
        let entries: Vec<RevokedCert> = (1u32..=20_000)
            .map(|n| {
                let bytes = (n * 7919).to_be_bytes();
                let skip = bytes.iter().take_while(|b| **b == 0).count();
                let mut serial = bytes[skip..].to_vec();
                if serial[0] & 0x80 != 0 {
                    serial.insert(0, 0);
                }
                revoked(&serial, NOW - i64::from(n), vec![])
            })
            .collect();
        let crl = VerifiedCrl::verify(&signed(&ca, tbs(&ca, entries, vec![])), &ca.cert).unwrap();
        assert_eq!(crl.len(), 20_000);
        for n in [1u32, 2, 9_999, 20_000] {
            let serial = (n * 7919).to_be_bytes();
            assert_eq!(crl.revoked_at(&serial), Some(UnixTime(NOW - i64::from(n))));
        }
        assert_eq!(crl.revoked_at(&7920u32.to_be_bytes()), None);
    }

    #[test]
    fn reason_names_round_trip() {
        for reason in RevocationReason::ALL {
            assert_eq!(reason.name().parse::<RevocationReason>(), Ok(reason));
            assert_eq!(
                reason.name().to_uppercase().parse::<RevocationReason>(),
                Ok(reason)
            );
            assert_eq!(RevocationReason::from_code(reason.code()), Some(reason));
            assert_eq!(reason.to_string(), reason.name());
        }
        assert_eq!(RevocationReason::from_code(7), None);
        assert_eq!(RevocationReason::from_code(8), None);
        let err = "removeFromCRL".parse::<RevocationReason>().unwrap_err();
        assert!(err.to_string().contains("keyCompromise"), "{err}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let ca = root();
            prop_assert!(VerifiedCrl::verify(&bytes, &ca.cert).is_err());
        }

        /// Any single-byte change to a signed CRL is refused (DER has one encoding per value,
        /// so no change is harmless), and never panics.
        #[test]
        fn any_changed_byte_is_refused(index in any::<prop::sample::Index>(), flip in 1u8..=255) {
            let ca = root();
            let mut der = sample(&ca);
            let at = index.index(der.len());
            der[at] ^= flip;
            prop_assert!(VerifiedCrl::verify(&der, &ca.cert).is_err(), "byte {} ^ {:#x}", at, flip);
        }
    }
}
