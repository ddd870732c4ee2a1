//! Memory of a verifier holding status lists for all 34 provincial-level regions with
//! 1,048,576 licences each (1 % revoked): builds the PKI and lists, feeds them through the
//! verifier's own status cache, and prints resident memory before and after.
//!
//! `cargo run --release -p huren-verifier --example memory_34_provinces`

#![allow(clippy::unwrap_used, clippy::expect_used)] // an example: a panic is the error report

use std::collections::HashMap;
use std::sync::Arc;

use huren_crypto::alg::Algorithm;
use huren_crypto::cert::Certificate;
use huren_crypto::ids::RegionCode;
use huren_crypto::status_list::{StatusList, StatusListClaim, StatusValue};
use huren_crypto::status_token::StatusListClaims;
use huren_crypto::time::UnixTime;
use huren_crypto::trust_list::TrustList;
use huren_keys::layout::{self, InitRegion};
use huren_keys::store::Protection;
use huren_verifier::{FetchError, Fetched, Fetcher, StatusCache};

const CODES: [&str; 34] = [
    "110000", "120000", "130000", "140000", "150000", "210000", "220000", "230000", "310000",
    "320000", "330000", "340000", "350000", "360000", "370000", "410000", "420000", "430000",
    "440000", "450000", "460000", "500000", "510000", "520000", "530000", "540000", "610000",
    "620000", "630000", "640000", "650000", "710000", "810000", "820000",
];
const ENTRIES: usize = 1 << 20;

/// Serves prepared tokens by URI, as an issuer would.
struct Prepared(HashMap<String, String>);

impl Fetcher for Prepared {
    fn fetch(&self, url: &str, _etag: Option<&str>) -> Result<Fetched, FetchError> {
        self.0
            .get(url)
            .map(|text| Fetched::Body {
                text: text.clone(),
                etag: None,
            })
            .ok_or_else(|| FetchError {
                url: url.into(),
                reason: "unknown".into(),
            })
    }
}

fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let now = UnixTime(huren_verifier::now().seconds());
    let dir = tempfile::tempdir().unwrap();
    let operator = layout::init_operator(
        &dir.path().join("op"),
        "operator",
        Algorithm::Es256,
        Protection::Plaintext,
        now,
    )
    .unwrap();
    let mut regions = Vec::new();
    for code in CODES {
        let code = RegionCode::parse(code).unwrap();
        let init = InitRegion {
            name: code.province_name().to_owned(),
            public_url: format!("https://issuer-{code}.example"),
            code,
            alg: Algorithm::Es256,
            protection: Protection::Plaintext,
            now,
        };
        regions.push(layout::init_region(&dir.path().join(init.code.as_str()), &init).unwrap());
    }
    let claims = huren_keys::trust_build::assemble("operator", &regions, 1, now, 86_400).unwrap();
    let token = huren_keys::trust_build::sign(
        &claims,
        &operator.key(None).unwrap(),
        &operator.certificate().unwrap(),
    )
    .unwrap();
    let trust = TrustList::verify(
        &token,
        &[Certificate::from_der(&operator.certificate().unwrap()).unwrap()],
    )
    .unwrap();

    let mut tokens = HashMap::new();
    let mut compressed = 0;
    for region in &regions {
        let mut list = StatusList::new(2, ENTRIES).unwrap();
        // 1 % revoked at pseudo-random positions (xorshift), as random index allocation gives.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..ENTRIES / 100 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            list.set((x % ENTRIES as u64) as usize, StatusValue::Revoked)
                .unwrap();
        }
        let (key, cert) = region.status_signer(None).unwrap();
        let uri = format!(
            "{}{}-0",
            region.config.status_uri_prefix(),
            region.config.code
        );
        let token = StatusListClaims {
            sub: uri.clone(),
            iat: now.seconds(),
            exp: now.plus(86_400).seconds(),
            ttl: 300,
            status_list: StatusListClaim::from_list(&list),
        }
        .sign(&key, &cert)
        .unwrap();
        compressed += token.len();
        tokens.insert(uri, token);
    }
    let uris: Vec<String> = tokens.keys().cloned().collect();
    let before = resident_kib();
    let cache = StatusCache::new(Arc::new(Prepared(tokens)), None, &trust, now);
    for uri in &uris {
        cache.fetch(uri, &trust, now).unwrap();
    }
    let after = resident_kib();
    println!("34 regions x {ENTRIES} entries (1 % revoked): {} status-list tokens, {} KiB compressed in total", uris.len(), compressed / 1024);
    println!("resident memory: {} KiB before the cache was filled, {} KiB after (+{} KiB); whole process {:.1} MiB", before, after, after.saturating_sub(before), after as f64 / 1024.0);
    assert_eq!(cache.summary(now).len(), 34);
}
