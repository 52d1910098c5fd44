#!/usr/bin/env bash
# Runs the integration suite twice: on the embedded default (SQLite, filesystem store) and on
# the distributed backend (PostgreSQL, Ceph RBD; the two-node tests). The two passes run at once,
# each with its own temporary directory and log: much of either waits on CLI start-up and
# servers, so on two cores together they take little longer than the distributed one alone.
# The tests marked `exclusive` (crowds of thousands of connections, timing bounds) then run
# alone, one backend after the other: beside the other pass they would measure its load.
# Needs the services of scripts/services/services.sh in the environment (test.sh sources them).
# Prints each pass's summary (and the whole log of a failed pass); exits non-zero if either fails.
set -uo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d /tmp/glimmer-it.XXXXXX)
run_pass() {  # name, marker expression, then environment assignments
  local name=$1 markers=$2; shift 2
  env "$@" GLIMMER_BIN="$PWD/build/glimmer" /usr/bin/python3 -m pytest tests/integration -q \
    -p no:cacheprovider -m "$markers" --basetemp="$out/$name" >"$out/$name.log" 2>&1
}
start=$(date +%s)
run_pass embedded "not exclusive" GLIMMER_TEST_BACKEND=embedded &
embedded=$!
run_pass distributed "not exclusive" GLIMMER_TEST_BACKEND=distributed &
distributed=$!
wait $embedded; embedded_rc=$?
wait $distributed; distributed_rc=$?
run_pass embedded-exclusive exclusive GLIMMER_TEST_BACKEND=embedded
embedded_exclusive_rc=$?
run_pass distributed-exclusive exclusive GLIMMER_TEST_BACKEND=distributed
distributed_exclusive_rc=$?
status=0
for name in embedded distributed embedded-exclusive distributed-exclusive; do
  rc_var=${name//-/_}_rc
  if [ "${!rc_var}" -ne 0 ]; then
    echo "--- $name pass FAILED (exit ${!rc_var}); its log:"
    cat "$out/$name.log"
    status=1
  else
    echo "--- $name pass: $(tail -n 1 "$out/$name.log")"
  fi
done
echo "--- integration tests in $(( $(date +%s) - start )) s; logs in $out"
exit $status
