//! huren's seal extensions (in `SES_SealInfo.extDatas`) and the rule for extensions huren
//! does not know.
//!
//! | OID | value | critical |
//! |---|---|---|
//! | [`oids::SEAL_EXT_STATUS`] (`<arc>.2.1`) | `SEQUENCE { uri UTF8String, idx INTEGER }`: where the seal's revocation status is kept (SPEC §4 status list) | yes |
//! | [`oids::SEAL_EXT_USCC`] (`<arc>.2.2`) | `UTF8String`: the organisation's 统一社会信用代码 | no |
//!
//! An extension marked critical that the reader does not understand makes the seal unusable
//! (the X.509 rule, RFC 5280 §4.2): its maker said a verifier must not ignore it.

use der::asn1::OctetString;
use der::{Decode, Encode, Sequence};

use super::asn1::{ExtData, RawOid};
use crate::ids::Uscc;
use crate::oids;

/// Longest status-list URI accepted in a seal.
pub const MAX_STATUS_URI_BYTES: usize = 2048;

/// `SEQUENCE { uri UTF8String, idx INTEGER }`: the seal's entry in a status list.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct SealStatusReference {
    /// URI of the status-list token (its `sub`).
    pub uri: String,
    /// The seal's index in that list.
    pub idx: u64,
}

/// What the extensions of a seal (or of a signature) say, once read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KnownExtensions {
    /// huren status reference, if present.
    pub status: Option<SealStatusReference>,
    /// Organisation USCC, if present.
    pub uscc: Option<Uscc>,
}

/// Why a seal's extensions cannot be accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExtensionError {
    /// A critical extension this reader does not understand.
    #[error("unknown critical extension {0}")]
    UnknownCritical(String),
    /// The same huren extension twice.
    #[error("extension {0} appears more than once")]
    Duplicate(String),
    /// A huren extension whose value does not decode or check.
    #[error("extension {oid} is malformed: {reason}")]
    Malformed {
        /// Which extension.
        oid: String,
        /// What is wrong.
        reason: String,
    },
}

fn oid(dotted: &str) -> RawOid {
    // invariant: the huren extension OIDs are well-formed (oids.rs tests them); the empty
    // default could never equal a decoded OID anyway.
    RawOid::from_dotted(dotted).unwrap_or_default()
}

/// The status extension (critical) for `reference`.
pub fn status_extension(reference: &SealStatusReference) -> der::Result<ExtData> {
    Ok(ExtData {
        extn_id: oid(oids::SEAL_EXT_STATUS),
        critical: true,
        extn_value: OctetString::new(reference.to_der()?)?,
    })
}

/// The USCC extension (not critical).
pub fn uscc_extension(uscc: &Uscc) -> der::Result<ExtData> {
    Ok(ExtData {
        extn_id: oid(oids::SEAL_EXT_USCC),
        critical: false,
        extn_value: OctetString::new(uscc.as_str().to_owned().to_der()?)?,
    })
}

/// Reads the extensions: huren's are decoded and checked; unknown non-critical ones are
/// ignored; an unknown critical one is an error.
pub fn read_extensions(extensions: &[ExtData]) -> Result<KnownExtensions, ExtensionError> {
    let status_oid = oid(oids::SEAL_EXT_STATUS);
    let uscc_oid = oid(oids::SEAL_EXT_USCC);
    let mut known = KnownExtensions::default();
    for extension in extensions {
        let id = &extension.extn_id;
        let malformed = |reason: String| ExtensionError::Malformed {
            oid: id.to_string(),
            reason,
        };
        let value = extension.extn_value.as_bytes();
        if *id == status_oid {
            if known.status.is_some() {
                return Err(ExtensionError::Duplicate(id.to_string()));
            }
            let reference =
                SealStatusReference::from_der(value).map_err(|e| malformed(e.to_string()))?;
            if reference.uri.is_empty() || reference.uri.len() > MAX_STATUS_URI_BYTES {
                return Err(malformed(format!(
                    "uri must be 1 to {MAX_STATUS_URI_BYTES} bytes"
                )));
            }
            known.status = Some(reference);
        } else if *id == uscc_oid {
            if known.uscc.is_some() {
                return Err(ExtensionError::Duplicate(id.to_string()));
            }
            let text = String::from_der(value).map_err(|e| malformed(e.to_string()))?;
            known.uscc = Some(Uscc::parse(&text).map_err(|e| malformed(e.to_string()))?);
        } else if extension.critical {
            return Err(ExtensionError::UnknownCritical(id.to_string()));
        }
    }
    Ok(known)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huren_extensions_round_trip() {
        let reference = SealStatusReference {
            uri: "https://issuer.zj.example/v1/status/seal-0".into(),
            idx: 4711,
        };
        let uscc = Uscc::parse("91350100M000100Y43").unwrap();
        let exts = [
            status_extension(&reference).unwrap(),
            uscc_extension(&uscc).unwrap(),
        ];
        assert!(exts[0].critical && !exts[1].critical);
        let known = read_extensions(&exts).unwrap();
        assert_eq!(known.status, Some(reference));
        assert_eq!(known.uscc, Some(uscc));
    }

    #[test]
    fn unknown_critical_duplicate_and_malformed_extensions_are_refused() {
        let unknown = |critical| ExtData {
            extn_id: RawOid::from_dotted("1.2.3.4").unwrap(),
            critical,
            extn_value: OctetString::new(vec![5, 0]).unwrap(),
        };
        assert_eq!(
            read_extensions(&[unknown(false)]).unwrap(),
            KnownExtensions::default()
        );
        assert!(matches!(
            read_extensions(&[unknown(true)]),
            Err(ExtensionError::UnknownCritical(_))
        ));
        let reference = SealStatusReference {
            uri: "https://x.example/s".into(),
            idx: 1,
        };
        let status = status_extension(&reference).unwrap();
        assert!(matches!(
            read_extensions(&[status.clone(), status.clone()]),
            Err(ExtensionError::Duplicate(_))
        ));
        let mut broken = status;
        broken.extn_value = OctetString::new(vec![0x30, 0x00]).unwrap();
        assert!(matches!(
            read_extensions(&[broken]),
            Err(ExtensionError::Malformed { .. })
        ));
        let mut bad_uscc = uscc_extension(&Uscc::parse("91350100M000100Y43").unwrap()).unwrap();
        bad_uscc.extn_value =
            OctetString::new("91350100M000100Y44".to_owned().to_der().unwrap()).unwrap();
        assert!(read_extensions(&[bad_uscc]).is_err());
    }
}
