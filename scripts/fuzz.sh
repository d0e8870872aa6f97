#!/usr/bin/env bash
# Fuzzes the live API with schemathesis against its own OpenAPI description.
#
# Builds the server, seeds a fresh SQLite database, serves it on a free
# loopback port, logs in as the seeded site admin and runs schemathesis on
# every documented operation with the conformance checks. Fails on any
# server error or answer that the description does not allow. The server is
# stopped however the run ends.
#
# Environment: FUZZ_MAX_EXAMPLES (default 100 per operation), FUZZ_TIMEOUT
# (seconds for the whole schemathesis run, default 300), FUZZ_SEED (a number,
# or `random`). One worker: hypothesis is not thread-safe enough for more.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
VENV=target/fuzz-venv
MAX_EXAMPLES=${FUZZ_MAX_EXAMPLES:-100}
RUN_TIMEOUT=${FUZZ_TIMEOUT:-300}
# A fixed seed keeps CI reproducible; set FUZZ_SEED=random to explore.
SEED=${FUZZ_SEED:-20261122}
if [ "$SEED" = random ]; then SEED=$(python3 -c 'import random; print(random.getrandbits(64))'); fi

log() { printf '\n==> fuzz: %s\n' "$*" >&2; }

if [ "$("$VENV/bin/st" --version 2>/dev/null || true)" != "schemathesis, version $SCHEMATHESIS_VERSION" ]; then
    log "installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi

cargo build --locked --bin timesync
BIN=target/debug/timesync

# The server runs as its own copy, under a name of its own, so that a
# `pkill timesync` elsewhere on a shared machine cannot stop it mid-run.
WORK=$(mktemp -d /tmp/tsfuzz.XXXXXX)
cp "$BIN" "$WORK/fuzz-server"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

DB="sqlite://$WORK/fuzz.sqlite3"
log "seeding $DB"
"$BIN" seed --database-url "$DB" --users 20 --projects 10 --activities 8 --times 300

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
log "serving on $BASE (log: $WORK/server.log)"
NO_COLOR=1 SECRET_KEY=$(head -c 48 /dev/urandom | base64 | tr -d '\n') \
    "$WORK/fuzz-server" serve --database-url "$DB" --bind 127.0.0.1 --port "$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
    sleep 0.2
done

TOKEN=$(curl -fsS -X POST "$BASE/v0/login" -H 'content-type: application/json' \
    -d '{"auth": {"type": "password", "username": "admin", "password": "admin"}}' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')

# Identifiers of the seeded objects, so that about half the generated
# requests reach existing objects (the rest are random identifiers).
python3 - "$BASE" "$TOKEN" >"$WORK/schemathesis.toml" <<'PY'
import json, sys, urllib.request
base, token = sys.argv[1], sys.argv[2]
# A generated `auth` block of a POST body wins over the header: mostly
# send the valid token there too.
print('[parameters]\n"body.auth.token" = { dictionary = "tokens", probability = 0.9 }\n')
def get(path):
    req = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req) as r:
        return json.load(r)
values = {
    "activity-slugs": [a["slug"] for a in get("/v0/activities")],
    "project-slugs": [s for p in get("/v0/projects") for s in p["slugs"]],
    "time-uuids": [t["uuid"] for t in get("/v0/times?limit=50")],
    # Not `admin`, whose token the run uses.
    "usernames": [u["username"] for u in get("/v0/users") if u["username"] != "admin"],
    "org-role-slugs": [r["slug"] for r in get("/v0/users/org-roles")] or ["none"],
    "tokens": [token],
}
for name, items in values.items():
    print(f"[dictionaries.{name}]\nvalues = {json.dumps(items)}\n")
bindings = [
    ("/v0/activities/{slug}", "path.slug", "activity-slugs"),
    ("/v0/projects/{slug}", "path.slug", "project-slugs"),
    ("/v0/times/{uuid}", "path.uuid", "time-uuids"),
    ("/v0/users/{username}", "path.username", "usernames"),
    ("/v0/users/org-roles/{slug}", "path.slug", "org-role-slugs"),
    ("/v0/times", "body.object.project", "project-slugs"),
    ("/v0/times", "body.object.user", "usernames"),
]
for path, key, name in bindings:
    print(f'[[operations]]\ninclude-path = "{path}"')
    print(f'parameters = {{ "{key}" = {{ dictionary = "{name}", probability = 0.5 }} }}\n')
PY

log "schemathesis: every operation, $MAX_EXAMPLES examples each, at most ${RUN_TIMEOUT}s"
status=0
timeout --signal=INT --kill-after=30 "$RUN_TIMEOUT" \
    "$VENV/bin/st" --config-file "$WORK/schemathesis.toml" run "$BASE/v0/openapi.json" \
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
    cp "$WORK/server.log" target/fuzz-server.log
    if grep -q "shutting down" "$WORK/server.log"; then
        log "the server was stopped by a signal from outside this script"
    elif ! kill -0 "$SERVER_PID" 2>/dev/null; then
        log "the server died"
    fi
    log "schemathesis failed (exit $status); end of the server log (all of it: target/fuzz-server.log):"
    tail -n 30 "$WORK/server.log" >&2
    exit "$status"
fi
log "no failures"
