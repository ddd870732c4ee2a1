//! SM2 conformance of `huren_crypto::sm2` (whatever backend it uses): a differential test
//! against OpenSSL 3 in both directions, the edge cases a verifier must refuse (checked against
//! OpenSSL's verdict too), and a non-default distinguishing ID. The GB/T 32918.5 worked example
//! lives in tests/conformance.rs (`gbt32918`) and in the module's unit tests.
//!
//! OpenSSL is reached in bulk through `tests/openssl_sm2.py` (the library calls `openssl dgst`
//! makes, in one process: one `openssl dgst` per signature would take minutes for 10,000), and
//! a sample goes through the `openssl dgst -sm3 -sigopt distid:…` command itself. Keys and
//! messages come from SM3 of a counter, so every run checks the same triples; the signatures
//! differ per run (random nonces). `HUREN_SM2_DIFF_COUNT` changes the count (default 10,000).

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use huren_crypto::key::{ecdsa_der_to_raw, ecdsa_raw_to_der};
use huren_crypto::sm2::{SigningKey, VerifyingKey, DEFAULT_ID};
use sm3::{Digest, Sm3};

/// The group order n, big-endian.
const ORDER: &str = "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123";
/// The field prime p, big-endian.
const PRIME: &str = "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF";

fn hex(text: &str) -> Vec<u8> {
    hex::decode(text).unwrap_or_else(|e| panic!("test hex {text}: {e}"))
}

fn count() -> usize {
    std::env::var("HUREN_SM2_DIFF_COUNT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

/// The i-th test key: d = SM3("huren sm2 differential key" ‖ i), which is in 1..n-2 for every
/// i used here (the chance of missing is about 2^-32 per key).
fn key(i: usize) -> SigningKey {
    let d = Sm3::new()
        .chain_update(b"huren sm2 differential key")
        .chain_update((i as u64).to_be_bytes())
        .finalize();
    SigningKey::from_bytes(&d).unwrap_or_else(|e| panic!("test key {i}: {e}"))
}

/// The i-th message: 0..=299 bytes (the empty message included), from SM3 in counter mode.
fn message(i: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut block = 0u32;
    while out.len() < i % 300 {
        out.extend_from_slice(
            &Sm3::new()
                .chain_update(b"huren sm2 differential message")
                .chain_update((i as u64).to_be_bytes())
                .chain_update(block.to_be_bytes())
                .finalize(),
        );
        block += 1;
    }
    out.truncate(i % 300);
    out
}

/// Runs `tests/openssl_sm2.py MODE ID` over `lines`, returning its output lines.
fn openssl_bulk(mode: &str, id: &str, lines: &[String]) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/openssl_sm2.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .args([mode, id])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("python3 (needed for the OpenSSL differential test): {e}"));
    let mut stdin = child.stdin.take().unwrap_or_else(|| panic!("stdin"));
    let input = lines.join("\n") + "\n";
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    writer
        .join()
        .unwrap_or_else(|_| panic!("writer"))
        .unwrap_or_else(|e| panic!("write to openssl_sm2.py: {e}"));
    assert!(output.status.success(), "openssl_sm2.py {mode} failed");
    let lines: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    lines
}

fn pkcs8_hex(key: &SigningKey) -> String {
    hex::encode(&*key.to_pkcs8_der().unwrap_or_else(|e| panic!("{e}")))
}

fn spki_hex(key: &VerifyingKey) -> String {
    hex::encode(key.to_spki_der().unwrap_or_else(|e| panic!("{e}")))
}

fn raw(der_hex: &str) -> [u8; 64] {
    ecdsa_der_to_raw(&hex(der_hex)).unwrap_or_else(|| panic!("OpenSSL signature {der_hex}"))
}

#[test]
fn openssl_signatures_verify_in_huren_and_tampered_ones_do_not() {
    // A key per triple: every verification takes the path of a key's first verifications.
    openssl_signatures_verify(count(), count());
}

/// Four keys for half as many triples: each key soon verifies often enough to get its own
/// fixed-base comb (crypto/src/sm2/comb.rs), so most verdicts here come from that path.
#[test]
fn openssl_signatures_verify_through_a_busy_keys_comb() {
    openssl_signatures_verify(count() / 2, 4);
}

