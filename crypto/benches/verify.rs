//! Verification and signing throughput, single-threaded (see `bench/README.md`).
//!
//! ```text
//! cargo bench -p huren-crypto --bench verify
//! ```
//!
//! One run measures, on the same machine and in the same process:
//!
//! 1. `raw_verify`: a bare ES256 signature check on each backend (aws-lc-rs with a pre-parsed
//!    key and with `UnparsedPublicKey`, ring, RustCrypto `p256` 0.13, and huren's own
//!    `PublicKey::verify_jws` wrapper), all over the same message and signature: the signing
//!    input and signature of the ES256 licence below. Also PS256/RS256 (aws-lc-rs; RSA-3072 as
//!    `huren pki` generates, and RSA-2048 for comparison with published numbers) and SM2SM3
//!    (RustCrypto `sm2`).
//! 2. `full_verify`: `verify_licence` on a real licence from its `HR1:` QR text and from the
//!    bare JWS, through every check of SPEC §6 including the status lookup in a cached,
//!    verified 2^17-entry status list. Each report is asserted `valid` before timing.
//!    `copy_verify`: each algorithm's licence and an annotated copy of it (SPEC §11, default
//!    disclosure, verified by the unit it names), back to back; the summary prints the
//!    copy/licence time ratio (issue 12's target: ≤ 1.05).
//! 3. `steps`: the non-signature parts of (2) on their own, to see where time goes, next to
//!    proposed replacements for the two largest (`*_proposed`, `inflate_*`; defined in this
//!    file, checked against the current code's output before timing).
//! 4. `sign`: raw JWS signing via `huren_keys::PrivateKey` as `huren_crypto::Signer`, and
//!    whole-licence signing (`LicenceClaims::sign`: serialize, deflate, decide on zip, sign).
//!
//! Token and QR text sizes are printed once before the benchmarks; a summary with ops/s and
//! the full/raw ES256 ratio (target ≥ 0.85) is printed after them, read back from criterion's
//! estimates of this run, followed by the same ratio measured as interleaved blocks of raw and
//! full verification (robust against other load on a shared 2-core machine).
//!
//! Profiling: `HUREN_BENCH_PROFILE_LOOPS=N` runs N full ES256 verifications from HR1 text (and
//! N rounds of the proposed replacements) without criterion, for
//! `valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*profile_loop*'` or
//! `perf record`; see `bench/README.md`.
//!
//! Over 800 lines: each benchmark group sits beside the proposed replacement it measures and
//! the ratio summaries read back from the same run; the fixture is in `common/licences.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput};
use huren_crypto::alg::Algorithm;
use huren_crypto::b64;
use huren_crypto::deflate;
use huren_crypto::jws::{Limits, UnverifiedJws, MAX_LICENCE_PAYLOAD_BYTES};
use huren_crypto::licence::LicenceClaims;
use huren_crypto::qr;
use huren_crypto::verify::Verdict;
use huren_crypto::Signer;
use huren_keys::PrivateKey;

#[path = "common/licences.rs"]
mod licences;
use licences::{signature_bytes, Fixture, STATUS_IDX};

/// The signed part of a compact JWS.
fn signing_input(token: &str) -> &[u8] {
    token.rsplit_once('.').unwrap().0.as_bytes()
}

fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(1));
    group
}

