# Shared by scripts/test.sh and bench/run.sh: installing what is missing
# and starting throwaway PostgreSQL and MariaDB servers on loopback.
# Facts behind the commands: ../shared/notes/databases-in-tests.md.

log() { printf '\n==> %s\n' "$*"; }

PG_BIN=""
find_pg_bin() { PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true); }

install_missing() {
  find_pg_bin
  local missing=()
  [ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] || missing+=(postgresql)
  command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
  command -v slapd >/dev/null || [ -x /usr/sbin/slapd ] || missing+=(slapd)
  command -v ldapsearch >/dev/null || missing+=(ldap-utils)
  command -v openssl >/dev/null || missing+=(openssl) # certificates of the LDAP TLS test
  command -v curl >/dev/null || missing+=(curl) # scripts/fuzz.sh
  command -v systemd-analyze >/dev/null || missing+=(systemd) # tests/deploy.rs checks deploy/*
  python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3 python3-venv) # schemathesis
  command -v chromium >/dev/null || missing+=(chromium) # tests/web.rs (browser tests)
  command -v chromedriver >/dev/null || missing+=(chromium-driver)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "missing packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
  fi
  log "installing ${missing[*]}"
  # Never let a package start a system service on this machine.
  local rcd_made=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; rcd_made=1
  fi
  echo 'slapd slapd/no_configuration boolean true' | debconf-set-selections
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ -n "$rcd_made" ] && rm -f /usr/sbin/policy-rc.d
  find_pg_bin
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

WORK=""; PG_PID=""; MY_PID=""
cleanup() {
  [ -n "$PG_PID" ] && kill -INT "$PG_PID" 2>/dev/null && wait "$PG_PID" 2>/dev/null || true
  [ -n "$MY_PID" ] && kill -TERM "$MY_PID" 2>/dev/null && wait "$MY_PID" 2>/dev/null || true
  [ -n "$WORK" ] && rm -rf "$WORK"
}
trap cleanup EXIT

wait_for() { # wait_for DESCRIPTION PID COMMAND...: polls COMMAND until it succeeds
  local what=$1 pid=$2; shift 2
  for _ in $(seq 1 300); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    kill -0 "$pid" 2>/dev/null || { echo "$what exited before it was ready" >&2; return 1; }
    sleep 0.1
  done
  echo "$what did not become ready" >&2; return 1
}

start_postgres() {
  mkdir -p "$WORK/pg"; chown postgres: "$WORK/pg"
  setpriv --reuid=postgres --regid=postgres --init-groups -- "$PG_BIN/initdb" -D "$WORK/pg/data" -U postgres \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-sync >"$WORK/pg-init.log" 2>&1
  PG_PORT=$(free_port)
  setpriv --reuid=postgres --regid=postgres --init-groups -- "$PG_BIN/postgres" -D "$WORK/pg/data" -p "$PG_PORT" \
    -k "$WORK/pg" -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
    -c max_connections=400 >"$WORK/pg.log" 2>&1 &
  PG_PID=$!
  wait_for PostgreSQL "$PG_PID" "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres
  psql -X -q -v ON_ERROR_STOP=1 -h "$WORK/pg" -p "$PG_PORT" -U postgres -d postgres \
    -c "CREATE ROLE timesync LOGIN CREATEDB PASSWORD 'timesync'" -c "CREATE DATABASE timesync OWNER timesync"
  export TIMESYNC_TEST_POSTGRES_URL="postgres://timesync:timesync@127.0.0.1:$PG_PORT/timesync"
}

start_mariadb() {
  mkdir -p "$WORK/my"
  mariadb-install-db --no-defaults --datadir="$WORK/my/data" --user=root --skip-test-db \
    --innodb-log-file-size=16M >"$WORK/my-init.log" 2>&1
  MY_PORT=$(free_port)
  mariadbd --no-defaults --user=root --datadir="$WORK/my/data" --socket="$WORK/my/sock" --port="$MY_PORT" \
    --bind-address=127.0.0.1 --pid-file="$WORK/my/pid" --log-error="$WORK/my/error.log" --skip-name-resolve \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci --innodb-log-file-size=16M \
    --innodb-flush-log-at-trx-commit=2 --innodb-doublewrite=0 --max-connections=400 >/dev/null 2>&1 &
  MY_PID=$!
  wait_for MariaDB "$MY_PID" mariadb-admin --no-defaults --socket="$WORK/my/sock" -uroot ping
  mariadb --no-defaults --socket="$WORK/my/sock" -uroot -e \
    "CREATE DATABASE timesync; CREATE USER 'timesync'@'%' IDENTIFIED BY 'timesync'; GRANT ALL ON *.* TO 'timesync'@'%';"
  export TIMESYNC_TEST_MYSQL_URL="mysql://timesync:timesync@127.0.0.1:$MY_PORT/timesync"
}

