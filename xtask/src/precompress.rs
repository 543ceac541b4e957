//! dist/ precompressed: beside each file that shrinks, its gzip (RFC 1952)
//! as `NAME.gz` and its brotli (RFC 7932) as `NAME.br`, each at its best
//! level. The issuer sends the one a browser accepts (issuer/src/read/public/
//! page.rs); any static server that serves precompressed siblings (nginx's
//! `gzip_static`, Caddy's `precompressed`) can do the same.
//!
//! *Why here and not when the issuer starts:* brotli's best level takes a
//! second or more on the wasm, which every start of the issuer (and every
//! test that serves the app) would pay again; here it is paid once per
//! build, and the issuer needs no compressor.

use anyhow::{Context as _, Result};
use std::fs;
use std::io::Write as _;
use std::path::Path;

/// What is worth compressing: text and the wasm (icons as SVG are text).
const COMPRESSIBLE: [&str; 6] = ["html", "css", "js", "svg", "webmanifest", "wasm"];

/// The sizes written, for the build's summary line.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Sizes {
    pub identity: usize,
    pub gzip: usize,
    pub brotli: usize,
}

/// Writes `.gz` and `.br` beside every compressible file below `dir`, when
/// they are smaller than the file; returns the sizes of `file` (relative
/// to `dir`) as sent each way (the file itself where a form was not kept).
pub fn precompress(dir: &Path, files: &[String], file: &str) -> Result<Sizes> {
    let mut asked = Sizes::default();
    for path in files {
        let extension = path.rsplit('.').next().unwrap_or_default();
        if !COMPRESSIBLE.contains(&extension) {
            continue;
        }
        let source = dir.join(path);
        let bytes =
            fs::read(&source).with_context(|| format!("cannot read {}", source.display()))?;
        let mut sizes = Sizes {
            identity: bytes.len(),
            gzip: bytes.len(),
            brotli: bytes.len(),
        };
        for (suffix, compressed) in [(".gz", gzip(&bytes)?), (".br", brotli(&bytes)?)] {
            // A form no smaller than the file is not worth a second copy.
            if compressed.len() >= bytes.len() {
                continue;
            }
            if suffix == ".gz" {
                sizes.gzip = compressed.len();
            } else {
                sizes.brotli = compressed.len();
            }
            let target = dir.join(format!("{path}{suffix}"));
            fs::write(&target, &compressed)
                .with_context(|| format!("cannot write {}", target.display()))?;
        }
        if path.trim_start_matches("./") == file {
            asked = sizes;
        }
    }
    Ok(asked)
}

pub fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(bytes)?;
    Ok(gzip.finish()?)
}

pub fn brotli(bytes: &[u8]) -> Result<Vec<u8>> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        // A 4 MiB window (2^22) holds the whole wasm; browsers accept up to 2^24.
        lgwin: 22,
        size_hint: bytes.len(),
        ..Default::default()
    };
    let mut compressed = Vec::new();
    brotli::BrotliCompress(&mut &bytes[..], &mut compressed, &params)?;
    Ok(compressed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    #[test]
    fn text_gets_both_forms_and_what_does_not_shrink_gets_none() {
        let dir = std::env::temp_dir().join(format!("xtask-precompress-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("pkg")).unwrap();
        let script = "export const answer = 42;\n".repeat(200);
        fs::write(dir.join("app.js"), &script).unwrap();
        fs::write(dir.join("icon.svg"), b"<svg/>").unwrap();
        fs::write(dir.join("roots.cbor"), vec![7u8; 500]).unwrap();
        let files = ["./app.js", "./icon.svg", "./roots.cbor"].map(String::from);

        let sizes = precompress(&dir, &files, "app.js").unwrap();

        assert_eq!(sizes.identity, script.len());
        assert!(sizes.brotli < sizes.gzip && sizes.gzip < 200, "{sizes:?}");
        let mut unzipped = String::new();
        flate2::read::GzDecoder::new(&fs::read(dir.join("app.js.gz")).unwrap()[..])
            .read_to_string(&mut unzipped)
            .unwrap();
        assert_eq!(unzipped, script);
        let mut unbrotlied = String::new();
        brotli::Decompressor::new(&fs::read(dir.join("app.js.br")).unwrap()[..], 4096)
            .read_to_string(&mut unbrotlied)
            .unwrap();
        assert_eq!(unbrotlied, script);
        // Six bytes do not shrink; CBOR is not on the list at all.
        for absent in [
            "icon.svg.gz",
            "icon.svg.br",
            "roots.cbor.gz",
            "roots.cbor.br",
        ] {
            assert!(!dir.join(absent).exists(), "{absent}");
        }
        fs::remove_dir_all(&dir).unwrap();
    }
}
