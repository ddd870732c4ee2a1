//! `Certificate::from_der` on arbitrary bytes. When it parses: every accessor and profile
//! check runs, `x5t#S256` is the SHA-256 of the input, and chain checks against itself and the
//! fixture roots neither panic nor pass for a certificate the fixture CAs did not issue.
#![no_main]

use huren_crypto::cert::Certificate;
use huren_crypto::oids::Purpose;
use huren_crypto::UnixTime;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(cert) = Certificate::from_der(data) else {
        return;
    };
    assert_eq!(cert.der(), data);
    let _ = (
        cert.subject(),
        cert.issuer(),
        cert.serial_hex(),
        cert.is_ca(),
    );
    let _ = format!("{cert:?}");
    let (from, until) = (cert.not_before(), cert.not_after());
    let _ = (from.to_rfc3339_china(), until.to_rfc3339_china());
    for at in [
        from,
        until,
        UnixTime(0),
        UnixTime(i64::MIN),
        UnixTime(i64::MAX),
    ] {
        let _ = cert.check_valid_at(at);
    }
    let _ = cert.extended_key_usages();
    for purpose in Purpose::ALL {
        let _ = cert.has_purpose(purpose);
        let _ = cert.check_leaf_profile(purpose);
    }
    let key = cert.public_key();
    let _ = (key.kind(), key.bits(), key.ec_point());
    let _ = cert.is_self_issued();
    let _ = cert.check_issued_by(&cert);
    // Against the real roots of the fixture trust list: only their own certificates chain.
    let fixture = huren_fuzz::fixture();
    for region in fixture.trust.regions() {
        for root in &region.roots {
            if cert.check_issued_by(root).is_ok() {
                let known = fixture.trust.signers().any(|s| s.cert == cert)
                    || region.status_signers.contains(&cert)
                    || region.seal_makers.contains(&cert)
                    || region.roots.contains(&cert);
                assert!(
                    known,
                    "a certificate the fixture roots never issued chains to one"
                );
            }
        }
    }
});
