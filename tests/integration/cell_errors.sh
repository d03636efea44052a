#!/bin/bash
# cab run-cell on bad input, and a killed runner:
#   * bad task files (a temp --tasks-dir: not JSON, a missing field, a wrong
#     type, an unknown field or constraint kind, a task_id that is not the
#     directory, no task.json), an unknown task, a missing image, an unknown
#     TUI, a bad model id, --record with --replay, a wire agent without an
#     endpoint, an --out too long for the cell's files: exit 125, exactly one
#     line on stderr (naming the field where there is one), nothing on
#     stdout, no cell written;
#   * SIGKILL of `cab run-cell` while cab-agent waits on a model call that
#     never answers (tests/model/cell-hang.json): no cell.json at the cell
#     path (absent, or the complete previous cell, byte for byte), no
#     cell.json anywhere else under --out (a .staging-* directory may stay),
#     and no agent process left behind.
# shellcheck disable=SC2016 # jq programs are quoted on purpose
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=../fixtures/proxy/net_lib.sh
. "$TESTS_DIR/fixtures/proxy/net_lib.sh"

setup_cell_test
"$CAB" run-cell --help >/dev/null 2>&1 || skip "this cab has no run-cell command yet"
SWC=$SRC_DIR/tasks/polyglot/shell-word-count

# --- exit codes: --help is 0 and documents them ----------------------------------------------------
run_cab "$T/help" run-cell --help
assert_rc 0 "run-cell --help exits 0"
assert_match "$(tr '\n' ' ' <"$T/help")" 'Exit status: 0 when the cell is a measurement \(pass, fail, timeout, agent_error\), 3 when it was recorded as infra_error, 125 .*128\+N' \
  "run-cell --help documents the exit codes"

# --- bad task files ------------------------------------------------------------------
# bad_task NAME JQ: a tasks dir whose polyglot/shell-word-count has task.json
# rewritten by JQ ("" = not JSON at all, "-" = no task.json).
bad_task() {
  local d=$T/tasks-$1
  mkdir -p "$d/polyglot"
  cp -a "$SWC" "$d/polyglot/"
  case $2 in
  "") printf '{"task_id": "polyglot/shell-word-count",\n' >"$d/polyglot/shell-word-count/task.json" ;;
  -) rm -f "$d/polyglot/shell-word-count/task.json" ;;
  *) jq "$2" "$SWC/task.json" >"$d/polyglot/shell-word-count/task.json" ;;
  esac
  BAD=$d
}
ORACLE=(--tui oracle --model cab/none --task polyglot/shell-word-count --host-rootfs)
bad_task notjson ""
assert_rejected "task.json that is not JSON" 'task\.json: not valid JSON' "${ORACLE[@]}" --tasks-dir "$BAD"
bad_task nofield 'del(.timeout_s)'
assert_rejected "task.json without timeout_s" 'task\.json: timeout_s: missing' "${ORACLE[@]}" --tasks-dir "$BAD"
bad_task badtype '.timeout_s = "soon"'
assert_rejected "task.json with a string timeout_s" 'task\.json: timeout_s: ' "${ORACLE[@]}" --tasks-dir "$BAD"
bad_task unknown '.colour = "blue"'
assert_rejected "task.json with an unknown field" 'task\.json: colour: ' "${ORACLE[@]}" --tasks-dir "$BAD"
bad_task kind '.constraints = [{"kind": "no-such-kind"}]'
assert_rejected "task.json with an unknown constraint kind" 'task\.json: constraints\[0\]\.kind: ' "${ORACLE[@]}" --tasks-dir "$BAD"
bad_task id '.task_id = "polyglot/other"'
assert_rejected "task.json whose task_id is not its directory" 'task\.json: task_id: ' "${ORACLE[@]}" --tasks-dir "$BAD"
bad_task missing -
assert_rejected "a task directory without task.json" 'task\.json' "${ORACLE[@]}" --tasks-dir "$BAD"
assert_rejected "an unknown task" 'polyglot/no-such-task' --tui oracle --model cab/none --task polyglot/no-such-task --host-rootfs

# --- a missing image, an unknown TUI, bad options ------------------------------------------
assert_rejected "a missing image" 'no-such/image:1' --tui oracle --model cab/none --task polyglot/shell-word-count \
  --image no-such/image:1
assert_rejected "an unknown TUI" 'no-such-tui' --tui no-such-tui --model cab/none --task polyglot/shell-word-count --host-rootfs
assert_rejected "a model id with '..'" 'model' --tui oracle --model ../escape --task polyglot/shell-word-count --host-rootfs
assert_rejected "--record with --replay" 'record.*replay' --tui cab-agent --model cab/none --task polyglot/shell-word-count \
  --host-rootfs --record "$T/a.jsonl" --replay "$T/b.jsonl"
assert_rejected "cab-agent without an endpoint" 'endpoint' --tui cab-agent --model cab/none --task polyglot/shell-word-count --host-rootfs

