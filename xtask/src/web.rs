//! `web`: the offline web verifier's static files in verifier/web/dist
//! (docs/web-verifier.md, "Build"). sealpass-web is compiled for wasm32 in
//! a target directory of its own, wasm-bindgen's code writes the JS glue
//! (`--target web`, no TypeScript), binaryen's `wasm-opt` shrinks the wasm
//! when it is installed, the page's files are copied beside it, the service
//! worker's cache version becomes a hash of the result, and every file gets
//! its gzip and brotli forms beside it (`precompress`).

use crate::Workspace;
use crate::precompress::precompress;
use crate::wasm_opt::{optimise_wasm, wasm_opt_version};
use anyhow::{Context as _, Result, bail};
use sha2::{Digest, Sha256};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Size over speed for the download; one codegen unit and LTO let the
/// linker drop what the page never calls. Given on the command line, not
/// in the workspace's release profile, which the native binaries keep.
const FOR_SIZE: [&str; 4] = [
    "profile.release.opt-level=\"z\"",
    "profile.release.lto=true",
    "profile.release.codegen-units=1",
    "profile.release.panic=\"abort\"",
];

/// The page's own files in verifier/web/app, copied as they are.
const APP_FILES: [&str; 5] = ["html", "css", "js", "svg", "webmanifest"];

/// What the issuer serves at /verify/ and the end-to-end tests load.
const BUILT: [&str; 4] = [
    "index.html",
    "sw.js",
    "pkg/sealpass_web.js",
    "pkg/sealpass_web_bg.wasm",
];

