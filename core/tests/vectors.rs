//! Runs every test vector in tests/vectors/ (format: tests/vectors/README.md)
//! and checks that the files there are exactly what the generator writes.

#[path = "generator/mod.rs"]
mod generator;

use sealpass_core::{
    CheckpointPolicy, HolderBinding, ReplayMemory, RootSet, StatusList, Timestamp, TrustedList,
    Verifier,
};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

const MIN_CASES: usize = 50;
const MIN_VALID: usize = 10;
const MIN_INVALID: usize = 40;
const MIN_LIVE_CODE_CASES: usize = 25;

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("vectors")
}

/// Every file under tests/vectors/ but the README, by path relative to it.
fn vector_files() -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, files: &mut BTreeMap<String, Vec<u8>>) {
        for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                walk(root, &path, files);
                continue;
            }
            let relative = path
                .strip_prefix(root)
                .expect("under root")
                .to_string_lossy()
                .replace('\\', "/");
            if relative != "README.md" {
                files.insert(relative, fs::read(&path).expect("readable vector"));
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(&vectors_dir(), &vectors_dir(), &mut files);
    files
}

/// One parsed case file.
struct VectorCase {
    kind: String,
    expect: String,
    now: Timestamp,
    /// The kind's own lines (`policy`, `pass`, `candidate`, ...).
    data: BTreeMap<String, String>,
}

/// The keys each kind reads after the common header, and which are required.
fn kind_keys(kind: &str) -> Option<&'static [(&'static str, bool)]> {
    Some(match kind {
        "pass" => &[
            ("policy", true),
            ("trust-list", true),
            ("status-list", false),
            ("pass", true),
        ],
        "trust-update" => &[
            ("trusted", false),
            ("pinned-roots", false),
            ("candidate", true),
        ],
        "status-list" => &[("trust-list", true), ("status-list", true)],
        "live-code" => &[
            ("policy", true),
            ("trust-list", true),
            ("status-list", false),
            ("earlier-scan-at", false),
            ("earlier-scan", false),
            ("code", true),
            ("holder", false),
            ("warning", false),
        ],
        _ => return None,
    })
}

fn parse_case(text: &str) -> Result<VectorCase, String> {
    let mut lines = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let (key, value) = line
            .split_once(':')
            .ok_or(format!("line {}: not `key: value`", n + 1))?;
        let value = value.strip_prefix(' ').unwrap_or(value);
        if lines.insert(key.to_owned(), value.to_owned()).is_some() {
            return Err(format!("line {}: `{key}` given twice", n + 1));
        }
    }
    let mut take = |key: &str| lines.remove(key).ok_or(format!("no `{key}:` line"));
    let expect = take("expect")?;
    let comment = take("comment")?;
    let kind = take("kind")?;
    let now = take("now")?
        .parse()
        .map(Timestamp)
        .map_err(|e| format!("now: {e}"))?;
    if expect.is_empty() || comment.is_empty() {
        return Err("`expect:` and `comment:` must not be empty".into());
    }
    let keys = kind_keys(&kind).ok_or(format!("unknown kind `{kind}`"))?;
    for (key, required) in keys {
        if *required && !lines.contains_key(*key) {
            return Err(format!("a {kind} case needs a `{key}:` line"));
        }
    }
    if let Some(key) = lines.keys().find(|key| !keys.iter().any(|(k, _)| k == key)) {
        return Err(format!("`{key}:` is not a key of a {kind} case"));
    }
    if kind == "live-code" {
        if lines.contains_key("earlier-scan") != lines.contains_key("earlier-scan-at") {
            return Err("`earlier-scan:` and `earlier-scan-at:` come together".into());
        }
        if (expect == "valid") != lines.contains_key("holder") {
            return Err("a live-code case has a `holder:` line exactly when it is valid".into());
        }
    }
    if kind == "trust-update" && lines.contains_key("trusted") == lines.contains_key("pinned-roots")
    {
        return Err(
            "a trust-update case needs exactly one of `trusted:` and `pinned-roots:`".into(),
        );
    }
    Ok(VectorCase {
        kind,
        expect,
        now,
        data: lines,
    })
}

fn unhex(text: &str) -> Result<Vec<u8>, String> {
    if text.len() % 2 != 0 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err("not lowercase hex of whole bytes".into());
    }
    Ok((0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect())
}

