#!/usr/bin/env bash
# Benchmark: builds in release mode, seeds a database, starts the server and
# measures it with wrk on loopback, on SQLite and on PostgreSQL, at 1 and at
# 16 connections (the issue-15 targets are at 16). Writes bench/results.md; exits non-zero if any request failed.
#
# Environment: BENCH_TIMES (50000), BENCH_USERS (200), BENCH_PROJECTS (100),
# BENCH_ACTIVITIES (20), BENCH_SECONDS per measurement (5), BENCH_BACKENDS
# ("sqlite postgres"), BENCH_CONNS ("1 16"), BENCH_ONLY (a regular expression:
# only the requests whose names match, besides GET /healthz).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/databases.sh

# BENCH_MODE=scale (bench/scale.sh): a million times, one connection, the
# requests whose latency must not grow with the table, and the seeding time.
MODE=${BENCH_MODE:-default}
if [ "$MODE" = scale ]; then
  TIMES=${BENCH_TIMES:-1000000}; CONNS=${BENCH_CONNS:-1}
  ONLY=${BENCH_ONLY:-'limit=25 \(admin\)|limit=25 \(member\)|user&start&end|summary \(project,week\)'}
  OUT=${BENCH_OUT:-bench/results-scale.md}
else
  TIMES=${BENCH_TIMES:-50000}; CONNS=${BENCH_CONNS:-1 16}
  ONLY=${BENCH_ONLY:-}
  OUT=${BENCH_OUT:-bench/results.md}
fi
USERS=${BENCH_USERS:-200}; PROJECTS=${BENCH_PROJECTS:-100}
ACTIVITIES=${BENCH_ACTIVITIES:-20}; SECONDS_EACH=${BENCH_SECONDS:-5}
BACKENDS=${BENCH_BACKENDS:-sqlite postgres}

install_missing
if ! command -v wrk >/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "wrk is missing (run as root to install it)" >&2; exit 1; }
  log "installing wrk"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null; }
fi

if [ -n "${BENCH_BIN:-}" ]; then
  BIN=$(realpath "$BENCH_BIN") # a binary built elsewhere (an older commit, to compare: BENCH_COMMIT names it)
else
  log "building (release)"
  # Cargo says where the binary is (CARGO_TARGET_DIR respected).
  BIN=$(cargo build --release --locked --bin timesync --message-format=json-render-diagnostics |
    python3 scripts/lib/cargo_bin.py)
fi

