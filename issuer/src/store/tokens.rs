//! Admin API tokens. A token is 256 random bits, shown once when made; the
//! store keeps only its SHA-256, so a copy of the database lets no one call
//! the API. Each token carries scopes naming what it may do.

use super::{Store, StoreError, WritePool, on_backend};
use sealpass_core::Timestamp;
use sha2::{Digest, Sha256};
use sqlx::Row;
use std::fmt;
use thiserror::Error;

/// Prefix of every admin token, so a leaked one is easy to recognise
/// (secret scanners, logs).
pub const TOKEN_PREFIX: &str = "spa_";

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// POST /admin/v1/subjects: enrol subjects.
    SubjectsImport,
    /// POST /admin/v1/status: status updates.
    StatusWrite,
    /// POST /admin/v1/revocations: revoke passes.
    PassesRevoke,
    /// POST /admin/v1/identity-links and .../unlink: link a login at an
    /// identity provider to a subject, and remove the link.
    IdentitiesLink,
}

impl Scope {
    pub const ALL: [Scope; 4] = [
        Scope::SubjectsImport,
        Scope::StatusWrite,
        Scope::PassesRevoke,
        Scope::IdentitiesLink,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scope::SubjectsImport => "subjects:import",
            Scope::StatusWrite => "status:write",
            Scope::PassesRevoke => "passes:revoke",
            Scope::IdentitiesLink => "identities:link",
        }
    }

    pub fn from_name(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A token as the store knows it (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub name: String,
    pub scopes: Vec<Scope>,
    pub created_at: i64,
}

impl ApiToken {
    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// A token just made: the secret is shown to the operator once.
pub struct NewToken {
    pub token: String,
    pub info: ApiToken,
}

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TokenError {
    #[error("a token named {0:?} exists already; revoke it or choose another name")]
    NameTaken(String),
    #[error("a token needs at least one scope ({})", Scope::ALL.map(Scope::name).join(", "))]
    NoScope,
    #[error("the system random number generator failed: {0}")]
    Random(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Store {
    /// Make a token named `name` with `scopes`.
    pub async fn create_token(
        &self,
        name: &str,
        scopes: &[Scope],
        now: Timestamp,
    ) -> Result<NewToken, TokenError> {
        if scopes.is_empty() {
            return Err(TokenError::NoScope);
        }
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| TokenError::Random(e.to_string()))?;
        let token = format!("{TOKEN_PREFIX}{}", hex::encode(secret));
        let mut scopes = scopes.to_vec();
        scopes.sort();
        scopes.dedup();
        let scope_text = scopes
            .iter()
            .map(|s| s.name())
            .collect::<Vec<_>>()
            .join(" ");
        let inserted = on_backend!(self, pool => {
            let mut tx = pool.begin_write().await.map_err(StoreError::from)?;
            let n = sqlx::query(
                "INSERT INTO api_tokens (name, token_sha256, scopes, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .bind(digest(&token))
            .bind(scope_text.as_str())
            .bind(now.0 as i64)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?
            .rows_affected();
            tx.commit().await.map_err(StoreError::from)?;
            n
        });
        if inserted == 0 {
            return Err(TokenError::NameTaken(name.into()));
        }
        Ok(NewToken {
            token,
            info: ApiToken {
                name: name.into(),
                scopes,
                created_at: now.0 as i64,
            },
        })
    }

    /// The live token whose SHA-256 matches `token`, if any.
    pub async fn authenticate(&self, token: &str) -> Result<Option<ApiToken>, StoreError> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        on_backend!(self, pool => {
            let row = sqlx::query(
                "SELECT name, scopes, created_at FROM api_tokens WHERE token_sha256 = $1 AND revoked_at IS NULL",
            )
            .bind(digest(token))
            .fetch_optional(pool)
            .await?;
            row.map(|row| {
                let scopes: String = row.try_get("scopes")?;
                Ok(ApiToken {
                    name: row.try_get("name")?,
                    scopes: scopes.split_whitespace().filter_map(Scope::from_name).collect(),
                    created_at: row.try_get("created_at")?,
                })
            })
            .transpose()
        })
    }

    /// Revoke the token named `name`; false if there is no live one.
    pub async fn revoke_token(&self, name: &str, now: Timestamp) -> Result<bool, StoreError> {
        on_backend!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL")
                .bind(now.0 as i64)
                .bind(name)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Ok(n == 1)
        })
    }
}
