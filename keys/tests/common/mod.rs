//! A ceremony room for tests: a temporary directory, the real
//! `sealpass-keys` binary run without a terminal, and (when asked) a SoftHSM2
//! token of its own, so every test is hermetic.
#![allow(dead_code)]

use sealpass_core::Timestamp;
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};
use tempfile::TempDir;

pub const PASSPHRASE: &str = "Drum-Lantern-42-river";
pub const TOKEN: &str = "sealpass-test";
pub const PIN: &str = "87654321";
const SO_PIN: &str = "12345678";

pub struct Room {
    pub dir: TempDir,
    softhsm_conf: Option<PathBuf>,
    /// Everything the binary printed, stdout and stderr, in order.
    pub printed: RefCell<Vec<u8>>,
}

impl Room {
    pub fn new() -> Room {
        Room {
            dir: tempfile::tempdir().expect("a temporary directory"),
            softhsm_conf: None,
            printed: RefCell::new(Vec::new()),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap_or_else(|e| panic!("reading {name}: {e}"))
    }

    /// The binary, in this room, with the test passphrase and a cheap scrypt.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sealpass-keys"));
        command
            .args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .env_remove("SEALPASS_PKCS11_MODULE")
            .env("SEALPASS_TRANSCRIPT", self.path("transcript.jsonl"))
            .env("SEALPASS_PASSPHRASE", PASSPHRASE)
            .env("SEALPASS_PKCS11_PIN", PIN)
            // Key files at 2^10 instead of 2^18: debug-build scrypt is slow.
            .env("SEALPASS_DANGER_INSECURE_KDF_LOG_N", "10");
        if let Some(conf) = &self.softhsm_conf {
            command.env("SOFTHSM2_CONF", conf);
        }
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        let output = self.command(args).output().expect("the binary runs");
        let mut printed = self.printed.borrow_mut();
        printed.extend_from_slice(&output.stdout);
        printed.extend_from_slice(&output.stderr);
        output
    }

    /// Run and expect success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "sealpass-keys {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&output.stderr),
            String::from_utf8_lossy(&output.stdout)
        );
        String::from_utf8(output.stdout).expect("UTF-8 output")
    }

    /// Run and expect exit code 1; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let output = self.run(args);
        let stderr = String::from_utf8(output.stderr).expect("UTF-8 output");
        assert_eq!(
            output.status.code(),
            Some(1),
            "sealpass-keys {args:?} should have failed with exit 1: {stderr}"
        );
        assert!(stderr.contains("error: "), "no error message: {stderr}");
        stderr
    }

    /// A SoftHSM2 token of this room's own (token directory inside it).
    pub fn with_softhsm(&mut self) {
        let tokens = self.path("softhsm-tokens");
        std::fs::create_dir(&tokens).unwrap();
        let conf = self.path("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .unwrap();
        let status = Command::new("softhsm2-util")
            .args(["--init-token", "--free", "--label", TOKEN])
            .args(["--so-pin", SO_PIN, "--pin", PIN])
            .env("SOFTHSM2_CONF", &conf)
            .stdout(Stdio::null())
            .status()
            .expect("softhsm2-util is installed: run scripts/install-test-deps");
        assert!(status.success(), "softhsm2-util could not create a token");
        self.softhsm_conf = Some(conf);
    }

    /// Custodians NAME each make a key: NAME.key and NAME.pub.
    pub fn custodians(&self, names: &[&str]) {
        for name in names {
            self.ok(&["custodian", "new", "--name", &title(name), "--out", name]);
        }
    }

    /// The `kid` field of a .pub card.
    pub fn kid(&self, card: &str) -> String {
        let json: serde_json::Value = serde_json::from_slice(&self.read(card)).unwrap();
        json["kid"].as_str().unwrap().to_owned()
    }

    /// Five custodians (a to e), a file issuer key, the root set (3 of 5)
    /// and the unsigned first draft `list-1.draft`.
    pub fn first_draft(&self) {
        self.custodians(&["a", "b", "c", "d", "e"]);
        self.ok(&[
            "issuer",
            "new",
            "--issuer",
            "CN-610100",
            "--out",
            "issuer-file",
        ]);
        self.ok(&[
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
        self.ok(&[
            "draft",
            "--roots",
            "roots.cbor",
            "--add-issuer-key",
            "issuer-file.pub",
            "--max-pass-lifetime",
            "2d",
            "--out",
            "list-1.draft",
        ]);
    }

    /// `first_draft`, signed by a, b and c and finalized as `list-1.cose`.
    pub fn first_list(&self) {
        self.first_draft();
        for custodian in ["a", "b", "c"] {
            self.ok(&["sign", "--key", &format!("{custodian}.key"), "list-1.draft"]);
        }
        self.ok(&[
            "finalize",
            "--roots",
            "roots.cbor",
            "--out",
            "list-1.cose",
            "list-1.draft",
        ]);
    }

    /// `first_list`, then `list-2.cose`: a draft from it with no changes,
    /// signed by c, d and e and finalized against `list-1.cose`.
    pub fn second_list(&self) {
        self.first_list();
        self.ok(&["draft", "--current", "list-1.cose", "--out", "list-2.draft"]);
        for custodian in ["c", "d", "e"] {
            self.ok(&["sign", "--key", &format!("{custodian}.key"), "list-2.draft"]);
        }
        self.ok(&[
            "finalize",
            "--current",
            "list-1.cose",
            "--out",
            "list-2.cose",
            "list-2.draft",
        ]);
    }

    /// Every regular file under the room, recursively.
    pub fn files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.push(path);
                }
            }
        }
        let mut out = Vec::new();
        walk(self.dir.path(), &mut out);
        out
    }
}

/// `a` -> `Custodian A`.
pub fn title(name: &str) -> String {
    format!("Custodian {}", name.to_uppercase())
}

pub fn now() -> Timestamp {
    Timestamp(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
}

/// The pass text a `issuer test-pass` printed.
pub fn pass_text(stdout: &str) -> String {
    stdout
        .lines()
        .find(|line| line.starts_with("SP1:"))
        .expect("a pass text line")
        .to_owned()
}
