#!/usr/bin/env bash
# First command of the README: installs what is missing, builds, and runs Glimmer on its
# embedded default (SQLite + filesystem store + embedded identity) on 127.0.0.1:9292.
#   LISTEN=127.0.0.1:9292 DATA_DIR=./data ./scripts/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh -DGLIMMER_BUILD_TESTS=OFF
listen=${LISTEN:-127.0.0.1:9292}
data_dir=${DATA_DIR:-./data}
cat <<MSG

Glimmer is starting on http://$listen (data in $data_dir).
Point the OpenStack CLIs at it from another shell:
    source $data_dir/openrc-admin
    openstack image list
(On the first start the admin password is generated and printed once below, and kept in
$data_dir/openrc-admin; set GLIMMER_ADMIN_PASSWORD to choose it.)

MSG
exec ./build/glimmer serve --listen "$listen" --data-dir "$data_dir"
