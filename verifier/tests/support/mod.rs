//! What the command-line tests share: running the real binary with a pinned
//! clock and its own state directory, golden files, a test city's keys and
//! lists, a loopback HTTP server, and QR images.
#![allow(dead_code)]

pub mod city;
pub mod images;
pub mod server;

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[allow(unused_imports)]
pub use city::{City, NOW};

/// A checkpoint under test: its own state directory in a temporary folder.
pub struct Station {
    pub dir: tempfile::TempDir,
}

impl Station {
    pub fn new() -> Station {
        Station {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    pub fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// A folder in the temporary directory, e.g. a USB stick's contents.
    pub fn folder(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(&path).unwrap();
        path
    }

    /// The binary with this state and the clock pinned at [`NOW`].
    pub fn cmd(&self, args: &[&str]) -> Cmd {
        Cmd {
            args: args.iter().map(|a| a.to_string()).collect(),
            env: vec![
                (
                    "SEALPASS_STATE_DIR".into(),
                    self.state().display().to_string(),
                ),
                ("SEALPASS_TEST_NOW".into(), NOW.0.to_string()),
            ],
            stdin: Vec::new(),
            tmp: self.dir.path().to_owned(),
        }
    }

    /// Put the lists a sync would store straight into the state directory,
    /// with the trust list's own roots as the pinned root set.
    pub fn store(&self, trust_list: &[u8], status_list: Option<&[u8]>) {
        let state = self.state();
        std::fs::create_dir_all(state.join("status")).unwrap();
        if let Ok(signed) = sealpass_core::SignedTrustList::from_bytes(trust_list) {
            std::fs::write(state.join("roots.cbor"), signed.list().roots.to_cbor()).unwrap();
        }
        std::fs::write(state.join("trust-list.cbor"), trust_list).unwrap();
        if let Some(status) = status_list {
            std::fs::write(state.join("status/CN-610100.cbor"), status).unwrap();
        }
    }
}

pub struct Cmd {
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdin: Vec<u8>,
    tmp: PathBuf,
}

impl Cmd {
    pub fn now(mut self, unix_seconds: u64) -> Cmd {
        self.env.retain(|(k, _)| k != "SEALPASS_TEST_NOW");
        self.env
            .push(("SEALPASS_TEST_NOW".into(), unix_seconds.to_string()));
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Cmd {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Cmd {
        self.stdin = bytes.into();
        self
    }

    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sealpass-verifier"));
        command.args(&self.args);
        for var in [
            "SEALPASS_POLICY",
            "NO_COLOR",
            "http_proxy",
            "HTTP_PROXY",
            "https_proxy",
            "HTTPS_PROXY",
            "all_proxy",
            "ALL_PROXY",
        ] {
            command.env_remove(var);
        }
        command.env("COLUMNS", "100");
        // Goldens in UTC whatever this machine's zone; a test sets TZ to see another.
        command.env("TZ", "UTC");
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command
    }

    pub fn run(self) -> Output {
        let mut child = self
            .command()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let mut stdin = child.stdin.take().unwrap();
        let input = self.stdin.clone();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let output = child.wait_with_output().expect("the binary runs");
        writer.join().unwrap();
        let stderr = String::from_utf8(output.stderr).expect("UTF-8 on stderr");
        assert!(
            !stderr.contains("panicked"),
            "the binary panicked: {stderr}"
        );
        Output {
            code: output.status.code().expect("exited, not killed"),
            stdout: String::from_utf8(output.stdout).expect("UTF-8 on stdout"),
            stderr,
            args: self.args,
            tmp: self.tmp,
        }
    }
}

#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub args: Vec<String>,
    tmp: PathBuf,
}

impl Output {
    /// One JSON object per stdout line.
    pub fn json(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect()
    }

    pub fn json_one(&self) -> Value {
        let mut all = self.json();
        assert_eq!(all.len(), 1, "{}", self.stdout);
        all.remove(0)
    }

    pub fn codes(&self) -> Vec<String> {
        self.json()
            .iter()
            .map(|v| v["code"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Compare with `tests/golden/<name>.txt`, or write it when
    /// `UPDATE_GOLDEN=1`. Temporary paths and server ports are replaced by
    /// `$TMP` and `SERVER` so the files do not depend on the run.
    pub fn golden(&self, name: &str) -> &Output {
        self.golden_with(name, &[])
    }

    pub fn golden_with(&self, name: &str, replace: &[(&str, &str)]) -> &Output {
        let mut text = format!(
            "# written by the tests with UPDATE_GOLDEN=1; never edit by hand\n$ sealpass-verifier {}\nexit {}\n--- stdout\n{}--- stderr\n{}",
            self.args
                .iter()
                .map(|a| shell_word(a))
                .collect::<Vec<_>>()
                .join(" "),
            self.code,
            self.stdout,
            self.stderr
        );
        let tmp = self.tmp.display().to_string();
        text = text.replace(&tmp, "$TMP");
        for (from, to) in replace {
            text = text.replace(from, to);
        }
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden")
            .join(format!("{name}.txt"));
        if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
            std::fs::write(&path, &text).unwrap();
            return self;
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
            panic!(
                "no golden file {}: run UPDATE_GOLDEN=1 cargo test -p sealpass-verifier",
                path.display()
            )
        });
        if expected != text {
            panic!(
                "{} differs from this run (UPDATE_GOLDEN=1 rewrites it after a deliberate change):\n--- expected\n{expected}\n--- got\n{text}",
                path.display()
            );
        }
        self
    }
}

/// An argument as a shell would need it: quoted when it has spaces.
fn shell_word(arg: &str) -> String {
    if arg.is_empty() || arg.contains([' ', '$', '*', '\'', '"']) {
        format!("'{}'", arg.replace('\'', "'\\''"))
    } else {
        arg.to_owned()
    }
}