/// `n` OpenSSL signatures by `keys_in_use` keys (triple i uses key i mod keys_in_use), each
/// verified, then refused over another message and with one bit flipped.
fn openssl_signatures_verify(n: usize, keys_in_use: usize) {
    let keys: Vec<SigningKey> = (0..keys_in_use.min(n)).map(key).collect();
    let key_of = |i: usize| &keys[i % keys.len()];
    let messages: Vec<Vec<u8>> = (0..n).map(message).collect();
    let requests: Vec<String> = (0..n)
        .map(|i| format!("{} {}", pkcs8_hex(key_of(i)), hex::encode(&messages[i])))
        .collect();
    let signatures = openssl_bulk("sign", DEFAULT_ID, &requests);
    assert_eq!(signatures.len(), n);
    for (i, signature) in signatures.iter().enumerate() {
        let public = key_of(i).verifying_key();
        let signature = raw(signature);
        assert_eq!(
            public.verify(&messages[i], &signature),
            Ok(()),
            "triple {i}: OpenSSL's signature must verify in huren"
        );
        let mut other = messages[i].clone();
        other.push(0);
        assert!(public.verify(&other, &signature).is_err(), "triple {i}");
        let mut flipped = signature;
        flipped[i % 64] ^= 1 << (i % 8);
        assert!(public.verify(&messages[i], &flipped).is_err(), "triple {i}");
    }
    eprintln!(
        "{n} OpenSSL signatures by {} keys verified in huren, {} tampered refused",
        keys.len(),
        2 * n
    );
}

#[test]
fn huren_signatures_verify_in_openssl_and_tampered_ones_do_not() {
    let n = count();
    let mut rng = rand_core::OsRng;
    let mut requests = Vec::with_capacity(n + n / 10);
    let mut expected = Vec::with_capacity(n + n / 10);
    for i in 0..n {
        let key = key(i);
        let message = message(i);
        let signature = key
            .sign(&mut rng, &message)
            .unwrap_or_else(|e| panic!("{e}"));
        let spki = spki_hex(key.verifying_key());
        let der = |raw: &[u8]| hex::encode(ecdsa_raw_to_der(raw).unwrap_or_default());
        requests.push(format!(
            "{spki} {} {}",
            hex::encode(&message),
            der(&signature)
        ));
        expected.push("1");
        if i % 10 == 0 {
            let mut flipped = signature;
            flipped[63 - i % 64] ^= 0x80;
            requests.push(format!(
                "{spki} {} {}",
                hex::encode(&message),
                der(&flipped)
            ));
            expected.push("0");
        }
    }
    let verdicts = openssl_bulk("verify", DEFAULT_ID, &requests);
    assert_eq!(
        verdicts, expected,
        "OpenSSL's verdicts on huren's signatures"
    );
    eprintln!(
        "{n} huren signatures verified by OpenSSL, {} tampered refused",
        expected.len() - n
    );
}

#[test]
fn a_non_default_distinguishing_id_binds_both_ways() {
    const ID: &str = "ALICE123@YAHOO.COM";
    let keys: Vec<SigningKey> = (0..50).map(|i| key(1_000_000 + i)).collect();
    let requests: Vec<String> = (0..50)
        .map(|i| format!("{} {}", pkcs8_hex(&keys[i]), hex::encode(message(i))))
        .collect();
    let signatures = openssl_bulk("sign", ID, &requests);
    for (i, signature) in signatures.iter().enumerate() {
        let point = keys[i].verifying_key().to_sec1();
        let under_id =
            VerifyingKey::from_sec1_with_id(&point, ID).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(under_id.verify(&message(i), &raw(signature)), Ok(()));
        assert!(keys[i]
            .verifying_key()
            .verify(&message(i), &raw(signature))
            .is_err());
    }
    // A huren signature (default ID) is refused by OpenSSL told to expect the other ID.
    let key = &keys[0];
    let signature = key
        .sign(&mut rand_core::OsRng, b"id")
        .unwrap_or_else(|e| panic!("{e}"));
    let der = hex::encode(ecdsa_raw_to_der(&signature).unwrap_or_default());
    let line = format!(
        "{} {} {der}",
        spki_hex(key.verifying_key()),
        hex::encode(b"id")
    );
    assert_eq!(
        openssl_bulk("verify", ID, std::slice::from_ref(&line)),
        ["0"]
    );
    assert_eq!(openssl_bulk("verify", DEFAULT_ID, &[line]), ["1"]);
}

/// Replaces bytes `range` of a copy of `bytes` with `value`.
fn with(bytes: &[u8], at: usize, value: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at..at + value.len()].copy_from_slice(value);
    out
}