fn raw_verify(c: &mut Criterion, f: &Fixture) {
    use aws_lc_rs::signature::{self as lc, VerificationAlgorithm as _};

    let es = f.province(Algorithm::Es256);
    let message = signing_input(&es.token);
    let signature = signature_bytes(&es.token);
    let point = es.signer_cert.public_key().ec_point().unwrap();
    let mut g = group(c, "raw_verify");

    let parsed = lc::ParsedPublicKey::new(&lc::ECDSA_P256_SHA256_FIXED, &point).unwrap();
    parsed.verify_sig(message, &signature).unwrap();
    g.bench_function("ES256_aws-lc-rs_parsed", |b| {
        b.iter(|| parsed.verify_sig(black_box(message), black_box(&signature)))
    });
    g.bench_function("ES256_aws-lc-rs_unparsed", |b| {
        b.iter(|| {
            lc::UnparsedPublicKey::new(&lc::ECDSA_P256_SHA256_FIXED, black_box(&point))
                .verify(black_box(message), black_box(&signature))
        })
    });
    // Proof that the bare algorithm object agrees (this is what UnparsedPublicKey calls).
    lc::ECDSA_P256_SHA256_FIXED
        .verify_sig(&point, message, &signature)
        .unwrap();

    ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, &point)
        .verify(message, &signature)
        .unwrap();
    g.bench_function("ES256_ring", |b| {
        b.iter(|| {
            ring::signature::UnparsedPublicKey::new(
                &ring::signature::ECDSA_P256_SHA256_FIXED,
                black_box(&point),
            )
            .verify(black_box(message), black_box(&signature))
        })
    });

    {
        use p256::ecdsa::signature::Verifier as _;
        let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).unwrap();
        let sig = p256::ecdsa::Signature::from_slice(&signature).unwrap();
        key.verify(message, &sig).unwrap();
        g.bench_function("ES256_p256-0.13", |b| {
            b.iter(|| key.verify(black_box(message), black_box(&sig)))
        });
    }

    let huren_key = es.signer_cert.public_key();
    huren_key
        .verify_jws(Algorithm::Es256, message, &signature)
        .unwrap();
    g.bench_function("ES256_huren_PublicKey", |b| {
        b.iter(|| huren_key.verify_jws(Algorithm::Es256, black_box(message), black_box(&signature)))
    });

    // RSA: the licence signers' RSA-3072 keys, and RSA-2048 for comparison with REFERENCE.md.
    let rsa2048 = rsa2048_keys();
    for (alg, verification) in [
        (Algorithm::Ps256, &lc::RSA_PSS_2048_8192_SHA256),
        (Algorithm::Rs256, &lc::RSA_PKCS1_2048_8192_SHA256),
    ] {
        let p = f.province(alg);
        let message = signing_input(&p.token);
        let signature = signature_bytes(&p.token);
        let key =
            lc::ParsedPublicKey::new(verification, p.signer_cert.public_key().spki_der()).unwrap();
        key.verify_sig(message, &signature).unwrap();
        g.bench_function(format!("{}_aws-lc-rs_RSA-3072", alg.name()), |b| {
            b.iter(|| key.verify_sig(black_box(message), black_box(&signature)))
        });

        let signer = if alg == Algorithm::Ps256 {
            &rsa2048.0
        } else {
            &rsa2048.1
        };
        let signature = signer.sign(message).unwrap();
        let spki = signer.public_key_spki_der().unwrap();
        let key = lc::ParsedPublicKey::new(verification, &spki).unwrap();
        key.verify_sig(message, &signature).unwrap();
        g.bench_function(format!("{}_aws-lc-rs_RSA-2048", alg.name()), |b| {
            b.iter(|| key.verify_sig(black_box(message), black_box(&signature)))
        });
    }

    {
        use sm2::dsa::signature::Verifier as _;
        let p = f.province(Algorithm::Sm2Sm3);
        let message = signing_input(&p.token);
        let point = p.signer_cert.public_key().ec_point().unwrap();
        let key = sm2::dsa::VerifyingKey::from_sec1_bytes(
            huren_crypto::key::SM2_DISTINGUISHING_ID,
            &point,
        )
        .unwrap();
        let sig = sm2::dsa::Signature::from_slice(&signature_bytes(&p.token)).unwrap();
        key.verify(message, &sig).unwrap();
        g.bench_function("SM2SM3_sm2-0.13", |b| {
            b.iter(|| key.verify(black_box(message), black_box(&sig)))
        });
        // huren's own SM2 path (crypto/src/sm2/): what licence and seal verification use.
        let huren_key = p.signer_cert.public_key();
        let signature = signature_bytes(&p.token);
        huren_key
            .verify_jws(Algorithm::Sm2Sm3, message, &signature)
            .unwrap();
        g.bench_function("SM2SM3_huren", |b| {
            b.iter(|| {
                huren_key.verify_jws(Algorithm::Sm2Sm3, black_box(message), black_box(&signature))
            })
        });
    }
    g.finish();
}

