//! Last-good copies on disk, so a verifier restarted without network still verifies.
//! Files are written to a temporary name, synced and renamed: a crash leaves the previous
//! copy, never half of a new one. What is read back is verified again like anything fetched.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Largest cached file read back.
const MAX_CACHED_BYTES: u64 = 16 * 1024 * 1024;

/// A cache directory.
#[derive(Debug, Clone)]
pub struct DiskCache {
    dir: PathBuf,
}

impl DiskCache {
    /// Uses (and creates) `dir`.
    pub fn new(dir: &Path) -> std::io::Result<DiskCache> {
        std::fs::create_dir_all(dir)?;
        Ok(DiskCache {
            dir: dir.to_path_buf(),
        })
    }

    /// File name for a status list URI (hashed: URIs are not file names).
    pub fn status_file(uri: &str) -> String {
        format!(
            "status-{}.jwt",
            &hex::encode(Sha256::digest(uri.as_bytes()))[..32]
        )
    }

    /// File name for the log's inclusion proof of the token whose SHA-256 is `token_sha256`
    /// (64 lower-case hex digits, checked by the caller).
    pub fn log_proof_file(token_sha256: &str) -> String {
        format!("log-proof-{token_sha256}.json")
    }

    /// File name for the CRL fetched from `url` (hashed, like status lists).
    pub fn crl_file(url: &str) -> String {
        format!(
            "crl-{}.der",
            &hex::encode(Sha256::digest(url.as_bytes()))[..32]
        )
    }

    /// Atomically replaces `name` with `bytes`.
    pub fn write(&self, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        let target = self.dir.join(name);
        let temp = self.dir.join(format!(".{name}.tmp"));
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temp, &target)?;
        if let Ok(dir) = std::fs::File::open(&self.dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }

    /// Reads `name` if present (bounded).
    pub fn read(&self, name: &str) -> Option<String> {
        use std::io::Read;
        let file = std::fs::File::open(self.dir.join(name)).ok()?;
        let mut text = String::new();
        file.take(MAX_CACHED_BYTES).read_to_string(&mut text).ok()?;
        Some(text)
    }

    /// Reads binary `name` if present, at most `max` bytes (a longer file is not read at all:
    /// a truncated DER document is garbage).
    pub fn read_bytes(&self, name: &str, max: u64) -> Option<Vec<u8>> {
        use std::io::Read;
        let file = std::fs::File::open(self.dir.join(name)).ok()?;
        let mut bytes = Vec::new();
        file.take(max.saturating_add(1))
            .read_to_end(&mut bytes)
            .ok()?;
        (bytes.len() as u64 <= max).then_some(bytes)
    }

    /// Every cached status-list file's content.
    pub fn status_files(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|name| name.starts_with("status-") && name.ends_with(".jwt"))
            .filter_map(|name| self.read(&name))
            .collect()
    }
}
