//! The issuer's write side end to end, on SQLite and on PostgreSQL: imports
//! through the real admin router, idempotent replays, per-row errors,
//! status changes and revocations turning into new signed passes, renewal
//! before expiry, all checked with the core's Verifier against the test
//! harness's trust list. Every test pins `now`.

mod support;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use sealpass_core::testkit::{City, NOW};
use sealpass_core::{Colour, ExpandedKey, Seconds, StatusList, Timestamp, Verifier};
use sealpass_issuer::store::{Scope, Store};
use sealpass_issuer::write::admin_api::{AdminState, admin_router};
use sealpass_issuer::write::signer::{
    IssuerKey, PassSigner, SignError, SignerConfig, UntrustedKey,
};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use support::{BACKENDS, Backend};
use tower::ServiceExt;

const ISSUER: &str = "CN-610100";

/// support::PEOPLE_CSV and three rows every import refuses.
static PEOPLE_CSV: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "{}{}",
        support::PEOPLE_CSV,
        "\
XA-004,赵六,not-an-id,green,3,,,
XA-005,陈七,610102199001011231,purple,3,,,
XA-006,刘八,610102199001011231,green,3,,1795146000,
"
    )
});

/// The admin side of one issuer: the store, the admin router (on a clock
/// the test sets) and an admin token.
struct AdminHarness {
    store: Store,
    _guard: support::StoreGuard,
    clock: Arc<AtomicU64>,
    app: Router,
    admin: String,
}

impl AdminHarness {
    async fn new(backend: Backend) -> AdminHarness {
        let (store, guard) = support::store(backend).await;
        let clock = Arc::new(AtomicU64::new(NOW.0));
        let read = clock.clone();
        let app = admin_router(AdminState {
            store: store.clone(),
            clock: Arc::new(move || Timestamp(read.load(Ordering::SeqCst))),
        });
        let admin = store
            .create_token("cdc-xian", &Scope::ALL, NOW)
            .await
            .unwrap()
            .token;
        AdminHarness {
            store,
            _guard: guard,
            clock,
            app,
            admin,
        }
    }

    fn set_now(&self, now: Timestamp) {
        self.clock.store(now.0, Ordering::SeqCst);
    }

