//! Checkpoints in signed notes (C2SP tlog-checkpoint, signed-note) and witnesses'
//! cosignatures (C2SP tlog-cosignature, cosignature/v1).
//!
//! A checkpoint is `<origin>\n<size>\n<base64 root>\n`, signed by the log's Ed25519 key whose
//! name is the origin. A witness adds a line signed over `cosignature/v1\ntime <secs>\n` ‖ the
//! checkpoint text, after checking the log only grew. [`open`] accepts a note only with a valid
//! log signature, refuses it whole when any known key's signature fails (a forged cosignature
//! is an attack, not noise), and reports which listed witnesses cosigned; whether that is a
//! quorum is [`OpenedCheckpoint::witnessed`]'s question. Lines by unknown keys are kept but
//! carry no weight.

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use signed_note::{Note, Signature, VerificationError, Verifier, Verifiers};

use super::vkey::{KeyType, VerifierKey};
use super::{excerpt, Hash, TlogError};

/// Largest signed note accepted (a checkpoint with a hundred cosignatures is under 16 KiB).
pub const MAX_NOTE_BYTES: usize = 64 * 1024;

/// An Ed25519 key pair with its signed-note name and type.
pub struct NoteKeyPair {
    key: VerifierKey,
    pair: Ed25519KeyPair,
}

impl std::fmt::Debug for NoteKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NoteKeyPair({})", self.key)
    }
}

impl NoteKeyPair {
    /// The key pair in `pkcs8` (v1 or v2 DER), named `name`, signing as `key_type`.
    pub fn from_pkcs8(name: &str, key_type: KeyType, pkcs8: &[u8]) -> Result<Self, TlogError> {
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8)
            .map_err(|_| TlogError::VerifierKey(format!("{name}: not an Ed25519 PKCS#8 key")))?;
        let public: [u8; 32] =
            pair.public_key().as_ref().try_into().map_err(|_| {
                TlogError::VerifierKey(format!("{name}: public key is not 32 bytes"))
            })?;
        Ok(NoteKeyPair {
            key: VerifierKey::new(name, key_type, public)?,
            pair,
        })
    }

    /// The verifier key to publish (trust list `log_key` or a `witnesses[].vkey`).
    pub fn verifier_key(&self) -> &VerifierKey {
        &self.key
    }

    /// A cosignature/v1 signature line over `checkpoint_text` at `time` (Unix seconds), for a
    /// witness key. The log's own key never cosigns (see [`super::vkey`]).
    pub fn cosign(&self, checkpoint_text: &[u8], time: u64) -> Result<String, TlogError> {
        if self.key.key_type() != KeyType::Cosignature {
            return Err(TlogError::VerifierKey(format!(
                "{} is a log key, not a witness key",
                self.key.name()
            )));
        }
        let signature = self.pair.sign(&cosigned_message(checkpoint_text, time));
        let mut sig = time.to_be_bytes().to_vec();
        sig.extend_from_slice(signature.as_ref());
        let line = Signature::new(self.key.name().to_owned(), self.key.id(), sig)
            .map_err(|e| TlogError::Malformed(e.to_string()))?;
        Ok(String::from_utf8_lossy(&line.to_bytes()).into_owned())
    }
}

impl signed_note::Signer for NoteKeyPair {
    fn name(&self) -> &str {
        self.key.name()
    }
    fn key_id(&self) -> u32 {
        self.key.id()
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        Ok(self.pair.sign(msg).as_ref().to_vec())
    }
}

fn cosigned_message(checkpoint_text: &[u8], time: u64) -> Vec<u8> {
    let mut message = format!("cosignature/v1\ntime {time}\n").into_bytes();
    message.extend_from_slice(checkpoint_text);
    message
}

