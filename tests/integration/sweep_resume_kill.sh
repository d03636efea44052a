#!/bin/bash
# A sweep killed with SIGKILL at random moments, again and again, then
# resumed to the end, holds every cell of its plan exactly once: no cell
# lost, none twice, no half-written cell, no run-cell left running, no
# staging directory left behind; each attempt of a retried cell is
# journaled once and kept once (run-N.attempt-K/), and a cell that finished
# while its sweep was being killed is adopted, not run again.
#
# The plan: oracle, nop and cab-agent (against an endpoint that answers
# every call with a 500: infra_error at once, retried twice) x four quick tasks x reruns 3
# = 36 cells and 60 runs, killed 8 times 0.05-0.8 s into each attempt.
# shellcheck disable=SC2016 # jq programs are quoted on purpose
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=../fixtures/sweep/lib.sh
. "$TESTS_DIR/fixtures/sweep/lib.sh"
# shellcheck source=../fixtures/proxy/net_lib.sh
. "$TESTS_DIR/fixtures/proxy/net_lib.sh"
sweep_setup
# A dead endpoint is refused before a cell starts (exit 125, no record):
# infra_error cells come from an endpoint that is there but fails.
start_model_server down '{"model": "m", "after_last": "repeat", "turns": [{"status": 500, "error": "down"}]}'

O=$T/out-$(marker kill)
S=$O/killed
cat >"$T/plan.json" <<EOF
{
  "sweep_id": "killed",
  "reruns": 3,
  "tuis": [{"tui": "oracle"}, {"tui": "nop"}, {"tui": "cab-agent"}],
  "models": [{"model": "m", "endpoint": "$MS_URL"}],
  "tasks": [$QUICK_TASKS],
  "host_rootfs": true,
  "memory": "256M",
  "ramp_up_s": 0,
  "retries": {"infra": 2, "backoff_s": 0.05}
}
EOF
at_exit "kill_marker '$O'"

