#!/bin/bash
# A sweep records a cassette per cell and is replayed offline from them:
# cab-agent x 2 tasks (integrity/unsolvable-refusal, polyglot/shell-word-count)
# on the host's root against one scripted `cab model-server` (turns for the
# first cell, then the second's: -j 1), with "record": true in the model.
# The journal names each cell's cassette; then, with the server stopped,
# `cab sweep --replay DIR` gives every cell the same outcome, pass and tokens
# (every scorer but the wall-time ones), each cell naming the cassette it
# replayed; `cab merge` carries the cassettes, so a merged tree replays
# too; a cell retried after an infra_error (a scripted 500) replays its
# last attempt's cassette.  A cell whose cassette is missing, that the journal names none for,
# or whose journal names a file outside the recorded sweep, is refused in
# one line (125) before any cell runs.
# shellcheck disable=SC2016 # jq programs are quoted on purpose
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=../fixtures/sweep/lib.sh
. "$TESTS_DIR/fixtures/sweep/lib.sh"
sweep_setup
"$CAB" model-server --help >/dev/null 2>&1 || skip "this cab has no model-server command"
MODELS=$TESTS_DIR/model

# One script for both cells, in the sweep's order (tasks sorted by id).
jq -s '{model: "scripted/sweep", turns: ([.[0].turns, (.[1] | [.turns, .usage] | transpose | map(.[0] + {usage: .[1]}))] | add)}' \
  "$MODELS/cell-refusal-doc.json" "$MODELS/cell-solve.json" >"$T/script.json"
"$CAB" model-server --script "$T/script.json" --listen 127.0.0.1:0 >"$T/srv" 2>"$T/srv.err" </dev/null &
SRV=$!
at_exit "kill $SRV"
URL=
for _ in $(seq 100); do
  URL=$(sed -n '1s/^listening on //p' "$T/srv")
  [ -n "$URL" ] && break
  kill -0 "$SRV" 2>/dev/null || break
  sleep 0.05
done
[ -n "$URL" ] || bail "cab model-server did not start: $(head -c 300 "$T/srv.err")"

cat >"$T/plan.json" <<EOF2
{
  "sweep_id": "cassettes",
  "tuis": [{"tui": "cab-agent"}],
  "models": [{"model": "scripted/sweep", "endpoint": "$URL", "record": true}],
  "tasks": ["polyglot/shell-word-count", "integrity/unsolvable-refusal"],
  "host_rootfs": true,
  "memory": "512M",
  "ramp_up_s": 0
}
EOF2
KEYS="cab-agent/scripted/sweep/integrity/unsolvable-refusal/run-1 cab-agent/scripted/sweep/polyglot/shell-word-count/run-1"

# --- recorded -------------------------------------------------------------------------------
run_cab "$T/rec.out" sweep "$T/plan.json" -j 1 --out "$T/rec"
assert_rc 0 "the recorded sweep exits 0"
kill "$SRV" 2>/dev/null
wait "$SRV" 2>/dev/null
REC=$T/rec/cassettes
J=$REC/.sweep/journal.jsonl
for k in $KEYS; do
  rel=$(jq -r --arg k "$k" 'select(.event == "done" and .cell == $k) | .cassette' "$J")
  assert_eq "$rel" ".sweep/cassettes/$k.attempt-1.jsonl" "the journal names $k's cassette"
  assert_cmp "$(grep -c '"request"' "$REC/$rel" 2>/dev/null || echo 0)" -ge 3 "... which holds its model calls"
  assert_json '.model.cassette_recorded' "$REC/$rel" "$REC/$k/cell.json" "... and its cell.json says where it was recorded"
  assert_json '.cassette' cab.cassette/v1 <(head -n1 "$REC/$rel") "... recorded for that cell (its identity line)"
done
assert_json '[.outcome, .scorers.pass_rate.pass, .scorers.refusal.refusal_correct]' '["pass",1,"true"]' \
  "$REC/cab-agent/scripted/sweep/integrity/unsolvable-refusal/run-1/cell.json" "the refusal cell passes (REFUSAL.md)"
assert_json '[.outcome, .scorers.pass_rate.pass, .scorers.tokens.total_tokens]' '["pass",1,2714]' \
  "$REC/cab-agent/scripted/sweep/polyglot/shell-word-count/run-1/cell.json" "the solve cell passes, with the script's 2714 tokens"

