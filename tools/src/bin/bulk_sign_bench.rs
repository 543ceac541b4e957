//! The bulk-signing benchmark of docs/performance.md ("Issuer: bulk
//! signing"): N synthetic subjects imported through the streamed ingestion
//! path, then all signed and stored by the signer, on SQLite and on
//! PostgreSQL (a throwaway cluster with production durability settings),
//! beside raw Ed25519 signing on the same number of threads measured in the
//! same run.
//!
//! A shared machine moves every rate, so it also reports what the load
//! cannot move: CPU time per stored pass (the signer process, and the
//! PostgreSQL server's processes) against CPU time per raw signature, and
//! how much of the machine other processes took during each phase.
//!
//! ```text
//! cargo run --release -p sealpass-tools --bin bulk_sign_bench -- 1000000 [sqlite,postgres]
//! ```

#[path = "../../../issuer/tests/support/mod.rs"]
mod support;

use sealpass_core::testkit::{self, NOW};
use sealpass_core::{Seconds, Timestamp};
use sealpass_issuer::population::{CsvChunks, Population};
use sealpass_issuer::store::Store;
use sealpass_issuer::write::ingest::{self, Format, Kind};
use sealpass_issuer::write::signer::{PassSigner, SignerConfig};
use std::time::{Duration, Instant};

const THREADS: usize = 2;

/// Raw Ed25519 signing on `threads` threads over a message the size of a
/// pass's Sig_structure.
struct RawSigning {
    /// Signatures per second.
    rate: f64,
    /// CPU seconds per signature.
    cpu: f64,
    /// Share of the machine's CPU other processes used meanwhile.
    others: f64,
}

fn raw_signing(threads: usize, duration: Duration) -> RawSigning {
    let key = testkit::City::new().active;
    let message = testkit::sample_claims(NOW).to_cbor();
    let mut sig_structure = b"\x84\x6aSignature1\x4d\xa2\x01\x32\x04\x48\x1f\x51\xfa\x5b\x85\x3a\x9f\x0d\x50sealpass pass v1\x58\x5b".to_vec();
    sig_structure.extend_from_slice(&message);
    let meter = CpuMeter::start(None);
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
    let rate = total as f64 / started.elapsed().as_secs_f64();
    let (ours, _, others, machine) = meter.stop();
    RawSigning {
        rate,
        cpu: ours / total as f64,
        others: others / machine.max(1e-9),
    }
}

/// CPU time (user + system) a process has used, in seconds, from /proc.
fn process_cpu(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the parenthesised command name: state is the first,
    // ppid the second, utime and stime the 12th and 13th.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap_or(0) + 2..]
        .split(' ')
        .collect();
    let ticks: f64 =
        fields[11].parse::<f64>().unwrap_or(0.0) + fields[12].parse::<f64>().unwrap_or(0.0);
    // SAFETY: sysconf has no preconditions.
    ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

fn parent_of(pid: u32) -> u32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat[stat.rfind(')').unwrap_or(0) + 2..]
        .split(' ')
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0)
}

/// CPU time of a PostgreSQL server: the postmaster and its children.
fn server_cpu(postmaster: u32) -> f64 {
    server_cpu_by_role(postmaster).values().sum()
}

/// CPU time of a PostgreSQL server's processes by their title: the
/// sessions, and each background process (`checkpointer`, `walwriter`,
/// `autovacuum worker`, ...).
fn server_cpu_by_role(postmaster: u32) -> std::collections::BTreeMap<String, f64> {
    let mut roles = std::collections::BTreeMap::new();
    roles.insert(
        "postmaster".to_string(),
        process_cpu(&postmaster.to_string()),
    );
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        if let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<u32>().ok())
            && parent_of(pid) == postmaster
        {
            let title = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let title = title
                .trim_end_matches('\0')
                .trim_start_matches("postgres: ");
            let role = if title.starts_with("sealpass ") {
                "sessions"
            } else {
                title.split(' ').next().unwrap_or("?")
            };
            *roles.entry(role.to_string()).or_insert(0.0) += process_cpu(&pid.to_string());
        }
    }
    roles
}

