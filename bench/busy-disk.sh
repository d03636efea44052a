#!/bin/bash
# busy-disk: "cab exec IMAGE -- /bin/true" idle and while another process
# writes to the same file system, next to bwrap on a plain directory (which
# mounts no overlay).  cab runs an image as an overlay whose upper layer sits
# in TMPDIR; unmounting a normal overlay syncs the whole upper file system,
# so a background writer's dirty pages land on cab's exit path.  cab mounts
# the layers it throws away "volatile" (never synced).  Two hyperfine runs,
# idle then busy (a dd loop writing 1 GiB files to TMPDIR's file system),
# and the ratios busy/idle.
#
#   bash bench/busy-disk.sh
#   BENCH_BASELINE=/path/to/other/build/cab bash bench/busy-disk.sh
#
# With BENCH_BASELINE (another build's cab, e.g. one without "volatile"),
# its image run is timed in the same hyperfine runs.
# Environment: CAB_BUILD (default ./build), BENCH_RUNS (default 20),
# BENCH_WARMUP (default 3).
set -eu
export LC_ALL=C
SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
export CAB_BUILD=${CAB_BUILD:-$SRC_DIR/build}
# shellcheck source=../tests/lib.sh
. "$SRC_DIR/tests/lib.sh"
set +u
RUNS=${BENCH_RUNS:-20}
WARMUP=${BENCH_WARMUP:-3}
for tool in hyperfine bwrap jq dd; do
  command -v "$tool" >/dev/null || { echo "busy-disk: $tool not installed (make deps)" >&2; exit 1; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/cab-bench-disk.XXXXXX")
chmod 0755 "$T"
writer=
# The loop and its dd both go.
stop_writer() {
  [ -n "$writer" ] || return 0
  pkill -P "$writer" 2>/dev/null
  kill "$writer" 2>/dev/null
  wait "$writer" 2>/dev/null || true
  writer=
}
trap 'stop_writer; rm -rf "$T"' EXIT
R=$T/rootfs
make_busybox_rootfs "$R" >/dev/null
export CAB_HOME=$T/home
bash "$SRC_DIR/tests/images/busybox-image.sh" "$T/layout" bench >/dev/null
"$CAB" import "$T/layout" --name cab-bench/busybox:1 >/dev/null
IMG="$CAB exec cab-bench/busybox:1 -- /bin/true"
BWRAP="bwrap --unshare-all --die-with-parent --bind $R / --proc /proc --dev /dev /bin/true"
for c in "$IMG" "$BWRAP"; do
  # shellcheck disable=SC2086
  $c >/dev/null 2>"$T/err" || { echo "busy-disk: '$c' fails here: $(head -1 "$T/err")" >&2; exit 1; }
done
cmds=(-n cab-image "$IMG" -n bwrap-dir "$BWRAP")
if [ -n "${BENCH_BASELINE:-}" ]; then
  cmds+=(-n baseline-image "${IMG/#$CAB /$BENCH_BASELINE }")
fi

echo "busy-disk: $(uname -r), $(nproc) CPUs, as $(id -un), $RUNS runs, TMPDIR on $(df -T "$T" | awk 'NR==2 {print $2}')"
hyperfine -N --style basic --warmup "$WARMUP" --runs "$RUNS" --export-json "$T/idle.json" "${cmds[@]}" >/dev/null
# The writer: 1 GiB files one after another, each removed when written.
(while :; do dd if=/dev/zero of="$T/ballast" bs=1M count=1024 status=none; rm -f "$T/ballast"; done) &
writer=$!
sleep 2
hyperfine -N --style basic --warmup "$WARMUP" --runs "$RUNS" --export-json "$T/busy.json" "${cmds[@]}" >/dev/null
stop_writer

jq -r -n --slurpfile idle "$T/idle.json" --slurpfile busy "$T/busy.json" '
  def means(f): f[0].results | map({(.command): .mean}) | add;
  means($idle) as $i | means($busy) as $b
  | def ms(x): (x * 1000 * 10 | round) / 10;
    def r(x; y): (x / y * 100 | round) / 100;
  ($i | keys_unsorted[]) as $c
  | "\($c): idle \(ms($i[$c])) ms, busy \(ms($b[$c])) ms, busy/idle \(r($b[$c]; $i[$c]))",
    (if $c == "cab-image" then
       "  cab-image/bwrap-dir: idle \(r($i[$c]; $i["bwrap-dir"])), busy \(r($b[$c]; $b["bwrap-dir"]))"
     else empty end)'
