//! The trusted licence signers as a JWK Set (RFC 7517), for third parties who verify with a
//! standard JOSE library instead of huren (`huren trust jwks`).
//!
//! Each key carries `kid` = `x5t#S256` (base64url SHA-256 of the certificate, so a JOSE library
//! can pick the key from the token header's `x5t#S256` or `kid`), the certificate in `x5c`,
//! `alg`, `use: "sig"` and the huren extension `huren_region`. SM2 keys are exported with
//! `crv: "SM2"`, which standard libraries will not know; they are included for completeness.

use serde_json::{json, Value};

use crate::alg::{Algorithm, KeyKind};
use crate::b64;
use crate::trust_list::TrustList;

/// The JWKS of every usable, non-revoked licence signer, sorted by region then `kid`.
pub fn signer_jwks(trust: &TrustList) -> Value {
    let mut keys: Vec<(String, String, Value)> = trust
        .signers()
        .filter(|s| s.revoked_at.is_none())
        .filter_map(|signer| {
            let region = &trust.regions()[signer.region_index];
            let kid = b64::encode_url(&signer.cert.x5t_s256());
            let key = signer.cert.public_key();
            let alg = signer.alg.unwrap_or(match key.kind() {
                KeyKind::P256 => Algorithm::Es256,
                KeyKind::Rsa => Algorithm::Ps256,
                KeyKind::Sm2 => Algorithm::Sm2Sm3,
            });
            let mut jwk = key_params(key)?;
            let object = jwk.as_object_mut()?;
            object.insert("kid".into(), json!(kid));
            object.insert("x5t#S256".into(), json!(kid));
            object.insert("x5c".into(), json!([b64::encode_std(signer.cert.der())]));
            object.insert("alg".into(), json!(alg.name()));
            object.insert("use".into(), json!("sig"));
            object.insert("huren_region".into(), json!(region.code.as_str()));
            Some((region.code.to_string(), kid, jwk))
        })
        .collect();
    keys.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    json!({ "keys": keys.into_iter().map(|(_, _, k)| k).collect::<Vec<_>>() })
}

fn key_params(key: &crate::key::PublicKey) -> Option<Value> {
    match key.kind() {
        KeyKind::P256 | KeyKind::Sm2 => {
            let point = key.ec_point()?;
            // Uncompressed SEC1: 0x04 ‖ x ‖ y.
            if point.len() != 65 || point[0] != 4 {
                return None;
            }
            let crv = if key.kind() == KeyKind::P256 {
                "P-256"
            } else {
                "SM2"
            };
            Some(json!({
                "kty": "EC",
                "crv": crv,
                "x": b64::encode_url(&point[1..33]),
                "y": b64::encode_url(&point[33..]),
            }))
        }
        KeyKind::Rsa => {
            let (n, e) = crate::key::rsa_components(key.spki_der())?;
            Some(json!({"kty": "RSA", "n": b64::encode_url(&n), "e": b64::encode_url(&e)}))
        }
    }
}
