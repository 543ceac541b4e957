//! What ingestion refuses or reports apart (issue 15, findings 2, 7 and 8),
//! through the real admin router, on SQLite and on PostgreSQL: events from
//! the future, test results older than the one held, invisible characters,
//! lines over the limit however they arrive, and a SQLite store readable
//! only by its owner. Every test pins `now`.

mod support;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use sealpass_core::Timestamp;
use sealpass_core::testkit::NOW;
use sealpass_issuer::store::{Scope, Store};
use sealpass_issuer::write::admin_api::{AdminState, admin_router};
use serde_json::Value;
use std::sync::Arc;
use support::{BACKENDS, Backend};
use tower::ServiceExt;

/// A store, the admin router over it with the clock pinned at NOW, and a
/// token with every scope.
struct Admin {
    store: Store,
    _guard: support::StoreGuard,
    app: Router,
    token: String,
}

impl Admin {
    async fn new(backend: Backend) -> Admin {
        let (store, guard) = support::store(backend).await;
        let app = admin_router(AdminState {
            store: store.clone(),
            clock: Arc::new(|| NOW),
        });
        let token = store
            .create_token("cdc-xian", &Scope::ALL, NOW)
            .await
            .unwrap()
            .token;
        Admin {
            store,
            _guard: guard,
            app,
            token,
        }
    }