/// The checkpoint text of a tree: `<origin>\n<size>\n<base64 root>\n`.
pub fn checkpoint_text(origin: &str, size: u64, root: &Hash) -> Result<Vec<u8>, TlogError> {
    tlog_tiles::Checkpoint::new(origin, size, *root, "")
        .map(|c| c.to_bytes())
        .map_err(|_| TlogError::Malformed(format!("origin {} is not usable", excerpt(origin))))
}

/// Signs the checkpoint of (`size`, `root`) with the log's key, whose name is the origin.
pub fn sign_checkpoint(log_key: &NoteKeyPair, size: u64, root: &Hash) -> Result<String, TlogError> {
    if log_key.key.key_type() != KeyType::Ed25519 {
        return Err(TlogError::VerifierKey(format!(
            "{} is a witness key, not a log key",
            log_key.key.name()
        )));
    }
    let text = checkpoint_text(log_key.key.name(), size, root)?;
    let mut note = Note::new(&text, &[]).map_err(|e| TlogError::Malformed(e.to_string()))?;
    note.add_sigs(&[log_key])
        .map_err(|e| TlogError::Malformed(e.to_string()))?;
    String::from_utf8(note.to_bytes()).map_err(|e| TlogError::Malformed(e.to_string()))
}

/// A cosignature by a listed witness that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosignature {
    /// The witness's key name.
    pub name: String,
    /// When it cosigned (Unix seconds).
    pub time: u64,
}

/// A checkpoint whose log signature verified.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenedCheckpoint {
    /// The log's origin.
    pub origin: String,
    /// Number of entries.
    pub size: u64,
    /// Merkle root.
    pub root: Hash,
    /// The checkpoint text (without signatures): what witnesses cosign.
    pub text: String,
    /// The whole note as received.
    pub note: String,
    /// Listed witnesses that cosigned, one per key.
    pub cosignatures: Vec<Cosignature>,
}

impl OpenedCheckpoint {
    /// Whether at least `quorum` listed witnesses cosigned.
    pub fn witnessed(&self, quorum: usize) -> Result<(), TlogError> {
        if self.cosignatures.len() >= quorum {
            Ok(())
        } else {
            Err(TlogError::NotWitnessed {
                found: self.cosignatures.len(),
                quorum,
            })
        }
    }
}

enum Known<'a> {
    Log(&'a VerifierKey),
    Witness(&'a VerifierKey),
}

impl Verifier for Known<'_> {
    fn name(&self) -> &str {
        match self {
            Known::Log(k) | Known::Witness(k) => k.name(),
        }
    }
    fn key_id(&self) -> u32 {
        match self {
            Known::Log(k) | Known::Witness(k) => k.id(),
        }
    }
    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        match self {
            Known::Log(k) => k.verify_ed25519(msg, sig),
            Known::Witness(k) => match cosignature_time(sig) {
                Some(time) => k.verify_ed25519(&cosigned_message(msg, time), &sig[8..]),
                None => false,
            },
        }
    }
}

/// The time of a cosignature/v1 signature (8 bytes big-endian seconds, then 64 bytes), if it
/// has that shape and a time below 2^63.
fn cosignature_time(sig: &[u8]) -> Option<u64> {
    let (time, rest) = sig.split_first_chunk::<8>()?;
    let time = u64::from_be_bytes(*time);
    (rest.len() == 64 && time <= i64::MAX as u64).then_some(time)
}

struct KnownKeys<'a>(Vec<Known<'a>>);

impl Verifiers for KnownKeys<'_> {
    fn verifier(&self, name: &str, id: u32) -> Result<&dyn Verifier, VerificationError> {
        self.0
            .iter()
            .find(|k| k.name() == name && k.key_id() == id)
            .map(|k| k as &dyn Verifier)
            .ok_or_else(|| VerificationError::UnknownKey {
                name: name.to_owned(),
                id,
            })
    }
}

