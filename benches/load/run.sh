#!/usr/bin/env bash
# HTTP load benchmark: Colloquy (and, with ISSO=1, Isso) under the same wrk
# workload as the shared Isso baseline: list a 200-comment thread, count,
# post. Loopback only, bounded in time.
#
#   benches/load/run.sh                  # Colloquy on SQLite
#   DB=postgres benches/load/run.sh      # Colloquy on PostgreSQL (COLLOQUY_TEST_POSTGRES_URL)
#   ISSO=1 benches/load/run.sh           # also Isso 0.14 under gunicorn -w 4
#   SCALE=1 benches/load/run.sh          # list cost with 1k, 100k, 1M comments in the database
#   DB=postgres INSTANCES=2 benches/load/run.sh   # two servers on one PostgreSQL database
#
# Colloquy runs with the defaults a user gets (no configuration file), rate
# limits off only. Posts go to a fresh thread per run, and then to a hot
# thread that already holds a warm-up run's comments (HOT=0 skips it).
#
# env: DURATION (10 s), RUNS (3), CONNS ("8 32"), PORT (8091), OUT (results dir)
# Uses the shared perf scripts (../shared/perf/isso: bench.sh, seed.py, summarize.py,
# procstat.py) so both servers are measured by the same code.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
perf="${PERF_DIR:-$repo/../shared/perf/isso}"
[ -x "$perf/bench.sh" ] || { echo "needs the shared perf scripts at $perf (set PERF_DIR)" >&2; exit 2; }
for tool in wrk jq curl python3 sqlite3; do
  command -v "$tool" >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk jq curl sqlite3 >/dev/null; break; }
done

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/colloquy-target}"
DURATION="${DURATION:-10}"; RUNS="${RUNS:-3}"; CONNS_LIST="${CONNS:-8 32}"; PORT="${PORT:-8091}"
OUT="${OUT:-$(mktemp -d /tmp/colloquy-load.XXXX)}"
mkdir -p "$OUT"
work="$(mktemp -d /tmp/colloquy-load-work.XXXX)"
trap 'for p in ${srvs:-}; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT

(cd "$repo" && cargo build --release --quiet)
bin="$CARGO_TARGET_DIR/release/colloquy"

case "${DB:-sqlite}" in
  sqlite) db_url="sqlite:$work/bench.db" ;;
  postgres)
    base="${COLLOQUY_TEST_POSTGRES_URL:?set COLLOQUY_TEST_POSTGRES_URL}"
    schema="bench_$$"
    psql "$base" -qc "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema"
    sep='?'; case "$base" in *\?*) sep='&';; esac
    db_url="${base}${sep}options=-c%20search_path%3D${schema}"
    db_url_psql="${base}${sep}options=-csearch_path%3D${schema}" ;;
  *) echo "DB is sqlite or postgres" >&2; exit 2 ;;
esac

# The defaults a user gets: no configuration file (the default site, its
# formats, moderation rules, duplicate check and form checks as shipped).
# Only rate limits are off, since wrk posts from one address.
start_server() { # port [config] -> sets srv (and appends to srvs)
  local port="$1" config=()
  [ -n "${2:-}" ] && config=(--config "$2")
  (cd "$work" && COLLOQUY_LOG=warn COLLOQUY_RATE_LIMIT=off "$bin" serve "${config[@]}" \
      --listen "127.0.0.1:$port" --database "$db_url") &
  srv=$!
  srvs="${srvs:-} $srv"
  for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.2; done
  echo "server did not start" >&2; exit 1
}
stop_servers() {
  for p in ${srvs:-}; do kill "$p" 2>/dev/null || true; done
  for p in ${srvs:-}; do wait "$p" 2>/dev/null || true; done
  srvs=""
}
INSTANCES="${INSTANCES:-1}"
if [ "$INSTANCES" = 2 ] && [ "${DB:-sqlite}" != postgres ]; then
  echo "INSTANCES=2 needs DB=postgres (an SQLite file belongs to one process)" >&2; exit 2
