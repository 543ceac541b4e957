//! `sealpass-issuer demo` as a newcomer runs it: the real binary, on free
//! loopback ports, in a fresh directory. The pass a demo citizen downloads
//! through the public API verifies with sealpass-core against the demo's
//! trust list, bootstrapped from the demo's root-set file, with its status
//! list; SIGTERM stops it cleanly; run again, it reuses what it made. And
//! the demo identity provider cannot be switched on anywhere else. (The
//! demo runs with its default overload limits; on a busy test machine it
//! may answer "busy", and the test then waits and asks again, as phones do.)

mod public_support;
mod support;

use public_support::http::{get_request, loopback, post_json, send_patiently as send};
use sealpass_core::{
    CheckpointPolicy, Colour, RootSet, StatusList, Timestamp, TrustedList, Verifier,
};
use sealpass_issuer::demo::DemoDir;
use sealpass_issuer::demo::idp::{DemoIdentityProvider, DemoRefused};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_sealpass-issuer");

struct Demo {
    child: Child,
    public: SocketAddr,
    roots: PathBuf,
    stdout: Vec<String>,
}

/// Start the demo in `dir` and wait (at most 3 minutes) for its banner.
fn start(dir: &Path) -> Demo {
    let mut child = Command::new(BIN)
        .args([
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
            "--citizens",
            "500",
        ])
        .arg("--data-dir")
        .arg(dir)
        .env_remove("SEALPASS_STORE")
        .env("SEALPASS_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the binary starts");
    let (sender, receiver) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut lines = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match receiver.recv_timeout(left) {
            Ok(line) => {
                let done = line.starts_with("Ctrl-C stops");
                lines.push(line);
                if done {
                    break;
                }
            }
            Err(_) => {
                let _ = child.kill();
                panic!("the demo did not start within 3 minutes: {lines:#?}");
            }
        }
    }
    let field = |name: &str| {
        lines
            .iter()
            .find_map(|l| {
                l.trim_start()
                    .strip_prefix(name)
                    .map(|rest| rest.trim().to_owned())
            })
            .unwrap_or_else(|| panic!("no {name:?} line in {lines:#?}"))
    };
    let page = field("citizen page");
    let public = page
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap();
    let roots = PathBuf::from(field("roots").split("  ").next().unwrap());
    Demo {
        child,
        public,
        roots,
        stdout: lines,
    }
}

