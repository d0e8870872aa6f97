#!/usr/bin/env bash
# Fuzzes the live API with schemathesis against its own OpenAPI description.
#
# Takes the server binary of the test build (asking cargo where it is),
# seeds a fresh SQLite database, adds org-roles and spare objects, serves
# it on a free loopback port, logs in as the seeded site admin and runs
# schemathesis on every documented operation with the conformance checks;
# scripts/fuzz_hooks.py makes most requests authenticate and name existing
# objects. Fails on any server error or answer that the description does
# not allow, and when an operation never got a 2xx answer. The server is
# stopped and the temporary directory removed however the run ends.
#
# Environment: FUZZ_MAX_EXAMPLES (default 50 per operation: successful
# writes cost more than refusals), FUZZ_TIMEOUT
# (seconds for the whole schemathesis run, default 600), FUZZ_SEED (a number,
# or `random`). One worker: hypothesis is not thread-safe enough for more.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
# Where cargo keeps its builds (CARGO_TARGET_DIR respected).
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps --locked |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
VENV=$TARGET_DIR/fuzz-venv
MAX_EXAMPLES=${FUZZ_MAX_EXAMPLES:-50}
RUN_TIMEOUT=${FUZZ_TIMEOUT:-600}
# A fixed seed keeps CI reproducible; set FUZZ_SEED=random to explore.
SEED=${FUZZ_SEED:-20261122}
if [ "$SEED" = random ]; then SEED=$(python3 -c 'import random; print(random.getrandbits(64))'); fi

log() { printf '\n==> fuzz: %s\n' "$*" >&2; }

if ! "$VENV/bin/st" --version 2>/dev/null | grep -qx "[a-z]*, version $SCHEMATHESIS_VERSION"; then
    log "installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi

# The binary of the test build (`cargo build --all-targets`, as
# scripts/test.sh runs it): the same feature set, so nothing is rebuilt,
# and wherever CARGO_TARGET_DIR puts it.
BIN=$(cargo build --all-targets --locked --message-format=json-render-diagnostics |
    python3 scripts/lib/cargo_bin.py)

WORK=$(mktemp -d /tmp/tsfuzz.XXXXXX)
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
# The server runs as its own copy, under a name of its own, so that a
# `pkill timesync` elsewhere on a shared machine cannot stop it mid-run.
cp "$BIN" "$WORK/fuzz-server"

DB="sqlite://$WORK/fuzz.sqlite3"
log "seeding $DB"
"$BIN" seed --database-url "$DB" --users 20 --projects 10 --activities 8 --times 300

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
log "serving on $BASE (log: $WORK/server.log)"
# JSON logs: the access lines tell which operations got a 2xx. No login
# throttling: the fuzzer fails logins on purpose, many times a minute.
TIMESYNC_LOG_FORMAT=json TIMESYNC_LOGIN_FAILURES_PER_MINUTE=0 \
    SECRET_KEY=$(head -c 48 /dev/urandom | base64 | tr -d '\n') \
    "$WORK/fuzz-server" serve --database-url "$DB" --bind 127.0.0.1 --port "$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
    sleep 0.2
done

# Fixtures for scripts/fuzz_hooks.py: the token, credentials, and objects
# to name — `keep` ones for reads, updates and references, `spare` ones
# (nothing refers to them) for deletes. Org-roles and spare objects are
# made here; a timer is started so that reading, editing and stopping one
# can succeed.
python3 - "$BASE" >"$WORK/fixtures.json" <<'PY'
import json, sys, urllib.error, urllib.request
base = sys.argv[1]
def call(method, path, body=None, token=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=None if body is None else json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    # Left out when the 2xx answers are counted below.
    req.add_header("X-Request-Id", "fuzz-fixture")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req) as r:
        text = r.read()
        return json.loads(text) if text else None
token = call("POST", "/v0/login", {"auth": {"type": "password", "username": "admin", "password": "admin"}})["token"]
get = lambda path: call("GET", path, token=token)
post = lambda path, obj: call("POST", path, {"object": obj}, token)
for i in range(1, 6):
    post("/v0/users/org-roles", {"name": f"Fuzz role {i}", "slug": f"fuzz-role-{i}"})
    post("/v0/activities", {"name": f"Spare activity {i}", "slug": f"spare-activity-{i}"})
    post("/v0/projects", {"name": f"Spare project {i}", "slugs": [f"spare-project-{i}"]})
    post("/v0/users", {"username": f"spare-user-{i}", "password": "password"})