    async fn post(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: &str,
    ) -> (StatusCode, Value) {
        let mut request = Request::post(path).header("content-type", content_type);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let response = self
            .app
            .clone()
            .oneshot(request.body(Body::from(body.to_owned())).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// `post` with the admin's token.
    async fn as_admin(&self, path: &str, content_type: &str, body: &str) -> (StatusCode, Value) {
        self.post(path, Some(&self.admin), content_type, body).await
    }

    /// [`PEOPLE_CSV`] imported by the admin.
    async fn enrol_people(&self) -> (StatusCode, Value) {
        self.as_admin("/admin/v1/subjects", "text/csv", &PEOPLE_CSV)
            .await
    }

    fn signer(&self) -> PassSigner {
        PassSigner::new(
            self.store.clone(),
            support::issuer_key(),
            SignerConfig::new(ISSUER),
        )
        .unwrap()
    }
}

/// Verify `text` as a checkpoint holding the store's status list would.
async fn verify(
    store: &Store,
    city: &City,
    text: &str,
    now: Timestamp,
) -> Result<sealpass_core::VerifiedPass, String> {
    let list = store
        .status_list(ISSUER)
        .await
        .unwrap()
        .expect("a status list");
    let lists =
        [StatusList::verify(&list.bytes, city.trusted(), now).expect("the status list verifies")];
    let policy = support::any_colour();
    Verifier::new(city.trusted(), &policy)
        .with_status_lists(&lists)
        .verify(text, now)
        .map_err(|e| e.code().to_owned())
}

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

#[tokio::test]
async fn import_reports_bad_rows_by_line_and_keeps_the_good_ones() {
    for backend in BACKENDS {
        let harness = AdminHarness::new(backend).await;
        let (status, report) = harness.enrol_people().await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {report}");
        assert_eq!(report["applied"], 3, "{backend:?}: {report}");
        assert_eq!(report["rejected"], 3);
        assert_eq!(
            codes(&report),
            [
                (5, "bad_id_number".into()),
                (6, "bad_colour".into()),
                (7, "incomplete_test".into())
            ],
            "{backend:?}"
        );
        assert!(
            report["errors"][0]["reason"]
                .as_str()
                .unwrap()
                .contains("check digit")
                || report["errors"][0]["reason"]
                    .as_str()
                    .unwrap()
                    .contains("17 digits")
        );

        // Only masked identity is stored.
        let person = harness.store.subject("XA-001").await.unwrap().unwrap();
        assert_eq!(
            (person.masked_name.as_str(), person.masked_id.as_str()),
            ("张*明", "6101**********1231")
        );

        // Sending the same batch again changes nothing.
        let before = harness.store.stats().await.unwrap();
        let (status, replay) = harness.enrol_people().await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            (replay["applied"].as_u64(), replay["duplicates"].as_u64()),
            (Some(0), Some(3)),
            "{backend:?}"
        );
        assert_eq!(harness.store.stats().await.unwrap(), before, "{backend:?}");

        // The same subject under another key is refused, not silently merged.
        let other = "{\"key\":\"again\",\"subject\":\"XA-002\",\"name\":\"李四\",\"id_number\":\"11010519491231002X\",\"colour\":\"green\"}\n";
        let (_, report) = harness
            .as_admin("/admin/v1/subjects", "application/x-ndjson", other)
            .await;
        assert_eq!(
            codes(&report),
            [(1, "already_enrolled".into())],
            "{backend:?}"
        );
    }
}

#[tokio::test]
async fn status_updates_are_idempotent_and_refusals_name_the_row() {
    for backend in BACKENDS {
        let harness = AdminHarness::new(backend).await;
        harness.enrol_people().await;
        let batch = "\
{\"key\":\"lab-1\",\"subject\":\"XA-001\",\"test_time\":1795200000,\"test_result\":\"negative\"}
{\"key\":\"cdc-1\",\"subject\":\"XA-002\",\"colour\":\"green\"}
{\"key\":\"cdc-2\",\"subject\":\"XA-999\",\"colour\":\"red\"}
not json
{\"key\":\"cdc-3\",\"subject\":\"XA-003\",\"colour\":\"blue\"}
";
        let (status, report) = harness
            .as_admin("/admin/v1/status", "application/x-ndjson", batch)
            .await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["applied"], 2, "{backend:?}: {report}");
        assert_eq!(
            codes(&report),
            [
                (3, "unknown_subject".into()),
                (4, "bad_json".into()),
                (5, "bad_colour".into())
            ],
            "{backend:?}"
        );
        let events = harness.store.stats().await.unwrap().events;
        let version = harness
            .store
            .subject("XA-002")
            .await
            .unwrap()
            .unwrap()
            .status_version;

        let (_, replay) = harness
            .as_admin("/admin/v1/status", "application/x-ndjson", batch)
            .await;
        assert_eq!(
            (replay["applied"].as_u64(), replay["duplicates"].as_u64()),
            (Some(0), Some(2)),
            "{backend:?}"
        );
        assert_eq!(harness.store.stats().await.unwrap().events, events);
        assert_eq!(
            harness
                .store
                .subject("XA-002")
                .await
                .unwrap()
                .unwrap()
                .status_version,
            version
        );

        // A key reused for another event is refused.
        let misuse = "key,subject,colour\ncdc-1,XA-002,red\n";
        let (_, report) = harness
            .as_admin("/admin/v1/status", "text/csv", misuse)
            .await;
        assert_eq!(codes(&report), [(2, "key_reused".into())], "{backend:?}");
        assert_eq!(
            harness
                .store
                .subject("XA-002")
                .await
                .unwrap()
                .unwrap()
                .health
                .colour,
            Colour::Green
        );

        // A CSV header naming an unknown column refuses the whole request.
        let (status, body) = harness
            .as_admin("/admin/v1/status", "text/csv", "key,subject,shoe\n")
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("bad_header"))
        );
    }
}

#[tokio::test]
async fn tokens_and_scopes_guard_every_endpoint() {
    for backend in BACKENDS {
        let harness = AdminHarness::new(backend).await;
        let lab = harness
            .store
            .create_token("lab-7", &[Scope::StatusWrite], NOW)
            .await
            .unwrap()
            .token;
        let row = "key,subject,colour\nk1,XA-001,red\n";
        let (status, body) = harness
            .post("/admin/v1/status", None, "text/csv", row)
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthorized"))
        );
        let (status, _) = harness
            .post("/admin/v1/status", Some("spa_0000"), "text/csv", row)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, body) = harness
            .post("/admin/v1/subjects", Some(&lab), "text/csv", &PEOPLE_CSV)
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden"))
        );
        let (status, _) = harness
            .post(
                "/admin/v1/revocations",
                Some(&lab),
                "text/csv",
                "key,subject\nr,XA-001\n",
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = harness
            .post("/admin/v1/status", Some(&lab), "text/plain", row)
            .await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let (status, _) = harness
            .post("/admin/v1/status", Some(&lab), "text/csv", row)
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(harness.store.revoke_token("lab-7", NOW).await.unwrap());
        let (status, _) = harness
            .post("/admin/v1/status", Some(&lab), "text/csv", row)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{backend:?}");
    }
}

