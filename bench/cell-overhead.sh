#!/bin/bash
# cell-overhead: what a cell costs on top of the work it verifies.  One
# hyperfine run compares, for polyglot/python-reverse-string and
# polyglot/shell-word-count,
#   cell-TASK    cab run-cell --tui oracle --host-rootfs (a fresh cell each
#                time: the previous one is moved away before every run)
#   direct-TASK  the task's scorer.command run directly, with sh -c, on a
#                copy of the solved workdir (task workdir + solution/ +
#                hidden/), its __pycache__ removed before every run
# and prints the per-cell overhead (cell mean - direct mean) with a
# breakdown, phase by phase, from the timed cells' own spans:
#   rootfs     task_setup (the task's workdir copy) + tool_call
#              (applied_plugins); --host-rootfs: no image to lease
#   snap-bef   the "before" snapshot span
#   agent      the container span: the agent's sandbox and the oracle's
#              own cp -R of the solution
#   snap-aft   the "after" snapshot span
#   verify     the verify span minus the direct command's time: the
#              verifier's sandbox
#   score      the score span
#   record     the cleanup span (scratch removal) + outside the cell span
#              (cell mean - the cell span - score - cleanup: process
#              start, task and adapter loading, writing the artifacts,
#              cell.json and the trace, publishing the cell directory, exit)
#   gaps       inside the cell span but in no phase span: the scratch and
#              staging directories, the snapshot store, the diff
# and the CPU overhead (user+sys of the cell minus the direct run's), which
# a loaded host inflates less than the wall times.
# The goal (issue 16) is <= 50 ms of overhead beyond the verify command;
# the oracle's own cp -R (in "agent") counts against it.
#
#   bash bench/cell-overhead.sh
#   BENCH_RUNS=30 BENCH_JSON=out.json bash bench/cell-overhead.sh
#   (the runs are spread over BENCH_ROUNDS rounds: bench/rounds.sh)
#   BENCH_BASELINE=/path/to/other/build/cab bash bench/cell-overhead.sh
#
# With BENCH_BASELINE (another build's cab, e.g. the last release's), the
# same oracle cells run with it too, in the same hyperfine run, and the
# difference in cell time (this build minus the baseline) is printed.
#
# Environment: CAB_BUILD (default ./build), BENCH_RUNS (default 20),
# BENCH_WARMUP (default 3), BENCH_JSON (keep hyperfine's JSON export there).
set -eu
export LC_ALL=C

SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
CAB_BUILD=${CAB_BUILD:-$SRC_DIR/build}
CAB=${CAB:-$CAB_BUILD/cab}
RUNS=${BENCH_RUNS:-20}
WARMUP=${BENCH_WARMUP:-3}
TASKS=(polyglot/python-reverse-string polyglot/shell-word-count)
# The sandbox's PATH: the direct runs use the same interpreters as the cells
# (not, say, a pyenv shim earlier in the caller's PATH).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# shellcheck source=rounds.sh
. "$SRC_DIR/bench/rounds.sh"
for tool in hyperfine jq python3; do
  command -v "$tool" >/dev/null || { echo "cell-overhead: $tool not installed (make deps)" >&2; exit 1; }