/// An RSA-2048 key bound to PS256 and the same key bound to RS256.
fn rsa2048_keys() -> (PrivateKey, PrivateKey) {
    use aws_lc_rs::encoding::AsDer as _;
    let key = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let der: aws_lc_rs::encoding::Pkcs8V1Der<'static> = key.as_der().unwrap();
    (
        PrivateKey::from_pkcs8_der(der.as_ref(), Algorithm::Ps256).unwrap(),
        PrivateKey::from_pkcs8_der(der.as_ref(), Algorithm::Rs256).unwrap(),
    )
}

fn full_verify(c: &mut Criterion, f: &Fixture) {
    let mut g = group(c, "full_verify");
    let forms: [(Algorithm, bool); 7] = [
        (Algorithm::Es256, true),
        (Algorithm::Es256, false),
        (Algorithm::Ps256, true),
        (Algorithm::Ps256, false),
        (Algorithm::Rs256, true),
        (Algorithm::Sm2Sm3, true),
        (Algorithm::Sm2Sm3, false),
    ];
    for (alg, from_hr1) in forms {
        let p = f.province(alg);
        let input = if from_hr1 { &p.hr1 } else { &p.token };
        let name = format!("{}_{}", alg.name(), if from_hr1 { "HR1" } else { "JWS" });
        g.bench_function(name, |b| b.iter(|| f.verify(black_box(input))));
    }
    g.finish();
}

/// Annotated copies (SPEC §11) against their licences, per algorithm, from the HR1 text: the
/// copy path adds the copy's own period, audience and status entry (issue 12: within 5 %).
/// The licence rows are repeated here so each pair is measured back to back.
fn copy_verify(c: &mut Criterion, f: &Fixture) {
    let mut g = group(c, "copy_verify");
    for p in &f.provinces {
        let name = p.alg.name();
        g.bench_function(format!("{name}_licence_HR1"), |b| {
            b.iter(|| f.verify(black_box(&p.hr1)))
        });
        g.bench_function(format!("{name}_copy_HR1"), |b| {
            b.iter(|| f.verify_copy(black_box(&p.copy_hr1)))
        });
    }
    g.finish();
}

