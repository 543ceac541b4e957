//! `show --json` and `verify --json` through the real binary: the facts
//! the sentences give, as data a script can read, with the same exit codes.

mod common;

use common::Room;
use serde_json::Value;
use sha2::{Digest, Sha256};

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[test]
fn show_json_gives_a_lists_signatures_roots_and_keys_as_data() {
    let room = Room::new();
    room.first_list();
    let list = json(&room.ok(&["show", "--json", "list-1.cose"]));
    assert_eq!(list["kind"], "trust_list");
    assert_eq!(list["sequence"], 1);
    assert_eq!(list["expired"], false);
    assert_eq!(list["roots"]["threshold"], 3);
    assert_eq!(list["roots"]["custodians"].as_array().unwrap().len(), 5);
    assert_eq!(list["roots"]["custodians"][0]["kid"], room.kid("a.pub"));
    let key = &list["issuer_keys"][0];
    assert_eq!(key["issuer"], "CN-610100");
    assert_eq!(key["status"], "active");
    assert_eq!(key["max_pass_lifetime_seconds"], 2 * 86_400);
    let counted = &list["counted"][0];
    assert_eq!(counted["against"], "its own");
    assert_eq!(counted["distinct_valid"], 3);
    assert_eq!(counted["threshold_met"], true);
    assert_eq!(counted["signatures"][0]["result"], "valid");
    assert_eq!(counted["signatures"][0]["custodian"], "Custodian A");
    let file = hex::encode(Sha256::digest(room.read("list-1.cose")));
    assert_eq!(list["sha256"], file);

    // A draft two custodians signed: the threshold is not met.
    room.ok(&["draft", "--current", "list-1.cose", "--out", "list-2.draft"]);
    for custodian in ["d", "e"] {
        room.ok(&["sign", "--key", &format!("{custodian}.key"), "list-2.draft"]);
    }
    let draft = json(&room.ok(&["show", "--json", "list-2.draft"]));
    assert_eq!(draft["counted"][0]["distinct_valid"], 2);
    assert_eq!(draft["counted"][0]["threshold_met"], false);
}

#[test]
fn show_json_reads_root_sets_cards_and_key_files_without_their_secrets() {
    let room = Room::new();
    room.first_draft();
    let roots = json(&room.ok(&["show", "--json", "roots.cbor"]));
    assert_eq!(roots["kind"], "root_set");
    assert_eq!(roots["threshold"], 3);
    assert_eq!(roots["custodians"][4]["name"], "Custodian E");

    let card = json(&room.ok(&["show", "--json", "a.pub"]));
    assert_eq!(card["kind"], "custodian_card");
    assert_eq!(card["card"]["kid"], room.kid("a.pub"));

    let sealed = room.ok(&["show", "--json", "a.key"]);
    let key = json(&sealed);
    assert_eq!(key["kind"], "sealed_key");
    assert_eq!(key["role"], "custodian");
    assert_eq!(key["kid"], room.kid("a.pub"));
    let on_file = json(&String::from_utf8(room.read("a.key")).unwrap());
    for (field, value) in on_file.as_object().unwrap() {
        if let Some(text) = value.as_str().filter(|t| t.len() >= 32) {
            assert!(!sealed.contains(text), "{field} of the key file is printed");
        }
    }
}

#[test]
fn verify_json_says_refused_with_the_code_and_exits_1() {
    let room = Room::new();
    room.second_list();
    let accepted = json(&room.ok(&["verify", "--json", "--roots", "roots.cbor", "list-1.cose"]));
    assert_eq!(accepted["accepted"], true);
    assert_eq!(accepted["refusal"], Value::Null);

    let output = room.run(&[
        "verify",
        "--json",
        "--current",
        "list-2.cose",
        "list-1.cose",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let refused = json(&String::from_utf8(output.stdout).unwrap());
    assert_eq!(refused["accepted"], false);
    assert_eq!(refused["refusal"]["code"], "rollback");
    assert_eq!(refused["sequence"], 1);
}
