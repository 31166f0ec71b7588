#!/usr/bin/env bash
# Start a throwaway PostgreSQL for the storage tests and print its URL on stdout (one line):
#
#   export SANTEI_TEST_POSTGRES_URL="$(bash .ci/postgres.sh)"
#
# Installs PostgreSQL from Debian packages if it is missing, creates a cluster in a fresh temp
# directory owned by the unprivileged `postgres` user (PostgreSQL refuses to run as root),
# listening on 127.0.0.1 only, on a free port, with a random password, with TLS on (a throwaway
# CA and a server certificate for 127.0.0.1/localhost, made with openssl). The URL carries
# `sslrootcert=<that CA>`, so every PostgreSQL test connects over verified TLS (santei's
# pgtls rules); strip it for plain TCP. Everything else goes to stderr. The cluster lives until the machine goes away; stop it with
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
command -v openssl >/dev/null || { export DEBIAN_FRONTEND=noninteractive; apt-get install -y -qq openssl >&2; }
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

# TLS: a CA valid for two days and a server certificate it signed.
( cd "$DIR"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=santei test PostgreSQL CA" -keyout ca.key -out ca.pem \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=127.0.0.1" \
    -keyout server.key -out server.csr 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > server.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out server.crt -extfile server.ext 2>/dev/null
  rm -f ca.key server.csr server.ext ca.srl
  chmod 600 server.key; chmod 644 ca.pem server.crt )
[ "$(id -u)" = 0 ] && chown postgres "$DIR/server.key" "$DIR/server.crt"

run_pg "$BIN/initdb" -D "$DIR/data" -U santei --pwfile="$DIR/pwfile" -A scram-sha-256 -E UTF8 --locale=C.UTF-8 >&2
rm -f "$DIR/pwfile"
run_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w \
  -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$DIR -c fsync=on -c ssl=on -c ssl_cert_file=$DIR/server.crt -c ssl_key_file=$DIR/server.key" start >&2
PGPASSWORD="$PASS" "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U santei -d postgres -qc "CREATE DATABASE santei_test" >&2
log "cluster in $DIR (port $PORT)"
echo "postgres://santei:$PASS@127.0.0.1:$PORT/santei_test?sslrootcert=$DIR/ca.pem"
