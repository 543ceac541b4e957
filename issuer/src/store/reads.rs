//! The store reads the public API makes beyond what the signer and
//! ingestion use (the store's read interface for the read side): a liveness ping, a subject's current pass alone (without the
//! health columns the signer needs), and the subjects with new events (the
//! pass book's change feed). Point reads and primary-key range reads only.

use super::pages::{PAGE_SUBJECTS, PassPage};
use super::{Store, StoreError, on_backend};
use sqlx::Row;

/// A subject's current signed pass, as stored by the signer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPass {
    pub text: String,
    pub issued_at: i64,
    pub expires_at: i64,
    /// When the signer renews it (the next pass is ready a little after);
    /// 0 while a status change waits for the signer.
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

    /// The current pass of `subject`: two indexed reads in one statement,
    /// the subject and its pass page.
    pub async fn current_pass(&self, subject: &str) -> Result<PassLookup, StoreError> {
        on_backend!(self, pool => {
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
                        text: pass.text(),
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
        on_backend!(self, pool => {
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
        on_backend!(self, pool => {
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
