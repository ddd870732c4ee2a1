//! Private keys at rest, and the atomic file writes everything else on disk uses.
//!
//! This module owns exactly one job: moving PKCS#8 private keys between memory and disk
//! without ever exposing them. It writes keys as PEM `ENCRYPTED PRIVATE KEY` (PBES2 with
//! PBKDF2-HMAC-SHA256, [`PBKDF2_ITERATIONS`] iterations, a random 16-byte salt, and
//! AES-256-CBC with a random IV — the format `openssl pkey -passin …` reads), or, only
//! for test set-ups, as plaintext PEM `PRIVATE KEY`. Every file is written atomically
//! (temporary file in the same directory, `fsync`, `rename`, `fsync` of the directory), so
//! a crash leaves either the old file, the complete new file, or nothing — never half a
//! key. Key files are created with mode `0600` from the first byte.
//!
//! What this module must not do:
//! - log, print or format key material or passphrases. Nothing here prints at all;
//!   facts worth a warning (such as a key file readable by others) are returned as data.
//!   [`StoreError`] values carry paths and facts only, never bytes of a key or passphrase,
//!   and the `Debug` impls of [`Passphrase`] and [`KeyFile`] redact their secrets.
//! - interpret the key. PKCS#8 bytes are opaque here apart from checking that they are
//!   a well-formed `PrivateKeyInfo`; algorithms and curves belong to other modules.
//! - leave secrets in memory it owns longer than needed: secret buffers are
//!   [`Zeroizing`] and are sized up front so they are not copied by reallocation.
//! - overwrite an existing file unless the caller asked for it.
//!
//! Files themselves — bounded reads and atomic, mode-exact writes — are in [`files`]
//! (re-exported here: `store::write_atomic`, `store::read_bounded`).

use std::fmt;
use std::io;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use der::pem::{self, LineEnding, PemLabel};
use der::{Decode, Encode};
use pkcs5::pbes2;
use pkcs8::{EncryptedPrivateKeyInfo, PrivateKeyInfo};
use rand_core::CryptoRngCore;
use zeroize::Zeroizing;

mod files;

#[cfg(test)]
use files::{fault, publish_no_clobber, TempFile};
use files::{path_exists, read_bounded_secret};
pub use files::{read_bounded, write_atomic};

/// PBKDF2-HMAC-SHA256 iteration count used when encrypting a key (OWASP 2023 guidance for
/// PBKDF2-SHA256). Reading accepts other counts up to [`MAX_PBKDF2_ITERATIONS_ON_READ`].
pub const PBKDF2_ITERATIONS: u32 = 600_000;

/// Largest PBKDF2 iteration count accepted when reading. A key file is input: without a
/// bound, a crafted file could make us spin for hours before reporting anything.
pub const MAX_PBKDF2_ITERATIONS_ON_READ: u32 = 10_000_000;

/// Largest scrypt working memory (128·r·N bytes) accepted when reading, for the same
/// reason as [`MAX_PBKDF2_ITERATIONS_ON_READ`]. (We never write scrypt, but PKCS#8 files
/// made by other RustCrypto tools use it by default.)
pub const MAX_SCRYPT_MEMORY_ON_READ: u64 = 256 * 1024 * 1024;

/// Largest key file [`read_private_key`] reads. Real PKCS#8 keys, even RSA-8192 in PEM,
/// are well under 8 KiB; the bound keeps a wrong path (a log, a device) from being slurped.
pub const MAX_KEY_FILE_BYTES: usize = 64 * 1024;

/// Largest passphrase file [`Passphrase::from_env_or_file`] reads.
pub const MAX_PASSPHRASE_FILE_BYTES: usize = 4 * 1024;

/// Mode of every private key file written here: owner read/write, nothing for anyone else.
pub const KEY_FILE_MODE: u32 = 0o600;

/// Passphrases shorter than this many characters are reported by [`Passphrase::is_weak`].
pub const WEAK_PASSPHRASE_CHARS: usize = 12;

/// PEM label of an encrypted PKCS#8 key (RFC 7468 §11).
const ENCRYPTED_LABEL: &str = EncryptedPrivateKeyInfo::PEM_LABEL;
/// PEM label of a plaintext PKCS#8 key (RFC 7468 §10).
const PLAINTEXT_LABEL: &str = PrivateKeyInfo::PEM_LABEL;
/// Bytes in the PBKDF2 salt (NIST SP 800-132 asks for at least 128 bits).
const SALT_LEN: usize = 16;
/// AES block size, which is also the CBC IV size.
const AES_BLOCK_LEN: usize = 16;

/// The ways storing or loading a key can fail.
///
/// Invariant: no variant carries key material or passphrase bytes. Variants carry the
/// path involved (shown with `path.display()`) and non-secret facts such as limits,
/// a PEM label or an algorithm OID.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// An operating-system I/O error on `path`; the OS error is the `source`.
    #[error("I/O error on {}", .path.display())]
    Io {
        /// The file or directory being accessed (possibly the temporary file of an atomic write).
        path: PathBuf,
        /// The underlying OS error.
        source: io::Error,
    },
    /// The target exists and the caller did not ask to overwrite it.
    #[error("{} already exists; refusing to overwrite it", .path.display())]
    AlreadyExists {
        /// The existing file.
        path: PathBuf,
    },
    /// The file is larger than the caller's bound.
    #[error("{} is larger than {limit} bytes", .path.display())]
    TooLarge {
        /// The oversized file.
        path: PathBuf,
        /// The bound, in bytes.
        limit: usize,
    },
    /// A PEM file with a label other than `ENCRYPTED PRIVATE KEY` or `PRIVATE KEY`.
    #[error(
        "{}: unsupported PEM label \"{label}\" (expected \"ENCRYPTED PRIVATE KEY\" or \"PRIVATE KEY\"); {}",
        .path.display(),
        pem_label_hint(.label)
    )]
    UnexpectedPemLabel {
        /// The key file.
        path: PathBuf,
        /// The label found, with anything unprintable escaped and length capped.
        label: String,
    },
    /// The key is encrypted and no passphrase was given.
    #[error("{} is encrypted; a passphrase is required", .path.display())]
    PassphraseRequired {
        /// The key file.
        path: PathBuf,
    },
    /// Decryption failed: the passphrase is wrong (or the ciphertext was altered).
    #[error("wrong passphrase for {} (decryption failed)", .path.display())]
    WrongPassphrase {
        /// The key file.
        path: PathBuf,
    },
    /// The bytes are not a PKCS#8 `PrivateKeyInfo` / `EncryptedPrivateKeyInfo`.
    #[error(
        "{}: not a PKCS#8 private key (a traditional SEC1 or PKCS#1 key can be converted with `openssl pkcs8 -topk8`)",
        .path.display()
    )]
    NotPkcs8 {
        /// The key file (or, when writing, the target path).
        path: PathBuf,
    },
    /// PEM armour that could not be decoded (bad base64, headers, missing END line).
    #[error("{}: malformed PEM", .path.display())]
    MalformedPem {
        /// The key file.
        path: PathBuf,
    },
    /// An encryption scheme or parameter set we do not (or will not) decrypt.
    #[error(
        "{}: unsupported key encryption ({detail}); re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256 -iter 600000`",
        .path.display()
    )]
    UnsupportedEncryption {
        /// The key file.
        path: PathBuf,
        /// Which scheme or parameter was refused (OIDs and numbers only).
        detail: String,
    },
    /// An empty passphrase was offered.
    #[error("the passphrase is empty")]
    EmptyPassphrase,
    /// The passphrase file is empty (after removing its trailing newline).
    #[error("passphrase file {} is empty", .path.display())]
    EmptyPassphraseFile {
        /// The passphrase file.
        path: PathBuf,
    },
    /// The passphrase file is not UTF-8.
    #[error("passphrase file {} is not valid UTF-8", .path.display())]
    PassphraseFileNotUtf8 {
        /// The passphrase file.
        path: PathBuf,
    },
    /// The passphrase environment variable is not UTF-8.
    #[error("environment variable {var} is not valid UTF-8")]
    PassphraseEnvNotUtf8 {
        /// The variable's name (never its value).
        var: String,
    },
    /// A file mode with bits outside `0o777` (setuid, setgid, sticky) was requested.
    #[error("refusing to write {} with mode {mode:#o} (only permission bits 0o777 are allowed)", .path.display())]
    InvalidMode {
        /// The target path.
        path: PathBuf,
        /// The requested mode.
        mode: u32,
    },
    /// The path names no file (for example `/` or `dir/..`).
    #[error("{} does not name a file", .path.display())]
    InvalidPath {
        /// The offending path.
        path: PathBuf,
    },
    /// The random number generator failed; nothing was written.
    #[error("random number generator failed: {detail}")]
    Randomness {
        /// The generator's own description of the failure.
        detail: String,
    },
    /// Encrypting or encoding the key failed; nothing was written.
    #[error("encrypting the key for {} failed: {detail}", .path.display())]
    EncryptionFailed {
        /// The target path.
        path: PathBuf,
        /// What failed (no key material).
        detail: String,
    },
    /// The key file is not encrypted and plaintext keys were not explicitly allowed.
    #[error(
        "{} holds an UNENCRYPTED private key; encrypt it (`openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256 -iter 600000`) or, for a test set-up only, allow plaintext keys explicitly (HUREN_ALLOW_PLAINTEXT_KEYS=true or allow_plaintext_keys = true)",
        .path.display()
    )]
    PlaintextKeyRefused {
        /// The key file.
        path: PathBuf,
    },
    /// The encoded file did not decode back to the key we were given; nothing was written.
    #[error("internal error: the encoded key for {} did not read back identically; nothing was written", .path.display())]
    VerificationFailed {
        /// The target path.
        path: PathBuf,
    },
}

