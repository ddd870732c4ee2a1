//! The lenient certificate reader used for certificates inside seals, on arbitrary bytes.
//! Properties: the input is kept as the DER and the TBS is a sub-slice of it; validity and
//! subject/issuer strings are produced without panicking; whenever the strict reader also
//! accepts the bytes, both agree on serial and validity.
#![no_main]

use huren_crypto::seal::SealCertificate;
use huren_crypto::UnixTime;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(cert) = SealCertificate::parse(data) else {
        return;
    };
    assert_eq!(cert.der(), data);
    let tbs = cert.tbs();
    assert!(data.windows(tbs.len()).any(|w| w == tbs));
    let _ = (
        cert.subject(),
        cert.issuer(),
        cert.serial_hex(),
        cert.deviations(),
    );
    let _ = (cert.issuer_der(), cert.subject_der(), cert.spki_der());
    for at in [UnixTime(i64::MIN), UnixTime(0), UnixTime(i64::MAX)] {
        let _ = cert.is_valid_at(at);
    }
    let _ = format!("{cert:?}");
    if let Some(strict) = cert.strict() {
        assert_eq!(strict.serial_hex(), cert.serial_hex());
        assert_eq!(strict.not_before(), cert.not_before());
        assert_eq!(strict.not_after(), cert.not_after());
    }
});
