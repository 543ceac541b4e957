//! The issuer's layers, read from its source text (docs/issuer.md,
//! "Layout"). Bottom to top: the domain vocabulary (`model`, `id_number`);
//! the `store`, where all SQL lives; `shared`, what both sides need; the
//! write side (`write`) and the read side (`read`) beside each other; the
//! demo and the synthetic population; the command line (`src/cli`, the
//! binary). A module may name its own layer and the ones below it, never
//! one above, and neither side may name the other.
//!
//! The read side holds the store only as a `StoreReader`, which has no
//! method that writes: it never names the type `Store` itself (a variant
//! such as `PassError::Store(..)` is not the type).
//!
//! Textual and cheap: every `crate::X`, `sealpass_issuer::X` and
//! `super::...` path outside comments is resolved to its top-level module.

use std::path::{Path, PathBuf};

/// The layer of each top-level module; a module missing here is an error,
/// so a new one must be placed.
fn layer(top: &str) -> Option<u8> {
    Some(match top {
        "model" | "id_number" => 0,
        "store" => 1,
        "shared" => 2,
        "write" | "read" => 3,
        "demo" | "population" => 4,
        "cli" | "main" => 5,
        _ => return None,
    })
}

/// `write` and `read` share a layer but must not name each other.
fn sides_cross(from: &str, to: &str) -> bool {
    matches!((from, to), ("read", "write") | ("write", "read"))
}

/// The module path of a source file under `src/` (`read/public/mod.rs` is
/// `["read", "public"]`, `store/pages.rs` is `["store", "pages"]`).
fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("a file name");
    let stem = last.trim_end_matches(".rs");
    if parts.is_empty() && stem == "lib" {
        return Vec::new(); // the crate root: the list of modules
    }
    if stem != "mod" {
        parts.push(stem.to_string());
    }
    parts
}

/// The identifier `text` starts with, if any.
fn identifier(text: &str) -> Option<String> {
    let name: String = text
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Every top-level module named by the code (not the comments) of a file
/// whose module path is `path`.
fn named_tops(path: &[String], text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    // Inside an inline `mod tests { ... }` one `super` more stays in the file.
    let mut inline_module = 0;
    for (number, line) in text.lines().enumerate() {
        let code = match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        };
        let trimmed = code.trim_start();
        if (trimmed.starts_with("mod ") || trimmed.starts_with("pub mod "))
            && trimmed.trim_end().ends_with('{')
        {
            inline_module = 1;
        }
        for prefix in ["crate::", "sealpass_issuer::"] {
            let mut rest = code;
            while let Some(at) = rest.find(prefix) {
                let before = rest[..at].chars().next_back();
                rest = &rest[at + prefix.len()..];
                // `$crate::` in macros is the crate too; skip `foo_crate::`.
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                found.extend(identifier(rest).map(|name| (number + 1, name)));
            }
        }
        // `super::super::x` from deep inside a module: where does it land?
        let mut rest = code;
        while let Some(at) = rest.find("super::") {
            let before = rest[..at].chars().next_back();
            rest = &rest[at..];
            let mut ups = 0;
            while let Some(next) = rest.strip_prefix("super::") {
                ups += 1;
                rest = next;
            }
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            if ups >= path.len() + inline_module {
                found.extend(identifier(rest).map(|name| (number + 1, name)));
            }
        }
    }
    found
}

/// Whether `code` names the type `Store` (the word, not followed by `(`:
/// that is a variant of the same name).
fn names_the_store_type(code: &str) -> bool {
    let mut rest = code;
    while let Some(at) = rest.find("Store") {
        let before = rest[..at].chars().next_back();
        let after = rest[at + 5..].chars().next();
        let word = !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
            && !after.is_some_and(|c| c.is_alphanumeric() || c == '_');
        if word && after != Some('(') {
            return true;
        }
        rest = &rest[at + 5..];
    }
    false
}

