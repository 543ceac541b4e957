//! Crash safety of the real binary on SQLite: the admin API server is
//! killed with SIGKILL in the middle of ingestion batches, round after
//! round, and so is the signer in the middle of signing; after each kill
//! both are restarted. At the end, every event whose batch was
//! acknowledged (HTTP 200) is in the log exactly once, the signer finishes
//! what the killed ones left (no subject unsigned or signed from an old
//! status), and no revocation index is shared by two passes.
//!
//! Rounds: 50 here; `SEALPASS_CRASH_ROUNDS` sets more (scripts/issuer-crash-soak).

mod sealed_key;

use sealpass_core::testkit;
use sealpass_issuer::population::Population;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_sealpass-issuer");
const PASSPHRASE: &str = "crash-test passphrase, public";
const SUBJECTS: u64 = 300;

fn issuer(dir: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .env("SEALPASS_STORE", dir.join("issuer.db"))
        .env("SEALPASS_LOG", "warn")
        .env("SEALPASS_PASSPHRASE", PASSPHRASE)
        .stdin(Stdio::null());
    command
}

fn run_ok(command: &mut Command) -> String {
    let output = command.output().expect("the issuer binary runs");
    assert!(
        output.status.success(),
        "{:?} failed: {}",
        command,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// A small deterministic generator for delays and choices.
struct Dice(u64);

impl Dice {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

/// Start `serve` on a free loopback port; returns the child and its address.
fn start_server(dir: &Path) -> (Child, String) {
    let mut child = issuer(dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("serve prints its address");
    let address = line
        .trim()
        .rsplit("http://")
        .next()
        .expect("an address")
        .to_owned();
    (child, address)
}

/// POST a batch; Some(true) on 200, Some(false) on another answer, None if
/// the connection broke (the server was killed).
fn post(address: &str, token: &str, body: &str) -> Option<bool> {
    let mut stream = TcpStream::connect(address).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    let request = format!(
        "POST /admin/v1/status HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/x-ndjson\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?;
    Some(status == "200")
}

fn kill(child: &mut Child) {
    // SIGKILL: no chance to flush or clean up.
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn acknowledged_events_survive_sigkill_exactly_once_and_the_signer_resumes() {
    let rounds: u64 = std::env::var("SEALPASS_CRASH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(50);
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    run_ok(issuer(dir).arg("migrate"));
    let token = run_ok(issuer(dir).args([
        "token",
        "create",
        "--name",
        "crash",
        "--scope",
        "status:write",
    ]))
    .trim()
    .to_owned();
    let people = dir.join("people.csv");
    let population = Population::new(99, SUBJECTS, testkit::NOW);
    let subjects: Vec<String> = Population::new(99, SUBJECTS, testkit::NOW)
        .map(|p| p.subject)
        .collect();
    let mut csv = format!("{}\n", Population::CSV_HEADER);
    for person in population {
        csv.push_str(&person.csv());
        csv.push('\n');
    }
    std::fs::write(&people, csv).unwrap();
    run_ok(issuer(dir).args(["import", "subjects"]).arg(&people));
    let card = sealed_key::sealed_issuer_key(dir, PASSPHRASE);

    let mut dice = Dice(2026);
    let mut acknowledged: BTreeSet<String> = BTreeSet::new();
    let mut unacknowledged: Vec<String> = Vec::new(); // batches to send again
    let mut batch_no = 0u64;
    let mut interrupted = 0u64;
    let started = Instant::now();
    for round in 0..rounds {
        let (mut server, address) = start_server(dir);
        // Every other round a signer runs too, and is killed at its own moment.
        let mut signer = (round % 2 == 0).then(|| {
            issuer(dir)
                .args(["sign", "once", "--key-card"])
                .arg(&card)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("the signer starts")
        });
        let pid = server.id() as i32;
        let delay = Duration::from_millis(20 + dice.below(180));
        let killer = std::thread::spawn(move || {
            std::thread::sleep(delay);
            // SAFETY: kill(2) on our own child's pid, not yet reaped.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        });
        loop {
            let body = match unacknowledged.pop() {
                Some(body) => body,
                None => {
                    batch_no += 1;
                    (0..20)
                        .map(|i| {
                            let subject = &subjects[dice.below(SUBJECTS) as usize];
                            let colour = ["green", "yellow", "red"][dice.below(3) as usize];
                            format!(
                                "{{\"key\":\"b{batch_no}-{i}\",\"subject\":\"{subject}\",\"colour\":\"{colour}\"}}\n"
                            )
                        })
                        .collect()
                }
            };
            match post(&address, &token, &body) {
                Some(true) => {
                    for line in body.lines() {
                        let key = line.split('"').nth(3).expect("a key").to_owned();
                        acknowledged.insert(key);
                    }
                }
                Some(false) | None => {
                    unacknowledged.push(body);
                    interrupted += 1;
                    break;
                }
            }
        }
        killer.join().unwrap();
        let _ = server.wait();
        if let Some(signer) = signer.as_mut() {
            std::thread::sleep(Duration::from_millis(dice.below(100)));
            kill(signer);
        }
    }
    // One last server, to send what was never acknowledged.
    let (mut server, address) = start_server(dir);
    while let Some(body) = unacknowledged.pop() {
        assert_eq!(post(&address, &token, &body), Some(true));
        for line in body.lines() {
            acknowledged.insert(line.split('"').nth(3).unwrap().to_owned());
        }
    }
    kill(&mut server);
    assert!(
        acknowledged.len() >= 200,
        "only {} events acknowledged",
        acknowledged.len()
    );

    // The signer resumes and finishes.
    run_ok(issuer(dir).args(["sign", "once", "--key-card"]).arg(&card));
    eprintln!(
        "{rounds} rounds in {:.1} s; {} events acknowledged; {interrupted} batches cut off by the kill",
        started.elapsed().as_secs_f64(),
        acknowledged.len()
    );
    assert_eq!(interrupted, rounds, "every round ends with a batch cut off");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let url = dir.join("issuer.db");
        let store = sealpass_issuer::store::Store::open(url.to_str().unwrap()).await.unwrap();
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", url.display())).await.unwrap();
        let logged: Vec<(String, i64)> = sqlx::query_as(
            "SELECT idempotency_key, COUNT(*) FROM status_events WHERE kind = 'status' GROUP BY idempotency_key",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        let logged: BTreeMap<String, i64> = logged.into_iter().collect();
        for key in &acknowledged {
            assert_eq!(logged.get(key), Some(&1), "acknowledged event {key} is not in the log exactly once");
        }
        // Nothing was logged that no one sent.
        assert!(logged.keys().all(|k| k.starts_with('b')));

        let stats = store.stats().await.unwrap();
        assert_eq!(stats.subjects, SUBJECTS as i64);
        assert_eq!((stats.signed, stats.current), (stats.subjects, stats.subjects), "{stats:?}");
        let pages: Vec<Vec<u8>> = sqlx::query_scalar("SELECT slots FROM pass_pages")
            .fetch_all(&pool)
            .await
            .unwrap();
        let mut indices = Vec::new();
        for slots in pages {
            let page = sealpass_issuer::store::pages::PassPage::decode(&slots).unwrap();
            indices.extend(page.iter().map(|(_, pass)| pass.revocation_index));
        }
        let passes = indices.len();
        indices.sort_unstable();
        indices.dedup();
        assert_eq!(indices.len(), passes, "revocation indices shared by several passes");
        let status_list = store.status_list("CN-610100").await.unwrap();
        assert!(status_list.is_some(), "the signer signed a status list");
        pool.close().await;
    });
}