/// The bytes a value names: a fixture path (`fixtures/name.hex`), or inline hex.
fn resolve(value: &str) -> Result<Vec<u8>, String> {
    if !value.starts_with("fixtures/") {
        return unhex(value);
    }
    let text =
        fs::read_to_string(vectors_dir().join(value)).map_err(|e| format!("{value}: {e}"))?;
    let hex: String = text.lines().filter(|line| !line.starts_with('#')).collect();
    unhex(&hex).map_err(|e| format!("{value}: {e}"))
}

/// What the verifier answered: `valid`, or an error code and its message.
type Answer = Result<(), (&'static str, String)>;

fn answer<T, E: std::fmt::Display>(
    result: Result<T, E>,
    code: impl Fn(&E) -> &'static str,
) -> Answer {
    result.map(drop).map_err(|e| (code(&e), e.to_string()))
}

/// Verify what the case offers. `Err` means the case itself is broken.
fn run(case: &VectorCase) -> Result<Answer, String> {
    let data = |key: &str| case.data.get(key).map(String::as_str);
    let stored_list = |key: &str| {
        TrustedList::from_stored(&resolve(data(key).expect("checked by parse_case"))?)
            .map_err(|e| format!("{key} does not load: {e}"))
    };
    Ok(match case.kind.as_str() {
        "pass" => {
            let trust = stored_list("trust-list")?;
            let policy_name = data("policy").expect("required");
            let policy = CheckpointPolicy::builtin(policy_name)
                .ok_or(format!("no built-in policy `{policy_name}`"))?;
            let status_lists = match data("status-list") {
                Some(list) => vec![
                    StatusList::verify(&resolve(list)?, &trust, case.now)
                        .map_err(|e| format!("status-list does not verify: {e}"))?,
                ],
                None => Vec::new(),
            };
            let verifier = Verifier::new(&trust, &policy).with_status_lists(&status_lists);
            answer(
                verifier.verify(data("pass").expect("required"), case.now),
                |e| e.code(),
            )
        }
        "trust-update" => {
            let candidate = resolve(data("candidate").expect("required"))?;
            match data("pinned-roots") {
                Some(roots) => {
                    let roots = RootSet::from_cbor(&resolve(roots)?)
                        .map_err(|e| format!("pinned-roots: {e}"))?;
                    answer(TrustedList::bootstrap(&roots, &candidate, case.now), |e| {
                        e.code()
                    })
                }
                None => answer(stored_list("trusted")?.update(&candidate, case.now), |e| {
                    e.code()
                }),
            }
        }
        "status-list" => {
            let trust = stored_list("trust-list")?;
            let list = resolve(data("status-list").expect("required"))?;
            answer(StatusList::verify(&list, &trust, case.now), |e| e.code())
        }
        "live-code" => run_live_code(case, &stored_list("trust-list")?)?,
        kind => unreachable!("parse_case admits no kind {kind}"),
    })
}

/// A live-code case: the code (after the earlier scan, if any, with the
/// same replay memory) through `Verifier::verify_remembering`. An accepted
/// code must also be tied to its holder as `holder:` says, and give the
/// `warning:` (or none).
fn run_live_code(case: &VectorCase, trust: &TrustedList) -> Result<Answer, String> {
    let data = |key: &str| case.data.get(key).map(String::as_str);
    let policy_line = data("policy").expect("required");
    let policy = match CheckpointPolicy::builtin(policy_line) {
        Some(policy) => policy,
        None => policy_line
            .parse()
            .map_err(|e| format!("policy `{policy_line}`: {e}"))?,
    };
    let status_lists = match data("status-list") {
        Some(list) => vec![
            StatusList::verify(&resolve(list)?, trust, case.now)
                .map_err(|e| format!("status-list does not verify: {e}"))?,
        ],
        None => Vec::new(),
    };
    let verifier = Verifier::new(trust, &policy).with_status_lists(&status_lists);
    let mut memory = ReplayMemory::default();
    if let (Some(at), Some(earlier)) = (data("earlier-scan-at"), data("earlier-scan")) {
        let at = Timestamp(at.parse().map_err(|e| format!("earlier-scan-at: {e}"))?);
        verifier
            .verify_remembering(earlier, at, &mut memory)
            .map_err(|e| format!("the earlier scan is refused: {e}"))?;
    }
    let verified =
        match verifier.verify_remembering(data("code").expect("required"), case.now, &mut memory) {
            Ok(verified) => verified,
            Err(e) => return Ok(Err((e.code(), e.to_string()))),
        };
    let holder = match verified.holder() {
        HolderBinding::NotBound => "not bound".to_owned(),
        HolderBinding::Live(proof) => format!("live {}", proof.device()),
    };
    let warning = verified.already_scanned().map(|w| w.to_string());
    if Some(holder.as_str()) != data("holder") {
        return Err(format!("accepted as `{holder}`, not as `holder:` says"));
    }
    if warning.as_deref() != data("warning") {
        return Err(format!(
            "accepted with warning {warning:?}, not as `warning:` says"
        ));
    }
    Ok(Ok(()))
}

/// Parse and run one case file; `Err` says what went wrong.
fn check(path: &str, bytes: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8".to_owned())?;
    let case = parse_case(text)?;
    if path.split('/').next() != Some(case.kind.as_str()) {
        return Err(format!("a {} case belongs in {}/", case.kind, case.kind));
    }
    let answer = catch_unwind(AssertUnwindSafe(|| run(&case))).map_err(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("(no message)");
        format!("panicked: {message}")
    })??;
    match (&answer, case.expect.as_str()) {
        (Ok(()), "valid") => Ok(()),
        (Err((code, _)), expect) if *code == expect => Ok(()),
        (Ok(()), expect) => Err(format!("expected {expect}, but it was accepted")),
        (Err((code, message)), expect) => Err(format!("expected {expect}, got {code}: {message}")),
    }
}