/// The parts of ES256 `verify_licence` other than the signature, each on its own.
fn steps(c: &mut Criterion, f: &Fixture) {
    let p = f.province(Algorithm::Es256);
    let mut g = group(c, "steps");
    // Microsecond-scale and steady: shorter windows keep the whole run near three minutes.
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(1500));
    g.bench_function("qr_normalise_HR1", |b| {
        b.iter(|| qr::normalise_input(black_box(&p.hr1)))
    });
    g.bench_function("qr_normalise_JWS", |b| {
        b.iter(|| qr::normalise_input(black_box(&p.token)))
    });
    g.bench_function("jws_parse", |b| {
        b.iter(|| UnverifiedJws::parse(black_box(&p.token), Limits::LICENCE))
    });
    let jws = UnverifiedJws::parse(&p.token, Limits::LICENCE).unwrap();
    let x5t = jws.header().x5t_s256.unwrap();
    g.bench_function("trust_signer_lookup", |b| {
        b.iter(|| f.trust.signer(black_box(&x5t)).is_some())
    });
    // What `VerifiedJws::payload` does: base64url decode, then inflate when zip is set.
    let payload_b64 = p.token.split('.').nth(1).unwrap();
    let zip = jws.header().zip;
    let payload = |b64_text: &str| {
        let raw = b64::decode_url(b64_text, MAX_LICENCE_PAYLOAD_BYTES * 4 / 3 + 4).unwrap();
        if zip {
            deflate::inflate(&raw, MAX_LICENCE_PAYLOAD_BYTES).unwrap()
        } else {
            raw
        }
    };
    g.bench_function("payload_b64_decode", |b| {
        b.iter(|| b64::decode_url(black_box(payload_b64), MAX_LICENCE_PAYLOAD_BYTES))
    });
    g.bench_function("payload_b64_and_inflate", |b| {
        b.iter(|| payload(black_box(payload_b64)))
    });
    let json = payload(payload_b64);
    g.bench_function("claims_serde_parse", |b| {
        b.iter(|| serde_json::from_slice::<LicenceClaims>(black_box(&json)).unwrap())
    });
    // Proposed replacements, to size the fixes (see bench/README.md "Where the time goes").
    assert_eq!(
        normalise_proposed(&p.hr1).unwrap(),
        qr::normalise_input(&p.hr1).unwrap()
    );
    assert_eq!(
        normalise_proposed(&p.token).unwrap(),
        qr::normalise_input(&p.token).unwrap()
    );
    for bad in [
        "",
        " \n",
        "HR1:123",
        "HR1:12a4",
        "HR1:99",
        "eyJh.eyJi.c2ln!",
        "HR1:ab",
    ] {
        assert!(normalise_proposed(bad).is_err() && qr::normalise_input(bad).is_err());
    }
    g.bench_function("qr_normalise_HR1_proposed", |b| {
        b.iter(|| normalise_proposed(black_box(&p.hr1)))
    });
    g.bench_function("qr_normalise_JWS_proposed", |b| {
        b.iter(|| normalise_proposed(black_box(&p.token)))
    });
    let raw = b64::decode_url(payload_b64, MAX_LICENCE_PAYLOAD_BYTES).unwrap();
    if zip {
        assert_eq!(inflate_zlib_rs(&raw), json);
        assert_eq!(inflate_libdeflate(&raw), json);
        assert_eq!(inflate_libdeflate_reused(&raw), json);
        assert_eq!(inflate_miniz_reused(&raw), json);
        g.bench_function("inflate_miniz_oxide", |b| {
            b.iter(|| deflate::inflate(black_box(&raw), MAX_LICENCE_PAYLOAD_BYTES).unwrap())
        });
        g.bench_function("inflate_miniz_oxide_reused_state", |b| {
            b.iter(|| inflate_miniz_reused(black_box(&raw)))
        });
        g.bench_function("inflate_zlib-rs", |b| {
            b.iter(|| inflate_zlib_rs(black_box(&raw)))
        });
        g.bench_function("inflate_libdeflate", |b| {
            b.iter(|| inflate_libdeflate(black_box(&raw)))
        });
        g.bench_function("inflate_libdeflate_reused_state", |b| {
            b.iter(|| inflate_libdeflate_reused(black_box(&raw)))
        });
    }
    let claims = &p.claims;
    g.bench_function("id_and_holder_checks", |b| {
        b.iter(|| {
            let c = black_box(claims);
            (
                c.jti.check_ok(),
                c.licence
                    .holder
                    .id_type
                    .validate(&c.licence.holder.id)
                    .is_ok(),
            )
        })
    });
    let uri = &claims.status.as_ref().unwrap().status_list.uri;
    g.bench_function("status_lookup", |b| {
        b.iter(|| {
            use huren_crypto::verify::StatusSource as _;
            let list = f.status.status_list(black_box(uri)).unwrap();
            (list.is_fresh(f.at, 300), list.status(STATUS_IDX))
        })
    });
    g.bench_function("rfc3339_china_format", |b| {
        b.iter(|| black_box(f.at).to_rfc3339_china())
    });
    g.finish();
}

/// A byte-oriented `qr::normalise_input` (same accepted language): one branch-free pass over
/// the trimmed input decoding digit pairs through a table into bytes, instead of collecting
/// `char`s into a `String` and pushing `char`s one by one; whitespace inside the text (rare:
/// scanners that split lines) is only looked for when that pass fails.
fn normalise_proposed(input: &str) -> Result<String, &'static str> {
    if input.len() > qr::MAX_INPUT_BYTES {
        return Err("too long");
    }
    let trimmed = input.trim_ascii();
    match normalise_compact(trimmed) {
        Ok(token) => Ok(token),
        Err(_) if trimmed.bytes().any(|b| b.is_ascii_whitespace()) => {
            normalise_compact(&trimmed.replace(|c: char| c.is_ascii_whitespace(), ""))
        }
        Err(e) => Err(e),
    }
}

/// Branch-free and table-free, so the decoding loop vectorizes.
fn is_jws_byte(c: u8) -> bool {
    (c.wrapping_sub(b'0') < 10)
        | (c.wrapping_sub(b'A') < 26)
        | (c.wrapping_sub(b'a') < 26)
        | (c == b'-')
        | (c == b'.')
        | (c == b'_')
}

