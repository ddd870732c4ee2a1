//! Seal files (`.esl`, v4 and v1) and the inspector on arbitrary bytes: `SealFile::from_der`,
//! `Seal::from_der`, the v4/v1 wire decoders and `inspect`. Properties: whatever the wire
//! decoders accept re-encodes byte for byte; a decoded seal keeps the input as its DER and
//! its signed part as a sub-slice of it; the inspection serialises to JSON.
#![no_main]

use der::{Decode, Encode};
use huren_crypto::seal::asn1::SeSeal;
use huren_crypto::seal::v1::SeSealV1;
use huren_crypto::seal::{inspect, Seal, SealFile, MAX_SEAL_BYTES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(wire) = SeSeal::from_der(data) {
        assert_eq!(wire.to_der().expect("re-encodes"), data);
    }
    if let Ok(wire) = SeSealV1::from_der(data) {
        assert_eq!(wire.to_der().expect("re-encodes"), data);
        let _ = wire.signed_message();
    }
    if let Ok(seal) = Seal::from_der(data) {
        assert!(data.len() <= MAX_SEAL_BYTES);
        assert_eq!(seal.der(), data);
        let info = seal.seal_info_der();
        assert!(data.windows(info.len()).any(|w| w == info));
        let _ = (
            seal.es_id(),
            seal.region(),
            seal.name(),
            seal.holder_certs(),
        );
        let _ = (
            seal.valid_start().at(),
            seal.valid_end().at(),
            seal.create_date().at(),
        );
        let _ = seal.known_extensions();
        let _ = seal.status_reference();
    }
    let _ = SealFile::from_der(data);
    if let Ok(inspection) = inspect::inspect(data) {
        serde_json::to_string(&inspection).expect("inspection serialises");
    }
});