#[tokio::test]
async fn a_body_cut_short_is_answered_with_the_shared_error_body_and_the_line_committed() {
    for backend in BACKENDS {
        let harness = AdminHarness::new(backend).await;
        let chunks: Vec<Result<&'static str, std::io::Error>> = vec![
            Ok("subject,name,id_number,colour,doses,last_dose,test_time,test_result\n"),
            Ok("XA-001,张三明,610102199001011231,green,3,2022-01-15,1795146000,negative\n"),
            Err(std::io::Error::other("the connection dropped")),
        ];
        let request = Request::post("/admin/v1/subjects")
            .header("content-type", "text/csv")
            .header("authorization", format!("Bearer {}", harness.admin))
            .body(Body::from_stream(futures_util::stream::iter(chunks)))
            .unwrap();
        let response = harness.app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{backend:?}");
        let headers = response.headers().clone();
        assert_eq!(headers["cache-control"], "no-store");
        assert_eq!(headers["content-type"], "application/json");
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["error"], "body_incomplete");
        assert!(
            body["committed_through_line"].is_u64(),
            "the answer says how far the batch was stored: {body}"
        );
    }
}

#[tokio::test]
async fn a_worse_status_is_a_new_signed_pass_and_revokes_the_old_one() {
    let city = City::new();
    for backend in BACKENDS {
        let harness = AdminHarness::new(backend).await;
        harness.enrol_people().await;
        let signer = harness.signer();
        let round = signer.round(NOW, &|_| {}).await.unwrap();
        assert_eq!(
            (round.stored, round.status_list_signed),
            (3, true),
            "{backend:?}"
        );
        let first = harness.store.subject("XA-001").await.unwrap().unwrap();
        let first_text = first.pass_text.clone().unwrap();
        let pass = verify(&harness.store, &city, &first_text, NOW)
            .await
            .unwrap();
        assert_eq!(pass.health().colour, Colour::Green);
        assert_eq!(pass.health().masked_name, "张*明");
        assert_eq!(
            pass.claims().revocation_index as i64,
            first.pass_index.unwrap()
        );

        // Nothing is due a minute later.
        let later = NOW.plus(Seconds::minutes(1));
        assert_eq!(signer.round(later, &|_| {}).await.unwrap().stored, 0);

        // The CDC turns XA-001 red; the next round signs a red pass, and the
        // green one is revoked in the status list.
        harness.set_now(later);
        let (_, report) = harness
            .as_admin(
                "/admin/v1/status",
                "text/csv",
                "key,subject,colour\ncdc-red-1,XA-001,red\n",
            )
            .await;
        assert_eq!(report["applied"], 1);
        let round = signer.round(later.plus(Seconds(2)), &|_| {}).await.unwrap();
        assert_eq!(
            (round.stored, round.status_list_signed),
            (1, true),
            "{backend:?}"
        );
        let second = harness.store.subject("XA-001").await.unwrap().unwrap();
        assert_ne!(second.pass_index, first.pass_index);
        assert_eq!(second.pass_version, Some(second.status_version));
        let check = later.plus(Seconds(3));
        let red = verify(
            &harness.store,
            &city,
            second.pass_text.as_ref().unwrap(),
            check,
        )
        .await
        .unwrap();
        assert_eq!(red.health().colour, Colour::Red);
        assert_eq!(
            verify(&harness.store, &city, &first_text, check)
                .await
                .unwrap_err(),
            "pass_revoked",
            "{backend:?}"
        );
        // Others are untouched.
        let other = harness.store.subject("XA-002").await.unwrap().unwrap();
        assert!(
            verify(
                &harness.store,
                &city,
                other.pass_text.as_ref().unwrap(),
                check
            )
            .await
            .is_ok()
        );
    }
}