fi
# The list thread is seeded once with every comment published (the seed's
# replies would otherwise meet held parents); the measured servers then run
# without any configuration.
cat > "$work/seed.toml" <<TOML
[[site]]
id = "default"
moderation = "publish"
TOML
start_server "$PORT" "$work/seed.toml"
base_url="http://127.0.0.1:$PORT"
site="/api/v1/sites/default"
BASE_URL="$base_url" NEW_PATH="$site/threads/bench%2Fthread/comments" \
  BODY_TEMPLATE='{"body": {text}, "author": {author}, "email": {email}, "parent": {parent}}' \
  python3 "$perf/seed.py" 200 >/dev/null
stop_servers
# The seed's setting is kept in the database: the default (rules) goes
# back before the measured servers start.
case "${DB:-sqlite}" in
  sqlite) sqlite3 "$work/bench.db" "UPDATE sites SET moderation = 'rules' WHERE id = 'default'" ;;
  postgres) psql "$db_url_psql" -qc "UPDATE sites SET moderation = 'rules' WHERE id = 'default'" ;;
esac

start_server "$PORT"
first_srv=$srv
label="colloquy-${DB:-sqlite}"
if [ "$INSTANCES" = 2 ]; then
  start_server "$((PORT + 1))"
  label="$label-x2"
fi
echo "seeded 200 comments; list response: $(curl -s "$base_url$site/threads/bench%2Fthread/comments?limit=200" | wc -c) bytes"

# One measured wrk run of scenario $1 with $2 connections; posts go to
# thread $3 with texts marked $4 (wrk's texts repeat from run to run, and
# the duplicate check, on by default, would answer a repeat with 409).
# With two servers, half the connections go to each at the same time and
# the runs are labelled -a and -b (benches/load/summarize.py adds them up).
measure() { # scenario conns thread mark label
  local sc="$1" conns="$2" thread="$3" mark="$4" lab="$5"
  local template="{\"body\":\"{text} [$mark]\",\"author\":\"{author}\",\"email\":\"{email}\"}"
  local common=(SCENARIOS="$sc" DURATION="$DURATION" RUNS=1
    LIST_PATH="$site/threads/bench%2Fthread/comments?limit=200"
    COUNT_PATH="$site/counts" COUNT_METHOD=POST COUNT_BODY='["bench/thread"]'
    POST_PATH="$site/threads/$thread/comments" BODY_TEMPLATE="$template"
    OUT="$OUT/results.jsonl")
  if [ "$INSTANCES" = 2 ]; then
    local half=$((conns / 2)) p pids=() suffix=(a b)
    for p in 0 1; do
      env "${common[@]}" BASE_URL="http://127.0.0.1:$((PORT + p))" SERVER_PID="$first_srv" \
        LABEL="$lab-${suffix[$p]}" CONNS="$half" QUIET_WAIT=0 MAX_TRIES=1 \
        "$perf/bench.sh" >/dev/null &
      pids+=($!)
    done
    wait "${pids[@]}"
  else
    # A post run is never repeated (bench.sh repeats disturbed runs): the
    # repeat would send the same texts, and the duplicate check answer 409.
    local tries="${MAX_TRIES:-8}"
    [ "$sc" = post ] && tries=1
    env "${common[@]}" BASE_URL="$base_url" SERVER_PID="$srv" LABEL="$lab" CONNS="$conns" \
      QUIET_WAIT="${QUIET_WAIT:-20}" MAX_TRIES="$tries" "$perf/bench.sh" >/dev/null
  fi
}
for c in $CONNS_LIST; do
  for r in $(seq 1 "$RUNS"); do
    measure list "$c" - - "$label"
    measure count "$c" - - "$label"
    # A fresh thread per run ...
    measure post "$c" "bench%2Ffresh-$c-$r" "fresh $c $r" "$label"
  done
