#!/bin/bash
# unpack: how long a cold unpack of a ~250 MB two-layer image takes with
# cab's unpacker (tests/tools/layer-apply, i.e. cab_layer_apply with diff_id
# checks), with "umoci unpack --rootless", and with plain "tar -xzf" of the
# same gzip layers (no whiteouts, no checks: the floor).  One hyperfine run
# over the three; prints the ratios umoci/cab (goal >= 2) and cab/tar
# (goal <= 1.2).
#
#   bash bench/unpack.sh
#   BENCH_RUNS=10 BENCH_JSON=out.json bash bench/unpack.sh
#
# The image is built once and cached in $CAB_BENCH_CACHE (default
# /var/tmp/cab-bench): layer 1 is "debootstrap --variant=minbase bookworm"
# (needs root and the Debian mirror the first time), layer 2 adds a copy of
# usr/lib/x86_64-linux-gnu under /opt, an opaque usr/share/doc and a few
# whiteouts.  "Cold" means a fresh target directory each run; the layer
# blobs stay in the page cache; the previous run's writes are synced first.
#
# Environment: CAB_BUILD (default ./build), BENCH_RUNS (default 5),
# BENCH_WARMUP (default 1), BENCH_JSON, CAB_BENCH_CACHE, DEBIAN_MIRROR,
# BENCH_TARGET_DIR (where the trees are written; default /var/tmp, i.e. the
# disk; /dev/shm shows the CPU cost alone), BENCH_FS=ext4-nojournal (root:
# the trees go to a fresh 8 GiB ext4 made with -O ^has_journal, loop-mounted
# under the target dir, the file system on which issue 16 saw cab's import
# slower than docker load).
set -eu

SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
export CAB_BUILD=${CAB_BUILD:-$SRC_DIR/build}
# shellcheck source=../tests/lib.sh
. "$SRC_DIR/tests/lib.sh"
# shellcheck source=../tests/tools/unpack-lib.sh
. "$SRC_DIR/tests/tools/unpack-lib.sh"
set +u

RUNS=${BENCH_RUNS:-5}
WARMUP=${BENCH_WARMUP:-1}
CACHE=${CAB_BENCH_CACHE:-/var/tmp/cab-bench}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

for tool in hyperfine umoci jq tar gzip; do
  command -v "$tool" >/dev/null || { echo "unpack: $tool not installed (make deps)" >&2; exit 1; }
done

T=$(mktemp -d "${BENCH_TARGET_DIR:-/var/tmp}/cab-bench-run.XXXXXX")
chmod 0755 "$T"
trap 'rm_tree "$T"' EXIT
TD=$T
if [ "${BENCH_FS:-}" = ext4-nojournal ]; then
  [ "$(id -u)" = 0 ] || { echo "unpack: BENCH_FS=ext4-nojournal needs root (mount)" >&2; exit 1; }
  truncate -s 8G "$T/fs.img"
  mkfs.ext4 -q -O ^has_journal "$T/fs.img"
  mkdir "$T/mnt"
  mount -o loop "$T/fs.img" "$T/mnt"
  trap 'umount "$T/mnt"; rm_tree "$T"' EXIT
  TD=$T/mnt
fi
LA=$(need_tool layer-apply) || { echo "unpack: cannot build layer-apply (run make)" >&2; exit 1; }

