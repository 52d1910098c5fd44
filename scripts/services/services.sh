#!/usr/bin/env bash
# Starts (or stops) the throwaway PostgreSQL and single-node Ceph (mon, bluestore OSD on a
# sparse file, RADOS Gateway) that the distributed tests use, on 127.0.0.1 only, and writes
# their coordinates to $GLIMMER_SERVICES_DIR/env.sh:
#   GLIMMER_TEST_PG_DSN, CEPH_CONF, CEPH_RBD_POOL, S3_ENDPOINT, AWS_ACCESS_KEY_ID, ...
#
#   scripts/services/services.sh start    # ~10 s; idempotent
#   scripts/services/services.sh stop     # signals exactly the recorded PIDs, removes the data
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=${GLIMMER_SERVICES_DIR:-/tmp/glimmer-services}
export PG_DIR=$ROOT/pg CEPH_DIR=$ROOT/ceph
case "${1:-start}" in
  start)
    mkdir -p "$ROOT"
    "$HERE/start-postgres.sh" >"$ROOT/pg.dsn" 2>"$ROOT/pg.start.log" &
    pg=$!
    "$HERE/start-ceph.sh" >/dev/null 2>"$ROOT/ceph.start.log" || { cat "$ROOT/ceph.start.log" >&2; exit 1; }
    wait $pg || { cat "$ROOT/pg.start.log" >&2; exit 1; }
    { cat "$CEPH_DIR/env.sh"; echo "export GLIMMER_TEST_PG_DSN=$(tail -1 "$ROOT/pg.dsn")"; } >"$ROOT/env.sh"
    echo "$ROOT/env.sh"
    ;;
  stop)
    "$HERE/stop-ceph.sh" || true
    "$HERE/stop-postgres.sh" || true
    rm -f "$ROOT/env.sh"
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
