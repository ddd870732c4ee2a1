//! The region root's CRL file (`huren pki revoke-cert` writes it): served at `GET /v1/crl` and
//! consulted before sealing with a platform-held key.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use huren_crypto::cert::Certificate;
use huren_crypto::crl::VerifiedCrl;
use sha2::{Digest, Sha256};

/// A verified CRL as read from its file.
#[derive(Debug, Clone)]
pub struct LoadedCrl {
    /// File modification time and length when read: a change means `huren pki revoke-cert`
    /// wrote a new list.
    stamp: (Option<std::time::SystemTime>, u64),
    /// The CRL, DER.
    pub der: Arc<[u8]>,
    /// The CRL, verified under the region root.
    pub crl: Arc<VerifiedCrl>,
    /// Strong ETag of `der`.
    pub etag: String,
}

/// The region root's CRL file, re-read when it changes. A replacement that does not verify
/// under the root is refused (logged) and the last good list stays in use: a broken file must
/// not make revocations disappear.
#[derive(Debug)]
pub struct CrlFile {
    path: PathBuf,
    root: Certificate,
    last: Mutex<Option<LoadedCrl>>,
}

fn read_crl(path: &Path, root: &Certificate) -> Result<LoadedCrl, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    let der = huren_keys::crl::read_crl(path).map_err(|e| e.to_string())?;
    let crl = VerifiedCrl::verify(&der, root)
        .map_err(|e| format!("does not verify under the region root: {e}"))?;
    let digest = Sha256::digest(&der);
    Ok(LoadedCrl {
        stamp: (meta.modified().ok(), meta.len()),
        etag: format!("\"{}\"", hex::encode(&digest[..16])),
        der: Arc::from(der),
        crl: Arc::new(crl),
    })
}

impl CrlFile {
    /// Reads and verifies the CRL at `path` under `root`; why not, if it does not.
    pub fn load(path: &Path, root: &Certificate) -> Result<CrlFile, String> {
        let loaded = read_crl(path, root)?;
        Ok(CrlFile {
            path: path.to_path_buf(),
            root: root.clone(),
            last: Mutex::new(Some(loaded)),
        })
    }

    fn cached(&self) -> Option<LoadedCrl> {
        self.last.lock().ok().and_then(|last| last.clone())
    }

    /// The current CRL: the file's if it changed and verifies, else the last good one.
    pub async fn current(&self) -> Option<LoadedCrl> {
        let path = self.path.clone();
        let root = self.root.clone();
        let cached = self.cached();
        let known = cached.as_ref().map(|c| c.stamp);
        let fresh = tokio::task::spawn_blocking(move || {
            let meta = std::fs::metadata(&path).ok()?;
            if Some((meta.modified().ok(), meta.len())) == known {
                return None;
            }
            Some(read_crl(&path, &root))
        })
        .await
        .ok()
        .flatten();
        match fresh {
            None => cached,
            Some(Ok(loaded)) => {
                if let Ok(mut last) = self.last.lock() {
                    *last = Some(loaded.clone());
                }
                Some(loaded)
            }
            Some(Err(message)) => {
                tracing::error!(path = %self.path.display(), %message, "CRL file refused; serving the last good CRL");
                cached
            }
        }
    }
}
