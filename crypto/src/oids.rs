//! Object identifiers: the project's extended-key-usage arc and the standard algorithm OIDs.
//!
//! huren's EKUs live under one arc, `2.25.<UUID as integer>` (ITU-T X.667: a UUID-derived OID
//! needs no registration). The UUID is `56dcb251-5bbe-4cff-b400-2d27e27b4f33`; never change it,
//! or every certificate issued so far stops meaning what it says.

use der::asn1::ObjectIdentifier;

/// `2.25.115459529661164236216962958326601830195`, the project arc.
pub const HUREN_ARC: &str = "2.25.115459529661164236216962958326601830195";

/// A purpose a huren leaf certificate may serve, as an extended key usage under
/// [`HUREN_ARC`].
///
/// These OIDs have an arc wider than 32 bits, which the `const-oid` crate (and so `der`'s
/// `ObjectIdentifier`) cannot represent; they are therefore handled as their DER content
/// octets, encoded here from the dotted form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// May sign licences (证照签发).
    LicenceSigner,
    /// May sign status lists.
    StatusSigner,
    /// May make electronic seals (制章者).
    SealMaker,
    /// May apply an organisation's seal (签章者).
    SealHolder,
    /// May sign the national trust list.
    TrustListOperator,
}

impl Purpose {
    /// Every purpose, for `huren pki oids`.
    pub const ALL: [Purpose; 5] = [
        Purpose::LicenceSigner,
        Purpose::StatusSigner,
        Purpose::SealMaker,
        Purpose::SealHolder,
        Purpose::TrustListOperator,
    ];

    /// Stable name, e.g. `licence_signer`.
    pub fn name(self) -> &'static str {
        match self {
            Purpose::LicenceSigner => "licence_signer",
            Purpose::StatusSigner => "status_signer",
            Purpose::SealMaker => "seal_maker",
            Purpose::SealHolder => "seal_holder",
            Purpose::TrustListOperator => "trust_list_operator",
        }
    }

    /// Dotted OID.
    pub fn oid(self) -> &'static str {
        match self {
            Purpose::LicenceSigner => "2.25.115459529661164236216962958326601830195.1.1",
            Purpose::StatusSigner => "2.25.115459529661164236216962958326601830195.1.2",
            Purpose::SealMaker => "2.25.115459529661164236216962958326601830195.1.3",
            Purpose::SealHolder => "2.25.115459529661164236216962958326601830195.1.4",
            Purpose::TrustListOperator => "2.25.115459529661164236216962958326601830195.1.5",
        }
    }

    /// DER content octets of the OID (without tag and length).
    pub fn oid_der_content(self) -> Vec<u8> {
        // invariant: the dotted strings above are well-formed; a unit test checks each.
        encode_oid_content(self.oid()).unwrap_or_default()
    }
}

/// Seal extension (in `SES_SealInfo.extDatas`): where the seal's revocation status is kept,
/// `SEQUENCE { uri UTF8String, idx INTEGER }` (the status-list pointer of SPEC §4). Marked
/// critical in huren seals, so a verifier that cannot check the status must not accept them.
pub const SEAL_EXT_STATUS: &str = "2.25.115459529661164236216962958326601830195.2.1";
/// Seal extension (in `SES_SealInfo.extDatas`): the seal-owning organisation's 统一社会信用代码
/// (GB 32100), `UTF8String`. Not critical.
pub const SEAL_EXT_USCC: &str = "2.25.115459529661164236216962958326601830195.2.2";

/// Encodes a dotted OID whose arcs fit in `u128` as DER content octets (X.690 §8.19).
pub fn encode_oid_content(dotted: &str) -> Option<Vec<u8>> {
    let arcs: Vec<u128> = dotted
        .split('.')
        .map(|a| a.parse::<u128>().ok())
        .collect::<Option<_>>()?;
    let (&first, &second) = (arcs.first()?, arcs.get(1)?);
    if first > 2 || (first < 2 && second > 39) {
        return None;
    }
    let mut out = Vec::new();
    let leading = first.checked_mul(40)?.checked_add(second)?;
    for arc in std::iter::once(leading).chain(arcs[2..].iter().copied()) {
        let mut groups = vec![(arc & 0x7f) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            groups.push((rest & 0x7f) as u8 | 0x80);
            rest >>= 7;
        }
        out.extend(groups.iter().rev());
    }
    Some(out)
}

