//! Publishing status lists: the current signed status-list token of each list, rebuilt from the
//! database when a status changed (the list's `version`) or when its `exp` nears, and kept in
//! memory so serving it costs one small query.

use std::collections::HashMap;
use std::sync::Arc;

use huren_crypto::status_list::{StatusList, StatusListClaim, StatusValue};
use huren_crypto::status_token::StatusListClaims;
use huren_crypto::time::UnixTime;
use tokio::sync::Mutex;

use crate::issuance::Issuer;
use crate::record_status::RecordStatus;
use crate::store::{status_lists, StoreError};

/// Re-sign when less than this is left before `exp`.
const RESIGN_MARGIN_SECONDS: i64 = 3600;

/// One signed list as served.
#[derive(Debug, Clone)]
pub struct Published {
    /// The status-list token.
    pub token: Arc<str>,
    /// Strong ETag.
    pub etag: String,
    /// `ttl` in the token.
    pub ttl: u64,
    /// Database version it reflects.
    version: i64,
    /// Expiry.
    exp: i64,
}

/// Why a list could not be published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// Database failure.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Building or signing failed.
    #[error("status list: {0}")]
    Build(String),
}

/// The cache of signed lists.
#[derive(Debug)]
pub struct Publisher {
    cache: Mutex<HashMap<String, Published>>,
    ttl: u64,
    validity: i64,
}

impl Publisher {
    /// A publisher with the given `ttl` and list lifetime.
    pub fn new(ttl: u64, validity: i64) -> Publisher {
        Publisher {
            cache: Mutex::new(HashMap::new()),
            ttl,
            validity,
        }
    }

    /// The current signed list `list_id`, or `None` if there is no such list.
    pub async fn current(
        &self,
        issuer: &Issuer,
        list_id: &str,
    ) -> Result<Option<Published>, PublishError> {
        // The region's own list only: another region's list sharing the database is not
        // found, so this issuer neither serves nor signs it.
        let mut conn = issuer.store.acquire().await?;
        let found = status_lists::version_and_capacity(&mut conn, list_id).await?;
        drop(conn);
        let Some((version, capacity)) = found else {
            return Ok(None);
        };
        let now = issuer.clock.now();
        // One rebuild at a time: concurrent requests for a changed list wait for it rather
        // than all rebuilding it.
        let mut cache = self.cache.lock().await;
        if let Some(published) = cache.get(list_id) {
            if published.version == version && now.seconds() < published.exp - RESIGN_MARGIN_SECONDS
            {
                return Ok(Some(published.clone()));
            }
        }
        let published = self.build(issuer, list_id, version, capacity, now).await?;
        cache.insert(list_id.to_owned(), published.clone());
        Ok(Some(published))
    }

    async fn build(
        &self,
        issuer: &Issuer,
        list_id: &str,
        version: i64,
        capacity: i64,
        now: UnixTime,
    ) -> Result<Published, PublishError> {
        let capacity =
            usize::try_from(capacity).map_err(|_| PublishError::Build("bad capacity".into()))?;
        let mut list =
            StatusList::new(2, capacity).map_err(|e| PublishError::Build(e.to_string()))?;
        // Licences and seals share the lists (`status_index`); only the region's own rows
        // count.
        let mut conn = issuer.store.acquire().await?;
        let marked = status_lists::marked_entries(&mut conn, list_id).await?;
        drop(conn);
        for (idx, status) in marked {
            let value = match RecordStatus::from_code(status) {
                RecordStatus::Suspended => StatusValue::Suspended,
                RecordStatus::Revoked | RecordStatus::Valid => StatusValue::Revoked,
            };
            let idx =
                usize::try_from(idx).map_err(|_| PublishError::Build("negative index".into()))?;
            list.set(idx, value)
                .map_err(|e| PublishError::Build(e.to_string()))?;
        }
        let claims = StatusListClaims {
            sub: issuer.keys.status_uri(list_id),
            iat: now.seconds(),
            exp: now.plus(self.validity).seconds(),
            ttl: self.ttl,
            status_list: StatusListClaim::from_list(&list),
        };
        let token = claims
            .sign(&issuer.keys.status_signer, &issuer.keys.status_cert_der)
            .map_err(|e| PublishError::Build(e.to_string()))?;
        Ok(Published {
            etag: format!("\"{list_id}.{version}.{}\"", claims.iat),
            token: Arc::from(token),
            ttl: self.ttl,
            version,
            exp: claims.exp,
        })
    }
}
