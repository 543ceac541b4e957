//! What the signer must sign: the pass pages that are due (`pages.rs`),
//! in `(due_at, page)` order over the `pass_pages_due` index, each with its
//! subjects' current status.

use super::events::{health_from_columns, health_of};
use super::pages::{PAGE_SUBJECTS, PassPage, ids_of, page_of};
use super::{Backend, Store, StoreError};
use crate::model::{Health, holder_key_from_column};
use sealpass_core::Timestamp;
use sealpass_core::live::DeviceKey;
use sqlx::{AssertSqlSafe, Row};
use std::collections::HashMap;

/// A due page: its passes as stored, and its subjects as they are now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuePage {
    pub page: i64,
    pub due_at: i64,
    /// The page's revision when read: the signer's write is stored only if
    /// it is still this one.
    pub revision: i64,
    pub passes: PassPage,
    /// Its subjects, in id order.
    pub subjects: Vec<DueSubject>,
}

/// A subject with what its pass will say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueSubject {
    pub id: i64,
    pub masked_name: String,
    pub masked_id: String,
    pub health: Health,
    pub status_version: i64,
    /// The bound device's key, which the pass then carries (`cnf`).
    pub holder: Option<DeviceKey>,
}

impl DuePage {
    /// Its subjects' status versions by slot (`None` where no subject has
    /// the id), as [`PassPage::due_at`] takes them.
    pub fn versions(&self) -> Vec<Option<i64>> {
        let mut versions = vec![None; PAGE_SUBJECTS as usize];
        for s in &self.subjects {
            versions[super::pages::slot_of(s.id)] = Some(s.status_version);
        }
        versions
    }
}

const COLUMNS: &str = "id, masked_name, masked_id, colour, doses, last_dose, test_time, \
    test_result, status_version, holder_key";

/// PostgreSQL planner settings for the signer's page reads, for their
/// transaction only. Statistics lag behind a bulk import until autovacuum
/// analyses a table; meanwhile the planner may read every due page with a
/// bitmap scan and sort them for each read (seen with `auto_explain`), or
/// count with a sequential scan. Without those plans it walks
/// `pass_pages_due` in order and stops at the read's end.
const WALK_THE_DUE_INDEX: &str = "SET LOCAL enable_seqscan = off; \
    SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off";

/// A row of [`COLUMNS`] as SQLite's `json_array` writes it.
type JsonRow = (
    i64,
    String,
    String,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    i64,
    Option<String>,
);

impl Store {
    /// Up to `limit` pages due at `now`, in (due_at, page) order after
    /// `after` (keyset pagination), with their subjects.
    ///
    /// The pages are read before their subjects: an event that changes a
    /// subject in between also raises its page's revision, so the signer's
    /// write of the page is refused and nothing signed from a status read
    /// too early is stored.
    pub async fn due_pages(
        &self,
        now: Timestamp,
        after: (i64, i64),
        limit: usize,
    ) -> Result<Vec<DuePage>, StoreError> {
        let now = now.0 as i64;
        // Two index range scans, the rest of the cursor's due_at, then
        // later ones: a single `(due_at, page) > (cursor)` would do on
        // PostgreSQL, but SQLite seeks only on its `due_at` part.
        let mut pages = self
            .due_range(
                "due_at = $1 AND page > $2 AND due_at <= $3",
                after,
                now,
                limit,
            )
            .await?;
        if pages.len() < limit {
            let later = self
                .due_range(
                    "due_at > $1 AND due_at <= $3",
                    after,
                    now,
                    limit - pages.len(),
                )
                .await?;
            pages.extend(later);
        }
        let mut by_page: HashMap<i64, Vec<DueSubject>> = HashMap::with_capacity(pages.len());
        for subject in self.subjects_of_pages(&pages).await? {
            by_page
                .entry(page_of(subject.id))
                .or_default()
                .push(subject);
        }
        for page in &mut pages {
            page.subjects = by_page.remove(&page.page).unwrap_or_default();
        }
        Ok(pages)
    }

