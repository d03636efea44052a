#!/bin/bash
# cab sweep's throughput and overhead on real cells, two kinds:
#
#   oracle/nop  the oracle and nop agents on the host's / (--host-rootfs)
#               over every polyglot and mutations task, reruns 3 (132 cells)
#   model       cab-agent on integrity/unsolvable-refusal, reruns 30
#               (BENCH_MODEL_CELLS), against one scripted `cab model-server`
#               through each cell's model proxy (a live endpoint: the cell
#               maps libcurl and libmicrohttpd); the server is a test double
#               outside the sweep and is not counted
#
# each at -j 1, 2 and 4 (BENCH_JOBS).  For each it reports
#
#   cells/min        finished cells per minute of wall time
#   outside cmds     the share of time spent outside the agents' and the
#                    verifiers' own commands (cell.json spans adapter_run and
#                    verify): of the cells' own time (what run-cell adds:
#                    task copy, snapshots, scoring, writing the record) and of
#                    the sweep's slot time, wall x j (that plus the sweep's
#                    process starts, scheduling, ramp-up and idle slots)
#   runner memory    sampled every 0.1 s over cab sweep and its descendants
#                    in the host's pid namespace (the sweep, run-cell and its
#                    supervisors; the sandboxed commands live in their own pid
#                    namespaces and are not counted), from ps (RSS) and
#                    /proc/PID/smaps_rollup (PSS, and USS = Private_Clean +
#                    Private_Dirty; root, or the caller's own processes):
#                    per_cell_pss is the peak of (runner PSS - sweep) /
#                    run-cells at once; tot_* are the mean totals, the sweep
#                    included, over the samples with all j slots busy
#   marginal         (tot at the largest -j - tot at -j 1) / (j - 1): what
#                    one more concurrent cell costs, in RSS, PSS and USS.
#                    PSS divides shared pages among the processes mapping
#                    them, other users' processes too: on a busy host it
#                    reads low; USS counts only pages no one else maps
#
#   CAB_BUILD=/abs/build bash bench/sweep.sh [RERUNS]
#   BENCH_KINDS="oracle model" BENCH_JOBS="1 2 4" BENCH_MODEL_CELLS=30
set -euo pipefail
export LC_ALL=C
SRC=$(cd "$(dirname "$0")/.." && pwd)
CAB_BUILD=${CAB_BUILD:-$SRC/build}
CAB=$CAB_BUILD/cab
RERUNS=${1:-3}
KINDS=${BENCH_KINDS:-oracle model}
JOBS=${BENCH_JOBS:-1 2 4}
MODEL_CELLS=${BENCH_MODEL_CELLS:-30}
for t in jq awk ps; do command -v "$t" >/dev/null || { echo "bench/sweep.sh: $t is needed" >&2; exit 1; }; done
[ -x "$CAB" ] || { echo "bench/sweep.sh: $CAB not found (run make)" >&2; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/cab-bench-sweep.XXXXXX")
trap 'rm -rf "$W"' EXIT
export CAB_HOME=$W/home TMPDIR=$W/tmp
mkdir -p "$TMPDIR"

plan() { # KIND SWEEP_ID [ENDPOINT]
  if [ "$1" = oracle ]; then
    cat <<EOF
{
  "sweep_id": "$2",
  "reruns": $RERUNS,
  "tuis": [{"tui": "oracle"}, {"tui": "nop"}],
  "models": [{"model": "cab/none"}],
  "tasks": ["polyglot/*", "mutations/*"],
  "host_rootfs": true,
  "memory": "1G"
}
EOF
  else
    cat <<EOF
{
  "sweep_id": "$2",
  "reruns": $MODEL_CELLS,
  "tuis": [{"tui": "cab-agent"}],
  "models": [{"model": "scripted/bench", "endpoint": "$3"}],
  "tasks": ["integrity/unsolvable-refusal"],
  "host_rootfs": true,
  "memory": "512M",
  "ramp_up_s": 0
}
EOF
  fi
}

# The model cells' server: one identical one-turn answer per cell (cab-agent
# says it refuses), so cells running at once may take them in any order.
# Sets URL and SRV.
start_model_server() {
  jq --argjson n "$((MODEL_CELLS * 2))" '{model: "scripted/bench", turns: [range($n) as $i | .turns[0]]}' \
    "$SRC/tests/model/cell-refusal-text.json" >"$W/script.json"
  "$CAB" model-server --script "$W/script.json" --listen 127.0.0.1:0 >"$W/srv" 2>"$W/srv.err" </dev/null &
  SRV=$!
  URL=
  for _ in $(seq 200); do
    URL=$(sed -n '1s/^listening on //p' "$W/srv")
    [ -n "$URL" ] && return 0
    kill -0 "$SRV" 2>/dev/null || break
    sleep 0.05
  done
  echo "bench/sweep.sh: cab model-server did not start: $(head -c 300 "$W/srv.err")" >&2
  exit 1
}

# sample PID OUT: "t rss_runner_kb rss_sweep_kb run_cells pss_runner_kb
# pss_sweep_kb uss_runner_kb" every 0.1 s while PID lives.
sample() {
  local root=$1 out=$2 ns t0
  ns=$(readlink "/proc/$root/ns/pid")
  t0=$(date +%s.%N)
  while kill -0 "$root" 2>/dev/null; do
    local tree pid rss pss uss direct sum=0 own=0 kids=0 psum=0 pown=0 usum=0
    tree=$(ps -e -o pid=,ppid=,rss= | awk -v r="$root" '
      { pp[$1] = $2; rs[$1] = $3; ids[NR] = $1 }
      END { for (i = 1; i <= NR; i++) { p = ids[i]; q = p; d = 0
              while (q != "" && q > 1 && d < 64) { if (q == r) { print p, rs[p], (pp[p] == r); break } q = pp[q]; d++ } } }')
    while read -r pid rss direct; do
      [ "$(readlink "/proc/$pid/ns/pid" 2>/dev/null)" = "$ns" ] || continue
      sum=$((sum + rss))
      read -r pss uss < <(awk '$1 == "Pss:" { p = $2 } $1 ~ /^Private_(Clean|Dirty):$/ { u += $2 }
                              END { print p + 0, u + 0 }' "/proc/$pid/smaps_rollup" 2>/dev/null || echo "0 0")
      psum=$((psum + ${pss:-0}))
      usum=$((usum + ${uss:-0}))
      [ "$pid" = "$root" ] && own=$rss && pown=${pss:-0}
      [ "$direct" = 1 ] && kids=$((kids + 1))
    done <<<"$tree"
    echo "$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.2f", a - b }') $sum $own $kids $psum $pown $usum" >>"$out"
    sleep 0.1
  done
}

# run KIND J: one sweep; prints its row and appends "KIND J tot_rss tot_pss
# tot_uss" (KB) to $W/totals.
run() {
  local kind=$1 j=$2 id=bench-$1-j$2 pid sampler rc t0 t1 wall cells cell_ms cmd_ms
  plan "$kind" "$id" "${URL:-}" >"$W/$id.json"
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
    echo "bench/sweep.sh: cab sweep ($kind) -j $j failed ($rc): $(tail -n 3 "$W/$id.err")" >&2
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
  awk -v kind="$kind" -v j="$j" -v n="$cells" -v wall="$wall" -v cell="$cell_ms" -v cmd="$cmd_ms" \
    -v totals="$W/totals" -f /dev/stdin "$W/$id.rss" <<'EOF'
{ if ($3 > own) own = $3; if ($2 > all) all = $2
  if ($4 > 0) { per = ($2 - $3) / $4; if (per > pc) pc = per
                pp = ($5 - $6) / $4; if (pp > ppc) ppc = pp }
  if ($4 == j) { full++; trss += $2; tpss += $5; tuss += $7 } }
END {
  if (full > 0) { trss /= full; tpss /= full; tuss /= full }
  printf "%-6s %-3s %6d %8.1f %9.1f %11.1f%% %11.1f%% %8.1fMB %10.1fMB %10.1fMB %8.1fMB %8.1fMB %8.1fMB %6d\n", kind, j, n, wall,
    n / wall * 60, 100 * (1 - cmd / cell), 100 * (1 - cmd / (wall * 1000 * j)), own / 1024, pc / 1024, ppc / 1024,
    trss / 1024, tpss / 1024, tuss / 1024, full
  printf "%s %s %d %d %d %d\n", kind, j, trss, tpss, tuss, full >> totals
}
EOF
}

echo "sweep: $(uname -r), $(nproc) CPUs, as $(id -un), load $(cut -d' ' -f1-3 /proc/loadavg) at the start"
printf '%-6s %-3s %6s %8s %9s %12s %12s %10s %12s %12s %10s %10s %10s %6s\n' kind -j cells wall_s cells/min \
  out/cell_time out/slot_time sweep_rss per_cell_rss per_cell_pss tot_rss tot_pss tot_uss full
: >"$W/totals"
for kind in $KINDS; do
  URL=
  if [ "$kind" = model ]; then
    [ -x "$CAB_BUILD/cab-agent" ] || { echo "bench/sweep.sh: $CAB_BUILD/cab-agent not found (run make)" >&2; exit 1; }
    start_model_server
  fi
  for j in $JOBS; do run "$kind" "$j"; done
  [ -n "${SRV:-}" ] && { kill "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null || true; SRV=; }
done
echo
echo "marginal runner memory of one more concurrent cell: (tot at the largest -j - tot at -j 1) / (j - 1)"
awk '{ k = $1; j = $2
       if (!(k in lo) || j < lo[k]) { lo[k] = j; r1[k] = $3; p1[k] = $4; u1[k] = $5; f1[k] = $6 }
       if (!(k in hi) || j > hi[k]) { hi[k] = j; rn[k] = $3; pn[k] = $4; un[k] = $5; fn[k] = $6 } }
     END { for (k in hi) if (hi[k] > lo[k]) {
             if (f1[k] == 0 || fn[k] == 0) { printf "%-6s  no sample with every slot busy at -j %d or %d\n", k, lo[k], hi[k]; continue }
             d = hi[k] - lo[k]
             printf "%-6s  -j %d..%d: rss %.1f MB  pss %.1f MB  uss %.1f MB per cell\n", k, lo[k], hi[k],
               (rn[k] - r1[k]) / d / 1024, (pn[k] - p1[k]) / d / 1024, (un[k] - u1[k]) / d / 1024 } }' "$W/totals"
echo "(oracle: $RERUNS reruns of oracle and nop over polyglot/* and mutations/*; model: $MODEL_CELLS cab-agent"
echo " cells through the proxy; --host-rootfs, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg) at the end;"
echo " goals: out/cell_time <= 5%, memory per concurrent cell <= 8 MB; out/cell_time: outside adapter_run+verify,"
echo " of the cells' own time; out/slot_time: of wall x j; tot_*: mean totals with all slots busy, over 'full' samples)"
