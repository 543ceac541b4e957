//! The bulk-signing benchmark of docs/performance.md ("Issuer: bulk
//! signing"): N synthetic subjects imported through the streamed ingestion
//! path, then all signed and stored by the signer, on SQLite and on
//! PostgreSQL (a throwaway cluster with production durability settings),
//! beside raw Ed25519 signing on the same number of threads measured in the
//! same run.
//!
//! ```text
//! cargo run --release -p sealpass-issuer --example bulk_sign_bench -- 1000000
//! ```

#[path = "../tests/support/mod.rs"]
mod support;

use sealpass_core::testkit::{self, NOW};
use sealpass_issuer::ingest::{self, ByteSource, Format, Kind};
use sealpass_issuer::population::Population;
use sealpass_issuer::signer::{PassSigner, SignerConfig};
use sealpass_issuer::store::Store;
use std::time::{Duration, Instant};

const THREADS: usize = 2;

/// The population as a stream of CSV chunks: never all in memory.
struct PopulationSource {
    people: Population,
    header: bool,
}

impl ByteSource for PopulationSource {
    async fn next_chunk(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        let mut chunk = Vec::with_capacity(1 << 20);
        if !self.header {
            self.header = true;
            chunk.extend_from_slice(Population::CSV_HEADER.as_bytes());
            chunk.push(b'\n');
        }
        for person in self.people.by_ref() {
            chunk.extend_from_slice(person.csv().as_bytes());
            chunk.push(b'\n');
            if chunk.len() > (1 << 20) - 200 {
                break;
            }
        }
        Ok((!chunk.is_empty()).then_some(chunk))
    }
}

/// Raw Ed25519 signatures per second on `threads` threads over a message
/// the size of a pass's Sig_structure.
fn raw_signing_rate(threads: usize, duration: Duration) -> f64 {
    let key = testkit::key("issuer CN-610100 2026");
    let message = testkit::sample_claims(NOW).to_cbor();
    let mut sig_structure = b"\x84\x6aSignature1\x4d\xa2\x01\x32\x04\x48\x1f\x51\xfa\x5b\x85\x3a\x9f\x0d\x50sealpass pass v1\x58\x5b".to_vec();
    sig_structure.extend_from_slice(&message);
    let started = Instant::now();
    let total: u64 = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let key = &key;
                let sig_structure = &sig_structure;
                scope.spawn(move || {
                    let mut n = 0u64;
                    while started.elapsed() < duration {
                        for _ in 0..100 {
                            std::hint::black_box(ed25519_dalek::Signer::sign(key, sig_structure));
                        }
                        n += 100;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    total as f64 / started.elapsed().as_secs_f64()
}

async fn bench(name: &str, store: Store, subjects: u64) {
    let started = Instant::now();
    let source = PopulationSource {
        people: Population::new(2026, subjects, NOW),
        header: false,
    };
    let report = ingest::ingest(
        &store,
        Kind::Enrolments,
        Format::Csv,
        source,
        "bench",
        NOW,
        &mut |_| {},
    )
    .await
    .expect("the import succeeds");
    assert_eq!(report.applied, subjects);
    let import_seconds = started.elapsed().as_secs_f64();

    let raw_before = raw_signing_rate(THREADS, Duration::from_secs(5));
    let mut config = SignerConfig::new(testkit::ISSUER);
    config.threads = THREADS;
    let signer = PassSigner::new(store.clone(), support::issuer_key(), config).unwrap();
    let started = Instant::now();
    let round = signer
        .round(NOW, &|_| {})
        .await
        .expect("the bulk round succeeds");
    let sign_seconds = started.elapsed().as_secs_f64();
    assert_eq!(round.stored, subjects);
    let raw_after = raw_signing_rate(THREADS, Duration::from_secs(5));
    let raw = (raw_before + raw_after) / 2.0;
    let rate = subjects as f64 / sign_seconds;
    println!(
        "| {name} | {subjects} | {import_seconds:.1} s ({:.0}/s) | {sign_seconds:.1} s | {rate:.0}/s | {raw:.0}/s ({raw_before:.0} before, {raw_after:.0} after) | **{:.2}** |",
        subjects as f64 / import_seconds,
        rate / raw
    );
    eprintln!(
        "{name}: stages busy: read+reserve {:.1} s, sign {:.1} s, store {:.1} s (of {sign_seconds:.1} s)",
        round.read_seconds, round.sign_seconds, round.write_seconds
    );
    // A pass from the store verifies, so the figures are of real passes.
    let person = Population::new(2026, subjects, NOW).person(subjects / 2);
    let stored = store.subject(&person.subject).await.unwrap().unwrap();
    let city = testkit::Ceremony::new();
    let policy = sealpass_core::CheckpointPolicy {
        name: "any".into(),
        colours: sealpass_core::Colour::ALL.to_vec(),
        max_test_age: None,
        min_doses: None,
    };
    sealpass_core::Verifier::new(&city.trusted, &policy)
        .verify(stored.pass_text.as_deref().unwrap(), NOW)
        .expect("a stored pass verifies");
}

fn main() {
    let subjects: u64 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let backends = std::env::args()
        .nth(2)
        .unwrap_or_else(|| "sqlite,postgres".into());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    println!(
        "| store | subjects | import (streamed CSV) | bulk signing | passes signed and stored | raw Ed25519 sign, {THREADS} threads | ratio |"
    );
    println!("|---|---|---|---|---|---|---|");
    for backend in backends.split(',') {
        runtime.block_on(async {
            match backend {
                "sqlite" => {
                    let dir = tempfile::tempdir().unwrap();
                    let store = Store::open(dir.path().join("bench.db").to_str().unwrap())
                        .await
                        .unwrap();
                    store.migrate().await.unwrap();
                    bench("SQLite (WAL, synchronous=FULL)", store, subjects).await;
                }
                "postgres" => {
                    let cluster = support::Cluster::start(true);
                    let url = cluster.fresh_database().await;
                    let store = Store::open(&url).await.unwrap();
                    store.migrate().await.unwrap();
                    bench(
                        "PostgreSQL 15 (fsync on, same machine)",
                        store.clone(),
                        subjects,
                    )
                    .await;
                    store.close().await;
                    cluster.stop();
                }
                other => panic!("unknown backend {other}"),
            }
        });
    }
}
