//! Signed audit heads: the anchor of a region's audit chain outside the database.
//!
//! The chain (`audit`) detects an edited, removed or reordered entry only as long as nobody
//! rewrites the chain and its head row consistently, which anyone who can write the database
//! can do. So after every committed write batch the issuer signs the region's new head
//! (`region`, `seq`, `hash`, `iat`) with the region's status-signer key — a key kept with the
//! region's keys, never in the database — and keeps the newest signed heads as files in its
//! data directory. `huren issuer audit verify` checks the database against each of them
//! ([`crate::audit::verify_anchored`]): a signed head covers every entry up to its `seq`,
//! because each entry's hash commits to all before it.
//!
//! The signature is a compact JWS of type [`AUDIT_HEAD_TYP`] carrying the signer certificate
//! in `x5c`; it verifies against the region root of the region directory ([`verify_head`]),
//! so heads stay verifiable across status-signer rollovers. A status-list verifier never
//! accepts one as a status list (wrong `typ`, no `status_list` claim), nor this module a
//! status list as a head.
//!
//! Files: `<data dir>/audit-heads/<region>/<seq, 20 digits>-<hash prefix>.jwt`, written
//! atomically and never overwritten (two heads for one `seq` are a fork, and both stay as
//! evidence); the newest [`KEEP_NEWEST`] are kept, and of older ones the newest of each run of
//! [`CHECKPOINT_EVERY`] entries, at most [`KEEP_CHECKPOINTS`] of them. This module does not
//! read the database.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use huren_crypto::cert::Certificate;
use huren_crypto::ids::RegionCode;
use huren_crypto::jws::{self, HeaderParams, Limits, UnverifiedJws};
use huren_crypto::oids::Purpose;
use huren_crypto::time::UnixTime;
use huren_crypto::Signer;
use serde::{Deserialize, Serialize};

use crate::store::AuditHead;

/// `typ` of a signed audit head.
pub const AUDIT_HEAD_TYP: &str = "huren-audit-head+jwt";
/// Signed heads kept, newest first.
pub const KEEP_NEWEST: usize = 32;
/// Entries per checkpoint run: of older heads, the newest of each run is kept.
pub const CHECKPOINT_EVERY: i64 = 1000;
/// Checkpoints kept beyond the newest heads.
pub const KEEP_CHECKPOINTS: usize = 64;
/// Largest head file read (a head is well under 4 KiB with an RSA certificate).
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// The signed claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadClaims {
    /// The region whose chain this is.
    pub region: String,
    /// Last entry covered.
    pub seq: i64,
    /// Its hash.
    pub hash: String,
    /// When it was signed.
    pub iat: i64,
}

/// A signed head whose signature, signer and region were checked ([`verify_head`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedHead {
    /// Last entry covered.
    pub seq: i64,
    /// Its hash.
    pub hash: String,
    /// When it was signed.
    pub iat: i64,
    /// The compact JWS.
    pub token: String,
}

/// Why a signed head was refused, or could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    /// Not a well-formed signed head.
    #[error("signed audit head {file}: {reason}")]
    Invalid {
        /// The file (or `response`).
        file: String,
        /// Why.
        reason: String,
    },
    /// Signing failed.
    #[error("signing the audit head: {0}")]
    Sign(String),
    /// The directory or a file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Writing a file failed.
    #[error(transparent)]
    Write(#[from] huren_keys::store::StoreError),
}

/// Signs `head` of `region` at `now` with the status signer (`cert_der` goes into `x5c`).
pub fn sign_head(
    region: &RegionCode,
    head: &AuditHead,
    now: UnixTime,
    signer: &dyn Signer,
    cert_der: &[u8],
) -> Result<String, AnchorError> {
    let claims = HeadClaims {
        region: region.as_str().to_owned(),
        seq: head.seq,
        hash: head.hash.clone(),
        iat: now.seconds(),
    };
    let params = HeaderParams {
        typ: Some(AUDIT_HEAD_TYP),
        x5c: vec![cert_der.to_vec()],
        ..HeaderParams::default()
    };
    jws::sign_json_compact(&params, &claims, signer, false)
        .map_err(|e| AnchorError::Sign(e.to_string()))
}

/// Verifies a signed head of `region`: type, a status-signer certificate issued by `root` and
/// valid when the head was signed, its signature, and the region.
pub fn verify_head(
    token: &str,
    region: &RegionCode,
    root: &Certificate,
) -> Result<VerifiedHead, String> {
    let limits = Limits {
        max_token_bytes: MAX_HEAD_BYTES,
        max_payload_bytes: 1024,
    };
    let jws = UnverifiedJws::parse(token.trim(), limits).map_err(|e| e.to_string())?;
    jws.header()
        .expect_typ(AUDIT_HEAD_TYP)
        .map_err(|e| e.to_string())?;
    let [cert_der] = jws.header().x5c.as_slice() else {
        return Err("x5c must hold exactly the signer certificate".into());
    };
    let cert = Certificate::from_der(cert_der).map_err(|e| e.to_string())?;
    cert.check_issued_by(root).map_err(|e| e.to_string())?;
    cert.check_leaf_profile(Purpose::StatusSigner)
        .map_err(|e| e.to_string())?;
    let verified = jws.verify(cert.public_key()).map_err(|e| e.to_string())?;
    let payload = verified.payload(1024).map_err(|e| e.to_string())?;
    let claims: HeadClaims = serde_json::from_slice(&payload).map_err(|e| e.to_string())?;
    cert.check_valid_at(UnixTime(claims.iat))
        .map_err(|e| e.to_string())?;
    if claims.region != region.as_str() {
        return Err(format!("signed for region {}, not {region}", claims.region));
    }
    if claims.seq < 1
        || claims.hash.len() != 64
        || !claims.hash.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err("seq or hash is malformed".into());
    }
    Ok(VerifiedHead {
        seq: claims.seq,
        hash: claims.hash,
        iat: claims.iat,
        token: token.trim().to_owned(),
    })
}

