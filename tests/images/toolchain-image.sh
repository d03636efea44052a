#!/bin/bash
# Build a Debian toolchain image for cab's tasks (and, later, the agents)
# without Docker: debootstrap --variant=minbase, apt-get install in a chroot,
# packed as an OCI image layout with umoci.
#
#   tests/images/toolchain-image.sh OUTDIR [TAG]      (TAG defaults to the suite)
#
# OUTDIR is replaced by an OCI image layout whose index names TAG.  Root only
# (debootstrap, chroot, mounts): as another user it prints "skip: ..." and
# exits 77.  The last line printed is "OUTDIR:TAG" followed by the layer
# count and sizes.
#
# Layers (gzip, as umoci writes them), each from the same umoci bundle:
#   1 base        debootstrap --variant=minbase SUITE, apt lists emptied,
#                 dpkg told to skip man pages and docs (copyrights stay), /work
#   2 toolchains  apt-get install --no-install-recommends $TOOLCHAIN_PACKAGES
# Config: Env PATH (+ LANG), WorkingDir /work, Cmd /bin/bash.
#
# Cache: the layout is built once under
#   ${CAB_IMAGE_CACHE:-/var/tmp/cab-images}/toolchain-KEY/oci
# where KEY hashes this script, the suite, the architecture and every layer's
# package list; packages.txt beside it records the exact versions installed.
# A re-run with the same key only copies (hardlinks) the cached blobs into
# OUTDIR.  CAB_IMAGE_REBUILD=1 ignores the cache.
#
# Extending (agents, issue 6): add a layer by adding a package list, adding it
# to cache_key_input, and a build step after layer 2 (an npm layer would
# install pinned "name@version" entries with npm install -g, in the chroot).
#
# The mirror is the host's: the first apt source (sources.list or deb822
# .sources) that serves SUITE, unless CAB_DEBIAN_MIRROR is set.
set -euo pipefail
export LC_ALL=C

usage="usage: toolchain-image.sh OUTDIR [TAG]"
out=${1:?$usage}
suite=${CAB_DEBIAN_SUITE:-bookworm}
tag=${2:-$suite}
build_tag=$suite

# ---- what goes in (every list here is part of the cache key) ----------------------
TOOLCHAIN_PACKAGES=(
  python3
  gcc libc6-dev
  rustc cargo
  golang-go
  default-jdk-headless
  nodejs
  git
  ca-certificates
)
IMAGE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

if [ "$(id -u)" -ne 0 ]; then
  echo "skip: toolchain-image.sh needs root (debootstrap, chroot and mounts)"
  exit 77
fi
for tool in debootstrap umoci chroot unshare mount sha256sum flock dpkg; do
  command -v "$tool" >/dev/null || {
    echo "toolchain-image.sh: $tool not found (apt-get install debootstrap umoci util-linux)" >&2
    exit 1
  }
done

arch=$(dpkg --print-architecture)
self=$(readlink -f "${BASH_SOURCE[0]}")
# shellcheck source=tests/images/lib.sh
. "$(dirname "$self")/lib.sh"

cache_key_input() {
  cat "$self"
  printf 'suite=%s\narch=%s\n' "$suite" "$arch"
  printf 'toolchain=%s\n' "${TOOLCHAIN_PACKAGES[*]}"
}
key=$(cache_key_input | sha256sum | cut -c1-16)
cache_root=${CAB_IMAGE_CACHE:-/var/tmp/cab-images}
cache=$cache_root/toolchain-$key
mkdir -p "$cache_root"

# ---- the host's Debian mirror --------------------------------------------------------
find_mirror() {
  local f
  # one-line format: deb [opts] URI SUITE COMPONENTS...
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -r "$f" ] || continue
    awk -v s="$suite" '
      $1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                    if ($(i+1) == s) { print $i; exit } }' "$f"
  done
  # deb822 format: stanzas of Types/URIs/Suites
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    awk -v s="$suite" '
      function flush() { if (deb && uri != "" && hit) { print uri; found = 1 }
                         deb = 0; uri = ""; hit = 0 }
      /^[ \t]*$/ { flush(); if (found) exit; next }
      tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
      tolower($1) == "uris:"  { uri = $2 }
      tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == s) hit = 1 }
      END { if (!found) flush() }' "$f"
  done
}
mirror=${CAB_DEBIAN_MIRROR:-$(find_mirror | head -n1)}

# ---- build into the cache (once per key; a lock serialises concurrent runs) -------
exec 9>"$cache_root/.toolchain-$key.lock"
flock 9

