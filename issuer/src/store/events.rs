//! Status updates, revocations and device bindings: each applied event is
//! logged under its idempotency key, changes the subject's status (or its
//! bound device), and makes the subject due for signing at once. A worse
//! status, a revocation and a new device revoke the subject's live passes
//! in the same transaction, so the acknowledgement of the event and the
//! revocation are one durable step.

use super::pages::{PAGE_SUBJECTS, PassPage, page_of};
use super::{BackendKind, Store, StoreError, WritePool, on_backend, placeholders};
use crate::model::{
    DeviceBinding, Health, Revocation, StatusUpdate, colour_code, colour_from_code,
    holder_key_column, test_columns, test_from_columns,
};
use sealpass_core::{Date, Timestamp, Vaccination};
use sqlx::{AssertSqlSafe, Row};

/// What became of one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventOutcome {
    Applied(Applied),
    /// The same event was applied before (same key, same content).
    Duplicate,
    /// Refused; nothing was written for this event.
    Refused {
        code: &'static str,
        reason: String,
    },
    /// A device binding over the subject's limit of new devices a day;
    /// nothing was written. One more may be bound this many seconds later.
    TooSoon {
        retry_after_seconds: u64,
    },
}

/// Details of an applied event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Applied {
    /// The status changed, so the subject is due for a new pass.
    pub changed: bool,
    /// Live passes of the subject that were revoked by this event.
    pub revoked: u32,
    /// The event's test result is older than the one held: it was logged
    /// but did not replace it (the rest of the event, if any, applied).
    pub superseded: bool,
    /// A device binding replaced the key bound before.
    pub replaced_device: bool,
}