# --- replayed offline, the server gone -------------------------------------------------------
run_cab "$T/rep.out" sweep "$T/plan.json" -j 1 --out "$T/rep" --replay "$T/rec"
assert_rc 0 "the replayed sweep exits 0 with no model server"
REP=$T/rep/cassettes
WALL_FREE='.scorers | del(.latency) | del(.composite.composite, .composite.components.wall_clock_ms, .composite.components.latency_efficiency)'
for k in $KEYS; do
  assert_eq "$(jq -c '[.outcome, .scorers.pass_rate.pass, .scorers.tokens]' "$REP/$k/cell.json")" \
    "$(jq -c '[.outcome, .scorers.pass_rate.pass, .scorers.tokens]' "$REC/$k/cell.json")" \
    "$k: the same outcome, pass and tokens as recorded"
  if [ "$(jq -S "$WALL_FREE" "$REC/$k/cell.json")" = "$(jq -S "$WALL_FREE" "$REP/$k/cell.json")" ]; then
    pass "$k: every scorer as recorded but the wall-time ones"
  else
    fail "$k: the scorers differ: $(diff <(jq -S "$WALL_FREE" "$REC/$k/cell.json") <(jq -S "$WALL_FREE" "$REP/$k/cell.json") | head -8 | tr '\n' '|')"
  fi
  assert_json '.model.cassette_replayed' "$REC/.sweep/cassettes/$k.attempt-1.jsonl" "$REP/$k/cell.json" \
    "$k: replayed from its own cassette"
  assert_eq "$(jq -s -c '[length, all(.replayed == true and .status == 200)]' "$REP/$k/model_calls.jsonl")" \
    "[$(jq -s length "$REC/$k/model_calls.jsonl"),true]" "$k: as many calls as recorded, every one answered from the cassette"
  assert_eq "$(jq -r --arg k "$k" 'select(.event == "done" and .cell == $k) | .replayed' "$REP/.sweep/journal.jsonl")" \
    "$REC/.sweep/cassettes/$k.attempt-1.jsonl" "$k: the replay's journal names the cassette"
done
# --replay accepts the sweep's own directory too.
run_cab "$T/rep2.out" sweep "$T/plan.json" -j 1 --out "$T/rep2" --replay "$REC"
assert_rc 0 "--replay OUT/<sweep_id> works as --replay OUT"

# cab merge carries the cassettes (the same input twice: its cassettes once),
# so a merged sweep replays too.
run_cab "$T/merge.out" merge "$T/rec" "$T/rec" --out "$T/merged"
assert_rc 0 "cab merge of the recorded sweep (twice)"
assert_eq "$(cd "$T/merged/cassettes/.sweep" && find cassettes -type f | sort | tr '\n' ' ')" \
  "$(cd "$REC/.sweep" && find cassettes -type f | sort | tr '\n' ' ')" "the merged tree holds the cassettes"
run_cab "$T/rep3.out" sweep "$T/plan.json" -j 1 --out "$T/rep3" --replay "$T/merged"
assert_rc 0 "the merged sweep replays"
for k in $KEYS; do
  assert_eq "$(jq -c '[.outcome, .scorers.tokens.total_tokens]' "$T/rep3/cassettes/$k/cell.json")" \
    "$(jq -c '[.outcome, .scorers.tokens.total_tokens]' "$REC/$k/cell.json")" "$k: replayed from the merged tree, as recorded"
done

# --- a retried cell replays its last attempt's cassette ----------------------------------------
# The first call gets a 500 (model_retries 0: the cell is infra_error), the
# sweep retries it; each attempt records its own cassette.
jq '{model: "scripted/retry", turns: ([{status: 500, error: "upstream broke"}] + .turns)}' \
  "$MODELS/cell-refusal-doc.json" >"$T/retry-script.json"
"$CAB" model-server --script "$T/retry-script.json" --listen 127.0.0.1:0 >"$T/srv2" 2>"$T/srv2.err" </dev/null &
SRV2=$!
at_exit "kill $SRV2"
URL2=
for _ in $(seq 100); do
  URL2=$(sed -n '1s/^listening on //p' "$T/srv2")
  [ -n "$URL2" ] && break
  kill -0 "$SRV2" 2>/dev/null || break
  sleep 0.05
done
[ -n "$URL2" ] || bail "cab model-server did not start: $(head -c 300 "$T/srv2.err")"
jq --arg u "$URL2" '.sweep_id = "retried" | .tasks = ["integrity/unsolvable-refusal"]
  | .models = [{model: "scripted/retry", endpoint: $u, record: true, model_retries: 0}]
  | .retries = {infra: 1, backoff_s: 0}' "$T/plan.json" >"$T/retry.json"
