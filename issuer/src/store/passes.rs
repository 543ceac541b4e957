//! The signer's side of the store: revocation-index reservations, and
//! storing signed pages of passes conditionally on the page's revision
//! (which pages are due: `due.rs`; the page format: `pages.rs`).

use super::events::health_of;
use super::pages::{PassPage, Slot, page_of};
use super::{Backend, BackendKind, Store, StoreError, WritePool, on_backend};
use crate::model::Health;
use sealpass_core::Timestamp;
use sqlx::{AssertSqlSafe, Row};
use std::collections::{HashMap, HashSet};

/// A page of passes signed by the signer, ready to store.
#[derive(Debug, Clone)]
pub struct PageWrite {
    pub page: i64,
    /// The revision the signer read; the write is stored only if the page
    /// is still at it.
    pub revision: i64,
    /// When the page is next due.
    pub due_at: i64,
    /// The page, encoded (`PassPage::encode`).
    pub slots: Vec<u8>,
    /// How many of its passes the signer signed anew.
    pub signed: u64,
}

/// A live pass that drops out of tracking when its subject's new pass is
/// stored (the subject was re-signed twice within one validity window).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SupersededPass {
    pub subject_id: i64,
    pub revocation_index: i64,
    pub expires_at: i64,
}

/// A subject as the read side (and tests) see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectView {
    pub subject: String,
    pub masked_name: String,
    pub masked_id: String,
    pub health: Health,
    pub status_version: i64,
    pub pass_text: Option<String>,
    pub pass_kid: Option<String>,
    pub pass_issued_at: Option<i64>,
    pub pass_expires_at: Option<i64>,
    pub pass_index: Option<i64>,
    pub pass_version: Option<i64>,
    /// When the signer renews the pass; 0 (at once) for a subject without
    /// a pass or with one signed from an older status.
    pub due_at: i64,
}

/// Counts for operators and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreStats {
    pub subjects: i64,
    pub signed: i64,
    /// Subjects whose pass was signed from their current status.
    pub current: i64,
    pub events: i64,
    pub revoked: i64,
    /// Subjects with a bound device (their passes carry its key).
    pub bound: i64,
}

/// Pages per SQLite UPDATE statement (4 parameters each).
const SQLITE_PAGES_PER_STATEMENT: usize = 256;