# --- the image, cached ----------------------------------------------------------
IMG=$CACHE/img
if [ ! -f "$IMG/index.json" ]; then
  mkdir -p "$CACHE"
  if [ ! -f "$CACHE/minbase.tar" ]; then
    [ "$(id -u)" = 0 ] || { echo "unpack: run once as root to debootstrap into $CACHE" >&2; exit 1; }
    command -v debootstrap >/dev/null || { echo "unpack: debootstrap not installed" >&2; exit 1; }
    if [ ! -x "$CACHE/rootfs.tmp/bin/sh" ]; then
      rm -rf "$CACHE/rootfs.tmp"
      echo "unpack: debootstrap --variant=minbase bookworm (once, cached in $CACHE)" >&2
      debootstrap --variant=minbase bookworm "$CACHE/rootfs.tmp" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
        { echo "unpack: debootstrap failed, see $CACHE/debootstrap.log" >&2; exit 1; }
    fi
    # Devices in /dev would make the layers root-only; a base image has none.
    rm -rf "$CACHE/rootfs.tmp/dev"/* "$CACHE/rootfs.tmp/var/cache/apt"/*.bin
    tar --numeric-owner --sort=name -C "$CACHE/rootfs.tmp" -cf "$CACHE/minbase.tar.tmp" .
    mv "$CACHE/minbase.tar.tmp" "$CACHE/minbase.tar"
  fi
  S=$T/stage2
  mkdir -p "$S/opt/extra" "$S/usr/share/doc" "$S/usr/share"
  tar -C "$S/opt/extra" -xf "$CACHE/minbase.tar" ./usr/lib/x86_64-linux-gnu
  : >"$S/usr/share/doc/.wh..wh..opq"
  echo 'docs removed by layer 2' >"$S/usr/share/doc/README.cab"
  : >"$S/usr/share/.wh.man"
  : >"$S/usr/share/.wh.info"
  tar --numeric-owner --owner=0 --group=0 --sort=name -C "$S" -cf "$T/layer2.tar" .
  rm -rf "$IMG.tmp"
  umoci init --layout "$IMG.tmp"
  umoci new --image "$IMG.tmp:bench"
  umoci raw add-layer --image "$IMG.tmp:bench" "$CACHE/minbase.tar"
  umoci raw add-layer --image "$IMG.tmp:bench" "$T/layer2.tar"
  chmod -R a+rX "$IMG.tmp"
  mv "$IMG.tmp" "$IMG"
  rm -rf "$S" "$T/layer2.tar"
fi
M=$(jq -r '.manifests[0].digest' "$IMG/index.json" | cut -d: -f2)
mapfile -t LAYERS < <(jq -r '.layers[].digest' "$IMG/blobs/sha256/$M" | cut -d: -f2)
L1=$IMG/blobs/sha256/${LAYERS[0]}
L2=$IMG/blobs/sha256/${LAYERS[1]}
gz_mb=$(( ($(stat -c %s "$L1") + $(stat -c %s "$L2")) / 1000000 ))

# --- check each command once, then time them ---------------------------------------
D=$TD/target
CAB_CMD="$LA $D --layout $IMG:bench"
UMOCI_CMD="umoci unpack --rootless --image $IMG:bench $D"
TAR_CMD="sh -c 'mkdir $D && tar -xzf $L1 -C $D && tar -xzf $L2 -C $D'"
PREP="sh -c 'if [ -e $D ]; then chmod -R u+rwX $D; rm -rf $D; fi; sync'"
for c in "$CAB_CMD" "$UMOCI_CMD" "$TAR_CMD"; do
  eval "$PREP"
  if ! eval "$c" >"$T/check.out" 2>&1; then
    echo "unpack: '$c' does not work here:" >&2
    sed 's/^/  /' "$T/check.out" >&2
    exit 1
  fi
done
eval "$CAB_CMD"
unpacked_mb=$(($(du -sb "$D" | cut -f1) / 1000000))
files=$(find "$D" | wc -l)
eval "$PREP"

# "(journal)" / "(no journal)" for an ext4 (its journal thread, or "<none>").
journal_of() {
  local dev j
  dev=$(basename "$(df --output=source "$1" | tail -n 1)")
  j=$(cat "/sys/fs/ext4/$dev/journal_task" 2>/dev/null) || return 0
  if [ "$j" = "<none>" ]; then echo "(no journal)"; else echo "(journal)"; fi
}
echo "unpack: $(uname -r), $(nproc) CPUs, as $(id -un), $RUNS runs; image: 2 gzip layers," \
  "$gz_mb MB compressed, $unpacked_mb MB / $files paths unpacked; target on $(df --output=fstype "$TD" | tail -n 1)" \
  "$(journal_of "$TD");" \
  "load $(cut -d' ' -f1-3 /proc/loadavg)"
hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --prepare "$PREP" --export-json "$T/hyperfine.json" \
  -n cab "$CAB_CMD" \
  -n umoci "$UMOCI_CMD" \
  -n tar-xzf "$TAR_CMD"
[ -n "${BENCH_JSON:-}" ] && cp "$T/hyperfine.json" "$BENCH_JSON"

jq -r '
  (.results | map({(.command): .mean}) | add) as $m
  | "ratios: umoci/cab = \($m.umoci / $m.cab * 100 | round / 100) (goal >= 2),"
    + " cab/tar-xzf = \($m.cab / $m["tar-xzf"] * 100 | round / 100) (goal <= 1.2)"' "$T/hyperfine.json"