/// The layering violations in one file.
fn violations(relative: &Path, text: &str) -> Vec<String> {
    let path = module_path(relative);
    let Some(own) = path.first() else {
        return Vec::new(); // lib.rs: the list of modules
    };
    let Some(own_layer) = layer(own) else {
        return vec![format!(
            "{}: top-level module `{own}` has no layer (add it to tests/layers.rs and docs/issuer.md)",
            relative.display()
        )];
    };
    let mut wrong = Vec::new();
    if own == "read" {
        for (number, line) in text.lines().enumerate() {
            if names_the_store_type(line.split("//").next().unwrap_or_default()) {
                wrong.push(format!(
                    "{}:{}: the read side names `Store`: hold a `StoreReader` (`Store::reader`)",
                    relative.display(),
                    number + 1
                ));
            }
        }
    }
    for (line, top) in named_tops(&path, text) {
        if top == *own || top == "self" || top == "super" {
            continue;
        }
        let Some(target) = layer(&top) else {
            wrong.push(format!(
                "{}:{line}: names `{top}`, which has no layer",
                relative.display()
            ));
            continue;
        };
        if target > own_layer {
            wrong.push(format!(
                "{}:{line}: `{own}` (layer {own_layer}) names `{top}` (layer {target}) above it",
                relative.display()
            ));
        } else if sides_cross(own, &top) {
            wrong.push(format!(
                "{}:{line}: the {own} side names the {top} side",
                relative.display()
            ));
        }
    }
    wrong
}

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_module_names_a_layer_above_it_and_the_sides_stay_apart() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    files.sort();
    assert!(files.len() > 50, "found only {} files", files.len());
    let mut wrong = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        wrong.extend(violations(file.strip_prefix(&src).unwrap(), &text));
    }
    assert!(wrong.is_empty(), "layering broken:\n{}", wrong.join("\n"));
}

#[test]
fn the_check_catches_what_the_issuer_did_before_the_layout() {
    let cases = [
        // public/ imported the demo's identity provider
        (
            "read/public/mod.rs",
            "use crate::demo::idp::DemoIdentityProvider;",
        ),
        // the public API's clock came from the admin API
        ("read/public/mod.rs", "use crate::write::admin_api::Clock;"),
        // overload borrowed the signer's hash
        (
            "read/overload/mod.rs",
            "base + crate::write::signer::mix(n) % (base + 1)",
        ),
        (
            "write/signer/round.rs",
            "use crate::read::passbook::PassBook;",
        ),
        ("store/due.rs", "use crate::shared::clock::Clock;"),
        ("shared/metrics.rs", "use crate::read::overload::Limits;"),
        ("read/passbook.rs", "use super::super::write::ingest;"),
        ("read/public/mod.rs", "use super::super::write::ingest;"),
        // the read side with a handle that writes
        ("read/public/lists.rs", "use crate::store::Store;"),
        ("read/passbook/mod.rs", "    store: Store,"),
        (
            "read/public/mod.rs",
            "use crate::store::{Store, StoreError};",
        ),
        // an unplaced top-level module
        ("public/reads.rs", "use crate::store::Store;"),
    ];
    for (file, line) in cases {
        assert!(
            !violations(Path::new(file), line).is_empty(),
            "{file}: `{line}` was let through"
        );
    }
    let fine = [
        (
            "read/public/mod.rs",
            "use crate::store::reads::StoreReader;",
        ),
        ("read/passbook.rs", "use crate::shared::metrics::Metrics;"),
        (
            "read/passbook/mod.rs",
            "use crate::store::reads::StoreReader;",
        ),
        (
            "read/passbook/rendered.rs",
            "    Store(#[from] StoreError),",
        ),
        ("read/public/pass_api.rs", "Err(PassError::Store(e)) => {"),
        ("write/signer/mod.rs", "use crate::shared::mix;"),
        ("demo/idp.rs", "use crate::read::public::PluggedLogin;"),
        (
            "store/mod.rs",
            "$crate::store::Backend::Sqlite($pool) => $body,",
        ),
        (
            "read/public/qr/penalty.rs",
            "use super::super::matrix::Grid;",
        ),
        (
            "store/passes.rs",
            "mod tests {\n    use super::super::pages::PassPage;",
        ),
        (
            "write/ingest/rows.rs",
            "// not crate::read::public, a comment",
        ),
    ];
    for (file, line) in fine {
        assert_eq!(violations(Path::new(file), line), Vec::<String>::new());
    }
}
