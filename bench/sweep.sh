#!/bin/bash
# cab sweep's throughput and overhead on real cells: the oracle and nop
# agents on the host's / (--host-rootfs) over every polyglot and mutations
# task, reruns 3 (132 cells), at -j 1 and -j 2.  For each it reports
#
#   cells/min        finished cells per minute of wall time
#   outside cmds     the share of time spent outside the agents' and the
#                    verifiers' own commands (cell.json spans adapter_run and
#                    verify): of the cells' own time (what run-cell adds:
#                    task copy, snapshots, scoring, writing the record) and of
#                    the sweep's slot time, wall x j (that plus the sweep's
#                    process starts, scheduling, ramp-up and idle slots)
#   runner RSS       ps sampling every 0.1 s of cab sweep and its descendants
#                    in the host's pid namespace (the sweep, run-cell and its
#                    supervisors; the sandboxed commands live in their own pid
#                    namespaces and are not counted): the sweep's own peak,
#                    and the peak of (runner RSS - sweep) / run-cells at once
#   runner PSS       the same from /proc/PID/smaps_rollup (root, or the
#                    caller's own processes): shared pages, the ~56 libraries
#                    cab-full maps, divided among the processes that map them
#
#   CAB_BUILD=/abs/build bash bench/sweep.sh [RERUNS]
set -euo pipefail
export LC_ALL=C
SRC=$(cd "$(dirname "$0")/.." && pwd)
CAB_BUILD=${CAB_BUILD:-$SRC/build}
CAB=$CAB_BUILD/cab
RERUNS=${1:-3}
for t in jq awk ps; do command -v "$t" >/dev/null || { echo "bench/sweep.sh: $t is needed" >&2; exit 1; }; done
[ -x "$CAB" ] || { echo "bench/sweep.sh: $CAB not found (run make)" >&2; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/cab-bench-sweep.XXXXXX")
trap 'rm -rf "$W"' EXIT
export CAB_HOME=$W/home TMPDIR=$W/tmp
mkdir -p "$TMPDIR"

plan() { # SWEEP_ID
  cat <<EOF
{
  "sweep_id": "$1",
  "reruns": $RERUNS,
  "tuis": [{"tui": "oracle"}, {"tui": "nop"}],
  "models": [{"model": "cab/none"}],
  "tasks": ["polyglot/*", "mutations/*"],
  "host_rootfs": true,
  "memory": "1G"
}
EOF
}

# sample PID OUT: "t rss_runner_kb rss_sweep_kb run_cells pss_runner_kb pss_sweep_kb"
# every 0.1 s while PID lives.
sample() {
  local root=$1 out=$2 ns t0
  ns=$(readlink "/proc/$root/ns/pid")
  t0=$(date +%s.%N)
  while kill -0 "$root" 2>/dev/null; do
    local tree pid rss pss sum=0 own=0 kids=0 psum=0 pown=0
    tree=$(ps -e -o pid=,ppid=,rss= | awk -v r="$root" '
      { pp[$1] = $2; rs[$1] = $3; ids[NR] = $1 }
      END { for (i = 1; i <= NR; i++) { p = ids[i]; q = p; d = 0
              while (q != "" && q > 1 && d < 64) { if (q == r) { print p, rs[p], (pp[p] == r); break } q = pp[q]; d++ } } }')
    while read -r pid rss direct; do
      [ "$(readlink "/proc/$pid/ns/pid" 2>/dev/null)" = "$ns" ] || continue
      sum=$((sum + rss))
      pss=$(awk '$1 == "Pss:" { print $2; exit }' "/proc/$pid/smaps_rollup" 2>/dev/null || true)
      psum=$((psum + ${pss:-0}))
      [ "$pid" = "$root" ] && own=$rss && pown=${pss:-0}
      [ "$direct" = 1 ] && kids=$((kids + 1))
    done <<<"$tree"
    echo "$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.2f", a - b }') $sum $own $kids $psum $pown" >>"$out"
    sleep 0.1
  done
}

echo "sweep: $(uname -r), $(nproc) CPUs, as $(id -un), load $(cut -d' ' -f1-3 /proc/loadavg) at the start"
printf '%-4s %6s %8s %9s %12s %12s %10s %12s %12s %14s\n' -j cells wall_s cells/min \
  out/cell_time out/slot_time sweep_rss per_cell_rss per_cell_pss runner_rss_max
for j in 1 2; do
  id=bench-j$j
  plan "$id" >"$W/$id.json"
  t0=$(date +%s.%N)
  "$CAB" sweep "$W/$id.json" --out "$W/out" -j "$j" >"$W/$id.out" 2>"$W/$id.err" </dev/null &
  pid=$!
  : >"$W/$id.rss"
  sample "$pid" "$W/$id.rss" &
  sampler=$!
  rc=0
  wait "$pid" || rc=$?
  t1=$(date +%s.%N)
  wait "$sampler" 2>/dev/null || true
  if [ "$rc" != 0 ]; then
    echo "bench/sweep.sh: cab sweep -j $j failed ($rc): $(tail -n 3 "$W/$id.err")" >&2
    exit 1
  fi
  wall=$(awk -v a="$t1" -v b="$t0" 'BEGIN { printf "%.2f", a - b }')
  find "$W/out/$id" -name cell.json -not -path '*/.*' -exec cat {} + |
    jq -s '{cells: length,
            cell_ms: (map(.spans[] | select(.kind == "cell") | .duration_ms) | add),
            cmd_ms: (map(.spans[] | select(.kind == "adapter_run" or .kind == "verify") | .duration_ms) | add)}' \
      >"$W/$id.spans"
  cells=$(jq .cells "$W/$id.spans")
  cell_ms=$(jq .cell_ms "$W/$id.spans")
  cmd_ms=$(jq .cmd_ms "$W/$id.spans")
  awk -v j="$j" -v n="$cells" -v wall="$wall" -v cell="$cell_ms" -v cmd="$cmd_ms" -f /dev/stdin "$W/$id.rss" <<'EOF'
{ if ($3 > own) own = $3; if ($2 > all) all = $2
  if ($4 > 0) { per = ($2 - $3) / $4; if (per > pc) pc = per
                pp = ($5 - $6) / $4; if (pp > ppc) ppc = pp } }
END {
  printf "%-4s %6d %8.1f %9.1f %11.1f%% %11.1f%% %8.1fMB %10.1fMB %10.1fMB %12.1fMB\n", j, n, wall, n / wall * 60,
    100 * (1 - cmd / cell), 100 * (1 - cmd / (wall * 1000 * j)), own / 1024, pc / 1024, ppc / 1024, all / 1024
}
EOF
done
echo "($RERUNS reruns of oracle and nop over polyglot/* and mutations/*, --host-rootfs, $(nproc) CPUs,"
echo " load $(cut -d' ' -f1-3 /proc/loadavg) at the end; goals: out/cell_time <= 5%, memory per cell <= 8 MB;"
echo " out/cell_time: outside adapter_run+verify, of the cells' own time; out/slot_time: of wall x j)"