fn normalise_compact(compact: &str) -> Result<String, &'static str> {
    let bytes = compact.as_bytes();
    if bytes.is_empty() {
        return Err("empty");
    }
    let has_prefix = bytes.len() >= qr::PREFIX.len()
        && bytes[..qr::PREFIX.len()].eq_ignore_ascii_case(qr::PREFIX.as_bytes());
    if !has_prefix {
        return if bytes.iter().fold(true, |ok, &b| ok & is_jws_byte(b)) {
            Ok(compact.to_owned())
        } else {
            Err("invalid token character")
        };
    }
    let digits = &bytes[qr::PREFIX.len()..];
    if digits.len() % 2 != 0 {
        return Err("odd digit count");
    }
    let mut ok = true;
    let mut token = vec![0u8; digits.len() / 2];
    for (out, pair) in token.iter_mut().zip(digits.chunks_exact(2)) {
        let (tens, units) = (pair[0].wrapping_sub(b'0'), pair[1].wrapping_sub(b'0'));
        let c = tens.wrapping_mul(10).wrapping_add(units).wrapping_add(45);
        ok &= (tens <= 9) & (units <= 9) & is_jws_byte(c);
        *out = c;
    }
    if !ok {
        // The position-precise error of the current code would be computed here, off the
        // hot path.
        return Err("not a digit pair of a JWS character");
    }
    String::from_utf8(token).map_err(|_| "unreachable: ASCII")
}

/// Output buffer for the one-shot inflaters: the payload limit, or 16x the input if smaller
/// (a real implementation retries with the full limit when that is too small).
fn inflate_capacity(deflated: &[u8]) -> usize {
    (deflated.len() * 16 + 1024).min(MAX_LICENCE_PAYLOAD_BYTES)
}

/// miniz_oxide with its ~11 KB decompressor state kept per thread instead of allocated and
/// zeroed per call, into a pre-sized buffer.
fn inflate_miniz_reused(deflated: &[u8]) -> Vec<u8> {
    use miniz_oxide::inflate::core::{decompress, inflate_flags, DecompressorOxide};
    use miniz_oxide::inflate::TINFLStatus;
    thread_local! {
        static STATE: std::cell::RefCell<Box<DecompressorOxide>> =
            std::cell::RefCell::new(Box::default());
    }
    STATE.with(|state| {
        let mut state = state.borrow_mut();
        state.init();
        let mut out = vec![0u8; inflate_capacity(deflated)];
        let (status, _, written) = decompress(
            &mut state,
            deflated,
            &mut out,
            0,
            inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
        );
        assert_eq!(status, TINFLStatus::Done);
        out.truncate(written);
        out
    })
}

fn inflate_zlib_rs(deflated: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; inflate_capacity(deflated)];
    let config = zlib_rs::InflateConfig { window_bits: -15 };
    let (written, rc) = zlib_rs::decompress_slice(&mut out, deflated, config);
    assert_eq!(rc, zlib_rs::ReturnCode::Ok);
    let written = written.len();
    out.truncate(written);
    out
}

/// libdeflate with one decompressor per thread, an output buffer sized from the input, and a
/// retry at the full limit when that is too small.
fn inflate_libdeflate_reused(deflated: &[u8]) -> Vec<u8> {
    thread_local! {
        static STATE: std::cell::RefCell<libdeflater::Decompressor> =
            std::cell::RefCell::new(libdeflater::Decompressor::new());
    }
    STATE.with(|state| {
        let mut state = state.borrow_mut();
        let mut out = vec![0u8; (deflated.len() * 4 + 256).min(MAX_LICENCE_PAYLOAD_BYTES)];
        let written = match state.deflate_decompress(deflated, &mut out) {
            Ok(written) => written,
            Err(libdeflater::DecompressionError::InsufficientSpace) => {
                out = vec![0u8; MAX_LICENCE_PAYLOAD_BYTES];
                state.deflate_decompress(deflated, &mut out).unwrap()
            }
            Err(e) => panic!("{e}"),
        };
        out.truncate(written);
        out
    })
}

fn inflate_libdeflate(deflated: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; inflate_capacity(deflated)];
    let written = libdeflater::Decompressor::new()
        .deflate_decompress(deflated, &mut out)
        .unwrap();
    out.truncate(written);
    out
}

