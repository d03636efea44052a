#!/bin/bash
# exec-start: how long "cab exec -- /bin/true" takes, next to bubblewrap and
# the floor of plain unshare(1), with cgroups on (--memory/--pids given) and
# off (no limits), and "cab exec IMAGE -- /bin/true" (a stored image: its
# unpacked rootfs under a fresh overlay) next to bwrap on that same unpacked
# directory, with and without limits.  One hyperfine run over all seven
# commands; prints the ratios cab/bwrap and limits on/off.
#
# Each run starts BENCH_GAP_MS (default 50) after the last: on cgroup v1 a
# process moved by pid waits for an RCU grace period unless another move
# happened just before, so back-to-back runs would hide what a lone cell
# (the usual case) pays for its limits.
#
#   bash bench/exec-start.sh            (make bench)
#   BENCH_RUNS=50 BENCH_JSON=out.json bash bench/exec-start.sh
#   (the runs are spread over BENCH_ROUNDS rounds: bench/rounds.sh)
#   BENCH_BASELINE=/path/to/other/build/cab bash bench/exec-start.sh
#
# With BENCH_BASELINE (another build's cab), its three cab commands run in the
# same hyperfine run and the differences are printed: a change's cost on
# exec start, measured side by side rather than against an old number.
#
# Environment: CAB_BUILD (default ./build), BENCH_RUNS (default 30),
# BENCH_WARMUP (default 3), BENCH_GAP_MS (default 50; 0 for none),
# BENCH_JSON (keep hyperfine's JSON export there).
set -eu

SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
export CAB_BUILD=${CAB_BUILD:-$SRC_DIR/build}
# shellcheck source=../tests/lib.sh
. "$SRC_DIR/tests/lib.sh"
# shellcheck source=rounds.sh
. "$SRC_DIR/bench/rounds.sh"
set +u

RUNS=${BENCH_RUNS:-30}
WARMUP=${BENCH_WARMUP:-3}
GAP_MS=${BENCH_GAP_MS:-50}

for tool in hyperfine bwrap unshare jq; do
  command -v "$tool" >/dev/null || { echo "exec-start: $tool not installed (make deps)" >&2; exit 1; }
done
[ -x "$CAB" ] || { echo "exec-start: $CAB not found (run make)" >&2; exit 1; }

