//! Seal-holder (签章者) certificates: an organisation's signing key and certificate, issued by
//! its province root, used to apply the organisation's electronic seals (SPEC §2, §8).
//!
//! The subject is `C=CN, O=<organisation>, CN=<organisation>, serialNumber=<USCC>`. The
//! 统一社会信用代码 goes in the X.520 `serialNumber` attribute (2.5.4.5, PrintableString: the
//! USCC alphabet is digits and capitals) rather than in `OU`: `serialNumber` is the attribute
//! X.520 defines for an identifier that tells same-named subjects apart, it has one value with
//! one meaning, and verifiers read it back with `Certificate::subject_serial_number` to match
//! the organisation a seal was made for. `OU` is free text that CAs fill with department names.
//!
//! A holder directory, created whole or not at all:
//!
//! ```text
//! holder-dir/
//!   holder.json                      organisation, USCC, region, algorithm, file names
//!   holder.crt.pem                   certificate (0644)
//!   holder.key.pem                   PKCS#8, encrypted unless asked otherwise (0600)
//! ```
//!
//! This module never prints key material; the key is loaded back only through
//! [`HolderDir::key`], which checks it belongs to the certificate.

use std::path::{Path, PathBuf};

use der::asn1::{Any, ObjectIdentifier, PrintableStringRef, SetOfVec};
use huren_crypto::alg::Algorithm;
use huren_crypto::cert::{CertError, Certificate};
use huren_crypto::ids::{RegionCode, Uscc};
use huren_crypto::oids::Purpose;
use huren_crypto::time::UnixTime;
use serde::{Deserialize, Serialize};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::{Name, RelativeDistinguishedName};

use crate::certificate::{self, CertBuildError, Profile, Subject, LEAF_VALIDITY_DAYS};
use crate::keypair::PrivateKey;
use crate::layout::{self, LayoutError, RegionDir, Staging};
use crate::pem;
use crate::store::{Passphrase, PlaintextKeys, Protection};

/// File name of a holder directory's description.
pub const HOLDER_FILE: &str = "holder.json";
/// Certificate file inside a holder directory.
pub const HOLDER_CERT_FILE: &str = "holder.crt.pem";
/// Key file inside a holder directory.
pub const HOLDER_KEY_FILE: &str = "holder.key.pem";

/// X.520 `serialNumber`, which carries the USCC.
const SERIAL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.5");

/// `holder.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolderConfig {
    /// The province whose root issued the certificate.
    pub region: RegionCode,
    /// Organisation name (法定名称).
    pub organization: String,
    /// 统一社会信用代码.
    pub uscc: Uscc,
    /// JOSE name of the key's algorithm.
    pub alg: Algorithm,
    /// Certificate file (PEM).
    pub cert: String,
    /// Private key file (PKCS#8 PEM).
    pub key: String,
}

/// What a holder certificate is issued for.
#[derive(Debug)]
pub struct HolderRequest<'a> {
    /// Organisation name, as on its business licence.
    pub organization: String,
    /// Its 统一社会信用代码 (already checked by parsing).
    pub uscc: Uscc,
    /// Algorithm of the new key (commonly the region's).
    pub alg: Algorithm,
    /// Requested lifetime in days; the certificate never outlives the root, so it may end
    /// sooner. SPEC §2 caps leaves at 3 years.
    pub validity_days: i64,
    /// How the new key is protected at rest.
    pub protection: Protection<'a>,
    /// Issuance time (start of validity).
    pub now: UnixTime,
}

impl HolderRequest<'_> {
    /// Default lifetime of a holder certificate: 2 years, like the other leaves.
    pub const DEFAULT_VALIDITY_DAYS: i64 = LEAF_VALIDITY_DAYS;
    /// Longest lifetime accepted (SPEC §2: leaf validity ≤ 3 years).
    pub const MAX_VALIDITY_DAYS: i64 = 3 * 365;
}

