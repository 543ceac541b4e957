//! The sealpass-core test vectors, as code. Every key comes from
//! `testkit::key(label)`, every time from `testkit::NOW`, and Ed25519 signs
//! deterministically, so [`generate`] returns the same bytes on every run.
//!
//! examples/generate_vectors.rs writes them to tests/vectors/ and
//! tests/vectors.rs checks that the files there are still exactly these.
//! The file format is described in tests/vectors/README.md.

mod city;
mod live_cases;
mod pass_cases;
mod pass_format_cases;
mod raw;
mod status_cases;
mod trust_cases;

use sealpass_core::Timestamp;
use sealpass_core::testkit::NOW;
use std::collections::BTreeSet;

/// One generated file: its path relative to tests/vectors/, and its text.
pub struct VectorFile {
    pub path: String,
    pub contents: String,
}

/// Every fixture and case file, sorted by path.
pub fn generate() -> Vec<VectorFile> {
    let city = city::City::new();
    let cases = [
        pass_cases::cases(&city),
        pass_format_cases::cases(&city),
        status_cases::cases(&city),
        trust_cases::cases(&city),
        live_cases::cases(&city),
    ];
    let mut files: Vec<VectorFile> = city::fixtures(&city).iter().map(Fixture::render).collect();
    files.extend(cases.iter().flatten().map(Case::render));
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let mut paths = BTreeSet::new();
    for file in &files {
        assert!(
            paths.insert(&file.path),
            "two vectors are named {}",
            file.path
        );
    }
    files
}

/// A shared input, referenced from cases by its path.
pub struct Fixture {
    path: &'static str,
    description: &'static str,
    bytes: Vec<u8>,
}

impl Fixture {
    pub fn new(path: &'static str, description: &'static str, bytes: Vec<u8>) -> Fixture {
        Fixture {
            path,
            description,
            bytes,
        }
    }

    /// `# description`, then the bytes in hex, 32 to a line.
    fn render(&self) -> VectorFile {
        let mut contents = format!("# {}\n", self.description);
        for chunk in self.bytes.chunks(32) {
            contents.push_str(&hex(chunk));
            contents.push('\n');
        }
        VectorFile {
            path: self.path.to_owned(),
            contents,
        }
    }
}

/// The document a case offers to the verifier, and the state it verifies with.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pass,
    TrustUpdate,
    StatusList,
    LiveCode,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Pass => "pass",
            Kind::TrustUpdate => "trust-update",
            Kind::StatusList => "status-list",
            Kind::LiveCode => "live-code",
        }
    }
}

/// One vector: what is offered, when, and what the verifier must answer.
pub struct Case {
    kind: Kind,
    name: &'static str,
    expect: &'static str,
    comment: &'static str,
    now: Timestamp,
    /// The kind's own `key: value` lines, in the order they are written.
    lines: Vec<(&'static str, String)>,
}

impl Case {
    /// A case at [`NOW`]; `expect` is `valid` or an error code.
    pub fn new(
        kind: Kind,
        name: &'static str,
        expect: &'static str,
        comment: &'static str,
    ) -> Case {
        Case {
            kind,
            name,
            expect,
            comment,
            now: NOW,
            lines: Vec::new(),
        }
    }

    pub fn line(mut self, key: &'static str, value: impl Into<String>) -> Case {
        self.lines.push((key, value.into()));
        self
    }

    fn render(&self) -> VectorFile {
        let header = [
            ("expect", self.expect.to_owned()),
            ("comment", self.comment.to_owned()),
            ("kind", self.kind.name().to_owned()),
            ("now", self.now.0.to_string()),
        ];
        let mut contents = String::new();
        for (key, value) in header.iter().chain(&self.lines) {
            assert!(!value.contains('\n'), "{}: {key} spans lines", self.name);
            match value.as_str() {
                "" => contents.push_str(&format!("{key}:\n")),
                _ => contents.push_str(&format!("{key}: {value}\n")),
            }
        }
        VectorFile {
            path: format!("{}/{}.txt", self.kind.name(), self.name),
            contents,
        }
    }
}

/// Lowercase hex, as fixtures and inline values are written.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
