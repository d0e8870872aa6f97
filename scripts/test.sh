#!/usr/bin/env bash
# Runs the whole test suite on SQLite, PostgreSQL and MariaDB.
#
# As root it installs what is missing (postgresql, mariadb-server, slapd,
# ldap-utils, chromium, chromium-driver) from Debian's packages, then starts throwaway PostgreSQL and
# MariaDB servers on loopback in a temporary directory, runs the suite once
# per backend, and stops them. The LDAP tests start their own slapd.
# Finally scripts/fuzz.sh fuzzes a live server (SQLite) with schemathesis
# against its OpenAPI description.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib/databases.sh

install_missing
WORK=$(mktemp -d /tmp/timesync-test.XXXXXX); chmod 755 "$WORK"
log "starting PostgreSQL and MariaDB"
start_postgres
start_mariadb

log "building"
cargo build --all-targets --locked

# Tests needing slapd, a PostgreSQL installation or both database servers
# are #[ignore]d under plain `cargo test`; here all of that is provided.
# The cross-backend round trip runs once, in the SQLite pass.
ROUND_TRIP=transfer::export_round_trips_across_sqlite_postgres_mariadb_sqlite

# The browser tests (tests/web.rs, headless Chromium) save a screenshot of
# each main page here.
export TIMESYNC_SCREENSHOTS="$PWD/target/web-screenshots"
log "backend: sqlite (unit tests, CLI tests, API tests, browser tests)"
TIMESYNC_TEST_BACKEND=sqlite cargo test --locked -- --test-threads=4 --include-ignored
log "screenshots of the web app's pages: $TIMESYNC_SCREENSHOTS"

log "backend: postgres (API tests)"
TIMESYNC_TEST_BACKEND=postgres cargo test --locked --test api -- --test-threads=4 \
  --include-ignored --skip "$ROUND_TRIP"

log "backend: mysql (API tests on MariaDB)"
TIMESYNC_TEST_BACKEND=mysql cargo test --locked --test api -- --test-threads=4 \
  --include-ignored --skip "$ROUND_TRIP"

log "all backends passed"

log "fuzzing the live API (schemathesis)"
scripts/fuzz.sh

log "all passed"