    /// POST `body` in one chunk.
    async fn post(&self, path: &str, content_type: &str, body: String) -> Value {
        let request = Request::post(path)
            .header("content-type", content_type)
            .header("authorization", format!("Bearer {}", self.token))
            .body(Body::from(body))
            .unwrap();
        let response = self.app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    async fn enrol(&self, csv: &str) -> Value {
        self.post("/admin/v1/subjects", "text/csv", csv.to_owned())
            .await
    }

    async fn status(&self, ndjson: &str) -> Value {
        self.post(
            "/admin/v1/status",
            "application/x-ndjson",
            ndjson.to_owned(),
        )
        .await
    }
}

const HEADER: &str = "subject,name,id_number,colour,doses,last_dose,test_time,test_result\n";

/// (line, code) of each refused row.
fn codes(report: &Value) -> Vec<(u64, String)> {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn reason(report: &Value, index: usize) -> String {
    report["errors"][index]["reason"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The day of `now` as YYYY-MM-DD, `days` later.
fn date(days: u64) -> String {
    let d = sealpass_core::Date((NOW.0 / 86_400 + days) as u32);
    d.to_string()
}

#[tokio::test]
async fn future_test_times_and_last_doses_are_refused_naming_the_field() {
    for backend in BACKENDS {
        let admin = Admin::new(backend).await;
        let year_ahead = NOW.0 + 365 * 86_400;
        let csv = format!(
            "{HEADER}\
             XA-001,张三明,610102199001011231,green,3,,{year_ahead},negative\n\
             XA-002,李四,11010519491231002X,green,2,,{},negative\n\
             XA-003,王小红,610113198505050001,green,1,{},,\n\
             XA-004,赵六,610102199001011231,green,1,{},,\n",
            NOW.0 + 4 * 60,
            date(1),
            date(2),
        );
        let report = admin.enrol(&csv).await;
        assert_eq!(report["applied"], 2, "{backend:?}: {report}");
        assert_eq!(
            codes(&report),
            [
                (2, "test_time_in_future".to_owned()),
                (5, "last_dose_in_future".to_owned())
            ],
            "{backend:?}: a test 4 min ahead and a dose tomorrow (UTC+8 this morning) pass"
        );
        assert!(reason(&report, 0).contains("test_time is in the future"));
        assert!(reason(&report, 1).contains("last_dose"));
        assert!(reason(&report, 1).contains("in the future"));
        assert!(admin.store.subject("XA-001").await.unwrap().is_none());

        // A status update likewise, and the held test stays.
        let report = admin
            .status(&format!(
                "{{\"key\":\"lab-1\",\"subject\":\"XA-002\",\"test_time\":{},\"test_result\":\"negative\"}}\n\
                 {{\"key\":\"vax-1\",\"subject\":\"XA-002\",\"doses\":3,\"last_dose\":\"{}\"}}\n",
                NOW.0 + 3600,
                date(30)
            ))
            .await;
        assert_eq!(report["applied"], 0, "{backend:?}: {report}");
        assert_eq!(
            codes(&report),
            [
                (1, "test_time_in_future".to_owned()),
                (2, "last_dose_in_future".to_owned())
            ],
            "{backend:?}"
        );
        let held = admin.store.subject("XA-002").await.unwrap().unwrap();
        assert_eq!(held.health.last_test.unwrap().taken_at.0, NOW.0 + 4 * 60);
        assert_eq!(held.health.vaccination.doses, 2);
    }
}

#[tokio::test]
async fn an_older_test_result_is_reported_superseded_not_applied() {
    for backend in BACKENDS {
        let admin = Admin::new(backend).await;
        let held = NOW.0 - 3600;
        let report = admin
            .enrol(&format!(
                "{HEADER}XA-001,张三明,610102199001011231,green,3,,{held},negative\n"
            ))
            .await;
        assert_eq!(report["applied"], 1, "{report}");

        // A positive test taken before the negative one held: logged, not
        // applied, and the report says so.
        let report = admin
            .status(&format!(
                "{{\"key\":\"lab-old\",\"subject\":\"XA-001\",\"test_time\":{},\"test_result\":\"positive\"}}\n\
                 {{\"key\":\"lab-new\",\"subject\":\"XA-001\",\"test_time\":{},\"test_result\":\"negative\"}}\n",
                held - 7200,
                held + 60
            ))
            .await;
        assert_eq!(report["applied"], 1, "{backend:?}: {report}");
        assert_eq!(report["superseded"], 1, "{backend:?}: {report}");
        assert_eq!(report["rejected"], 0, "{backend:?}: {report}");
        assert_eq!(report["notices"][0]["line"], 1, "{report}");
        assert_eq!(report["notices"][0]["code"], "superseded", "{report}");
        let subject = admin.store.subject("XA-001").await.unwrap().unwrap();
        assert_eq!(subject.health.last_test.unwrap().taken_at.0, held + 60);

        // Sent again: both are duplicates, nothing superseded anew.
        let again = admin
            .status(&format!(
                "{{\"key\":\"lab-old\",\"subject\":\"XA-001\",\"test_time\":{},\"test_result\":\"positive\"}}\n",
                held - 7200
            ))
            .await;
        assert_eq!(
            (&again["duplicates"], &again["superseded"]),
            (&Value::from(1), &Value::from(0)),
            "{again}"
        );
    }
}

#[tokio::test]
async fn bidi_overrides_and_other_invisible_characters_are_refused_per_row() {
    for backend in BACKENDS {
        let admin = Admin::new(backend).await;
        let names = [
            "张\u{202E}三明",
            "李\u{200B}四",
            "王\u{2066}小红\u{2069}",
            "赵\u{FEFF}六",
            "陈\u{061C}七",
            "刘\u{2028}八",
            "周\u{200F}九",
            "吴\u{1B}[31m十",
        ];
        let mut csv = HEADER.to_owned();
        for (i, name) in names.iter().enumerate() {
            csv += &format!("XA-{i:03},\"{name}\",610102199001011231,green,,,,\n");
        }
        csv += "XA-100,郑十一,610102199001011231,green,,,,\n";
        let report = admin.enrol(&csv).await;
        assert_eq!(report["applied"], 1, "{backend:?}: {report}");
        assert_eq!(report["rejected"], names.len(), "{backend:?}: {report}");
        for (i, error) in report["errors"].as_array().unwrap().iter().enumerate() {
            assert_eq!(error["code"], "bad_name", "{error}");
            assert!(
                error["reason"].as_str().unwrap().contains("name holds U+"),
                "{error}"
            );
            assert_eq!(error["line"], i + 2);
        }

        // A revocation's reason, in NDJSON's escapes.
        let report = admin
            .post(
                "/admin/v1/revocations",
                "application/x-ndjson",
                "{\"key\":\"r-1\",\"subject\":\"XA-100\",\"reason\":\"lost \\u202eenohp\"}\n"
                    .into(),
            )
            .await;
        assert_eq!(codes(&report), [(1, "bad_reason".to_owned())], "{report}");
    }
}

#[tokio::test]
async fn a_line_over_the_limit_is_refused_when_it_arrives_whole() {
    let admin = Admin::new(Backend::Sqlite).await;
    admin
        .enrol(&format!(
            "{HEADER}XA-001,张三明,610102199001011231,green,3,,,\n"
        ))
        .await;
    // Valid JSON padded past the 16 KiB limit, in one chunk with the line
    // after it.
    let padding = " ".repeat(sealpass_issuer::write::ingest::MAX_LINE_LEN);
    let body = format!(
        "{{\"key\":\"d-1\",{padding}\"subject\":\"XA-001\",\"doses\":4}}\n\
         {{\"key\":\"d-2\",\"subject\":\"XA-001\",\"doses\":5}}\n"
    );
    let report = admin.status(&body).await;
    assert_eq!(
        codes(&report),
        [(1, "line_too_long".to_owned())],
        "{report}"
    );
    assert_eq!(report["applied"], 1, "{report}");
    assert_eq!(report["lines"], 2, "{report}");
    let subject = admin.store.subject("XA-001").await.unwrap().unwrap();
    assert_eq!(subject.health.vaccination.doses, 5);
}

#[tokio::test]
async fn the_sqlite_store_and_its_wal_and_shm_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("issuer.db");
    // Under the usual umask (022) SQLite alone makes the files 0644.
    let store = Store::open(path.to_str().unwrap()).await.unwrap();
    store.migrate().await.unwrap();
    store
        .create_token("cdc-xian", &Scope::ALL, Timestamp(NOW.0))
        .await
        .unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let file = dir.path().join(format!("issuer.db{suffix}"));
        let mode = std::fs::metadata(&file)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "{} has mode {:o}",
            file.display(),
            mode & 0o777
        );
    }
    store.close().await;
}
