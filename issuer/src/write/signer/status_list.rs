//! The signed status list: one bit per revocation index, set for revoked
//! passes that may still be seen (expiry plus clock skew after now). It is
//! signed anew when a revocation is newer than the list, when less than
//! `status_list_renew_before` of it is left, and before passes with indices
//! beyond half its length are stored (so verifiers holding it have room
//! for the passes issued until they next sync).

use super::{PassSigner, SignError, index};
use crate::store::StoredStatusList;
use sealpass_core::{StatusBits, Timestamp, sign_status_list};

impl PassSigner {
    /// Sign the status list if revocations or its age call for it.
    pub async fn maintain_status_list(&self, now: Timestamp) -> Result<bool, SignError> {
        let current = self.store.status_list(&self.config.issuer).await?;
        let latest = self.store.latest_revocation().await?;
        let due = match &current {
            None => true,
            Some(list) => {
                list.through_revocation < latest
                    || list.expires_at - (now.0 as i64)
                        < self.config.status_list_renew_before.0 as i64
                    || list.kid != self.key.kid.to_hex()
            }
        };
        if due {
            self.sign_list(current.as_ref(), 0, now).await?;
        }
        Ok(due)
    }

    /// Make sure the status list covers offsets up to `highest` with room
    /// to spare; sign a longer one if not.
    pub(super) async fn ensure_capacity(
        &self,
        highest: i64,
        now: Timestamp,
    ) -> Result<bool, SignError> {
        let current = self.store.status_list(&self.config.issuer).await?;
        let capacity = current
            .as_ref()
            .map_or(0, |l| l.entries as u64 / index::PARTITIONS);
        if (highest.max(0) as u64) * 2 < capacity {
            return Ok(false);
        }
        self.sign_list(current.as_ref(), highest, now).await?;
        Ok(true)
    }

    async fn sign_list(
        &self,
        current: Option<&StoredStatusList>,
        highest: i64,
        now: Timestamp,
    ) -> Result<(), SignError> {
        let today = index::expiry_day(now);
        let reserved = self.store.max_offset_from(today - 1).await?;
        let previous = current.map_or(0, |l| l.entries as u64 / index::PARTITIONS);
        let capacity = index::capacity_for(reserved.max(highest)).max(previous);
        let live_after = now.minus(self.config.clock_skew);
        let (revoked, through) = self.store.live_revocations(live_after).await?;
        let entries = capacity * index::PARTITIONS;
        let expires_at = now.plus(self.config.status_list_validity);
        let issuer = self.config.issuer.clone();
        let key = self.key.clone();
        let bytes = tokio::task::spawn_blocking(move || {
            let mut bits = StatusBits::new(entries);
            for index in revoked {
                bits.revoke(index);
            }
            sign_status_list(&issuer, now, expires_at, &bits, &key)
        })
        .await
        .map_err(|e| SignError::Thread(e.to_string()))??;
        self.store
            .put_status_list(&StoredStatusList {
                issuer: self.config.issuer.clone(),
                sequence: 0,
                bytes,
                kid: self.key.kid.to_hex(),
                issued_at: now.0 as i64,
                expires_at: expires_at.0 as i64,
                entries: entries as i64,
                through_revocation: through,
            })
            .await?;
        tracing::info!(entries, through_revocation = through, "status list signed");
        Ok(())
    }
}
