#!/usr/bin/env bash
# Prints the path of Glance's metadata-definition files as Debian's glance-common package ships
# them (usr/share/glance-common/metadefs, 33 namespace files in Debian 12), for the metadef tests.
# The package is downloaded (apt-get download) and unpacked (dpkg-deb -x), never installed: its
# dependencies would pull in the whole Glance Python stack. The unpacked tree is cached under
# /tmp, keyed by the package version, so a test suite fetches it once.
#
#   METADEFS_CACHE  cache root (default /tmp/glimmer-glance-metadefs)
set -euo pipefail

CACHE=${METADEFS_CACHE:-/tmp/glimmer-glance-metadefs}
version=$(apt-cache policy glance-common 2>/dev/null | awk '/Candidate:/ {print $2}')
if [[ -z "$version" || "$version" == "(none)" ]]; then
  echo "glance-common is not known to apt (run apt-get update)" >&2
  exit 1
fi
dir="$CACHE/${version//[:\/]/_}"
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9  # the two test passes run side by side: one fetches, the other waits and reuses it
if [[ ! -f "$dir/.done" ]]; then
  tmp=$(mktemp -d "$CACHE/fetch.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && apt-get download "glance-common=$version" >&2)
  dpkg-deb -x "$tmp"/glance-common_*.deb "$tmp/root"
  rm -rf "$dir"
  mkdir -p "$dir"
  mv "$tmp/root/usr/share/glance-common/metadefs" "$dir/metadefs"
  touch "$dir/.done"
fi
echo "$dir/metadefs"
