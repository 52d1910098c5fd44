#!/bin/bash
# Glimmer benchmark wrapper. Builds nothing: runs $GLIMMER_BIN (default build/glimmer).
#   bench/run.sh                       Glimmer only (started here in a temp dir)
#   bench/run.sh --compare-openrc /tmp/glance-reference/openrc-demo
#                                      same workload on the real Glance, with ratios
#   bench/run.sh --openrc FILE --pids "PID..."   any Glance-compatible endpoint
#   bench/run.sh --big                 also a 10 GiB streamed upload (peak RSS)
#   bench/run.sh --size-mb 256 --records-large 0 --repeat 1    quick run
# See bench/README.md and `bench/run.sh --help`.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
export PATH=/usr/bin:/bin:/usr/sbin:/sbin:$PATH
command -v wrk >/dev/null || { apt-get install -y -qq --no-install-recommends wrk || true; }
exec /usr/bin/python3 "$HERE/bench.py" "$@"
