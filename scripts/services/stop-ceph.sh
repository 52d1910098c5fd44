#!/usr/bin/env bash
# Stop the cluster started by start-ceph.sh: signals exactly the PIDs it recorded
# (rgw -> osd -> mgr -> mon), waits, SIGKILLs stragglers, then deletes the state dir
# unless CEPH_KEEP=1.
set -uo pipefail
DIR=${CEPH_DIR:-/tmp/glimmer-services/ceph}
for n in rgw.a osd.0 mgr.x mon.a; do
  f=$DIR/pids/$n; [ -f "$f" ] || continue
  pid=$(cat "$f")
  # only signal the pid if it is still our daemon (cmdline mentions our ceph.conf)
  if tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$DIR/ceph.conf"; then
    kill -TERM "$pid"
    for i in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && { kill -KILL "$pid"; echo "SIGKILLed $n ($pid)" >&2; }
    echo "stopped $n (pid $pid)" >&2
  fi
  rm -f "$f"
done
[ "${CEPH_KEEP:-0}" = 1 ] || rm -rf "$DIR"