done
[ -x "$CAB" ] || { echo "cell-overhead: $CAB not found (run make)" >&2; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/cab-bench-cell.XXXXXX")
chmod 0755 "$T"
trap 'chmod -R u+rwX "$T" 2>/dev/null; rm -rf "$T"' EXIT
export CAB_HOME=$T/home TMPDIR=$T/tmp
mkdir -p "$TMPDIR"
unset CAB_TASKS_DIR CAB_ENDPOINT

# tasks_dir: where cab finds its tasks (next to the build, as cab does).
TASKS_DIR=$CAB_BUILD/../tasks

args=()
for task in "${TASKS[@]}"; do
  name=${task#*/}
  tdir=$TASKS_DIR/$task
  [ -f "$tdir/task.json" ] || { echo "cell-overhead: no task $task under $TASKS_DIR" >&2; exit 1; }
  cmd=$(jq -r .scorer.command "$tdir/task.json")
  # The solved workdir, as the verifier sees it.
  w=$T/direct-$name
  mkdir -p "$w"
  cp -a "$tdir/workdir/." "$w/"
  cp -a "$tdir/solution/." "$w/"
  [ -d "$tdir/hidden" ] && cp -a "$tdir/hidden/." "$w/"
  direct="/bin/sh -c 'cd $w && $cmd'"
  cell="$CAB run-cell --tui oracle --model bench/oracle --task $task --host-rootfs --sweep-id bench --out $T/cell-$name"
  celldir=$T/cell-$name/bench/oracle/bench/oracle/$task
  mkdir -p "$T/kept-$name"
  # Check both once: a failing command would be timed as a fast one.
  (cd "$w" && sh -c "$cmd") >"$T/check.out" 2>&1 || {
    echo "cell-overhead: '$cmd' fails on the solved $task:" >&2
    tail -n 20 "$T/check.out" >&2
    exit 1
  }
  find "$w" -name __pycache__ -prune -exec rm -rf {} +
  # shellcheck disable=SC2086 # the command string splits on spaces on purpose
  $CAB run-cell --tui oracle --model bench/oracle --task $task --host-rootfs --sweep-id bench \
    --out "$T/check-cell" >"$T/check.out" 2>&1 || {
    echo "cell-overhead: the oracle cell on $task fails:" >&2
    cat "$T/check.out" >&2
    exit 1
  }
  [ "$(jq -r .outcome "$T/check-cell/bench/oracle/bench/oracle/$task/cell.json")" = pass ] || {
    echo "cell-overhead: the oracle cell on $task does not pass" >&2
    exit 1
  }
  args+=(-n "cell-$name" --prepare "sh -c 'if [ -d $celldir ]; then mv $celldir $T/kept-$name/\$(date +%s%N); fi'" "$cell")
  if [ -n "${BENCH_BASELINE:-}" ]; then
    base="${cell/#$CAB /$BENCH_BASELINE }"
    base=${base/--out $T\/cell-$name/--out $T/base-$name}
    args+=(-n "baseline-$name" --prepare "rm -rf $T/base-$name" "$base")
  fi
  args+=(-n "direct-$name" --prepare "find $w -name __pycache__ -prune -exec rm -rf {} +" "$direct")
done

echo "cell-overhead: $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), as $(id -un), $RUNS runs, $(python3 --version 2>&1)"
hyperfine_rounds "$T/hyperfine.json" "$RUNS" "$WARMUP" "${args[@]}"
rounds_table "$T/hyperfine.json"
[ -n "${BENCH_JSON:-}" ] && cp "$T/hyperfine.json" "$BENCH_JSON"

echo
printf '%-22s %7s %7s %8s %8s | %6s %8s %6s %8s %6s %5s %6s %5s\n' \
  task cell direct overhead cpu-over rootfs snap-bef agent snap-aft verify score record gaps
worst=0
for task in "${TASKS[@]}"; do
  name=${task#*/}
  celldir=$T/cell-$name/bench/oracle/bench/oracle/$task
  [ -d "$celldir" ] && mv "$celldir" "$T/kept-$name/last"
  # Every timed cell's spans (the warmup cells too: they are cells alike).
  jq -s '[.[] | .spans | map(if .kind == "snapshot" then .kind = "snapshot-\(.name)" else . end)
         | group_by(.kind) | map({key: .[0].kind, value: (map(.duration_ms) | add)}) | from_entries]
    | . as $c | {n: length}
      + (["container", "verify", "snapshot-before", "snapshot-after", "task_setup", "tool_call", "score",
          "cleanup", "cell"]
         | map({key: ., value: (. as $k | $c | map(.[$k] // 0) | add / length)}) | from_entries)' \
    "$T"/kept-"$name"/*/cell.json >"$T/spans-$name.json"
  jq -r --slurpfile s "$T/spans-$name.json" --arg c "cell-$name" --arg d "direct-$name" --arg task "$task" '
    (.results | map({(.command): .}) | add) as $r
    | ($r[$c].mean * 1000) as $cell | ($r[$d].mean * 1000) as $direct | $s[0] as $sp
    | ($sp.task_setup + $sp.tool_call) as $rootfs
    | ($sp.cell - $sp.task_setup - $sp.tool_call - $sp["snapshot-before"] - $sp["snapshot-after"]
       - $sp.container - $sp.verify) as $gaps
    | ($cell - $sp.cell - $sp.score - $sp.cleanup) as $outside
    | ((($r[$c].user + $r[$c].system) - ($r[$d].user + $r[$d].system)) * 1000) as $cpu
    | def f: . * 10 | round / 10;
    "\($task)\t\($cell | f)\t\($direct | f)\t\($cell - $direct | f)\t\($cpu | f)\t\($rootfs | f)\t\($sp["snapshot-before"] | f)\t\($sp.container | f)\t\($sp["snapshot-after"] | f)\t\($sp.verify - $direct | f)\t\($sp.score | f)\t\($sp.cleanup + $outside | f)\t\($gaps | f)\t\($sp.n)"' \
    "$T/hyperfine.json" >"$T/row"
  IFS=$'\t' read -r t cell direct over cpu rootfs snapb agent snapa verify score record gaps n <"$T/row"
  printf '%-22s %7s %7s %8s %8s | %6s %8s %6s %8s %6s %5s %6s %5s\n' \
    "${t#polyglot/}" "$cell" "$direct" "$over" "$cpu" "$rootfs" "$snapb" "$agent" "$snapa" "$verify" "$score" "$record" "$gaps"
  nspans=$n
  worst=$(jq -n --argjson a "$worst" --argjson b "$over" 'if $b > $a then $b else $a end')
done
if [ -n "${BENCH_BASELINE:-}" ]; then
  for task in "${TASKS[@]}"; do
    name=${task#*/}
    jq -r --arg c "cell-$name" --arg b "baseline-$name" --arg task "$task" '
      (.results | map({(.command): .}) | add) as $r
      | def f: . * 10 | round / 10;
      "\($task): this build \($r[$c].mean * 1000 | f) ms, baseline \($r[$b].mean * 1000 | f) ms, difference \(($r[$c].mean - $r[$b].mean) * 1000 | f) ms (cpu \((($r[$c].user + $r[$c].system) - ($r[$b].user + $r[$b].system)) * 1000 | f) ms)"' \
      "$T/hyperfine.json"
  done
fi
echo "(ms, means; cpu-over: user+sys of the cell minus the direct run's; the breakdown from the spans of $nspans cells per task)"
echo
if jq -e -n --argjson w "$worst" '$w <= 50' >/dev/null; then
  echo "cell-overhead: worst per-cell overhead ${worst} ms: within the 50 ms goal"
else
  echo "cell-overhead: worst per-cell overhead ${worst} ms: ABOVE the 50 ms goal"
fi