done
# ... against one thread that already holds the comments of a warm-up run
# (tens of thousands, all recent, so inside the duplicate window).
if [ "${HOT:-1}" = 1 ]; then
  c="${CONNS_LIST##* }"
  measure post "$c" "bench%2Fhot" "warm-up" "warm-up"
  warm=$(curl -s -XPOST -H 'content-type: application/json' -d '["bench/hot"]' "$base_url$site/counts" | jq '.counts["bench/hot"]')
  echo "hot thread holds $warm published comments before the measured runs"
  for r in $(seq 1 "$RUNS"); do
    measure post "$c" "bench%2Fhot" "hot $r" "$label-hot"
  done
fi
srv=$first_srv

if [ "${SCALE:-0}" = 1 ] && [ "${DB:-sqlite}" = sqlite ]; then
  # Listing cost must not grow with the table: add filler comments to other
  # threads straight into the database, then measure the same list again.
  for total in 1000 100000 1000000; do
    for p in $srvs; do kill "$p" 2>/dev/null || true; done; srvs=""; wait 2>/dev/null || true
    have=$(sqlite3 "$work/bench.db" "SELECT COUNT(*) FROM comments")
    need=$((total - have))
    if [ "$need" -gt 0 ]; then
      sqlite3 "$work/bench.db" "
        INSERT INTO threads (site, thread_key, state, created)
          SELECT 'default', 'filler-' || (n % 5000), 'open', 0 FROM
          (WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < 4999) SELECT n FROM s)
          WHERE 1 ON CONFLICT DO NOTHING;
        INSERT INTO comments (id, site, thread_key, parent, status, format, body, html, policy_version, created)
          WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < $need)
          SELECT 900000000000000 + $have + n, 'default', 'filler-' || (n % 5000), NULL, 'published', 'plain_text',
                 'filler ' || n, '<p>filler ' || n || '</p>', 'x', 1600000000000 + n FROM s;"
    fi
    start_server "$PORT"
    BASE_URL="$base_url" SERVER_PID="$srv" LABEL="scale-$total" CONNS=8 DURATION="$DURATION" RUNS=1 \
      SCENARIOS=list LIST_PATH="$site/threads/bench%2Fthread/comments?limit=200" QUIET_WAIT=20 \
      OUT="$OUT/results.jsonl" "$perf/bench.sh" >/dev/null
  done
fi
for p in $srvs; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true

if [ "${ISSO:-0}" = 1 ]; then
  export ISSO_DIR="$work/isso" PORT_ISSO="${PORT_ISSO:-8092}"
  "$perf/isso-server.sh" install >/dev/null
  PORT="$PORT_ISSO" "$perf/isso-server.sh" config >/dev/null
  PORT="$PORT_ISSO" "$perf/isso-server.sh" start gunicorn 4
  isso_pid=$(cat "$ISSO_DIR/server.pid" 2>/dev/null || pgrep -f "gunicorn.*isso" | head -1)
  BASE_URL="http://127.0.0.1:$PORT_ISSO" python3 "$perf/seed.py" 200 >/dev/null
  curl -s -XPOST -H 'content-type: application/json' -d '{"text":"create","title":"posts"}' \
    "http://127.0.0.1:$PORT_ISSO/new?uri=%2Fbench%2Fposts" >/dev/null
  for c in $CONNS_LIST; do
    BASE_URL="http://127.0.0.1:$PORT_ISSO" SERVER_PID="$isso_pid" LABEL="isso-gunicorn4" CONNS="$c" \
      DURATION="$DURATION" RUNS="$RUNS" QUIET_WAIT="${QUIET_WAIT:-20}" OUT="$OUT/results.jsonl" "$perf/bench.sh" >/dev/null
  done
  PORT="$PORT_ISSO" "$perf/isso-server.sh" stop || true
fi

echo "results: $OUT/results.jsonl"
python3 "$repo/benches/load/summarize.py" "$OUT/results.jsonl"