fn sign(c: &mut Criterion, f: &Fixture) {
    let mut g = group(c, "sign");
    // RSA-3072 signing takes over a millisecond: flat sampling keeps the run short.
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let message = signing_input(&f.province(Algorithm::Es256).token).to_vec();
    for p in &f.provinces {
        let key = p.signer_cert.public_key();
        g.bench_function(
            format!("{}_raw_{}-{}", p.alg.name(), key.kind(), key.bits()),
            |b| b.iter(|| p.signer.sign(black_box(&message)).unwrap()),
        );
    }
    {
        // The reference: the RustCrypto sm2 crate's own signer, which huren's replaced.
        use sm2::dsa::signature::RandomizedSigner as _;
        let reference = sm2::dsa::SigningKey::new(
            huren_crypto::key::SM2_DISTINGUISHING_ID,
            &sm2::SecretKey::random(&mut rand_core::OsRng),
        )
        .unwrap();
        g.bench_function("SM2SM3_raw_sm2-0.13", |b| {
            b.iter(|| -> sm2::dsa::Signature {
                reference.sign_with_rng(&mut rand_core::OsRng, black_box(&message))
            })
        });
    }
    let rsa2048 = rsa2048_keys();
    for signer in [&rsa2048.0, &rsa2048.1] {
        g.bench_function(format!("{}_raw_RSA-2048", signer.algorithm().name()), |b| {
            b.iter(|| signer.sign(black_box(&message)).unwrap())
        });
    }
    for p in &f.provinces {
        let x5t = p.signer_cert.x5t_s256();
        g.bench_function(format!("{}_licence", p.alg.name()), |b| {
            b.iter(|| black_box(&p.claims).sign(&p.signer, x5t).unwrap())
        });
    }
    g.finish();
}

/// Where criterion keeps its estimates, decided as criterion decides it: `CRITERION_HOME`,
/// else `CARGO_TARGET_DIR`, else (under cargo) the workspace target directory, else
/// `./target`.
fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    if std::env::var_os("CARGO").is_some() {
        return PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("target")
            .join("criterion");
    }
    PathBuf::from("target").join("criterion")
}

/// Median seconds per iteration of one benchmark, if it ran in this process (its estimates
/// were written after `since`).
fn median_seconds(group: &str, bench: &str, since: SystemTime) -> Option<f64> {
    let path = criterion_dir()
        .join(group)
        .join(bench)
        .join("new")
        .join("estimates.json");
    if std::fs::metadata(&path).ok()?.modified().ok()? < since {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value["median"]["point_estimate"]
        .as_f64()
        .map(|ns| ns / 1e9)
}

fn summary(since: SystemTime) {
    let dir = criterion_dir();
    let mut rows = Vec::new();
    for group in ["raw_verify", "full_verify", "copy_verify", "steps", "sign"] {
        let Ok(entries) = std::fs::read_dir(dir.join(group)) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != "report")
            .collect();
        names.sort();
        for name in names {
            if let Some(s) = median_seconds(group, &name, since) {
                rows.push((group, name, s));
            }
        }
    }
    if rows.is_empty() {
        return;
    }
    eprintln!("\nsummary of this run (criterion medians, one thread):");
    eprintln!(
        "  {:<12} {:<30} {:>12} {:>12}",
        "group", "benchmark", "µs/op", "ops/s"
    );
    for (group, name, s) in &rows {
        eprintln!(
            "  {group:<12} {name:<30} {:>12.2} {:>12.0}",
            s * 1e6,
            1.0 / s
        );
    }
    copy_ratios(since);
    let fastest_raw = [
        "ES256_aws-lc-rs_parsed",
        "ES256_aws-lc-rs_unparsed",
        "ES256_ring",
        "ES256_p256-0.13",
    ]
    .iter()
    .filter_map(|b| median_seconds("raw_verify", b, since).map(|s| (*b, s)))
    .min_by(|a, b| a.1.total_cmp(&b.1));
    if let (Some((backend, raw)), Some(full)) = (
        fastest_raw,
        median_seconds("full_verify", "ES256_HR1", since),
    ) {
        let ratio = raw / full;
        eprintln!(
            "\nES256 full verification from HR1 text: {:.0}/s = {:.1} % of raw {backend} ({:.0}/s); target ≥ 85 %: {}",
            1.0 / full,
            ratio * 100.0,
            1.0 / raw,
            if ratio >= 0.85 { "met" } else { "NOT met" }
        );
    }
}

