//! The acceptance ceremony, end to end through the real binary and without a
//! terminal: five custodians, 3 of 5; one issuer key in a file and one in a
//! SoftHSM2 token; the first list verified by the core against the exported
//! root set; then a second list that revokes the file key and rotates one
//! custodian, accepted by `TrustedList::update`.

mod common;

use common::{Room, now, pass_text};
use sealpass_core::{
    CheckpointPolicy, KeyStatus, Kid, RootSet, TrustUpdate, TrustedList, Verifier,
};

#[test]
fn three_of_five_ceremony_with_file_and_token_keys_then_revocation_and_rotation() {
    let mut room = Room::new();
    room.with_softhsm();

    // 1. Five custodians make their root keys.
    room.custodians(&["a", "b", "c", "d", "e"]);

    // 2. Two issuer keys: one sealed in a file, one generated in the token.
    room.ok(&[
        "issuer",
        "new",
        "--issuer",
        "CN-610100",
        "--out",
        "issuer-file",
    ]);
    let card = room.ok(&[
        "issuer",
        "new",
        "--issuer",
        "CN-610100",
        "--out",
        "issuer-hsm",
        "--pkcs11-token",
        common::TOKEN,
        "--status-list-url",
        "https://health.example/sealpass/status/CN-610100",
    ]);
    assert!(card.contains("PKCS#11 token \"sealpass-test\""), "{card}");
    assert!(
        !room.path("issuer-hsm.key").exists(),
        "a token key has no key file"
    );

    // 3. The root set verifiers pin, and the first draft.
    let roots_out = room.ok(&[
        "roots",
        "new",
        "--threshold",
        "3",
        "--out",
        "roots.cbor",
        "a.pub",
        "b.pub",
        "c.pub",
        "d.pub",
        "e.pub",
    ]);
    assert!(
        roots_out.contains("any 3 of these 5 custodians"),
        "{roots_out}"
    );
    room.ok(&[
        "draft",
        "--roots",
        "roots.cbor",
        "--add-issuer-key",
        "issuer-file.pub",
        "--add-issuer-key",
        "issuer-hsm.pub",
        "--max-pass-lifetime",
        "2d",
        "--out",
        "list-1.draft",
    ]);

    // 4. Three custodians sign, each in turn; then finalize.
    for custodian in ["b", "d", "e"] {
        room.ok(&["sign", "--key", &format!("{custodian}.key"), "list-1.draft"]);
    }
    let finalized = room.ok(&[
        "finalize",
        "--roots",
        "roots.cbor",
        "--out",
        "list-1.cose",
        "list-1.draft",
    ]);
    assert!(finalized.contains("3 distinct custodians signed, 3 required: threshold met"));
    assert!(
        room.ok(&["verify", "--roots", "roots.cbor", "list-1.cose"])
            .contains("ACCEPTED")
    );

    // 5. A verifier pins the exported root set and bootstraps from list 1.
    room.ok(&[
        "roots",
        "export",
        "--list",
        "list-1.cose",
        "--out",
        "roots-export.cbor",
    ]);
    assert_eq!(room.read("roots-export.cbor"), room.read("roots.cbor"));
    let pinned = RootSet::from_cbor(&room.read("roots.cbor")).unwrap();
    let trusted = TrustedList::bootstrap(&pinned, &room.read("list-1.cose"), now()).unwrap();
    assert_eq!(trusted.list().sequence, 1);
    assert_eq!(trusted.list().issuer_keys.len(), 2);

    // 6. Both issuer keys sign passes the core accepts under list 1: the
    // token key through PKCS#11 (CKM_EDDSA), the file key after decryption.
    // No issuer runs in the ceremony room, so no status list exists yet:
    // what is checked here is whose signatures the list admits.
    let policy: CheckpointPolicy = "colours = green; danger-accept-unchecked-revocation = yes"
        .parse()
        .unwrap();
    let hsm_pass = pass_text(&room.ok(&["issuer", "test-pass", "issuer-hsm.pub"]));
    let file_pass = pass_text(&room.ok(&["issuer", "test-pass", "issuer-file.pub"]));
    for text in [&hsm_pass, &file_pass] {
        let pass = Verifier::new(&trusted, &policy)
            .verify(text, now())
            .unwrap();
        assert_eq!(pass.claims().issuer, "CN-610100");
    }

    // 7. List 2: revoke the file key; replace custodian E by a new custodian F.
    room.custodians(&["f"]);
    let file_kid = room.kid("issuer-file.pub");
    let replaced = format!("{}=f.pub", room.kid("e.pub"));
    let drafted = room.ok(&[
        "draft",
        "--current",
        "list-1.cose",
        "--revoke",
        &file_kid,
        "--replace-custodian",
        &replaced,
        "--out",
        "list-2.draft",
    ]);
    assert!(
        drafted.contains("custodian removed: Custodian E"),
        "{drafted}"
    );
    assert!(
        drafted.contains("custodian added: Custodian F"),
        "{drafted}"
    );
    // Old roots a, b, e and new roots a, b, f: three of each set.
    for custodian in ["a", "b", "e", "f"] {
        room.ok(&[
            "sign",
            "--current",
            "list-1.cose",
            "--key",
            &format!("{custodian}.key"),
            "list-2.draft",
        ]);
    }
    let finalized = room.ok(&[
        "finalize",
        "--current",
        "list-1.cose",
        "--out",
        "list-2.cose",
        "list-2.draft",
    ]);
    assert!(
        finalized.contains("counted against the new root set"),
        "{finalized}"
    );

    // 8. The verifier holding list 1 accepts list 2 (T3 and T4).
    let TrustUpdate::Replaced(updated) = trusted.update(&room.read("list-2.cose"), now()).unwrap()
    else {
        panic!("list 2 is a new list");
    };
    assert_eq!(updated.list().sequence, 2);
    let custodians: Vec<&str> = updated
        .list()
        .roots
        .keys
        .iter()
        .map(|k| k.custodian.as_str())
        .collect();
    assert_eq!(
        custodians,
        [
            "Custodian A",
            "Custodian B",
            "Custodian C",
            "Custodian D",
            "Custodian F"
        ]
    );
    let file_key = Kid(hex::decode(&file_kid).unwrap().try_into().unwrap());
    assert_eq!(
        updated.list().issuer_key(file_key).unwrap().status,
        KeyStatus::Revoked
    );

    // 9. The leaked key's pass is refused at once; the token key's still passes.
    let refused = Verifier::new(&updated, &policy)
        .verify(&file_pass, now())
        .unwrap_err();
    assert_eq!(refused.code(), "issuer_key_revoked");
    Verifier::new(&updated, &policy)
        .verify(&hsm_pass, now())
        .unwrap();

    // 10. The transcript holds every step, chained.
    let transcript = room.ok(&["transcript", "verify"]);
    assert!(transcript.contains("chain intact"), "{transcript}");
    assert!(transcript.contains("head hash: "), "{transcript}");
    let shown = room.ok(&["transcript", "show"]);
    for action in [
        "custodian new",
        "issuer new",
        "roots new",
        "draft",
        "sign",
        "finalize",
    ] {
        assert!(shown.contains(action), "{action} missing from {shown}");
    }
}