/// Busy and total CPU time of the whole machine, in seconds (/proc/stat).
fn machine_cpu() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|t| t.parse().ok())
        .collect();
    let total: f64 = ticks.iter().take(8).sum();
    let idle = ticks.get(3).unwrap_or(&0.0) + ticks.get(4).unwrap_or(&0.0);
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    ((total - idle) / hz, total / hz)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// CPU used during a phase: by this process, by the database server
/// (PostgreSQL), and by everything else on the machine.
struct CpuMeter {
    postmaster: Option<u32>,
    ours: f64,
    server: f64,
    machine: (f64, f64),
}

impl CpuMeter {
    fn start(postmaster: Option<u32>) -> CpuMeter {
        CpuMeter {
            postmaster,
            ours: process_cpu("self"),
            server: postmaster.map_or(0.0, server_cpu),
            machine: machine_cpu(),
        }
    }

    /// (ours, server, others, machine total) seconds since `start`.
    fn stop(&self) -> (f64, f64, f64, f64) {
        let ours = process_cpu("self") - self.ours;
        let server = self.postmaster.map_or(0.0, server_cpu) - self.server;
        let (busy, total) = machine_cpu();
        let busy = busy - self.machine.0;
        (
            ours,
            server,
            (busy - ours - server).max(0.0),
            total - self.machine.1,
        )
    }
}

async fn bench(name: &str, store: Store, subjects: u64, postmaster: Option<u32>) {
    let started = Instant::now();
    let source = CsvChunks::new(Population::new(2026, subjects, NOW));
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
    let import = format!(
        "{:.1} s ({:.0}/s)",
        started.elapsed().as_secs_f64(),
        subjects as f64 / started.elapsed().as_secs_f64()
    );

    let mut config = SignerConfig::new(testkit::ISSUER);
    config.threads = THREADS;
    let signer = PassSigner::new(store.clone(), support::issuer_key(), config).unwrap();
    let mut raw_before = raw_signing(THREADS, Duration::from_secs(5));
    // First passes for everyone, then the renewal round 17 hours later,
    // when every pass has less than the 8 hours left that make it due:
    // the whole city re-signed over passes already stored.
    for (round_name, now) in [
        ("first passes", NOW),
        ("every pass renewed", NOW.plus(Seconds::hours(17))),
    ] {
        let raw_after = measure_round(
            name,
            round_name,
            &import,
            &signer,
            now,
            subjects,
            postmaster,
            &raw_before,
        )
        .await;
        raw_before = raw_after;
        // A pass from the store verifies, so the figures are of real passes.
        let person = Population::new(2026, subjects, NOW).person(subjects / 2);
        let stored = store.subject(&person.subject).await.unwrap().unwrap();
        assert_eq!(stored.pass_issued_at, Some(now.0 as i64));
        let city = testkit::City::new();
        let policy = sealpass_core::CheckpointPolicy {
            name: "any".into(),
            colours: sealpass_core::Colour::ALL.to_vec(),
            max_test_age: None,
            min_doses: None,
            // The signature is what is checked here, not revocation.
            danger_accept_unchecked_revocation: true,
            require_live_code: false,
        };
        sealpass_core::Verifier::new(city.trusted(), &policy)
            .verify(stored.pass_text.as_deref().unwrap(), now)
            .expect("a stored pass verifies");
    }
}