#[tokio::test]
async fn revocation_kills_the_live_passes_and_the_next_pass_gets_a_clean_index() {
    let city = City::new();
    for backend in BACKENDS {
        let harness = AdminHarness::new(backend).await;
        harness.enrol_people().await;
        let signer = harness.signer();
        signer.round(NOW, &|_| {}).await.unwrap();
        let old = harness.store.subject("XA-002").await.unwrap().unwrap();

        let body = "key,subject,reason\nrevoke-1,XA-002,phone lost\nrevoke-2,XA-404,phone lost\n";
        let (status, report) = harness
            .as_admin("/admin/v1/revocations", "text/csv", body)
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(report["applied"], 1);
        assert_eq!(codes(&report), [(3, "unknown_subject".into())]);
        let (_, replay) = harness
            .as_admin("/admin/v1/revocations", "text/csv", body)
            .await;
        assert_eq!(replay["duplicates"], 1);
        assert_eq!(
            harness.store.stats().await.unwrap().revoked,
            1,
            "{backend:?}"
        );

        let at = NOW.plus(Seconds(5));
        let round = signer.round(at, &|_| {}).await.unwrap();
        assert_eq!((round.stored, round.status_list_signed), (1, true));
        let new = harness.store.subject("XA-002").await.unwrap().unwrap();
        assert_ne!(new.pass_index, old.pass_index);
        assert_eq!(
            verify(&harness.store, &city, old.pass_text.as_ref().unwrap(), at)
                .await
                .unwrap_err(),
            "pass_revoked"
        );
        let fresh = verify(&harness.store, &city, new.pass_text.as_ref().unwrap(), at)
            .await
            .unwrap();
        assert_eq!(fresh.health().masked_id, "1101**********002X");
    }
}

#[tokio::test]
async fn passes_are_renewed_before_they_expire_with_jittered_expiry() {
    let city = City::new();
    for backend in BACKENDS {
        let harness = AdminHarness::new(backend).await;
        let people: String =
            std::iter::once(sealpass_issuer::population::Population::CSV_HEADER.to_owned())
                .chain(sealpass_issuer::population::Population::new(4, 300, NOW).map(|p| p.csv()))
                .map(|l| l + "\n")
                .collect();
        let (_, report) = harness
            .as_admin("/admin/v1/subjects", "text/csv", &people)
            .await;
        assert_eq!(report["applied"], 300, "{report}");
        let signer = harness.signer();
        assert_eq!(signer.round(NOW, &|_| {}).await.unwrap().stored, 300);
        let first = harness
            .store
            .subject("SYN-".to_owned().as_str())
            .await
            .unwrap();
        assert!(first.is_none());

        let person = sealpass_issuer::population::Population::new(4, 300, NOW)
            .person(17)
            .subject;
        let before = harness.store.subject(&person).await.unwrap().unwrap();
        let expires = Timestamp(before.pass_expires_at.unwrap() as u64);
        assert!(expires > NOW.plus(Seconds::hours(20)) && expires <= NOW.plus(Seconds::hours(24)));

        // Expiries are spread, so renewals are too.
        let mut expiries = std::collections::HashSet::new();
        for n in 0..300 {
            let s = sealpass_issuer::population::Population::new(4, 300, NOW)
                .person(n)
                .subject;
            expiries.insert(
                harness
                    .store
                    .subject(&s)
                    .await
                    .unwrap()
                    .unwrap()
                    .pass_expires_at
                    .unwrap(),
            );
        }
        assert!(expiries.len() > 250, "{} distinct expiries", expiries.len());

        // Twelve hours on nothing is due yet; sixteen hours on (8 h or less
        // left for every pass) everything is renewed, and still valid.
        assert_eq!(
            signer
                .round(NOW.plus(Seconds::hours(12)), &|_| {})
                .await
                .unwrap()
                .stored,
            0
        );
        let renewal = NOW.plus(Seconds::hours(16));
        assert_eq!(
            signer.round(renewal, &|_| {}).await.unwrap().stored,
            300,
            "{backend:?}"
        );
        let after = harness.store.subject(&person).await.unwrap().unwrap();
        assert!(after.pass_expires_at > before.pass_expires_at);
        assert_ne!(after.pass_index, before.pass_index);
        assert!(
            verify(
                &harness.store,
                &city,
                before.pass_text.as_ref().unwrap(),
                renewal
            )
            .await
            .is_ok()
        );
        assert!(
            verify(
                &harness.store,
                &city,
                after.pass_text.as_ref().unwrap(),
                renewal
            )
            .await
            .is_ok()
        );
        let stats = harness.store.stats().await.unwrap();
        assert_eq!((stats.signed, stats.current, stats.revoked), (300, 300, 0));
    }
}

