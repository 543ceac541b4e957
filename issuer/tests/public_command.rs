//! `sealpass-issuer public` as an operator runs it: the real binary over a
//! real SQLite store, configured by a file (an identity provider's JWKS,
//! limits) with a flag overriding it; a citizen's token downloads the
//! pass; the logs are JSON lines with request ids and nothing personal;
//! SIGTERM stops it cleanly, after answering a request in flight.

mod public_support;
mod support;

use public_support::http::{get_request, loopback, send_patiently as send};
use public_support::{ISSUER, PEOPLE_CSV, ed_key};
use sealpass_core::Timestamp;
use sealpass_issuer::read::public::auth::{ed25519_jwk, sign_eddsa};
use sealpass_issuer::store::Store;
use sealpass_issuer::write::ingest::Kind;
use sealpass_issuer::write::signer::{PassSigner, SignerConfig};
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_sealpass-issuer");

fn now() -> Timestamp {
    Timestamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_command_serves_configured_logins_logs_json_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("issuer.db");
    let store = Store::open(db.to_str().unwrap()).await.unwrap();
    store.migrate().await.unwrap();
    let now = now();
    support::ingest_csv(&store, Kind::Enrolments, PEOPLE_CSV, "test", now).await;
    let signer = PassSigner::new(
        store.clone(),
        support::issuer_key(),
        SignerConfig::new(ISSUER),
    )
    .unwrap();
    assert_eq!(signer.round(now, &|_| {}).await.unwrap().stored, 3);
    store.close().await;

    let jwks = serde_json::json!({"keys": [ed25519_jwk(&ed_key().verifying_key(), "sso-2026")]});
    std::fs::write(dir.path().join("sso-jwks.json"), jwks.to_string()).unwrap();
    std::fs::write(
        dir.path().join("public.toml"),
        "listen = \"127.0.0.1:1\"\n\
         [limits]\nmax_in_flight = 64\n\
         [[identity_provider]]\nissuer = \"https://sso.example\"\naudience = \"sealpass\"\n\
         jwks_file = \"sso-jwks.json\"\nsubject_template = \"XA-{sub}\"\n",
    )
    .unwrap();
    let mut child = Command::new(BIN)
        .arg("--store")
        .arg(&db)
        .args(["public", "--listen", "127.0.0.1:0", "--config"])
        .arg(dir.path().join("public.toml"))
        .env_remove("SEALPASS_LOG_FORMAT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let addr: SocketAddr = line
        .trim()
        .strip_prefix("public API listening on http://")
        .unwrap_or_else(|| panic!("{line}"))
        .parse()
        .unwrap();

    let token = sign_eddsa(
        &ed_key(),
        "sso-2026",
        &serde_json::json!({"iss": "https://sso.example", "aud": "sealpass", "sub": "001",
                            "exp": now.0 + 600, "iat": now.0}),
    );
    let pass = send(addr, loopback(1), get_request("/api/v1/pass", Some(&token))).await;
    assert_eq!(pass.status, 200, "{}", pass.text());
    assert_eq!(pass.json()["masked_name"], "张*明");
    let refused = send(
        addr,
        loopback(1),
        get_request("/api/v1/pass", Some("x.y.z")),
    )
    .await;
    assert_eq!(refused.status, 401);
    assert_eq!(
        send(addr, loopback(1), get_request("/readyz", None))
            .await
            .status,
        200
    );

    // SIGTERM with a request in flight: half its head sent. The server
    // stops accepting, answers it, and only then stops.
    let head = format!(
        "GET /api/v1/pass HTTP/1.1\r\nhost: sealpass\r\nauthorization: Bearer {token}\r\n\r\n"
    );
    let (first, rest) = head.split_at(head.len() / 2);
    let answer = support::sigterm_with_request_in_flight(
        &mut child,
        addr,
        first.as_bytes(),
        rest.as_bytes(),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"masked_name\":\"张*明\""), "{answer}");
    let status = support::wait_for_exit(&mut child, Duration::from_secs(20));
    assert!(status.success(), "{status}");

    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {l}"))
        })
        .collect();
    let requests: Vec<_> = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "request")
        .collect();
    assert_eq!(requests.len(), 4, "{logs}");
    for request in &requests {
        assert!(request["span"]["request_id"].is_string(), "{request}");
        assert!(request["fields"]["route"].is_string(), "{request}");
    }
    assert!(
        lines.iter().any(|l| l["fields"]["message"] == "stopped"),
        "{logs}"
    );
    for secret in ["XA-001", "张", &token, "SP1:", "127.0.0.1:"] {
        let leaked = lines
            .iter()
            .filter(|l| {
                !l["fields"]["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("listening")
            })
            .any(|l| l.to_string().contains(secret));
        assert!(!leaked, "the logs hold {secret:?}: {logs}");
    }
}
