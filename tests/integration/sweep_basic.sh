#!/bin/bash
# cab sweep on real oracle and nop cells (--host-rootfs, four quick bundled
# tasks, reruns 2): --dry-run lists the 16 cells and the image they need and
# runs nothing; the sweep writes each cell once, in run-cell's layout, with
# the outcomes the built-in agents give (oracle pass, nop fail), a journal
# line per start and end, and a summary table per tui x model; -j, the
# plan's max_concurrency, a model's max_concurrency, the memory budget and
# the ramp-up bound the cells running at once (read back from the journal);
# progress is plain lines off a terminal and one live line on one.
# shellcheck disable=SC2016 # jq programs are quoted on purpose
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=../fixtures/sweep/lib.sh
. "$TESTS_DIR/fixtures/sweep/lib.sh"
sweep_setup
quick_plan basic 2

# --- dry run -------------------------------------------------------------------
run_cab "$T/dry" sweep "$T/plan.json" --dry-run --out "$T/out"
assert_rc 0 "--dry-run exits 0"
assert_eq "$(grep -c '/run-[12]  *host-rootfs$' "$T/dry")" 16 "--dry-run lists 16 cells, one a line, each on host-rootfs"
assert_eq "$(grep -A1 '^images:$' "$T/dry" | tail -n1 | tr -s ' ')" " host-rootfs (16 cells)" "--dry-run names the images the cells need"
assert_eq "$(tail -n1 "$T/dry")" "16 cells" "--dry-run ends with the cell count"
assert_eq "$(grep '/run-' "$T/dry" | awk '{print $1}' | sort)" \
  "$(expected_keys "oracle nop" cab/none "$QUICK_TASK_IDS" 2)" "--dry-run lists exactly tuis x models x tasks x reruns"
[ -e "$T/out" ] && fail "--dry-run created the output directory" || pass "--dry-run writes nothing"

# --- the sweep -----------------------------------------------------------------
run_cab "$T/run" sweep "$T/plan.json" -j 3 --out "$T/out"
assert_rc 0 "cab sweep exits 0"
S=$T/out/basic
assert_eq "$(cells_in "$S")" "$(expected_keys "oracle nop" cab/none "$QUICK_TASK_IDS" 2)" \
  "every cell of the plan is written, once, in run-cell's layout"