#[tokio::test]
async fn the_status_list_drops_revocations_once_their_passes_expired() {
    for backend in BACKENDS {
        let harness = AdminHarness::new(backend).await;
        harness.enrol_people().await;
        let signer = harness.signer();
        signer.round(NOW, &|_| {}).await.unwrap();
        let old = harness.store.subject("XA-003").await.unwrap().unwrap();
        harness
            .as_admin(
                "/admin/v1/revocations",
                "text/csv",
                "key,subject\nr-3,XA-003\n",
            )
            .await;
        signer.round(NOW.plus(Seconds(1)), &|_| {}).await.unwrap();
        let index = old.pass_index.unwrap() as u32;
        let city = City::new();
        let list = harness.store.status_list(ISSUER).await.unwrap().unwrap();
        let at = NOW.plus(Seconds(2));
        let held = StatusList::verify(&list.bytes, city.trusted(), at).unwrap();
        assert!(held.check(index, at).is_err());

        // Two days on, the revoked pass has long expired: the list re-signed
        // then no longer carries its bit (the index may be reused).
        let later = NOW.plus(Seconds::days(2));
        signer.round(later, &|_| {}).await.unwrap();
        let list = harness.store.status_list(ISSUER).await.unwrap().unwrap();
        assert!(list.sequence >= 3, "{backend:?}");
        let held = StatusList::verify(&list.bytes, city.trusted(), later).unwrap();
        assert!(held.check(index, later).is_ok(), "{backend:?}");
    }
}

#[tokio::test]
async fn the_signer_checks_its_key_against_the_stored_trust_list() {
    for backend in BACKENDS {
        let harness = AdminHarness::new(backend).await;
        // No list stored yet: nothing to check against.
        assert_eq!(harness.signer().check_standing(NOW).await.unwrap(), None);

        let city = City::new();
        harness
            .store
            .publish_trust_list(
                city.trusted().list().sequence,
                city.signed_first_list(),
                NOW,
            )
            .await
            .unwrap();
        assert_eq!(
            harness.signer().check_standing(NOW).await.unwrap(),
            Some(city.trusted().list().sequence),
            "{backend:?}"
        );

        // A key the list never named is refused by name.
        let stranger = PassSigner::new(
            harness.store.clone(),
            IssuerKey::new(Arc::new(ExpandedKey::new(&city.rogue))),
            SignerConfig::new(ISSUER),
        )
        .unwrap();
        let refused = stranger.check_standing(NOW).await.unwrap_err();
        assert!(
            matches!(
                refused,
                SignError::Untrusted(UntrustedKey::NotListed { .. })
            ),
            "{refused}"
        );
    }
}

/// Status batches whose subjects run across pass pages in falling order,
/// sent while the signer stores pages in rising order: neither side fails
/// (no deadlock between their page locks), every acknowledged change is
/// kept, and once the signer catches up every pass says the last status.
#[tokio::test]
async fn status_batches_and_the_signer_side_by_side_neither_fail_nor_lose_a_change() {
    use sealpass_issuer::population::Population;
    const PEOPLE: usize = 640;
    for backend in BACKENDS {
        let harness = AdminHarness::new(backend).await;
        let people: String = std::iter::once(Population::CSV_HEADER.to_owned())
            .chain(Population::new(9, PEOPLE as u64, NOW).map(|p| p.csv()))
            .map(|l| l + "\n")
            .collect();
        let (_, report) = harness
            .as_admin("/admin/v1/subjects", "text/csv", &people)
            .await;
        assert_eq!(report["applied"], PEOPLE, "{report}");
        let subjects: Vec<String> = Population::new(9, PEOPLE as u64, NOW)
            .map(|p| p.subject)
            .collect();
        let signer = harness.signer();
        signer.round(NOW, &|_| {}).await.unwrap();

        let colours = ["red", "yellow", "green"];
        let changes = async {
            for batch in 0..12 {
                // Every 16th subject from the last, so each batch spans all
                // ten pages, highest first.
                let lines: String = subjects
                    .iter()
                    .enumerate()
                    .rev()
                    .filter(|(i, _)| (i + batch) % 16 == 0)
                    .map(|(_, s)| {
                        format!(
                            "{{\"key\":\"b{batch}-{s}\",\"subject\":\"{s}\",\"colour\":\"{}\"}}\n",
                            colours[batch % 3]
                        )
                    })
                    .collect();
                let (status, report) = harness
                    .as_admin("/admin/v1/status", "application/x-ndjson", &lines)
                    .await;
                assert_eq!(status, StatusCode::OK, "{backend:?}: {report}");
            }
        };
        let rounds = async {
            for round in 1..=12_u64 {
                signer
                    .round(NOW.plus(Seconds(round)), &|_| {})
                    .await
                    .unwrap();
            }
        };
        tokio::join!(changes, rounds);
        signer.round(NOW.plus(Seconds(60)), &|_| {}).await.unwrap();

        let stats = harness.store.stats().await.unwrap();
        assert_eq!(
            (stats.signed, stats.current),
            (PEOPLE as i64, PEOPLE as i64),
            "{backend:?}"
        );
        for (i, subject) in subjects.iter().enumerate() {
            let last = (0..12).rev().find(|batch| (i + batch) % 16 == 0);
            let view = harness.store.subject(subject).await.unwrap().unwrap();
            if let Some(batch) = last {
                assert_eq!(
                    view.health.colour.name(),
                    colours[batch % 3],
                    "{backend:?} {subject}"
                );
            }
            let text = view.pass_text.unwrap();
            let claims = sealpass_core::PassClaims::from_cbor(
                sealpass_core::cose::parse_sign1(&sealpass_core::text::decode(&text).unwrap())
                    .unwrap()
                    .payload,
            )
            .unwrap();
            assert_eq!(
                claims.health.colour, view.health.colour,
                "{backend:?} {subject}"
            );
        }
    }
}