#[test]
fn every_vector_gives_its_expected_answer() {
    let files = vector_files();
    let cases: Vec<_> = files
        .iter()
        .filter(|(path, _)| !path.starts_with("fixtures/"))
        .collect();
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(path, bytes)| check(path, bytes).err().map(|e| format!("{path}: {e}")))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );

    let mut tally: BTreeMap<(String, bool), usize> = BTreeMap::new();
    for (_, bytes) in &cases {
        let case = parse_case(std::str::from_utf8(bytes).expect("checked")).expect("checked");
        *tally
            .entry((case.kind, case.expect == "valid"))
            .or_default() += 1;
    }
    for ((kind, valid), count) in &tally {
        println!(
            "{kind}: {count} {}",
            if *valid { "valid" } else { "invalid" }
        );
    }
    let valid: usize = tally.iter().filter(|((_, v), _)| *v).map(|(_, n)| n).sum();
    assert!(
        cases.len() >= MIN_CASES,
        "only {} vectors in {}",
        cases.len(),
        vectors_dir().display()
    );
    assert!(valid >= MIN_VALID, "only {valid} valid vectors");
    let live_codes: usize = tally
        .iter()
        .filter(|((kind, _), _)| kind == "live-code")
        .map(|(_, n)| n)
        .sum();
    assert!(
        live_codes >= MIN_LIVE_CODE_CASES,
        "only {live_codes} live-code vectors"
    );
    assert!(
        cases.len() - valid >= MIN_INVALID,
        "only {} invalid vectors",
        cases.len() - valid
    );
}

#[test]
fn vectors_on_disk_are_what_the_generator_writes() {
    let on_disk = vector_files();
    let generated: BTreeMap<String, Vec<u8>> = generator::generate()
        .into_iter()
        .map(|file| (file.path, file.contents.into_bytes()))
        .collect();
    let paths: BTreeSet<&String> = on_disk.keys().chain(generated.keys()).collect();
    let stale: Vec<String> = paths
        .into_iter()
        .filter_map(|path| match (on_disk.get(path), generated.get(path)) {
            (Some(disk), Some(fresh)) if disk == fresh => None,
            (Some(_), Some(_)) => Some(format!("{path}: differs from what the generator writes")),
            (Some(_), None) => Some(format!("{path}: not written by the generator")),
            (None, _) => Some(format!("{path}: missing")),
        })
        .collect();
    assert!(
        stale.is_empty(),
        "tests/vectors/ is out of date; regenerate it with\n  \
         cargo run -p sealpass-core --example generate_vectors\n{}",
        stale.join("\n")
    );
}