impl Store {
    /// Reserve `count` consecutive offsets of expiry day `day`; returns the
    /// first. Committed before signing, so two signers never share one; a
    /// crash between reserving and storing leaves a harmless gap.
    pub async fn reserve_offsets(&self, day: i64, count: i64) -> Result<i64, StoreError> {
        on_backend!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let next: i64 = sqlx::query_scalar(
                "INSERT INTO index_days (expiry_day, next_offset) VALUES ($1, $2) \
                 ON CONFLICT (expiry_day) DO UPDATE SET next_offset = index_days.next_offset + $2 \
                 RETURNING next_offset",
            )
            .bind(day)
            .bind(count)
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(next - count)
        })
    }

    /// The highest offset reserved for any expiry day from `first_day` on.
    pub async fn max_offset_from(&self, first_day: i64) -> Result<i64, StoreError> {
        on_backend!(self, pool => {
            let max: Option<i64> =
                sqlx::query_scalar("SELECT MAX(next_offset) FROM index_days WHERE expiry_day >= $1")
                    .bind(first_day)
                    .fetch_one(pool)
                    .await?;
            Ok(max.unwrap_or(0))
        })
    }

    /// How many batches of pages the signer stores at once: one on SQLite
    /// (one writer at a time), two on PostgreSQL, whose sessions store
    /// different pages side by side.
    pub fn page_writers(&self) -> usize {
        match self.kind() {
            BackendKind::Sqlite => 1,
            BackendKind::Postgres => 2,
        }
    }

    /// Store signed pages in one transaction. A page is stored only if its
    /// revision is still the one the signer read: an enrolment, a status
    /// change or another signer's write since then raised it, and the page
    /// stays due. `superseded` are live passes that fall out of tracking
    /// when their subject's page is stored (a subject re-signed twice
    /// within a validity window): they are revoked in the same transaction
    /// if their page is stored. Returns how many passes the stored pages
    /// signed anew.
    pub async fn store_pages(
        &self,
        pages: &[PageWrite],
        superseded: &[SupersededPass],
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let mut pages: Vec<&PageWrite> = pages.iter().collect();
        pages.sort_unstable_by_key(|p| p.page);
        let mut stored_pages: HashSet<i64> = HashSet::with_capacity(pages.len());
        match &self.backend {
            Backend::Sqlite(pool) => {
                let mut tx = pool.begin_write().await?;
                for part in pages.chunks(SQLITE_PAGES_PER_STATEMENT) {
                    let rows = vec!["(?, ?, ?, ?)"; part.len()].join(", ");
                    let sql = format!(
                        "UPDATE pass_pages SET slots = v.column4, due_at = v.column3, \
                         revision = pass_pages.revision + 1 FROM (VALUES {rows}) AS v \
                         WHERE pass_pages.page = v.column1 AND pass_pages.revision = v.column2 \
                         RETURNING pass_pages.page"
                    );
                    let mut query = sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql));
                    for p in part {
                        query = query
                            .bind(p.page)
                            .bind(p.revision)
                            .bind(p.due_at)
                            .bind(p.slots.as_slice());
                    }
                    stored_pages.extend(query.fetch_all(&mut *tx).await?);
                }
                let superseded = of_pages(superseded, &stored_pages);
                revoke_superseded(&mut tx, &superseded, now).await?;
                tx.commit().await?;
            }
            Backend::Postgres(pool) => {
                let mut tx = pool.begin_write().await?;
                let column =
                    |f: fn(&PageWrite) -> i64| pages.iter().map(|&p| f(p)).collect::<Vec<i64>>();
                // Lock the pages in page order before writing them (the
                // UPDATE locks in its plan's order): an event batch locks its
                // pages in page order too (`apply_events`), so neither holds
                // a page the other waits for while it waits for one the other
                // holds.
                sqlx::query(
                    "SELECT page FROM pass_pages WHERE page = ANY($1) ORDER BY page FOR UPDATE",
                )
                .bind(column(|p| p.page))
                .fetch_all(&mut *tx)
                .await?;
                let stored: Vec<i64> = sqlx::query_scalar(
                    "UPDATE pass_pages AS p SET slots = v.slots, due_at = v.due, revision = p.revision + 1 \
                     FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::bytea[]) AS v(page, revision, due, slots) \
                     WHERE p.page = v.page AND p.revision = v.revision RETURNING p.page",
                )
                .bind(column(|p| p.page))
                .bind(column(|p| p.revision))
                .bind(column(|p| p.due_at))
                .bind(pages.iter().map(|p| p.slots.as_slice()).collect::<Vec<&[u8]>>())
                .fetch_all(&mut *tx)
                .await?;
                stored_pages.extend(stored);
                let superseded = of_pages(superseded, &stored_pages);
                revoke_superseded(&mut tx, &superseded, now).await?;
                tx.commit().await?;
            }
        }
        Ok(pages
            .iter()
            .filter(|p| stored_pages.contains(&p.page))
            .map(|p| p.signed)
            .sum())
    }

    /// One subject, by its pseudonymous id.
    pub async fn subject(&self, subject: &str) -> Result<Option<SubjectView>, StoreError> {
        on_backend!(self, pool => {
            let Some(row) = sqlx::query(
                "SELECT s.id, s.subject, s.masked_name, s.masked_id, s.colour, s.doses, s.last_dose, \
                 s.test_time, s.test_result, s.status_version, p.slots FROM subjects s \
                 LEFT JOIN pass_pages p ON p.page = s.id / $2 WHERE s.subject = $1",
            )
            .bind(subject)
            .bind(super::pages::PAGE_SUBJECTS)
            .fetch_optional(pool)
            .await?
            else {
                return Ok(None);
            };
            let id: i64 = row.try_get("id")?;
            let status_version: i64 = row.try_get("status_version")?;
            let slots: Option<Vec<u8>> = row.try_get("slots")?;
            let page = PassPage::decode(slots.as_deref().unwrap_or_default())?;
            let pass = page.get(id);
            Ok(Some(SubjectView {
                subject: row.try_get("subject")?,
                masked_name: row.try_get("masked_name")?,
                masked_id: row.try_get("masked_id")?,
                health: health_of(&row)?,
                status_version,
                pass_text: pass.map(Slot::text),
                pass_kid: pass.map(|p| p.kid.clone()),
                pass_issued_at: pass.map(|p| p.issued_at),
                pass_expires_at: pass.map(|p| p.expires_at),
                pass_index: pass.map(|p| p.revocation_index),
                pass_version: pass.map(|p| p.version),
                due_at: page.due_of(id, status_version),
            }))
        })
    }

    /// Counts over the whole store (it reads every page: for operators and
    /// tests, not for a request path).
    pub async fn stats(&self) -> Result<StoreStats, StoreError> {
        on_backend!(self, pool => {
            let row = sqlx::query(
                "SELECT (SELECT COUNT(*) FROM subjects) AS subjects, \
                 (SELECT COUNT(*) FROM status_events) AS events, \
                 (SELECT COUNT(*) FROM revoked_passes) AS revoked, \
                 (SELECT COUNT(*) FROM subjects WHERE holder_key IS NOT NULL) AS bound",
            )
            .fetch_one(pool)
            .await?;
            let versions: HashMap<i64, i64> =
                sqlx::query_as::<_, (i64, i64)>("SELECT id, status_version FROM subjects")
                    .fetch_all(pool)
                    .await?
                    .into_iter()
                    .collect();
            let pages: Vec<(i64, Vec<u8>)> = sqlx::query_as("SELECT page, slots FROM pass_pages")
                .fetch_all(pool)
                .await?;
            let (mut signed, mut current) = (0, 0);
            for (page, slots) in pages {
                for (slot, pass) in PassPage::decode(&slots)?.iter() {
                    let id = page * super::pages::PAGE_SUBJECTS + slot as i64;
                    debug_assert_eq!(page_of(id), page);
                    signed += 1;
                    current += i64::from(versions.get(&id) == Some(&pass.version));
                }
            }
            Ok(StoreStats {
                subjects: row.try_get("subjects")?,
                signed,
                current,
                events: row.try_get("events")?,
                revoked: row.try_get("revoked")?,
                bound: row.try_get("bound")?,
            })
        })
    }
}

