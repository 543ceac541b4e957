//! The named failures of the key ceremony: each is refused with a message a
//! custodian can act on, and exit code 1, through the real binary.

mod common;

use common::Room;
use sealpass_core::{SignedTrustList, cose};

#[test]
fn two_signatures_do_not_finalize_a_3_of_5_list() {
    let room = Room::new();
    room.first_draft();
    for custodian in ["a", "b"] {
        room.ok(&["sign", "--key", &format!("{custodian}.key"), "list-1.draft"]);
    }
    let err = room.fails(&[
        "finalize",
        "--roots",
        "roots.cbor",
        "--out",
        "list-1.cose",
        "list-1.draft",
    ]);
    assert!(
        err.contains("signed by 2 distinct custodians of the pinned root set (Custodian A, Custodian B); 3 are needed"),
        "{err}"
    );
    assert!(
        err.contains("1 more of Custodian C, Custodian D, Custodian E"),
        "{err}"
    );
    assert!(!room.path("list-1.cose").exists(), "nothing is written");
    let verdict = room.run(&["verify", "--roots", "roots.cbor", "list-1.draft"]);
    assert_eq!(verdict.status.code(), Some(1));
}

#[test]
fn one_custodian_signing_twice_is_refused() {
    let room = Room::new();
    room.first_draft();
    room.ok(&["sign", "--key", "a.key", "list-1.draft"]);
    let before = room.read("list-1.draft");
    let err = room.fails(&["sign", "--key", "a.key", "list-1.draft"]);
    assert!(err.contains("Custodian A (key id"), "{err}");
    assert!(
        err.contains("already signed this draft (signature 1); each custodian signs once"),
        "{err}"
    );
    assert_eq!(room.read("list-1.draft"), before, "the draft is unchanged");
}

#[test]
fn a_key_outside_the_root_set_cannot_sign() {
    let room = Room::new();
    room.first_draft();
    room.custodians(&["mallory"]);
    let err = room.fails(&["sign", "--key", "mallory.key", "list-1.draft"]);
    assert!(
        err.contains("(Custodian MALLORY) is not a custodian of this draft's root set"),
        "{err}"
    );
    // An issuer key is not a root key either.
    let err = room.fails(&["sign", "--key", "issuer-file.key", "list-1.draft"]);
    assert!(
        err.contains("trust lists are signed with custodian root keys"),
        "{err}"
    );
}

#[test]
fn a_draft_tampered_after_signing_is_refused() {
    let room = Room::new();
    room.first_draft();
    for custodian in ["a", "b", "c"] {
        room.ok(&["sign", "--key", &format!("{custodian}.key"), "list-1.draft"]);
    }
    // Someone gives the list ten more years and keeps the signatures.
    let signed = room.read("list-1.draft");
    let mut list = SignedTrustList::from_bytes(&signed).unwrap().list().clone();
    list.expires_at = list.expires_at.plus(sealpass_core::Seconds::days(3650));
    let parsed = cose::parse_sign(&signed).unwrap();
    let signatures: Vec<_> = parsed
        .signatures
        .iter()
        .map(|s| (s.protected.bytes.to_vec(), s.signature))
        .collect();
    std::fs::write(
        room.path("list-1.draft"),
        cose::encode_sign(&list.to_cbor(), &signatures),
    )
    .unwrap();

    let err = room.fails(&[
        "finalize",
        "--roots",
        "roots.cbor",
        "--out",
        "list-1.cose",
        "list-1.draft",
    ]);
    assert!(
        err.contains("the draft was changed after it was signed: the signature of Custodian A"),
        "{err}"
    );
    let err = room.fails(&["sign", "--key", "d.key", "list-1.draft"]);
    assert!(err.contains("was changed after it was signed"), "{err}");
    assert!(err.contains("Do not sign it"), "{err}");
    let shown = room.ok(&["show", "list-1.draft"]);
    assert!(shown.contains("Custodian A: DOES NOT VERIFY"), "{shown}");
}

