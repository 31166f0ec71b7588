#!/usr/bin/env bash
# Start a throwaway PostgreSQL for the storage tests and print its URL on stdout (one line):
#
#   export SANTEI_TEST_POSTGRES_URL="$(bash .ci/postgres.sh)"
#
# Installs PostgreSQL from Debian packages if it is missing, creates a cluster in a fresh temp
# directory owned by the unprivileged `postgres` user (PostgreSQL refuses to run as root),
# listening on 127.0.0.1 only, on a free port, with a random password. Everything else goes to
# stderr. The cluster lives until the machine goes away; stop it with
#   runuser -u postgres -- pg_ctl -D "$DIR" stop   (DIR is printed on stderr).
set -euo pipefail
log() { echo "postgres.sh: $*" >&2; }

pgbin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
if [ -z "$(pgbin)" ] || [ ! -x "$(pgbin)/initdb" ]; then
  log "installing postgresql from Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
BIN="$(pgbin)"
[ -x "$BIN/initdb" ] || { log "initdb not found after install"; exit 1; }

run_pg() {
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

DIR="$(mktemp -d /tmp/santei-pg.XXXXXX)"
chmod 755 "$DIR"
[ "$(id -u)" = 0 ] && chown postgres "$DIR"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo 55432)"
PASS="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n' "$PASS" > "$DIR/pwfile"
[ "$(id -u)" = 0 ] && chown postgres "$DIR/pwfile"

run_pg "$BIN/initdb" -D "$DIR/data" -U santei --pwfile="$DIR/pwfile" -A scram-sha-256 -E UTF8 --locale=C.UTF-8 >&2
rm -f "$DIR/pwfile"
run_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w \
  -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$DIR -c fsync=on" start >&2
PGPASSWORD="$PASS" "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U santei -d postgres -qc "CREATE DATABASE santei_test" >&2
log "cluster in $DIR (port $PORT)"
echo "postgres://santei:$PASS@127.0.0.1:$PORT/santei_test"