/// What to tell a user whose PEM file has the wrong label.
fn pem_label_hint(label: &str) -> &'static str {
    if label.ends_with("PRIVATE KEY") {
        "convert it to PKCS#8 with `openssl pkcs8 -topk8 -v2 aes-256-cbc -iter 600000 -in OLD -out NEW`"
    } else {
        "this file does not hold a private key"
    }
}

/// Makes a PEM label from a file safe to put in an error message: the file is untrusted,
/// so cap the length and escape anything that could move a terminal cursor.
fn sanitize_label(label: &str) -> String {
    label
        .chars()
        .take(64)
        .flat_map(char::escape_default)
        .collect()
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A passphrase protecting a key at rest.
///
/// Invariants: never empty; the bytes are zeroized when it is dropped; `Debug` prints
/// `Passphrase(***)`. It is deliberately not `Clone`, so copies are not made casually:
/// pass `&Passphrase` around.
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    /// Wraps `s` as a passphrase. Refuses an empty one ([`StoreError::EmptyPassphrase`]);
    /// a short one is accepted, but [`Passphrase::is_weak`] reports it so the caller can warn.
    pub fn new(s: String) -> Result<Self, StoreError> {
        Self::from_zeroizing(Zeroizing::new(s))
    }

    fn from_zeroizing(s: Zeroizing<String>) -> Result<Self, StoreError> {
        if s.is_empty() {
            return Err(StoreError::EmptyPassphrase);
        }
        Ok(Self(s))
    }

    /// Fewer than [`WEAK_PASSPHRASE_CHARS`] characters: the caller should warn the user.
    pub fn is_weak(&self) -> bool {
        self.0.chars().count() < WEAK_PASSPHRASE_CHARS
    }

    /// Reads the passphrase from environment variable `var` (for example
    /// `HUREN_KEY_PASSPHRASE`) if it is set and non-empty; otherwise from `file` if given,
    /// with one trailing newline (`\n` or `\r\n`) removed and the size bounded by
    /// [`MAX_PASSPHRASE_FILE_BYTES`]. Returns `Ok(None)` if neither is available.
    ///
    /// A `file` that is given but unreadable, empty or not UTF-8 is an error rather than
    /// `None`: the user pointed at it, so silently ignoring it would be surprising.
    pub fn from_env_or_file(var: &str, file: Option<&Path>) -> Result<Option<Self>, StoreError> {
        if let Some(value) = std::env::var_os(var) {
            if !value.is_empty() {
                let s = secret_string_from_bytes(value.into_vec()).ok_or_else(|| {
                    StoreError::PassphraseEnvNotUtf8 {
                        var: var.to_owned(),
                    }
                })?;
                return Self::from_zeroizing(s).map(Some);
            }
        }
        let Some(path) = file else {
            return Ok(None);
        };
        let (mut bytes, _) = read_bounded_secret(path, MAX_PASSPHRASE_FILE_BYTES)?;
        // Strip exactly one line ending: `echo pass > file` adds one, and anything beyond
        // that may be part of the passphrase.
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
        }
        if bytes.is_empty() {
            return Err(StoreError::EmptyPassphraseFile {
                path: path.to_path_buf(),
            });
        }
        let s = secret_string_from_bytes(std::mem::take(&mut *bytes)).ok_or_else(|| {
            StoreError::PassphraseFileNotUtf8 {
                path: path.to_path_buf(),
            }
        })?;
        Self::from_zeroizing(s).map(Some)
    }

    /// The passphrase text, for handing to a KDF. Never log or format it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(***)")
    }
}

/// Converts secret bytes to a zeroizing `String` without leaving an unzeroized copy,
/// including on the error path (where the bytes come back inside the UTF-8 error).
fn secret_string_from_bytes(bytes: Vec<u8>) -> Option<Zeroizing<String>> {
    match String::from_utf8(bytes) {
        Ok(s) => Some(Zeroizing::new(s)),
        Err(e) => {
            drop(Zeroizing::new(e.into_bytes()));
            None
        }
    }
}

/// How a key is protected at rest.
#[derive(Debug, Clone, Copy)]
pub enum Protection<'a> {
    /// PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) under this passphrase. The normal case.
    Encrypted(&'a Passphrase),
    /// Only for test set-ups; the caller must have been told so explicitly by the user.
    /// Anyone who can read the file has the key.
    Plaintext,
}

