//! The web verifier against the core's forged and hostile pass vectors
//! (core/tests/vectors/README.md; security review, issue 15): every case
//! file in `core/tests/vectors/pass/` goes through the page's `Checkpoint`
//! as a phone meets it (the ceremony's root set pinned, the trust list
//! offered as a sync brings it, the status list offered when the case has
//! one, the profile chosen, the pass typed) and must get the case's
//! `expect` as its verdict's `code`. No case is skipped: a case this test
//! cannot set up fails it.

use sealpass_core::testkit::vectors;
use sealpass_web::Checkpoint;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../core/tests/vectors")
}

fn json(text: String) -> Value {
    serde_json::from_str(&text).unwrap()
}

/// The bytes a value names: a fixture file, or hex.
fn bytes(value: &str) -> Vec<u8> {
    if !vectors::is_fixture(value) {
        return vectors::hex_bytes(value);
    }
    let text = std::fs::read_to_string(vectors_dir().join(value))
        .unwrap_or_else(|e| panic!("{value}: {e}"));
    vectors::hex_bytes(&text)
}

/// The phone of one case, or why it could not be set up.
fn checkpoint(case: &BTreeMap<String, String>, now_ms: f64) -> Result<Checkpoint, String> {
    let field = |key: &str| case.get(key).ok_or(format!("no `{key}:` line"));
    let mut checkpoint = Checkpoint::new();
    let pinned = json(checkpoint.pin_roots(&bytes("fixtures/roots.hex")));
    if pinned["ok"] != true {
        return Err(format!("roots.hex does not pin: {pinned}"));
    }
    let trust_list = bytes(field("trust-list")?);
    let offered = json(checkpoint.offer_trust_list("trust-list.cbor", &trust_list, now_ms));
    match offered["result"].as_str() {
        Some("bootstrapped") => {}
        // A sync never accepts an expired list (T6), but a phone may hold
        // one it accepted before it expired: the case's checkpoint "holds"
        // its trust list, so it is loaded as stored (restored against the
        // pinned roots), and deciding is then the verifier's business.
        Some("refused") if offered["code"] == "trust_list_expired" => {
            let loaded = json(checkpoint.load_trust_list(&trust_list));
            if loaded["ok"] != true {
                return Err(format!("the expired trust list does not load: {loaded}"));
            }
        }
        _ => return Err(format!("the trust list is not accepted: {offered}")),
    }
    if let Some(status_list) = case.get("status-list") {
        let status_list = bytes(status_list);
        let sources = json(checkpoint.status_list_sources());
        let accepted = sources
            .as_array()
            .unwrap()
            .iter()
            .map(|source| {
                let issuer = source["issuer"].as_str().unwrap();
                json(checkpoint.offer_status_list(issuer, "s", &status_list, now_ms))
            })
            .filter(|report| report["result"] == "accepted")
            .count();
        if accepted != 1 {
            return Err(format!(
                "the status list is not accepted for one issuer of {sources}"
            ));
        }
    }
    let policy = field("policy")?;
    if !checkpoint.set_policy(policy) {
        return Err(format!("no built-in profile `{policy}`"));
    }
    Ok(checkpoint)
}

#[test]
fn every_pass_vector_gives_its_expected_code_through_the_web_checkpoint() {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(vectors_dir().join("pass"))
        .expect("core/tests/vectors/pass")
        .map(|entry| entry.unwrap().path())
        .collect();
    paths.sort();
    assert!(paths.len() >= 80, "only {} pass cases found", paths.len());
    let mut failures = Vec::new();
    for path in &paths {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let case = vectors::case_fields(&std::fs::read_to_string(path).unwrap());
        assert_eq!(case.get("kind").map(String::as_str), Some("pass"), "{name}");
        let now: u64 = case["now"].parse().expect("now: Unix seconds");
        let now_ms = now as f64 * 1000.0;
        let mut checkpoint = match checkpoint(&case, now_ms) {
            Ok(checkpoint) => checkpoint,
            Err(why) => {
                failures.push(format!("{name}: not set up: {why}"));
                continue;
            }
        };
        let verdict = json(checkpoint.verify_text(&case["pass"], now_ms));
        // The verdict says more than the core where a person can act on it:
        // a pass lowercased on its way in is Caps Lock (as on the command line).
        let expect = match name.as_str() {
            "lowercase-base45.txt" => "keyboard_layout",
            _ => case["expect"].as_str(),
        };
        if verdict["code"] != expect {
            failures.push(format!("{name}: expected {expect}, got {verdict}"));
        }
        // A valid verdict is exactly the expected ones; everything else is
        // refused or undecided, never shown green.
        assert_eq!(verdict["valid"], expect == "valid", "{name}: {verdict}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases:\n{}",
        failures.len(),
        paths.len(),
        failures.join("\n")
    );
}
