//! The one data migration: passes from the columns of `subjects` (the
//! first schema) into `pass_pages` (`pages.rs`), run by [`Store::migrate`] between
//! the migration that creates `pass_pages` and the one that drops the old
//! columns. Idempotent: it writes every page whole, in one transaction, so
//! running it again (two processes starting at once, or a crash before
//! the columns were dropped) writes the same pages. Tested on both
//! backends by `tests/migrate_pass_pages.rs`.

use super::pages::{PAGE_SUBJECTS, PassPage, Slot, page_of};
use super::{Backend, Store, StoreError, WritePool, on_backend, values_placeholders};
use sqlx::AssertSqlSafe;
use std::collections::BTreeMap;

/// A subject's row of schema 1: id, status version, pass columns, due_at.
type OldRow = (
    i64,
    i64,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    i64,
);

/// Rows read at a time: more than a page, so every batch but the last
/// holds at least one whole page and the copy moves on.
const BATCH: i64 = 8_192;
const _: () = assert!(BATCH > PAGE_SUBJECTS);

impl Store {
    /// Copy the passes of the old `subjects` columns into pass pages, if
    /// the columns are still there.
    pub(super) async fn copy_pass_columns_into_pages(&self) -> Result<(), StoreError> {
        let has_columns: i64 = match &self.backend {
            Backend::Sqlite(pool) => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM pragma_table_info('subjects') WHERE name = 'pass_text'",
                )
                .fetch_one(pool)
                .await?
            }
            Backend::Postgres(pool) => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema() \
                     AND table_name = 'subjects' AND column_name = 'pass_text'",
                )
                .fetch_one(pool)
                .await?
            }
        };
        if has_columns == 0 {
            return Ok(());
        }
        let kind = self.kind();
        on_backend!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let mut after = i64::MIN;
            loop {
                let rows: Vec<OldRow> = sqlx::query_as(
                    "SELECT id, status_version, pass_text, pass_kid, pass_iat, pass_exp, pass_index, \
                     pass_version, prev_index, prev_exp, due_at FROM subjects \
                     WHERE id > $1 ORDER BY id LIMIT $2",
                )
                .bind(after)
                .bind(BATCH)
                .fetch_all(&mut *tx)
                .await?;
                let Some(last) = rows.last() else { break };
                // Whole pages only: the batch's last page is finished by the
                // next batch.
                let last_page = page_of(last.0);
                let full = rows.len() < BATCH as usize;
                let mut pages: BTreeMap<i64, (PassPage, i64)> = BTreeMap::new();
                for row in &rows {
                    if !full && page_of(row.0) == last_page {
                        break;
                    }
                    after = row.0;
                    let (page, due_at) = pages
                        .entry(page_of(row.0))
                        .or_insert_with(|| (PassPage::default(), i64::MAX));
                    *due_at = (*due_at).min(row.10);
                    if let (Some(text), Some(kid), Some(iat), Some(exp), Some(index), Some(version)) =
                        (&row.2, &row.3, row.4, row.5, row.6, row.7)
                    {
                        page.set(
                            row.0,
                            Slot {
                                version,
                                issued_at: iat,
                                expires_at: exp,
                                revocation_index: index,
                                due_at: row.10,
                                prev: row.8.zip(row.9),
                                kid: kid.clone(),
                                cose: sealpass_core::text::decode(text).map_err(|e| {
                                    StoreError::Inconsistent(format!("a stored pass: {e}"))
                                })?,
                            },
                        );
                    }
                }
                let pages: Vec<(i64, (PassPage, i64))> = pages.into_iter().collect();
                for part in pages.chunks(500) {
                    let sql = format!(
                        "INSERT INTO pass_pages (page, due_at, revision, slots) VALUES {} \
                         ON CONFLICT (page) DO UPDATE SET due_at = excluded.due_at, \
                         slots = excluded.slots, revision = pass_pages.revision + 1",
                        values_placeholders(kind, part.len(), 4)
                    );
                    let mut query = sqlx::query(AssertSqlSafe(sql));
                    for (number, (page, due_at)) in part {
                        query = query.bind(*number).bind(*due_at).bind(0_i64).bind(page.encode());
                    }
                    query.execute(&mut *tx).await?;
                }
                if full {
                    break;
                }
            }
            tx.commit().await?;
            Ok(())
        })
    }
}
