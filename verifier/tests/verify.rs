//! `verify`: every verdict a checkpoint can give, in text and JSON, with
//! golden files (UPDATE_GOLDEN=1 rewrites them), and the exit codes.

mod support;

use sealpass_core::Seconds;
use support::{City, NOW, Station};

fn synced(city: &City) -> Station {
    let station = Station::new();
    station.store(&city.trust_list(1), Some(&city.current_status_list()));
    station
}

/// (pass name, policy, exit code, JSON code)
const CASES: [(&str, &str, i32, &str); 11] = [
    ("valid", "subway", 0, "valid"),
    ("valid", "office", 0, "valid"),
    ("yellow", "outdoor", 0, "valid"),
    ("yellow", "subway", 1, "policy_colour"),
    ("expired", "subway", 1, "expired"),
    ("not-yet-valid", "subway", 1, "not_yet_valid"),
    ("revoked", "subway", 1, "pass_revoked"),
    ("unknown-key", "subway", 1, "unknown_issuer_key"),
    ("revoked-key", "subway", 1, "issuer_key_revoked"),
    ("bad-signature", "subway", 1, "bad_signature"),
    ("old-test", "office", 1, "policy_test_too_old"),
];

#[test]
fn every_verdict_in_text_and_json() {
    let city = City::new();
    let station = synced(&city);
    for (name, policy, exit, code) in CASES {
        let pass = city.named(name);
        let text = station.cmd(&["--policy", policy, "verify", &pass]).run();
        assert_eq!(text.code, exit, "{name} at {policy}: {}", text.stdout);
        text.golden(&format!("verify-{name}-{policy}"));
        let json = station
            .cmd(&["--json", "--policy", policy, "verify", &pass])
            .run();
        assert_eq!(json.code, exit);
        let verdict = json.json_one();
        assert_eq!(verdict["code"], code, "{name} at {policy}: {verdict}");
        assert_eq!(verdict["valid"], exit == 0);
        assert_eq!(verdict["policy"], policy);
        json.golden(&format!("verify-{name}-{policy}-json"));
    }
}

#[test]
fn the_verdict_tells_a_person_what_to_do() {
    let city = City::new();
    let station = synced(&city);
    let valid = station.cmd(&["verify", &city.valid_pass()]).run();
    assert!(
        valid.stdout.starts_with("VALID · GREEN\n"),
        "{}",
        valid.stdout
    );
    for shown in [
        "张*明",
        "6101**********1234",
        "valid    for 23 h, until",
        "revocation checked",
    ] {
        assert!(valid.stdout.contains(shown), "{shown}: {}", valid.stdout);
    }
    let reason = |name: &str, policy: &str| {
        let out = station
            .cmd(&["--policy", policy, "verify", &city.named(name)])
            .run();
        out.stdout.lines().nth(1).unwrap().trim().to_owned()
    };
    assert_eq!(reason("expired", "subway"), "expired 3 h 12 min ago");
    assert_eq!(
        reason("not-yet-valid", "subway"),
        "not yet valid: valid in 2 h"
    );
    assert_eq!(reason("revoked", "subway"), "pass revoked");
    assert_eq!(
        reason("bad-signature", "subway"),
        "signature does not verify"
    );
    assert!(reason("unknown-key", "subway").starts_with("unknown issuer key "));
    assert!(reason("revoked-key", "subway").contains("is revoked"));
    assert_eq!(
        reason("old-test", "office"),
        "policy: last test 2 d 13 h ago, over 2 d"
    );
}

