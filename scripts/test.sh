#!/usr/bin/env bash
# Second command of the README: installs what is missing (build and test packages), builds
# everything, runs the unit tests (ctest) and the integration tests (pytest with the real
# openstack/glance CLIs against the real server binary).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh --test
./scripts/build.sh -DGLIMMER_BUILD_TESTS=ON
echo "== unit tests"
ctest --test-dir build --output-on-failure -j"$(nproc 2>/dev/null || echo 2)" --timeout 300
echo "== integration tests"
GLIMMER_BIN="$PWD/build/glimmer" /usr/bin/python3 -m pytest tests/integration -q -p no:cacheprovider
