//! Identity links (issue 17): a citizen's login at an identity provider,
//! its `iss` and `sub`, linked by a health authority to a sealpass
//! subject, where the provider's `subject_template` does not give the
//! right one (docs/public-api.md, "Identity providers"). Written by the
//! admin API; the public API reads them through
//! [`StoreReader`](super::reads::StoreReader).
//!
//! Every link and unlink is also a row of `identity_link_changes`,
//! numbered one more than the change before, in the same transaction. A
//! writer takes the write lock before it reads the last number (SQLite:
//! `BEGIN IMMEDIATE`; PostgreSQL: the changes table locked against other
//! writers, not readers), so the numbers commit in order and a reader that
//! has seen change `n` has seen every change before it: the public API
//! follows them with one range read and never misses one.

use super::{BackendKind, Store, StoreError, WritePool, on_backend};
use sealpass_core::Timestamp;
use thiserror::Error;

/// A login linked to a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityLink {
    /// The provider's `iss`, exactly as its tokens carry it.
    pub issuer: String,
    /// The citizen's `sub` at that provider.
    pub sub: String,
    /// The sealpass subject (as the health authority enrolled it).
    pub subject: String,
}

/// What a link did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkOutcome {
    /// A new link.
    Linked,
    /// The login was linked to this subject already: nothing changed.
    Unchanged,
}

/// Why a link was refused.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LinkError {
    #[error("no subject is enrolled under this id: enrol the person first")]
    UnknownSubject,
    #[error("this login is linked to another subject: unlink it first")]
    LinkedElsewhere,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Take the write lock of the links (PostgreSQL; SQLite's `BEGIN
/// IMMEDIATE` already holds it) and the number of the next change.
macro_rules! next_change {
    ($kind:expr, $tx:expr) => {{
        if $kind == BackendKind::Postgres {
            sqlx::query("LOCK TABLE identity_link_changes IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut *$tx)
                .await
                .map_err(StoreError::from)?;
        }
        let version: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) + 1 FROM identity_link_changes")
                .fetch_one(&mut *$tx)
                .await
                .map_err(StoreError::from)?;
        version
    }};
}

/// Write the row of `identity_link_changes` numbered `$version`.
macro_rules! record_change {
    ($tx:expr, $version:expr, $issuer:expr, $sub:expr, $kind:expr, $subject_id:expr, $now:expr, $token:expr) => {
        sqlx::query(
            "INSERT INTO identity_link_changes (version, issuer, sub, kind, subject_id, changed_at, token) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind($version)
        .bind($issuer)
        .bind($sub)
        .bind($kind)
        .bind($subject_id)
        .bind($now.0 as i64)
        .bind($token)
        .execute(&mut *$tx)
        .await
    };
}

impl Store {
    /// Link `link.issuer`/`link.sub` to `link.subject`, in the name of the
    /// admin token `token`. A login already linked to another subject is
    /// refused (unlink it first), so a typing error never silently moves
    /// someone's login.
    pub async fn link_identity(
        &self,
        link: &IdentityLink,
        token: &str,
        now: Timestamp,
    ) -> Result<LinkOutcome, LinkError> {
        let kind = self.kind();
        on_backend!(self, pool => {
            let mut tx = pool.begin_write().await.map_err(StoreError::from)?;
            let version = next_change!(kind, tx);
            let subject_id: Option<i64> = sqlx::query_scalar("SELECT id FROM subjects WHERE subject = $1")
                .bind(&link.subject)
                .fetch_optional(&mut *tx)
                .await
                .map_err(StoreError::from)?;
            let Some(subject_id) = subject_id else {
                return Err(LinkError::UnknownSubject);
            };
            let linked: Option<i64> = sqlx::query_scalar(
                "SELECT subject_id FROM identity_links WHERE issuer = $1 AND sub = $2",
            )
            .bind(&link.issuer)
            .bind(&link.sub)
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::from)?;
            match linked {
                Some(id) if id == subject_id => return Ok(LinkOutcome::Unchanged),
                Some(_) => return Err(LinkError::LinkedElsewhere),
                None => {}
            }
            sqlx::query(
                "INSERT INTO identity_links (issuer, sub, subject_id, linked_at, linked_by) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&link.issuer)
            .bind(&link.sub)
            .bind(subject_id)
            .bind(now.0 as i64)
            .bind(token)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
            record_change!(tx, version, &link.issuer, &link.sub, "link", subject_id, now, token)
                .map_err(StoreError::from)?;
            tx.commit().await.map_err(StoreError::from)?;
            Ok(LinkOutcome::Linked)
        })
    }

    /// Remove the link of `issuer`/`sub`; false if it had none. The
    /// provider's template applies to the login again.
    pub async fn unlink_identity(
        &self,
        issuer: &str,
        sub: &str,
        token: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let kind = self.kind();
        on_backend!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let version = next_change!(kind, tx);
            let removed: Option<i64> = sqlx::query_scalar(
                "DELETE FROM identity_links WHERE issuer = $1 AND sub = $2 RETURNING subject_id",
            )
            .bind(issuer)
            .bind(sub)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(subject_id) = removed else {
                return Ok(false);
            };
            record_change!(tx, version, issuer, sub, "unlink", subject_id, now, token)?;
            tx.commit().await?;
            Ok(true)
        })
    }
}