/// Copy against licence verification time per algorithm (issue 12's target: at most 1.05).
fn copy_ratios(since: SystemTime) {
    for alg in Algorithm::ALL {
        let name = alg.name();
        let licence = median_seconds("copy_verify", &format!("{name}_licence_HR1"), since);
        let copy = median_seconds("copy_verify", &format!("{name}_copy_HR1"), since);
        if let (Some(licence), Some(copy)) = (licence, copy) {
            let ratio = copy / licence;
            eprintln!(
                "{name} copy verification: {:.0}/s, {:.3}× the licence's time ({:.0}/s); target ≤ 1.05: {}",
                1.0 / copy,
                ratio,
                1.0 / licence,
                if ratio <= 1.05 { "met" } else { "NOT met" }
            );
        }
    }
}

/// The loop the profiling hook runs; not inlined so callgrind can be told to count only it
/// (`--toggle-collect='*profile_loop*'`).
#[inline(never)]
fn profile_loop(f: &Fixture, loops: u64) {
    let p = f.province(Algorithm::Es256);
    let mut valid = 0u64;
    for _ in 0..loops {
        valid += u64::from(f.verify(black_box(&p.hr1)).verdict == Verdict::Valid);
    }
    assert_eq!(valid, loops);
}

/// The proposed replacements, for instruction counts next to the current code
/// (`--toggle-collect='*profile_proposals*'`).
#[inline(never)]
fn profile_proposals(f: &Fixture, loops: u64) {
    let p = f.province(Algorithm::Es256);
    let raw = b64::decode_url(p.token.split('.').nth(1).unwrap(), 1 << 20).unwrap();
    for _ in 0..loops {
        black_box(qr::normalise_input(black_box(&p.hr1)).unwrap());
        black_box(normalise_proposed(black_box(&p.hr1)).unwrap());
        black_box(normalise_proposed(black_box(&p.token)).unwrap());
        black_box(deflate::inflate(black_box(&raw), MAX_LICENCE_PAYLOAD_BYTES).unwrap());
        black_box(inflate_miniz_reused(black_box(&raw)));
        black_box(inflate_zlib_rs(black_box(&raw)));
        black_box(inflate_libdeflate(black_box(&raw)));
        black_box(inflate_libdeflate_reused(black_box(&raw)));
    }
}

/// The full/raw ratio once more, measured as alternating short blocks of raw ES256
/// (aws-lc-rs, parsed key) and full ES256 verification, so that load from other processes on a
/// shared machine hits both sides alike. Prints the ratio of the median blocks and of the
/// fastest blocks (the least disturbed).
fn interleaved_ratio(f: &Fixture) {
    use aws_lc_rs::signature as lc;
    const ROUNDS: usize = 60;
    const BLOCK: u32 = 200;
    let p = f.province(Algorithm::Es256);
    let message = signing_input(&p.token);
    let signature = signature_bytes(&p.token);
    let point = p.signer_cert.public_key().ec_point().unwrap();
    let parsed = lc::ParsedPublicKey::new(&lc::ECDSA_P256_SHA256_FIXED, &point).unwrap();
    let time_block = |op: &dyn Fn()| {
        let start = std::time::Instant::now();
        for _ in 0..BLOCK {
            op();
        }
        start.elapsed().as_secs_f64() / f64::from(BLOCK)
    };
    let raw_op = || {
        parsed
            .verify_sig(black_box(message), black_box(&signature))
            .unwrap();
    };
    let hr1_op = || {
        black_box(f.verify(black_box(&p.hr1)));
    };
    let jws_op = || {
        black_box(f.verify(black_box(&p.token)));
    };
    // The two proposed replacements against the current code, for a projection.
    let deflated = b64::decode_url(p.token.split('.').nth(1).unwrap(), 1 << 20).unwrap();
    let zip = UnverifiedJws::parse(&p.token, Limits::LICENCE)
        .unwrap()
        .header()
        .zip;
    let qr_now = || {
        black_box(qr::normalise_input(black_box(&p.hr1)).unwrap());
    };
    let qr_new = || {
        black_box(normalise_proposed(black_box(&p.hr1)).unwrap());
    };
    let inflate_now = || {
        if zip {
            black_box(deflate::inflate(black_box(&deflated), MAX_LICENCE_PAYLOAD_BYTES).unwrap());
        }
    };
    let inflate_new = || {
        if zip {
            black_box(inflate_libdeflate_reused(black_box(&deflated)));
        }
    };
    let (mut raw, mut hr1, mut jws) = (Vec::new(), Vec::new(), Vec::new());
    let mut saved = Vec::new();
    for _ in 0..ROUNDS {
        raw.push(time_block(&raw_op));
        hr1.push(time_block(&hr1_op));
        jws.push(time_block(&jws_op));
        saved.push(
            time_block(&qr_now) - time_block(&qr_new) + time_block(&inflate_now)
                - time_block(&inflate_new),
        );
    }
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let best = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    for (what, pick) in [
        ("median", &median as &dyn Fn(&[f64]) -> f64),
        ("fastest", &best),
    ] {
        let (raw, hr1, jws) = (pick(&raw), pick(&hr1), pick(&jws));
        let projected = hr1 - median(&saved);
        eprintln!(
            "interleaved, {what} of {ROUNDS} blocks of {BLOCK}: raw ES256 {:.0}/s, full HR1 {:.0}/s ({:.1} %), full JWS {:.0}/s ({:.1} %); HR1 with the proposed QR decode and inflate: {:.0}/s ({:.1} %)",
            1.0 / raw,
            1.0 / hr1,
            raw / hr1 * 100.0,
            1.0 / jws,
            raw / jws * 100.0,
            1.0 / projected,
            raw / projected * 100.0,
        );
    }
}

