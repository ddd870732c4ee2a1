//! Publishing status lists: the current signed status-list token of each list, rebuilt from the
//! database when a status changed (the list's `version`) or when its `exp` nears, and kept in
//! memory so serving it costs one small query.

use std::collections::HashMap;
use std::sync::Arc;

use huren_crypto::status_list::{StatusList, StatusListClaim, StatusValue};
use huren_crypto::status_token::StatusListClaims;
use huren_crypto::time::UnixTime;
use sqlx::Row;
use tokio::sync::Mutex;

use crate::issuance::Issuer;
use crate::store::{Confined, StoreError};

/// Caching hint given to verifiers (`ttl`), seconds.
pub const DEFAULT_TTL_SECONDS: u64 = 300;
/// Lifetime of a signed list (`exp - iat`).
pub const DEFAULT_VALIDITY_SECONDS: i64 = 24 * 3600;
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

impl From<sqlx::Error> for PublishError {
    fn from(e: sqlx::Error) -> Self {
        PublishError::Store(StoreError::Sqlx(e))
    }
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
        let row =
            sqlx::query("SELECT version, capacity FROM status_lists WHERE id = $1 AND region = $2")
                .bind(list_id)
                .bind(conn.region().as_str().to_owned())
                .fetch_optional(&mut *conn)
                .await?;
        drop(conn);
        let Some(row) = row else { return Ok(None) };
        let version: i64 = row.try_get("version")?;
        let capacity: i64 = row.try_get("capacity")?;
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
        // Licences and seals share the lists (seals.rs, "Status entries"); only the region's
        // own rows count.
        let mut conn = issuer.store.acquire().await?;
        let region = conn.region().as_str().to_owned();
        let rows = sqlx::query(
            "SELECT idx, status FROM licences WHERE list_id = $1 AND region = $2 AND status <> 0 \
             UNION ALL SELECT idx, status FROM seals WHERE list_id = $3 AND region = $4 AND status <> 0",
        )
        .bind(list_id)
        .bind(&region)
        .bind(list_id)
        .bind(&region)
        .fetch_all(&mut *conn)
        .await?;
        drop(conn);
        for row in rows {
            let idx: i64 = row.try_get("idx")?;
            let status: i64 = row.try_get("status")?;
            let value = if status == 2 {
                StatusValue::Suspended
            } else {
                StatusValue::Revoked
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