#[test]
fn a_lower_or_equal_sequence_is_refused() {
    let room = Room::new();
    room.second_list();
    // Equal: the first list's draft offered again on top of the first list.
    let err = room.fails(&[
        "finalize",
        "--current",
        "list-1.cose",
        "--out",
        "again.cose",
        "list-1.draft",
    ]);
    assert!(
        err.contains("sequence 1 is not higher than the current list's 1"),
        "{err}"
    );

    // Lower: list 1 replayed to a verifier holding list 2.
    let output = room.run(&["verify", "--current", "list-2.cose", "list-1.cose"]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("REFUSED (rollback): sequence 1 is not newer than the trusted list's 2"),
        "{stdout}"
    );
    let err = room.fails(&[
        "finalize",
        "--current",
        "list-2.cose",
        "--out",
        "old.cose",
        "list-1.draft",
    ]);
    assert!(
        err.contains("sequence 1 is not higher than the current list's 2"),
        "{err}"
    );
}

#[test]
fn a_wrong_passphrase_is_refused() {
    let room = Room::new();
    room.first_draft();
    let before = room.read("list-1.draft");
    let output = room
        .command(&["sign", "--key", "a.key", "list-1.draft"])
        .env("SEALPASS_PASSPHRASE", "Drum-Lantern-43-river")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let err = String::from_utf8(output.stderr).unwrap();
    assert!(err.contains("cannot open a.key: wrong passphrase"), "{err}");
    assert_eq!(room.read("list-1.draft"), before, "the draft is unchanged");
}

#[test]
fn a_weak_passphrase_is_refused_for_a_new_key() {
    let room = Room::new();
    let output = room
        .command(&["custodian", "new", "--name", "Wang Li", "--out", "wang"])
        .env("SEALPASS_PASSPHRASE", "password2026!")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let err = String::from_utf8(output.stderr).unwrap();
    assert!(err.contains("one of the most common passwords"), "{err}");
    assert!(!room.path("wang.key").exists());
}

#[test]
fn an_existing_key_file_is_never_overwritten() {
    let room = Room::new();
    room.custodians(&["a"]);
    let key = room.read("a.key");
    let err = room.fails(&["custodian", "new", "--name", "Someone Else", "--out", "a"]);
    assert!(err.contains("refusing to overwrite existing file"), "{err}");
    assert!(err.contains("a.key"), "{err}");
    assert_eq!(room.read("a.key"), key);
    let err = room.fails(&["issuer", "new", "--issuer", "CN-610100", "--out", "a"]);
    assert!(err.contains("refusing to overwrite existing file"), "{err}");
    assert_eq!(room.read("a.key"), key);
}

#[test]
fn a_transcript_with_one_entry_altered_is_refused() {
    let room = Room::new();
    room.first_draft();
    let head = room.ok(&["transcript", "verify"]);
    let head = head
        .lines()
        .last()
        .unwrap()
        .trim_start_matches("head hash: ")
        .to_owned();

    let path = room.path("transcript.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let altered = text.replacen(
        "made the root key of custodian Custodian C",
        "made the root key of custodian Mallory",
        1,
    );
    assert_ne!(altered, text);
    std::fs::write(&path, altered).unwrap();

    let err = room.fails(&["transcript", "verify"]);
    assert!(
        err.contains("transcript entry 3 was altered after it was written"),
        "{err}"
    );
    // No ceremony step extends a broken transcript.
    let err = room.fails(&["sign", "--key", "a.key", "list-1.draft"]);
    assert!(err.contains("is not sound; nothing was done"), "{err}");

    // Restored, the chain holds and the witnessed head hash is found.
    std::fs::write(&path, text).unwrap();
    let verified = room.ok(&["transcript", "verify", "--head", &head]);
    assert!(
        verified.contains("entries were added after it"),
        "{verified}"
    );
}
