//! Crash safety of the real binary on SQLite: the admin API server is
//! killed with SIGKILL in the middle of ingestion batches, round after
//! round, and so is the signer in the middle of signing, and the public
//! API in the middle of device bindings (issue 18); after each kill they
//! are restarted. At the end, every event whose batch was acknowledged
//! (HTTP 200) is in the log exactly once, every acknowledged binding is
//! the subject's bound device with one `bind` event (a binding cut off is
//! sent again, as the page does, and binds once), the signer finishes
//! what the killed ones left (no subject unsigned or signed from an old
//! status, every bound subject's pass carries its phone's key), and no
//! revocation index is shared by two passes.
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
    start_role(
        issuer(dir).args(["serve", "--listen", "127.0.0.1:0"]),
        "serve",
    )
}

/// Spawn a role whose first line of output ends with its address; the
/// child and that address.
fn start_role(command: &mut Command, role: &str) -> (Child, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{role} starts: {e}"));
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .unwrap_or_else(|e| panic!("{role} prints its address: {e}"));
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

/// The identity provider whose tokens the public API accepts in this test.
fn idp_key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[31; 32])
}

/// The public API's configuration: the test's identity provider (subjects
/// as the token's `sub`), binding on, no limits that a test would meet.
fn public_config(dir: &Path) -> std::path::PathBuf {
    let jwks = serde_json::json!({"keys": [sealpass_issuer::read::public::auth::ed25519_jwk(
        &idp_key().verifying_key(), "crash-idp")]});
    std::fs::write(dir.join("idp-jwks.json"), jwks.to_string()).unwrap();
    let config = dir.join("public.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:0\"\n\
         [limits]\nper_client_rate = 100000.0\nper_client_burst = 100000\n\
         [device_binding]\nenabled = true\nmax_new_devices_per_day = 1000\nchallenge_lifetime = \"1h\"\n\
         [[identity_provider]]\nissuer = \"https://idp.crash.example\"\naudience = \"sealpass\"\n\
         jwks_file = \"idp-jwks.json\"\n",
    )
    .unwrap();
    config
}

fn identity_token(subject: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    sealpass_issuer::read::public::auth::sign_eddsa(
        &idp_key(),
        "crash-idp",
        &serde_json::json!({"iss": "https://idp.crash.example", "aud": "sealpass", "sub": subject,
                            "iat": now - 60, "exp": now + 3600}),
    )
}

/// Start `public` with `config`; the child and its address.
fn start_public(dir: &Path, config: &Path) -> (Child, String) {
    start_role(
        issuer(dir).arg("public").arg("--config").arg(config),
        "public",
    )
}

/// One request to the public API: the status and body, or None if the
/// connection broke.
fn public_request(
    address: &str,
    method: &str,
    path: &str,
    subject: &str,
    body: &str,
) -> Option<(String, String)> {
    let mut stream = TcpStream::connect(address).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        identity_token(subject),
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.to_owned();
    let body = response
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    Some((status, body))
}

/// A device binding as the citizen page sends it: the subject, the
/// phone, and the `PUT /api/v1/device` body over a challenge.
struct Binding {
    subject: String,
    phone: ed25519_dalek::SigningKey,
    body: String,
}

