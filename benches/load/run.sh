#!/usr/bin/env bash
# HTTP load benchmark: Colloquy (and, with ISSO=1, Isso) under the same wrk
# workload as the shared Isso baseline: list a 200-comment thread, count,
# post. Loopback only, bounded in time.
#
#   benches/load/run.sh                  # Colloquy on SQLite
#   DB=postgres benches/load/run.sh      # Colloquy on PostgreSQL (COLLOQUY_TEST_POSTGRES_URL)
#   ISSO=1 benches/load/run.sh           # also Isso 0.14 under gunicorn -w 4
#   SCALE=1 benches/load/run.sh          # list cost with 1k, 100k, 1M comments in the database
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
trap 'kill "${srv:-0}" 2>/dev/null || true; wait 2>/dev/null || true' EXIT

(cd "$repo" && cargo build --release --quiet)
bin="$CARGO_TARGET_DIR/release/colloquy"

case "${DB:-sqlite}" in
  sqlite) db_url="sqlite:$work/bench.db" ;;
  postgres)
    base="${COLLOQUY_TEST_POSTGRES_URL:?set COLLOQUY_TEST_POSTGRES_URL}"
    schema="bench_$$"
    psql "$base" -qc "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema"
    sep='?'; case "$base" in *\?*) sep='&';; esac
    db_url="${base}${sep}options=-c%20search_path%3D${schema}" ;;
  *) echo "DB is sqlite or postgres" >&2; exit 2 ;;
esac

# Moderation, duplicate check and rate limits off, as the Isso baseline runs
# (its guard disabled; wrk repeats its comment texts from run to run).
cat > "$work/colloquy.toml" <<TOML
[[site]]
id = "default"
formats = ["filtered_html", "plain_text", "markdown"]
default_format = "markdown"
moderation = "publish"
duplicate_window_secs = 0
TOML

start_server() {
  (cd "$work" && COLLOQUY_LOG=warn COLLOQUY_RATE_LIMIT=off "$bin" serve --config "$work/colloquy.toml" \
      --listen "127.0.0.1:$PORT" --database "$db_url" --policies "$repo/policies") &
  srv=$!
  for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && return; sleep 0.2; done
  echo "server did not start" >&2; exit 1
}
start_server

base_url="http://127.0.0.1:$PORT"
site="/api/v1/sites/default"
BASE_URL="$base_url" NEW_PATH="$site/threads/bench%2Fthread/comments" \
  BODY_TEMPLATE='{"body": {text}, "author": {author}, "email": {email}, "parent": {parent}}' \
  python3 "$perf/seed.py" 200 >/dev/null
echo "seeded 200 comments; list response: $(curl -s "$base_url$site/threads/bench%2Fthread/comments?limit=200" | wc -c) bytes"

run_bench() { # label conns
  BASE_URL="$base_url" SERVER_PID="$srv" LABEL="$1" CONNS="$2" DURATION="$DURATION" RUNS="$RUNS" \
    LIST_PATH="$site/threads/bench%2Fthread/comments?limit=200" \
    COUNT_PATH="$site/counts" COUNT_METHOD=POST COUNT_BODY='["bench/thread"]' \
    POST_PATH="$site/threads/bench%2Fposts/comments" \
    BODY_TEMPLATE='{"body":"{text}","author":"{author}","email":"{email}"}' \
    QUIET_WAIT="${QUIET_WAIT:-20}" OUT="$OUT/results.jsonl" "$perf/bench.sh" >/dev/null
}
for c in $CONNS_LIST; do run_bench "colloquy-${DB:-sqlite}" "$c"; done
stored=$(curl -s -XPOST -H 'content-type: application/json' -d '["bench/posts"]' "$base_url$site/counts" | jq '.counts["bench/posts"]')
echo "comments stored by the post runs: $stored"

if [ "${SCALE:-0}" = 1 ] && [ "${DB:-sqlite}" = sqlite ]; then
  # Listing cost must not grow with the table: add filler comments to other
  # threads straight into the database, then measure the same list again.
  for total in 1000 100000 1000000; do
    kill "$srv"; wait "$srv" 2>/dev/null || true
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
    start_server
    BASE_URL="$base_url" SERVER_PID="$srv" LABEL="scale-$total" CONNS=8 DURATION="$DURATION" RUNS=1 \
      SCENARIOS=list LIST_PATH="$site/threads/bench%2Fthread/comments?limit=200" QUIET_WAIT=20 \
      OUT="$OUT/results.jsonl" "$perf/bench.sh" >/dev/null
  done
fi
kill "$srv"; wait "$srv" 2>/dev/null || true

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
python3 "$perf/summarize.py" "$OUT/results.jsonl"
