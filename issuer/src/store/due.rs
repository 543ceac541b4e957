//! Which subjects the signer must sign: keyset pages in `(due_at, id)`
//! order over the `subjects_due` index.

use super::events::{health_from_columns, health_of};
use super::{Backend, Store, StoreError};
use crate::model::Health;
use sealpass_core::Timestamp;
use sqlx::{AssertSqlSafe, Row};

/// A subject the signer must (re)sign, with what the pass will say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueSubject {
    pub id: i64,
    pub masked_name: String,
    pub masked_id: String,
    pub health: Health,
    pub status_version: i64,
    pub due_at: i64,
    /// The current pass, if any: revocation index and expiry.
    pub pass: Option<(i64, i64)>,
    /// The pass before it, if any.
    pub prev: Option<(i64, i64)>,
}

const COLUMNS: &str = "id, masked_name, masked_id, colour, doses, last_dose, test_time, \
    test_result, status_version, due_at, pass_index, pass_exp, prev_index, prev_exp";

/// PostgreSQL planner settings for the signer's reads, for their
/// transaction only. Statistics lag behind a bulk import until autovacuum
/// analyses `subjects`; meanwhile the planner takes the due rows for a
/// handful and reads each page as a bitmap scan of every due row followed
/// by a sort (seen with `auto_explain` after importing 200,000 subjects:
/// 80 ms a page, each page scanning the rest of the round), or counts them
/// with a sequential scan. Without those plans it walks `subjects_due` in
/// order and stops at the page's end, which is right however many are due.
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
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

impl Store {
    /// Up to `limit` subjects due at `now`, in (due_at, id) order after
    /// `after` (keyset pagination), read in two index range scans: the
    /// rest of the cursor's `due_at`, then later ones. Each page costs its
    /// own rows whatever its position. A single `(due_at, id) > (cursor)`
    /// would do on PostgreSQL, but SQLite seeks only on its `due_at` part
    /// and walks every entry before the cursor, as it does for the
    /// `due_at > x OR (due_at = x AND id > y)` form.
    pub async fn due_subjects(
        &self,
        now: Timestamp,
        after: (i64, i64),
        limit: usize,
    ) -> Result<Vec<DueSubject>, StoreError> {
        let now = now.0 as i64;
        let mut page = self
            .due_range(
                "due_at = $1 AND id > $2 AND due_at <= $3",
                after,
                now,
                limit,
            )
            .await?;
        if page.len() < limit {
            let later = self
                .due_range(
                    "due_at > $1 AND due_at <= $3",
                    after,
                    now,
                    limit - page.len(),
                )
                .await?;
            page.extend(later);
        }
        Ok(page)
    }

