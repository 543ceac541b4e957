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
