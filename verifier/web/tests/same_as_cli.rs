//! The web app decides exactly as the command line: every `verify --json`
//! golden file of `sealpass-verifier` (verifier/tests/golden/), replayed
//! through this crate's `Checkpoint` with the same lists at the same pinned
//! time, gives the same JSON object, field for field (only `source` differs:
//! `typed` for the page, `argument` for the command line).

use sealpass_core::Timestamp;
use sealpass_core::testkit::City;
use sealpass_core::testkit::NOW;
use sealpass_web::Checkpoint;
use std::path::Path;

struct Golden {
    policy: String,
    pass: String,
    now: Timestamp,
    stdout: String,
}

fn goldens() -> Vec<(String, Golden)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("the command line's golden files") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.starts_with("verify-") && name.ends_with("-json.txt")) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let command = text.lines().find(|l| l.starts_with("$ ")).unwrap();
        let Some((_, quoted)) = command.split_once(" verify '") else {
            continue; // e.g. a pass on standard input
        };
        let policy = command
            .split_once("--policy ")
            .map_or("subway", |(_, rest)| rest.split(' ').next().unwrap());
        let stdout = text
            .split("--- stdout\n")
            .nth(1)
            .and_then(|rest| rest.split("--- stderr").next())
            .unwrap()
            .trim()
            .to_owned();
        let pinned = text
            .split("the clock is pinned to ")
            .nth(1)
            .map(|rest| parse_utc(&rest[..19]))
            .unwrap_or(NOW);
        found.push((
            name,
            Golden {
                policy: policy.to_owned(),
                pass: quoted.trim_end_matches('\'').to_owned(),
                now: pinned,
                stdout,
            },
        ));
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

/// `YYYY-MM-DD HH:MM:SS` in UTC to Unix seconds.
fn parse_utc(text: &str) -> Timestamp {
    let n = |range: std::ops::Range<usize>| text[range].parse::<i64>().unwrap();
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    // Days from civil date (H. Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Timestamp((days * 86_400 + n(11..13) * 3600 + n(14..16) * 60 + n(17..19)) as u64)
}

#[test]
fn every_verify_golden_of_the_command_line_gives_the_same_json() {
    let city = City::at(NOW);
    let goldens = goldens();
    assert!(goldens.len() >= 12, "only {} goldens found", goldens.len());
    for (name, golden) in goldens {
        let mut checkpoint = Checkpoint::new();
        checkpoint.pin_roots(&city.roots.to_cbor());
        let at = NOW.0 as f64 * 1000.0;
        checkpoint.offer_trust_list("trust-list.cbor", &city.trust_list(1), at);
        checkpoint.offer_status_list(
            "CN-610100",
            "status/CN-610100.cbor",
            &city.current_status_list(),
            at,
        );
        assert!(checkpoint.set_policy(&golden.policy), "{name}");
        let verdict = checkpoint.verify_text(&golden.pass, golden.now.0 as f64 * 1000.0);
        let expected = golden
            .stdout
            .replacen(r#""source":"argument""#, r#""source":"typed""#, 1);
        assert_eq!(verdict, expected, "{name}");
    }
}

#[test]
fn the_sync_report_has_the_command_lines_fields() {
    let city = City::at(NOW);
    let at = NOW.0 as f64 * 1000.0;
    let mut checkpoint = Checkpoint::new();
    checkpoint.pin_roots(&city.roots.to_cbor());
    let trust = city.trust_list(1);
    let status = city.current_status_list();
    checkpoint.offer_trust_list("http://SERVER/sealpass/trust-list.cbor", &trust, at);
    let location = "http://SERVER/sealpass/status/CN-610100.cbor";
    checkpoint.offer_status_list("CN-610100", location, &status, at);
    // verifier/tests/golden/sync-unchanged-json.txt
    assert_eq!(
        checkpoint.offer_trust_list("http://SERVER/sealpass/trust-list.cbor", &trust, at),
        r#"{"list":"trust_list","location":"http://SERVER/sealpass/trust-list.cbor","result":"unchanged","code":null,"reason":null,"sequence":1,"previous_sequence":1,"issued_at":1795131600,"expires_at":1797810000}"#
    );
    assert_eq!(
        checkpoint.offer_status_list("CN-610100", location, &status, at),
        r#"{"list":"status_list","issuer":"CN-610100","location":"http://SERVER/sealpass/status/CN-610100.cbor","result":"unchanged","code":null,"reason":null,"issued_at":1795214400,"expires_at":1795300800}"#
    );
}
