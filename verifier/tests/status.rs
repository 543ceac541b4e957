//! `status`: what the state directory holds, and whether it can decide.

mod support;

use sealpass_core::Seconds;
use support::{City, NOW, Station};

#[test]
fn shows_the_lists_their_age_and_freshness() {
    let city = City::new();
    let station = Station::new();
    let empty = station.cmd(&["status"]).run();
    assert_eq!(empty.code, 2);
    empty.golden("status-empty");

    let usb = station.folder("usb");
    support::city::publish(&usb, &city.trust_list(1), Some(&city.current_status_list()));
    let roots = station.folder("ceremony").join("roots.cbor");
    std::fs::write(&roots, city.roots_file()).unwrap();
    let synced = station
        .cmd(&[
            "sync",
            "--from",
            &usb.display().to_string(),
            "--roots",
            &roots.display().to_string(),
        ])
        .run();
    assert_eq!(synced.code, 0);

    let text = station.cmd(&["status"]).run();
    assert_eq!(text.code, 0);
    text.golden("status-synced");
    let json = station.cmd(&["--json", "status"]).run();
    json.golden("status-synced-json");

    // On a checkpoint in Xi'an every time is on its clock face (a POSIX
    // zone: no time-zone database needed); --utc and --json keep UTC.
    let local = station.cmd(&["status"]).env("TZ", "CST-8").run();
    local.golden("status-synced-local");
    assert!(
        local
            .stdout
            .contains("clock            2026-11-21 07:40:00 UTC+08:00"),
        "{}",
        local.stdout
    );
    let utc = station.cmd(&["--utc", "status"]).env("TZ", "CST-8").run();
    assert_eq!(utc.stdout, text.stdout);
    let json_local = station.cmd(&["--json", "status"]).env("TZ", "CST-8").run();
    assert_eq!(json_local.stdout, json.stdout);
    let status = json.json_one();
    assert_eq!(status["ready"], true);
    assert_eq!(status["trust_list"]["sequence"], 1);
    assert_eq!(status["trust_list"]["freshness"], "fresh");
    assert_eq!(status["trust_list"]["age_seconds"], Seconds::days(1).0);
    assert_eq!(status["status_lists"][0]["state"], "current");
    assert_eq!(status["pinned_roots"]["threshold"], 3);

    assert_eq!(status["status_lists"][0]["expires_before_next_sync"], true);
    let hourly = station
        .cmd(&["--json", "status", "--next-sync-in", "1h"])
        .run()
        .json_one();
    assert_eq!(hourly["warnings"], serde_json::json!([]));
    assert_eq!(hourly["status_lists"][0]["expires_before_next_sync"], false);

    // With the status list expired, its issuer's passes cannot be decided.
    let soon = station
        .cmd(&["--json", "status"])
        .now(NOW.plus(Seconds::days(25)).0)
        .run();
    assert_eq!(soon.code, 2);
    assert_eq!(soon.json_one()["code"], "revocation_not_checked");
    assert_eq!(soon.json_one()["trust_list"]["freshness"], "expires_soon");
    assert_eq!(soon.json_one()["status_lists"][0]["state"], "expired");

    let expired = station
        .cmd(&["status"])
        .now(NOW.plus(Seconds::days(40)).0)
        .run();
    assert_eq!(expired.code, 2);
    expired.golden("status-expired");
}

#[test]
fn help_teaches() {
    let station = Station::new();
    let help = station.cmd(&["--help"]).run();
    assert_eq!(help.code, 0);
    for taught in [
        "Exit codes",
        "sync --from",
        "--roots",
        "--json",
        "listen",
        "scan",
        "status",
    ] {
        assert!(help.stdout.contains(taught), "{taught}: {}", help.stdout);
    }
    for command in ["verify", "scan", "listen", "sync", "status"] {
        let help = station.cmd(&[command, "--help"]).run();
        assert_eq!(help.code, 0);
        assert!(
            help.stdout.contains("Examples:"),
            "{command}: {}",
            help.stdout
        );
    }
    let wrong = station.cmd(&["verfy"]).run();
    assert_eq!(wrong.code, 2, "usage errors are 'could not decide'");
    assert!(wrong.stderr.contains("verify"), "{}", wrong.stderr);
}
