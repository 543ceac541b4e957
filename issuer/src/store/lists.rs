//! The signed lists the issuer publishes: its status list (signed here by
//! the signer) and the trust list (signed by the custodians, stored as
//! published by the key ceremony).

use super::{Store, StoreError, WritePool, on_backend};
use sealpass_core::Timestamp;
use sqlx::Row;

/// The current signed status list of an issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredStatusList {
    pub issuer: String,
    pub sequence: i64,
    pub bytes: Vec<u8>,
    pub kid: String,
    pub issued_at: i64,
    pub expires_at: i64,
    /// Length of the bit array, in entries.
    pub entries: i64,
    /// The highest `revoked_passes` id whose bit it carries.
    pub through_revocation: i64,
}

/// A trust list as the key ceremony published it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTrustList {
    pub sequence: i64,
    pub bytes: Vec<u8>,
    pub published_at: i64,
}

impl Store {
    pub async fn status_list(&self, issuer: &str) -> Result<Option<StoredStatusList>, StoreError> {
        on_backend!(self, pool => {
            let row = sqlx::query(
                "SELECT issuer, sequence, bytes, kid, issued_at, expires_at, entries, through_revocation \
                 FROM status_lists WHERE issuer = $1",
            )
            .bind(issuer)
            .fetch_optional(pool)
            .await?;
            row.map(|row| {
                Ok(StoredStatusList {
                    issuer: row.try_get("issuer")?,
                    sequence: row.try_get("sequence")?,
                    bytes: row.try_get("bytes")?,
                    kid: row.try_get("kid")?,
                    issued_at: row.try_get("issued_at")?,
                    expires_at: row.try_get("expires_at")?,
                    entries: row.try_get("entries")?,
                    through_revocation: row.try_get("through_revocation")?,
                })
            })
            .transpose()
        })
    }

    /// Replace the issuer's status list; its sequence is one more than the
    /// one it replaces.
    pub async fn put_status_list(&self, list: &StoredStatusList) -> Result<(), StoreError> {
        on_backend!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO status_lists (issuer, sequence, bytes, kid, issued_at, expires_at, entries, through_revocation) \
                 VALUES ($1, 1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (issuer) DO UPDATE SET sequence = status_lists.sequence + 1, bytes = $2, \
                 kid = $3, issued_at = $4, expires_at = $5, entries = $6, through_revocation = $7",
            )
            .bind(list.issuer.as_str())
            .bind(list.bytes.as_slice())
            .bind(list.kid.as_str())
            .bind(list.issued_at)
            .bind(list.expires_at)
            .bind(list.entries)
            .bind(list.through_revocation)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Revocation indices of revoked passes still valid after `after`
    /// (expiry plus clock skew), and the highest revocation id.
    pub async fn live_revocations(&self, after: Timestamp) -> Result<(Vec<u32>, i64), StoreError> {
        on_backend!(self, pool => {
            let indices: Vec<i64> = sqlx::query_scalar(
                "SELECT revocation_index FROM revoked_passes WHERE expires_at > $1",
            )
            .bind(after.0 as i64)
            .fetch_all(pool)
            .await?;
            let through: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM revoked_passes")
                .fetch_one(pool)
                .await?;
            let indices = indices
                .into_iter()
                .map(|i| u32::try_from(i).map_err(|_| StoreError::Inconsistent(format!("revocation index {i}"))))
                .collect::<Result<_, _>>()?;
            Ok((indices, through.unwrap_or(0)))
        })
    }

    /// The highest revocation id, to tell whether the status list is behind.
    pub async fn latest_revocation(&self) -> Result<i64, StoreError> {
        on_backend!(self, pool => {
            let through: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM revoked_passes")
                .fetch_one(pool)
                .await?;
            Ok(through.unwrap_or(0))
        })
    }

    /// Store a trust list the key ceremony published (its sequence comes
    /// from the verified list). Storing the same list again changes nothing.
    pub async fn publish_trust_list(
        &self,
        sequence: u64,
        bytes: &[u8],
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        on_backend!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let inserted = sqlx::query(
                "INSERT INTO trust_lists (sequence, bytes, published_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (sequence) DO NOTHING",
            )
            .bind(sequence as i64)
            .bind(bytes)
            .bind(now.0 as i64)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            Ok(inserted == 1)
        })
    }

    /// The trust list with the highest sequence.
    pub async fn trust_list(&self) -> Result<Option<StoredTrustList>, StoreError> {
        on_backend!(self, pool => {
            let row = sqlx::query(
                "SELECT sequence, bytes, published_at FROM trust_lists ORDER BY sequence DESC LIMIT 1",
            )
            .fetch_optional(pool)
            .await?;
            row.map(|row| {
                Ok(StoredTrustList {
                    sequence: row.try_get("sequence")?,
                    bytes: row.try_get("bytes")?,
                    published_at: row.try_get("published_at")?,
                })
            })
            .transpose()
        })
    }
}
