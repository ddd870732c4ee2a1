//! ctgrind for SM2 signing (issue 15): signs with the private scalar d and the nonce material
//! marked secret, so that valgrind's memcheck reports every branch and memory address of the
//! compiled signing code that depends on them. Run by scripts/ctgrind as
//! `valgrind --tool=memcheck … ctgrind_sign`; outside valgrind it signs, verifies and exits 0.
//!
//! Only the public API of `huren_crypto::sm2` is used, so the check holds any backend to the
//! same standard. Secret:
//! - the key: all of `SigningKey`'s own bytes, after construction, except the part
//!   `verifying_key()` lends out (the public key, public). That over-approximates d — the
//!   backend's own copy of the public key, say, is marked too — which can only add reports,
//!   never hide one; an addition is visible in the report and can be judged. A backend that
//!   kept key material behind a pointer would have the pointer marked, and memcheck reports
//!   every use of a secret pointer: the check fails, it does not pass blindly. (Marking d's
//!   bytes before `from_bytes` instead would be exact for d, but makes the public key derived
//!   from it secret too, and the constructor's encoding and parsing of that public key then
//!   reports a dozen branches on public data.)
//! - the nonce material: every byte the RNG hands to `sign`.
//!
//! Public again once computed: the signature (it is published).
//!
//! `--leak key` / `--leak nonce`: the self-test scripts/ctgrind runs first. Each signs with
//! only that secret marked, then indexes a table by a byte of the signature *before*
//! declassifying it: memcheck must report that, or the marking does not reach the backend.

use std::process::ExitCode;

use huren_crypto::sm2::SigningKey;
use huren_ctgrind as ctgrind;
use rand_core::{CryptoRng, OsRng, RngCore};

/// The GB/T 32918.2 Annex A example private key (any valid d would do).
const D: [u8; 32] = [
    0x39, 0x45, 0x20, 0x8F, 0x7B, 0x21, 0x44, 0xB1, 0x3F, 0x36, 0xE3, 0x8A, 0xC6, 0xD3, 0x9F, 0x95,
    0x88, 0x93, 0x93, 0x69, 0x28, 0x60, 0xB5, 0x1A, 0x42, 0xFB, 0x81, 0xEF, 0x4D, 0xF7, 0xC5, 0xB8,
];

/// Message lengths: empty, under, at and over SM3's 64-byte block, and several blocks.
const MESSAGE_LENS: [usize; 6] = [0, 1, 55, 64, 65, 1000];

/// The operating system's randomness, every byte marked secret as it is handed out: the
/// nonce material as the backend sees it.
struct SecretRng;

impl RngCore for SecretRng {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }
    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        OsRng.fill_bytes(dest);
        ctgrind::secret(dest);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for SecretRng {}

/// Which secret the self-test leaks on purpose.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Leak {
    Key,
    Nonce,
}

impl Leak {
    fn name(self) -> &'static str {
        match self {
            Leak::Key => "key",
            Leak::Nonce => "nonce",
        }
    }
}

/// Runs `step`; if memcheck reported anything meanwhile (accepted branches are suppressed and
/// not counted), says so under `name` and counts the step in `leaky`.
fn step<R>(name: &str, leaky: &mut usize, step: impl FnOnce() -> R) -> R {
    let before = ctgrind::error_count();
    let result = step();
    let reported = ctgrind::error_count() - before;
    if reported > 0 {
        println!("ctgrind_sign: {name}: {reported} secret-dependent branch(es)/address(es)");
        *leaky += 1;
    }
    result
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let leak = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] => None,
        ["--leak", "key"] => Some(Leak::Key),
        ["--leak", "nonce"] => Some(Leak::Nonce),
        _ => {
            eprintln!("usage: ctgrind_sign [--leak key|nonce]");
            return ExitCode::from(2);
        }
    };
    if !ctgrind::SUPPORTED {
        eprintln!("ctgrind_sign: valgrind client requests are written for x86_64 only");
        return ExitCode::FAILURE;
    }
    if !ctgrind::running_on_valgrind() {
        eprintln!("ctgrind_sign: not under valgrind: signing without checks (run scripts/ctgrind)");
    }

    let keys = match keys() {
        Ok(keys) => keys,
        Err(e) => {
            eprintln!("ctgrind_sign: making the keys: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut leaky = 0;
    for (source, mut key) in keys {
        let key_secret = leak != Some(Leak::Nonce);
        let nonce_secret = leak != Some(Leak::Key);
        if key_secret {
            ctgrind::secret(&mut key);
            ctgrind::public(key.verifying_key());
        }
        for len in MESSAGE_LENS {
            let message: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let name = format!("sign ({source} key, {len}-byte message)");
            let signed = step(&name, &mut leaky, || {
                if nonce_secret {
                    key.sign(&mut SecretRng, &message)
                } else {
                    key.sign(&mut OsRng, &message)
                }
            });
            let mut signature = match signed {
                Ok(signature) => signature,
                Err(e) => {
                    eprintln!("ctgrind_sign: {name}: {e}");
                    return ExitCode::FAILURE;
                }
            };
            if let Some(leak) = leak {
                // A table lookup at an address that depends on the still-secret signature.
                let table: Vec<u8> = (0..=255).collect();
                let index = std::hint::black_box(signature[40]);
                let name = format!("deliberate leak ({})", leak.name());
                step(&name, &mut leaky, || {
                    std::hint::black_box(table[index as usize])
                });
            }
            ctgrind::public(&signature);
            // Verification handles public data only and may branch: a report here means it
            // read something still marked secret, i.e. the public key is not all in what
            // `verifying_key()` lends out, and this harness must declassify it another way.
            let name = format!("verify ({source} key, {len}-byte message)");
            let verified = step(&name, &mut leaky, || {
                key.verifying_key().verify(&message, &signature)
            });
            if let Err(e) = verified {
                eprintln!("ctgrind_sign: {name}: {e}");
                return ExitCode::FAILURE;
            }
            signature.fill(0);
        }
        // Public again before the key is dropped: its bytes include the backend's pointers.
        ctgrind::public(&key);
    }

    if leaky == 0 {
        println!("ctgrind_sign: no secret-dependent branch or address");
        ExitCode::SUCCESS
    } else {
        println!("ctgrind_sign: secret-dependent code in {leaky} step(s), above");
        ExitCode::FAILURE
    }
}

/// One key from each constructor, built from public inputs: the key is marked secret only once
/// it exists (construction is not what this checks).
fn keys() -> Result<Vec<(&'static str, SigningKey)>, huren_crypto::sm2::Sm2Error> {
    let from_bytes = SigningKey::from_bytes(&D)?;
    let generated = SigningKey::generate(&mut OsRng)?;
    let from_pkcs8 = SigningKey::from_pkcs8_der(&generated.to_pkcs8_der()?)?;
    Ok(vec![
        ("from_bytes", from_bytes),
        ("generate", generated),
        ("from_pkcs8_der", from_pkcs8),
    ])
}