#[test]
fn json_fields_are_stable() {
    let city = City::new();
    let station = synced(&city);
    let out = station.cmd(&["--json", "verify", &city.valid_pass()]).run();
    let verdict = out.json_one();
    // serde_json's map sorts its keys; the golden files pin their order.
    let fields: Vec<&str> = verdict
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = [
        "source",
        "verdict",
        "valid",
        "code",
        "phase",
        "reason",
        "colour",
        "masked_name",
        "masked_id",
        "issuer",
        "kid",
        "issued_at",
        "expires_at",
        "valid_for_seconds",
        "revocation_checked",
        "vaccination",
        "test",
        "checked",
        "checked_text",
        "holder_bound",
        "live_code_signed_at",
        "live_code_age_seconds",
        "already_scanned_seconds_ago",
        "policy",
    ];
    expected.sort();
    assert_eq!(fields, expected);
    assert_eq!(verdict["verdict"], "valid");
    assert_eq!(verdict["colour"], "green");
    assert_eq!(verdict["issued_at"], NOW.minus(Seconds::hours(1)).0);
    assert_eq!(verdict["valid_for_seconds"], Seconds::hours(23).0);
    assert_eq!(verdict["revocation_checked"], true);
    assert_eq!(verdict["holder_bound"], false);
    assert_eq!(verdict["source"], "argument");
    // The lines a worker at the gate reads, from the pass itself.
    assert_eq!(verdict["vaccination"]["doses"], 3);
    assert_eq!(verdict["vaccination"]["last_dose"], "2022-01-15");
    assert_eq!(verdict["test"]["result"], "negative");
    assert_eq!(verdict["test"]["age_seconds"], Seconds::hours(21).0);
    assert_eq!(verdict["checked"][0]["rule"], "colour");
    assert_eq!(verdict["checked_text"], "green");
    let office = station
        .cmd(&["--json", "--policy", "office", "verify", &city.valid_pass()])
        .run()
        .json_one();
    assert_eq!(office["checked"][1]["rule"], "test");
    assert_eq!(
        office["checked"][1]["max_age_seconds"],
        Seconds::hours(48).0
    );
    assert_eq!(
        office["checked_text"],
        "green, test ≤ 2 d: 21 h ago, negative"
    );
}

#[test]
fn several_passes_exit_with_the_worst_verdict() {
    let city = City::new();
    let station = synced(&city);
    let valid = city.valid_pass();
    let expired = city.named("expired");
    let out = station.cmd(&["--json", "verify", &valid, &expired]).run();
    assert_eq!(out.codes(), ["valid", "expired"]);
    assert_eq!(out.code, 1);
    let out = station
        .cmd(&["--json", "verify", &valid, "not a pass", &expired])
        .run();
    assert_eq!(out.codes(), ["valid", "not_a_pass", "expired"]);
    assert_eq!(out.code, 2);
}

#[test]
fn reads_passes_from_standard_input_one_per_line() {
    let city = City::new();
    let station = synced(&city);
    let input = format!("{}\r\n\n{}\n", city.valid_pass(), city.named("revoked"));
    let out = station.cmd(&["--json", "verify"]).stdin(input).run();
    let verdicts = out.json();
    assert_eq!(out.codes(), ["valid", "pass_revoked"]);
    assert_eq!(verdicts[0]["source"], "stdin");
    assert_eq!(verdicts[0]["line"], 1);
    assert_eq!(verdicts[1]["line"], 3);
    assert_eq!(out.code, 1);
    let nothing = station.cmd(&["verify"]).stdin("").run();
    assert_eq!(nothing.code, 2);
    nothing.golden("verify-no-input");
}

#[test]
fn without_a_trust_list_nothing_is_decided() {
    let city = City::new();
    let station = Station::new();
    let out = station.cmd(&["verify", &city.valid_pass()]).run();
    assert_eq!(out.code, 2);
    out.golden("verify-no-trust-list");
    let json = station.cmd(&["--json", "verify", &city.valid_pass()]).run();
    assert_eq!(json.codes(), ["no_trust_list"]);
    assert_eq!(json.json_one()["phase"], "setup");
}

#[test]
fn a_stale_trust_list_warns_then_refuses() {
    let city = City::new();
    let station = synced(&city);
    // The list lives 31 days; with less than a quarter left it warns.
    let late = NOW.plus(Seconds::days(25));
    let mut claims = city.claims();
    claims.issued_at = late.minus(Seconds::hours(1));
    claims.not_before = claims.issued_at;
    claims.expires_at = late.plus(Seconds::hours(23));
    let pass = city.pass(&claims);
    // With a status list synced by then (the first has expired).
    station.store(
        &city.trust_list(1),
        Some(&city.status_list(late.minus(Seconds::hours(1)), &[])),
    );
    let soon = station.cmd(&["verify", &pass]).now(late.0).run();
    assert_eq!(soon.code, 0, "{}", soon.stderr);
    assert!(
        soon.stderr.contains("the trust list expires in 5 d"),
        "{}",
        soon.stderr
    );
    soon.golden("verify-trust-list-expires-soon");
    let after = NOW.plus(Seconds::days(31));
    let expired = station.cmd(&["--json", "verify", &pass]).now(after.0).run();
    assert_eq!(expired.code, 2);
    assert_eq!(expired.codes(), ["trust_list_expired"]);
    expired.golden("verify-trust-list-expired-json");
}