    async fn due_range(
        &self,
        range: &str,
        after: (i64, i64),
        now: i64,
        limit: usize,
    ) -> Result<Vec<DuePage>, StoreError> {
        let select = format!(
            "SELECT page, due_at, revision, slots FROM pass_pages WHERE {range} \
             ORDER BY due_at, page LIMIT $4"
        );
        let rows: Vec<(i64, i64, i64, Vec<u8>)> = match &self.backend {
            Backend::Sqlite(pool) => {
                sqlx::query_as(AssertSqlSafe(select))
                    .bind(after.0)
                    .bind(after.1)
                    .bind(now)
                    .bind(limit as i64)
                    .fetch_all(pool)
                    .await?
            }
            Backend::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::raw_sql(WALK_THE_DUE_INDEX).execute(&mut *tx).await?;
                let rows = sqlx::query_as(AssertSqlSafe(select))
                    .bind(after.0)
                    .bind(after.1)
                    .bind(now)
                    .bind(limit as i64)
                    .fetch_all(&mut *tx)
                    .await?;
                tx.commit().await?;
                rows
            }
        };
        rows.into_iter()
            .map(|(page, due_at, revision, slots)| {
                Ok(DuePage {
                    page,
                    due_at,
                    revision,
                    passes: PassPage::decode(&slots)?,
                    subjects: Vec::new(),
                })
            })
            .collect()
    }

    /// The subjects of `pages`, in id order: one primary-key range read per
    /// run of consecutive pages (a round's pages mostly are one run).
    async fn subjects_of_pages(&self, pages: &[DuePage]) -> Result<Vec<DueSubject>, StoreError> {
        let mut numbers: Vec<i64> = pages.iter().map(|p| p.page).collect();
        numbers.sort_unstable();
        let mut subjects = Vec::with_capacity(numbers.len() * PAGE_SUBJECTS as usize);
        let mut start = 0;
        while start < numbers.len() {
            let mut end = start + 1;
            while end < numbers.len() && numbers[end] == numbers[end - 1] + 1 {
                end += 1;
            }
            let ids = ids_of(numbers[start]).start..ids_of(numbers[end - 1]).end;
            subjects.extend(self.subjects_in(ids).await?);
            start = end;
        }
        Ok(subjects)
    }

    /// The subjects with ids in `ids`, in id order.
    ///
    /// On SQLite the rows come back as one JSON array: sqlx hands each row
    /// over from its SQLite thread on its own, which cost more than reading
    /// the row (docs/performance.md, "Issuer: bulk signing").
    async fn subjects_in(&self, ids: std::ops::Range<i64>) -> Result<Vec<DueSubject>, StoreError> {
        let select = format!("SELECT {COLUMNS} FROM subjects WHERE id >= $1 AND id < $2");
        match &self.backend {
            Backend::Sqlite(pool) => {
                let json: String = sqlx::query_scalar(AssertSqlSafe(format!(
                    "SELECT json_group_array(json_array({COLUMNS})) FROM ({select})"
                )))
                .bind(ids.start)
                .bind(ids.end)
                .fetch_one(pool)
                .await?;
                let rows: Vec<JsonRow> = serde_json::from_str(&json)
                    .map_err(|e| StoreError::Inconsistent(format!("a page's subjects: {e}")))?;
                let mut subjects = rows
                    .into_iter()
                    .map(due_subject_of_json)
                    .collect::<Result<Vec<_>, _>>()?;
                // An aggregate's input order is not promised.
                subjects.sort_unstable_by_key(|s| s.id);
                Ok(subjects)
            }
            Backend::Postgres(pool) => {
                let rows = sqlx::query(AssertSqlSafe(format!("{select} ORDER BY id")))
                    .bind(ids.start)
                    .bind(ids.end)
                    .fetch_all(pool)
                    .await?;
                rows.iter()
                    .map(|row| {
                        Ok(DueSubject {
                            id: row.try_get("id")?,
                            masked_name: row.try_get("masked_name")?,
                            masked_id: row.try_get("masked_id")?,
                            health: health_of(row)?,
                            status_version: row.try_get("status_version")?,
                            holder: holder_of(row.try_get("holder_key")?)?,
                        })
                    })
                    .collect()
            }
        }
    }

    /// How many subjects are in pages due at `now` (the signer's progress
    /// bar and the size of its round).
    pub async fn count_due(&self, now: Timestamp) -> Result<u64, StoreError> {
        const COUNT: &str = "SELECT COUNT(*) FROM pass_pages p JOIN subjects s \
            ON s.id >= p.page * $2 AND s.id < (p.page + 1) * $2 WHERE p.due_at <= $1";
        let n: i64 = match &self.backend {
            Backend::Sqlite(pool) => {
                sqlx::query_scalar(COUNT)
                    .bind(now.0 as i64)
                    .bind(PAGE_SUBJECTS)
                    .fetch_one(pool)
                    .await?
            }
            Backend::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::raw_sql("SET LOCAL enable_seqscan = off")
                    .execute(&mut *tx)
                    .await?;
                let n = sqlx::query_scalar(COUNT)
                    .bind(now.0 as i64)
                    .bind(PAGE_SUBJECTS)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                n
            }
        };
        Ok(n as u64)
    }
}

