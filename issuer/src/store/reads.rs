//! The store reads the public API makes beyond what the signer and
//! ingestion use (the store's read interface for the read side): a liveness ping, a subject's current pass alone (without the
//! health columns the signer needs), the subjects with new events (the
//! pass book's change feed), and identity links with their changes
//! (`identity_links.rs`). Point reads and primary-key range reads only.

use super::pages::{PAGE_SUBJECTS, PassPage};
use super::{Store, StoreError, StoredStatusList, StoredTrustList, on_backend};
use sealpass_core::{ClaimsError, PassClaims};
use sqlx::Row;

/// A subject's current signed pass, as stored by the signer: its
/// COSE_Sign1 bytes. Its text and its claims are derived from them, each
/// by a function that says what it gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPass {
    /// The pass as signed (tagged COSE_Sign1).
    pub cose: Vec<u8>,
    pub issued_at: i64,
    pub expires_at: i64,
    /// When the signer renews it (the next pass is ready a little after);
    /// 0 while a status change waits for the signer.
    pub due_at: i64,
}

/// Why a stored pass's claims cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnreadablePass {
    #[error("not a COSE_Sign1: {0}")]
    Cose(#[from] sealpass_core::cose::CoseError),
    #[error("not pass claims: {0}")]
    Claims(#[from] ClaimsError),
}

impl StoredPass {
    /// The pass text as a QR code carries it (`SP1:` + Base45): what is
    /// served. It encodes the bytes anew on every call; call it once.
    pub fn text(&self) -> String {
        sealpass_core::text::encode(&self.cose)
    }

    /// The claims in the pass's payload, **not verified**: read from what
    /// our own signer stored, to say in JSON what the QR says. No trust
    /// decision may rest on them (a checkpoint's verifier decides).
    pub fn unverified_claims(&self) -> Result<PassClaims, UnreadablePass> {
        let sign1 = sealpass_core::cose::parse_sign1(&self.cose)?;
        Ok(PassClaims::from_cbor(sign1.payload)?)
    }
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

/// The store as the read side holds it: reads only (docs/issuer.md,
/// "Layout"). Made by [`Store::reader`]; it has no method that writes.
#[derive(Clone)]
pub struct StoreReader {
    store: Store,
}

impl Store {
    /// This store, for reading only.
    pub fn reader(&self) -> StoreReader {
        StoreReader {
            store: self.clone(),
        }
    }
}

impl StoreReader {
    /// The newest trust list stored ([`Store::trust_list`]).
    pub async fn trust_list(&self) -> Result<Option<StoredTrustList>, StoreError> {
        self.store.trust_list().await
    }

    /// `issuer`'s current status list ([`Store::status_list`]).
    pub async fn status_list(&self, issuer: &str) -> Result<Option<StoredStatusList>, StoreError> {
        self.store.status_list(issuer).await
    }

    /// Whether the store answers a trivial query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_backend!(self.store, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// The current pass of `subject`: two indexed reads in one statement,
    /// the subject and its pass page.
    pub async fn current_pass(&self, subject: &str) -> Result<PassLookup, StoreError> {
        on_backend!(self.store, pool => {
            let Some((id, status_version, page_due_at, slots)) =
                sqlx::query_as::<_, (i64, i64, Option<i64>, Option<Vec<u8>>)>(
                    "SELECT s.id, s.status_version, p.due_at, p.slots FROM subjects s \
                     LEFT JOIN pass_pages p ON p.page = s.id / $2 WHERE s.subject = $1",
                )
                .bind(subject)
                .bind(PAGE_SUBJECTS)
                .fetch_optional(pool)
                .await?
            else {
                return Ok(PassLookup::Unknown);
            };
            let page = PassPage::decode(slots.as_deref().unwrap_or_default())?;
            let page_due_at = page_due_at.unwrap_or(0);
            Ok(match page.get(id) {
                Some(pass) => {
                    PassLookup::Signed(StoredPass {
                        cose: pass.cose.clone(),
                        issued_at: pass.issued_at,
                        expires_at: pass.expires_at,
                        // 0 while a status change waits for its new pass.
                        due_at: page.due_of(id, status_version),
                    })
                }
                None => PassLookup::NotSigned { due_at: page_due_at },
            })
        })
    }

    /// The newest event's id (0 when there is none): where the change
    /// feed starts.
    pub async fn last_event_id(&self) -> Result<i64, StoreError> {
        on_backend!(self.store, pool => {
            let id: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM status_events")
                .fetch_one(pool)
                .await?;
            Ok(id.unwrap_or(0))
        })
    }

    /// The events after `after` (status_events.id, in id order, at most
    /// `limit`): each id with its subject.
    /// Every status update, enrolment and revocation is an event; the
    /// signer's renewals are not (their time is the pass's `due_at`).
    pub async fn subjects_changed_after(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        on_backend!(self.store, pool => {
            let rows = sqlx::query(
                "SELECT e.id, s.subject FROM status_events e JOIN subjects s ON s.id = e.subject_id \
                 WHERE e.id > $1 ORDER BY e.id LIMIT $2",
            )
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await?;
            let mut events = Vec::with_capacity(rows.len());
            for row in rows {
                events.push((row.try_get("id")?, row.try_get("subject")?));
            }
            Ok(events)
        })
    }
}

/// The identity links' reads (`identity_links.rs`): what the public API
/// needs to decide which subject a login is, and to notice links change.
impl StoreReader {
    /// The subject `issuer`/`sub` is linked to, if it is linked.
    pub async fn linked_subject(
        &self,
        issuer: &str,
        sub: &str,
    ) -> Result<Option<String>, StoreError> {
        on_backend!(self.store, pool => {
            Ok(sqlx::query_scalar(
                "SELECT s.subject FROM identity_links l JOIN subjects s ON s.id = l.subject_id \
                 WHERE l.issuer = $1 AND l.sub = $2",
            )
            .bind(issuer)
            .bind(sub)
            .fetch_optional(pool)
            .await?)
        })
    }

    /// Whether a subject is enrolled under `subject`.
    pub async fn subject_exists(&self, subject: &str) -> Result<bool, StoreError> {
        on_backend!(self.store, pool => {
            let found: Option<i64> = sqlx::query_scalar("SELECT id FROM subjects WHERE subject = $1")
                .bind(subject)
                .fetch_optional(pool)
                .await?;
            Ok(found.is_some())
        })
    }

    /// The number of the newest link change (0 when there is none): where
    /// the links' change feed starts.
    pub async fn last_link_change(&self) -> Result<i64, StoreError> {
        on_backend!(self.store, pool => {
            let version: Option<i64> =
                sqlx::query_scalar("SELECT MAX(version) FROM identity_link_changes")
                    .fetch_one(pool)
                    .await?;
            Ok(version.unwrap_or(0))
        })
    }

    /// The link changes after number `after`, in order, at most `limit`:
    /// each number with the login (issuer, sub) it changed. Numbers commit
    /// in order, so none is ever missed behind one already read.
    pub async fn links_changed_after(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, String, String)>, StoreError> {
        on_backend!(self.store, pool => {
            Ok(sqlx::query_as(
                "SELECT version, issuer, sub FROM identity_link_changes \
                 WHERE version > $1 ORDER BY version LIMIT $2",
            )
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealpass_core::Timestamp;
    use sealpass_core::testkit::sample_claims;

    #[test]
    fn a_stored_pass_gives_its_text_and_its_unverified_claims_from_its_bytes() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let claims = sample_claims(Timestamp(1_795_218_000));
        let cose = sealpass_core::sign_passes_cose(std::slice::from_ref(&claims), &key)
            .unwrap()
            .remove(0);
        let stored = StoredPass {
            cose: cose.clone(),
            issued_at: 0,
            expires_at: 0,
            due_at: 0,
        };
        assert_eq!(
            stored.text(),
            sealpass_core::sign_pass(&claims, &key).unwrap()
        );
        assert_eq!(sealpass_core::text::decode(&stored.text()).unwrap(), cose);
        assert_eq!(stored.unverified_claims().unwrap(), claims);
        let damaged = StoredPass {
            cose: cose[..cose.len() - 70].to_vec(),
            ..stored
        };
        assert!(damaged.unverified_claims().is_err());
    }
}