/// Whether an unencrypted private key may be loaded by [`load_private_key`].
///
/// Anyone who can read a plaintext key file (a backup, a copied directory, a misconfigured
/// volume) holds the province's signing key, so the default refuses them. Allowing them is a
/// deliberate choice for test set-ups: a setting the operator writes
/// (`HUREN_ALLOW_PLAINTEXT_KEYS=true`, `allow_plaintext_keys = true`), or a directory the same
/// process has just written with [`Protection::Plaintext`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlaintextKeys {
    /// Refuse them ([`StoreError::PlaintextKeyRefused`]). The default.
    #[default]
    Refuse,
    /// Load them (explicit opt-in).
    Allow,
}

/// The setting that allows plaintext keys in the services and the CLI.
pub const ALLOW_PLAINTEXT_KEYS_VAR: &str = "HUREN_ALLOW_PLAINTEXT_KEYS";

impl PlaintextKeys {
    /// Reads the value of [`ALLOW_PLAINTEXT_KEYS_VAR`]: `true`/`1`/`yes` allow, `false`/`0`/`no`
    /// refuse, anything else is `None` (a setting to refuse, not to guess).
    pub fn from_setting(value: &str) -> Option<PlaintextKeys> {
        match value.trim() {
            "true" | "1" | "yes" => Some(PlaintextKeys::Allow),
            "false" | "0" | "no" => Some(PlaintextKeys::Refuse),
            _ => None,
        }
    }

    /// `Allow` when `allowed`.
    pub fn allowed_if(allowed: bool) -> PlaintextKeys {
        if allowed {
            PlaintextKeys::Allow
        } else {
            PlaintextKeys::Refuse
        }
    }
}

/// A private key read from disk.
///
/// `Debug` redacts `pkcs8_der`; the bytes are zeroized on drop.
pub struct KeyFile {
    /// The plaintext PKCS#8 `PrivateKeyInfo` DER, exactly as stored (after decryption).
    pub pkcs8_der: Zeroizing<Vec<u8>>,
    /// Whether the file was encrypted. A plaintext key is allowed (e.g. from
    /// `openssl genpkey`), but the caller may want to warn about it.
    pub was_encrypted: bool,
    /// Whether the file grants any permission to group or others (`mode & 0o077 != 0`).
    /// Returned as a fact for the caller to warn about; nothing is printed here.
    pub permissions_too_open: bool,
}

impl fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyFile")
            .field(
                "pkcs8_der",
                &format_args!("<{} bytes redacted>", self.pkcs8_der.len()),
            )
            .field("was_encrypted", &self.was_encrypted)
            .field("permissions_too_open", &self.permissions_too_open)
            .finish()
    }
}

/// Writes `pkcs8_der` to `path` as PEM, encrypted or plaintext, atomically, with mode
/// exactly `0600`.
///
/// - `pkcs8_der` must be a DER `PrivateKeyInfo` ([`StoreError::NotPkcs8`] otherwise); its
///   bytes are stored unchanged (not re-encoded), so nothing in them is lost.
/// - Encrypted keys use a fresh 16-byte salt and IV from `rng` and [`PBKDF2_ITERATIONS`].
/// - Before anything touches the disk, the encoded file is decoded again by the same code
///   [`read_private_key`] uses and compared with `pkcs8_der`, so a key is never stored in
///   a form we cannot read back. (For encrypted keys this costs a second PBKDF2 run.)
/// - Fails with [`StoreError::AlreadyExists`] if `path` exists (even as a dangling
///   symlink) and `overwrite` is false; the check is atomic (a hard link, which fails if
///   the name is taken), so a concurrent writer cannot be clobbered.
/// - With `overwrite`, an existing file or symlink at `path` is replaced, never written
///   through.
pub fn write_private_key(
    path: &Path,
    pkcs8_der: &[u8],
    protection: Protection<'_>,
    overwrite: bool,
    rng: &mut impl CryptoRngCore,
) -> Result<(), StoreError> {
    if PrivateKeyInfo::from_der(pkcs8_der).is_err() {
        return Err(StoreError::NotPkcs8 {
            path: path.to_path_buf(),
        });
    }
    // Fail early, before the deliberately slow KDF; the atomic check happens at publish time.
    if !overwrite && path_exists(path)? {
        return Err(StoreError::AlreadyExists {
            path: path.to_path_buf(),
        });
    }
    let (file_bytes, passphrase) = match protection {
        Protection::Encrypted(passphrase) => (
            encrypt_to_pem(path, pkcs8_der, passphrase, rng)?,
            Some(passphrase),
        ),
        Protection::Plaintext => (pem_encode(path, PLAINTEXT_LABEL, pkcs8_der)?, None),
    };
    let (read_back, _) = decode_key_bytes(path, &file_bytes, passphrase)?;
    if read_back.as_slice() != pkcs8_der {
        return Err(StoreError::VerificationFailed {
            path: path.to_path_buf(),
        });
    }
    write_atomic(path, &file_bytes, KEY_FILE_MODE, overwrite)
}

/// Encrypts `pkcs8_der` as PBES2 (PBKDF2-HMAC-SHA256 + AES-256-CBC) and wraps it as PEM.
///
/// This encrypts the caller's bytes directly rather than going through
/// `PrivateKeyInfo::encrypt_with_params`, which re-encodes the structure first.
fn encrypt_to_pem(
    path: &Path,
    pkcs8_der: &[u8],
    passphrase: &Passphrase,
    rng: &mut impl CryptoRngCore,
) -> Result<Zeroizing<Vec<u8>>, StoreError> {
    let mut salt = [0u8; SALT_LEN];
    let mut iv = [0u8; AES_BLOCK_LEN];
    for buf in [&mut salt[..], &mut iv[..]] {
        rng.try_fill_bytes(buf)
            .map_err(|e| StoreError::Randomness {
                detail: e.to_string(),
            })?;
    }
    let encryption_failed = |e: &dyn fmt::Display| StoreError::EncryptionFailed {
        path: path.to_path_buf(),
        detail: e.to_string(),
    };
    let params = pbes2::Parameters::pbkdf2_sha256_aes256cbc(PBKDF2_ITERATIONS, &salt, &iv)
        .map_err(|e| encryption_failed(&e))?;
    // `Parameters::encrypt` sizes its buffer for the padding up front and encrypts in
    // place, so no plaintext copy is left behind by a reallocation.
    let ciphertext = params
        .encrypt(passphrase.expose().as_bytes(), pkcs8_der)
        .map_err(|e| encryption_failed(&e))?;
    let epki = EncryptedPrivateKeyInfo {
        encryption_algorithm: params.into(),
        encrypted_data: &ciphertext,
    };
    let der = epki.to_der().map_err(|e| encryption_failed(&e))?;
    pem_encode(path, ENCRYPTED_LABEL, &der)
}

/// PEM-encodes `der` into a zeroizing buffer sized exactly up front.
fn pem_encode(path: &Path, label: &str, der: &[u8]) -> Result<Zeroizing<Vec<u8>>, StoreError> {
    let failed = |e: pem::Error| StoreError::EncryptionFailed {
        path: path.to_path_buf(),
        detail: format!("PEM encoding: {e}"),
    };
    let len = pem::encoded_len(label, LineEnding::LF, der).map_err(failed)?;
    let mut buf = Zeroizing::new(vec![0u8; len]);
    let written = pem::encode(label, LineEnding::LF, der, &mut buf)
        .map_err(failed)?
        .len();
    buf.truncate(written);
    Ok(buf)
}