    /// Up to `limit` subjects matching `range` (over `$1` = the cursor's
    /// due_at, `$2` = its id, `$3` = now; a range may leave one unused), in
    /// (due_at, id) order.
    ///
    /// On SQLite the page comes back as one JSON array: sqlx hands each
    /// row over from its SQLite thread on its own, which cost about 4 µs a
    /// row against 1 µs for the one value (docs/performance.md).
    async fn due_range(
        &self,
        range: &str,
        after: (i64, i64),
        now: i64,
        limit: usize,
    ) -> Result<Vec<DueSubject>, StoreError> {
        let select =
            format!("SELECT {COLUMNS} FROM subjects WHERE {range} ORDER BY due_at, id LIMIT $4");
        match &self.backend {
            Backend::Sqlite(pool) => {
                let json: String = sqlx::query_scalar(AssertSqlSafe(format!(
                    "SELECT json_group_array(json_array({COLUMNS})) FROM ({select})"
                )))
                .bind(after.0)
                .bind(after.1)
                .bind(now)
                .bind(limit as i64)
                .fetch_one(pool)
                .await?;
                let rows: Vec<JsonRow> = serde_json::from_str(&json)
                    .map_err(|e| StoreError::Inconsistent(format!("a due page: {e}")))?;
                let mut page = rows
                    .into_iter()
                    .map(due_subject_of_json)
                    .collect::<Result<Vec<_>, _>>()?;
                // An aggregate's input order is not promised; the page's is.
                page.sort_unstable_by_key(|s| (s.due_at, s.id));
                Ok(page)
            }
            Backend::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::raw_sql(WALK_THE_DUE_INDEX).execute(&mut *tx).await?;
                let rows = sqlx::query(AssertSqlSafe(select))
                    .bind(after.0)
                    .bind(after.1)
                    .bind(now)
                    .bind(limit as i64)
                    .fetch_all(&mut *tx)
                    .await?;
                tx.commit().await?;
                rows.iter()
                    .map(|row| {
                        let pair = |a: &str, b: &str| -> Result<Option<(i64, i64)>, sqlx::Error> {
                            Ok(row.try_get::<Option<i64>, _>(a)?.zip(row.try_get(b)?))
                        };
                        Ok(DueSubject {
                            id: row.try_get("id")?,
                            masked_name: row.try_get("masked_name")?,
                            masked_id: row.try_get("masked_id")?,
                            health: health_of(row)?,
                            status_version: row.try_get("status_version")?,
                            due_at: row.try_get("due_at")?,
                            pass: pair("pass_index", "pass_exp")?,
                            prev: pair("prev_index", "prev_exp")?,
                        })
                    })
                    .collect()
            }
        }
    }

    /// How many subjects are due at `now`.
    pub async fn count_due(&self, now: Timestamp) -> Result<u64, StoreError> {
        const COUNT: &str = "SELECT COUNT(*) FROM subjects WHERE due_at <= $1";
        let n: i64 = match &self.backend {
            Backend::Sqlite(pool) => {
                sqlx::query_scalar(COUNT)
                    .bind(now.0 as i64)
                    .fetch_one(pool)
                    .await?
            }
            Backend::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::raw_sql(WALK_THE_DUE_INDEX).execute(&mut *tx).await?;
                let n = sqlx::query_scalar(COUNT)
                    .bind(now.0 as i64)
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
    let (id, masked_name, masked_id, colour, doses, last_dose, test_time, test_result) =
        (row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7);
    Ok(DueSubject {
        id,
        masked_name,
        masked_id,
        health: health_from_columns(colour, doses, last_dose, test_time, test_result)?,
        status_version: row.8,
        due_at: row.9,
        pass: row.10.zip(row.11),
        prev: row.12.zip(row.13),
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::store_with_due;
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn due_pages_follow_due_at_then_id_across_due_times() {
        let due = [5, 0, 9, 5, 0, 70, 5, 0, 9, 50, 5, 0];
        let (store, _dir) = store_with_due(&due).await;
        let mut expected: Vec<(i64, i64)> = (1..)
            .zip(due)
            .map(|(id, due_at)| (due_at, id))
            .filter(|&(due_at, _)| due_at <= 50)
            .collect();
        expected.sort();
        for limit in [1, 2, 3, 4, 11, 100] {
            let mut seen = Vec::new();
            let mut after = (i64::MIN, i64::MIN);
            loop {
                let page = store
                    .due_subjects(Timestamp(50), after, limit)
                    .await
                    .unwrap();
                assert!(page.len() <= limit);
                let Some(last) = page.last() else { break };
                after = (last.due_at, last.id);
                seen.extend(page.iter().map(|s| (s.due_at, s.id)));
            }
            assert_eq!(seen, expected, "pages of {limit}");
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_due_page_reads_every_column_as_a_row_would() {
        let (store, _dir) = store_with_due(&[0; 7]).await;
        let page = store
            .due_subjects(Timestamp(50), (i64::MIN, i64::MIN), 10)
            .await
            .unwrap();
        assert_eq!(page.len(), 7);
        for subject in page {
            let view = store
                .subject(&format!("S{}", subject.id - 1))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(subject.masked_name, "张*明");
            assert_eq!(subject.masked_id, view.masked_id);
            assert_eq!(subject.health, view.health);
            assert_eq!(subject.status_version, view.status_version);
            assert_eq!(
                subject.pass,
                view.pass_index.zip(view.pass_expires_at),
                "{subject:?}"
            );
            assert_eq!(subject.prev, None);
        }
    }
}
