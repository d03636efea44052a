#!/bin/bash
# report: cab report on a tree of BENCH_CELLS (default 200) real cells (one
# oracle and one nop cell of polyglot/python-reverse-string, copied as
# run-1..run-N/2 with their run and cell_id rewritten).  One hyperfine run
# (in rounds, bench/rounds.sh) compares
#   cab        cab report DIR --out SITE: every page, badge, chart, and the
#              downloads copied beside each cell page
#   cab-before the same with another cab (BENCH_CAB_BEFORE, e.g. main's
#              build/cab), when given: what a change to the site costs
#   cp         cp -r DIR: copying the results tree (the peer: the least a
#              site that carries each cell's files does)
# and prints the ratios cab/cp (and cab/cab-before).
#
#   bash bench/report.sh
#   BENCH_CAB_BEFORE=/work/main/build/cab BENCH_CELLS=400 bash bench/report.sh
#
# Environment: CAB_BUILD (default ./build), BENCH_CELLS, BENCH_RUNS (default
# 10), BENCH_WARMUP (default 1), BENCH_CAB_BEFORE, BENCH_JSON (keep
# hyperfine's JSON export).
set -eu
export LC_ALL=C

SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
CAB_BUILD=${CAB_BUILD:-$SRC_DIR/build}
CAB=${CAB:-$CAB_BUILD/cab}
CELLS=${BENCH_CELLS:-200}
RUNS=${BENCH_RUNS:-10}
WARMUP=${BENCH_WARMUP:-1}
BEFORE=${BENCH_CAB_BEFORE:-}

# shellcheck source=rounds.sh
. "$SRC_DIR/bench/rounds.sh"
# shellcheck source=many-cells.sh
. "$SRC_DIR/bench/many-cells.sh"
for tool in hyperfine jq python3; do
  command -v "$tool" >/dev/null || { echo "report: $tool not installed (make deps)" >&2; exit 1; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/cab-bench-report.XXXXXX")
trap 'rm -rf "$T"' EXIT
export CAB_HOME=$T/home XDG_CACHE_HOME=$T/cache TMPDIR=$T/tmp
mkdir -p "$TMPDIR"
unset CAB_ENDPOINT CAB_KEY CAB_TASKS_DIR
OUT=$T/out
many_cells "$OUT" "$CELLS"
echo "report: $(find "$OUT" -name cell.json | wc -l) cells, $(du -sk "$OUT" | cut -f1) KiB in $OUT"

JSON=${BENCH_JSON:-$T/hf.json}
args=(-n cab "$CAB report $OUT --out $T/site")
[ -n "$BEFORE" ] && args+=(-n cab-before "$BEFORE report $OUT --out $T/site-before")
# One --prepare per command: cp -r must start without its target.
prep=(--prepare true)
[ -n "$BEFORE" ] && prep+=(--prepare true)
hyperfine_rounds "$JSON" "$RUNS" "$WARMUP" "${prep[@]}" --prepare "rm -rf $T/copy" \
  "${args[@]}" -n cp "cp -r $OUT $T/copy"
jq -r '.results[] | "\(.command)\t\(.mean * 1000 | floor) ms (median \(.median * 1000 | floor) ms)"' "$JSON"
jq -r '(.results | map({(.command): .median}) | add) as $m
  | "cab/cp \($m.cab / $m.cp * 100 | floor / 100)"
    + (if $m["cab-before"] then "  cab/cab-before \($m.cab / $m["cab-before"] * 100 | floor / 100)" else "" end)
    + " (medians)"' "$JSON"
echo "site: $(du -sk "$T/site" | cut -f1) KiB, $(find "$T/site" -type f | wc -l) files"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