fn due_subject_of_json(row: JsonRow) -> Result<DueSubject, StoreError> {
    Ok(DueSubject {
        id: row.0,
        masked_name: row.1,
        masked_id: row.2,
        health: health_from_columns(row.3, row.4, row.5, row.6, row.7)?,
        status_version: row.8,
        holder: holder_of(row.9)?,
    })
}

/// The bound device of a `holder_key` column; a column that holds no key
/// is a damaged store, never a pass signed unbound.
fn holder_of(column: Option<String>) -> Result<Option<DeviceKey>, StoreError> {
    column
        .map(|c| {
            holder_key_from_column(&c)
                .ok_or_else(|| StoreError::Inconsistent("a holder_key is not a device key".into()))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::super::tests::store_with_pages;
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn due_pages_follow_due_at_then_page_across_due_times() {
        let due = [5, 0, 9, 5, 0, 70, 5, 0, 9, 50, 5, 0];
        let (store, _dir) = store_with_pages(&due, 100).await;
        let mut expected: Vec<(i64, i64)> = (0..)
            .zip(due)
            .map(|(page, due_at)| (due_at, page))
            .filter(|&(due_at, _)| due_at <= 50)
            .collect();
        expected.sort();
        for limit in [1, 2, 3, 4, 11, 100] {
            let mut seen = Vec::new();
            let mut after = (i64::MIN, i64::MIN);
            loop {
                let pages = store.due_pages(Timestamp(50), after, limit).await.unwrap();
                assert!(pages.len() <= limit);
                let Some(last) = pages.last() else { break };
                after = (last.due_at, last.page);
                seen.extend(pages.iter().map(|p| (p.due_at, p.page)));
            }
            assert_eq!(seen, expected, "reads of {limit}");
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_due_page_brings_its_own_subjects_as_a_subject_read_would() {
        // 100 subjects, ids 1..=100: page 0 holds 63 of them, page 1 37.
        let (store, _dir) = store_with_pages(&[0, 0], 100).await;
        assert_eq!(store.count_due(Timestamp(0)).await.unwrap(), 100);
        let pages = store
            .due_pages(Timestamp(0), (i64::MIN, i64::MIN), 10)
            .await
            .unwrap();
        let counts: Vec<usize> = pages.iter().map(|p| p.subjects.len()).collect();
        assert_eq!(counts, [63, 37]);
        for page in &pages {
            for subject in &page.subjects {
                assert!(ids_of(page.page).contains(&subject.id));
                let view = store
                    .subject(&format!("S{}", subject.id - 1))
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(subject.masked_name, "张*明");
                assert_eq!(subject.masked_id, view.masked_id);
                assert_eq!(subject.health, view.health);
                assert_eq!(subject.status_version, view.status_version);
            }
        }
    }
}
