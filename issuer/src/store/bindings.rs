//! Device binding's store (docs/issuer.md, "Device binding"): what the
//! public API may write, and nothing else. The read side holds the store
//! as a [`StoreReader`](super::reads::StoreReader), which never writes;
//! a public API that binds devices also holds a [`DeviceBinder`], whose one
//! write is a binding event (`events.rs`, kind `bind`), and which carries
//! the secret its nodes share to key their challenges.

use super::events::EventOutcome;
use super::{BackendKind, Store, StoreError, WritePool, on_backend};
use crate::model::{DeviceBinding, holder_key_column};
use sealpass_core::Timestamp;
use std::sync::Arc;
use zeroize::Zeroizing;

/// Bytes of the challenge secret.
pub const CHALLENGE_SECRET_BYTES: usize = 32;

/// The name of the bindings in the event log's `token` column: a binding
/// is sent by a citizen's phone, never by an admin token, and the log
/// names no login.
pub const BINDING_SENDER: &str = "citizen";

/// What became of a binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindOutcome {
    /// Logged and applied: the subject's live passes are revoked and a
    /// bound pass is due. `replaced`: another key was bound before.
    Bound { replaced: bool },
    /// This key is the one bound already (bound by this very request
    /// before, or by another): nothing changed.
    Unchanged,
    /// The challenge bound another key (or this key to another subject)
    /// before: a challenge binds once.
    ChallengeUsed,
    /// No subject with this id is enrolled.
    UnknownSubject,
    /// The subject bound its limit of new devices within 24 hours.
    TooSoon { retry_after_seconds: u64 },
}

/// The one write of the public API: a device binding. Made by
/// [`Store::device_binder`]. Cheap to clone.
#[derive(Clone)]
pub struct DeviceBinder {
    store: Store,
    secret: Arc<Zeroizing<[u8; CHALLENGE_SECRET_BYTES]>>,
}

impl Store {
    /// This store's binder, with the challenge secret all public API nodes
    /// share: made once (32 random bytes, kept in `issuer_secrets`) by the
    /// first node that asks, read by every other.
    pub async fn device_binder(&self, now: Timestamp) -> Result<DeviceBinder, StoreError> {
        let mut fresh = Zeroizing::new([0u8; CHALLENGE_SECRET_BYTES]);
        getrandom::fill(fresh.as_mut_slice())
            .map_err(|e| StoreError::Inconsistent(format!("no randomness: {e}")))?;
        let stored: Zeroizing<Vec<u8>> = on_backend!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO issuer_secrets (name, value, created_at) VALUES ('bind_challenge', $1, $2) \
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(fresh.as_slice())
            .bind(now.0 as i64)
            .execute(&mut *tx)
            .await?;
            let value: Vec<u8> =
                sqlx::query_scalar("SELECT value FROM issuer_secrets WHERE name = 'bind_challenge'")
                    .fetch_one(&mut *tx)
                    .await?;
            tx.commit().await?;
            Zeroizing::new(value)
        });
        let secret: [u8; CHALLENGE_SECRET_BYTES] = stored
            .as_slice()
            .try_into()
            .map_err(|_| StoreError::Inconsistent("the challenge secret is not 32 bytes".into()))?;
        Ok(DeviceBinder {
            store: self.clone(),
            secret: Arc::new(Zeroizing::new(secret)),
        })
    }
}

impl DeviceBinder {
    /// The secret that keys the challenges' HMAC (never logged).
    pub fn challenge_secret(&self) -> &[u8; CHALLENGE_SECRET_BYTES] {
        &self.secret
    }

    pub fn backend(&self) -> BackendKind {
        self.store.kind()
    }

    /// Bind `binding.device` to `binding.subject`, committed before it
    /// returns (`Bound` is durable), at most `per_day` new devices a
    /// subject in 24 hours.
    pub async fn bind(
        &self,
        binding: &DeviceBinding,
        per_day: u32,
        now: Timestamp,
    ) -> Result<BindOutcome, StoreError> {
        let outcome = self
            .store
            .bind_device(binding, per_day, BINDING_SENDER, now)
            .await?;
        Ok(match outcome {
            EventOutcome::Applied(applied) if applied.changed => BindOutcome::Bound {
                replaced: applied.replaced_device,
            },
            EventOutcome::Applied(_) => BindOutcome::Unchanged,
            // The same request again: done, if its key is still the one bound.
            EventOutcome::Duplicate => {
                if self.bound_key(&binding.subject).await?
                    == Some(holder_key_column(&binding.device))
                {
                    BindOutcome::Unchanged
                } else {
                    BindOutcome::ChallengeUsed
                }
            }
            EventOutcome::Refused {
                code: "unknown_subject",
                ..
            } => BindOutcome::UnknownSubject,
            EventOutcome::Refused { .. } => BindOutcome::ChallengeUsed,
            EventOutcome::TooSoon {
                retry_after_seconds,
            } => BindOutcome::TooSoon {
                retry_after_seconds,
            },
        })
    }

    /// The `holder_key` column of `subject` (hex), if a device is bound.
    async fn bound_key(&self, subject: &str) -> Result<Option<String>, StoreError> {
        on_backend!(self.store, pool => {
            let key: Option<Option<String>> =
                sqlx::query_scalar("SELECT holder_key FROM subjects WHERE subject = $1")
                    .bind(subject)
                    .fetch_optional(pool)
                    .await?;
            Ok(key.flatten())
        })
    }
}