bad=0
for c in $(cells_in "$S"); do
  want=fail
  case $c in oracle/*) want=pass ;; esac
  o=$(jget '[.outcome, .sweep_id, .tui, .model_build_id, .run | tostring] | join(" ")' "$S/$c/cell.json")
  run=${c##*/run-}
  tui=${c%%/*}
  [ "$o" = "$want basic $tui cab/none $run" ] || { bad=$((bad + 1)); say "  $c: $o"; }
done
assert_eq "$bad" 0 "oracle cells pass, nop cells fail, each cell.json names its sweep, tui, model and run"
J=$S/.sweep/journal.jsonl
assert_eq "$(jq -r 'select(.event == "start") | .cell' "$J" | sort | uniq -d | wc -l)" 0 "the journal starts each cell once"
assert_eq "$(jq -r 'select(.event == "done") | .cell' "$J" | sort -u | wc -l)" 16 "the journal ends each of the 16 cells"
tail -n1 "$J" >"$T/last.json"
assert_json '[(.spec_sha256 | test("^sha256:[0-9a-f]{64}$")), .plan_sha256 == "sha256:'"$(sha256sum <"$T/plan.json" | cut -d' ' -f1)"'"]' \
  '[true,true]' "$T/last.json" "journal lines carry the cell's spec hash and the plan file's sha256"
assert_eq "$(cmp -s "$T/plan.json" "$S/.sweep/plan.json" && echo same)" same "the plan as run is kept beside the journal"
assert_eq "$(find "$S/.sweep/logs" -type f | wc -l)" 0 "no run-cell printed anything to keep"
assert_cmp "$(journal_max_running "$J")" -le 3 "-j 3: at most 3 cells at once"
assert_cmp "$(journal_max_running "$J")" -ge 2 "-j 3: cells do run concurrently"
assert_match "$(head -n1 "$T/run.err")" '^cab: sweep basic: 16 cells, up to 3 at once \(by -j;' "the first line says how many at once, and why"
assert_match "$(tail -n1 "$T/run.err")" '^cab: sweep basic: 16/16 done \(8 pass, 8 fail, 0 error\), 0 running, [0-9.]+ cells/min in ' \
  "the last progress line counts the outcomes and the rate"
assert_eq "$(grep -c $'\r' "$T/run.err")" 0 "off a terminal, progress is plain lines"
assert_eq "$(head -n1 "$T/run" | tr -s ' ')" "tui model cells pass fail timeout agent_error infra_error composite" "the summary table's header"
assert_match "$(grep '^oracle ' "$T/run" | tr -s ' ')" '^oracle cab/none 8 8 0 0 0 0 0\.9[0-9]{2}$' "the summary: oracle 8 cells, 8 pass, its mean composite"
assert_match "$(grep '^nop ' "$T/run" | tr -s ' ')" '^nop cab/none 8 0 8 0 0 0 0\.[0-9]{3}$' "the summary: nop 8 cells, 8 fail"
mean=$(find "$S/oracle" -name cell.json -exec jq '.scorers.composite.composite' {} + | awk '{s += $1} END {printf "%.3f", s / NR}')
assert_eq "$(grep '^oracle ' "$T/run" | awk '{print $NF}')" "$mean" "the mean composite is the cells' own"

# --- limits: the plan's, a model's, memory, ramp-up ---------------------------------
cat >"$T/limits.json" <<EOF
{
  "sweep_id": "limits",
  "tuis": [{"tui": "oracle"}, {"tui": "nop"}],
  "models": [{"model": "lim/one", "max_concurrency": 1}, {"model": "lim/many"}],
  "tasks": [$QUICK_TASKS],
  "host_rootfs": true,
  "memory": "256M",
  "max_concurrency": 3,
  "ramp_up_s": 0
}
EOF
run_cab "$T/lim" sweep "$T/limits.json" -j 8 --out "$T/out"
assert_rc 0 "a sweep of two models exits 0"
J=$T/out/limits/.sweep/journal.jsonl
assert_eq "$(jq -r 'select(.event == "done") | .cell' "$J" | sort -u | wc -l)" 16 "all 16 cells ran"
assert_cmp "$(journal_max_running "$J")" -le 3 "the plan's max_concurrency 3 caps -j 8"
assert_cmp "$(journal_max_running "$J" lim/one)" -eq 1 "models[0].max_concurrency 1: never two of its cells at once"
assert_match "$(head -n1 "$T/lim.err")" "up to 3 at once \(by the plan's max_concurrency;" "the first line names the plan's limit"

# An endpoint's limit holds across the models that share it.
cat >"$T/endpoint.json" <<EOF
{
  "sweep_id": "endpoint",
  "tuis": [{"tui": "oracle"}],
  "models": [{"model": "e/a", "endpoint": "http://127.0.0.1:9/v1"},
             {"model": "e/b", "endpoint": "http://127.0.0.1:9/v1"},
             {"model": "e/c", "endpoint": "http://127.0.0.2:9/v1"}],
  "tasks": [$QUICK_TASKS],
  "host_rootfs": true,
  "memory": "256M",
  "ramp_up_s": 0,
  "endpoint_max_concurrency": {"http://127.0.0.1:9/v1": 1}
}
EOF
run_cab "$T/ep" sweep "$T/endpoint.json" -j 4 --out "$T/out"
assert_rc 0 "a sweep of three models on two endpoints exits 0"
J=$T/out/endpoint/.sweep/journal.jsonl
shared=$(jq -s '[.[] | select(.cell | test("^oracle/e/[ab]/"))]
  | reduce .[] as $e ({r: 0, m: 0};
      if $e.event == "start" then .r += 1 | .m = ([.m, .r] | max) elif $e.event == "done" then .r -= 1 else . end)
  | .m' "$J")
assert_cmp "$shared" -eq 1 "endpoint_max_concurrency 1: the two models on that endpoint never run two cells at once"
assert_cmp "$(journal_max_running "$J")" -ge 2 "... while the model on another endpoint runs beside them"

# Memory: each cell may use 60% of what is available, so one at a time.
avail=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
mem=$((avail * 6 / 10 / 1024))M
sed -e 's/"limits"/"memory-cap"/' -e "s/\"256M\"/\"$mem\"/" -e 's/"max_concurrency": 3,//' "$T/limits.json" >"$T/mem.json"
run_cab "$T/mem" sweep "$T/mem.json" -j 4 --out "$T/out"
assert_rc 0 "a sweep whose cells may each use 60% of the memory exits 0"
assert_cmp "$(journal_max_running "$T/out/memory-cap/.sweep/journal.jsonl")" -eq 1 "the memory budget (MemAvailable) runs one such cell at a time, even with -j 4"
assert_match "$(head -n1 "$T/mem.err")" "up to 1 at once \(by memory;" "the first line says memory is the limit"
sed -e 's/"limits"/"too-big"/' -e "s/\"256M\"/\"$((avail * 2 / 1024))M\"/" "$T/limits.json" >"$T/big.json"
run_cab "$T/big" sweep "$T/big.json" --out "$T/out"
assert_rc 125 "cells that may each use more memory than is available: exit 125"
assert_match "$(cat "$T/big.err")" '^cab: .*big.json: memory: each cell may use .* but only .* is available \(MemAvailable\); lower "memory" in the plan$' \
  "... with one line saying so"

# Ramp-up: concurrency grows by one every ramp_up_s (here 0.5 s, -j 4).
sed -e 's/"basic"/"ramp"/' -e 's/"ramp_up_s": 0/"ramp_up_s": 0.5/' "$T/plan.json" >"$T/ramp.json"
run_cab "$T/ramp" sweep "$T/ramp.json" -j 4 --out "$T/out"
assert_rc 0 "a ramped sweep exits 0"
# Running after each start <= 1 + floor((t - t_first) / 0.5), with 0.2 s of slack
# (the ramp's clock starts a little before the first start).
over=$(jq -s '
  def secs: sub("Z$"; "") | split(".") as $p | ($p[0] + "Z" | fromdateiso8601) + ($p[1] | tonumber) / 1000000;
  (.[0].time | secs) as $t0
  | reduce .[] as $e ({r: 0, over: 0};
      if $e.event == "start" then .r += 1
        | (1 + ((($e.time | secs) - $t0 + 0.2) / 0.5 | floor)) as $allowed
        | if .r > $allowed then .over += 1 else . end
      elif $e.event == "done" then .r -= 1 else . end)
  | .over' "$T/out/ramp/.sweep/journal.jsonl")
assert_eq "$over" 0 "ramp-up: at most 1 + t/0.5 cells running at time t"

# --- progress on a terminal ---------------------------------------------------
if command -v script >/dev/null 2>&1; then
  sed -e 's/"basic"/"tty"/' "$T/plan.json" >"$T/tty.json"
  script -qec "$CAB sweep $T/tty.json --out $T/out -j 2" "$T/tty.log" >/dev/null 2>&1 </dev/null
  assert_cmp "$(grep -o $'\033\\[K\r' "$T/tty.log" | wc -l)" -ge 3 "on a terminal the progress line is redrawn in place (\\r, text, erase the rest, \\r: common/ttyline)"
  assert_match "$(tr '\r' '\n' <"$T/tty.log" | grep 'cab: sweep tty: 16/16 done' | tail -n1)" 'cells/min in ' "... and ends with the final count and rate"
else
  say "# script(1) not found: the terminal progress line is not checked"
fi
finish