/// The passes of `superseded` whose subjects' pages are in `stored`.
fn of_pages(superseded: &[SupersededPass], stored: &HashSet<i64>) -> Vec<SupersededPass> {
    superseded
        .iter()
        .filter(|p| stored.contains(&page_of(p.subject_id)))
        .copied()
        .collect()
}

async fn revoke_superseded<DB>(
    tx: &mut sqlx::Transaction<'static, DB>,
    superseded: &[SupersededPass],
    now: Timestamp,
) -> Result<(), StoreError>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
{
    for pass in superseded {
        sqlx::query(
            "INSERT INTO revoked_passes (subject_id, revocation_index, expires_at, revoked_at, reason) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (revocation_index, expires_at) DO NOTHING",
        )
        .bind(pass.subject_id)
        .bind(pass.revocation_index)
        .bind(pass.expires_at)
        .bind(now.0 as i64)
        .bind("superseded")
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::DuePage;
    use super::super::pages::{PassPage, Slot};
    use super::*;

    /// Every subject of the pages `read` signed anew, each page's write
    /// claiming the revision `revision` gives.
    fn sign_all(read: &[DuePage], revision: impl Fn(&DuePage) -> i64) -> Vec<PageWrite> {
        read.iter()
            .map(|due| {
                let mut page = due.passes.clone();
                for s in &due.subjects {
                    page.set(s.id, pass(s.id, s.status_version));
                }
                PageWrite {
                    page: due.page,
                    revision: revision(due),
                    due_at: page.due_at(&due.versions()),
                    slots: page.encode(),
                    signed: due.subjects.len() as u64,
                }
            })
            .collect()
    }

    fn text_of(id: i64) -> String {
        sealpass_core::text::encode(&id.to_le_bytes())
    }

    fn pass(id: i64, version: i64) -> Slot {
        Slot {
            version,
            issued_at: 1_000,
            expires_at: 2_000 + id,
            revocation_index: 4 * id,
            due_at: 1_500 + id,
            prev: None,
            kid: "1f51fa5b853a9f0d".into(),
            cose: id.to_le_bytes().to_vec(),
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn pages_are_stored_only_at_the_revision_they_were_read() {
        // Subjects 1..=200 in pages 0..=3, all due.
        let (store, _dir) = super::super::tests::store_with_pages(&[0, 0, 0, 0], 200).await;
        let read = store
            .due_pages(Timestamp(0), (i64::MIN, i64::MIN), 10)
            .await
            .unwrap();
        assert_eq!(read.len(), 4);
        // Page 2 was changed since it was read.
        let writes = sign_all(&read, |due| due.revision + i64::from(due.page == 2));
        let stored = store
            .store_pages(&writes, &[], Timestamp(1_000))
            .await
            .unwrap();
        assert_eq!(stored, 200 - 64);
        for id in [1, 63, 64, 127, 128, 191, 192, 200] {
            let view = store
                .subject(&format!("S{}", id - 1))
                .await
                .unwrap()
                .unwrap();
            if page_of(id) == 2 {
                assert_eq!((view.pass_text, view.due_at), (None, 0));
            } else {
                assert_eq!(view.pass_text, Some(text_of(id)));
                assert_eq!(view.pass_index, Some(4 * id));
                assert_eq!(view.pass_expires_at, Some(2_000 + id));
                assert_eq!(view.due_at, 1_500 + id);
            }
        }
        // Stored pages are due at their first renewal; page 2 still now.
        let due: Vec<(i64, i64)> = store
            .due_pages(Timestamp(i64::MAX as u64), (i64::MIN, i64::MIN), 10)
            .await
            .unwrap()
            .iter()
            .map(|p| (p.page, p.due_at))
            .collect();
        assert_eq!(due, [(2, 0), (0, 1_501), (1, 1_564), (3, 1_692)]);
        let stats = store.stats().await.unwrap();
        assert_eq!((stats.signed, stats.current), (136, 136));
        assert_eq!(
            PassPage::decode(&writes[0].slots).unwrap().iter().count(),
            63
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_status_change_after_the_read_refuses_the_pages_write_and_keeps_it_due() {
        let (store, _dir) = super::super::tests::store_with_pages(&[0, 0], 100).await;
        let read = store
            .due_pages(Timestamp(0), (i64::MIN, i64::MIN), 10)
            .await
            .unwrap();
        // Subject S69 (id 70, page 1) turns red after the signer read it.
        let update = crate::model::StatusUpdate {
            key: "k1".into(),
            subject: "S69".into(),
            colour: Some(sealpass_core::Colour::Red),
            doses: None,
            last_dose: None,
            test: None,
        };
        store
            .apply_status_updates(&[update], "lab", Timestamp(500))
            .await
            .unwrap();
        let writes = sign_all(&read, |due| due.revision);
        let stored = store
            .store_pages(&writes, &[], Timestamp(1_000))
            .await
            .unwrap();
        assert_eq!(stored, 63, "page 0 only");
        let view = store.subject("S69").await.unwrap().unwrap();
        assert_eq!((view.pass_text, view.due_at), (None, 0));
        let due: Vec<i64> = store
            .due_pages(Timestamp(1_000), (i64::MIN, i64::MIN), 10)
            .await
            .unwrap()
            .iter()
            .map(|p| p.page)
            .collect();
        assert_eq!(due, [1]);
    }
}