built=cached
start=$(date +%s)
if [ "${CAB_IMAGE_REBUILD:-0}" = 1 ] || [ ! -f "$cache/oci/index.json" ]; then
  [ -n "$mirror" ] || {
    echo "toolchain-image.sh: no apt source serves '$suite' (set CAB_DEBIAN_MIRROR=URL)" >&2
    exit 1
  }
  built=built
  work=$(mktemp -d "$cache_root/.build-$key.XXXXXX")
  # Mounts live only in the unshare'd namespaces below, so nothing under
  # $work is ever a mount point of this namespace; --one-file-system anyway.
  trap 'rm -rf --one-file-system "$work"' EXIT
  L=$work/oci
  B=$work/bundle
  R=$B/rootfs
  img=$L:$build_tag

  echo "toolchain-image.sh: building $suite/$arch from $mirror (key $key)" >&2
  umoci init --layout "$L"
  umoci new --image "$img"
  umoci config --image "$img" --config.cmd /bin/bash --config.workingdir /work \
    --config.env "PATH=$IMAGE_PATH" --config.env LANG=C.UTF-8 \
    --config.label "org.codingagentbench.cab.image=toolchain" \
    --config.label "org.codingagentbench.cab.image-key=$key"
  umoci unpack --image "$img" "$B" >/dev/null

  # -- layer 1: base --------------------------------------------------------------
  unshare --mount --propagation private \
    debootstrap --variant=minbase --arch="$arch" "$suite" "$R" "$mirror" \
    >"$work/debootstrap.log" 2>&1 || {
    tail -n 30 "$work/debootstrap.log" >&2
    echo "toolchain-image.sh: debootstrap failed (log above)" >&2
    exit 1
  }
  cat >"$R/etc/dpkg/dpkg.cfg.d/90cab-slim" <<'EOF'
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
EOF
  cat >"$R/etc/apt/apt.conf.d/90cab" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
EOF
  mkdir -p "$R/work"
  chmod 0755 "$R/work"
  clean_apt() {
    rm -rf "$R"/var/lib/apt/lists/* "$R"/var/cache/apt/*.bin "$R"/var/cache/apt/archives/*.deb \
      "$R"/var/cache/apt/archives/partial/* "$R"/var/cache/debconf/*-old "$R"/var/lib/dpkg/*-old \
      "$R"/var/log/apt/* "$R"/var/log/dpkg.log "$R"/var/log/alternatives.log "$R"/var/log/bootstrap.log
    mkdir -p "$R/var/lib/apt/lists/partial"
  }
  clean_apt
  umoci repack --refresh-bundle --image "$img" \
    --history.created_by "toolchain-image.sh: debootstrap --variant=minbase $suite" "$B" >/dev/null

  # -- layer 2: toolchains ------------------------------------------------------------
  # In a private mount namespace: /proc and /dev for the maintainer scripts
  # (the JDK's need /proc), the host's resolv.conf for apt, no daemons started.
  cp -a "$R/etc/resolv.conf" "$work/resolv.conf.image" 2>/dev/null || : >"$work/resolv.conf.image"
  rm -f "$R/etc/resolv.conf"
  cp -L /etc/resolv.conf "$R/etc/resolv.conf"
  printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d"
  chmod 0755 "$R/usr/sbin/policy-rc.d"
  unshare --mount --propagation private /bin/bash -euo pipefail -c '
    R=$1; shift
    mount -t proc proc "$R/proc"
    mount --bind /dev "$R/dev"
    run() { chroot "$R" /usr/bin/env -i PATH='"$IMAGE_PATH"' HOME=/root LANG=C.UTF-8 \
              DEBIAN_FRONTEND=noninteractive "$@"; }
    run apt-get update -q
    run apt-get install -y -q "$@"
    run apt-get clean
  ' chroot-install "$R" "${TOOLCHAIN_PACKAGES[@]}" >"$work/install.log" 2>&1 || {
    tail -n 40 "$work/install.log" >&2
    echo "toolchain-image.sh: apt-get install in the chroot failed (log above)" >&2
    exit 1
  }
  chroot "$R" /usr/bin/dpkg-query -W -f '${Package}=${Version}\n' | sort >"$work/packages.txt"
  rm -f "$R/usr/sbin/policy-rc.d" "$R/etc/resolv.conf"
  cp -a "$work/resolv.conf.image" "$R/etc/resolv.conf"
  clean_apt
  rm -rf "$R"/tmp/* "$R"/var/tmp/* "$R"/root/.cache
  du -sb "$R" | cut -f1 >"$work/rootfs-bytes"
  umoci repack --image "$img" \
    --history.created_by "toolchain-image.sh: apt-get install ${TOOLCHAIN_PACKAGES[*]}" "$B" >/dev/null
  umoci gc --layout "$L"

  # Publish atomically: the cache entry is complete or absent.
  final=$work/final
  mkdir "$final"
  mv "$L" "$final/oci"
  mv "$work/packages.txt" "$work/rootfs-bytes" "$work/debootstrap.log" "$work/install.log" "$final/"
  cache_key_input >"$final/key-input.txt"
  rm -rf --one-file-system "$cache"
  mv "$final" "$cache"
fi
elapsed=$(($(date +%s) - start))

# ---- OUTDIR: a copy of the cached layout (blobs hardlinked when possible) -----------
oci_layout_copy "$cache/oci" "$out" "$build_tag" "$tag"

layers=$(umoci stat --image "$out:$tag" --json 2>/dev/null |
  grep -o '"created_by":"toolchain-image.sh' | wc -l || :)
compressed=$(du -sbL "$out/blobs/sha256" | cut -f1)
rootfs=$(cat "$cache/rootfs-bytes" 2>/dev/null || echo 0)
echo "toolchain-image.sh: $built in ${elapsed}s; cache $cache" >&2
echo "$out:$tag $layers layers, $((compressed / 1048576)) MiB compressed, $((rootfs / 1048576)) MiB unpacked"
