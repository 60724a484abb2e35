#!/usr/bin/env bash
# The benchmark, in one command. See README.md "Benchmark".
#
#   bench/run.sh                      PostgreSQL, 100,000 tickets, scenarios 1-7 and PostGraphile 4
#   bench/run.sh --sqlite             SQLite, 10,000 tickets (--tickets to change), no peer
#   bench/run.sh --scale              scenario 1 at 10,000 and at 1,000,000 tickets (PostgreSQL)
#   options: --tickets N --duration S (per scenario, default 10) --connections C (default 16)
#            --scenarios 1,3 --no-peer (3s: scenario 3 at one connection)
#   BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432) names the PostgreSQL server;
#   BENCH_BIN runs that binary instead of building and running target/release/deskgraph.
#
# Seeded databases are kept and reused when they hold the requested size: one PostgreSQL
# database per size (deskgraph_bench_N) and one SQLite file per size under bench/.state/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

BACKEND=pg
TICKETS=
SCALE=0
PEER=1
DURATION=10
CONNECTIONS=16
SCENARIOS=1,2,3,3s,4,5,6,7
while [ $# -gt 0 ]; do
  case "$1" in
    --sqlite) BACKEND=sqlite ;;
    --scale) SCALE=1 ;;
    --no-peer) PEER=0 ;;
    --tickets) TICKETS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --connections) CONNECTIONS=$2; shift ;;
    --scenarios) SCENARIOS=$2; shift ;;
    -h|--help) sed -n 2,13p "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$TICKETS" ]; then
  if [ "$BACKEND" = sqlite ]; then TICKETS=10000; else TICKETS=100000; fi
fi
PG=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}
STATE=$ROOT/bench/.state
mkdir -p "$STATE"

need() { command -v "$1" >/dev/null 2>&1; }
if ! need node || ! need npm; then
  echo "installing Node.js (Debian packages)" >&2
  apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi
if [ "$BACKEND" = pg ] && ! need psql; then
  apt-get update -qq && apt-get install -y -qq postgresql-client >/dev/null
fi
if [ ! -x bench/node_modules/.bin/autocannon ] || [ ! -x bench/node_modules/.bin/postgraphile ]; then
  (cd bench && npm ci --no-audit --no-fund --loglevel=error)
fi

# BENCH_BIN runs another build (a profiling one, say) instead of the release binary.
if [ -n "${BENCH_BIN:-}" ]; then
  BIN=$(realpath "$BENCH_BIN")
else
  echo "building the release binary" >&2
  cargo build --release --quiet
  BIN=$ROOT/target/release/deskgraph
fi

json() { node -e "process.stdout.write(String(JSON.parse(require('fs').readFileSync(0,'utf8'))['$1']))"; }

# Prepares a database of $1 tickets on $BACKEND; sets URL, SITE, AGENT, WSITE, WAGENT.
prepare() {
  local n=$1 name="deskgraph_bench_$1" exists=0
  if [ "$BACKEND" = pg ]; then
    # No TLS on this loopback connection, for us and for PostGraphile alike: the server would
    # otherwise negotiate it (sslmode=prefer) and PostGraphile's driver would not.
    URL="$PG/$name?sslmode=disable"
    [ "$(psql "$PG/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'")" = 1 ] && exists=1
  else
    URL="sqlite://$STATE/$name.db?mode=rwc"
    [ -f "$STATE/$name.db" ] && exists=1
  fi
  local seeded="$STATE/$name.$BACKEND.seed.json" writes="$STATE/$name.$BACKEND.writes.json"
  if [ $exists = 1 ] && [ -s "$seeded" ] && [ -s "$writes" ]; then
    echo "reusing $name ($BACKEND, $n tickets)" >&2
  else
    echo "seeding $name ($BACKEND, $n tickets)" >&2
    rm -f "$seeded" "$writes"
    if [ "$BACKEND" = pg ]; then
      psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name"
    else
      rm -f "$STATE/$name.db" "$STATE/$name.db-wal" "$STATE/$name.db-shm"
    fi
    DATABASE_URL=$URL "$BIN" migrate
    DATABASE_URL=$URL DESKGRAPH_LOG=warn "$BIN" seed --tickets "$n" > "$seeded.tmp"
    echo "seeded in $(json seconds < "$seeded.tmp") s" >&2
    # Scenario 4 writes into a site of its own, so reruns read the seeded site unchanged.
    DATABASE_URL=$URL DESKGRAPH_LOG=warn "$BIN" seed --tickets 0 > "$writes.tmp"
    mv "$seeded.tmp" "$seeded"
    mv "$writes.tmp" "$writes"
  fi
  SITE=$(json siteId < "$seeded")
  AGENT=$(json agentId < "$seeded")
  WSITE=$(json siteId < "$writes")
  WAGENT=$(json agentId < "$writes")
  reset_writes
}

# Empties scenario 4's site, so that every run creates tickets into the same (empty) site:
# left to grow, it slowed each later run's writes (176,000 tickets after a day of runs cost
# PostgreSQL 1.6x the CPU per create). On PostgreSQL the deleted rows are then vacuumed, so no
# run starts on the dead rows of the last one, nor with autovacuum at work on them (this
# machine's server runs with autovacuum off: 42,000 dead tickets and 83,000 dead messages had
# piled up in a day).
reset_writes() {
  if [ "$BACKEND" = pg ]; then
    psql "$URL" -qc "DELETE FROM tickets WHERE site_id = '$WSITE'" -c "VACUUM (ANALYZE)"
  else
    python3 - "$STATE/deskgraph_bench_$n.db" "$WSITE" <<'PY'
import sqlite3, sys, uuid
db = sqlite3.connect(sys.argv[1])
db.execute("PRAGMA foreign_keys = ON")
site = uuid.UUID(sys.argv[2]).bytes  # deskgraph stores UUIDs as 16-byte blobs on SQLite
ids = [r[0] for r in db.execute("SELECT id FROM tickets WHERE site_id = ?", (site,))]
db.executemany("DELETE FROM ticket_search WHERE rowid = ?", [(i,) for i in ids])
db.execute("DELETE FROM tickets WHERE site_id = ?", (site,))
db.commit()
PY
  fi
}

run() { # label, scenarios, peer
  local token wtoken
  token=$(DATABASE_URL=$URL "$BIN" token --site "$SITE" --agent "$AGENT" --ttl 2h)
  wtoken=$(DATABASE_URL=$URL "$BIN" token --site "$WSITE" --agent "$WAGENT" --ttl 2h)
  local peer=()
  [ "$3" = 1 ] && peer=(--peer)
  node bench/bench.mjs --bin "$BIN" --db "$URL" --site "$SITE" --token "$token" \
    --write-token "$wtoken" --label "$1" --duration "$DURATION" --connections "$CONNECTIONS" \
    --scenarios "$2" "${peer[@]}"
}

echo "machine: $(nproc) cores, $(uname -m), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
if [ $SCALE = 1 ]; then
  BACKEND=pg
  for n in 10000 1000000; do
    prepare $n
    run "PostgreSQL, $n tickets" 1 0
  done
  exit 0
fi
prepare "$TICKETS"
if [ "$BACKEND" = pg ]; then
  run "PostgreSQL, $TICKETS tickets" "$SCENARIOS" $PEER
else
  run "SQLite, $TICKETS tickets" "$SCENARIOS" 0
fi
