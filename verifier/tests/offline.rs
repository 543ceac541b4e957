//! No issuer, no network: once synced, a checkpoint decides from what it
//! stored, and a failed sync changes nothing.

mod support;

use support::images::{png, render};
use support::server::Server;
use support::{City, Station};

#[test]
fn with_every_server_stopped_verify_scan_and_listen_still_decide() {
    let city = City::new();
    let station = Station::new();
    let mut server = Server::start();
    server.put("/trust-list.cbor", &city.trust_list(1));
    server.put("/status/CN-610100.cbor", &city.current_status_list());
    let roots = station.folder("ceremony").join("roots.cbor");
    std::fs::write(&roots, city.roots_file()).unwrap();
    let synced = station
        .cmd(&[
            "sync",
            "--from",
            &server.url(),
            "--roots",
            &roots.display().to_string(),
        ])
        .run();
    assert_eq!(synced.code, 0, "{}", synced.stdout);
    assert_eq!(server.requests.load(std::sync::atomic::Ordering::SeqCst), 2);

    // Every server stops: the port refuses connections from now on.
    server.stop();
    let url = server.url();
    assert!(std::net::TcpStream::connect(url.trim_start_matches("http://")).is_err());

    let expected = [
        ("valid", "valid"),
        ("revoked", "pass_revoked"),
        ("expired", "expired"),
        ("unknown-key", "unknown_issuer_key"),
        ("revoked-key", "issuer_key_revoked"),
    ];
    let passes: Vec<String> = expected.iter().map(|(name, _)| city.named(name)).collect();
    let codes: Vec<&str> = expected.iter().map(|(_, code)| *code).collect();

    let mut args = vec!["--json", "verify"];
    args.extend(passes.iter().map(String::as_str));
    assert_eq!(station.cmd(&args).run().codes(), codes);

    let folder = station.folder("images");
    let images: Vec<String> = passes
        .iter()
        .enumerate()
        .map(|(i, pass)| {
            let path = folder.join(format!("{i}.png"));
            std::fs::write(&path, png(&render(pass, 4))).unwrap();
            path.display().to_string()
        })
        .collect();
    let mut args = vec!["--json", "scan"];
    args.extend(images.iter().map(String::as_str));
    assert_eq!(station.cmd(&args).run().codes(), codes);

    let stream = passes.join("\n") + "\n";
    let listened = station.cmd(&["--json", "listen"]).stdin(stream).run();
    assert_eq!(listened.codes(), codes);

    // A sync now cannot reach anything: it says so and keeps the lists.
    let failed = station.cmd(&["sync", "--from", &url]).run();
    assert_eq!(failed.code, 2);
    let mut args = vec!["--json", "verify"];
    args.extend(passes.iter().map(String::as_str));
    assert_eq!(station.cmd(&args).run().codes(), codes);
    let status = station.cmd(&["status"]).run();
    assert_eq!(status.code, 0, "{}", status.stdout);
}
