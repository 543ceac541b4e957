//! Enrolment: new subjects, written many rows per statement so that a city
//! of millions imports in minutes on either backend.

use super::pages::page_of;
use super::{Store, StoreError, WritePool, on_backend, placeholders, values_placeholders};
use crate::model::{Enrolment, colour_code, test_columns};
use sealpass_core::Timestamp;
use sqlx::{AssertSqlSafe, Row};
use std::collections::{HashMap, HashSet};

/// What became of one enrolment row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnrolOutcome {
    /// A new subject, due for signing.
    Enrolled,
    /// The same enrolment was applied before (same key, same content).
    Duplicate,
    /// Refused; nothing was written for this row.
    Refused { code: &'static str, reason: String },
}

/// Rows per INSERT statement (10 parameters each: within SQLite's 32,766
/// and PostgreSQL's 65,535 bound parameters).
const ROWS_PER_STATEMENT: usize = 500;

impl Store {
    /// Enrol `rows` in one transaction; one outcome per row, in order.
    pub async fn enrol(
        &self,
        rows: &[Enrolment],
        token: &str,
        now: Timestamp,
    ) -> Result<Vec<EnrolOutcome>, StoreError> {
        let now = now.0 as i64;
        let bodies: Vec<String> = rows.iter().map(Enrolment::body).collect();
        let kind = self.kind();
        on_backend!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let mut outcomes: Vec<Option<EnrolOutcome>> = vec![None; rows.len()];

            // 1. Keys seen before (replays), and keys repeated in this chunk.
            let mut known: HashMap<String, String> = HashMap::new();
            for part in rows.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "SELECT idempotency_key, body FROM status_events WHERE idempotency_key IN ({})",
                    placeholders(kind, 0, part.len())
                );
                let mut query = sqlx::query(AssertSqlSafe(sql));
                for row in part {
                    query = query.bind(row.key.as_str());
                }
                for found in query.fetch_all(&mut *tx).await? {
                    known.insert(found.try_get("idempotency_key")?, found.try_get("body")?);
                }
            }
            let mut fresh = Vec::new();
            let mut keys_in_chunk: HashMap<&str, usize> = HashMap::new();
            let mut subjects_in_chunk: HashSet<&str> = HashSet::new();
            for (i, row) in rows.iter().enumerate() {
                let earlier_body = known
                    .get(&row.key)
                    .map(String::as_str)
                    .or_else(|| keys_in_chunk.get(row.key.as_str()).map(|&j| bodies[j].as_str()));
                outcomes[i] = match earlier_body {
                    Some(body) if body == bodies[i] => Some(EnrolOutcome::Duplicate),
                    Some(_) => Some(key_reused()),
                    None if !subjects_in_chunk.insert(row.subject.as_str()) => {
                        Some(already_enrolled())
                    }
                    None => {
                        keys_in_chunk.insert(row.key.as_str(), i);
                        fresh.push(i);
                        None
                    }
                };
            }

            // 2. New subjects; a subject that exists already is refused.
            let mut ids: HashMap<String, i64> = HashMap::new();
            for part in fresh.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "INSERT INTO subjects (subject, masked_name, masked_id, colour, doses, last_dose, \
                     test_time, test_result, status_version, status_updated_at) VALUES {} \
                     ON CONFLICT (subject) DO NOTHING RETURNING id, subject",
                    values_placeholders(kind, part.len(), 10)
                );
                let mut query = sqlx::query(AssertSqlSafe(sql));
                for &i in part {
                    let row = &rows[i];
                    let h = &row.health;
                    let (test_time, test_result) = test_columns(h.last_test);
                    query = query
                        .bind(row.subject.as_str())
                        .bind(row.masked_name.as_str())
                        .bind(row.masked_id.as_str())
                        .bind(colour_code(h.colour))
                        .bind(i64::from(h.vaccination.doses))
                        .bind(h.vaccination.last_dose.map(|d| i64::from(d.0)))
                        .bind(test_time)
                        .bind(test_result)
                        .bind(1_i64)
                        .bind(now);
                }
                for created in query.fetch_all(&mut *tx).await? {
                    ids.insert(created.try_get("subject")?, created.try_get("id")?);
                }
            }

            // 3. Their pass pages are due at once (`pages.rs`): a new page
            // for a new run of ids, else a higher revision, so that a
            // signer's write of the page from before this enrolment is
            // refused.
            let mut pages: Vec<i64> = ids.values().map(|&id| page_of(id)).collect();
            pages.sort_unstable();
            pages.dedup();
            for part in pages.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "INSERT INTO pass_pages (page, due_at, revision, slots) VALUES {} \
                     ON CONFLICT (page) DO UPDATE SET due_at = 0, revision = pass_pages.revision + 1",
                    values_placeholders(kind, part.len(), 4)
                );
                let mut query = sqlx::query(AssertSqlSafe(sql));
                for &page in part {
                    query = query.bind(page).bind(0_i64).bind(0_i64).bind(&[] as &[u8]);
                }
                query.execute(&mut *tx).await?;
            }

            // 4. The enrolment events of the subjects just created.
            let created: Vec<(usize, i64)> = fresh
                .iter()
                .filter_map(|&i| ids.get(&rows[i].subject).map(|&id| (i, id)))
                .collect();
            for part in created.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "INSERT INTO status_events (idempotency_key, subject_id, kind, body, received_at, token) VALUES {}",
                    values_placeholders(kind, part.len(), 6)
                );
                let mut query = sqlx::query(AssertSqlSafe(sql));
                for &(i, id) in part {
                    query = query
                        .bind(rows[i].key.as_str())
                        .bind(id)
                        .bind("enrol")
                        .bind(bodies[i].as_str())
                        .bind(now)
                        .bind(token);
                }
                query.execute(&mut *tx).await?;
            }
            tx.commit().await?;

            for &i in &fresh {
                outcomes[i] = Some(if ids.contains_key(&rows[i].subject) {
                    EnrolOutcome::Enrolled
                } else {
                    already_enrolled()
                });
            }
            Ok(outcomes.into_iter().map(|o| o.expect("every row decided")).collect())
        })
    }
}

fn key_reused() -> EnrolOutcome {
    EnrolOutcome::Refused {
        code: "key_reused",
        reason: "this idempotency key was used before for a different event".into(),
    }
}

fn already_enrolled() -> EnrolOutcome {
    EnrolOutcome::Refused {
        code: "already_enrolled",
        reason:
            "this subject is enrolled already (under another key); send changes as status updates"
                .into(),
    }
}