/// Reads a private key file and returns the plaintext PKCS#8 DER.
///
/// Accepts PEM `ENCRYPTED PRIVATE KEY` (needs `passphrase`), PEM `PRIVATE KEY`, and raw
/// DER of either. Any other PEM label is refused with [`StoreError::UnexpectedPemLabel`]
/// naming it. A passphrase given for a plaintext key is ignored (check
/// [`KeyFile::was_encrypted`]). Reads at most [`MAX_KEY_FILE_BYTES`]; refuses PBKDF2 and
/// scrypt parameters above [`MAX_PBKDF2_ITERATIONS_ON_READ`] / [`MAX_SCRYPT_MEMORY_ON_READ`]
/// before running them. Text before the PEM `BEGIN` line (e.g. `Bag Attributes`) and
/// after its `END` line is ignored.
///
/// A wrong passphrase gives [`StoreError::WrongPassphrase`]; so does a ciphertext that
/// decrypts to something other than PKCS#8, since CBC padding alone lets about 1 in 256
/// wrong passphrases through.
pub fn read_private_key(
    path: &Path,
    passphrase: Option<&Passphrase>,
) -> Result<KeyFile, StoreError> {
    let (bytes, meta) = read_bounded_secret(path, MAX_KEY_FILE_BYTES)?;
    let (pkcs8_der, was_encrypted) = decode_key_bytes(path, &bytes, passphrase)?;
    Ok(KeyFile {
        pkcs8_der,
        was_encrypted,
        permissions_too_open: meta.permissions().mode() & 0o077 != 0,
    })
}

/// Reads a private key as a service or a command uses it: [`read_private_key`], then refuses
/// a plaintext key unless `plaintext` allows it. Every key the services and the CLI sign
/// with is loaded here; [`read_private_key`] alone is for tools that convert keys (an import
/// re-encrypts the plaintext key it was given).
pub fn load_private_key(
    path: &Path,
    passphrase: Option<&Passphrase>,
    plaintext: PlaintextKeys,
) -> Result<KeyFile, StoreError> {
    let file = read_private_key(path, passphrase)?;
    if !file.was_encrypted && plaintext == PlaintextKeys::Refuse {
        return Err(StoreError::PlaintextKeyRefused {
            path: path.to_path_buf(),
        });
    }
    Ok(file)
}

/// Turns the contents of a key file into plaintext PKCS#8 DER; `path` is only for errors.
/// Returns the DER and whether it was encrypted.
fn decode_key_bytes(
    path: &Path,
    bytes: &[u8],
    passphrase: Option<&Passphrase>,
) -> Result<(Zeroizing<Vec<u8>>, bool), StoreError> {
    let not_pkcs8 = || StoreError::NotPkcs8 {
        path: path.to_path_buf(),
    };
    // A DER PKCS#8 structure (either kind) starts with a SEQUENCE tag; PEM starts with text.
    if bytes.first() == Some(&0x30) {
        if PrivateKeyInfo::from_der(bytes).is_ok() {
            return Ok((Zeroizing::new(bytes.to_vec()), false));
        }
        if EncryptedPrivateKeyInfo::from_der(bytes).is_ok() {
            return decrypt(path, bytes, passphrase).map(|der| (der, true));
        }
        // Not DER after all; '0' is also 0x30, so text before a PEM block can start this
        // way. Fall through to the PEM search, which reports NotPkcs8 if there is none.
    }

    let block = pem_block(bytes).ok_or_else(not_pkcs8)?;
    let malformed = |_| StoreError::MalformedPem {
        path: path.to_path_buf(),
    };
    // Check the label before decoding, so a traditional key (possibly with
    // `Proc-Type` headers, which the strict decoder rejects) gets the helpful error.
    let label = pem::decode_label(block).map_err(malformed)?;
    let encrypted = match label {
        ENCRYPTED_LABEL => true,
        PLAINTEXT_LABEL => false,
        other => {
            return Err(StoreError::UnexpectedPemLabel {
                path: path.to_path_buf(),
                label: sanitize_label(other),
            })
        }
    };
    // The decoded DER is never longer than the armour, so this buffer never reallocates.
    let mut der = Zeroizing::new(vec![0u8; block.len()]);
    let der_len = pem::decode(block, &mut der).map_err(malformed)?.1.len();
    der.truncate(der_len);
    if encrypted {
        decrypt(path, &der, passphrase).map(|der| (der, true))
    } else if PrivateKeyInfo::from_der(&der).is_ok() {
        Ok((der, false))
    } else {
        Err(not_pkcs8())
    }
}

/// The first PEM block in `bytes` ([`huren_crypto::pem::find_block`]), decoded here into a
/// buffer that is wiped.
fn pem_block(bytes: &[u8]) -> Option<&[u8]> {
    bytes.get(huren_crypto::pem::find_block(bytes)?)
}