# --- setup problems found before the agent starts: exit 125, no cell ------------------------
# Generated adapters whose command is not where the agent runs (the host's /
# here): by name in the adapter's PATH, by absolute path, and through a
# symlink that points nowhere.  They would have been scored agent_error.
export CAB_ADAPTERS_DIR=$T/adapters
mkdir -p "$CAB_ADAPTERS_DIR"
ghost() { jq -n --arg t "$1" --argjson a "$2" '{schema: "cab.adapter/v1", tui: $t, wire: "none", argv: $a,
  env: {PATH: "/opt/cab-no-such-dir/bin:/usr/bin:/bin"}}' >"$CAB_ADAPTERS_DIR/$1.json"; }
ghost ghost-name '["cab-no-such-agent", "-p", "{prompt}"]'
ghost ghost-abs '["/opt/cab-no-such-dir/bin/agent"]'
ghost ghost-dir '["/usr"]'
assert_rejected "an agent command missing from the adapter's PATH" \
  "--tui ghost-name: the agent's command 'cab-no-such-agent' is not in the host's / \(--host-rootfs\) \(PATH=/opt/cab-no-such-dir/bin:/usr/bin:/bin\)" \
  --tui ghost-name --model cab/none --task polyglot/shell-word-count --host-rootfs
assert_rejected "an agent command missing at its absolute path" "the agent's command '/opt/cab-no-such-dir/bin/agent' is not in" \
  --tui ghost-abs --model cab/none --task polyglot/shell-word-count --host-rootfs
assert_rejected "an agent command that is a directory" "the agent's command '/usr' is not in" \
  --tui ghost-dir --model cab/none --task polyglot/shell-word-count --host-rootfs
unset CAB_ADAPTERS_DIR

