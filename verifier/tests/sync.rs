//! `sync`: the trust list and status lists from a loopback HTTP server or a
//! folder, checked with the core's rules; whatever is refused or cannot be
//! fetched leaves the lists held before in place.

mod support;

use sealpass_core::{KeyStatus, Seconds, testkit};
use support::server::Server;
use support::{City, NOW, Output, Station};

/// A server publishing the city's lists as the issuer will.
fn serve(city: &City, trust_list: &[u8]) -> Server {
    let server = Server::start();
    server.put("/sealpass/trust-list.cbor", trust_list);
    server.put(
        "/sealpass/status/CN-610100.cbor",
        &city.current_status_list(),
    );
    server
}

fn roots_file(city: &City, station: &Station) -> String {
    let path = station.folder("ceremony").join("roots.cbor");
    std::fs::write(&path, city.roots_file()).unwrap();
    path.display().to_string()
}

fn sync(station: &Station, from: &str, roots: Option<&str>) -> Output {
    let mut args = vec!["sync", "--from", from];
    if let Some(roots) = roots {
        args.extend(["--roots", roots]);
    }
    station.cmd(&args).run()
}

fn held_sequence(station: &Station) -> u64 {
    let status = station.cmd(&["--json", "status"]).run().json_one();
    status["trust_list"]["sequence"].as_u64().unwrap()
}

fn held_trust_list(station: &Station) -> Vec<u8> {
    std::fs::read(station.state().join("trust-list.cbor")).unwrap()
}