/// Decrypts a DER `EncryptedPrivateKeyInfo` and checks the result is PKCS#8.
fn decrypt(
    path: &Path,
    epki_der: &[u8],
    passphrase: Option<&Passphrase>,
) -> Result<Zeroizing<Vec<u8>>, StoreError> {
    let path_buf = || path.to_path_buf();
    let unsupported = |detail: String| StoreError::UnsupportedEncryption {
        path: path_buf(),
        detail,
    };
    let epki = EncryptedPrivateKeyInfo::from_der(epki_der)
        .map_err(|_| StoreError::NotPkcs8 { path: path_buf() })?;
    let Some(params) = epki.encryption_algorithm.pbes2() else {
        return Err(unsupported(format!(
            "legacy PBES1 scheme {}",
            epki.encryption_algorithm.oid()
        )));
    };
    // Refuse unaffordable KDF parameters before running them, and before asking for a
    // passphrase we could not use anyway.
    if let Some(p) = params.kdf.pbkdf2() {
        if p.iteration_count > MAX_PBKDF2_ITERATIONS_ON_READ {
            return Err(unsupported(format!(
                "PBKDF2 iteration count {} exceeds {MAX_PBKDF2_ITERATIONS_ON_READ}",
                p.iteration_count
            )));
        }
    } else if let Some(s) = params.kdf.scrypt() {
        let memory = 128u128 * u128::from(s.block_size) * u128::from(s.cost_parameter);
        if memory > u128::from(MAX_SCRYPT_MEMORY_ON_READ) || s.parallelization > 16 {
            return Err(unsupported(format!(
                "scrypt parameters N={} r={} p={} exceed the limits",
                s.cost_parameter, s.block_size, s.parallelization
            )));
        }
    }
    let passphrase =
        passphrase.ok_or_else(|| StoreError::PassphraseRequired { path: path_buf() })?;

    let ciphertext = epki.encrypted_data;
    // Every cipher pkcs5 offers here is AES-CBC: a ciphertext that is not whole blocks is
    // a damaged file, not a wrong passphrase.
    if ciphertext.is_empty() || ciphertext.len() % AES_BLOCK_LEN != 0 {
        return Err(StoreError::NotPkcs8 { path: path_buf() });
    }
    // Decrypt in place in a zeroizing buffer: `EncryptedPrivateKeyInfo::decrypt` would
    // leave the plaintext in an intermediate `Vec` that is never zeroized.
    let mut plain = Zeroizing::new(ciphertext.to_vec());
    let plain_len = match params.decrypt_in_place(passphrase.expose().as_bytes(), &mut plain) {
        Ok(p) => p.len(),
        // pkcs5 0.7 reports a CBC padding failure as `EncryptFailed` (sic), so both mean
        // "the key derived from this passphrase does not decrypt this ciphertext".
        Err(pkcs5::Error::DecryptFailed | pkcs5::Error::EncryptFailed) => {
            return Err(StoreError::WrongPassphrase { path: path_buf() })
        }
        Err(e) => return Err(unsupported(e.to_string())),
    };
    plain.truncate(plain_len);
    // Valid padding with a wrong key happens about once in 256 tries; the garbage then
    // fails to parse as PKCS#8, which is still a wrong passphrase from the user's view.
    if PrivateKeyInfo::from_der(&plain).is_err() {
        return Err(StoreError::WrongPassphrase { path: path_buf() });
    }
    Ok(plain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand_core::OsRng;
    use std::fs::{self, Permissions};
    use std::io::Write;
    use std::process::Command;
    use std::time::Instant;

    const PASS: &str = "correct horse battery staple";

    fn pass() -> Passphrase {
        Passphrase::new(PASS.to_owned()).unwrap()
    }

    fn openssl(args: &[&str]) -> Vec<u8> {
        let out = Command::new("openssl")
            .args(args)
            .output()
            .expect("the openssl binary must be installed for the interop tests");
        assert!(
            out.status.success(),
            "openssl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// A P-256 key from `openssl genpkey`, as PEM `PRIVATE KEY`.
    fn p256_pkcs8_pem() -> Vec<u8> {
        openssl(&[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
    }

    /// A real P-256 PKCS#8 DER key made by OpenSSL. Taken from the PEM output because
    /// OpenSSL 3.0's `genpkey -outform DER` (and `pkey -outform DER`) write *SEC1* DER
    /// for EC keys, not PKCS#8.
    fn p256_pkcs8_der() -> Vec<u8> {
        let pem_bytes = p256_pkcs8_pem();
        let (label, der) = pem::decode_vec(&pem_bytes).unwrap();
        assert_eq!(label, "PRIVATE KEY");
        PrivateKeyInfo::from_der(&der).expect("openssl produced PKCS#8");
        der
    }

    fn mode_of(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    fn dir_listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let out = f();
        eprintln!("{what}: {:?}", start.elapsed());
        out
    }

    #[test]
    fn encrypted_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.key");
        let der = p256_pkcs8_der();
        let p = pass();
        timed("encrypted write", || {
            write_private_key(&path, &der, Protection::Encrypted(&p), false, &mut OsRng).unwrap()
        });
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(concat!("-----BEGIN ", "ENCRYPTED PRIVATE KEY-----\n")));
        assert_eq!(mode_of(&path), 0o600);

        let key = timed("encrypted read", || {
            read_private_key(&path, Some(&p)).unwrap()
        });
        assert_eq!(key.pkcs8_der.as_slice(), der.as_slice());
        assert!(key.was_encrypted);
        assert!(!key.permissions_too_open);
    }

    #[test]
    fn written_file_uses_the_promised_parameters_with_fresh_salt_and_iv() {
        let dir = tempfile::tempdir().unwrap();
        let der = p256_pkcs8_der();
        let p = pass();
        let mut seen = Vec::new();
        for name in ["a.key", "b.key"] {
            let path = dir.path().join(name);
            write_private_key(&path, &der, Protection::Encrypted(&p), false, &mut OsRng).unwrap();
            let (_, doc) = pem::decode_vec(&fs::read(&path).unwrap()).unwrap();
            let epki = EncryptedPrivateKeyInfo::from_der(&doc).unwrap();
            let params = epki.encryption_algorithm.pbes2().unwrap();
            let kdf = params.kdf.pbkdf2().unwrap();
            assert_eq!(kdf.iteration_count, PBKDF2_ITERATIONS);
            assert_eq!(kdf.prf, pbes2::Pbkdf2Prf::HmacWithSha256);
            assert_eq!(kdf.salt.len(), 16);
            let pbes2::EncryptionScheme::Aes256Cbc { iv } = params.encryption else {
                panic!("expected AES-256-CBC, got {:?}", params.encryption);
            };
            seen.push((kdf.salt.to_vec(), iv.to_vec(), epki.encrypted_data.to_vec()));
        }
        assert_ne!(seen[0].0, seen[1].0, "salt must be fresh per write");
        assert_ne!(seen[0].1, seen[1].1, "IV must be fresh per write");
        assert_ne!(seen[0].2, seen[1].2);
    }

    #[test]
    fn plaintext_key_is_refused_unless_allowed_explicitly_and_the_error_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plain.key.pem");
        let der = p256_pkcs8_der();
        write_private_key(&path, &der, Protection::Plaintext, false, &mut OsRng).unwrap();
        // A passphrase offered does not make a plaintext file acceptable.
        for passphrase in [None, Some(pass())] {
            let err =
                load_private_key(&path, passphrase.as_ref(), PlaintextKeys::Refuse).unwrap_err();
            assert!(
                matches!(err, StoreError::PlaintextKeyRefused { .. }),
                "{err:?}"
            );
            let message = err.to_string();
            assert!(
                message.contains(&path.display().to_string())
                    && message.contains("UNENCRYPTED")
                    && message.contains(ALLOW_PLAINTEXT_KEYS_VAR),
                "{message}"
            );
        }
        let allowed = load_private_key(&path, None, PlaintextKeys::Allow).unwrap();
        assert_eq!(allowed.pkcs8_der.as_slice(), der.as_slice());
        // Encrypted keys load under the default policy.
        let encrypted = dir.path().join("enc.key.pem");
        let p = pass();
        write_private_key(
            &encrypted,
            &der,
            Protection::Encrypted(&p),
            false,
            &mut OsRng,
        )
        .unwrap();
        assert!(load_private_key(&encrypted, Some(&p), PlaintextKeys::default()).is_ok());
        assert_eq!(
            PlaintextKeys::from_setting("true"),
            Some(PlaintextKeys::Allow)
        );
        assert_eq!(
            PlaintextKeys::from_setting("no"),
            Some(PlaintextKeys::Refuse)
        );
        assert_eq!(PlaintextKeys::from_setting("maybe"), None);
    }

    #[test]
    fn wrong_passphrase_is_reported_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        let p = pass();
        write_private_key(
            &path,
            &p256_pkcs8_der(),
            Protection::Encrypted(&p),
            false,
            &mut OsRng,
        )
        .unwrap();
        let wrong = Passphrase::new("not the passphrase".to_owned()).unwrap();
        let err = read_private_key(&path, Some(&wrong)).unwrap_err();
        assert!(matches!(err, StoreError::WrongPassphrase { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("wrong passphrase"), "{msg}");
        assert!(msg.contains(&path.display().to_string()), "{msg}");
        assert!(!msg.contains("not the passphrase"));
    }

    #[test]
    fn encrypted_key_without_passphrase_asks_for_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        write_private_key(
            &path,
            &p256_pkcs8_der(),
            Protection::Encrypted(&pass()),
            false,
            &mut OsRng,
        )
        .unwrap();
        let err = read_private_key(&path, None).unwrap_err();
        assert!(
            matches!(err, StoreError::PassphraseRequired { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn plaintext_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.key");
        let der = p256_pkcs8_der();
        write_private_key(&path, &der, Protection::Plaintext, false, &mut OsRng).unwrap();
        assert!(fs::read_to_string(&path)
            .unwrap()
            .starts_with(concat!("-----BEGIN ", "PRIVATE KEY-----\n")));
        assert_eq!(mode_of(&path), 0o600);
        let key = read_private_key(&path, None).unwrap();
        assert_eq!(key.pkcs8_der.as_slice(), der.as_slice());
        assert!(!key.was_encrypted);
        // A passphrase offered for a plaintext key is not an error; the flag tells the caller.
        let key = read_private_key(&path, Some(&pass())).unwrap();
        assert!(!key.was_encrypted);
        // And OpenSSL agrees it is a plaintext PKCS#8 key.
        openssl(&["pkey", "-in", path.to_str().unwrap(), "-noout"]);
    }

    #[test]
    fn key_file_mode_is_exactly_0600_even_when_replacing_an_open_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        fs::write(&path, b"old").unwrap();
        fs::set_permissions(&path, Permissions::from_mode(0o644)).unwrap();
        write_private_key(
            &path,
            &p256_pkcs8_der(),
            Protection::Plaintext,
            true,
            &mut OsRng,
        )
        .unwrap();
        assert_eq!(mode_of(&path), 0o600);
    }

    #[test]
    fn existing_file_is_not_overwritten_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        fs::write(&path, b"precious").unwrap();
        let der = p256_pkcs8_der();
        let err =
            write_private_key(&path, &der, Protection::Plaintext, false, &mut OsRng).unwrap_err();
        assert!(matches!(err, StoreError::AlreadyExists { .. }), "{err:?}");
        assert_eq!(fs::read(&path).unwrap(), b"precious");
        assert_eq!(dir_listing(dir.path()), ["k.pem"]);

        // A dangling symlink counts as existing too: we never write through or past one.
        let link = dir.path().join("link.pem");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &link).unwrap();
        let err = write_atomic(&link, b"x", 0o644, false).unwrap_err();
        assert!(matches!(err, StoreError::AlreadyExists { .. }), "{err:?}");
        assert!(!dir.path().join("nowhere").exists());

        write_private_key(&path, &der, Protection::Plaintext, true, &mut OsRng).unwrap();
        assert_eq!(
            read_private_key(&path, None).unwrap().pkcs8_der.as_slice(),
            der.as_slice()
        );
    }

    #[test]
    fn no_clobber_publish_loses_a_race_cleanly() {
        // The early existence check passed; someone else then took the name. The atomic
        // hard-link publish must refuse and leave their file and no temporary behind.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        let mut tmp = TempFile::create(dir.path(), std::ffi::OsStr::new("k.pem")).unwrap();
        tmp.file.write_all(b"ours").unwrap();
        fs::write(&path, b"theirs").unwrap();
        let err = publish_no_clobber(&mut tmp, &path).unwrap_err();
        assert!(matches!(err, StoreError::AlreadyExists { .. }), "{err:?}");
        drop(tmp);
        assert_eq!(fs::read(&path).unwrap(), b"theirs");
        assert_eq!(dir_listing(dir.path()), ["k.pem"]);
    }

    #[test]
    fn failed_write_leaves_no_target_and_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        fault::arm();
        let err = write_private_key(
            &path,
            &p256_pkcs8_der(),
            Protection::Plaintext,
            false,
            &mut OsRng,
        )
        .unwrap_err();
        assert!(matches!(err, StoreError::Io { .. }), "{err:?}");
        assert!(
            dir_listing(dir.path()).is_empty(),
            "{:?}",
            dir_listing(dir.path())
        );

        // Same for a failure at the publish step itself: renaming over a non-empty
        // directory fails, and the temporary file must not be left behind.
        let blocker = dir.path().join("cert.pem");
        fs::create_dir(&blocker).unwrap();
        fs::write(blocker.join("inside"), b"x").unwrap();
        let err = write_atomic(&blocker, b"cert", 0o644, true).unwrap_err();
        assert!(matches!(err, StoreError::Io { .. }), "{err:?}");
        assert_eq!(dir_listing(dir.path()), ["cert.pem"]);
    }

    #[test]
    fn non_pkcs8_input_is_refused_before_touching_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        let err = write_private_key(
            &path,
            b"\x30\x03\x02\x01\x00",
            Protection::Plaintext,
            false,
            &mut OsRng,
        )
        .unwrap_err();
        assert!(matches!(err, StoreError::NotPkcs8 { .. }), "{err:?}");
        assert!(dir_listing(dir.path()).is_empty());
    }

    #[test]
    fn openssl_reads_our_encrypted_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        let der = p256_pkcs8_der();
        let p = pass();
        write_private_key(&path, &der, Protection::Encrypted(&p), false, &mut OsRng).unwrap();
        let path_s = path.to_str().unwrap();
        let passin = format!("pass:{PASS}");
        openssl(&["pkey", "-in", path_s, "-passin", &passin, "-noout"]);
        // And it is the same key, not just a readable one.
        let out = openssl(&[
            "pkcs8", "-topk8", "-nocrypt", "-in", path_s, "-passin", &passin, "-outform", "DER",
        ]);
        assert_eq!(out, der);
        // OpenSSL must reject a wrong passphrase, i.e. the file really is encrypted.
        let status = Command::new("openssl")
            .args([
                "pkey",
                "-in",
                path_s,
                "-passin",
                "pass:wrong-wrong",
                "-noout",
            ])
            .output()
            .unwrap()
            .status;
        assert!(!status.success());
    }

    #[test]
    fn we_read_keys_encrypted_by_openssl_pem_and_der() {
        let dir = tempfile::tempdir().unwrap();
        let der = p256_pkcs8_der();
        let plain = dir.path().join("plain.der");
        fs::write(&plain, &der).unwrap();
        let passout = format!("pass:{PASS}");
        for outform in ["PEM", "DER"] {
            let out = dir.path().join(format!("enc.{outform}"));
            openssl(&[
                "pkcs8",
                "-topk8",
                "-inform",
                "DER",
                "-in",
                plain.to_str().unwrap(),
                "-v2",
                "aes-256-cbc",
                "-v2prf",
                "hmacWithSHA256",
                "-passout",
                &passout,
                "-outform",
                outform,
                "-out",
                out.to_str().unwrap(),
            ]);
            let key = read_private_key(&out, Some(&pass())).unwrap();
            assert_eq!(key.pkcs8_der.as_slice(), der.as_slice(), "{outform}");
            assert!(key.was_encrypted);
            let err = read_private_key(&out, Some(&Passphrase::new("nope-nope".into()).unwrap()))
                .unwrap_err();
            assert!(
                matches!(err, StoreError::WrongPassphrase { .. }),
                "{outform}: {err:?}"
            );
        }
    }

    #[test]
    fn we_read_plaintext_keys_from_openssl_genpkey_pem_and_der() {
        let dir = tempfile::tempdir().unwrap();
        let pem_path = dir.path().join("k.pem");
        let pem_bytes = p256_pkcs8_pem();
        fs::write(&pem_path, &pem_bytes).unwrap();
        let from_pem = read_private_key(&pem_path, None).unwrap();
        assert!(!from_pem.was_encrypted);

        let der_path = dir.path().join("k.der");
        let der = openssl(&[
            "pkcs8",
            "-topk8",
            "-nocrypt",
            "-in",
            pem_path.to_str().unwrap(),
            "-outform",
            "DER",
        ]);
        fs::write(&der_path, &der).unwrap();
        let from_der = read_private_key(&der_path, None).unwrap();
        assert_eq!(from_der.pkcs8_der.as_slice(), der.as_slice());
        assert_eq!(from_pem.pkcs8_der.as_slice(), der.as_slice());

        // Explanatory text around the PEM block (as `openssl pkcs12` writes) is tolerated.
        let mut noisy = b"Bag Attributes\n    localKeyID: 01\n".to_vec();
        noisy.extend_from_slice(&pem_bytes);
        noisy.extend_from_slice(b"trailing junk\n");
        fs::write(&pem_path, &noisy).unwrap();
        assert_eq!(
            read_private_key(&pem_path, None)
                .unwrap()
                .pkcs8_der
                .as_slice(),
            der.as_slice()
        );
        let mut zero_preamble = b"0 comment line\n".to_vec();
        zero_preamble.extend_from_slice(&pem_bytes);
        fs::write(&pem_path, &zero_preamble).unwrap();
        let key = read_private_key(&pem_path, None).unwrap();
        assert_eq!(key.pkcs8_der.as_slice(), der.as_slice());

        // CRLF line endings (a key that passed through a Windows editor) are fine too.
        let crlf = String::from_utf8(pem_bytes).unwrap().replace('\n', "\r\n");
        fs::write(&pem_path, crlf).unwrap();
        let key = read_private_key(&pem_path, None).unwrap();
        assert_eq!(key.pkcs8_der.as_slice(), der.as_slice());
    }

    #[test]
    fn ec_private_key_pem_is_rejected_with_the_label_named() {
        let dir = tempfile::tempdir().unwrap();
        let pkcs8 = dir.path().join("k.pem");
        let sec1 = dir.path().join("sec1.pem");
        fs::write(&pkcs8, p256_pkcs8_pem()).unwrap();
        fs::write(&sec1, openssl(&["ec", "-in", pkcs8.to_str().unwrap()])).unwrap();
        let err = read_private_key(&sec1, Some(&pass())).unwrap_err();
        let StoreError::UnexpectedPemLabel { label, .. } = &err else {
            panic!("expected UnexpectedPemLabel, got {err:?}");
        };
        assert_eq!(label, "EC PRIVATE KEY");
        let msg = err.to_string();
        assert!(msg.contains("\"EC PRIVATE KEY\""), "{msg}");
        assert!(msg.contains("openssl pkcs8 -topk8"), "{msg}");

        // Traditional *encrypted* PEM (Proc-Type/DEK-Info headers) also gets the label error.
        let enc = dir.path().join("sec1-enc.pem");
        let passout = format!("pass:{PASS}");
        fs::write(
            &enc,
            openssl(&[
                "ec",
                "-in",
                pkcs8.to_str().unwrap(),
                "-aes256",
                "-passout",
                &passout,
            ]),
        )
        .unwrap();
        let err = read_private_key(&enc, Some(&pass())).unwrap_err();
        assert!(
            matches!(err, StoreError::UnexpectedPemLabel { .. }),
            "{err:?}"
        );

        // Raw SEC1 DER is refused as not PKCS#8, with the conversion hint.
        let sec1_der = dir.path().join("sec1.der");
        fs::write(
            &sec1_der,
            openssl(&["ec", "-in", pkcs8.to_str().unwrap(), "-outform", "DER"]),
        )
        .unwrap();
        let err = read_private_key(&sec1_der, None).unwrap_err();
        assert!(matches!(err, StoreError::NotPkcs8 { .. }), "{err:?}");
        assert!(err.to_string().contains("openssl pkcs8 -topk8"));

        // A certificate is not a key.
        let cert = dir.path().join("cert.pem");
        fs::write(
            &cert,
            pem::encode_string("CERTIFICATE", LineEnding::LF, b"\x30\x00").unwrap(),
        )
        .unwrap();
        let err = read_private_key(&cert, None).unwrap_err();
        assert!(
            err.to_string().contains("does not hold a private key"),
            "{err}"
        );
    }

    #[test]
    fn oversize_files_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.pem");
        fs::write(&path, vec![b'A'; MAX_KEY_FILE_BYTES + 1]).unwrap();
        let err = read_private_key(&path, None).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::TooLarge {
                    limit: MAX_KEY_FILE_BYTES,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains(&path.display().to_string()));

        let err = read_bounded(&path, 10).unwrap_err();
        assert!(
            matches!(err, StoreError::TooLarge { limit: 10, .. }),
            "{err:?}"
        );
        assert_eq!(
            read_bounded(&path, MAX_KEY_FILE_BYTES + 1).unwrap().len(),
            MAX_KEY_FILE_BYTES + 1
        );

        // Non-regular files have no trustworthy length; the bound still holds.
        let err = read_bounded(Path::new("/dev/zero"), 1000).unwrap_err();
        assert!(matches!(err, StoreError::TooLarge { .. }), "{err:?}");
    }

    #[test]
    fn unaffordable_kdf_parameters_are_refused_without_running_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("slow.der");
        let salt = [7u8; 16];
        let iv = [9u8; 16];
        // Built by hand: the pkcs5 constructor caps the count, but its decoder does not.
        let params = pbes2::Parameters {
            kdf: pbes2::Pbkdf2Params {
                salt: &salt,
                iteration_count: u32::MAX,
                key_length: None,
                prf: pbes2::Pbkdf2Prf::HmacWithSha256,
            }
            .into(),
            encryption: pbes2::EncryptionScheme::Aes256Cbc { iv: &iv },
        };
        let epki = EncryptedPrivateKeyInfo {
            encryption_algorithm: params.into(),
            encrypted_data: &[0u8; 32],
        };
        fs::write(&path, epki.to_der().unwrap()).unwrap();
        // Refused before the passphrase is even asked for, so before the KDF (which needs
        // it) could run: checked by the order of the errors, not by how long it took.
        let err = read_private_key(&path, None).unwrap_err();
        assert!(
            matches!(err, StoreError::UnsupportedEncryption { .. }),
            "{err:?}"
        );
        let err = read_private_key(&path, Some(&pass())).unwrap_err();
        assert!(
            matches!(err, StoreError::UnsupportedEncryption { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("iteration count"), "{err}");
    }

    #[test]
    fn permissions_too_open_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        write_private_key(
            &path,
            &p256_pkcs8_der(),
            Protection::Plaintext,
            false,
            &mut OsRng,
        )
        .unwrap();
        assert!(!read_private_key(&path, None).unwrap().permissions_too_open);
        fs::set_permissions(&path, Permissions::from_mode(0o640)).unwrap();
        assert!(read_private_key(&path, None).unwrap().permissions_too_open);
    }

    #[test]
    fn garbage_is_not_pkcs8() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        for (content, want_malformed) in [
            (&b"hello world"[..], false),
            (b"\x30\x03\x02\x01\x00", false),
            (
                concat!(
                    "-----BEGIN ",
                    "PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n"
                )
                .as_bytes(),
                true,
            ),
            (b"", false),
        ] {
            fs::write(&path, content).unwrap();
            let err = read_private_key(&path, None).unwrap_err();
            if want_malformed {
                assert!(matches!(err, StoreError::MalformedPem { .. }), "{err:?}");
            } else {
                assert!(matches!(err, StoreError::NotPkcs8 { .. }), "{err:?}");
            }
        }
        let err = read_private_key(&dir.path().join("missing"), None).unwrap_err();
        assert!(
            matches!(&err, StoreError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
        );
    }

    #[test]
    fn write_atomic_sets_exact_mode_and_refuses_special_bits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cert.pem");
        write_atomic(&path, b"cert", 0o644, false).unwrap();
        assert_eq!(mode_of(&path), 0o644);
        assert_eq!(read_bounded(&path, 100).unwrap(), b"cert");
        let err = write_atomic(&path, b"cert2", 0o644, false).unwrap_err();
        assert!(matches!(err, StoreError::AlreadyExists { .. }), "{err:?}");
        write_atomic(&path, b"cert2", 0o640, true).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"cert2");
        assert_eq!(mode_of(&path), 0o640);
        let err = write_atomic(&path, b"x", 0o4755, true).unwrap_err();
        assert!(matches!(err, StoreError::InvalidMode { .. }), "{err:?}");
        let err = write_atomic(Path::new("/"), b"x", 0o644, true).unwrap_err();
        assert!(matches!(err, StoreError::InvalidPath { .. }), "{err:?}");
        assert_eq!(dir_listing(dir.path()), ["cert.pem"]);
    }

    #[test]
    fn debug_output_never_contains_secrets() {
        let p = pass();
        assert_eq!(format!("{p:?}"), "Passphrase(***)");
        assert!(!format!("{:?}", Protection::Encrypted(&p)).contains(PASS));

        let der = p256_pkcs8_der();
        let key = KeyFile {
            pkcs8_der: Zeroizing::new(der.clone()),
            was_encrypted: true,
            permissions_too_open: false,
        };
        let shown = format!("{key:?} {key:#?}");
        assert!(shown.contains("redacted"), "{shown}");
        // No byte sequence of the key shows up in any common rendering.
        for rendering in [format!("{:?}", der), format!("{:02x?}", der)] {
            let inner = rendering.trim_matches(|c| c == '[' || c == ']');
            let prefix: String = inner.chars().take(40).collect();
            assert!(!shown.contains(&prefix));
        }
        assert!(!shown.contains(&der.iter().map(|b| format!("{b:02x}")).collect::<String>()[..16]));
    }

    #[test]
    fn passphrase_rules() {
        assert!(matches!(
            Passphrase::new(String::new()),
            Err(StoreError::EmptyPassphrase)
        ));
        assert!(Passphrase::new("short".into()).unwrap().is_weak());
        assert!(Passphrase::new("elevenchars".into()).unwrap().is_weak());
        assert!(!Passphrase::new("twelve chars".into()).unwrap().is_weak());
        // Characters, not bytes: 12 CJK characters are not weak.
        assert!(!Passphrase::new("互认互认互认互认互认互认".into())
            .unwrap()
            .is_weak());
        assert_eq!(pass().expose(), PASS);
    }

    #[test]
    fn passphrase_from_env_or_file() {
        // Variable names unique to this test, so parallel tests cannot interfere.
        let var = "HUREN_STORE_TEST_PASSPHRASE_ENV_OR_FILE";
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pass.txt");
        fs::write(&file, "from file\r\n").unwrap();

        std::env::remove_var(var);
        assert!(Passphrase::from_env_or_file(var, None).unwrap().is_none());
        let p = Passphrase::from_env_or_file(var, Some(&file))
            .unwrap()
            .unwrap();
        assert_eq!(p.expose(), "from file");

        std::env::set_var(var, "");
        let p = Passphrase::from_env_or_file(var, Some(&file))
            .unwrap()
            .unwrap();
        assert_eq!(
            p.expose(),
            "from file",
            "an empty variable falls through to the file"
        );

        std::env::set_var(var, "from env");
        let p = Passphrase::from_env_or_file(var, Some(&file))
            .unwrap()
            .unwrap();
        assert_eq!(p.expose(), "from env");
        std::env::remove_var(var);

        // Only one newline is stripped; the rest is passphrase.
        fs::write(&file, "two\n\n").unwrap();
        assert_eq!(
            Passphrase::from_env_or_file(var, Some(&file))
                .unwrap()
                .unwrap()
                .expose(),
            "two\n"
        );

        fs::write(&file, "\n").unwrap();
        assert!(matches!(
            Passphrase::from_env_or_file(var, Some(&file)),
            Err(StoreError::EmptyPassphraseFile { .. })
        ));
        fs::write(&file, b"\xff\xfe\n").unwrap();
        assert!(matches!(
            Passphrase::from_env_or_file(var, Some(&file)),
            Err(StoreError::PassphraseFileNotUtf8 { .. })
        ));
        fs::write(&file, vec![b'a'; MAX_PASSPHRASE_FILE_BYTES + 1]).unwrap();
        assert!(matches!(
            Passphrase::from_env_or_file(var, Some(&file)),
            Err(StoreError::TooLarge { .. })
        ));
        assert!(matches!(
            Passphrase::from_env_or_file(var, Some(&dir.path().join("missing"))),
            Err(StoreError::Io { .. })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn passphrase_debug_is_always_redacted(s in ".{1,40}") {
            let p = Passphrase::new(s).unwrap();
            prop_assert_eq!(format!("{p:?}"), "Passphrase(***)");
        }

        /// Arbitrary file contents never panic the reader, and no error message repeats
        /// the passphrase.
        #[test]
        fn reading_arbitrary_bytes_fails_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("k");
            fs::write(&path, &bytes).unwrap();
            let p = Passphrase::new("zq-secret-zq".into()).unwrap();
            if let Err(e) = read_private_key(&path, Some(&p)) {
                prop_assert!(!e.to_string().contains("zq-secret-zq"));
                let debug = format!("{:?}", e);
                prop_assert!(!debug.contains("zq-secret-zq"));
            }
        }

        /// Whatever label a file carries, the error names it safely (escaped, bounded).
        #[test]
        fn unexpected_labels_are_named(label in "[A-Z]{1,10}( [A-Z]{1,10}){0,3}") {
            prop_assume!(label != "PRIVATE KEY" && label != "ENCRYPTED PRIVATE KEY");
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("k.pem");
            fs::write(&path, pem::encode_string(&label, LineEnding::LF, b"\x30\x00").unwrap()).unwrap();
            let err = read_private_key(&path, None).unwrap_err();
            prop_assert!(err.to_string().contains(&format!("\"{label}\"")), "{}", err);
        }
    }
}