fn sub_be(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; a.len()];
    let mut borrow = 0i16;
    for i in (0..a.len()).rev() {
        let v = a[i] as i16 - b[i] as i16 - borrow;
        borrow = i16::from(v < 0);
        out[i] = v.rem_euclid(256) as u8;
    }
    out
}

#[test]
fn malformed_signatures_and_keys_are_refused_by_huren_as_by_openssl() {
    let key = key(7);
    let public = key.verifying_key();
    let message = b"edge cases".to_vec();
    let good = key
        .sign(&mut rand_core::OsRng, &message)
        .unwrap_or_else(|e| panic!("{e}"));
    let (r, s) = (&good[..32], &good[32..]);
    let n = hex(ORDER);
    let n_plus_1 = with(&n, 31, &[n[31] + 1]);
    let mut one = [0u8; 32];
    one[31] = 1;
    let n_minus_1 = sub_be(&n, &one);
    let n_minus_r = sub_be(&n, r);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("r = 0", [&[0u8; 32][..], s].concat()),
        ("s = 0", [r, &[0u8; 32][..]].concat()),
        ("r = n", [&n[..], s].concat()),
        ("s = n", [r, &n[..]].concat()),
        ("r = n + 1", [&n_plus_1[..], s].concat()),
        ("s = n + 1", [r, &n_plus_1[..]].concat()),
        (
            "r = 2^256 - 1 (all high bits)",
            [&[0xFF; 32][..], s].concat(),
        ),
        (
            "s = 2^256 - 1 (all high bits)",
            [r, &[0xFF; 32][..]].concat(),
        ),
        (
            "r = n - 1, s = n - 1",
            [&n_minus_1[..], &n_minus_1[..]].concat(),
        ),
        ("r + s = n", [r, &n_minus_r[..]].concat()),
        ("r = s = 1", [&one[..], &one[..]].concat()),
        ("s and r swapped", [s, r].concat()),
    ];
    let spki = spki_hex(public);
    let mut lines = Vec::new();
    for (what, signature) in &cases {
        assert!(
            public.verify(&message, signature).is_err(),
            "huren accepted {what}"
        );
        let der = ecdsa_raw_to_der(signature).unwrap_or_else(|| panic!("{what}"));
        lines.push(format!(
            "{spki} {} {}",
            hex::encode(&message),
            hex::encode(der)
        ));
    }
    let verdicts = openssl_bulk("verify", DEFAULT_ID, &lines);
    assert_eq!(verdicts, vec!["0"; cases.len()], "OpenSSL on {cases:?}");
    for length in [0usize, 32, 63, 65, 72] {
        let signature = vec![1u8; length];
        assert!(
            public.verify(&message, &signature).is_err(),
            "length {length}"
        );
    }
    assert_eq!(public.verify(&message, &good), Ok(()));

    // Public keys: not on the curve, the identity, coordinates ≥ p, bad encodings.
    let point = public.to_sec1();
    let mut off_curve = point;
    off_curve[64] ^= 1;
    let p = hex(PRIME);
    let bad_points: Vec<(&str, Vec<u8>)> = vec![
        ("y flipped: not on the curve", off_curve.to_vec()),
        ("the identity (SEC1 0x00)", vec![0x00]),
        ("x = p", [&[0x04][..], &p, &point[33..]].concat()),
        ("y = y + p overflow form", [&point[..33], &p[..]].concat()),
        (
            "all zero coordinates",
            [&[0x04][..], &[0u8; 64][..]].concat(),
        ),
        ("unknown tag 0x05", with(&point, 0, &[0x05])),
        ("hybrid tag 0x06", with(&point, 0, &[0x06])),
        ("truncated", point[..64].to_vec()),
        ("empty", Vec::new()),
    ];
    let mut key_lines = Vec::new();
    for (what, bytes) in &bad_points {
        assert!(
            VerifyingKey::from_sec1(bytes).is_err(),
            "huren accepted the public key: {what}"
        );
        if bytes.len() == 65 {
            // The same SPKI shape as a good key with the bad point in place.
            let good_spki = hex(&spki);
            let at = good_spki.len() - 65;
            key_lines.push(format!(
                "{} {} {}",
                hex::encode(with(&good_spki, at, bytes)),
                hex::encode(&message),
                hex::encode(ecdsa_raw_to_der(&good).unwrap_or_default())
            ));
        }
    }
    let verdicts = openssl_bulk("verify", DEFAULT_ID, &key_lines);
    assert!(
        verdicts.iter().all(|v| v != "1"),
        "OpenSSL accepted a bad key: {verdicts:?}"
    );

    // The compressed form of the same key verifies the same signatures.
    let mut compressed = point[..33].to_vec();
    compressed[0] = 0x02 | (point[64] & 1);
    let reparsed = VerifyingKey::from_sec1(&compressed).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(reparsed.to_sec1(), point);
    assert_eq!(reparsed.verify(&message, &good), Ok(()));
}