#[test]
fn first_sync_bootstraps_from_the_root_set_file_then_updates() {
    let city = City::new();
    let station = Station::new();
    let server = serve(&city, &city.trust_list(1));
    let from = format!("{}/sealpass", server.url());
    let roots = roots_file(&city, &station);
    let (url, shown) = server.replacement();
    let replace = [(url.as_str(), shown)];

    let first = sync(&station, &from, Some(&roots));
    assert_eq!(first.code, 0, "{}{}", first.stdout, first.stderr);
    first.golden_with("sync-bootstrap", &replace);
    assert!(first.stderr.contains("fingerprint"), "{}", first.stderr);
    assert_eq!(held_sequence(&station), 1);
    assert_eq!(
        std::fs::read(station.state().join("roots.cbor")).unwrap(),
        city.roots_file()
    );

    // The same list again is no update and no rollback (T0).
    let again = station.cmd(&["--json", "sync", "--from", &from]).run();
    assert_eq!(again.code, 0);
    let results: Vec<_> = again
        .json()
        .iter()
        .map(|r| r["result"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(results, ["unchanged", "unchanged"]);
    again.golden_with("sync-unchanged-json", &replace);

    // A newer list, signed by other custodians of the same set.
    server.put(
        "/sealpass/trust-list.cbor",
        &city.sign(&city.list(2), &[2, 4, 5]),
    );
    server.put(
        "/sealpass/status/CN-610100.cbor",
        &city.status_list(NOW, &[42]),
    );
    let update = sync(&station, &from, None);
    assert_eq!(update.code, 0, "{}", update.stdout);
    update.golden_with("sync-update", &replace);
    assert_eq!(held_sequence(&station), 2);
    // The new status list revokes index 42: the valid pass is now refused.
    let verdict = station.cmd(&["--json", "verify", &city.valid_pass()]).run();
    assert_eq!(verdict.codes(), ["pass_revoked"]);
}

/// Sync sequence 2 from a server, then offer `bad` and check it is refused
/// with `code`, and that sequence 2 is still held, byte for byte.
fn refused_keeping_the_previous(name: &str, bad: Vec<u8>, code: &str) {
    let city = City::new();
    let station = Station::new();
    let server = serve(&city, &city.trust_list(2));
    let from = format!("{}/sealpass", server.url());
    let roots = roots_file(&city, &station);
    assert_eq!(sync(&station, &from, Some(&roots)).code, 0);
    let before = held_trust_list(&station);

    server.put("/sealpass/trust-list.cbor", &bad);
    let out = station.cmd(&["--json", "sync", "--from", &from]).run();
    assert_eq!(out.code, 1, "{}", out.stdout);
    let report = &out.json()[0];
    assert_eq!(report["list"], "trust_list");
    assert_eq!(report["result"], "refused");
    assert_eq!(report["code"], code, "{report}");
    assert_eq!(report["sequence"], 2, "the previous list is still held");
    assert_eq!(held_trust_list(&station), before);
    let (url, shown) = server.replacement();
    station
        .cmd(&["sync", "--from", &from])
        .run()
        .golden_with(&format!("sync-refuses-{name}"), &[(url.as_str(), shown)]);
    // And passes are still decided with it.
    let verdict = station.cmd(&["verify", &city.valid_pass()]).run();
    assert_eq!(verdict.code, 0);
}

#[test]
fn refuses_a_rolled_back_list() {
    let city = City::new();
    // Sequence 1 is validly signed, but older than the held sequence 2 (T5).
    refused_keeping_the_previous("rollback", city.trust_list(1), "rollback");
}

#[test]
fn refuses_a_list_below_threshold() {
    let city = City::new();
    // Two custodians of a 3-of-5 set (T3); a third signing twice does not count.
    let two = city.sign(&city.list(3), &[1, 2]);
    refused_keeping_the_previous("below-threshold", two, "below_threshold");
    let repeated = city.sign(&city.list(3), &[1, 2, 2]);
    refused_keeping_the_previous("repeated-signer", repeated, "below_threshold");
}

#[test]
fn refuses_a_tampered_list() {
    let city = City::new();
    let mut list = city.list(3);
    list.issuer_keys[1].status = KeyStatus::Active;
    let signed = city.sign(&list, &[1, 2, 3]);
    // Re-enable the leaked key after signing: flip the status byte in the
    // signed payload (the signatures cover the original).
    let genuine = city.sign(&city.list(3), &[1, 2, 3]);
    assert_eq!(signed.len(), genuine.len());
    let diff: Vec<usize> = (0..genuine.len())
        .filter(|&i| genuine[i] != signed[i])
        .collect();
    let mut tampered = genuine.clone();
    let first_signature = diff[0];
    // Only the payload's changed bytes are copied over, not the signatures.
    for &i in diff.iter().filter(|&&i| i < first_signature + 4) {
        tampered[i] = signed[i];
    }
    refused_keeping_the_previous("tampered", tampered, "below_threshold");
    let mut garbage = genuine;
    garbage.truncate(100);
    refused_keeping_the_previous("truncated", garbage, "malformed_trust_list");
}

#[test]
fn refuses_an_expired_list_and_status_lists_that_do_not_verify() {
    let city = City::new();
    let mut old = city.list(3);
    old.issued_at = NOW.minus(Seconds::days(40));
    old.expires_at = NOW.minus(Seconds::days(10));
    refused_keeping_the_previous("expired", city.sign(&old, &[1, 2, 3]), "trust_list_expired");

    let station = Station::new();
    let server = serve(&city, &city.trust_list(1));
    let from = format!("{}/sealpass", server.url());
    let roots = roots_file(&city, &station);
    assert_eq!(sync(&station, &from, Some(&roots)).code, 0);
    let held = std::fs::read(station.state().join("status/CN-610100.cbor")).unwrap();
    // Signed by a key no list names.
    let forged = sealpass_core::sign_status_list(
        testkit::ISSUER,
        NOW,
        NOW.plus(Seconds::hours(24)),
        &sealpass_core::StatusBits::new(4096),
        &city.rogue,
    )
    .unwrap();
    server.put("/sealpass/status/CN-610100.cbor", &forged);
    let out = station.cmd(&["--json", "sync", "--from", &from]).run();
    assert_eq!(out.code, 1);
    assert_eq!(out.json()[1]["code"], "unknown_issuer_key");
    // Older than the one held: a rollback that would un-revoke passes.
    server.put(
        "/sealpass/status/CN-610100.cbor",
        &city.status_list(NOW.minus(Seconds::hours(5)), &[]),
    );
    let out = station.cmd(&["--json", "sync", "--from", &from]).run();
    assert_eq!(out.code, 1);
    assert_eq!(out.json()[1]["code"], "rollback");
    assert_eq!(
        std::fs::read(station.state().join("status/CN-610100.cbor")).unwrap(),
        held
    );
    let verdict = station
        .cmd(&["--json", "verify", &city.named("revoked")])
        .run();
    assert_eq!(verdict.codes(), ["pass_revoked"]);
}

#[test]
fn syncs_from_a_folder_or_a_file_url_with_no_network() {
    let city = City::new();
    let station = Station::new();
    let usb = station.folder("usb/sealpass");
    support::city::publish(&usb, &city.trust_list(1), Some(&city.current_status_list()));
    let roots = roots_file(&city, &station);
    let out = sync(&station, &usb.display().to_string(), Some(&roots));
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    out.golden("sync-from-folder");
    support::city::publish(&usb, &city.trust_list(2), None);
    let url = format!("file://{}", usb.display());
    let out = sync(&station, &url, None);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert_eq!(held_sequence(&station), 2);
}

#[test]
fn fetches_a_status_list_from_the_url_its_key_names() {
    let city = City::new();
    let station = Station::new();
    let server = Server::start();
    let mut list = city.list(1);
    list.issuer_keys[0].status_list_url = Some(format!("{}/revocations/xian", server.url()));
    server.put("/trust-list.cbor", &city.sign(&list, &[1, 2, 3]));
    server.put("/revocations/xian", &city.current_status_list());
    let roots = roots_file(&city, &station);
    let out = station
        .cmd(&["--json", "sync", "--from", &server.url(), "--roots", &roots])
        .run();
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert_eq!(
        out.json()[1]["location"],
        format!("{}/revocations/xian", server.url())
    );
    assert_eq!(out.json()[1]["result"], "accepted");
}

#[test]
fn cannot_sync_without_roots_a_reachable_source_or_the_right_fingerprint() {
    let city = City::new();
    let station = Station::new();
    let server = serve(&city, &city.trust_list(1));
    let from = format!("{}/sealpass", server.url());
    let no_roots = sync(&station, &from, None);
    assert_eq!(no_roots.code, 2);
    let (url, shown) = server.replacement();
    no_roots.golden_with("sync-no-roots", &[(url.as_str(), shown)]);

    let roots = roots_file(&city, &station);
    let wrong = station
        .cmd(&[
            "--json",
            "sync",
            "--from",
            &from,
            "--roots",
            &roots,
            "--roots-fingerprint",
            &"ab".repeat(32),
        ])
        .run();
    assert_eq!(wrong.code, 2);
    assert_eq!(wrong.json()[0]["code"], "roots_fingerprint_mismatch");
    assert!(!station.state().join("trust-list.cbor").exists());

    // The fingerprint `sealpass-keys` prints: SHA-256 of the root-set CBOR.
    use sha2::Digest;
    let fingerprint: String = sha2::Sha256::digest(city.roots_file())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let right = station
        .cmd(&[
            "sync",
            "--from",
            &from,
            "--roots",
            &roots,
            "--roots-fingerprint",
            &fingerprint,
        ])
        .run();
    assert_eq!(right.code, 0, "{}", right.stdout);

    let mut server = server;
    server.stop();
    let unreachable = sync(&station, &from, None);
    assert_eq!(unreachable.code, 2);
    assert!(
        unreachable.stdout.contains("NOT SYNCED"),
        "{}",
        unreachable.stdout
    );
    assert!(
        unreachable.stdout.contains("kept: sequence 1"),
        "{}",
        unreachable.stdout
    );
    let missing = sync(
        &station,
        &station.folder("empty").display().to_string(),
        None,
    );
    assert_eq!(missing.code, 2);
    missing.golden("sync-missing-files");
}

#[test]
fn an_https_source_that_does_not_speak_tls_is_not_synced() {
    let city = City::new();
    let station = Station::new();
    let server = serve(&city, &city.trust_list(1));
    let roots = roots_file(&city, &station);
    let from = format!("{}/sealpass", server.url().replace("http://", "https://"));
    let out = station
        .cmd(&["--json", "sync", "--from", &from, "--roots", &roots])
        .run();
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert_eq!(out.json()[0]["result"], "unavailable");
    assert!(!station.state().join("trust-list.cbor").exists());
}

/// The list server's `Date`, `offset` seconds after the verifier's clock.
fn server_date(offset: i64) -> String {
    let at =
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(NOW.0.saturating_add_signed(offset));
    httpdate::fmt_http_date(at)
}

#[test]
fn a_clock_off_from_the_list_servers_is_warned_of() {
    let city = City::new();
    let station = Station::new();
    let server = serve(&city, &city.trust_list(1));
    let from = format!("{}/sealpass", server.url());
    let roots = roots_file(&city, &station);

    // Two seconds apart: what a Date header's whole seconds and the way
    // there make of two right clocks. No warning; --json says so.
    server.set_date(&server_date(2));
    let first = station
        .cmd(&["--json", "sync", "--from", &from, "--roots", &roots])
        .run();
    assert_eq!(first.code, 0, "{}{}", first.stdout, first.stderr);
    let clock: serde_json::Value = first
        .stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find_map(|line| line.get("clock").cloned())
        .expect("a clock line");
    assert_eq!(clock["offset_seconds"], -2, "{clock}");
    assert_eq!(clock["off"], false);
    assert!(!first.stderr.contains("CLOCK"), "{}", first.stderr);

    // The server's clock 95 s ahead: this checkpoint's is behind, and the
    // person at it is told what that does to live codes. The lists are
    // still accepted: they are judged by their own times.
    server.set_date(&server_date(95));
    let behind = sync(&station, &from, None);
    assert_eq!(behind.code, 0, "{}{}", behind.stdout, behind.stderr);
    assert!(
        behind
            .stderr
            .contains("THIS DEVICE'S CLOCK IS 1 min BEHIND the list server's"),
        "{}",
        behind.stderr
    );
    server.set_date(&server_date(-600));
    let ahead = sync(&station, &from, None);
    assert!(ahead.stderr.contains("10 min AHEAD"), "{}", ahead.stderr);
}