/// One signer round over every subject at `now`, beside raw signing just
/// before (`raw_before`) and just after (measured here, and returned so
/// the next round can use it as its "before").
#[allow(clippy::too_many_arguments)]
async fn measure_round(
    name: &str,
    round_name: &str,
    import: &str,
    signer: &PassSigner,
    now: Timestamp,
    subjects: u64,
    postmaster: Option<u32>,
    before: &RawSigning,
) -> RawSigning {
    let load_before = load_average();
    let roles_before = postmaster.map(server_cpu_by_role).unwrap_or_default();
    eprintln!("{name}: {round_name}: the bulk round begins");
    let meter = CpuMeter::start(postmaster);
    let started = Instant::now();
    let round = signer
        .round(now, &|_| {})
        .await
        .expect("the bulk round succeeds");
    let sign_seconds = started.elapsed().as_secs_f64();
    let (ours, server, others, machine) = meter.stop();
    let load_after = load_average();
    if let Some(postmaster) = postmaster {
        for (role, cpu) in server_cpu_by_role(postmaster) {
            eprintln!(
                "  {role}: {:.1} s",
                cpu - roles_before.get(&role).unwrap_or(&0.0)
            );
        }
    }
    assert_eq!(round.stored, subjects);
    let after = raw_signing(THREADS, Duration::from_secs(5));
    let raw = (before.rate + after.rate) / 2.0;
    let raw_cpu = (before.cpu + after.cpu) / 2.0;
    let rate = subjects as f64 / sign_seconds;
    println!(
        "| {name} | {round_name} | {subjects} | {import} | {sign_seconds:.1} s | {rate:.0}/s | {raw:.0}/s ({:.0} before, {:.0} after) | **{:.2}** | {:.2} |",
        before.rate,
        after.rate,
        rate / raw,
        raw_cpu * subjects as f64 / (ours + server),
    );
    eprintln!(
        "{name}: {round_name}: stages busy: read+reserve {:.1} s, sign {:.1} s, store {:.1} s (of {sign_seconds:.1} s)",
        round.read_seconds, round.sign_seconds, round.write_seconds
    );
    let per_pass = |seconds: f64| seconds * 1e6 / subjects as f64;
    eprintln!(
        "{name}: {round_name}: CPU per stored pass: {:.1} µs in the signer process + {:.1} µs in \
         the database server = {:.1} µs, against {:.1} µs per raw signature: CPU ratio {:.2}",
        per_pass(ours),
        per_pass(server),
        per_pass(ours + server),
        raw_cpu * 1e6,
        raw_cpu * 1e6 / per_pass(ours + server),
    );
    eprintln!(
        "{name}: {round_name}: other processes used {:.0}% of the machine's CPU during raw \
         before, {:.0}% during the round, {:.0}% during raw after; load average {load_before} \
         before the round, {load_after} after",
        100.0 * before.others,
        100.0 * others / machine.max(1e-9),
        100.0 * after.others,
    );
    after
}

/// Import and bulk-sign SUBJECTS synthetic subjects on each store, beside
/// raw Ed25519 signing on the same threads; prints a Markdown table
/// (docs/performance.md, "Issuer: bulk signing").
#[derive(clap::Parser)]
struct Args {
    /// Subjects to import and sign
    #[arg(default_value_t = 1_000_000)]
    subjects: u64,
    /// Stores to measure, comma-separated: sqlite, postgres (a throwaway
    /// cluster started for the run, Debian's postgresql package)
    #[arg(default_value = "sqlite,postgres")]
    backends: String,
}

fn main() {
    let Args { subjects, backends } = clap::Parser::parse();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    println!(
        "| store | round | subjects | import (streamed CSV) | bulk signing | passes signed and stored | raw Ed25519 sign, {THREADS} threads | ratio | CPU ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for backend in backends.split(',') {
        runtime.block_on(async {
            match backend {
                "sqlite" => {
                    let dir = tempfile::tempdir().unwrap();
                    let store = Store::open(dir.path().join("bench.db").to_str().unwrap())
                        .await
                        .unwrap();
                    store.migrate().await.unwrap();
                    bench("SQLite (WAL, synchronous=FULL)", store, subjects, None).await;
                }
                "postgres" => {
                    let cluster = support::Cluster::start(true);
                    let url = cluster.fresh_database().await;
                    let store = Store::open(&url).await.unwrap();
                    store.migrate().await.unwrap();
                    let postmaster = {
                        use sqlx::Connection;
                        let mut connection = sqlx::PgConnection::connect(&url).await.unwrap();
                        let backend: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
                            .fetch_one(&mut connection)
                            .await
                            .unwrap();
                        parent_of(backend as u32)
                    };
                    bench(
                        "PostgreSQL 15 (fsync on, same machine)",
                        store.clone(),
                        subjects,
                        Some(postmaster),
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
