#!/usr/bin/env bash
# Builds the libFuzzer targets of the formats library (clang, ASan+UBSan) and runs each for a
# short time on a seed corpus of tiny qemu-img images plus the hostile corpus.
#
#   tests/formats/fuzz_smoke.sh [SECONDS_PER_TARGET=15] [BUILD_DIR=/work/main/build-formats-fuzz]
#
# Long runs (hours, all cores), reusing the grown corpus between runs:
#   BUILD=build-formats-fuzz; $BUILD/fuzz/qcow2_fuzz -jobs=2 -workers=2 -timeout=10 \
#       -rss_limit_mb=2048 $BUILD/fuzz-corpus/qcow2 $BUILD/fuzz-seeds/qcow2
# Crashes are written as crash-* files in the current directory; reproduce with
#   $BUILD/fuzz/qcow2_fuzz crash-<hash>
set -euo pipefail
secs=${1:-15}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${2:-$root/build-formats-fuzz}
command -v clang++ >/dev/null || { echo "clang++ not installed (scripts/install-deps.sh --test)"; exit 1; }

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ -DGLIMMER_FUZZ=ON -DGLIMMER_SANITIZE=ON -DGLIMMER_BUILD_TESTS=OFF >/dev/null
targets=(inspect_fuzz convert_fuzz qcow2_fuzz vmdk_fuzz vhd_fuzz vhdx_fuzz vdi_fuzz)
ninja -C "$build" -j"${JOBS:-1}" "${targets[@]}"

seeds=$build/fuzz-seeds
rm -rf "$seeds"
mkdir -p "$seeds"/{all,qcow2,vmdk,vhd,vhdx,vdi}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$tmp/base.raw" <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    f.truncate(1 << 20)
    f.seek(64 << 10)
    f.write(bytes(range(256)) * 256)
    f.seek(512 << 10)
    f.write(b"seed data " * 6000)
PY
mk() {  # mk DIR NAME qemu-img-args...
  local dir=$1 name=$2; shift 2
  qemu-img convert -f raw "$@" "$tmp/base.raw" "$seeds/$dir/$name" >/dev/null
  cp "$seeds/$dir/$name" "$seeds/all/$name"
}
mk qcow2 v3.qcow2 -O qcow2 -o cluster_size=4096
mk qcow2 v2.qcow2 -O qcow2 -o compat=0.10,cluster_size=4096
mk qcow2 zlib.qcow2 -O qcow2 -c -o cluster_size=4096
mk qcow2 zstd.qcow2 -O qcow2 -c -o compression_type=zstd,cluster_size=4096
mk vmdk sparse.vmdk -O vmdk
mk vmdk stream.vmdk -O vmdk -o subformat=streamOptimized
mk vhd dynamic.vhd -O vpc
mk vhd fixed.vhd -O vpc -o subformat=fixed
mk vhdx disk.vhdx -O vhdx -o block_size=1M,log_size=1M
mk vdi dynamic.vdi -O vdi
python3 "$root/tests/formats/make_hostile_corpus.py" "$tmp/hostile" >/dev/null
for f in "$tmp"/hostile/*; do
  [[ $(stat -c %s "$f") -le $((1 << 20)) ]] || continue
  n=$(basename "$f")
  cp "$f" "$seeds/all/"
  for fmt in qcow2 vmdk vhdx vdi vhd; do [[ $n == $fmt* ]] && cp "$f" "$seeds/$fmt/"; done
done

status=0
for t in "${targets[@]}"; do
  fmt=${t%_fuzz}
  seed=$seeds/$fmt
  [[ -d $seed ]] || seed=$seeds/all
  corpus=$build/fuzz-corpus/$fmt
  mkdir -p "$corpus"
  echo "== $t: ${secs}s"
  if ! (cd "$build" && ASAN_OPTIONS=detect_leaks=1 "$build/fuzz/$t" -max_total_time="$secs" -seed="${FUZZ_SEED:-1}" -timeout=10 \
        -rss_limit_mb=2048 -max_len=$((9 << 20)) -print_final_stats=1 "$corpus" "$seed" 2>"$build/$t.log"); then
    echo "FAILED: $t (see $build/$t.log)"; tail -30 "$build/$t.log"; status=1
  else
    grep -E "stat::number_of_executed_units|cov:" "$build/$t.log" | tail -2
  fi
done
exit $status
