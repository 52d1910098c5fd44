#!/usr/bin/env bash
# Runs the integration suite twice at once: on the embedded default (SQLite, filesystem store)
# and on the distributed backend (PostgreSQL, Ceph RBD; the two-node tests), each with its own
# temporary directory and log. Much of either pass waits on CLI start-up and servers, so on two
# cores the passes together take little longer than the distributed one alone.
# Needs the services of scripts/services/services.sh in the environment (test.sh sources them).
# Prints each pass's summary (and the whole log of a failed pass); exits non-zero if either fails.
set -uo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d /tmp/glimmer-it.XXXXXX)
run_pass() {  # name, then environment assignments
  local name=$1; shift
  env "$@" GLIMMER_BIN="$PWD/build/glimmer" /usr/bin/python3 -m pytest tests/integration -q \
    -p no:cacheprovider --basetemp="$out/$name" >"$out/$name.log" 2>&1
}
start=$(date +%s)
run_pass embedded GLIMMER_TEST_BACKEND=embedded &
embedded=$!
run_pass distributed GLIMMER_TEST_BACKEND=distributed &
distributed=$!
wait $embedded; embedded_rc=$?
wait $distributed; distributed_rc=$?
status=0
for name in embedded distributed; do
  rc_var=${name}_rc
  if [ "${!rc_var}" -ne 0 ]; then
    echo "--- $name pass FAILED (exit ${!rc_var}); its log:"
    cat "$out/$name.log"
    status=1
  else
    echo "--- $name pass: $(tail -n 1 "$out/$name.log")"
  fi
done
echo "--- both passes in $(( $(date +%s) - start )) s; logs in $out"
exit $status
