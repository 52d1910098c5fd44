#!/usr/bin/env bash
# Installs the Debian 12 packages Glimmer needs. With --test, also what the tests need.
# Idempotent: only missing packages are installed.
set -euo pipefail
build_pkgs=(build-essential cmake ninja-build pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-context1.81-dev
  nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev
  libsqlite3-dev libssl-dev libcurl4-openssl-dev zlib1g-dev libzstd-dev liblzma-dev libdeflate-dev libyaml-cpp-dev
  libpq-dev librados-dev libradospp-dev librbd-dev)
test_pkgs=(libgtest-dev libgmock-dev python3-openstackclient python3-glanceclient
  python3-openstacksdk python3-pytest python3-requests qemu-utils curl gzip zip zstd xz-utils clang
  postgresql ceph-mon ceph-osd radosgw ceph-common python3-rados python3-rbd python3-boto3)
# node (>= 18) and npm build the dashboard (dashboard/, embedded in the binary): Debian's nodejs
# and npm, unless a node and an npm are already on PATH (e.g. nodesource's nodejs, which bundles
# npm and conflicts with Debian's npm package).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then build_pkgs+=(nodejs npm); fi
# Headless Chromium for the dashboard's end-to-end tests (driven by playwright-core from npm).
test_pkgs+=(chromium)
pkgs=("${build_pkgs[@]}")
if [[ "${1:-}" == "--test" ]]; then pkgs+=("${test_pkgs[@]}"); fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "Installing: ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends --no-upgrade "${missing[@]}"
fi
