//! `PublicKey::from_spki_der` and `ecdsa_der_to_raw` on arbitrary bytes. Properties: a parsed
//! key keeps its exact DER and verifies nothing forged; a DER ECDSA signature that converts to
//! raw converts back to a DER value that converts to the same raw value.
#![no_main]

use huren_crypto::key::{ecdsa_der_to_raw, ecdsa_raw_to_der, rsa_components, PublicKey};
use huren_crypto::oids;
use huren_crypto::Algorithm;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(key) = PublicKey::from_spki_der(data) {
        assert_eq!(key.spki_der(), data);
        let _ = (key.kind(), key.bits(), key.ec_point());
        let _ = rsa_components(data);
        // Random signatures over a fixed message: must not verify, must not panic.
        let message = b"eyJhbGciOiJFUzI1NiJ9.e30";
        let mut signature = [0u8; 64];
        for (i, b) in signature.iter_mut().enumerate() {
            *b = data.get(i).copied().unwrap_or(i as u8);
        }
        for alg in Algorithm::ALL {
            assert!(key.verify_jws(alg, message, &signature).is_err());
            assert!(key.verify_jws(alg, message, data).is_err());
        }
        for oid in [
            oids::ECDSA_WITH_SHA256,
            oids::SM2_WITH_SM3,
            oids::SHA256_WITH_RSA,
            oids::RSASSA_PSS,
        ] {
            let _ = key.verify_x509(&oid, None, message, data);
            let _ = key.verify_x509(&oid, Some(&[0x05, 0x00]), message, &signature);
        }
    }
    let _ = rsa_components(data);

    if let Some(raw) = ecdsa_der_to_raw(data) {
        let der = ecdsa_raw_to_der(&raw).expect("64 bytes always encode");
        assert_eq!(ecdsa_der_to_raw(&der), Some(raw));
    }
    if data.len() == 64 {
        let der = ecdsa_raw_to_der(data).expect("64 bytes always encode");
        assert_eq!(
            ecdsa_der_to_raw(&der).map(|r| r.to_vec()).as_deref(),
            Some(data)
        );
    }
});
