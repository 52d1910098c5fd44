#!/usr/bin/env bash
# Stop the throwaway PostgreSQL started by start-postgres.sh and (by default) delete its data.
#   GLIMMER_PG_KEEP=1 keeps the data dir.
set -uo pipefail
DIR=${PG_DIR:-/tmp/glimmer-services/pg}
RUNAS=${GLIMMER_PG_USER:-postgres}
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
if [ "$(id -u)" = 0 ]; then as() { runuser -u "$RUNAS" -- "$@"; }; else as() { "$@"; }; fi
if [ -f "$DIR/data/postmaster.pid" ]; then
  pid=$(head -1 "$DIR/data/postmaster.pid")
  as "$PGBIN/pg_ctl" -D "$DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1 || {
    # fall back to signalling exactly our postmaster pid
    kill -INT "$pid" 2>/dev/null; sleep 2; kill -KILL "$pid" 2>/dev/null; }
  echo "stopped postgres pid $pid" >&2
fi
[ "${GLIMMER_PG_KEEP:-0}" = 1 ] || rm -rf "$DIR"
