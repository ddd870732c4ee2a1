//! Real licences: untouched ones in every transport (the only cases that may be valid), and
//! real but not-valid ones, each with the outcome code its report must list.

use huren_crypto::jws::{sign_compact, HeaderParams};
use huren_crypto::licence::LICENCE_TYP;

use super::{Corpus, Expect, Real};
use crate::client::{json_body, post};
use crate::common::{default_face, licence_with, IDX};
use crate::pki::{Pki, RawSigning, IDX_REVOKED};

/// Untouched real licences, in every transport: the only valid answers.
pub(super) fn untouched(c: &mut Corpus, real: &Real) {
    for (i, (token, text)) in real.valid.iter().zip(&real.valid_qr).enumerate() {
        let cat = "real_valid";
        c.add(
            cat,
            format!("token {i} text/plain"),
            post(Some("text/plain"), token.as_bytes()),
            Expect::Valid,
        );
        c.add(
            cat,
            format!("token {i} no content type"),
            post(None, token.as_bytes()),
            Expect::Valid,
        );
        c.add(
            cat,
            format!("token {i} json token"),
            post(Some("application/json"), &json_body("token", token)),
            Expect::Valid,
        );
        c.add(
            cat,
            format!("qr {i} json qr"),
            post(Some("application/json"), &json_body("qr", text)),
            Expect::Valid,
        );
        c.add(
            cat,
            format!("qr {i} text + CRLF"),
            post(
                Some("text/plain; charset=utf-8"),
                format!("{text}\r\n").as_bytes(),
            ),
            Expect::Valid,
        );
        c.add(
            cat,
            format!("qr {i} lowercase prefix"),
            post(Some("TEXT/PLAIN"), text.to_lowercase().as_bytes()),
            Expect::Valid,
        );
        let split: String = text
            .as_bytes()
            .chunks(200)
            .map(|ch| std::str::from_utf8(ch).unwrap())
            .collect::<Vec<_>>()
            .join("\n");
        c.add(
            cat,
            format!("qr {i} split in lines"),
            post(Some("text/plain"), split.as_bytes()),
            Expect::Valid,
        );
    }
}

/// Real licences that are not valid: revoked, expired, impersonating, forged, signed nonsense.
pub(super) fn not_valid(c: &mut Corpus, pki: &Pki) {
    let zj = pki.zhejiang;
    let ah = pki.anhui;
    let cat = "real_invalid";
    let revoked = zj.sign(&zj.claims_for(
        "2026000101",
        licence_with("2026-11-20", "2031-11-19", default_face()),
        Some(IDX_REVOKED),
    ));
    c.add(
        cat,
        "revoked",
        post(Some("text/plain"), revoked.as_bytes()),
        Expect::Invalid(&["revoked"]),
    );
    let expired = zj.sign(&zj.claims_for(
        "2026000102",
        licence_with("2026-11-20", "2026-11-22", default_face()),
        Some(IDX),
    ));
    c.add(
        cat,
        "expired",
        post(Some("text/plain"), expired.as_bytes()),
        Expect::Invalid(&["expired"]),
    );
    let future = zj.sign(&zj.claims_for(
        "2026000103",
        licence_with("2026-12-25", "2031-11-19", default_face()),
        Some(IDX),
    ));
    c.add(
        cat,
        "not yet valid",
        post(Some("text/plain"), future.as_bytes()),
        Expect::Invalid(&["not_yet_valid"]),
    );
    let mut impersonation = zj.claims_for(
        "2026000104",
        licence_with("2026-11-20", "2031-11-19", default_face()),
        None,
    );
    impersonation.iss = ah.code();
    let impersonation = zj.sign(&impersonation);
    c.add(
        cat,
        "zhejiang key signing for anhui",
        post(Some("text/plain"), impersonation.as_bytes()),
        Expect::Invalid(&["issuer_not_authorised"]),
    );
    let outsider = pki.outsider.sign(&pki.outsider.claims_for(
        "2026000105",
        licence_with("2026-11-20", "2031-11-19", default_face()),
        None,
    ));
    c.add(
        cat,
        "province outside the trust list",
        post(Some("text/plain"), outsider.as_bytes()),
        Expect::Invalid(&["unknown_signer"]),
    );
    let mut claims = zj.claims_for(
        "2026000107",
        licence_with("2026-11-20", "2031-11-19", default_face()),
        Some(IDX),
    );
    claims.status.as_mut().unwrap().status_list.uri = "https://evil.example/status/330000-0".into();
    c.add(
        cat,
        "status uri outside the prefix",
        post(Some("text/plain"), zj.sign(&claims).as_bytes()),
        Expect::Invalid(&["malformed"]),
    );
    claims.status.as_mut().unwrap().status_list.uri = zj.status_uri();
    claims.status.as_mut().unwrap().status_list.idx = u64::MAX;
    c.add(
        cat,
        "status index u64::MAX",
        post(Some("text/plain"), zj.sign(&claims).as_bytes()),
        Expect::Invalid(&["malformed"]),
    );
    claims.status.as_mut().unwrap().status_list.uri = format!("{}-1", zj.status_uri());
    claims.status.as_mut().unwrap().status_list.idx = IDX;
    c.add(
        cat,
        "status list not cached (offline)",
        post(Some("text/plain"), zj.sign(&claims).as_bytes()),
        Expect::Indeterminate(&["status_unknown"]),
    );
    // An outsider re-signing a Zhejiang token under Zhejiang's x5t#S256.
    let params = HeaderParams {
        typ: Some(LICENCE_TYP),
        x5t_s256: Some(zj.signer_cert.x5t_s256()),
        ..HeaderParams::default()
    };
    let payload = serde_json::to_vec(&zj.claims_for(
        "2026000108",
        licence_with("2026-11-20", "2031-11-19", default_face()),
        None,
    ))
    .unwrap();
    let forged = sign_compact(&params, &payload, &pki.outsider.signer).unwrap();
    c.add(
        cat,
        "forged under zhejiang x5t",
        post(Some("text/plain"), forged.as_bytes()),
        Expect::Invalid(&["bad_signature"]),
    );
    for (name, payload) in [
        ("signed {}", b"{}".to_vec()),
        ("signed []", b"[]".to_vec()),
        ("signed not json", b"\xff\xfenot json".to_vec()),
        (
            "signed deep json",
            format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes(),
        ),
    ] {
        c.add(
            cat,
            name,
            post(Some("text/plain"), zj.sign_raw(&payload, false).as_bytes()),
            Expect::Invalid(&["malformed"]),
        );
    }
    c.add(
        cat,
        "signed corrupt deflate",
        post(
            Some("text/plain"),
            zj.sign_raw(b"\xff\xff\xff\x00garbage", true).as_bytes(),
        ),
        Expect::Invalid(&["malformed"]),
    );
}
