#!/usr/bin/env bash
# Run the sealpass-core fuzz targets with libFuzzer (cargo fuzz).
#
#   fuzz/run.sh TARGET SECONDS     one target, e.g. fuzz/run.sh pass_text 600
#   fuzz/run.sh all SECONDS        every target, one after the other
#   fuzz/run.sh list               the targets
#
# Works from a fresh clone on the stable toolchain: cargo-fuzz is installed
# from crates.io if missing, and RUSTC_BOOTSTRAP=1 lets stable rustc take the
# nightly-only flags cargo fuzz passes (-Zsanitizer=address, coverage).
# Each run reads the committed seeds (fuzz/seeds/TARGET) and grows its own
# corpus (fuzz/corpus/TARGET, not in git); a crash is saved under
# fuzz/artifacts/TARGET and makes this script exit 1. The full libFuzzer
# output goes to fuzz/logs/TARGET.log; the last lines are printed here.
# Environment: FUZZ_WORKERS (default 1) parallel fuzzing processes per target.
set -euo pipefail

cd "$(dirname "$0")"
TARGETS=(pass_text live_code cose_sign1 claims trust_list status_list cbor policy issuer_http ingest_rows)

usage() {
    sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# max_len (bytes) per target. Every target gets -rss_limit_mb=2048 (ASan and
# libFuzzer alone hold ~500 MB) and -malloc_limit_mb=256: no parser may ask
# for more in one allocation (the largest legitimate one is a status list's
# bit array, at most 64 MiB).
limits() {
    case "$1" in
        pass_text) echo 4096 ;;      # a pass text is at most 2048 bytes
        live_code) echo 4096 ;;      # so is a live code's
        cose_sign1) echo 4096 ;;
        claims) echo 1024 ;;
        trust_list) echo 16384 ;;    # room for several issuer keys and signatures
        status_list) echo 16384 ;;
        cbor) echo 4096 ;;
        policy) echo 1024 ;;
        issuer_http) echo 8192 ;;   # a token may be 8 KiB (MAX_TOKEN_LEN)
        ingest_rows) echo 16384 ;;  # a line may be 16 KiB (ingest::MAX_LINE_LEN)
        *) echo "unknown target $1 (try: ${TARGETS[*]})" >&2; exit 2 ;;
    esac
}

run_one() {
    local target=$1 seconds=$2 max_len rss=2048 workers=${FUZZ_WORKERS:-1}
    max_len=$(limits "$target")
    local args=(-max_total_time="$seconds" -max_len="$max_len" -rss_limit_mb="$rss" -malloc_limit_mb=256 -timeout=10
        -print_final_stats=1)
    [[ -f dicts/$target.dict ]] && args+=(-dict="dicts/$target.dict")
    [[ $workers -gt 1 ]] && args+=(-workers="$workers" -jobs="$workers")
    mkdir -p "corpus/$target" "artifacts/$target" logs
    echo "== $target: ${seconds}s, max_len=$max_len, rss_limit_mb=$rss, workers=$workers ($(date -u +%FT%TZ))"
    local status=0
    cargo fuzz run "$target" "corpus/$target" "seeds/$target" -- "${args[@]}" >"logs/$target.log" 2>&1 || status=$?
    grep -E '^#[0-9]+[[:space:]]+DONE|^Done [0-9]+ runs|^stat::' "logs/$target.log" || true
    if [[ $status -ne 0 ]]; then
        echo "!! $target failed (exit $status): see fuzz/logs/$target.log and fuzz/artifacts/$target/" >&2
        tail -n 40 "logs/$target.log" >&2
    fi
    return $status
}

[[ $# -ge 1 ]] || usage
if [[ $1 == list ]]; then
    printf '%s\n' "${TARGETS[@]}"
    exit 0
fi
[[ $# -eq 2 && $2 =~ ^[0-9]+$ ]] || usage

export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is missing: installing it from crates.io" >&2
    cargo install cargo-fuzz --locked
fi

if [[ $1 == all ]]; then
    selected=("${TARGETS[@]}")
    cargo fuzz build
else
    limits "$1" >/dev/null
    selected=("$1")
    cargo fuzz build "$1"
fi

failed=()
for target in "${selected[@]}"; do
    run_one "$target" "$2" || failed+=("$target")
done
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "crashed or failed: ${failed[*]}" >&2
    exit 1
fi
