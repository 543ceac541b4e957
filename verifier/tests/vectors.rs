//! The core's test vectors (core/tests/vectors/pass) through the real
//! binary: every pass case is offered to `verify` with the case's trust
//! list, status list, policy and clock, and must get the case's code; and
//! every one a QR code can carry is rendered to PNG and must get the same
//! verdict from `scan`.

mod support;

use sealpass_core::testkit::vectors;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use support::Station;
use support::images::{png, render};

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/vectors")
}

/// A case file's `key: value` lines.
fn read_case(path: &Path) -> BTreeMap<String, String> {
    vectors::case_fields(&std::fs::read_to_string(path).unwrap())
}

/// A fixture path or inline hex, as bytes.
fn bytes(value: &str) -> Vec<u8> {
    if !vectors::is_fixture(value) {
        return vectors::hex_bytes(value);
    }
    vectors::hex_bytes(&std::fs::read_to_string(vectors_dir().join(value)).unwrap())
}

/// The code the binary gives where it says more than the core: a pass
/// lowercased on its way in is Caps Lock, and says so.
fn cli_code(name: &str, core_code: &str) -> String {
    match name {
        "lowercase-base45" => "keyboard_layout".into(),
        _ => core_code.into(),
    }
}

#[test]
fn every_pass_vector_gets_its_code_from_verify_and_from_scan() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(vectors_dir().join("pass"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 50, "the core's vectors are there");
    let mut scanned = 0;
    for path in &cases {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let case = read_case(path);
        let station = Station::new();
        let status = case.get("status-list").map(|v| bytes(v));
        station.store(&bytes(&case["trust-list"]), status.as_deref());
        let now: u64 = case["now"].parse().unwrap();
        let pass = &case["pass"];
        let expected = cli_code(&name, &case["expect"]);
        let out = station
            .cmd(&["--json", "--policy", &case["policy"], "verify", "--", pass])
            .now(now)
            .run();
        assert_eq!(out.codes(), [expected.as_str()], "{name}: {}", out.stderr);
        let exit = match out.json_one()["verdict"].as_str().unwrap() {
            "valid" => 0,
            "not_valid" => 1,
            _ => 2,
        };
        assert_eq!(out.code, exit, "{name}");

        // What a QR code can carry, a camera can bring in.
        if pass.is_empty() || pass.len() > 2000 {
            continue;
        }
        let image = station.folder("qr").join(format!("{name}.png"));
        std::fs::write(&image, png(&render(pass, 3))).unwrap();
        let image = image.display().to_string();
        let scan = station
            .cmd(&["--json", "--policy", &case["policy"], "scan", &image])
            .now(now)
            .run();
        assert_eq!(scan.codes(), [expected.as_str()], "{name} scanned");
        scanned += 1;
    }
    eprintln!(
        "{} pass vectors verified, {scanned} of them scanned from PNG",
        cases.len()
    );
}
