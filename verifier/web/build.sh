#!/usr/bin/env bash
# Build the offline web verifier into verifier/web/dist/: static files that
# any web server (or the issuer, at /verify) serves as they are.
#   verifier/web/build.sh            # needs the wasm32 target and wasm-bindgen-cli
# The wasm is sealpass-web (sealpass-core + sealpass-qr), built for size.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dist="$here/dist"
# The wasm-bindgen CLI must be the version of the wasm-bindgen crate (Cargo.toml).
wasm_bindgen_version="0.2.130"

if ! command -v wasm-bindgen >/dev/null || [ "$(wasm-bindgen --version)" != "wasm-bindgen $wasm_bindgen_version" ]; then
  echo "wasm-bindgen $wasm_bindgen_version is needed: cargo install wasm-bindgen-cli --version $wasm_bindgen_version" >&2
  exit 1
fi

target_dir="${CARGO_TARGET_DIR:-$root/target}"
# Size over speed for the download; one codegen unit and LTO let the
# linker drop what the page never calls. Set here, not in the workspace's
# release profile, which the native binaries keep.
(cd "$root" && cargo build --locked --release -p sealpass-web --lib --target wasm32-unknown-unknown \
  --config 'profile.release.opt-level="s"' \
  --config 'profile.release.lto=true' \
  --config 'profile.release.codegen-units=1' \
  --config 'profile.release.panic="abort"')

rm -rf "$dist"
mkdir -p "$dist/pkg"
wasm-bindgen --target web --no-typescript --out-dir "$dist/pkg" \
  "$target_dir/wasm32-unknown-unknown/release/sealpass_web.wasm"
cp "$here"/app/*.html "$here"/app/*.css "$here"/app/*.js "$here"/app/*.svg "$here"/app/*.webmanifest "$dist/"

# A new build is a new offline cache: the service worker's version is a
# hash of everything it caches.
build="$(cd "$dist" && find . -type f ! -name sw.js -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
sed -i "s/__BUILD__/$build/" "$dist/sw.js"

wasm_bytes=$(stat -c %s "$dist/pkg/sealpass_web_bg.wasm")
gzip_bytes=$(gzip -9 -c "$dist/pkg/sealpass_web_bg.wasm" | wc -c)
echo "built $dist: sealpass_web_bg.wasm $wasm_bytes bytes ($gzip_bytes gzipped), service worker cache $build"