kills=0
for i in 1 2 3 4 5 6 7 8; do
  delay=$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.05 + (r % 76) / 100 }')
  "$CAB" sweep "$T/plan.json" --out "$O" --resume -j 2 >"$T/k$i.out" 2>"$T/k$i.err" </dev/null &
  pid=$!
  sleep "$delay"
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid"
    kills=$((kills + 1))
  fi
  wait "$pid" 2>/dev/null
  rc=$?
  # The sweep's cells die with it (PR_SET_PDEATHSIG), at once.
  left=""
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    left=$(pids_with_marker "$O")
    [ -z "$left" ] && break
    sleep 0.2
  done
  say "# kill $i after ${delay}s: exit $rc, $(grep -c '"done"' "$S/.sweep/journal.jsonl" 2>/dev/null) done lines${left:+, still running: $left}"
  [ -z "$left" ] || fail "kill $i: run-cell processes outlived the killed sweep: $(ps -o pid,args -p "${left//$'\n'/,}" | tail -n +2)"
done
assert_cmp "$kills" -ge 4 "the sweep was SIGKILLed mid-run at least 4 times"
killed_runs=$(jq -s '[.[] | select(.event == "start")] | length' "$S/.sweep/journal.jsonl")
say "# $killed_runs start lines so far"

CAB_TEST_TIMEOUT=60 run_cab "$T/final" sweep "$T/plan.json" --out "$O" --resume -j 2
assert_rc 0 "the resumed sweep finishes and exits 0"
assert_eq "$(cells_in "$S")" "$(expected_keys "oracle nop cab-agent" m "$QUICK_TASK_IDS" 3)" \
  "the cells are exactly the plan's 36, each once"

# Every cell is whole, is the cell its path says, and has the outcome its
# agent gives (see run_cell_race in tests/fixtures/sweep/lib.sh).
bad=0
race=0
for c in $(cells_in "$S"); do
  tui=${c%%/*}
  case $tui in oracle) want=pass ;; nop) want=fail ;; *) want=infra_error ;; esac
  if [ "$tui" = cab-agent ] && run_cell_race "$S/$c/cell.json"; then
    want=$(jq -r .outcome "$S/$c/cell.json")
    race=$((race + 1))
  fi
  got=$(jq -r '[.outcome, (.scorers | type), .tui, .run] | map(tostring) | join(" ")' "$S/$c/cell.json" 2>&1)
  [ "$got" = "$want object $tui ${c##*/run-}" ] || { bad=$((bad + 1)); say "  $c: $got"; }
done
assert_eq "$bad" 0 "every cell.json is complete, its own, with its agent's outcome"
[ "$race" = 0 ] || say "# note: $race cab-agent cells hit run-cell's uncounted-502 race (not infra_error)"
assert_eq "$(find "$S" -name '.staging-*' -o -name '*.old-[0-9]*' | wc -l)" 0 "no staging or moved-aside directory is left"

# The journal: no attempt of any cell ended twice; the last end is the cell's;
# an infra_error cell ran 3 times (retries.infra 2), a pass or fail once.
jq -rs '[.[] | select(.event == "done")] | group_by(.cell) | .[]
        | [.[0].cell, (map(.attempt) | length), (map(.attempt) | unique | length),
           (max_by(.attempt) | .outcome), (map(.attempt) | max)] | @tsv' \
  "$S/.sweep/journal.jsonl" >"$T/ends.tsv"
assert_eq "$(wc -l <"$T/ends.tsv")" 36 "the journal ends all 36 cells"
dup=$(awk -F'\t' '$2 != $3' "$T/ends.tsv")
assert_eq "$dup" "" "no attempt of a cell is journaled as ended twice"
mismatch=""
want_attempts=""
while IFS=$'\t' read -r c _ _ last max; do
  [ "$last" = "$(jq -r .outcome "$S/$c/cell.json")" ] || mismatch="$mismatch $c"
  case $last in
  infra_error) [ "$max" = 3 ] || mismatch="$mismatch $c(attempts=$max)" ;;
  *) case $c in cab-agent/*) [ "$max" -le 3 ] ;; *) [ "$max" = 1 ] ;; esac || mismatch="$mismatch $c(attempts=$max)" ;;
  esac
  for k in $(seq 1 $((max - 1))); do want_attempts="$want_attempts$c.attempt-$k"$'\n'; done
done <"$T/ends.tsv"
assert_eq "$mismatch" "" "each cell's last journaled end is its cell.json; infra errors ran 3 times, the others once"

# Earlier attempts: kept once each (run-N.attempt-K/), and nothing else.
got_attempts=$(cd "$S" && find . -type d -name '*.attempt-*' | sed 's|^\./||' | sort)
assert_eq "$got_attempts" "$(printf '%s' "$want_attempts" | sort)" "each retried cell kept its failed attempts, once each"
assert_cmp "$(printf '%s' "$want_attempts" | wc -l)" -ge 20 "... (the 12 cab-agent cells' attempts 1 and 2)"
assert_eq "$(cd "$S" && find . -path '*.attempt-*/cell.json' -exec jq -r .outcome {} + | sort -u)" infra_error \
  "the kept attempts are the infra_error records"

# Resuming a finished sweep runs nothing.
starts=$(grep -c '"start"' "$S/.sweep/journal.jsonl")
run_cab "$T/again" sweep "$T/plan.json" --out "$O" --resume
assert_rc 0 "--resume once more exits 0"
assert_match "$(head -n1 "$T/again.err")" '36 cells, 36 already done' "... finding every cell done"
assert_eq "$(grep -c '"start"' "$S/.sweep/journal.jsonl")" "$starts" "... and starts nothing"
assert_match "$(grep '^cab-agent ' "$T/again" | tr -s ' ')" "^cab-agent m 12 0 $race 0 0 $((12 - race)) " "its summary counts the cab-agent cells' outcomes"

