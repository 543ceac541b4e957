//! The signer and its key's standing, through the real binary with a real
//! sealed key file (security review, issue 15): `sign once --key-card`
//! signs nothing when the published trust list does not name the key, or
//! names it retired or revoked, and says which key and why.

mod sealed_key;

use sealpass_core::testkit::{self, NOW, issuer_entry, sign_list};
use sealpass_core::{KeyStatus, Seconds, TrustList};
use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_sealpass-issuer");
const PASSPHRASE: &str = "key-file test passphrase, public";

fn issuer(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("SEALPASS_STORE", dir.join("issuer.db"))
        .env("SEALPASS_LOG", "warn")
        .env("SEALPASS_PASSPHRASE", PASSPHRASE)
        .stdin(Stdio::null())
        .output()
        .expect("the issuer binary runs")
}

/// A trust list naming the key file's key (if `status` is given) beside
/// another active key, issued now and signed by the test custodians.
fn publish_list(dir: &Path, sequence: u64, status: Option<KeyStatus>) {
    let city = testkit::City::new();
    let now = machine_now();
    let mut other = issuer_entry(&city.next, KeyStatus::Active);
    other.not_before = now.minus(Seconds::days(30));
    other.not_after = now.plus(Seconds::days(30));
    let mut keys = vec![other];
    if let Some(status) = status {
        let mut ours = issuer_entry(&city.active, status);
        ours.not_before = now.minus(Seconds::days(30));
        ours.not_after = now.plus(Seconds::days(30));
        keys.push(ours);
    }
    let list = TrustList {
        sequence,
        issued_at: now.minus(Seconds::hours(1)),
        expires_at: now.plus(Seconds::days(30)),
        roots: city.roots.clone(),
        issuer_keys: keys,
    };
    let path = dir.join(format!("trust-list-{sequence}.cose"));
    std::fs::write(&path, sign_list(&list, &city.custodians(&[1, 2, 3]))).unwrap();
    let published = issuer(dir, &["trust", "publish", path.to_str().unwrap()]);
    assert!(
        published.status.success(),
        "{}",
        String::from_utf8_lossy(&published.stderr)
    );
}

/// The binary reads the real clock: lists are made around it.
fn machine_now() -> sealpass_core::Timestamp {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        seconds > NOW.0,
        "the machine's clock is before the test city's"
    );
    sealpass_core::Timestamp(seconds)
}

#[test]
fn a_key_file_the_trust_list_does_not_let_sign_signs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let card = sealed_key::sealed_issuer_key(dir.path(), PASSPHRASE);
    let card = card.to_str().unwrap();
    let kid = sealpass_core::Signer::kid(&testkit::City::new().active).to_hex();
    let refused = [
        (None, "does not name"),
        (Some(KeyStatus::Retired), "retired"),
        (Some(KeyStatus::Revoked), "revoked"),
    ];
    for (sequence, (status, why)) in (1..).zip(refused) {
        publish_list(dir.path(), sequence, status);
        let out = issuer(dir.path(), &["sign", "once", "--key-card", card]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{status:?}: signed anyway: {stderr}");
        assert!(
            stderr.contains(&kid) && stderr.contains(why),
            "{status:?}: {stderr}"
        );
    }
    // Named active, the same key file signs.
    publish_list(dir.path(), 4, Some(KeyStatus::Active));
    let out = issuer(dir.path(), &["sign", "once", "--key-card", card]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