/// Why a holder certificate could not be issued or loaded.
#[derive(Debug, thiserror::Error)]
pub enum HolderError {
    /// Directory, key or certificate files.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// Building the certificate failed.
    #[error(transparent)]
    Build(#[from] CertBuildError),
    /// The organisation name cannot go into a certificate as it is.
    #[error("organisation name {problem}")]
    OrganizationName {
        /// What is wrong with it.
        problem: &'static str,
    },
    /// The validity asked for is not 1 to [`HolderRequest::MAX_VALIDITY_DAYS`] days.
    #[error("validity of {days} days is outside 1 to {max} days")]
    ValidityDays {
        /// What was asked.
        days: i64,
        /// The limit.
        max: i64,
    },
    /// The root certificate is not valid at issuance time.
    #[error("the region root certificate is not valid at {now} (valid until {root_not_after})")]
    RootNotValid {
        /// Issuance time.
        now: UnixTime,
        /// End of the root's validity.
        root_not_after: UnixTime,
    },
    /// The holder certificate on disk fails its profile or chain check.
    #[error("{path}")]
    Certificate {
        /// The certificate file.
        path: String,
        /// Why.
        source: CertError,
    },
}

/// `ub-organization-name` of X.520 is 64; Chinese registered names are far shorter, and the
/// bound keeps a hostile form field from producing an absurd certificate.
const MAX_ORGANIZATION_CHARS: usize = 64;

/// The subject of a holder certificate: `C=CN, O=name, CN=name, serialNumber=USCC`.
pub fn holder_subject_name(organization: &str, uscc: &Uscc) -> Result<Name, HolderError> {
    let problem = if organization.is_empty() {
        Some("is empty")
    } else if organization.chars().count() > MAX_ORGANIZATION_CHARS {
        Some("is longer than 64 characters")
    } else if organization.trim() != organization {
        Some("starts or ends with white space")
    } else if organization.chars().any(char::is_control) {
        // A control character in a distinguished name can rewrite what a terminal or a report
        // shows as the certificate's subject.
        Some("contains a control character")
    } else {
        None
    };
    if let Some(problem) = problem {
        return Err(HolderError::OrganizationName { problem });
    }
    let mut name = certificate::subject_name(&Subject {
        organization: organization.to_owned(),
        common_name: organization.to_owned(),
    })?;
    let encode = |source| CertBuildError::Encode {
        field: "subject serialNumber",
        source,
    };
    let value = Any::encode_from(&PrintableStringRef::new(uscc.as_str()).map_err(encode)?)
        .map_err(encode)?;
    let set = SetOfVec::try_from(vec![AttributeTypeAndValue {
        oid: SERIAL_NUMBER,
        value,
    }])
    .map_err(encode)?;
    name.0.push(RelativeDistinguishedName(set));
    Ok(name)
}

/// An opened holder directory.
#[derive(Debug, Clone)]
pub struct HolderDir {
    /// Where it is.
    pub path: PathBuf,
    /// `holder.json`.
    pub config: HolderConfig,
    /// Whether its key may be unencrypted (as for [`layout::RegionDir::plaintext_keys`]).
    pub plaintext_keys: PlaintextKeys,
}

/// Generates a holder key and has the region root issue its certificate
/// (`Profile::Leaf(Purpose::SealHolder)`), written to a new directory `out`. The root key is
/// read with `root_passphrase`; the new key is stored under `request.protection`.
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
/// use huren_crypto::oids::Purpose;
/// use huren_keys::holder::{issue_holder, HolderRequest};
///
/// let request = HolderRequest {
///     organization: "杭州示例建设有限公司".into(),
///     uscc: "91350100M000100Y43".parse()?,
///     alg: Algorithm::Es256,
///     validity_days: HolderRequest::DEFAULT_VALIDITY_DAYS,
///     protection: Protection::Plaintext,
///     now,
/// };
/// let holder = issue_holder(&region, None, &dir.path().join("holder"), &request)?;
/// let cert = holder.certificate()?;
/// assert!(cert.has_purpose(Purpose::SealHolder));
/// assert_eq!(cert.subject_serial_number(), Some("91350100M000100Y43"));
/// let _key = holder.key(None)?; // checked to belong to the certificate
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn issue_holder(
    region: &RegionDir,
    root_passphrase: Option<&Passphrase>,
    out: &Path,
    request: &HolderRequest<'_>,
) -> Result<HolderDir, HolderError> {
    if !(1..=HolderRequest::MAX_VALIDITY_DAYS).contains(&request.validity_days) {
        return Err(HolderError::ValidityDays {
            days: request.validity_days,
            max: HolderRequest::MAX_VALIDITY_DAYS,
        });
    }
    let subject = holder_subject_name(&request.organization, &request.uscc)?;
    let root_der = region.root_der()?;
    let root = Certificate::from_der(&root_der).map_err(|source| HolderError::Certificate {
        path: region
            .path
            .join(&region.config.root.cert)
            .display()
            .to_string(),
        source,
    })?;
    if request.now >= root.not_after() {
        return Err(HolderError::RootNotValid {
            now: request.now,
            root_not_after: root.not_after(),
        });
    }
    let not_after = request
        .now
        .plus(request.validity_days.saturating_mul(86_400))
        .min(root.not_after());
    let root_key = region.key(&region.config.root, root_passphrase)?;

    let key_err = |source| LayoutError::Key {
        path: HOLDER_KEY_FILE.into(),
        source,
    };
    let key = PrivateKey::generate(request.alg).map_err(key_err)?;
    let spki = key.public_key_spki_der().map_err(key_err)?;
    let der = certificate::issue_named(
        subject,
        &spki,
        Profile::Leaf(Purpose::SealHolder),
        request.now,
        not_after,
        Some(&root_der),
        &root_key,
        &mut rand_core::OsRng,
    )?;

    let staging = Staging::begin(out)?;
    pem::write_certificate(&staging.file(HOLDER_CERT_FILE), &der, false)
        .map_err(LayoutError::from)?;
    layout::write_key(&staging.file(HOLDER_KEY_FILE), &key, request.protection)?;
    layout::write_json(
        &staging.file(HOLDER_FILE),
        &HolderConfig {
            region: region.config.code.clone(),
            organization: request.organization.clone(),
            uscc: request.uscc.clone(),
            alg: request.alg,
            cert: HOLDER_CERT_FILE.into(),
            key: HOLDER_KEY_FILE.into(),
        },
    )?;
    staging.commit()?;
    Ok(HolderDir::open(out)?.with_plaintext_keys(layout::written_with(request.protection)))
}

impl HolderDir {
    /// Opens a holder directory.
    pub fn open(path: &Path) -> Result<HolderDir, HolderError> {
        Ok(HolderDir {
            path: path.to_path_buf(),
            config: layout::read_json(&path.join(HOLDER_FILE))?,
            plaintext_keys: PlaintextKeys::Refuse,
        })
    }