T=$(mktemp -d /tmp/cab-bench.XXXXXX)
chmod 0755 "$T"
# (The unpacked image has 0555 directories: a user's rm needs them writable.)
trap 'chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
R=$T/rootfs
make_busybox_rootfs "$R" >/dev/null
# The image: tests/images/busybox-image.sh's, in a store of our own, run
# once so that its rootfs is unpacked; bwrap gets that same directory.
export CAB_HOME=$T/home
bash "$SRC_DIR/tests/images/busybox-image.sh" "$T/layout" bench >/dev/null
"$CAB" import "$T/layout" --name cab-bench/busybox:1 >/dev/null
"$CAB" exec cab-bench/busybox:1 -- /bin/true
IMG_DIR=$(echo "$CAB_HOME"/rootfs/*/)
IMG_DIR=${IMG_DIR%/}

# Check each command once before timing it: a failing command would
# otherwise be timed as a very fast one.
check() {
  local label=$1
  shift
  if ! "$@" >"$T/check.out" 2>&1; then
    echo "exec-start: '$label' does not work here:" >&2
    sed 's/^/  /' "$T/check.out" >&2
    exit 1
  fi
}
FLOOR="unshare -Urmnpfiu --mount-proc true"
BWRAP="bwrap --unshare-all --die-with-parent --bind $R / --proc /proc --dev /dev /bin/true"
CAB_OFF="$CAB exec --rootfs $R -- /bin/true"
CAB_ON="$CAB exec --rootfs $R --memory 256M --pids 256 -- /bin/true"
BWRAP_IMG="bwrap --unshare-all --die-with-parent --bind $IMG_DIR / --proc /proc --dev /dev /bin/true"
CAB_IMG="$CAB exec cab-bench/busybox:1 -- /bin/true"
CAB_IMG_ON="$CAB exec --memory 256M --pids 256 --cpus 1 cab-bench/busybox:1 -- /bin/true"
# hyperfine -N splits these command strings on spaces, and so does check.
# shellcheck disable=SC2086
check floor $FLOOR
# shellcheck disable=SC2086
check bwrap $BWRAP
# shellcheck disable=SC2086
check "cab (no limits)" $CAB_OFF
# shellcheck disable=SC2086
check "cab (limits)" $CAB_ON
# shellcheck disable=SC2086
check "bwrap (image dir)" $BWRAP_IMG
# shellcheck disable=SC2086
check "cab (image)" $CAB_IMG
# shellcheck disable=SC2086
check "cab (image, limits)" $CAB_IMG_ON
"$CAB" exec --rootfs "$R" --memory 256M --pids 256 --result "$T/mech.json" -- /bin/true 2>/dev/null
MECH=$(jq -r '"memory=\(.limits.memory) pids=\(.limits.pids)"' "$T/mech.json" 2>/dev/null || echo unknown)

echo "exec-start: $(uname -r), $(nproc) CPUs, as $(id -un), $RUNS runs ${GAP_MS} ms apart, load $(cut -d' ' -f1-3 /proc/loadavg); cab limits via $MECH"
BASE=()
if [ -n "${BENCH_BASELINE:-}" ]; then
  # shellcheck disable=SC2086
  check "baseline (no limits)" ${CAB_OFF/#$CAB /$BENCH_BASELINE }
  # shellcheck disable=SC2086
  check "baseline (image)" ${CAB_IMG/#$CAB /$BENCH_BASELINE }
  BASE=(-n baseline-cgroups-off "${CAB_OFF/#$CAB /$BENCH_BASELINE }"
        -n baseline-cgroups-on "${CAB_ON/#$CAB /$BENCH_BASELINE }"
        -n baseline-image "${CAB_IMG/#$CAB /$BENCH_BASELINE }"
        -n baseline-image-limits "${CAB_IMG_ON/#$CAB /$BENCH_BASELINE }")
fi
GAP=()
[ "$GAP_MS" -gt 0 ] && GAP=(--prepare "sleep $(printf '0.%03d' "$GAP_MS")")
hyperfine_rounds "$T/hyperfine.json" "$RUNS" "$WARMUP" "${GAP[@]}" \
  -n floor "$FLOOR" \
  -n bwrap "$BWRAP" \
  -n cab-cgroups-off "$CAB_OFF" \
  -n cab-cgroups-on "$CAB_ON" \
  -n bwrap-image-dir "$BWRAP_IMG" \
  -n cab-image "$CAB_IMG" \
  -n cab-image-limits "$CAB_IMG_ON" "${BASE[@]}"
[ -n "${BENCH_JSON:-}" ] && cp "$T/hyperfine.json" "$BENCH_JSON"
rounds_table "$T/hyperfine.json"

echo
jq -r '
  (.results | map({(.command): .}) | add) as $r
  | def ms(n): ($r[n].mean * 1000 * 100 | round) / 100;
    def ratio(a; b): ($r[a].mean / $r[b].mean * 100 | round) / 100;
  "mean ms: floor \(ms("floor"))  bwrap \(ms("bwrap"))  cab off \(ms("cab-cgroups-off"))  cab on \(ms("cab-cgroups-on"))",
  "cab/bwrap (cgroups off): \(ratio("cab-cgroups-off"; "bwrap"))",
  "cab/bwrap (cgroups on):  \(ratio("cab-cgroups-on"; "bwrap"))",
  "image: cab \(ms("cab-image")) ms, bwrap on its unpacked dir \(ms("bwrap-image-dir")) ms",
  "cab IMAGE/bwrap (same rootfs dir): \(ratio("cab-image"; "bwrap-image-dir"))",
  "limits on/off: directory \(ratio("cab-cgroups-on"; "cab-cgroups-off")), image \(ratio("cab-image-limits"; "cab-image")) (\(ms("cab-image-limits")) ms)",
  "cab/floor (cgroups off): \(ratio("cab-cgroups-off"; "floor"))",
  "bwrap/floor:             \(ratio("bwrap"; "floor"))"
' "$T/hyperfine.json"
if [ -n "${BENCH_BASELINE:-}" ]; then
  jq -r '
    (.results | map({(.command): .}) | add) as $r
    | def ms(n): ($r[n].mean * 1000 * 100 | round) / 100;
    "this build vs baseline (cgroups off): \(ms("cab-cgroups-off")) vs \(ms("baseline-cgroups-off")) ms",
    "this build vs baseline (cgroups on):  \(ms("cab-cgroups-on")) vs \(ms("baseline-cgroups-on")) ms",
    "this build vs baseline (image):       \(ms("cab-image")) vs \(ms("baseline-image")) ms; baseline IMAGE/bwrap \((($r["baseline-image"].mean / $r["bwrap-image-dir"].mean) * 100 | round) / 100)",
    "this build vs baseline (image, limits): \(ms("cab-image-limits")) vs \(ms("baseline-image-limits")) ms",
    "baseline limits on/off: directory \((($r["baseline-cgroups-on"].mean / $r["baseline-cgroups-off"].mean) * 100 | round) / 100), image \((($r["baseline-image-limits"].mean / $r["baseline-image"].mean) * 100 | round) / 100)"
  ' "$T/hyperfine.json"
fi