activities = [a["slug"] for a in get("/v0/activities")]
all_projects = get("/v0/projects")
projects = [p["slugs"][0] for p in all_projects]
users = [u["username"] for u in get("/v0/users")]
times = [t["uuid"] for t in get("/v0/times?limit=60")]
split = lambda items, spare: {"keep": [i for i in items if not i.startswith(spare)],
                              "spare": [i for i in items if i.startswith(spare)]}
fixtures = {
    "base": base,
    "token": token,
    "activities": split(activities, "spare-"),
    "projects": split(projects, "spare-"),
    # Never `admin`, whose token the run uses.
    "users": split([u for u in users if u != "admin"], "spare-"),
    "org_roles": {"keep": ["fuzz-role-1", "fuzz-role-2"], "spare": [f"fuzz-role-{i}" for i in range(3, 6)]},
    "times": {"keep": times[:30], "spare": times[30:]},
    # (project, user) pairs where the user may log time.
    "memberships": [[p["slugs"][0], u] for p in all_projects for u, r in sorted(p["users"].items())
                    if r["member"] and u != "admin"],
    "logins": [["admin", "admin"]] + [[u, "password"] for u in users if u.startswith("user")][:5],
}
paths = json.loads(urllib.request.urlopen(base + "/v0/openapi.json").read())["paths"]
if "/v0/timer/start" in paths:
    post("/v0/timer/start", {"project": fixtures["projects"]["keep"][0],
                             "activities": [fixtures["activities"]["keep"][0]]})
json.dump(fixtures, sys.stdout)
PY
TOKEN=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["token"])' "$WORK/fixtures.json")

log "schemathesis: every operation, $MAX_EXAMPLES examples each, at most ${RUN_TIMEOUT}s"
status=0
timeout --signal=INT --kill-after=30 "$RUN_TIMEOUT" \
    env SCHEMATHESIS_HOOKS="$PWD/scripts/fuzz_hooks.py" FUZZ_FIXTURES="$WORK/fixtures.json" \
    "$VENV/bin/st" run "$BASE/v0/openapi.json" \
    --url "$BASE" \
    -H "Authorization: Bearer $TOKEN" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples "$MAX_EXAMPLES" \
    --phases examples,coverage,fuzzing \
    --request-timeout 30 \
    --workers 1 \
    --seed "$SEED" \
    --no-color \
    --report-dir "$WORK/report" || status=$?

if [ "$status" -ne 0 ]; then
    cp "$WORK/server.log" "$TARGET_DIR/fuzz-server.log"
    if grep -q "shutting down" "$WORK/server.log"; then
        log "the server was stopped by a signal from outside this script"
    elif ! kill -0 "$SERVER_PID" 2>/dev/null; then
        log "the server died"
    fi
    log "schemathesis failed (exit $status); end of the server log (all of it: $TARGET_DIR/fuzz-server.log):"
    tail -n 30 "$WORK/server.log" >&2
    exit "$status"
fi
log "no failures; checking that every operation got a successful answer"
# Every operation of the description (read now, so endpoints added later
# are covered too) must have had at least one 2xx, seen in the server's
# access log (route template + method); otherwise the fuzzing never
# reached its success path.
if ! python3 - "$BASE" "$WORK/server.log" <<'PY'
import json, sys, urllib.request
base, log_file = sys.argv[1], sys.argv[2]
paths = json.loads(urllib.request.urlopen(base + "/v0/openapi.json").read())["paths"]
operations = {(m.upper(), p) for p, ops in paths.items() for m in ops
              if m in ("get", "post", "put", "patch", "delete")}
answers = {}
with open(log_file) as f:
    for line in f:
        try:
            e = json.loads(line)
        except ValueError:
            continue
        # Not the requests the hooks make to set up state (timers).
        if e.get("message") == "served" and e.get("request_id") != "fuzz-fixture":
            answers.setdefault((e["method"], e["route"]), []).append(e["status"])
missing = []
for op in sorted(operations, key=lambda o: (o[1], o[0])):
    statuses = answers.get(op, [])
    ok = sum(200 <= s < 300 for s in statuses)
    print(f"  {op[0]:6} {op[1]:34} {len(statuses):5} requests, {ok:4} 2xx", file=sys.stderr)
    if ok == 0:
        missing.append(f"{op[0]} {op[1]}")
if missing:
    sys.exit("never a 2xx answer: " + ", ".join(missing))
PY
then
    cp "$WORK/server.log" "$TARGET_DIR/fuzz-server.log"
    log "some operation never succeeded; the server log: $TARGET_DIR/fuzz-server.log"
    exit 1
fi
log "every operation got 2xx answers as well as refusals"
