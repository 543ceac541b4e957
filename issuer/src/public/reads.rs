//! The two store reads the public API makes beyond what the write side
//! offers: a liveness ping and a subject's current pass alone (without the
//! health columns the signer needs). Point reads by unique key only.

use crate::store::{Store, StoreError, on_backend};
use sqlx::Row;

/// A subject's current signed pass, as stored by the signer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPass {
    pub text: String,
    pub issued_at: i64,
    pub expires_at: i64,
    /// When the signer renews it (the next pass is ready a little after).
    pub due_at: i64,
}

/// What the store holds for a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PassLookup {
    /// No such subject.
    Unknown,
    /// Enrolled; the signer has not signed a pass yet.
    NotSigned {
        due_at: i64,
    },
    Signed(StoredPass),
}

impl Store {
    /// Whether the store answers a trivial query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_backend!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// The current pass of `subject` (one indexed read).
    pub async fn current_pass(&self, subject: &str) -> Result<PassLookup, StoreError> {
        on_backend!(self, pool => {
            let Some(row) = sqlx::query(
                "SELECT pass_text, pass_iat, pass_exp, due_at FROM subjects WHERE subject = $1",
            )
            .bind(subject)
            .fetch_optional(pool)
            .await?
            else {
                return Ok(PassLookup::Unknown);
            };
            let text: Option<String> = row.try_get("pass_text")?;
            let issued_at: Option<i64> = row.try_get("pass_iat")?;
            let expires_at: Option<i64> = row.try_get("pass_exp")?;
            let due_at: i64 = row.try_get("due_at")?;
            Ok(match (text, issued_at, expires_at) {
                (Some(text), Some(issued_at), Some(expires_at)) => PassLookup::Signed(StoredPass {
                    text,
                    issued_at,
                    expires_at,
                    due_at,
                }),
                _ => PassLookup::NotSigned { due_at },
            })
        })
    }
}
