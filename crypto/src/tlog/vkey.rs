//! Signed-note verifier keys (C2SP signed-note): `<name>+<8 hex digits key ID>+<base64(type ‖
//! public key)>`, as the trust list names a region's `log_key` and its `witnesses`.
//!
//! The key ID is the first four bytes of `SHA-256(name ‖ "\n" ‖ type ‖ public key)`, so a key
//! string whose ID does not match its name and key is refused, not trusted under another name.
//! Only the two types huren uses are accepted: Ed25519 note signatures (0x01, the log's
//! checkpoints) and cosignature/v1 (0x04, witnesses). A cosignature/v1 signature does not commit
//! to the signer's name, which is why a log key and a witness key are always distinct keys.

use std::fmt;

use aws_lc_rs::signature::{UnparsedPublicKey, ED25519};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::{excerpt, TlogError};

/// Longest verifier key string accepted (a name of up to 200 characters and 33 key bytes).
pub const MAX_VKEY_CHARS: usize = 300;

/// What a key signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// A log's Ed25519 signature over the note text (type 0x01).
    Ed25519,
    /// A witness's cosignature/v1 (type 0x04).
    Cosignature,
}

impl KeyType {
    /// The signed-note type byte.
    pub fn byte(self) -> u8 {
        match self {
            KeyType::Ed25519 => 0x01,
            KeyType::Cosignature => 0x04,
        }
    }
}

/// A parsed verifier key whose ID matches its name and key.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct VerifierKey {
    name: String,
    id: u32,
    key_type: KeyType,
    public: [u8; 32],
}

impl fmt::Debug for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifierKey({self})")
    }
}

/// Whether `name` may name a key: non-empty, at most 200 characters, no spaces, no `+`.
pub fn is_valid_key_name(name: &str) -> bool {
    name.chars().count() <= 200 && signed_note::is_key_name_valid(name)
}

impl VerifierKey {
    /// The key of `name` for `public`.
    pub fn new(name: &str, key_type: KeyType, public: [u8; 32]) -> Result<VerifierKey, TlogError> {
        if !is_valid_key_name(name) {
            return Err(TlogError::VerifierKey(format!(
                "name {} must be 1 to 200 characters without spaces or '+'",
                excerpt(name)
            )));
        }
        let mut typed = Vec::with_capacity(33);
        typed.push(key_type.byte());
        typed.extend_from_slice(&public);
        Ok(VerifierKey {
            name: name.to_owned(),
            id: signed_note::key_id(name, &typed),
            key_type,
            public,
        })
    }

    /// Parses `<name>+<hex id>+<base64(type ‖ key)>`. The base64 part may itself contain `+`,
    /// so the string is split at its first two.
    pub fn parse(text: &str) -> Result<VerifierKey, TlogError> {
        let bad = |why: &str| TlogError::VerifierKey(format!("{} {why}", excerpt(text)));
        if text.len() > MAX_VKEY_CHARS {
            return Err(bad(&format!("is longer than {MAX_VKEY_CHARS} characters")));
        }
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("is not <name>+<key ID>+<base64 key>"));
        };
        if id.len() != 8 || !id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(bad("has a key ID that is not 8 lower-case hex digits"));
        }
        let id = u32::from_str_radix(id, 16).map_err(|_| bad("has a malformed key ID"))?;
        let typed = STANDARD
            .decode(key)
            .map_err(|_| bad("has a key that is not standard base64"))?;
        let (key_type, public) = match typed.as_slice() {
            [0x01, public @ ..] => (KeyType::Ed25519, public),
            [0x04, public @ ..] => (KeyType::Cosignature, public),
            [other, ..] => {
                return Err(bad(&format!(
                    "has key type 0x{other:02x}; only 0x01 (Ed25519) and 0x04 (cosignature/v1) are accepted"
                )))
            }
            [] => return Err(bad("has an empty key")),
        };
        let public: [u8; 32] = public
            .try_into()
            .map_err(|_| bad("has a public key that is not 32 bytes"))?;
        let key = VerifierKey::new(name, key_type, public)?;
        if key.id != id {
            return Err(bad(&format!(
                "has key ID {id:08x} but its name and key give {:08x}",
                key.id
            )));
        }
        Ok(key)
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// What it signs.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The Ed25519 public key.
    pub fn public(&self) -> &[u8; 32] {
        &self.public
    }

    /// Whether `signature` is this key's Ed25519 signature of `message`.
    pub(crate) fn verify_ed25519(&self, message: &[u8], signature: &[u8]) -> bool {
        signature.len() == 64
            && UnparsedPublicKey::new(&ED25519, &self.public)
                .verify(message, signature)
                .is_ok()
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut typed = Vec::with_capacity(33);
        typed.push(self.key_type.byte());
        typed.extend_from_slice(&self.public);
        write!(
            f,
            "{}+{:08x}+{}",
            self.name,
            self.id,
            STANDARD.encode(typed)
        )
    }
}

impl serde::Serialize for VerifierKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for VerifierKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        VerifierKey::parse(&text).map_err(serde::de::Error::custom)
    }
}
