#!/bin/bash
# export: `cab export REF -o FILE.tar` (an oci-archive streamed from cab's
# store into an unnamed file, fsynced, then named) against `skopeo copy
# oci:LAYOUT oci-archive:FILE.tar` from an OCI layout holding the same blobs
# (the named peer), and `tar -cf` of that layout (the floor: no fsync, no
# checks).  The image is unpack.sh's ~250 MB two-layer one (built by it once,
# cached in $CAB_BENCH_CACHE; run bench/unpack.sh first).  Prints the ratios
# cab/skopeo and cab/tar and the load.
#
#   bash bench/export.sh
#   BENCH_RUNS=10 bash bench/export.sh
#
# Environment: CAB_BUILD (default ./build), BENCH_RUNS (default 10),
# BENCH_ROUNDS, CAB_BENCH_CACHE (default /var/tmp/cab-bench), BENCH_TARGET_DIR
# (where the tars are written; default /var/tmp).
set -eu
SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
CAB=${CAB_BUILD:-$SRC_DIR/build}/cab
# shellcheck source=rounds.sh
. "$SRC_DIR/bench/rounds.sh"
RUNS=${BENCH_RUNS:-10}
IMG=${CAB_BENCH_CACHE:-/var/tmp/cab-bench}/img
for tool in hyperfine skopeo jq tar; do
  command -v "$tool" >/dev/null || { echo "export: $tool not installed (make deps)" >&2; exit 1; }
done
[ -f "$IMG/index.json" ] || { echo "export: no image at $IMG: run bench/unpack.sh once" >&2; exit 1; }

T=$(mktemp -d "${BENCH_TARGET_DIR:-/var/tmp}/cab-bench-export.XXXXXX")
trap 'rm -rf "$T"' EXIT
export CAB_HOME=$T/home
"$CAB" import "$IMG" --name bench/export:bench >/dev/null
mb=$(($(du -sb "$IMG/blobs" | cut -f1) / 1000000))

hyperfine_rounds "$T/h.json" "$RUNS" 1 \
  --prepare "rm -f $T/cab.tar $T/skopeo.tar $T/tar.tar" \
  -n cab "$CAB export bench/export:bench -o $T/cab.tar" \
  -n skopeo "skopeo --insecure-policy copy -q oci:$IMG:bench oci-archive:$T/skopeo.tar" \
  -n tar "tar -cf $T/tar.tar -C $IMG ."
jq -r --arg mb "$mb" '
  (.results | map({(.command): .}) | add) as $r
  | "export of a \($mb) MB image, median: cab \($r.cab.median * 1000 | round) ms, skopeo \($r.skopeo.median * 1000 | round) ms, tar \($r.tar.median * 1000 | round) ms",
    "ratios: cab/skopeo \($r.cab.median / $r.skopeo.median * 100 | round / 100), cab/tar \($r.cab.median / $r.tar.median * 100 | round / 100)"' "$T/h.json"
