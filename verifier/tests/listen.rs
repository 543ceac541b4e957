//! `listen`: a scanner's stream of lines, each with exactly one verdict, in
//! order, whatever arrives.

mod support;

use support::{City, Station};

fn synced(city: &City) -> Station {
    let station = Station::new();
    station.store(&city.trust_list(1), Some(&city.current_status_list()));
    station
}

/// A deterministic stream of `count` lines: valid passes, every kind of
/// refused pass, passes typed through other layouts, and garbage (binary
/// bytes, half a pass, a line far too long, lone CRs). Returns the bytes
/// and the code each line must get.
pub fn scripted_stream(city: &City, count: usize) -> (Vec<u8>, Vec<&'static str>) {
    let passes = city.passes();
    let expected_code = |name: &str| match name {
        "valid" => "valid",
        "yellow" => "policy_colour",
        "expired" => "expired",
        "not-yet-valid" => "not_yet_valid",
        "revoked" => "pass_revoked",
        "unknown-key" => "unknown_issuer_key",
        "revoked-key" => "issuer_key_revoked",
        "bad-signature" => "bad_signature",
        "old-test" => "valid",
        other => panic!("{other}"),
    };
    let valid = city.valid_pass();
    let mut bytes = Vec::new();
    let mut codes = Vec::new();
    let mut state = 0x1234_5678_9abc_def0_u64;
    for n in 0..count {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let (line, code): (Vec<u8>, &str) = match state % 10 {
            0..=3 => (valid.clone().into_bytes(), "valid"),
            4 | 5 => {
                let (name, pass) = &passes[(state / 10) as usize % passes.len()];
                (pass.clone().into_bytes(), expected_code(name))
            }
            6 => (valid.replacen(':', "Ö", 1).into_bytes(), "keyboard_layout"),
            7 => (
                format!("garbage {n} \u{7f}\u{1b}[A").into_bytes(),
                "not_a_pass",
            ),
            8 => (vec![0xff, 0xfe, b'S', b'P', 0x00, 0x80], "not_a_pass"),
            _ => match n % 3 {
                0 => (
                    valid.as_bytes()[..valid.len() / 2].to_vec(),
                    "bad_signature",
                ),
                1 => (vec![b'A'; 100_000], "line_too_long"),
                _ => (format!("{valid}\r").into_bytes(), "valid"),
            },
        };
        bytes.extend_from_slice(&line);
        bytes.push(b'\n');
        codes.push(code);
    }
    (bytes, codes)
}

#[test]
fn a_thousand_mixed_lines_get_a_thousand_verdicts_in_order() {
    let city = City::new();
    let station = synced(&city);
    let (stream, expected) = scripted_stream(&city, 1000);
    let out = station.cmd(&["--json", "listen"]).stdin(stream).run();
    let verdicts = out.json();
    assert_eq!(verdicts.len(), 1000, "one verdict per line");
    for (n, (verdict, code)) in verdicts.iter().zip(&expected).enumerate() {
        assert_eq!(verdict["line"], n as u64 + 1, "in order");
        // Half a pass fails wherever its bytes end: any decode or signature refusal.
        if *code == "bad_signature" {
            assert_ne!(verdict["verdict"], "valid", "line {}: {verdict}", n + 1);
        } else {
            assert_eq!(verdict["code"], *code, "line {}: {verdict}", n + 1);
        }
    }
    assert_eq!(
        out.code, 2,
        "the worst verdict: some lines could not be decided"
    );
    let valid = verdicts.iter().filter(|v| v["valid"] == true).count();
    assert!(valid > 300, "{valid}");
}

#[test]
fn listen_for_people_golden() {
    let city = City::new();
    let station = synced(&city);
    let valid = city.valid_pass();
    let input = format!(
        "{valid}\n\n{}\nhello\nSP&M{}\n{}\n",
        city.named("revoked"),
        &valid[4..],
        valid.to_ascii_lowercase()
    );
    let out = station.cmd(&["listen"]).stdin(input).run();
    assert_eq!(out.code, 2);
    assert!(!out.stdout.contains('\x07'), "no bell without a terminal");
    out.golden("listen-mixed");
}

#[test]
fn picks_up_a_sync_made_while_listening() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::Stdio;
    let city = City::new();
    let station = Station::new();
    let usb = station.folder("usb");
    let roots = station.folder("ceremony").join("roots.cbor");
    std::fs::write(&roots, city.roots_file()).unwrap();
    let mut child = station
        .cmd(&["--json", "listen"])
        .command()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut ask = |line: &str| {
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
        let mut answer = String::new();
        stdout.read_line(&mut answer).unwrap();
        serde_json::from_str::<serde_json::Value>(&answer).unwrap()["code"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let pass = city.valid_pass();
    assert_eq!(ask(&pass), "no_trust_list");
    support::city::publish(&usb, &city.trust_list(1), Some(&city.current_status_list()));
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
    assert_eq!(ask(&pass), "valid");
    assert_eq!(ask(&city.named("revoked")), "pass_revoked");
    drop(stdin);
    assert_eq!(child.wait().unwrap().code(), Some(2));
}

#[test]
fn listen_json_golden_and_a_clock_set_back_refuses_every_line() {
    let city = City::new();
    let station = synced(&city);
    let input = format!("{}\nSP1;{}\n", city.valid_pass(), &city.valid_pass()[4..]);
    let out = station
        .cmd(&["--json", "listen"])
        .stdin(input.clone())
        .run();
    assert_eq!(out.codes(), ["valid", "keyboard_layout"]);
    out.golden("listen-json");
    // This device once saw a time a day later than its clock says now.
    let later = support::NOW.0 + 86_400;
    std::fs::write(station.state().join("clock"), format!("{later}\n")).unwrap();
    let out = station.cmd(&["--json", "listen"]).stdin(input).run();
    assert_eq!(out.codes(), ["clock_behind", "clock_behind"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("CLOCK SET BACK"), "{}", out.stderr);
}
