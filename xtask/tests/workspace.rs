//! The xtask works on the clone whose `cargo xtask` started it, not the one
//! it was compiled in: two clones that share a target directory share one
//! xtask binary, and each must build its own verifier/web/dist.

#![forbid(unsafe_code)]

use std::process::Command;

#[test]
fn the_clone_is_the_one_cargo_run_names() {
    let elsewhere =
        std::env::temp_dir().join(format!("sealpass-xtask-clone-{}", std::process::id()));
    std::fs::create_dir_all(elsewhere.join("xtask")).unwrap();
    // As `cargo run` starts it from a clone at `elsewhere` (which holds no
    // workspace, so the build stops at its first step).
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("web")
        .env("CARGO_MANIFEST_DIR", elsewhere.join("xtask"))
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&elsewhere);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains(&*elsewhere.to_string_lossy()),
        "the build ran somewhere else:\n{stderr}"
    );
}
