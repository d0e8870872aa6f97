#!/usr/bin/env bash
# Runs the whole test suite on SQLite, PostgreSQL and MariaDB.
#
# As root it installs what is missing (postgresql, mariadb-server, slapd,
# ldap-utils) from Debian's packages, then starts throwaway PostgreSQL and
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
export TIMESYNC_TEST_REQUIRE_LDAP=1 TIMESYNC_TEST_REQUIRE_ALL_BACKENDS=1

log "building"
cargo build --all-targets --locked

log "backend: sqlite (unit tests, CLI tests, API tests)"
TIMESYNC_TEST_BACKEND=sqlite cargo test --locked -- --test-threads=4

log "backend: postgres (API tests)"
TIMESYNC_TEST_BACKEND=postgres cargo test --locked --test api -- --test-threads=4

log "backend: mysql (API tests on MariaDB)"
TIMESYNC_TEST_BACKEND=mysql cargo test --locked --test api -- --test-threads=4

log "all backends passed"

log "fuzzing the live API (schemathesis)"
scripts/fuzz.sh

log "all passed"