    /// The same directory with its key loaded under `plaintext` (see [`PlaintextKeys`]).
    pub fn with_plaintext_keys(mut self, plaintext: PlaintextKeys) -> HolderDir {
        self.plaintext_keys = plaintext;
        self
    }

    /// The holder certificate, parsed, with its seal-holder profile checked.
    pub fn certificate(&self) -> Result<Certificate, HolderError> {
        let path = self.path.join(&self.config.cert);
        let der = pem::read_certificate(&path).map_err(LayoutError::from)?;
        let cert_err = |source| HolderError::Certificate {
            path: path.display().to_string(),
            source,
        };
        let cert = Certificate::from_der(&der).map_err(cert_err)?;
        cert.check_leaf_profile(Purpose::SealHolder)
            .map_err(cert_err)?;
        Ok(cert)
    }

    /// The holder's private key, decrypted with `passphrase`, refused unless it is the key
    /// of [`HolderDir::certificate`].
    pub fn key(&self, passphrase: Option<&Passphrase>) -> Result<PrivateKey, HolderError> {
        let path = self.path.join(&self.config.key);
        let key = layout::load_key(&path, self.config.alg, passphrase, self.plaintext_keys)?;
        let cert = self.certificate()?;
        let spki = key
            .public_key_spki_der()
            .map_err(|source| LayoutError::Key {
                path: path.display().to_string(),
                source,
            })?;
        if spki != cert.public_key().spki_der() {
            return Err(LayoutError::KeyMismatch {
                key: path.display().to_string(),
                cert: self.path.join(&self.config.cert).display().to_string(),
            }
            .into());
        }
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{init_region, InitRegion};

    const NOW: UnixTime = UnixTime(1_790_000_000);
    const USCC: &str = "91350100M000100Y43";

    fn region(dir: &Path, alg: Algorithm) -> RegionDir {
        init_region(
            &dir.join("zj"),
            &InitRegion {
                code: RegionCode::parse("330000").unwrap(),
                name: "浙江省".into(),
                alg,
                public_url: "https://issuer.zj.example".into(),
                protection: Protection::Plaintext,
                now: NOW,
            },
        )
        .unwrap()
    }

    fn request(alg: Algorithm, now: UnixTime) -> HolderRequest<'static> {
        HolderRequest {
            organization: "杭州示例建设有限公司".into(),
            uscc: Uscc::parse(USCC).unwrap(),
            alg,
            validity_days: HolderRequest::DEFAULT_VALIDITY_DAYS,
            protection: Protection::Plaintext,
            now,
        }
    }