fn stop(mut demo: Demo) {
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(demo.child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = demo.child.try_wait().unwrap() {
            assert!(
                status.success(),
                "the demo exits cleanly on SIGTERM: {status}"
            );
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the demo did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn now() -> Timestamp {
    Timestamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
}

/// Log in as the first demo citizen and check their pass as a checkpoint
/// holding the demo's lists would; returns the pass text.
async fn download_and_verify(demo: &Demo) -> String {
    let at = demo.public;
    let citizens = send(at, loopback(1), get_request("/demo/idp/citizens", None)).await;
    assert_eq!(citizens.status, 200, "{}", citizens.text());
    let citizen = citizens.json()["citizens"][0].clone();
    let login = citizen["login"].as_str().unwrap().to_owned();
    let body = format!("{{\"login\": \"{login}\"}}");
    let token = send(at, loopback(1), post_json("/demo/idp/token", &body)).await;
    assert_eq!(token.status, 200, "{}", token.text());
    let token = token.json()["id_token"].as_str().unwrap().to_owned();
    let pass = send(at, loopback(1), get_request("/api/v1/pass", Some(&token))).await;
    assert_eq!(pass.status, 200, "{}", pass.text());
    let pass = pass.json();
    assert_eq!(pass["masked_name"], citizen["masked_name"]);
    let text = pass["pass"].as_str().unwrap().to_owned();

    // A checkpoint: the roots pinned from the demo's ceremony, the lists
    // as the demo's public API serves them.
    let roots = RootSet::from_cbor(&std::fs::read(&demo.roots).unwrap()).unwrap();
    let trust_bytes = send(at, loopback(1), get_request("/trust-list.cbor", None)).await;
    assert_eq!(trust_bytes.status, 200);
    let now = now();
    let trust = TrustedList::bootstrap(&roots, &trust_bytes.body, now)
        .expect("the demo's trust list bootstraps from its roots");
    let issuer = pass["issuer"].as_str().unwrap();
    let status = send(
        at,
        loopback(1),
        get_request(&format!("/status/{issuer}.cbor"), None),
    )
    .await;
    assert_eq!(status.status, 200);
    let lists = [StatusList::verify(&status.body, &trust, now).expect("the status list verifies")];
    let policy = CheckpointPolicy {
        name: "any".into(),
        colours: Colour::ALL.to_vec(),
        max_test_age: None,
        min_doses: None,
        danger_accept_unchecked_revocation: false,
        require_live_code: false,
    };
    let verified = Verifier::new(&trust, &policy)
        .with_status_lists(&lists)
        .verify(&text, now)
        .expect("the demo citizen's pass verifies against the demo trust list");
    assert!(verified.revocation_checked());
    assert_eq!(
        verified.health().masked_name,
        citizen["masked_name"].as_str().unwrap()
    );
    assert_eq!(
        verified.health().colour.name(),
        citizen["colour"].as_str().unwrap()
    );

    // The page and the web verifier's place.
    let page = send(at, loopback(1), get_request("/", None)).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("demo-banner"));
    let verify = send(at, loopback(1), get_request("/verify/", None)).await;
    assert!(
        verify.status == 200 || verify.text().contains("not installed"),
        "{}",
        verify.status
    );
    if verify.status == 200 {
        let served_roots = send(at, loopback(1), get_request("/verify/roots.cbor", None)).await;
        assert_eq!(served_roots.body, std::fs::read(&demo.roots).unwrap());
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_serves_passes_that_verify_against_its_own_roots_and_reuses_its_state() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("sealpass-demo");
    let demo = start(&data);
    assert!(
        demo.stdout[0].contains("DEVELOPMENT ONLY"),
        "{:#?}",
        demo.stdout
    );
    assert!(
        demo.stdout.iter().any(|l| l.contains("500 enrolled now")),
        "{:#?}",
        demo.stdout
    );
    assert!(
        demo.stdout
            .iter()
            .any(|l| l.trim_start().starts_with("demo login"))
    );
    let first = download_and_verify(&demo).await;
    stop(demo);
    assert!(data.join("ceremony/README.txt").exists());
    assert!(
        std::fs::read_to_string(data.join("DEVELOPMENT-ONLY.txt"))
            .unwrap()
            .contains("DEVELOPMENT ONLY")
    );

    let again = start(&data);
    assert!(
        again
            .stdout
            .iter()
            .any(|l| l.contains("500 enrolled, reused; trust list 1 ")),
        "{:#?}",
        again.stdout
    );
    let second = download_and_verify(&again).await;
    assert_eq!(first, second, "the same pass: nothing was re-made");
    stop(again);
}

#[test]
fn the_demo_identity_provider_is_refused_outside_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let demo = DemoDir::create(&dir.path().join("demo")).unwrap();
    std::fs::write(demo.store_path(), b"").unwrap();
    let key = || ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
    let enable =
        |url: &str, dir: &DemoDir| DemoIdentityProvider::enable(url, dir, key(), vec![]).err();

    assert_eq!(
        enable(demo.store_path().to_str().unwrap(), &demo),
        None,
        "the demo's own store"
    );
    let production = dir.path().join("issuer.db");
    std::fs::write(&production, b"").unwrap();
    for url in [
        "postgres://issuer:secret@db.example/sealpass".to_owned(),
        production.display().to_string(),
        format!("sqlite://{}", production.display()),
    ] {
        match enable(&url, &demo) {
            Some(DemoRefused::NotTheDemoStore { found, .. }) => {
                assert!(!found.contains("secret"), "{found}")
            }
            other => panic!("{url}: {other:?}"),
        }
    }
    let plain = DemoDir::open(dir.path());
    assert!(matches!(
        enable(production.to_str().unwrap(), &plain),
        Some(DemoRefused::NotADemoDirectory(_))
    ));
    // A directory with other things in it never becomes a demo directory.
    assert!(DemoDir::create(dir.path()).is_err());

    // The production command has no switch for it: no flag, no config key.
    let flag = Command::new(BIN)
        .args(["public", "--demo"])
        .output()
        .unwrap();
    assert_eq!(flag.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&flag.stderr).contains("unexpected argument '--demo'"));
    let config = dir.path().join("public.toml");
    std::fs::write(&config, "demo = true\n").unwrap();
    let keyed = Command::new(BIN)
        .args(["public", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(keyed.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&keyed.stderr).contains("unknown field `demo`"),
        "{}",
        String::from_utf8_lossy(&keyed.stderr)
    );
    // And the demo command refuses to run on any store but its own.
    let elsewhere = Command::new(BIN)
        .args(["demo", "--data-dir"])
        .arg(dir.path().join("d2"))
        .env("SEALPASS_STORE", "postgres://issuer@db.example/sealpass")
        .output()
        .unwrap();
    assert_eq!(elsewhere.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&elsewhere.stderr).contains("the demo keeps its own store"));
}