/// The same check through the `openssl dgst` command line itself, on a sample (one process
/// per signature). OpenSSL 3.0's `dgst -verify` gives "Verification failure" for every SM2
/// signature when the public key is a PEM file, but verifies with the DER form (`-keyform
/// DER`), so DER it is.
#[test]
fn openssl_dgst_command_agrees_on_a_sample() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let distid = format!("distid:{DEFAULT_ID}");
    let run = |args: &[&str]| -> (bool, String) {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap_or_else(|e| panic!("openssl: {e}"));
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    for i in 0..20 {
        let key = key(2_000_000 + i);
        let message = message(i * 37);
        let write = |name: &str, bytes: &[u8]| {
            std::fs::write(dir.path().join(name), bytes).unwrap_or_else(|e| panic!("{e}"))
        };
        write(
            "key.der",
            &key.to_pkcs8_der().unwrap_or_else(|e| panic!("{e}")),
        );
        write(
            "pub.der",
            &key.verifying_key()
                .to_spki_der()
                .unwrap_or_else(|e| panic!("{e}")),
        );
        write("msg", &message);
        // huren signs, `openssl dgst -verify` checks.
        let ours = key
            .sign(&mut rand_core::OsRng, &message)
            .unwrap_or_else(|e| panic!("{e}"));
        write("ours.sig", &ecdsa_raw_to_der(&ours).unwrap_or_default());
        let (ok, out) = run(&[
            "dgst",
            "-sm3",
            "-verify",
            "pub.der",
            "-keyform",
            "DER",
            "-sigopt",
            &distid,
            "-signature",
            "ours.sig",
            "msg",
        ]);
        assert!(ok && out.contains("Verified OK"), "sample {i}: {out}");
        // `openssl dgst -sign` signs, huren checks.
        let (ok, _) = run(&[
            "dgst",
            "-sm3",
            "-sign",
            "key.der",
            "-keyform",
            "DER",
            "-sigopt",
            &distid,
            "-out",
            "theirs.sig",
            "msg",
        ]);
        assert!(ok, "sample {i}: openssl dgst -sign failed");
        let theirs = std::fs::read(dir.path().join("theirs.sig")).unwrap_or_else(|e| panic!("{e}"));
        let theirs = ecdsa_der_to_raw(&theirs).unwrap_or_else(|| panic!("sample {i}"));
        assert_eq!(
            key.verifying_key().verify(&message, &theirs),
            Ok(()),
            "sample {i}"
        );
    }
}

/// A deterministic "RNG" (SM3 in counter mode), so two signers can be handed the same bytes.
#[derive(Clone)]
struct CounterRng(u64);

impl rand_core::RngCore for CounterRng {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }
    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(32) {
            self.0 += 1;
            let block = Sm3::new().chain_update(self.0.to_be_bytes()).finalize();
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rand_core::CryptoRng for CounterRng {}

/// huren's signer derives its nonce exactly as the RustCrypto `sm2` crate does (RFC 6979 over
/// SM3, hedged with 32 bytes from the RNG) but computes k·G, r and s on its own path (the
/// fixed-base comb), so given the same RNG bytes the two must produce the same signature, byte
/// for byte: any slip in the comb, the reduction of x1 or s = (1 + d)⁻¹(k − r·d) shows here.
#[test]
fn signatures_are_byte_identical_to_the_sm2_crates_for_the_same_rng_bytes() {
    use sm2::dsa::signature::RandomizedSigner as _;
    for i in 0..500 {
        let d = Sm3::new()
            .chain_update(b"huren sm2 differential key")
            .chain_update((i as u64).to_be_bytes())
            .finalize();
        let ours = SigningKey::from_bytes(&d).unwrap();
        let secret = sm2::SecretKey::from_slice(&d).unwrap();
        let reference = sm2::dsa::SigningKey::new(DEFAULT_ID, &secret).unwrap();
        let message = message(i);
        let rng = CounterRng(i as u64 * 1_000_000);
        let expected: sm2::dsa::Signature = reference.sign_with_rng(&mut rng.clone(), &message);
        let signature = ours.sign(&mut rng.clone(), &message).unwrap();
        assert_eq!(signature, expected.to_bytes(), "key and message {i}");
    }
}