/// The signer refuses to sign, in every round and not only when its
/// command starts, once the newest stored trust list no longer lets its
/// key sign: the key absent from the list, retired or revoked. A `sign
/// daemon` running when the city publishes such a list stops signing
/// at its next round (issue 15). The check is by the key's kid, so it
/// holds for a key from a file and from a PKCS#11 token alike.
#[tokio::test]
async fn a_signer_whose_key_the_trust_list_no_longer_lets_sign_signs_nothing() {
    use sealpass_core::KeyStatus;
    use sealpass_core::testkit::{issuer_entry, sign_list};
    for backend in BACKENDS {
        for standing in ["absent", "retired", "revoked"] {
            let harness = AdminHarness::new(backend).await;
            harness.enrol_people().await;
            let city = City::new();
            harness
                .store
                .publish_trust_list(1, city.signed_first_list(), NOW)
                .await
                .unwrap();
            let signer = harness.signer();
            assert_eq!(signer.round(NOW, &|_| {}).await.unwrap().stored, 3);

            // The city publishes list 2 without the key, or with it
            // retired or revoked.
            let mut list = city.first_list().clone();
            list.sequence = 2;
            list.issuer_keys = match standing {
                "absent" => vec![issuer_entry(&city.next, KeyStatus::Active)],
                "retired" => vec![issuer_entry(&city.active, KeyStatus::Retired)],
                _ => vec![issuer_entry(&city.active, KeyStatus::Revoked)],
            };
            let signed = sign_list(&list, &city.custodians(&[1, 2, 3]));
            harness
                .store
                .publish_trust_list(2, &signed, NOW)
                .await
                .unwrap();

            // A status change makes XA-001 due; the round signs nothing.
            let later = NOW.plus(Seconds(60));
            harness.set_now(later);
            harness
                .as_admin(
                    "/admin/v1/status",
                    "application/x-ndjson",
                    "{\"key\":\"k-1\",\"subject\":\"XA-001\",\"colour\":\"red\"}\n",
                )
                .await;
            let before = harness.store.subject("XA-001").await.unwrap().unwrap();
            let refused = signer.round(later, &|_| {}).await.unwrap_err();
            let kid = signer.kid();
            match (&refused, standing) {
                (
                    SignError::Untrusted(UntrustedKey::NotListed {
                        sequence: 2,
                        kid: k,
                    }),
                    "absent",
                ) => {
                    assert_eq!(*k, kid)
                }
                (
                    SignError::Untrusted(UntrustedKey::NotActive {
                        sequence: 2,
                        kid: k,
                        status,
                    }),
                    _,
                ) if *status == standing => assert_eq!(*k, kid),
                _ => panic!("{backend:?} {standing}: {refused}"),
            }
            let message = refused.to_string();
            assert!(message.contains(&kid.to_string()), "{message}");
            let after = harness.store.subject("XA-001").await.unwrap().unwrap();
            assert_eq!(after.pass_text, before.pass_text, "{backend:?} {standing}");
            assert_eq!(after.pass_version, before.pass_version);
        }
    }
}
