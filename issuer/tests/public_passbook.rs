//! What makes a pass download cheap must not make it stale or unsafe
//! (docs/public-api.md, "The pass book"): the pass book follows the
//! store's events instead of reading the store on every request, yet a
//! status change and a revocation reach the phone within seconds; identity
//! tokens verified once are remembered, yet an expired one is refused.
//! Through the real router, on both backends.

mod public_support;
mod support;

use axum::http::StatusCode;
use public_support::*;
use sealpass_core::Seconds;
use sealpass_core::testkit::NOW;
use sealpass_issuer::write::ingest::Kind;
use std::time::{Duration, Instant};
use support::BACKENDS;

/// A harness whose pass book reads the events every 100 ms and never
/// compares an unchanged pass (so only the event feed can bring news).
async fn following_harness(backend: support::Backend) -> PublicHarness {
    PublicHarness::with(backend, |settings| {
        settings.pass_recheck = Duration::from_millis(100);
        settings.pass_recheck_unchanged = Duration::from_secs(3600);
        // The test asks again every 50 ms from one address.
        settings.limits.per_client_rate = 1e9;
        settings.limits.per_client_burst = 1_000_000_000;
    })
    .await
}

async fn import(harness: &PublicHarness, kind: Kind, csv: &str) {
    let report = support::ingest_csv(&harness.store, kind, csv, "cdc", NOW).await;
    assert_eq!(report.applied, 1, "{report:?}");
}