/// Opens a checkpoint note of the log whose key is `log_key` (its name is the origin),
/// recognising cosignatures by `witnesses`.
pub fn open(
    note: &[u8],
    log_key: &VerifierKey,
    witnesses: &[VerifierKey],
) -> Result<OpenedCheckpoint, TlogError> {
    if note.len() > MAX_NOTE_BYTES {
        return Err(TlogError::Malformed(format!(
            "longer than {MAX_NOTE_BYTES} bytes"
        )));
    }
    if log_key.key_type() != KeyType::Ed25519 {
        return Err(TlogError::VerifierKey(format!(
            "{} is not an Ed25519 log key",
            log_key.name()
        )));
    }
    let parsed = Note::from_bytes(note)
        .map_err(|e| TlogError::Malformed(format!("not a signed note: {e}")))?;
    let mut known = vec![Known::Log(log_key)];
    known.extend(
        witnesses
            .iter()
            .filter(|w| w.key_type() == KeyType::Cosignature)
            .map(Known::Witness),
    );
    let (verified, _unknown) = parsed.verify(&KnownKeys(known)).map_err(|e| match e {
        signed_note::NoteError::InvalidSignature { name, id } => {
            TlogError::BadSignature(format!("{name}+{id:08x}"))
        }
        signed_note::NoteError::UnverifiedNote => TlogError::NotSignedByLog(log_key.to_string()),
        other => TlogError::Malformed(other.to_string()),
    })?;
    if !verified
        .iter()
        .any(|s| s.name() == log_key.name() && s.id() == log_key.id())
    {
        return Err(TlogError::NotSignedByLog(log_key.to_string()));
    }
    let checkpoint = tlog_tiles::Checkpoint::from_bytes(parsed.text())
        .map_err(|_| TlogError::Malformed("the text is not a checkpoint".into()))?;
    if checkpoint.origin() != log_key.name() {
        return Err(TlogError::WrongOrigin {
            expected: log_key.name().to_owned(),
            found: excerpt(checkpoint.origin()),
        });
    }
    if !checkpoint.extension().is_empty() {
        return Err(TlogError::Malformed(
            "huren checkpoints carry no extension lines".into(),
        ));
    }
    if checkpoint.size() > i64::MAX as u64 {
        return Err(TlogError::Malformed("size is above 2^63 - 1".into()));
    }
    let cosignatures = verified
        .iter()
        .filter(|s| !(s.name() == log_key.name() && s.id() == log_key.id()))
        .filter_map(|s| {
            Some(Cosignature {
                name: s.name().to_owned(),
                time: cosignature_time(s.signature())?,
            })
        })
        .collect();
    Ok(OpenedCheckpoint {
        origin: checkpoint.origin().to_owned(),
        size: checkpoint.size(),
        root: *checkpoint.hash(),
        text: String::from_utf8_lossy(parsed.text()).into_owned(),
        note: String::from_utf8_lossy(note).into_owned(),
        cosignatures,
    })
}

/// `note` with the signature `lines` added (each `— <name> <base64>\n`), replacing an earlier
/// line by the same key: how the log publishes the cosignatures its witnesses returned.
pub fn add_signature_lines(note: &str, lines: &[String]) -> Result<String, TlogError> {
    let (text, sigs) = note
        .rsplit_once("\n\n")
        .ok_or_else(|| TlogError::Malformed("no signature block".into()))?;
    let parse = |line: &str| {
        Signature::from_bytes(line.as_bytes())
            .map_err(|_| TlogError::Malformed(format!("signature line {}", excerpt(line))))
    };
    let mut all: Vec<Signature> = Vec::new();
    for line in sigs.lines().chain(lines.iter().flat_map(|l| l.lines())) {
        let sig = parse(line)?;
        all.retain(|s| !(s.name() == sig.name() && s.id() == sig.id()));
        all.push(sig);
    }
    let note = Note::new(format!("{text}\n").as_bytes(), &all)
        .map_err(|e| TlogError::Malformed(e.to_string()))?;
    String::from_utf8(note.to_bytes()).map_err(|e| TlogError::Malformed(e.to_string()))
}