# The narrowest moment: run-cell has put its cell in place, and the sweep
# dies before journaling its end (here: that line removed), with a torn
# line at the journal's end (a write cut short).  The resumed sweep adopts
# the cell (journals its end, runs nothing) and writes on a fresh line.
C=oracle/m/polyglot/shell-word-count/run-2
cp "$S/$C/cell.json" "$T/adopted.json"
jq -c --arg c "$C" 'select((.cell == $c and .event == "done") | not)' "$S/.sweep/journal.jsonl" >"$T/j"
printf '{"event":"done","cell":"%s","spec_sha' "$C" >>"$T/j"
cp "$T/j" "$S/.sweep/journal.jsonl"
starts=$(grep -c '"start"' "$S/.sweep/journal.jsonl")
run_cab "$T/adopt" sweep "$T/plan.json" --out "$O" --resume
assert_rc 0 "--resume after a death between a cell's end and its journal line exits 0"
assert_match "$(head -n1 "$T/adopt.err")" '36 cells, 36 already done' "... finds the cell done"
assert_eq "$(grep -c '"start"' "$S/.sweep/journal.jsonl")" "$starts" "... and runs nothing"
assert_eq "$(jq -Rc --arg c "$C" 'fromjson? | select(.cell == $c and .event == "done") | [.attempt, .outcome]' "$S/.sweep/journal.jsonl" | tail -n1)" \
  '[1,"pass"]' "... journaling the adopted cell's end"
assert_eq "$(cmp -s "$T/adopted.json" "$S/$C/cell.json" && echo same)" same "... whose cell.json is untouched"
assert_eq "$(jq -R 'fromjson? // "TORN"' "$S/.sweep/journal.jsonl" | grep -c '^"TORN"$')" 1 \
  "the torn line stays alone on its line; every other line parses"

# SIGTERM (and ^C) stop a sweep cleanly: its cells are killed (a killed
# run-cell writes no cell), one line says how to carry on, exit 128+15.
sed 's/"killed"/"termed"/' "$T/plan.json" >"$T/term.json"
"$CAB" sweep "$T/term.json" --out "$O" -j 2 >"$T/term.out" 2>"$T/term.err" </dev/null &
pid=$!
sleep 0.7
kill -TERM "$pid"
wait "$pid"
assert_eq "$?" 143 "SIGTERM: exit 143"
assert_match "$(tail -n1 "$T/term.err")" "^cab: sweep termed interrupted by SIGTERM: [0-9]+ of 36 cells done; carry on with 'cab sweep $T/term.json --resume --out $O'\$" \
  "SIGTERM: one line says how far it got and how to carry on"
sleep 0.3
assert_eq "$(pids_with_marker "$O")" "" "SIGTERM: no run-cell outlives the sweep"
run_cab "$T/term2" sweep "$T/term.json" --out "$O" -j 2 --resume
assert_rc 0 "SIGTERM: --resume finishes the sweep"
assert_eq "$(cells_in "$O/termed")" "$(expected_keys "oracle nop cab-agent" m "$QUICK_TASK_IDS" 3)" "SIGTERM: then every cell is there, once"

# A changed plan reruns only what changed: one more rerun adds run-4s only.
sed 's/"reruns": 3/"reruns": 4/' "$T/plan.json" >"$T/plan4.json"
run_cab "$T/more" sweep "$T/plan4.json" --out "$O" --resume --dry-run
assert_eq "$(tail -n1 "$T/more")" "48 cells, 12 to run" "--dry-run --resume of a plan with one more rerun: only the 12 new cells would run"
assert_eq "$(grep -c ' run  ' "$T/more")" 12 "... each listed as to run"
assert_eq "$(grep ' run  ' "$T/more" | grep -vc '/run-4 ')" 0 "... all of them run-4"
finish
