# Shared by scripts/perf/*: where the harness keeps its data, and the
# throwaway PostgreSQL cluster (Debian's postgresql package, run as the
# `postgres` user when we are root: initdb refuses root). Sourced, not run.
#
#   PERF_DIR   data directory, default /tmp/sealpass-perf (about 2 GB for 1M subjects):
#              sqlite/issuer.db, pg/ (cluster), tokens/ (perf_tokens' output)
#   PERF_PG_PORT  the cluster's loopback port, default 15432

PERF_DIR=${PERF_DIR:-/tmp/sealpass-perf}
PERF_PG_PORT=${PERF_PG_PORT:-15432}
PERF_TARGET=${CARGO_TARGET_DIR:-target}
PERF_SQLITE="$PERF_DIR/sqlite/issuer.db"
PERF_PG_URL="postgres://sealpass@127.0.0.1:$PERF_PG_PORT/sealpass_perf"
PERF_PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)

perf_as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Start the cluster (initdb on first use). fsync on, as in production.
perf_pg_start() {
  [ -n "$PERF_PG_BIN" ] || { echo "PostgreSQL is missing: apt-get install postgresql" >&2; return 1; }
  local pg="$PERF_DIR/pg"
  mkdir -p "$pg"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$pg"
  if [ ! -f "$pg/data/PG_VERSION" ]; then
    perf_as_postgres "$PERF_PG_BIN/initdb" -D "$pg/data" -A trust -U sealpass -E UTF8 --locale=C >"$pg/initdb.log" 2>&1
  fi
  if ! "$PERF_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PERF_PG_PORT"; then
    perf_as_postgres "$PERF_PG_BIN/pg_ctl" -D "$pg/data" -l "$pg/server.log" -w -t 120 \
      -o "-p $PERF_PG_PORT -c listen_addresses=127.0.0.1 -k $pg -c max_connections=200 -c shared_buffers=512MB" start >/dev/null
  fi
  psql -q -h 127.0.0.1 -p "$PERF_PG_PORT" -U sealpass -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'sealpass_perf'" | grep -q 1 ||
    psql -q -h 127.0.0.1 -p "$PERF_PG_PORT" -U sealpass -d postgres -c "CREATE DATABASE sealpass_perf"
}

perf_pg_stop() {
  [ -f "$PERF_DIR/pg/data/postmaster.pid" ] || return 0
  perf_as_postgres "$PERF_PG_BIN/pg_ctl" -D "$PERF_DIR/pg/data" -m fast -w stop >/dev/null || true
}

# PID of the cluster's postmaster (for its RSS and CPU).
perf_pg_pid() { head -1 "$PERF_DIR/pg/data/postmaster.pid" 2>/dev/null; }

# Every token once, in order, before a measurement (the phones logged in
# before the rush): at most 4,000 a second, and none given up on however
# long it takes, for a pass not loaded now is a store read during the
# measurement. (With a 10 s timeout, PostgreSQL's first reads could not
# keep 4,000 a second, a tenth of the passes were never loaded, and the
# measured loop made 19,000 store reads that SQLite's did not:
# docs/performance.md, "Pass download and overload".) A token answered
# otherwise (a first read refused while PostgreSQL's pool was busy) is
# sent again, in up to three rounds; fails if any is still not answered 200.
perf_warm_up() { # OPEN_LOOP PORT TOKENS
  local n secs report round; n=$(wc -l <"$3"); secs=$(((n + 3999) / 4000))
  report=$(mktemp)
  for round in 1 2 3; do
    "$1" --addr "127.0.0.1:$2" --tokens "$3" --phase "$((n / secs)):$secs" \
      --connections 128 --timeout-ms 600000 --in-order --quiet >"$report"
    python3 - "$report" "$n" "$round" <<'PY' && { rm -f "$report"; return 0; }
import json, sys
report, n, round_ = json.load(open(sys.argv[1])), int(sys.argv[2]), sys.argv[3]
phase = report["phases"][0]
ok = phase["classes"]["200"]["count"]
if ok < n:
    others = {c: v["count"] for c, v in phase["classes"].items() if c != "200" and v["count"]}
    sys.exit(f"warm-up round {round_}: {ok} of {n} tokens answered 200, the others {others}")
PY
  done
  rm -f "$report"
  return 1
}
