//! `sealpass-issuer serve` (the admin role) stopped with SIGTERM while a
//! health authority is still uploading a batch: the batch is read to its
//! end, stored and acknowledged, and only then does the process stop. New
//! connections are refused from the signal on.

mod support;

use sealpass_issuer::store::Store;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_sealpass-issuer");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_an_upload_stores_and_acknowledges_it_then_stops() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("issuer.db");
    let made = support::create_token_by_cli(BIN, &db, "cdc-xian", "subjects:import");
    let printed = String::from_utf8(made.stdout).unwrap();
    let token = printed
        .split_whitespace()
        .find(|word| word.starts_with("spa_"))
        .unwrap_or_else(|| panic!("no token printed: {printed}"))
        .to_owned();

    let mut child = Command::new(BIN)
        .arg("--store")
        .arg(&db)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr: SocketAddr = line
        .trim()
        .strip_prefix("admin API listening on http://")
        .unwrap_or_else(|| panic!("{line}"))
        .parse()
        .unwrap();

    let body = support::PEOPLE_CSV.as_bytes();
    let head = format!(
        "POST /admin/v1/subjects HTTP/1.1\r\nhost: sealpass\r\nauthorization: Bearer {token}\r\n\
         content-type: text/csv\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let (first, rest) = body.split_at(body.len() / 2);
    let answer = support::sigterm_with_request_in_flight(
        &mut child,
        addr,
        &[head.as_bytes(), first].concat(),
        rest,
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"applied\":3"), "{answer}");

    let status = support::wait_for_exit(&mut child, Duration::from_secs(20));
    assert!(status.success(), "{status}");
    let store = Store::open(db.to_str().unwrap()).await.unwrap();
    assert_eq!(
        store.stats().await.unwrap().subjects,
        3,
        "the acknowledged batch is stored"
    );
}
