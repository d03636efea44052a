#!/bin/bash
# Build the agents image without Docker: the Debian toolchain image
# (toolchain-image.sh: debootstrap --variant=minbase, python3, gcc,
# rustc/cargo, golang, a JDK, nodejs, git) plus one layer holding the pinned
# agent CLIs and their Node 22 (/opt/cab-agents, from agents-bundle.sh and
# agents.lock), packed as an OCI image layout with umoci.
#
#   tests/images/agents-image.sh OUTDIR [TAG]          (TAG defaults to bookworm)
#
# OUTDIR is replaced by an OCI image layout whose index names TAG; load it
# with `cab import OUTDIR --name cab/agents:TAG`.  Root only (debootstrap,
# /opt): as another user it prints "skip: ..." and exits 77.
#
# Layers: 1 base, 2 toolchains (toolchain-image.sh's, cached there), 3 agents
# (/opt/cab-agents as a tar appended with umoci raw add-layer, no unpack of
# the layers below).  Config:
# PATH starts with /opt/cab-agents/bin, WorkingDir /work.
#
# Cache: ${CAB_IMAGE_CACHE:-/var/tmp/cab-images}/agents-KEY/oci, KEY hashing
# this script, the toolchain image's key and the bundle's package list; a
# re-run with the same versions only hardlinks the cached blobs into OUTDIR.
set -euo pipefail
export LC_ALL=C

usage="usage: agents-image.sh OUTDIR [TAG]"
out=${1:?$usage}
tag=${2:-bookworm}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/images/lib.sh
. "$here/lib.sh"
lock=${CAB_AGENTS_LOCK:-$here/agents.lock}
bundle=/opt/cab-agents

if [ "$(id -u)" -ne 0 ]; then
  echo "skip: agents-image.sh needs root (debootstrap, /opt)"
  exit 77
fi
command -v umoci >/dev/null || { echo "agents-image.sh: umoci not found (make deps)" >&2; exit 1; }

# The pieces, each cached by its own script.
bash "$here/agents-bundle.sh" --lock "$lock" >&2
cache_root=${CAB_IMAGE_CACHE:-/var/tmp/cab-images}
mkdir -p "$cache_root"
base=$(mktemp -d "$cache_root/.agents-base.XXXXXX")
trap 'rm -rf "$base"' EXIT
bash "$here/toolchain-image.sh" "$base/oci" bookworm >&2
# The toolchain image's manifest digest names its whole content.
base_key=$(sha256sum "$base/oci/index.json" | cut -c1-16)

key=$( { cat "${BASH_SOURCE[0]}"; echo "$base_key"; cat "$bundle/.lock-packages"; } | sha256sum | cut -c1-16)
cache=$cache_root/agents-$key
exec 9>"$cache_root/.agents-$key.lock"
flock 9

built=cached
start=$(date +%s)
if [ "${CAB_IMAGE_REBUILD:-0}" = 1 ] || [ ! -f "$cache/oci/index.json" ]; then
  built=built
  work=$(mktemp -d "$cache_root/.build-agents-$key.XXXXXX")
  trap 'rm -rf "$base" "$work"' EXIT
  cp -a "$base/oci" "$work/oci"
  img=$work/oci:bookworm
  # Layer 3: the bundle as it is on the host (world-readable, Node 22 and
  # every agent at its pinned version), archived by GNU tar and appended
  # verbatim.  (umoci 0.4.7's `insert` of this 23,000-file tree wrote a layer
  # whose tar stream stopped inside its last entry; tar and libarchive both
  # reject it.)
  tar --create --file "$work/agents.tar" --directory / --numeric-owner --owner=0 --group=0 \
    --sort=name --format=pax --pax-option=delete=atime,delete=ctime "${bundle#/}"
  tar --list --file "$work/agents.tar" >/dev/null || { echo "agents-image.sh: the layer tar does not read back" >&2; exit 1; }
  umoci raw add-layer --image "$img" --history.created_by \
    "agents-image.sh: /opt/cab-agents ($(tr '\n' ' ' <"$bundle/.lock-packages"))" "$work/agents.tar" >/dev/null
  rm -f "$work/agents.tar"
  umoci config --image "$img" \
    --config.env "PATH=$bundle/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --config.env LANG=C.UTF-8 --config.workingdir /work \
    --config.label "org.codingagentbench.cab.image=agents" \
    --config.label "org.codingagentbench.cab.agents=$(tr '\n' ' ' <"$bundle/.lock-packages")"
  umoci gc --layout "$work/oci"
  final=$work/final
  mkdir "$final"
  mv "$work/oci" "$final/oci"
  cp "$bundle/.lock-packages" "$final/agents.txt"
  rm -rf "$cache"
  mv "$final" "$cache"
fi
elapsed=$(($(date +%s) - start))

oci_layout_copy "$cache/oci" "$out" bookworm "$tag"
compressed=$(du -sbL "$out/blobs/sha256" | cut -f1)
echo "agents-image.sh: $built in ${elapsed}s; cache $cache" >&2
echo "$out:$tag $((compressed / 1048576)) MiB compressed"