/// The signed heads of one region in the data directory.
#[derive(Debug)]
pub struct HeadStore {
    dir: PathBuf,
    /// The newest head written or found, as served at `GET /v1/audit/head`.
    newest: Mutex<Option<(i64, Arc<str>)>>,
}

/// The directory of `region`'s signed heads under `data_dir`.
pub fn heads_dir(data_dir: &Path, region: &RegionCode) -> PathBuf {
    data_dir.join("audit-heads").join(region.as_str())
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> AnchorError + '_ {
    move |source| AnchorError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The `seq` a head file's name gives, if it is one.
fn file_seq(name: &str) -> Option<i64> {
    let stem = name.strip_suffix(".jwt")?;
    let (seq, _) = stem.split_once('-')?;
    seq.parse().ok()
}

/// The head files in `dir` with their seq, newest first.
fn head_files(dir: &Path) -> Result<Vec<(i64, PathBuf)>, AnchorError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(dir)(e)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io(dir))?;
        let name = entry.file_name();
        if let Some(seq) = name.to_str().and_then(file_seq) {
            files.push((seq, entry.path()));
        }
    }
    files.sort_by(|a, b| b.cmp(a));
    Ok(files)
}

impl HeadStore {
    /// The heads of `region` under `data_dir` (the directory is made with the first head).
    pub fn open(data_dir: &Path, region: &RegionCode) -> Result<HeadStore, AnchorError> {
        let dir = heads_dir(data_dir, region);
        let newest = match head_files(&dir)?.first() {
            Some((seq, path)) => {
                let token = std::fs::read_to_string(path).map_err(io(path))?;
                Some((*seq, Arc::from(token.trim())))
            }
            None => None,
        };
        Ok(HeadStore {
            dir,
            newest: Mutex::new(newest),
        })
    }

    /// The newest signed head, if any.
    pub fn newest(&self) -> Option<Arc<str>> {
        // A poisoned lock only means a writer panicked between two plain assignments.
        let newest = self.newest.lock().unwrap_or_else(|e| e.into_inner());
        newest.as_ref().map(|(_, token)| Arc::clone(token))
    }

    /// Stores a signed head of `head` (blocking file I/O: call off the async workers) and
    /// prunes old ones.
    pub fn store(&self, head: &AuditHead, token: &str) -> Result<(), AnchorError> {
        create_private_dir(&self.dir)?;
        let prefix = head.hash.get(..16).unwrap_or(&head.hash);
        let path = self.dir.join(format!("{:020}-{prefix}.jwt", head.seq));
        match huren_keys::store::write_atomic(&path, token.as_bytes(), 0o600, false) {
            Ok(()) => {}
            // The same head signed twice (two processes): the first file stays.
            Err(huren_keys::store::StoreError::AlreadyExists { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        {
            let mut newest = self.newest.lock().unwrap_or_else(|e| e.into_inner());
            if newest.as_ref().is_none_or(|(seq, _)| *seq < head.seq) {
                *newest = Some((head.seq, Arc::from(token)));
            }
        }
        self.prune()
    }

    /// Removes heads beyond the retention (see the module doc).
    fn prune(&self) -> Result<(), AnchorError> {
        let files = head_files(&self.dir)?;
        let mut checkpoints = 0;
        let mut last_run = None;
        for (n, (seq, path)) in files.iter().enumerate() {
            let run = seq / CHECKPOINT_EVERY;
            let keep = if n < KEEP_NEWEST {
                true
            } else if last_run != Some(run) && checkpoints < KEEP_CHECKPOINTS {
                checkpoints += 1;
                true
            } else {
                false
            };
            last_run = Some(run);
            if !keep {
                match std::fs::remove_file(path) {
                    Ok(()) => {}
                    // Another process pruned it first.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io(path)(e)),
                }
            }
        }
        Ok(())
    }

    /// Every stored head, verified against `root` as heads of `region`; a file that does not
    /// verify is an error naming it (a forged or damaged anchor must not pass unnoticed).
    pub fn load_verified(
        &self,
        region: &RegionCode,
        root: &Certificate,
    ) -> Result<Vec<VerifiedHead>, AnchorError> {
        let mut heads = Vec::new();
        for (seq, path) in head_files(&self.dir)? {
            let invalid = |reason: String| AnchorError::Invalid {
                file: path.display().to_string(),
                reason,
            };
            let metadata = std::fs::metadata(&path).map_err(io(&path))?;
            if metadata.len() > MAX_HEAD_BYTES as u64 {
                return Err(invalid(format!("larger than {MAX_HEAD_BYTES} bytes")));
            }
            let token = std::fs::read_to_string(&path).map_err(io(&path))?;
            let head = verify_head(&token, region, root).map_err(invalid)?;
            if head.seq != seq {
                return Err(invalid(format!(
                    "the file name says entry {seq}, the signed head {}",
                    head.seq
                )));
            }
            heads.push(head);
        }
        Ok(heads)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Makes `dir` (and its parents) readable by the owner only.
fn create_private_dir(dir: &Path) -> Result<(), AnchorError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(io(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_file_names_give_their_seq() {
        assert_eq!(
            file_seq("00000000000000000042-0123456789abcdef.jwt"),
            Some(42)
        );
        assert_eq!(file_seq("00000000000000000042-0123.jwt.tmp"), None);
        assert_eq!(file_seq("notes.txt"), None);
    }
}