/// Decodes DER OID content octets to dotted form, for any arc size up to `u128`.
pub fn decode_oid_content(content: &[u8]) -> Option<String> {
    let mut arcs: Vec<u128> = Vec::new();
    let mut current: u128 = 0;
    let mut in_arc = false;
    for &byte in content {
        if !in_arc && byte == 0x80 {
            return None; // non-minimal encoding
        }
        current = current
            .checked_mul(128)?
            .checked_add(u128::from(byte & 0x7f))?;
        in_arc = byte & 0x80 != 0;
        if !in_arc {
            arcs.push(current);
            current = 0;
        }
    }
    if in_arc || arcs.is_empty() {
        return None;
    }
    let leading = arcs[0];
    let (first, second) = match leading {
        0..=39 => (0, leading),
        40..=79 => (1, leading - 40),
        _ => (2, leading - 80),
    };
    let mut dotted = format!("{first}.{second}");
    for arc in &arcs[1..] {
        dotted.push('.');
        dotted.push_str(&arc.to_string());
    }
    Some(dotted)
}

/// id-ecPublicKey (RFC 5480).
pub const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// prime256v1 / secp256r1 (RFC 5480).
pub const CURVE_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
/// SM2 curve (GM/T 0006); also seen as a key algorithm OID in older encoders.
pub const CURVE_SM2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.301");
/// rsaEncryption (RFC 8017).
pub const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// ecdsa-with-SHA256 (RFC 5758).
pub const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
/// sha256WithRSAEncryption (RFC 8017).
pub const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
/// RSASSA-PSS (RFC 4055).
pub const RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
/// id-sha256 (RFC 4055 PSS parameters).
pub const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
/// id-mgf1 (RFC 4055 PSS parameters).
pub const MGF1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.8");
/// SM2 signature with SM3 (GB/T 35276).
pub const SM2_WITH_SM3: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.501");
/// SM3 hash.
pub const SM3: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.401");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_are_distinct_oids_under_the_project_arc() {
        for (i, a) in Purpose::ALL.iter().enumerate() {
            assert!(a.oid().starts_with(HUREN_ARC));
            let content = a.oid_der_content();
            assert!(!content.is_empty());
            assert_eq!(decode_oid_content(&content).as_deref(), Some(a.oid()));
            for b in &Purpose::ALL[i + 1..] {
                assert_ne!(a.oid_der_content(), b.oid_der_content());
            }
        }
    }

    #[test]
    fn seal_extensions_sit_under_the_project_arc() {
        for oid in [SEAL_EXT_STATUS, SEAL_EXT_USCC] {
            assert!(oid.starts_with(&format!("{HUREN_ARC}.2.")));
            let content = encode_oid_content(oid).unwrap();
            assert_eq!(decode_oid_content(&content).as_deref(), Some(oid));
        }
        assert_ne!(SEAL_EXT_STATUS, SEAL_EXT_USCC);
    }

    #[test]
    fn oid_encoding_matches_x690_and_const_oid() {
        // 1.2.840.10045.2.1 (id-ecPublicKey)
        assert_eq!(
            encode_oid_content("1.2.840.10045.2.1").unwrap(),
            EC_PUBLIC_KEY.as_bytes()
        );
        assert_eq!(encode_oid_content("2.999.3").unwrap(), [0x88, 0x37, 0x03]);
        assert!(encode_oid_content("3.1").is_none());
        assert!(decode_oid_content(&[0x80, 0x01]).is_none());
        assert!(decode_oid_content(&[0x81]).is_none());
    }
}