WORK=$(mktemp -d /tmp/timesync-bench.XXXXXX); chmod 755 "$WORK"
SERVER_PID=""
bench_cleanup() {
  [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  cleanup
}
trap bench_cleanup EXIT

RESULTS=$WORK/results.tsv
FAILED=0
: > "$RESULTS"

json_get() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

login() { # login USER PASSWORD
  curl -sf -XPOST "$BASE/v0/login" -H 'Content-Type: application/json' \
    -d "{\"auth\":{\"type\":\"password\",\"username\":\"$1\",\"password\":\"$2\"}}" | json_get 'd["token"]'
}

# measure BACKEND NAME CONNECTIONS METHOD PATH [LUA-ENV...]: one wrk run.
measure() {
  local backend=$1 name=$2 conns=$3; shift 3
  if [ -n "$ONLY" ] && [ "$name" != "GET /healthz" ] && ! grep -Eq -- "$ONLY" <<<"$name"; then return; fi
  local threads=$(( conns < 2 ? 1 : 2 ))
  local out
  out=$(env "$@" wrk -t"$threads" -c"$conns" -d"${SECONDS_EACH}s" --timeout 10s -s bench/wrk.lua "$BASE" 2>&1) || true
  local line
  line=$(grep '^RESULT ' <<<"$out" || true)
  if [ -z "$line" ]; then
    echo "wrk failed for $name: $out" >&2; FAILED=1; return
  fi
  # RESULT requests errors rps p50ms p99ms
  read -r _ reqs errs rps p50 p99 <<<"$line"
  [ "$errs" = 0 ] || { FAILED=1; echo "$name ($backend, c=$conns): $errs failed requests" >&2; }
  # The load average of the machine as the measurement ends (other work
  # on the cores shows here).
  local load
  load=$(cut -d' ' -f1 /proc/loadavg)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$backend" "$name" "$conns" "$rps" "$p50" "$p99" "$errs" "$load" >> "$RESULTS"
  printf '  %-34s c=%-3s %10s req/s  p50 %7s ms  p99 %7s ms  errors %s\n' "$name" "$conns" "$rps" "$p50" "$p99" "$errs"
}

for backend in $BACKENDS; do
  case $backend in
    sqlite) DB_URL="sqlite://$WORK/bench.sqlite3" ;;
    postgres)
      start_postgres
      DB_URL=$TIMESYNC_TEST_POSTGRES_URL ;;
    *) echo "unknown backend $backend" >&2; exit 1 ;;
  esac
  log "$backend: seeding $TIMES times"
  SEED_START=$(date +%s.%N)
  "$BIN" seed --database-url "$DB_URL" --users "$USERS" --projects "$PROJECTS" \
    --activities "$ACTIVITIES" --times "$TIMES" --admin-password admin
  SEED_SECONDS=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$SEED_START" "$(date +%s.%N)")
  printf '%s\tseed (s)\t-\t%s\t-\t-\t0\t%s\n' "$backend" "$SEED_SECONDS" "$(cut -d' ' -f1 /proc/loadavg)" >> "$RESULTS"
  echo "  seeded in $SEED_SECONDS s"
  PORT=$(free_port)
  DATABASE_URL=$DB_URL SECRET_KEY=bench-secret-key-0123456789abcdef0123456789 PORT=$PORT \
    TIMESYNC_LOGIN_FAILURES_PER_MINUTE=0 TIMESYNC_LOG=warn "$BIN" serve >"$WORK/server-$backend.log" 2>&1 &
  SERVER_PID=$!
  BASE=http://127.0.0.1:$PORT
  wait_for "timesync ($backend)" "$SERVER_PID" curl -sf "$BASE/healthz"

  ADMIN=$(login admin admin)
  # An ordinary member of project1 who has times there, and some of their times.
  MEMBER=$(curl -sf "$BASE/v0/projects/project1?token=$ADMIN" | json_get \
    '[u for u,r in sorted(d["users"].items()) if r["member"] and not r["manager"] and not r["spectator"]][0]')
  MEMBER_TOKEN=$(login "$MEMBER" password)
  UUIDS=$(curl -sf "$BASE/v0/times?user=$MEMBER&limit=50&token=$ADMIN" | json_get '",".join(t["uuid"] for t in d)')
  SOME_USER=$(curl -sf "$BASE/v0/times?limit=1&skip=100&token=$ADMIN" | json_get 'd[0]["user"]')
  log "$backend: measuring (${SECONDS_EACH}s each; member $MEMBER)"
  for c in $CONNS; do
    measure "$backend" "GET /healthz" $c PATH_=/healthz
    measure "$backend" "GET /v0/times?limit=25 (admin)" $c PATH_="/v0/times?limit=25&token=$ADMIN"
    measure "$backend" "GET /v0/times?limit=25 (member)" $c PATH_="/v0/times?limit=25&token=$MEMBER_TOKEN"
    # All of one user's times (the reference answers ~600 of them, ~200 KB).
    measure "$backend" "GET /v0/times?user=U" $c PATH_="/v0/times?user=$SOME_USER&limit=1000&token=$ADMIN"
    measure "$backend" "GET /v0/times?user&start&end" $c PATH_="/v0/times?user=$SOME_USER&start=2025-01-01&end=2025-06-30&token=$ADMIN"
    measure "$backend" "GET /v0/reports/summary (project,week)" $c PATH_="/v0/reports/summary?group_by=project,week&token=$ADMIN"
    measure "$backend" "GET /v0/reports/summary (member, activity)" $c PATH_="/v0/reports/summary?group_by=activity,month&token=$MEMBER_TOKEN"
    measure "$backend" "GET /v0/projects" $c PATH_="/v0/projects?token=$ADMIN"
    measure "$backend" "GET /v0/users" $c PATH_="/v0/users?token=$ADMIN"
    # The web app's week page and reports page (the session cookie holds a token).
    measure "$backend" "GET / (web week, member)" $c PATH_="/?week=2025-03-03" COOKIE="session=$MEMBER_TOKEN; csrf=bench"
    measure "$backend" "GET /reports (web, project)" $c PATH_="/reports?start=2025-01-01&end=2025-12-31&group_by=project" COOKIE="session=$ADMIN; csrf=bench"
    measure "$backend" "GET /v0/activities/activity1" $c PATH_="/v0/activities/activity1?token=$ADMIN"
    measure "$backend" "POST /v0/times" $c MODE=create TOKEN="$MEMBER_TOKEN" USER_="$MEMBER" PROJECT=project1
    measure "$backend" "POST /v0/times/:uuid" $c MODE=update TOKEN="$MEMBER_TOKEN" UUIDS="$UUIDS"
    measure "$backend" "POST /v0/login" $c MODE=login USER_="$MEMBER"
    # GET /times while logins run in parallel (same duration, second wrk).
    env MODE=login USER_="$MEMBER" wrk -t1 -c4 -d"${SECONDS_EACH}s" -s bench/wrk.lua "$BASE" >"$WORK/login-bg.txt" 2>&1 &
    BG=$!
    measure "$backend" "GET /v0/times?limit=25 + logins" $c PATH_="/v0/times?limit=25&token=$MEMBER_TOKEN"
    wait $BG || true
  done
  RSS=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
  printf '%s\tpeak RSS (KiB)\t-\t%s\t-\t-\t0\t-\n' "$backend" "$RSS" >> "$RESULTS"
  echo "  peak RSS: $((RSS / 1024)) MiB"
  kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || true; SERVER_PID=""
done

python3 bench/report.py "$RESULTS" "$TIMES" > "$OUT"
log "wrote $OUT"
cat "$OUT"
exit $FAILED