/// Builds verifier/web/dist, or leaves it as it is when neither the wasm
/// nor the page's files nor these steps changed since it was built.
pub fn build(workspace: &Workspace) -> Result<()> {
    let started = Instant::now();
    let web = workspace.root.join("verifier/web");
    let dist = web.join("dist");
    // A target directory of its own: the size flags change the release
    // profile, which the native release builds would otherwise share.
    let target = workspace.target.join("web");
    ensure_wasm_target()?;
    compile_wasm(workspace, &target)?;
    let wasm = target.join(WASM_TARGET).join("release/sealpass_web.wasm");

    let app = app_files(&web.join("app"))?;
    let wasm_opt = wasm_opt_version();
    let inputs = inputs_digest(&wasm, &app, &dist, wasm_opt.as_deref())?;
    let stamp = target.join("dist-inputs.sha256");
    let built = BUILT.iter().all(|file| dist.join(file).is_file());
    if built && fs::read_to_string(&stamp).is_ok_and(|held| held.trim() == inputs) {
        eprintln!("web verifier up to date in {}", dist.display());
        return Ok(());
    }

    if dist.exists() {
        fs::remove_dir_all(&dist).with_context(|| format!("cannot remove {}", dist.display()))?;
    }
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&wasm)
        .web(true)?
        .typescript(false)
        // As the CLI does: the glue finds the wasm beside itself.
        .omit_default_module_path(false)
        .generate(dist.join("pkg"))
        .with_context(|| format!("wasm-bindgen failed on {}", wasm.display()))?;
    let bound = dist.join("pkg/sealpass_web_bg.wasm");
    let bound_size = fs::metadata(&bound)?.len();
    if wasm_opt.is_some() {
        optimise_wasm(&bound)?;
    } else {
        eprintln!(
            "note: wasm-opt (binaryen) not found: the wasm is not shrunk further (Debian: apt-get install binaryen)"
        );
    }
    for file in &app {
        let name = file.file_name().expect("a file has a name");
        fs::copy(file, dist.join(name))
            .with_context(|| format!("cannot copy {} to {}", file.display(), dist.display()))?;
    }
    let version = stamp_service_worker(&dist)?;
    // After the stamp: the service worker's own compressed forms carry it.
    let mut files = Vec::new();
    list_files(&dist, ".", &mut files)?;
    files.sort();
    let sizes = precompress(&dist, &files, "pkg/sealpass_web_bg.wasm")?;
    fs::write(&stamp, format!("{inputs}\n"))
        .with_context(|| format!("cannot write {}", stamp.display()))?;

    // On stderr with cargo's own messages: stdout is the demo's banner.
    eprintln!(
        "built {}: sealpass_web_bg.wasm {} bytes ({bound_size} before wasm-opt; {} gzipped, {} as \
         brotli), service worker cache {version} ({:.0} s)",
        dist.display(),
        sizes.identity,
        sizes.gzip,
        sizes.brotli,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Adds Rust's wasm32 target with rustup when it is missing, or says how.
fn ensure_wasm_target() -> Result<()> {
    if wasm_target_installed() {
        return Ok(());
    }
    eprintln!("Rust's {WASM_TARGET} target is missing: rustup target add {WASM_TARGET}");
    match Command::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .status()
    {
        Ok(status) if status.success() && wasm_target_installed() => Ok(()),
        Ok(_) => bail!(
            "the web verifier is compiled for Rust's {WASM_TARGET} target, and rustup could not \
             add it (above): run `rustup target add {WASM_TARGET}`, then this again"
        ),
        Err(_) => bail!(
            "the web verifier is compiled for Rust's {WASM_TARGET} target, which this Rust \
             toolchain lacks, and there is no rustup to add it: install the toolchain with rustup \
             (then `rustup target add {WASM_TARGET}`), or your distribution's Rust standard \
             library for {WASM_TARGET}"
        ),
    }
}

/// Whether the toolchain has a standard library for wasm32.
fn wasm_target_installed() -> bool {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let Ok(output) = Command::new(rustc)
        .args(["--print", "target-libdir", "--target", WASM_TARGET])
        .output()
    else {
        return false;
    };
    let libdir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    output.status.success()
        && fs::read_dir(libdir).is_ok_and(|entries| {
            entries
                .flatten()
                .any(|entry| entry.file_name().to_string_lossy().starts_with("libcore-"))
        })
}

fn compile_wasm(workspace: &Workspace, target: &Path) -> Result<()> {
    let mut cargo = workspace.cargo();
    cargo
        .args([
            "build",
            "--locked",
            "--release",
            "-p",
            "sealpass-web",
            "--lib",
        ])
        .args(["--target", WASM_TARGET])
        .arg("--target-dir")
        .arg(target);
    for setting in FOR_SIZE {
        cargo.args(["--config", setting]);
    }
    let status = cargo.status().context("cannot run cargo")?;
    if !status.success() {
        bail!("compiling sealpass-web for {WASM_TARGET} failed (cargo's messages above)");
    }
    Ok(())
}

/// The page's files in `app`, in name order.
fn app_files(app: &Path) -> Result<Vec<PathBuf>> {
    let entries = fs::read_dir(app).with_context(|| format!("cannot read {}", app.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if path.is_file() && APP_FILES.contains(&extension) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// A hash of everything dist/ is made from, and of where it goes.
fn inputs_digest(
    wasm: &Path,
    app: &[PathBuf],
    dist: &Path,
    wasm_opt: Option<&str>,
) -> Result<String> {
    let mut inputs = Sha256::new();
    // These steps themselves: a change to them builds anew, and so does
    // installing, removing or upgrading binaryen.
    inputs.update(include_bytes!("web.rs"));
    inputs.update(include_bytes!("precompress.rs"));
    inputs.update(include_bytes!("wasm_opt.rs"));
    inputs.update(wasm_opt.unwrap_or("no wasm-opt"));
    inputs.update(dist.as_os_str().as_encoded_bytes());
    for file in std::iter::once(wasm).chain(app.iter().map(PathBuf::as_path)) {
        let bytes = fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        inputs.update(file.as_os_str().as_encoded_bytes());
        inputs.update((bytes.len() as u64).to_le_bytes());
        inputs.update(&bytes);
    }
    Ok(hex(&inputs.finalize()))
}

/// A new build is a new offline cache: the service worker's `__BUILD__`
/// becomes a hash of every other file it caches, the first 16 hex digits of
/// the SHA-256 of `sha256sum`'s lines for them in path order (`./pkg/...`).
fn stamp_service_worker(dist: &Path) -> Result<String> {
    let mut files = Vec::new();
    list_files(dist, ".", &mut files)?;
    files.retain(|path| !path.ends_with("/sw.js"));
    files.sort();
    let mut listing = Sha256::new();
    for path in &files {
        let bytes = fs::read(dist.join(path))?;
        listing.update(format!("{}  {path}\n", hex(&Sha256::digest(&bytes))));
    }
    let version = hex(&listing.finalize())[..16].to_string();

    let service_worker = dist.join("sw.js");
    let script = fs::read_to_string(&service_worker)
        .with_context(|| format!("cannot read {}", service_worker.display()))?;
    if !script.contains("__BUILD__") {
        bail!("{} has no __BUILD__ to stamp", service_worker.display());
    }
    fs::write(&service_worker, script.replace("__BUILD__", &version))?;
    Ok(version)
}

/// Every file below `dir`, as paths relative to it that start with `prefix`.
fn list_files(dir: &Path, prefix: &str, files: &mut Vec<String>) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = format!("{prefix}/{name}");
        if entry.file_type()?.is_dir() {
            list_files(&entry.path(), &path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cache version is what verifier/web/build.sh (now gone) computed:
    /// `find . -type f ! -name sw.js -print0 | sort -z | xargs -0 sha256sum
    /// | sha256sum | cut -c1-16`, run on this tree.
    #[test]
    fn the_service_worker_version_is_the_sha256sum_listing_hash() {
        let dist = std::env::temp_dir().join(format!("xtask-sw-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dist);
        fs::create_dir_all(dist.join("pkg")).unwrap();
        for (path, bytes) in [
            ("index.html", &b"<!doctype html>\n"[..]),
            ("pkg/sealpass_web.js", b"export {};\n"),
            ("pkg/sealpass_web_bg.wasm", b"\0asm"),
            ("style.css", b"body{}\n"),
            ("sw.js", b"const VERSION = 'c-__BUILD__';\n"),
        ] {
            fs::write(dist.join(path), bytes).unwrap();
        }

        let version = stamp_service_worker(&dist).unwrap();

        assert_eq!(version, "bd70d24395b07bd1");
        let script = fs::read_to_string(dist.join("sw.js")).unwrap();
        assert_eq!(script, "const VERSION = 'c-bd70d24395b07bd1';\n");
        fs::remove_dir_all(&dist).unwrap();
    }
}
