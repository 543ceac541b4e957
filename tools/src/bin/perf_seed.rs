//! Seed a store for the performance harness (`scripts/perf/run`, issue 8):
//! COUNT synthetic subjects (the population of `sealpass-issuer
//! population --seed SEED`) imported through the streamed ingestion path,
//! then every pass signed and stored by the bulk signer with the test
//! city's development issuer key (sealpass-core's testkit: public, never
//! for real passes), at the current time, so the passes are valid for the
//! next day. Idempotent: a store that already holds COUNT signed passes
//! of this population is left as it is.
//!
//! ```text
//! cargo run --release -p sealpass-tools --bin perf_seed -- STORE_URL [COUNT] [SEED]
//!   STORE_URL  an SQLite path or postgres://USER@HOST:PORT/DB (as --store)
//!   COUNT      subjects, default 1000000
//!   SEED       population seed, default 2026 (perf_tokens must use the same)
//! ```
//!
//! Prints one line: `seeded STORE subjects=N signed=N import_s=... sign_s=...`.

use sealpass_core::Timestamp;
use sealpass_core::testkit;
use sealpass_issuer::population::{CsvChunks, Population};
use sealpass_issuer::store::Store;
use sealpass_issuer::write::ingest::{self, Format, Kind};
use sealpass_issuer::write::signer::{IssuerKey, PassSigner, SignerConfig};
use std::sync::Arc;
use std::time::Instant;

fn now() -> Timestamp {
    Timestamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("the clock is after 1970")
            .as_secs(),
    )
}

/// Seed a store with COUNT synthetic subjects, every pass signed with the
/// test city's development key (never for real passes). Idempotent.
#[derive(clap::Parser)]
struct Args {
    /// The store: an SQLite path or postgres://USER@HOST:PORT/DB (as --store)
    #[arg(value_name = "STORE_URL")]
    url: String,
    /// Subjects
    #[arg(default_value_t = 1_000_000)]
    count: u64,
    /// Population seed (perf_tokens must use the same)
    #[arg(default_value_t = 2026)]
    seed: u64,
}

#[tokio::main]
async fn main() {
    let Args { url, count, seed } = clap::Parser::parse();
    let store = Store::open(&url).await.expect("the store opens");
    store.migrate().await.expect("the store migrates");
    let now = now();

    let before = store.stats().await.expect("stats");
    let mut import_seconds = 0.0;
    if (before.subjects as u64) < count {
        let started = Instant::now();
        let source = CsvChunks::new(Population::new(seed, count, now));
        let report = ingest::ingest(
            &store,
            Kind::Enrolments,
            Format::Csv,
            source,
            "perf-seed",
            now,
            &mut |_| {},
        )
        .await
        .expect("the import succeeds");
        assert_eq!(report.rejected, 0, "no row is refused");
        import_seconds = started.elapsed().as_secs_f64();
    }

    let mut config = SignerConfig::new(testkit::ISSUER);
    config.threads = 2;
    let key = IssuerKey::new(Arc::new(testkit::City::new().active));
    let signer = PassSigner::new(store.clone(), key, config).expect("a signer");
    let started = Instant::now();
    let round = signer.round(now, &|_| {}).await.expect("the bulk round");
    let sign_seconds = started.elapsed().as_secs_f64();
    let after = store.stats().await.expect("stats");
    // The last person of the population has a pass: the seed is complete.
    let last = Population::new(seed, count, now).person(count - 1);
    let held = store
        .subject(&last.subject)
        .await
        .expect("a read")
        .and_then(|s| s.pass_text)
        .is_some();
    assert!(held, "the population's last subject has a pass");
    println!(
        "seeded {} subjects={} signed={} newly_signed={} import_s={import_seconds:.1} sign_s={sign_seconds:.1}",
        sealpass_issuer::store::redact_url(&url),
        after.subjects,
        after.signed,
        round.stored
    );
    store.close().await;
}