/// The pass served for `token` until `done` holds, for at most 5 s.
async fn pass_until(
    harness: &PublicHarness,
    token: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let started = Instant::now();
    loop {
        let answer = harness.pass(token).await;
        assert_eq!(answer.status, StatusCode::OK);
        let json = answer.json();
        if done(&json) || started.elapsed() > Duration::from_secs(5) {
            return json;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_change_and_a_revocation_reach_the_phone_through_the_event_feed() {
    for backend in BACKENDS {
        let harness = following_harness(backend).await;
        let token = token("001");
        let first = harness.pass(&token).await.json();
        assert_eq!(first["colour"], "green");

        // A status change; the signer makes the new pass.
        import(
            &harness,
            Kind::StatusUpdates,
            "key,subject,colour\ncdc-1,XA-001,yellow\n",
        )
        .await;
        let later = NOW.plus(Seconds(30));
        harness.set_now(later);
        harness.signer.round(later, &|_| {}).await.unwrap();
        let changed = pass_until(&harness, &token, |p| p["colour"] == "yellow").await;
        assert_eq!(changed["colour"], "yellow", "{backend:?}");

        // A revocation (a lost phone); the signer signs a replacement.
        import(
            &harness,
            Kind::Revocations,
            "key,subject,reason\nrevoke-1,XA-001,phone lost\n",
        )
        .await;
        let later = NOW.plus(Seconds(60));
        harness.set_now(later);
        harness.signer.round(later, &|_| {}).await.unwrap();
        let replaced = pass_until(&harness, &token, |p| p["version"] != changed["version"]).await;
        assert_ne!(replaced["version"], changed["version"], "{backend:?}");
        assert_eq!(replaced["pass"], {
            let stored = harness.store.subject("XA-001").await.unwrap().unwrap();
            serde_json::Value::from(stored.pass_text.unwrap())
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unchanged_pass_is_served_from_memory_without_reading_the_store() {
    let harness = following_harness(support::Backend::Sqlite).await;
    let token = token("001");
    assert_eq!(harness.pass(&token).await.status, StatusCode::OK);
    // Once the feed follows the events (a pass loaded before it started is
    // compared once more), take the store away: a pass no event named and
    // not due is still served as current, not "held during an outage"
    // (which would mean the store was asked).
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(harness.pass(&token).await.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(200)).await;
    harness.store.close().await;
    let answer = harness.pass(&token).await;
    assert_eq!(answer.status, StatusCode::OK);
    let metrics = harness.operator("/metrics").await;
    let text = String::from_utf8_lossy(&metrics.body);
    assert!(
        text.contains("sealpass_public_passes_held_during_outage_total 0"),
        "{text}"
    );
}

#[tokio::test]
async fn a_remembered_identity_token_is_still_refused_once_expired() {
    let harness = PublicHarness::new(support::Backend::Sqlite).await;
    let token = token("001"); // exp NOW + 3600, skew 60 s
    assert_eq!(harness.pass(&token).await.status, StatusCode::OK);
    assert_eq!(harness.pass(&token).await.status, StatusCode::OK);
    harness.set_now(NOW.plus(Seconds(3600 + 60)));
    let answer = harness.pass(&token).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.json()["error"], "token_expired");
    // Another person's token is another entry: its own subject.
    harness.set_now(NOW);
    let other = harness.pass(&public_support::token("003")).await.json();
    assert_eq!(other["masked_id"], "6101**********0001");
}

/// The safety net (`recheck_unchanged`) compares at most
/// `SAFETY_NET_READS` held passes with the store at once, and never makes
/// a request wait for it: with the store blocked (PostgreSQL: the
/// `subjects` table locked by another session), 24 citizens whose passes
/// all came due for the safety net together get their held passes at
/// once, twice over, while exactly `SAFETY_NET_READS` comparisons wait on
/// the store; they finish when it answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_a_few_safety_net_reads_run_at_once_and_none_is_waited_for() {
    use sealpass_issuer::read::passbook::SAFETY_NET_READS;
    use sealpass_issuer::store::Store;
    use sqlx::Connection as _;

    let url = support::postgres().fresh_database().await;
    let store = Store::open(&url).await.unwrap();
    store.migrate().await.unwrap();
    let harness = PublicHarness::over(store, support::StoreGuard::None, |settings| {
        // The feed answers every 500 ms (and is trusted for 2.5 s after):
        // only the safety net, after 1 s, compares an unchanged pass.
        settings.pass_recheck = Duration::from_millis(500);
        settings.pass_recheck_unchanged = Duration::from_secs(1);
        settings.limits.per_client_rate = 1e9;
        settings.limits.per_client_burst = 1_000_000_000;
    })
    .await;
    let people: String = (100..124)
        .map(|n| {
            let id = id_number(&format!("61010219900101{n:03}"));
            format!("XA-{n},市民{n},{id},green,3,2022-01-15,,\n")
        })
        .collect();
    let csv =
        format!("subject,name,id_number,colour,doses,last_dose,test_time,test_result\n{people}");
    let report = support::ingest_csv(&harness.store, Kind::Enrolments, &csv, "test", NOW).await;
    assert_eq!(report.applied, 24, "{report:?}");
    harness.signer.round(NOW, &|_| {}).await.unwrap();
    let tokens: Vec<String> = (100..124).map(|n| token(&n.to_string())).collect();

    // Loaded once the feed follows; then all come due together.
    tokio::time::sleep(Duration::from_millis(700)).await;
    for token in &tokens {
        assert_eq!(harness.pass(token).await.status, StatusCode::OK);
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;

    let mut blocker = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut blocker).await.unwrap();
    sqlx::query("LOCK TABLE subjects IN ACCESS EXCLUSIVE MODE")
        .execute(&mut blocker)
        .await
        .unwrap();
    let safety_net_reads = |metrics: &str| {
        metrics
            .lines()
            .find_map(|l| {
                l.strip_prefix("sealpass_public_passbook_store_reads_total{reason=\"safety_net\"} ")
            })
            .map_or(0, |n| n.parse::<usize>().unwrap())
    };
    for round in 0..2 {
        for token in &tokens {
            let answer = tokio::time::timeout(Duration::from_secs(10), harness.pass(token))
                .await
                .expect("a held pass is sent without waiting on the store");
            assert_eq!(answer.status, StatusCode::OK);
        }
        let metrics = String::from_utf8(harness.operator("/metrics").await.body).unwrap();
        assert_eq!(
            safety_net_reads(&metrics),
            SAFETY_NET_READS,
            "round {round}: the comparisons waiting on the store, and no more"
        );
    }

    // The store answers: the comparisons finish and give their reads back,
    // so the next passes due are compared in turn.
    sqlx::query("COMMIT").execute(&mut blocker).await.unwrap();
    let mut reads = SAFETY_NET_READS;
    for _ in 0..200 {
        for token in &tokens {
            assert_eq!(harness.pass(token).await.status, StatusCode::OK);
        }
        let metrics = String::from_utf8(harness.operator("/metrics").await.body).unwrap();
        reads = safety_net_reads(&metrics);
        if reads > SAFETY_NET_READS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(reads > SAFETY_NET_READS, "{reads}");
}

/// A resident id number: the 17 digits and their check character.
fn id_number(digits: &str) -> String {
    let leading: &[u8; 17] = digits.as_bytes().try_into().expect("17 digits");
    let check = sealpass_issuer::id_number::check_character(leading);
    format!("{digits}{}", check as char)
}