    #[test]
    fn holder_certificate_chains_to_the_root_with_the_seal_holder_eku() {
        let dir = tempfile::tempdir().unwrap();
        let region = region(dir.path(), Algorithm::Es256);
        // A holder key of another algorithm than the root's is fine: the root signs either.
        let holder = issue_holder(
            &region,
            None,
            &dir.path().join("h"),
            &request(Algorithm::Sm2Sm3, NOW),
        )
        .unwrap();
        let cert = holder.certificate().unwrap();
        let root = Certificate::from_der(&region.root_der().unwrap()).unwrap();
        cert.check_issued_by(&root).unwrap();
        cert.check_leaf_profile(Purpose::SealHolder).unwrap();
        assert!(!cert.has_purpose(Purpose::SealMaker));
        assert_eq!(cert.subject_serial_number(), Some(USCC));
        assert!(
            cert.subject().contains("杭州示例建设有限公司"),
            "{}",
            cert.subject()
        );
        assert_eq!(cert.not_before(), NOW);
        assert_eq!(
            cert.not_after(),
            NOW.plus(HolderRequest::DEFAULT_VALIDITY_DAYS * 86_400)
        );
        assert_eq!(holder.config.uscc.as_str(), USCC);
        assert_eq!(holder.config.region.as_str(), "330000");

        let key = holder.key(None).unwrap();
        assert_eq!(key.algorithm(), Algorithm::Sm2Sm3);
        let reopened = HolderDir::open(&holder.path).unwrap();
        assert_eq!(reopened.config, holder.config);
    }

    #[test]
    fn holder_validity_is_capped_by_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let region = region(dir.path(), Algorithm::Es256);
        let root = Certificate::from_der(&region.root_der().unwrap()).unwrap();
        let late = root.not_after().minus(10 * 86_400);
        let holder = issue_holder(
            &region,
            None,
            &dir.path().join("h"),
            &request(Algorithm::Es256, late),
        )
        .unwrap();
        assert_eq!(holder.certificate().unwrap().not_after(), root.not_after());

        let err = issue_holder(
            &region,
            None,
            &dir.path().join("h2"),
            &request(Algorithm::Es256, root.not_after()),
        )
        .unwrap_err();
        assert!(matches!(err, HolderError::RootNotValid { .. }), "{err:?}");
        assert!(!dir.path().join("h2").exists());
    }

    #[test]
    fn encrypted_holder_key_needs_the_passphrase_and_the_matching_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let region = region(dir.path(), Algorithm::Es256);
        let passphrase = Passphrase::new("a long enough passphrase".into()).unwrap();
        let holder = issue_holder(
            &region,
            None,
            &dir.path().join("h"),
            &HolderRequest {
                protection: Protection::Encrypted(&passphrase),
                ..request(Algorithm::Es256, NOW)
            },
        )
        .unwrap();
        let key_path = holder.path.join(HOLDER_KEY_FILE);
        let text = std::fs::read_to_string(&key_path).unwrap();
        assert!(text.starts_with(concat!("-----BEGIN ENCRYPTED ", "PRIVATE KEY-----")));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(matches!(
            holder.key(None),
            Err(HolderError::Layout(LayoutError::PassphraseRequired))
        ));
        holder.key(Some(&passphrase)).unwrap();

        // Swap in another holder's certificate: the key no longer matches and is refused.
        let other = issue_holder(
            &region,
            None,
            &dir.path().join("other"),
            &request(Algorithm::Es256, NOW),
        )
        .unwrap();
        std::fs::copy(
            other.path.join(HOLDER_CERT_FILE),
            holder.path.join(HOLDER_CERT_FILE),
        )
        .unwrap();
        assert!(matches!(
            holder.key(Some(&passphrase)),
            Err(HolderError::Layout(LayoutError::KeyMismatch { .. }))
        ));
    }

    #[test]
    fn bad_requests_are_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let region = region(dir.path(), Algorithm::Es256);
        let out = dir.path().join("h");
        for organization in ["", " 前导空格", "公司\u{1b}[2J", &"长".repeat(65)] {
            let err = issue_holder(
                &region,
                None,
                &out,
                &HolderRequest {
                    organization: organization.into(),
                    ..request(Algorithm::Es256, NOW)
                },
            )
            .unwrap_err();
            assert!(
                matches!(err, HolderError::OrganizationName { .. }),
                "{err:?}"
            );
        }
        for validity_days in [0, -1, HolderRequest::MAX_VALIDITY_DAYS + 1] {
            let err = issue_holder(
                &region,
                None,
                &out,
                &HolderRequest {
                    validity_days,
                    ..request(Algorithm::Es256, NOW)
                },
            )
            .unwrap_err();
            assert!(matches!(err, HolderError::ValidityDays { .. }), "{err:?}");
        }
        assert!(!out.exists());
        issue_holder(&region, None, &out, &request(Algorithm::Es256, NOW)).unwrap();
        let err = issue_holder(&region, None, &out, &request(Algorithm::Es256, NOW)).unwrap_err();
        assert!(
            matches!(err, HolderError::Layout(LayoutError::Exists(_))),
            "{err:?}"
        );
    }
}