# --- an --out too long for the cell's files ---------------------------------------------------
# long_out LEN: a directory path of exactly LEN bytes below $T (components of
# at most 200 bytes).  The cell directory adds "/s/oracle/cab/none/polyglot/
# shell-word-count" (43 bytes), its staging sibling about 60, an artifact's
# temporary file about 30 more.  At 4020 the staging directory still fits
# but cell.json's temporary file does not; at 4050 the cell directory fits
# but its staging sibling does not.  Either way: refused before anything is
# created or run, with one line saying --out is too long, never a cut path.
long_out() {
  local p=$T/long-$1
  while [ ${#p} -lt "$1" ]; do
    local n=$(($1 - ${#p} - 1))
    [ "$n" -gt 200 ] && n=200
    p=$p/$(printf '%*s' "$n" '' | tr ' ' d)
  done
  mkdir -p "$p"
  LONG=$p
}
for len in 4020 4050; do
  long_out $len
  run_cab "$T/long-$len.out" run-cell --out "$LONG" --sweep-id s "${ORACLE[@]}"
  assert_rc 125 "--out of $len bytes: exit 125"
  assert_eq "$(wc -l <"$T/long-$len.out.err")" 1 "--out of $len bytes: exactly one line on stderr"
  assert_match "$(cat "$T/long-$len.out.err")" '^cab: cell s/oracle/cab/none/polyglot/shell-word-count: --out /.*\.\.\.: too long for the cell.s files .*File name too long$' \
    "--out of $len bytes: stderr says --out is too long"
  assert_eq "$(find "$LONG" -mindepth 1 | wc -l)" 0 "--out of $len bytes: nothing created below --out"
done

# --replay: a cassette that is not there, or that was recorded for another
# cell (its answers would be scored as this cell's), is refused up front.
assert_rejected "a missing --replay cassette" "--replay: open cassette $T/no-such.jsonl" \
  --tui cab-agent --model scripted/cell-solve --task polyglot/shell-word-count --host-rootfs --replay "$T/no-such.jsonl"
start_model_server_file solve "$TESTS_DIR/model/cell-solve.json"
run_cab "$T/rec" run-cell --tui cab-agent --model scripted/cell-solve --task polyglot/shell-word-count --host-rootfs \
  --endpoint "$MS_URL" --record "$T/solve.cassette" --out "$T/rec-out"
assert_rc 0 "a recorded cell runs"
assert_json 'select(.cassette) | [.cassette, .recorded_for.tui, .recorded_for.model, .recorded_for.task_id]' \
  '["cab.cassette/v1","cab-agent","scripted/cell-solve","polyglot/shell-word-count"]' <(head -n1 "$T/solve.cassette") \
  "the cassette's first line says which cell it was recorded for"
assert_rejected "a cassette of another model" '--replay .*solve.cassette: recorded for --model scripted/cell-solve, not --model scripted/other' \
  --tui cab-agent --model scripted/other --task polyglot/shell-word-count --host-rootfs --replay "$T/solve.cassette"
assert_rejected "a cassette of another task" 'recorded for --task polyglot/shell-word-count, not --task polyglot/python-reverse-string' \
  --tui cab-agent --model scripted/cell-solve --task polyglot/python-reverse-string --host-rootfs --replay "$T/solve.cassette"
run_cab "$T/rep" run-cell --tui cab-agent --model scripted/cell-solve --task polyglot/shell-word-count --host-rootfs \
  --replay "$T/solve.cassette" --sweep-id rep --out "$T/rep-out"
assert_rc 0 "the cassette replays for the cell it was recorded for"
assert_json .outcome pass "$T/rep-out/rep/cab-agent/scripted/cell-solve/polyglot/shell-word-count/cell.json" \
  "  ...and the replayed cell passes"

# --- a killed runner --------------------------------------------------------------------------
# The model id carries a marker: it is on the agent's command line, so a
# leftover agent shows up on the host.
M=$(marker agent)
at_exit "kill_marker $M"
MODEL=scripted/$M
OUT=$T/killed
CELL=$OUT/s/cab-agent/$MODEL/polyglot/shell-word-count
AGENT=(run-cell --tui cab-agent --model "$MODEL" --task polyglot/shell-word-count --host-rootfs
  --sweep-id s --out "$OUT")

# kill_mid_agent LABEL: start the cell against a fresh scripted endpoint
# (one answered call, then a hang), wait until the agent's first model call
# was answered, SIGKILL cab.
hangs=0
kill_mid_agent() {
  hangs=$((hangs + 1))
  start_model_server_file "hang-$hangs" "$TESTS_DIR/model/cell-hang.json"
  say "+ cab ${AGENT[*]} --endpoint $MS_URL &   (then SIGKILL)"
  "$CAB" "${AGENT[@]}" --endpoint "$MS_URL" >"$T/kill.out" 2>"$T/kill.err" </dev/null &
  local pid=$! staged=""
  # shellcheck disable=SC2317 # called by poll_while_alive
  call_answered() {
    staged=$(find "$OUT" -path '*/.staging-*/model_calls.jsonl' -size +0 2>/dev/null | head -n1)
    [ -n "$staged" ]
  }
  poll_while_alive "$pid" 300 call_answered
  if [ -n "$staged" ]; then
    pass "$1: the agent is mid-run (a model call answered, the next one hangs) after $((POLLED * 50)) ms"
  else
    fail "$1: the agent never got a model answer (stderr: $(head -c 300 "$T/kill.err" | tr '\n' '|'))"
  fi
  sleep 0.3
  if kill -0 "$pid" 2>/dev/null; then pass "$1: cab run-cell is still running"; else fail "$1: cab run-cell ended before the kill"; fi
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  assert_eq "$?" 137 "$1: cab run-cell died of SIGKILL"
  sleep 0.5
  assert_eq "$(pids_with_marker "$M" | tr '\n' ' ')" "" "$1: no agent process is left on the host"
}

# 1. No previous cell: the cell path must stay absent.
kill_mid_agent "first run"
if [ -e "$CELL" ]; then
  fail "first run: the cell path exists after the kill ($(find "$CELL" -mindepth 1 -maxdepth 1 -printf '%f ' 2>/dev/null))"
else
  pass "first run: the cell path does not exist after the kill"
fi
assert_eq "$(find "$OUT" -name cell.json | wc -l)" 0 "first run: no cell.json anywhere under --out"
say "# leftovers: $(find "$OUT" -mindepth 1 -maxdepth 6 -name '.staging-*' -printf '%P ' 2>/dev/null)"

# 2. A complete previous cell at the same path (the endpoint answers every
# call with a 500, so it is quick: infra_error) must survive a killed rerun
# untouched.
start_model_server down '{"model": "scripted/down", "after_last": "repeat", "turns": [{"status": 500, "error": "down"}]}'
run_cab "$T/prev" "${AGENT[@]}" --endpoint "$MS_URL"
assert_rc 3 "a previous cell at the same path is written (infra_error: exit 3)"
[ -f "$CELL/cell.json" ] || bail "no previous cell.json at $CELL"
(cd "$CELL" && find . -type f -exec sha256sum {} + | sort -k2) >"$T/prev.sums"
kill_mid_agent "rerun over a complete cell"
(cd "$CELL" 2>/dev/null && find . -type f -exec sha256sum {} + | sort -k2) >"$T/after.sums"
if cmp -s "$T/prev.sums" "$T/after.sums"; then
  pass "rerun: the previous cell is still in place, every file byte for byte"
else
  fail "rerun: the cell path changed: $(diff "$T/prev.sums" "$T/after.sums" | head -8 | tr '\n' '|')"
fi
assert_json '.outcome' infra_error "$CELL/cell.json" "rerun: the cell path holds the previous, complete cell.json"
assert_eq "$(find "$OUT" -name cell.json | wc -l)" 1 "rerun: no other cell.json under --out"
run_cab "$T/score" score "$CELL"
assert_rc 0 "rerun: cab score reproduces the surviving cell"

finish
