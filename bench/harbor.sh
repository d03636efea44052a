#!/bin/bash
# harbor: what an imported Harbor task costs, in one hyperfine run.
#   import-cab      cab tasks import --format harbor of tests/fixtures/harbor/
#                   (five tasks: task.toml read by common/toml.c, the
#                   Dockerfile applied, the tree written and checked)
#   parse-tomllib   the peer for the TOML part: Python's tomllib (what Harbor
#                   reads task.toml with) loading the same five task.toml
#                   files, interpreter start included
#   cell-harbor     an oracle cell on harbor/greet in the busybox image (a
#                   reward-file verifier: /tests bound, a fresh
#                   /logs/verifier, the reward read back)
#   cell-native     an oracle cell on cab's own polyglot/shell-word-count in
#                   the same image (an exit-status verifier)
# Prints the ratios import-cab / parse-tomllib and cell-harbor / cell-native.
#
#   bash bench/harbor.sh            BENCH_RUNS=20 (default 10) BENCH_WARMUP=2
set -eu
export LC_ALL=C
SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
CAB_BUILD=${CAB_BUILD:-$SRC_DIR/build}
CAB=${CAB:-$CAB_BUILD/cab}
RUNS=${BENCH_RUNS:-10}
WARMUP=${BENCH_WARMUP:-2}
for tool in hyperfine jq python3 umoci; do
  command -v "$tool" >/dev/null || { echo "harbor: $tool not installed (make deps)" >&2; exit 1; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/cab-bench-harbor.XXXXXX")
chmod 0755 "$T"
trap 'chmod -R u+rwX "$T" 2>/dev/null; rm -rf "$T"' EXIT
export CAB_HOME=$T/home TMPDIR=$T/tmp
mkdir -p "$TMPDIR"
unset CAB_TASKS_DIR CAB_ENDPOINT
FIX=$T/fixtures   # the kept fixtures plus the generated hostile ones
cp -a "$SRC_DIR/tests/fixtures/harbor" "$FIX"
bash "$FIX/make-hostile.sh" "$FIX"
IMAGE=cab-test/busybox:harbor
bash "$SRC_DIR/tests/images/busybox-image.sh" "$T/layout" harbor >/dev/null
"$CAB" import "$T/layout" --name "$IMAGE" >/dev/null
"$CAB" tasks import --format harbor "$FIX" --out "$T/tasks" >/dev/null
tomls=$(for d in fifo greet planted prebuilt scores; do printf '"%s/%s/task.toml",' "$FIX" "$d"; done)
hyperfine -N --runs "$RUNS" --warmup "$WARMUP" --export-json "$T/h.json" \
  -p true -p true -p "rm -rf $T/cells" -p "rm -rf $T/cells" \
  -n import-cab "$CAB tasks import --format harbor $FIX --out $T/tasks" \
  -n parse-tomllib "python3 -c 'import tomllib
for p in [${tomls%,}]: tomllib.load(open(p, \"rb\"))'" \
  -n cell-harbor \
  "$CAB run-cell --tui oracle --model bench/oracle --task harbor/greet --tasks-dir $T/tasks --sweep-id b --out $T/cells" \
  -n cell-native \
  "$CAB run-cell --tui oracle --model bench/oracle --task polyglot/shell-word-count --image $IMAGE --sweep-id b --out $T/cells" \
  >"$T/h.out" 2>&1 || { cat "$T/h.out"; exit 1; }
jq -r '.results[] | "\(.command)\t\(.mean * 1000 | floor) ms +- \(.stddev * 1000 | floor)"' "$T/h.json"
jq -r '(.results | map({(.command): .mean}) | add) as $m
  | "import-cab / parse-tomllib = \($m["import-cab"] / $m["parse-tomllib"] * 100 | floor / 100)",
    "cell-harbor / cell-native  = \($m["cell-harbor"] / $m["cell-native"] * 100 | floor / 100)"' "$T/h.json"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
