//! The signer's side of the store: revocation-index reservations, and
//! storing signed passes conditionally on the status version they were
//! signed from (which subjects are due: `due.rs`).

use super::events::health_of;
use super::{Backend, BackendKind, Store, StoreError, WritePool, on_backend, values_placeholders};
use crate::model::Health;
use sealpass_core::Timestamp;
use sqlx::{AssertSqlSafe, Row};

/// A pass signed for a subject, ready to store.
#[derive(Debug, Clone)]
pub struct SignedPass {
    pub subject_id: i64,
    pub text: String,
    pub kid: String,
    pub issued_at: i64,
    pub expires_at: i64,
    pub revocation_index: i64,
    pub status_version: i64,
    /// When the signer should renew it.
    pub due_at: i64,
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
}

/// Passes per SQLite UPDATE statement (8 parameters each, within SQLite's
/// 32,766).
const SQLITE_PASSES_PER_STATEMENT: usize = 500;

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

    /// How many pages of passes the signer stores at once: one on SQLite
    /// (one writer at a time), two on PostgreSQL, whose sessions store
    /// pages of different subjects side by side.
    pub fn page_writers(&self) -> usize {
        match self.kind() {
            BackendKind::Sqlite => 1,
            BackendKind::Postgres => 2,
        }
    }

    /// Store signed passes in one transaction. A pass is stored only if its
    /// subject's status is still the one it was signed from; otherwise it is
    /// dropped and the subject stays due. `superseded` are live passes that
    /// fall out of tracking (a subject re-signed twice within a validity
    /// window): they are revoked in the same transaction. Returns how many
    /// passes were stored.
    pub async fn store_passes(
        &self,
        passes: &[SignedPass],
        superseded: &[SupersededPass],
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let mut stored = 0;
        match &self.backend {
            Backend::Sqlite(pool) => {
                let mut tx = pool.begin_write().await?;
                for part in passes.chunks(SQLITE_PASSES_PER_STATEMENT) {
                    let sql = format!(
                        "UPDATE subjects SET pass_text = v.column2, pass_kid = v.column3, \
                         pass_iat = v.column4, pass_exp = v.column5, pass_index = v.column6, \
                         pass_version = v.column7, prev_index = subjects.pass_index, \
                         prev_exp = subjects.pass_exp, due_at = v.column8 \
                         FROM (VALUES {}) AS v \
                         WHERE subjects.id = v.column1 AND subjects.status_version = v.column7",
                        values_placeholders(BackendKind::Sqlite, part.len(), 8)
                    );
                    let mut query = sqlx::query(AssertSqlSafe(sql));
                    for p in part {
                        query = query
                            .bind(p.subject_id)
                            .bind(p.text.as_str())
                            .bind(p.kid.as_str())
                            .bind(p.issued_at)
                            .bind(p.expires_at)
                            .bind(p.revocation_index)
                            .bind(p.status_version)
                            .bind(p.due_at);
                    }
                    stored += query.execute(&mut *tx).await?.rows_affected();
                }
                revoke_superseded(&mut tx, superseded, now).await?;
                tx.commit().await?;
            }
            Backend::Postgres(pool) => {
                let mut tx = pool.begin_write().await?;
                for part in passes.chunks(5000) {
                    let column =
                        |f: fn(&SignedPass) -> i64| part.iter().map(f).collect::<Vec<i64>>();
                    // `s.id = ANY($1)` as well as the join: without it the
                    // planner merge-joins along the whole primary key from
                    // its first entry, so a page's cost grows with its ids.
                    stored += sqlx::query(
                        "UPDATE subjects AS s SET pass_text = v.text, pass_kid = v.kid, pass_iat = v.iat, \
                         pass_exp = v.exp, pass_index = v.idx, pass_version = v.version, \
                         prev_index = s.pass_index, prev_exp = s.pass_exp, due_at = v.due \
                         FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], \
                                     $6::bigint[], $7::bigint[], $8::bigint[]) \
                              AS v(id, text, kid, iat, exp, idx, version, due) \
                         WHERE s.id = ANY($1) AND s.id = v.id AND s.status_version = v.version",
                    )
                    .bind(column(|p| p.subject_id))
                    .bind(part.iter().map(|p| p.text.as_str()).collect::<Vec<&str>>())
                    .bind(part.iter().map(|p| p.kid.as_str()).collect::<Vec<&str>>())
                    .bind(column(|p| p.issued_at))
                    .bind(column(|p| p.expires_at))
                    .bind(column(|p| p.revocation_index))
                    .bind(column(|p| p.status_version))
                    .bind(column(|p| p.due_at))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                }
                revoke_superseded(&mut tx, superseded, now).await?;
                tx.commit().await?;
            }
        }
        Ok(stored)
    }

    /// One subject, by its pseudonymous id.
    pub async fn subject(&self, subject: &str) -> Result<Option<SubjectView>, StoreError> {
        on_backend!(self, pool => {
            let Some(row) = sqlx::query(
                "SELECT subject, masked_name, masked_id, colour, doses, last_dose, test_time, \
                 test_result, status_version, pass_text, pass_kid, pass_iat, pass_exp, pass_index, \
                 pass_version, due_at FROM subjects WHERE subject = $1",
            )
            .bind(subject)
            .fetch_optional(pool)
            .await?
            else {
                return Ok(None);
            };
            Ok(Some(SubjectView {
                subject: row.try_get("subject")?,
                masked_name: row.try_get("masked_name")?,
                masked_id: row.try_get("masked_id")?,
                health: health_of(&row)?,
                status_version: row.try_get("status_version")?,
                pass_text: row.try_get("pass_text")?,
                pass_kid: row.try_get("pass_kid")?,
                pass_issued_at: row.try_get("pass_iat")?,
                pass_expires_at: row.try_get("pass_exp")?,
                pass_index: row.try_get("pass_index")?,
                pass_version: row.try_get("pass_version")?,
                due_at: row.try_get("due_at")?,
            }))
        })
    }

    pub async fn stats(&self) -> Result<StoreStats, StoreError> {
        on_backend!(self, pool => {
            let row = sqlx::query(
                "SELECT (SELECT COUNT(*) FROM subjects) AS subjects, \
                 (SELECT COUNT(*) FROM subjects WHERE pass_text IS NOT NULL) AS signed, \
                 (SELECT COUNT(*) FROM subjects WHERE pass_version = status_version) AS current, \
                 (SELECT COUNT(*) FROM status_events) AS events, \
                 (SELECT COUNT(*) FROM revoked_passes) AS revoked",
            )
            .fetch_one(pool)
            .await?;
            Ok(StoreStats {
                subjects: row.try_get("subjects")?,
                signed: row.try_get("signed")?,
                current: row.try_get("current")?,
                events: row.try_get("events")?,
                revoked: row.try_get("revoked")?,
            })
        })
    }
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
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn passes_land_on_their_subjects_only_from_the_current_status() {
        let n = 1_234;
        let (store, _dir) = super::super::tests::store_with_due(&vec![0; n]).await;
        let passes: Vec<SignedPass> = (1..=n as i64)
            .map(|id| SignedPass {
                subject_id: id,
                text: format!("SP1:{id}"),
                kid: "1f51fa5b853a9f0d".into(),
                issued_at: 1_000,
                expires_at: 2_000 + id,
                revocation_index: 4 * id,
                // Every seventh was signed from an older status.
                status_version: if id % 7 == 0 { 0 } else { 1 },
                due_at: 1_500 + id,
            })
            .collect();
        let stored = store
            .store_passes(&passes, &[], Timestamp(1_000))
            .await
            .unwrap();
        assert_eq!(stored, n as u64 - n as u64 / 7);
        for id in [1, 7, 500, 501, 1_000, 1_234] {
            let view = store
                .subject(&format!("S{}", id - 1))
                .await
                .unwrap()
                .unwrap();
            if id % 7 == 0 {
                assert_eq!((view.pass_text, view.due_at), (None, 0));
            } else {
                assert_eq!(view.pass_text.as_deref(), Some(&*format!("SP1:{id}")));
                assert_eq!(view.pass_index, Some(4 * id));
                assert_eq!(view.pass_expires_at, Some(2_000 + id));
                assert_eq!(view.due_at, 1_500 + id);
            }
        }
    }
}
