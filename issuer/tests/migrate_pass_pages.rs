//! A store of the first schema, with passes in the columns of `subjects`,
//! migrated to pass pages on SQLite and PostgreSQL: every pass comes
//! through with its revocation index, the pass before it and its renewal
//! time, subjects without a current pass stay due, and migrating again
//! changes nothing.

mod support;

use sealpass_core::Timestamp;
use sealpass_issuer::store::Store;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AssertSqlSafe, SqlSafeStr};
use support::{BACKENDS, Backend};

const SUBJECTS: i64 = 200;

/// A stand-in pass text: the text encoding of the id's bytes.
fn text_of(id: i64) -> String {
    sealpass_core::text::encode(&id.to_le_bytes())
}

/// The migrations before pass pages, as `Store::migrate` applied them.
fn first_schema(backend: Backend) -> Migrator {
    let files: &[(i64, &str, &'static str)] = match backend {
        Backend::Sqlite => &[(
            1,
            "store",
            include_str!("../migrations/sqlite/0001_store.sql"),
        )],
        Backend::Postgres => &[
            (
                1,
                "store",
                include_str!("../migrations/postgres/0001_store.sql"),
            ),
            (
                2,
                "due index",
                include_str!("../migrations/postgres/0002_due_index.sql"),
            ),
        ],
    };
    Migrator::with_migrations(
        files
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    description.to_owned().into(),
                    MigrationType::Simple,
                    AssertSqlSafe(sql).into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

/// Subject `id` of the old store: every third has no pass yet, every
/// fifth's pass is from an older status, even ones have a pass before.
const INSERT: &str = "INSERT INTO subjects (subject, masked_name, masked_id, colour, doses, \
    status_version, status_updated_at, pass_text, pass_kid, pass_iat, pass_exp, pass_index, \
    pass_version, prev_index, prev_exp, due_at) VALUES ($1, '张*明', '6101**********1234', 0, 0, 2, 0, \
    $2, $3, $4, $5, $6, $7, $8, $9, $10)";

macro_rules! insert_old_subjects {
    ($pool:expr) => {
        for id in 1..=SUBJECTS {
            let signed = id % 3 != 0;
            sqlx::query(INSERT)
                .bind(format!("S{id}"))
                .bind(signed.then(|| text_of(id)))
                .bind(signed.then_some("1f51fa5b853a9f0d"))
                .bind(signed.then_some(1_000 + id))
                .bind(signed.then_some(90_000 + id))
                .bind(signed.then_some(4 * id))
                .bind(signed.then_some(if id % 5 == 0 { 1_i64 } else { 2 }))
                .bind((signed && id % 2 == 0).then_some(4 * id + 1))
                .bind((signed && id % 2 == 0).then_some(50_000 + id))
                .bind(if signed && id % 5 != 0 {
                    60_000 + id
                } else {
                    0
                })
                .execute($pool)
                .await
                .unwrap();
        }
    };
}

#[tokio::test]
async fn passes_of_the_old_columns_come_through_the_migration() {
    for backend in BACKENDS {
        let dir = tempfile::tempdir().unwrap();
        let url = match backend {
            Backend::Sqlite => {
                let path = dir.path().join("old.db");
                let pool =
                    sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", path.display()))
                        .await
                        .unwrap();
                first_schema(backend).run(&pool).await.unwrap();
                insert_old_subjects!(&pool);
                pool.close().await;
                path.to_str().unwrap().to_owned()
            }
            Backend::Postgres => {
                let url = support::postgres().fresh_database().await;
                let pool = sqlx::PgPool::connect(&url).await.unwrap();
                first_schema(backend).run(&pool).await.unwrap();
                insert_old_subjects!(&pool);
                pool.close().await;
                url
            }
        };
        let store = Store::open(&url).await.unwrap();
        store.migrate().await.unwrap();
        store.migrate().await.unwrap();
        for id in 1..=SUBJECTS {
            let view = store.subject(&format!("S{id}")).await.unwrap().unwrap();
            if id % 3 == 0 {
                assert_eq!((view.pass_text, view.due_at), (None, 0), "{backend:?} {id}");
                continue;
            }
            assert_eq!(view.pass_text, Some(text_of(id)), "{backend:?}");
            assert_eq!(view.pass_index, Some(4 * id));
            assert_eq!(view.pass_expires_at, Some(90_000 + id));
            assert_eq!(view.due_at, if id % 5 == 0 { 0 } else { 60_000 + id });
        }
        let signed = (1..=SUBJECTS).filter(|i| i % 3 != 0).count() as i64;
        let stale = (1..=SUBJECTS).filter(|i| i % 3 != 0 && i % 5 == 0).count() as i64;
        let stats = store.stats().await.unwrap();
        assert_eq!(
            (stats.subjects, stats.signed, stats.current),
            (SUBJECTS, signed, signed - stale)
        );
        // Every page holds a subject without a pass: all are due at once.
        let due = store
            .due_pages(Timestamp(1), (i64::MIN, i64::MIN), 10)
            .await
            .unwrap();
        assert_eq!(
            due.iter().map(|p| (p.page, p.due_at)).collect::<Vec<_>>(),
            [(0, 0), (1, 0), (2, 0), (3, 0)]
        );
        assert_eq!(
            due.iter().map(|p| p.subjects.len()).sum::<usize>(),
            SUBJECTS as usize
        );
        store.close().await;
    }
}