#[test]
fn an_expired_status_list_refuses_its_issuers_passes() {
    let city = City::new();
    let station = synced(&city);
    let later = NOW.plus(Seconds::hours(30));
    let mut claims = city.claims();
    claims.issued_at = later.minus(Seconds::hours(1));
    claims.not_before = claims.issued_at;
    claims.expires_at = later.plus(Seconds::hours(23));
    let out = station
        .cmd(&["--json", "verify", &city.pass(&claims)])
        .now(later.0)
        .run();
    assert_eq!(out.codes(), ["status_list_expired"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("the status list of issuer CN-610100 expired"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_clock_set_back_is_refused_loudly() {
    let city = City::new();
    let station = synced(&city);
    let pass = city.valid_pass();
    assert_eq!(station.cmd(&["verify", &pass]).run().code, 0);
    // Within the skew (5 minutes): fine.
    let slightly = station.cmd(&["verify", &pass]).now(NOW.0 - 120).run();
    assert_eq!(slightly.code, 0);
    // An hour back: no decision, whatever the pass.
    let back = station.cmd(&["verify", &pass]).now(NOW.0 - 3600).run();
    assert_eq!(back.code, 2);
    assert!(back.stderr.contains("CLOCK SET BACK"), "{}", back.stderr);
    back.golden("verify-clock-set-back");
    let json = station
        .cmd(&["--json", "verify", &pass])
        .now(NOW.0 - 3600)
        .run();
    assert_eq!(json.codes(), ["clock_behind"]);
    // A wider skew (at most an hour) accepts a clock 50 min back.
    let tolerant = station
        .cmd(&["--clock-skew", "1h", "verify", &pass])
        .now(NOW.0 - 3000)
        .run();
    assert_eq!(tolerant.code, 0, "{}", tolerant.stderr);
}

#[test]
fn policies_come_built_in_or_from_a_file() {
    let city = City::new();
    let station = synced(&city);
    let file = station.folder("policies").join("night-market.policy");
    std::fs::write(
        &file,
        "name = night market\ncolours = green, yellow\nmax-test-age = 72h\n",
    )
    .unwrap();
    let file = file.display().to_string();
    let out = station
        .cmd(&[
            "--json",
            "--policy",
            &file,
            "verify",
            &city.named("old-test"),
        ])
        .run();
    assert_eq!(out.codes(), ["valid"]);
    assert_eq!(out.json_one()["policy"], "night market");
    let bad = station.folder("policies").join("bad.policy");
    std::fs::write(&bad, "colours = purple\n").unwrap();
    let out = station
        .cmd(&["--policy", &bad.display().to_string(), "verify", "x"])
        .run();
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("unknown colour `purple`"),
        "{}",
        out.stderr
    );
    let out = station.cmd(&["--policy", "stadium", "verify", "x"]).run();
    assert_eq!(out.code, 2);
    out.golden("verify-unknown-policy");
}

#[test]
fn a_pass_typed_through_another_keyboard_layout_is_recognised() {
    let city = City::new();
    let station = synced(&city);
    let pass = city.valid_pass();
    let german: String = pass
        .chars()
        .map(|c| match c {
            ':' => 'Ö',
            '-' => 'ß',
            '/' => '-',
            '*' => '(',
            c => c,
        })
        .collect();
    let out = station.cmd(&["verify", &german]).run();
    assert_eq!(out.code, 2);
    assert!(out.stdout.contains("German (QWERTZ)"), "{}", out.stdout);
    out.golden("verify-german-layout");
}

#[test]
fn colour_only_on_a_terminal() {
    let city = City::new();
    let station = synced(&city);
    let out = station.cmd(&["verify", &city.valid_pass()]).run();
    assert!(!out.stdout.contains('\x1b'), "pipes get no escape codes");
}

#[test]
fn the_verdict_says_until_when_on_this_machines_clock_face() {
    let city = City::new();
    let station = synced(&city);
    let pass = city.named("valid");
    let local = station.cmd(&["verify", &pass]).env("TZ", "CST-8").run();
    assert_eq!(local.code, 0);
    assert!(
        local.stdout.contains("until 2026-11-22 06:40:00 UTC+08:00"),
        "{}",
        local.stdout
    );
    let utc = station
        .cmd(&["--utc", "verify", &pass])
        .env("TZ", "CST-8")
        .run();
    assert!(
        utc.stdout.contains("until 2026-11-21 22:40:00 UTC"),
        "{}",
        utc.stdout
    );
}
