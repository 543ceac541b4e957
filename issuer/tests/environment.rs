//! The issuer reads no test-only environment switch (issue 15, finding 8):
//! every variable its source reads is one of the documented production
//! settings, and none is named like a test or danger switch. (The
//! workspace's test-only switches, `SEALPASS_DANGER_INSECURE_KDF_LOG_N` of
//! the keys tool and the verifier's test clock, live in those crates, which
//! refuse them in release builds; the issuer has none to refuse.)

use std::path::Path;

/// Every environment variable the issuer may read.
const DOCUMENTED: &[&str] = &[
    "SEALPASS_STORE",
    "SEALPASS_LOG",
    "SEALPASS_LOG_FORMAT",
    "SEALPASS_ADMIN_LISTEN",
    "SEALPASS_ISSUER_KEY_CARD",
    "SEALPASS_PASSPHRASE",
    "SEALPASS_PKCS11_PIN",
    "SEALPASS_PUBLIC_CONFIG",
    "SEALPASS_PUBLIC_LISTEN",
    "SEALPASS_METRICS_LISTEN",
    "SEALPASS_VERIFIER_APP",
    "SEALPASS_ROOTS",
    "SEALPASS_MAX_CONNECTIONS",
    "SEALPASS_IDLE_TIMEOUT",
    "SEALPASS_FIRST_REQUEST_TIMEOUT",
    "SEALPASS_HEADER_READ_TIMEOUT",
    "SEALPASS_MAX_CONNECTIONS_PER_CLIENT",
    "SEALPASS_MAX_IN_FLIGHT",
    "SEALPASS_MAX_QUEUE_DELAY",
    "SEALPASS_CLIENT_RATE",
    "SEALPASS_CLIENT_BURST",
    "SEALPASS_REQUEST_TIMEOUT",
    "SEALPASS_RETRY_AFTER",
    "SEALPASS_DEVICE_BINDING",
];

fn sources(dir: &Path, found: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push((
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
            ));
        }
    }
}

#[test]
fn the_issuer_reads_only_documented_production_variables() {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut read = Vec::new();
    for (path, text) in &files {
        for (at, _) in text.match_indices("SEALPASS_") {
            let name: String = text[at..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            read.push((path.clone(), name));
        }
        for call in ["env::var(", "env::var_os(", "env::vars("] {
            for (at, _) in text.match_indices(call) {
                let argument = &text[at + call.len()..];
                assert!(
                    argument.starts_with('"'),
                    "{path}: an environment variable read by a computed name: {}",
                    &argument[..argument.len().min(40)]
                );
            }
        }
    }
    assert!(!read.is_empty());
    for (path, name) in read {
        assert!(
            DOCUMENTED.contains(&name.as_str()),
            "{path} reads {name}, which is not a documented production setting"
        );
        for word in ["TEST", "DANGER", "INSECURE", "DEBUG", "FAKE", "NOW"] {
            assert!(
                !name.contains(word),
                "{path}: {name} looks like a test switch"
            );
        }
    }
}
