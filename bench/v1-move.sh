#!/bin/bash
# v1-move: on a cgroup v1 host, as root, what moving a process into a
# cell's cgroup costs: the parent writing the child's pid to cgroup.procs
# (cab before issue 16) against the child writing "0" to the tasks file
# (cab_cgroup_join_self), alternating, BENCH_GAP_MS apart (default 50), in
# the memory and the pids hierarchies where cab makes its cells.  Skips with
# one line where there is no v1 memory hierarchy or we are not root.
#
#   bash bench/v1-move.sh
#   BENCH_RUNS=100 BENCH_GAP_MS=0 bash bench/v1-move.sh
#
# Environment: BENCH_RUNS (default 40), BENCH_GAP_MS (default 50), CC.
set -eu
SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${BENCH_RUNS:-40}
GAP=${BENCH_GAP_MS:-50}
if [ "$(id -u)" != 0 ] || [ ! -d /sys/fs/cgroup/memory ]; then
  echo "skip: v1-move: needs root and a cgroup v1 memory hierarchy"
  exit 0
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/cab-bench-v1move.XXXXXX")
trap 'rm -rf "$T"' EXIT
${CC:-cc} -O2 -std=gnu11 -Wall -Wextra -Werror -o "$T/v1-move" "$SRC_DIR/bench/tools/v1-move.c"
echo "v1-move: $(uname -r), $(nproc) CPUs, $RUNS rounds ${GAP} ms apart, load $(cut -d' ' -f1-3 /proc/loadavg)"
for c in memory pids; do
  own=$(awk -F: -v c="$c" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' /proc/self/cgroup)
  base=/sys/fs/cgroup/$c${own%/}
  [ -d "$base" ] || continue
  echo "$c ($base):"
  "$T/v1-move" "$base" "$RUNS" "$GAP" | sed 's/^/  /'
done
