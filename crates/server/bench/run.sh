#!/usr/bin/env bash
# POST /v1/calculate benchmark on loopback: a release `santei serve` with the sample master, a
# fresh tenant, wrk with bench/calc.lua. See bench/README.md.
#
#   crates/server/bench/run.sh                       # SQLite (default storage)
#   crates/server/bench/run.sh "$SANTEI_TEST_POSTGRES_URL"   # PostgreSQL
#   THREADS=1 CONNS=8 DURATION=20s crates/server/bench/run.sh
#
# Env: SANTEI (binary, default $CARGO_TARGET_DIR/release/santei or target/release/santei),
# THREADS (wrk -t, 1), CONNS (wrk -c, 16), DURATION (20s), PORT (18080), BODY (bench/body.json),
# SERVE_ARGS (extra `santei serve` options, e.g. --audit-commit-all).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SANTEI="${SANTEI:-${CARGO_TARGET_DIR:-target}/release/santei}"
DB="${1:-sqlite}"
THREADS="${THREADS:-1}" CONNS="${CONNS:-16}" DURATION="${DURATION:-20s}" PORT="${PORT:-18080}"
export BODY="${BODY:-$HERE/body.json}"
command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 2; }
[ -x "$SANTEI" ] || { echo "no binary at $SANTEI: cargo build --release -p santei" >&2; exit 2; }

D="$(mktemp -d)"
db_args=()
[ "$DB" != sqlite ] && db_args=(--database-url "$DB")
code="$(printf '13%04d%04d' $((RANDOM % 10000)) $((RANDOM % 10000)))"
SANTEI_TOKEN="$("$SANTEI" tenant create --code "$code" --name bench --data-dir "$D" "${db_args[@]}" --json 2>/dev/null \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
export SANTEI_TOKEN

"$SANTEI" serve --listen "127.0.0.1:$PORT" --data-dir "$D" --sample-master "${db_args[@]}" ${SERVE_ARGS:-} >"$D/serve.out" 2>"$D/serve.log" &
PID=$!
trap 'kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$D"' EXIT
for _ in $(seq 100); do grep -q listening "$D/serve.out" 2>/dev/null && break; sleep 0.1; done

# Correctness first: one request must answer 200 with points.
curl -sf -H "Authorization: Bearer $SANTEI_TOKEN" -H 'Content-Type: application/json' \
  --data-binary "@$BODY" "http://127.0.0.1:$PORT/v1/calculate" | python3 -c 'import json,sys; print("total_points", json.load(sys.stdin)["total_points"])'

echo "storage: $([ "$DB" = sqlite ] && echo sqlite || echo postgresql); nproc $(nproc); $(grep -m1 'model name' /proc/cpuinfo)"
echo "wrk -t$THREADS -c$CONNS -d$DURATION (after a 3 s warm-up)"
cd "$HERE"
wrk -t"$THREADS" -c"$CONNS" -d3s -s calc.lua "http://127.0.0.1:$PORT/v1/calculate" >/dev/null
( for _ in $(seq 4); do sleep 4; cut -d' ' -f1 /proc/loadavg; done ) > "$D/load" &
LOADPID=$!
wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s calc.lua "http://127.0.0.1:$PORT/v1/calculate"
wait "$LOADPID"
echo "load average (1 min) during the run: $(tr '\n' ' ' < "$D/load")"
# Every answered calculation has its audit entry (graceful stop commits buffered ones first).
kill "$PID"; wait "$PID" 2>/dev/null || true
"$SANTEI" audit verify --data-dir "$D" "${db_args[@]}" | tail -1