run_cab "$T/retry.out" sweep "$T/retry.json" -j 1 --out "$T/retry-rec"
assert_rc 0 "the retried sweep exits 0"
kill "$SRV2" 2>/dev/null
wait "$SRV2" 2>/dev/null
RK=cab-agent/scripted/retry/integrity/unsolvable-refusal/run-1
assert_eq "$(jq -r 'select(.event == "done") | "\(.attempt) \(.outcome) \(.cassette | split(".")[-2])"' "$T/retry-rec/retried/.sweep/journal.jsonl" | tr '\n' ' ')" \
  "1 infra_error attempt-1 2 pass attempt-2 " "attempt 1 infra_error, attempt 2 pass, each naming its own cassette"
run_cab "$T/retry-rep.out" sweep "$T/retry.json" -j 1 --out "$T/retry-rep" --replay "$T/retry-rec"
assert_rc 0 "the retried sweep replays"
assert_json '[.outcome, .model.cassette_replayed]' "[\"pass\",\"$T/retry-rec/retried/.sweep/cassettes/$RK.attempt-2.jsonl\"]" \
  "$T/retry-rep/retried/$RK/cell.json" "... from the last attempt's cassette, passing as it did"

# --- a missing cassette: one line, 125, nothing run ------------------------------------------
cp -a "$T/rec" "$T/broken"
rm "$T/broken/cassettes/.sweep/cassettes/cab-agent/scripted/sweep/polyglot/shell-word-count/run-1.attempt-1.jsonl"
run_cab "$T/miss.out" sweep "$T/plan.json" -j 1 --out "$T/miss" --replay "$T/broken"
assert_rc 125 "a missing cassette: exit 125"
assert_eq "$(wc -l <"$T/miss.out.err")" 1 "... in one line"
assert_match "$(cat "$T/miss.out.err")" "^cab: sweep --replay .*: cell cab-agent/scripted/sweep/polyglot/shell-word-count/run-1: its cassette .*run-1.attempt-1.jsonl is missing" \
  "... naming the cell and the cassette"
[ -e "$T/miss" ] && fail "a refused replay wrote $T/miss" || pass "... and nothing ran"
# A journal that names none (recorded without "record": true).
cp -a "$T/rec" "$T/unnamed"
jq -c 'del(.cassette)' "$T/rec/cassettes/.sweep/journal.jsonl" >"$T/unnamed/cassettes/.sweep/journal.jsonl"
run_cab "$T/none.out" sweep "$T/plan.json" -j 1 --out "$T/none" --replay "$T/unnamed"
assert_rc 125 "a cell the journal names no cassette for: exit 125"
assert_match "$(cat "$T/none.out.err")" "^cab: sweep --replay .*: cell cab-agent/scripted/sweep/integrity/unsolvable-refusal/run-1 has no recorded cassette" \
  "... in one line naming the cell"
# A journal naming a file outside the recorded sweep (a published sweep is
# not trusted): refused, the file never read as a cassette.
cp -a "$T/rec" "$T/outside"
jq -c 'if .cassette then .cassette = "../../plan.json" else . end' "$T/rec/cassettes/.sweep/journal.jsonl" \
  >"$T/outside/cassettes/.sweep/journal.jsonl"
run_cab "$T/out.out" sweep "$T/plan.json" -j 1 --out "$T/outside-rep" --replay "$T/outside"
assert_rc 125 "a journal naming a cassette outside the recorded sweep: 125"
assert_match "$(cat "$T/out.out.err")" "the journal names the cassette '\.\./\.\./plan\.json', outside the recorded sweep; refusing it\$" \
  "... in one line"
[ -e "$T/outside-rep" ] && fail "... yet a cell ran" || pass "... and no cell ran"
run_cab "$T/nodir.out" sweep "$T/plan.json" --out "$T/nodir" --replay "$T/nowhere"
assert_rc 125 "--replay a directory with no recorded sweep: 125"
assert_eq "$(wc -l <"$T/nodir.out.err")" 1 "... in one line"
run_cab "$T/self.out" sweep "$T/plan.json" --out "$T/rec" --replay "$T/rec"
assert_rc 125 "--replay into the recorded sweep itself: 125"

# --- the plan's "record" ---------------------------------------------------------------------
jq '.models[0].record = "yes"' "$T/plan.json" >"$T/bad1.json"
run_cab "$T/b1" sweep "$T/bad1.json" --dry-run
assert_rc 125 "record must be a boolean"
assert_eq "$(cat "$T/b1.err")" "cab: $T/bad1.json: models[0].record: expected true or false" "... one line naming the key"
jq '.models[0].replay = "x.jsonl"' "$T/plan.json" >"$T/bad2.json"
run_cab "$T/b2" sweep "$T/bad2.json" --dry-run
assert_rc 125 "record and replay together are refused"
assert_match "$(cat "$T/b2.err")" 'models\[0\]\.record: a model records its cells. cassettes or replays one, not both' "... in one line"
finish
