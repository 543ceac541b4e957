//! binaryen's `wasm-opt -Oz` over wasm-bindgen's output, when binaryen is
//! installed (docs/web-verifier.md, "Build"): about a quarter off the wasm.

use anyhow::{Context as _, Result, bail};
use std::path::Path;
use std::process::Command;
use walrus::{ExportItem, Module, ModuleConfig, RefType};

/// wasm-opt's version line when binaryen is installed, else `None`.
pub fn wasm_opt_version() -> Option<String> {
    let output = Command::new("wasm-opt").arg("--version").output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// binaryen's size-first passes over `wasm`, in place.
pub fn optimise_wasm(wasm: &Path) -> Result<()> {
    let before = table_exports(&Module::from_file(wasm)?);
    let status = Command::new("wasm-opt")
        .arg("-Oz")
        // Exactly the features rustc enables for wasm32-unknown-unknown
        // (`rustc --print cfg --target wasm32-unknown-unknown`), so that
        // binaryen neither rejects the module nor uses anything newer.
        .args([
            "--enable-bulk-memory",
            "--enable-multivalue",
            "--enable-mutable-globals",
            "--enable-nontrapping-float-to-int",
            "--enable-reference-types",
            "--enable-sign-ext",
        ])
        .args(["--strip-debug", "--strip-producers"])
        .arg(wasm)
        .arg("-o")
        .arg(wasm)
        .status()
        .context("cannot run wasm-opt")?;
    if !status.success() {
        bail!("wasm-opt failed on {} (its messages above)", wasm.display());
    }
    repair_table_exports(wasm, &before)
}

/// Each exported table's name and element type.
fn table_exports(module: &Module) -> Vec<(String, RefType)> {
    module
        .exports
        .iter()
        .filter_map(|export| match export.item {
            ExportItem::Table(table) => {
                Some((export.name.clone(), module.tables.get(table).element_ty))
            }
            _ => None,
        })
        .collect()
}

/// binaryen 108 (Debian 12's) writes a module with two tables, the
/// functions' and wasm-bindgen's `__wbindgen_externrefs`, with the export
/// of the second naming the first (the code itself is right), and the page
/// fails to start ("WebAssembly.Table.set(): Argument 1 is invalid for
/// table"). Points each exported table back at the one table of the type
/// it had, or refuses the build when that is not one table.
fn repair_table_exports(wasm: &Path, before: &[(String, RefType)]) -> Result<()> {
    // As wasm-opt left it: no names, no producers.
    let mut config = ModuleConfig::new();
    config
        .generate_name_section(false)
        .generate_producers_section(false);
    let mut module = Module::from_file_with_config(wasm, &config)?;
    if table_exports(&module) == before {
        return Ok(());
    }
    for (name, element_ty) in before {
        let mut tables = module.tables.iter().filter(|t| t.element_ty == *element_ty);
        let (Some(table), None) = (tables.next(), tables.next()) else {
            bail!(
                "wasm-opt changed the tables of {}: build without binaryen",
                wasm.display()
            );
        };
        let table = table.id();
        let export = module
            .exports
            .iter_mut()
            .find(|export| export.name == *name);
        let Some(export) = export else {
            bail!("wasm-opt dropped the export {name} of {}", wasm.display());
        };
        export.item = ExportItem::Table(table);
    }
    eprintln!("note: wasm-opt mis-numbered a table's export; put right");
    module.emit_wasm_file(wasm)?;
    Ok(())
}
