#!/usr/bin/env bash
# Disk-image conversion benchmark: glimmer-img convert vs qemu-img convert on a 2 GiB image,
# half allocated, half holes (zlib qcow2, plain qcow2, vmdk streamOptimized, vhdx; --all adds
# zstd qcow2, qcow2 v2, vmdk sparse, vhd, vdi). Needs qemu-utils and a built glimmer-img:
#   GLIMMER_BUILD_DIR=/work/main/build bench/formats/run.sh [--size BYTES] [--runs N] [--all]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec /usr/bin/python3 "$here/bench.py" "$@"