/// Copy against licence verification as alternating blocks per algorithm (robust against other
/// load on a shared machine, as `interleaved_ratio`): median and fastest block ratios.
fn interleaved_copy_ratio(f: &Fixture) {
    const ROUNDS: usize = 40;
    const BLOCK: u32 = 100;
    for p in &f.provinces {
        let time_block = |op: &dyn Fn()| {
            let start = std::time::Instant::now();
            for _ in 0..BLOCK {
                op();
            }
            start.elapsed().as_secs_f64() / f64::from(BLOCK)
        };
        let (mut licence, mut copy) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            licence.push(time_block(&|| {
                black_box(f.verify(black_box(&p.hr1)));
            }));
            copy.push(time_block(&|| {
                black_box(f.verify_copy(black_box(&p.copy_hr1)));
            }));
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (licence_best, copy_best) = (
            licence.iter().copied().fold(f64::INFINITY, f64::min),
            copy.iter().copied().fold(f64::INFINITY, f64::min),
        );
        let (licence, copy) = (median(&mut licence), median(&mut copy));
        eprintln!(
            "interleaved, {ROUNDS} blocks of {BLOCK}: {} copy/licence time {:.3} (median; {:.0}/s vs {:.0}/s), {:.3} (fastest); target ≤ 1.05",
            p.alg.name(),
            copy / licence,
            1.0 / copy,
            1.0 / licence,
            copy_best / licence_best,
        );
    }
}

fn main() {
    // The start of this run, from the file system's clock (the one estimates are stamped with).
    let marker = tempfile::NamedTempFile::new().unwrap();
    let started = marker.as_file().metadata().unwrap().modified().unwrap();
    // Profiling hook: `HUREN_BENCH_PROFILE_LOOPS=N` verifies the ES256 licence from its HR1
    // text N times and exits, for `valgrind --tool=callgrind` or `perf record` (see README).
    if let Some(loops) = std::env::var("HUREN_BENCH_PROFILE_LOOPS")
        .ok()
        .and_then(|n| n.parse::<u64>().ok())
    {
        let fixture = Fixture::build(&[Algorithm::Es256]);
        fixture.assert_valid();
        profile_loop(&fixture, loops);
        profile_proposals(&fixture, loops);
        return;
    }

    let fixture = Fixture::build(&Algorithm::ALL);
    fixture.assert_valid();
    fixture.print_sizes();

    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50)
        .configure_from_args();
    raw_verify(&mut c, &fixture);
    full_verify(&mut c, &fixture);
    copy_verify(&mut c, &fixture);
    steps(&mut c, &fixture);
    sign(&mut c, &fixture);
    c.final_summary();

    // `cargo bench` passes `--bench`; `cargo test --benches` runs each benchmark once instead.
    if std::env::args().any(|a| a == "--bench") {
        summary(started);
        interleaved_ratio(&fixture);
        interleaved_copy_ratio(&fixture);
    }
}
