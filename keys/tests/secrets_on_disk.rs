//! No secret key byte is ever written unencrypted: after a ceremony that
//! makes, opens and uses every kind of key, every file in the room (and
//! every name in it), and everything the tool printed, is searched for each
//! secret in every form it could leak in.

mod common;

use common::{PASSPHRASE, Room};
use sealpass_keys::keyfile::{KeyRole, SealedKey};
use sealpass_keys::passphrase::Passphrase;
use sha2::{Digest, Sha512};
use std::os::unix::fs::PermissionsExt;

#[test]
fn no_secret_key_byte_is_on_disk_unencrypted() {
    let mut room = Room::new();
    room.with_softhsm();
    // Every command that reads or uses a secret runs at least once.
    room.first_list();
    room.ok(&[
        "issuer",
        "new",
        "--issuer",
        "CN-610100",
        "--out",
        "issuer-hsm",
        "--pkcs11-token",
        common::TOKEN,
    ]);
    room.ok(&["issuer", "test-pass", "issuer-file.pub"]);
    room.ok(&["issuer", "test-pass", "issuer-hsm.pub"]);

    let passphrase = Passphrase::new(PASSPHRASE.into());
    let mut secrets: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, role) in [
        ("a", KeyRole::Custodian),
        ("b", KeyRole::Custodian),
        ("c", KeyRole::Custodian),
        ("d", KeyRole::Custodian),
        ("e", KeyRole::Custodian),
        ("issuer-file", KeyRole::Issuer),
    ] {
        let file = format!("{name}.key");
        let mode = std::fs::metadata(room.path(&file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file} must be owner-only");
        let sealed = SealedKey::from_json(&room.read(&file)).unwrap();
        let seed = sealed.open(&passphrase, role).unwrap().to_bytes();
        let expanded = Sha512::digest(seed);
        for (form, bytes) in [
            ("seed", seed.to_vec()),
            ("seed as hex", hex::encode(seed).into_bytes()),
            ("seed as HEX", hex::encode_upper(seed).into_bytes()),
            ("secret scalar", expanded[..32].to_vec()),
            ("nonce prefix", expanded[32..].to_vec()),
        ] {
            secrets.push((format!("{form} of {file}"), bytes));
        }
    }
    assert!(secrets.iter().all(|(_, s)| !s.is_empty()));

    let printed = room.printed.borrow();
    assert!(!printed.is_empty());
    for (what, secret) in &secrets {
        assert!(
            !printed
                .windows(secret.len())
                .any(|w| w == secret.as_slice()),
            "the {what} was printed"
        );
    }

    let files = room.files();
    assert!(files.len() > 20, "the ceremony wrote its files: {files:?}");
    for path in &files {
        let content = std::fs::read(path).unwrap();
        let name = path
            .strip_prefix(room.dir.path())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        for (what, secret) in &secrets {
            assert!(
                !content
                    .windows(secret.len())
                    .any(|window| window == secret.as_slice()),
                "the {what} is in {name}"
            );
            assert!(
                !name
                    .as_bytes()
                    .windows(secret.len())
                    .any(|w| w == secret.as_slice()),
                "the {what} is in a file name"
            );
        }
    }
}
