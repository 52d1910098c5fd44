#!/usr/bin/env bash
# Start a throwaway PostgreSQL 15 cluster (Debian bookworm postgresql-15) on loopback for the
# tests. Idempotent: if the cluster in $PG_DIR is already running, just prints the DSN.
#
#   PG_DIR   data root            (default /tmp/glimmer-services/pg)
#   GLIMMER_PG_PORT  TCP port             (default 55432, 127.0.0.1 only)
#   GLIMMER_PG_DB    database to create   (default glimmer)
#   GLIMMER_PG_USER  OS user to run as when invoked as root (default postgres; postgres refuses root)
#
# Prints on stdout (last line):  postgresql://glimmer@127.0.0.1:55432/glimmer
set -euo pipefail

DIR=${PG_DIR:-/tmp/glimmer-services/pg}
PORT=${GLIMMER_PG_PORT:-55432}
DB=${GLIMMER_PG_DB:-glimmer}
RUNAS=${GLIMMER_PG_USER:-postgres}

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$PGBIN/initdb" ] || { echo "initdb not found; apt-get install postgresql" >&2; exit 1; }

# postgres/initdb refuse to run as uid 0 -> drop to an unprivileged user
if [ "$(id -u)" = 0 ]; then
  id "$RUNAS" >/dev/null 2>&1 || useradd -r -m -d /var/lib/"$RUNAS" -s /bin/bash "$RUNAS"
  as() { runuser -u "$RUNAS" -- "$@"; }
else
  as() { "$@"; }
fi

mkdir -p "$DIR"
[ "$(id -u)" = 0 ] && chown "$RUNAS" "$DIR"
DATA=$DIR/data SOCK=$DIR/sock LOG=$DIR/postgres.log

t0=$(date +%s.%N)
if [ -f "$DATA/postmaster.pid" ] && as "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  echo "postgres already running in $DATA" >&2
else
  if [ ! -f "$DATA/PG_VERSION" ]; then
    as mkdir -p "$SOCK"
    # trust auth on loopback only; no fsync => much faster for tests (NOT for prod)
    as "$PGBIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
       --no-sync >"$DIR/initdb.log" 2>&1
    cat >>"$DATA/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$SOCK'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
shared_buffers = 128MB
EOF
  fi
  as "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null
fi
as "$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -Atqc \
   "SELECT 1 FROM pg_roles WHERE rolname='$DB'" | grep -q 1 || \
   as "$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -qc "CREATE ROLE $DB LOGIN SUPERUSER"
as "$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -Atqc \
   "SELECT 1 FROM pg_database WHERE datname='$DB'" | grep -q 1 || \
   as "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres -O "$DB" "$DB"
t1=$(date +%s.%N)
echo "postgres ready in $(awk "BEGIN{printf \"%.2f\", $t1-$t0}") s (pid $(head -1 "$DATA/postmaster.pid"))" >&2
echo "postgresql://$DB@127.0.0.1:$PORT/$DB"
