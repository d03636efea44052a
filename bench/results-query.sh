#!/bin/bash
# results-query: listing a results tree's cells with a filter, cab against
# jq, on a tree of BENCH_CELLS (default 1000) real cells (one oracle and one
# nop cell of polyglot/python-reverse-string, copied as run-1..run-N/2 with
# their run and cell_id rewritten).  One hyperfine run (in rounds,
# bench/rounds.sh) compares
#   cab-warm   cab results ls DIR --tui oracle --json: the index in the
#              cache is fresh (a walk and a stat of every cell.json, then
#              one SQLite query)
#   cab-cold   the same with the cache removed before every run: every
#              cell.json read and indexed
#   jq         find DIR -name cell.json | xargs jq: the same selection and
#              fields straight from the files (the peer: what a script
#              does without cab)
# and prints the ratios cab/jq.
#
#   bash bench/results-query.sh
#   BENCH_CELLS=4000 BENCH_RUNS=20 bash bench/results-query.sh
#
# Environment: CAB_BUILD (default ./build), BENCH_CELLS, BENCH_RUNS (default
# 20), BENCH_WARMUP (default 2), BENCH_JSON (keep hyperfine's JSON export).
set -eu
export LC_ALL=C

SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
CAB_BUILD=${CAB_BUILD:-$SRC_DIR/build}
CAB=${CAB:-$CAB_BUILD/cab}
CELLS=${BENCH_CELLS:-1000}
RUNS=${BENCH_RUNS:-20}
WARMUP=${BENCH_WARMUP:-2}

# shellcheck source=rounds.sh
. "$SRC_DIR/bench/rounds.sh"
# shellcheck source=many-cells.sh
. "$SRC_DIR/bench/many-cells.sh"
for tool in hyperfine jq python3; do
  command -v "$tool" >/dev/null || { echo "results-query: $tool not installed (make deps)" >&2; exit 1; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/cab-bench-results.XXXXXX")
trap 'rm -rf "$T"' EXIT
export CAB_HOME=$T/home XDG_CACHE_HOME=$T/cache TMPDIR=$T/tmp
mkdir -p "$TMPDIR"
unset CAB_ENDPOINT CAB_KEY CAB_TASKS_DIR
OUT=$T/out
many_cells "$OUT" "$CELLS"
echo "results-query: $(find "$OUT" -name cell.json | wc -l) cells in $OUT"

# The peer as a script (hyperfine runs without a shell; bash's start is in it).
cat >"$T/jq.sh" <<JQ
find $OUT -name cell.json -print0 | xargs -0 jq -c 'select(.tui == "oracle") | {sweep_id, tui,
  model: .model_build_id, task_id, run, outcome, pass: .scorers.pass_rate.pass,
  composite: .scorers.composite.composite}' >/dev/null
JQ
JSON=${BENCH_JSON:-$T/hf.json}
# One --prepare per command (a single one would run before every command).
hyperfine_rounds "$JSON" "$RUNS" "$WARMUP" \
  --prepare true --prepare "rm -rf $XDG_CACHE_HOME" --prepare true \
  -n cab-warm "$CAB results ls $OUT --tui oracle --json" \
  -n cab-cold "$CAB results ls $OUT --tui oracle --json" \
  -n jq "bash $T/jq.sh"
jq -r '.results[] | "\(.command)\t\(.mean * 1000 | floor) ms (median \(.median * 1000 | floor) ms)"' "$JSON"
jq -r '(.results | map({(.command): .median}) | add) as $m
  | "cab-warm/jq \($m["cab-warm"] / $m.jq * 1000 | floor / 1000)  cab-cold/jq \($m["cab-cold"] / $m.jq * 1000 | floor / 1000) (medians)"' "$JSON"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