enum Event<'a> {
    Status(&'a StatusUpdate),
    Revoke(&'a Revocation),
    /// A device binding, and how many new devices a subject may bind in a
    /// day.
    Bind(&'a DeviceBinding, u32),
}

/// The window of the limit on new devices.
const BIND_WINDOW: i64 = 24 * 3600;

impl Event<'_> {
    fn key(&self) -> &str {
        match self {
            Event::Status(u) => &u.key,
            Event::Revoke(r) => &r.key,
            Event::Bind(b, _) => &b.key,
        }
    }
    fn subject(&self) -> &str {
        match self {
            Event::Status(u) => &u.subject,
            Event::Revoke(r) => &r.subject,
            Event::Bind(b, _) => &b.subject,
        }
    }
    fn body(&self) -> String {
        match self {
            Event::Status(u) => u.body(),
            Event::Revoke(r) => r.body(),
            Event::Bind(b, _) => b.body(),
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            Event::Status(_) => "status",
            Event::Revoke(_) => "revoke",
            Event::Bind(..) => "bind",
        }
    }
}

impl Store {
    /// Apply status updates in one transaction, in order.
    pub async fn apply_status_updates(
        &self,
        updates: &[StatusUpdate],
        token: &str,
        now: Timestamp,
    ) -> Result<Vec<EventOutcome>, StoreError> {
        let events: Vec<Event> = updates.iter().map(Event::Status).collect();
        self.apply_events(&events, token, now).await
    }

    /// Revoke the live passes of subjects, in one transaction. The subject
    /// becomes due, so the signer gives it a new pass with a fresh
    /// revocation index.
    pub async fn revoke(
        &self,
        revocations: &[Revocation],
        token: &str,
        now: Timestamp,
    ) -> Result<Vec<EventOutcome>, StoreError> {
        let events: Vec<Event> = revocations.iter().map(Event::Revoke).collect();
        self.apply_events(&events, token, now).await
    }

    /// Bind a device to its subject (docs/issuer.md, "Device binding"), at
    /// most `per_day` new devices a subject in any 24 hours. The key
    /// already bound is `Applied` unchanged, with nothing logged. A new
    /// key is logged (kind `bind`), revokes the subject's live passes
    /// (`device_bound`, or `device_replaced` when it replaces a key) and
    /// makes the subject due, so the signer signs it a bound pass with a
    /// new revocation index in its next round.
    pub(crate) async fn bind_device(
        &self,
        binding: &DeviceBinding,
        per_day: u32,
        token: &str,
        now: Timestamp,
    ) -> Result<EventOutcome, StoreError> {
        let mut outcomes = self
            .apply_events(&[Event::Bind(binding, per_day)], token, now)
            .await?;
        outcomes
            .pop()
            .ok_or_else(|| StoreError::Inconsistent("a binding without an outcome".into()))
    }

    async fn apply_events(
        &self,
        events: &[Event<'_>],
        token: &str,
        now: Timestamp,
    ) -> Result<Vec<EventOutcome>, StoreError> {
        // PostgreSQL: lock the subject's row and its pass page, so that a
        // signer storing the page waits for this transaction (and then
        // finds the page's revision raised), and the passes read here for
        // revocation are the page's last. SQLite has one writer at a time.
        let lock = if self.kind() == BackendKind::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
        let select_subject = format!(
            "SELECT id, colour, doses, last_dose, test_time, test_result, status_version, \
             holder_key FROM subjects WHERE subject = $1{lock}"
        );
        let select_page = format!("SELECT slots FROM pass_pages WHERE page = $1{lock}");
        let now_i = now.0 as i64;
        on_backend!(self, pool => {
            let mut tx = pool.begin_write().await?;
            if !lock.is_empty() {
                // The pages of the whole batch first, in page order: the
                // signer locks the pages it stores in page order too, so
                // neither can hold one page while waiting for another that
                // the other holds.
                for part in events.chunks(30_000) {
                    let sql = format!(
                        "SELECT p.page FROM pass_pages p JOIN subjects s ON p.page = s.id / $1 \
                         WHERE s.subject IN ({}) ORDER BY p.page FOR UPDATE OF p",
                        placeholders(BackendKind::Postgres, 1, part.len())
                    );
                    let mut query = sqlx::query(AssertSqlSafe(sql)).bind(PAGE_SUBJECTS);
                    for event in part {
                        query = query.bind(event.subject());
                    }
                    query.fetch_all(&mut *tx).await?;
                }
            }
            let mut outcomes = Vec::with_capacity(events.len());
            for event in events {
                let body = event.body();
                let earlier: Option<String> =
                    sqlx::query_scalar("SELECT body FROM status_events WHERE idempotency_key = $1")
                        .bind(event.key())
                        .fetch_optional(&mut *tx)
                        .await?;
                if let Some(earlier) = earlier {
                    outcomes.push(if earlier == body {
                        EventOutcome::Duplicate
                    } else {
                        EventOutcome::Refused {
                            code: "key_reused",
                            reason: "this idempotency key was used before for a different event".into(),
                        }
                    });
                    continue;
                }
                let Some(row) = sqlx::query(AssertSqlSafe(select_subject.clone()))
                    .bind(event.subject())
                    .fetch_optional(&mut *tx)
                    .await?
                else {
                    outcomes.push(EventOutcome::Refused {
                        code: "unknown_subject",
                        reason: "no subject with this id is enrolled".into(),
                    });
                    continue;
                };
                let id: i64 = row.try_get("id")?;
                let before = health_of(&row)?;
                let slots: Option<Vec<u8>> = sqlx::query_scalar(AssertSqlSafe(select_page.clone()))
                    .bind(page_of(id))
                    .fetch_optional(&mut *tx)
                    .await?;
                let page = PassPage::decode(slots.as_deref().unwrap_or_default())?;
                let passes = page.get(id).map_or([None, None], |pass| {
                    [Some((pass.revocation_index, pass.expires_at)), pass.prev]
                });
                let mut replaced_device = false;
                let (after, revoke_reason, superseded) = match event {
                    Event::Status(update) => {
                        let after = update.apply(&before);
                        (
                            after,
                            after.worse_than(&before).then_some("status_worsened"),
                            update.superseded_test(&before),
                        )
                    }
                    Event::Revoke(r) => (before, Some(r.reason.as_str()), false),
                    Event::Bind(binding, per_day) => {
                        let held: Option<String> = row.try_get("holder_key")?;
                        let column = holder_key_column(&binding.device);
                        if held.as_deref() == Some(column.as_str()) {
                            outcomes.push(EventOutcome::Applied(Applied::default()));
                            continue;
                        }
                        let recent: Vec<i64> = sqlx::query_scalar(
                            "SELECT received_at FROM status_events WHERE subject_id = $1 \
                             AND kind = 'bind' AND received_at > $2 ORDER BY received_at LIMIT $3",
                        )
                        .bind(id)
                        .bind(now_i - BIND_WINDOW)
                        .bind(i64::from(*per_day))
                        .fetch_all(&mut *tx)
                        .await?;
                        if recent.len() >= *per_day as usize {
                            let first = recent.first().copied().unwrap_or(now_i);
                            outcomes.push(EventOutcome::TooSoon {
                                retry_after_seconds: (first + BIND_WINDOW - now_i).max(1) as u64,
                            });
                            continue;
                        }
                        sqlx::query("UPDATE subjects SET holder_key = $1 WHERE id = $2")
                            .bind(column)
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                        replaced_device = held.is_some();
                        let reason = if replaced_device { "device_replaced" } else { "device_bound" };
                        (before, Some(reason), false)
                    }
                };
                let changed =
                    after != before || matches!(event, Event::Revoke(_) | Event::Bind(..));

                sqlx::query(
                    "INSERT INTO status_events (idempotency_key, subject_id, kind, body, received_at, token) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(event.key())
                .bind(id)
                .bind(event.kind())
                .bind(body.as_str())
                .bind(now_i)
                .bind(token)
                .execute(&mut *tx)
                .await?;

                let mut revoked = 0;
                if let Some(reason) = revoke_reason {
                    for (index, exp) in passes.into_iter().flatten() {
                        if exp <= now_i {
                            continue;
                        }
                        revoked += sqlx::query(
                            "INSERT INTO revoked_passes (subject_id, revocation_index, expires_at, revoked_at, reason) \
                             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (revocation_index, expires_at) DO NOTHING",
                        )
                        .bind(id)
                        .bind(index)
                        .bind(exp)
                        .bind(now_i)
                        .bind(reason)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected() as u32;
                    }
                }
                if changed {
                    let (test_time, test_result) = test_columns(after.last_test);
                    sqlx::query(
                        "UPDATE subjects SET colour = $1, doses = $2, last_dose = $3, test_time = $4, \
                         test_result = $5, status_version = status_version + 1, status_updated_at = $6 \
                         WHERE id = $7",
                    )
                    .bind(colour_code(after.colour))
                    .bind(i64::from(after.vaccination.doses))
                    .bind(after.vaccination.last_dose.map(|d| i64::from(d.0)))
                    .bind(test_time)
                    .bind(test_result)
                    .bind(now_i)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    // Due at once, and a signer's write from before refused.
                    sqlx::query(
                        "INSERT INTO pass_pages (page, due_at, revision, slots) VALUES ($1, 0, 0, $2) \
                         ON CONFLICT (page) DO UPDATE SET due_at = 0, revision = pass_pages.revision + 1",
                    )
                    .bind(page_of(id))
                    .bind(&[] as &[u8])
                    .execute(&mut *tx)
                    .await?;
                }
                outcomes.push(EventOutcome::Applied(Applied {
                    changed,
                    revoked,
                    superseded,
                    replaced_device,
                }));
            }
            tx.commit().await?;
            Ok(outcomes)
        })
    }
}

/// The health status held in a `subjects` row.
pub(crate) fn health_of<R: Row>(row: &R) -> Result<Health, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<i64>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    health_from_columns(
        row.try_get("colour")?,
        row.try_get("doses")?,
        row.try_get("last_dose")?,
        row.try_get("test_time")?,
        row.try_get("test_result")?,
    )
}

/// The health status from the `subjects` columns `colour`, `doses`,
/// `last_dose`, `test_time` and `test_result`.
pub(crate) fn health_from_columns(
    colour: i64,
    doses: i64,
    last_dose: Option<i64>,
    test_time: Option<i64>,
    test_result: Option<i64>,
) -> Result<Health, StoreError> {
    Ok(Health {
        colour: colour_from_code(colour)
            .ok_or_else(|| StoreError::Inconsistent(format!("colour code {colour}")))?,
        vaccination: Vaccination {
            doses: u8::try_from(doses)
                .map_err(|_| StoreError::Inconsistent(format!("{doses} doses")))?,
            last_dose: last_dose.and_then(|d| u32::try_from(d).ok()).map(Date),
        },
        last_test: test_from_columns(test_time, test_result),
    })
}
