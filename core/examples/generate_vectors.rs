//! (Re)writes every test vector under core/tests/vectors/: the fixtures and
//! one file per case. The vectors are never edited by hand; change the cases
//! in core/tests/generator/ and run
//!
//! ```text
//! cargo run -p sealpass-core --example generate_vectors
//! ```
//!
//! The output is deterministic (keys from `testkit::key`, times from
//! `testkit::NOW`, deterministic Ed25519), so an unchanged generator rewrites
//! byte-identical files; tests/vectors.rs fails while the files on disk differ.

#[path = "../tests/generator/mod.rs"]
mod generator;

use std::fs;
use std::io;
use std::path::Path;

fn main() -> io::Result<()> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("vectors");
    let files = generator::generate();
    // Everything but the README is generated: clear it, so that a renamed or
    // dropped case leaves no stale file behind.
    if dir.exists() {
        remove_generated(&dir, &dir)?;
    }
    for file in &files {
        let path = dir.join(&file.path);
        fs::create_dir_all(path.parent().expect("vector paths have a directory"))?;
        fs::write(&path, &file.contents)?;
    }
    println!("wrote {} files to {}", files.len(), dir.display());
    Ok(())
}

fn remove_generated(root: &Path, dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            remove_generated(root, &path)?;
            if fs::read_dir(&path)?.next().is_none() {
                fs::remove_dir(&path)?;
            }
        } else if path != root.join("README.md") {
            fs::remove_file(&path)?;
        }
    }
    Ok(())
}
