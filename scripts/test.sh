#!/usr/bin/env bash
# Second command of the README: installs what is missing (build and test packages), builds
# everything, starts a throwaway PostgreSQL and single-node Ceph on loopback (stopped by PID at
# the end), runs the unit tests (ctest: the repository contract tests on SQLite and PostgreSQL,
# the RBD and S3 store tests against the cluster), the dashboard's front-end unit tests (node
# --test), the integration tests twice, the two passes side by side except for the crowd and
# timing tests, which run alone (pytest with the real
# openstack/glance CLIs against the real server binary: one on the embedded default, SQLite +
# filesystem, one on PostgreSQL + RBD with the two-node tests; each pass includes the
# dashboard's end-to-end run in headless Chromium), the disk-format tests
# (glimmer-img against qemu-img and a hostile corpus), the format parsers under ASan+UBSan, and
# a short fuzz run of every parser.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
./scripts/install-deps.sh --test
./scripts/build.sh -DGLIMMER_BUILD_TESTS=ON

echo "== services: PostgreSQL and Ceph (mon, bluestore OSD, RADOS Gateway) on 127.0.0.1"
trap 'scripts/services/services.sh stop' EXIT
# shellcheck disable=SC1090
source "$(scripts/services/services.sh start)"
export GLIMMER_TEST_REQUIRE_PG=1  # the PostgreSQL contract tests must not skip here

echo "== unit tests"
ctest --test-dir build --output-on-failure -j"$jobs" --timeout 600
echo "== dashboard front-end unit tests (node --test)"
(cd dashboard && node --test test/)
echo "== integration tests: embedded default (SQLite, filesystem store) and distributed"
echo "   (PostgreSQL, Ceph RBD; two nodes with RBD and S3), side by side; the crowd and timing"
echo "   tests (marked exclusive) then alone"
scripts/integration-passes.sh
echo "== disk-format tests: glimmer-img against qemu-img, hostile corpus"
GLIMMER_BUILD_DIR="$PWD/build" /usr/bin/python3 -m pytest tests/formats -q -p no:cacheprovider
echo "== format parsers and decompression under AddressSanitizer + UndefinedBehaviorSanitizer"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGLIMMER_SANITIZE=ON \
  -DGLIMMER_BUILD_TESTS=ON >/dev/null
cmake --build build-asan -j"$jobs" --target formats_test decompress_test glimmer-img
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
build-asan/src/formats/formats_test --gtest_brief=1
build-asan/src/decompress/decompress_test --gtest_brief=1
GLIMMER_BUILD_DIR="$PWD/build-asan" /usr/bin/python3 -m pytest tests/formats -q -p no:cacheprovider
echo "== fuzz smoke (libFuzzer, 10 s per parser; long runs: tests/formats/fuzz_smoke.sh)"
JOBS=$jobs tests/formats/fuzz_smoke.sh 10 "$PWD/build-fuzz"