/// Ask for a challenge and make the binding of `phone` to `subject`;
/// None if the public API did not answer.
fn new_binding(address: &str, subject: &str, phone: ed25519_dalek::SigningKey) -> Option<Binding> {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use sealpass_issuer::read::public::binding::proof::{KeyType, binding_message};
    let (status, body) = public_request(address, "POST", "/api/v1/device/challenge", subject, "")?;
    assert_eq!(status, "200", "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    let challenge = answer["challenge"].as_str().unwrap();
    let public_key = phone.verifying_key().to_bytes();
    let message = binding_message(
        &URL_SAFE_NO_PAD.decode(challenge).unwrap(),
        subject,
        KeyType::Ed25519,
        &public_key,
    );
    let signature = ed25519_dalek::Signer::sign(&phone, &message).to_bytes();
    let body = serde_json::json!({"challenge": challenge, "key_type": "Ed25519",
        "public_key": URL_SAFE_NO_PAD.encode(public_key),
        "signature": URL_SAFE_NO_PAD.encode(signature)})
    .to_string();
    Some(Binding {
        subject: subject.to_owned(),
        phone,
        body,
    })
}

/// Send a binding: Some(true) when acknowledged (200), None if the
/// connection broke.
fn send_binding(address: &str, binding: &Binding) -> Option<bool> {
    let (status, body) = public_request(
        address,
        "PUT",
        "/api/v1/device",
        &binding.subject,
        &binding.body,
    )?;
    assert!(status == "200" || status == "503", "{status} {body}");
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
    let config = public_config(dir);
    // Each binding is of a subject of its own, so each acknowledged one
    // must be its subject's bound device at the end.
    let mut to_bind = subjects.iter();
    let mut phones = 0u32;
    let mut bound: Vec<Binding> = Vec::new();
    let mut unbound: Vec<Binding> = Vec::new(); // cut off: to send again

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
        let (mut public, public_address) = start_public(dir, &config);
        let pid = server.id() as i32;
        let public_pid = public.id() as i32;
        let delay = Duration::from_millis(20 + dice.below(180));
        let killer = std::thread::spawn(move || {
            std::thread::sleep(delay);
            // SAFETY: kill(2) on our own children's pids, not yet reaped.
            unsafe {
                libc::kill(public_pid, libc::SIGKILL);
                libc::kill(pid, libc::SIGKILL);
            }
        });
        loop {
            // A phone binds beside the batches, now and then; every third
            // round only phones bind, so that kills cut bindings off too.
            let phones_only = round % 3 == 1;
            if phones_only || dice.below(2) == 0 {
                let binding = match unbound.pop() {
                    Some(binding) => Some(binding),
                    None => to_bind.next().and_then(|subject| {
                        phones += 1;
                        new_binding(
                            &public_address,
                            subject,
                            testkit::device_key(&format!("phone {phones}")),
                        )
                    }),
                };
                if let Some(binding) = binding {
                    match send_binding(&public_address, &binding) {
                        Some(true) => bound.push(binding),
                        _ => {
                            unbound.push(binding);
                            if phones_only {
                                interrupted += 1;
                                break;
                            }
                        }
                    }
                    if phones_only {
                        continue;
                    }
                }
            }
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
        let _ = public.wait();
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
    // And the bindings cut off, as the page sends them again.
    let cut_off = unbound.len();
    let (mut public, public_address) = start_public(dir, &config);
    while let Some(binding) = unbound.pop() {
        assert_eq!(send_binding(&public_address, &binding), Some(true));
        bound.push(binding);
    }
    kill(&mut public);
    assert!(bound.len() >= 10, "only {} bindings", bound.len());

    // The signer resumes and finishes.
    run_ok(issuer(dir).args(["sign", "once", "--key-card"]).arg(&card));
    eprintln!(
        "{rounds} rounds in {:.1} s; {} events acknowledged; {interrupted} batches cut off by the kill; \
         {} bindings, {cut_off} cut off and sent again",
        started.elapsed().as_secs_f64(),
        acknowledged.len(),
        bound.len()
    );
    assert_eq!(
        interrupted, rounds,
        "every round ends with a batch or a binding cut off"
    );

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

        // Every binding: its subject's device, bound by one event.
        let binds: BTreeMap<String, (i64, Option<String>)> = sqlx::query_as::<_, (String, i64, Option<String>)>(
            "SELECT s.subject, (SELECT COUNT(*) FROM status_events e WHERE e.subject_id = s.id AND e.kind = 'bind'), \
             s.holder_key FROM subjects s",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
        .into_iter()
        .map(|(subject, n, key)| (subject, (n, key)))
        .collect();
        for binding in &bound {
            let key = hex::encode(binding.phone.verifying_key().to_bytes());
            assert_eq!(binds[&binding.subject], (1, Some(key)), "a binding was lost or made twice");
        }
        assert_eq!(binds.values().filter(|(n, _)| *n > 0).count(), bound.len());

        let stats = store.stats().await.unwrap();
        assert_eq!(stats.subjects, SUBJECTS as i64);
        assert_eq!((stats.signed, stats.current), (stats.subjects, stats.subjects), "{stats:?}");
        let pages: Vec<Vec<u8>> = sqlx::query_scalar("SELECT slots FROM pass_pages")
            .fetch_all(&pool)
            .await
            .unwrap();
        let mut indices = Vec::new();
        let mut holders = BTreeSet::new();
        for slots in pages {
            let page = sealpass_issuer::store::pages::PassPage::decode(&slots).unwrap();
            indices.extend(page.iter().map(|(_, pass)| pass.revocation_index));
            for (_, pass) in page.iter() {
                let sign1 = sealpass_core::cose::parse_sign1(&pass.cose).unwrap();
                let claims = sealpass_core::PassClaims::from_cbor(sign1.payload).unwrap();
                holders.extend(claims.holder.map(|key| hex::encode(key.to_bytes())));
            }
        }
        // The signer signed every bound subject a pass with its phone's key.
        let phones: BTreeSet<String> = bound
            .iter()
            .map(|b| hex::encode(b.phone.verifying_key().to_bytes()))
            .collect();
        assert_eq!(holders, phones);
        let passes = indices.len();
        indices.sort_unstable();
        indices.dedup();
        assert_eq!(indices.len(), passes, "revocation indices shared by several passes");
        let status_list = store.status_list("CN-610100").await.unwrap();
        assert!(status_list.is_some(), "the signer signed a status list");
        pool.close().await;
    });
}
