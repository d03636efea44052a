#!/bin/bash
# An interrupted cab run-cell records nothing (issue 10, finding 11).
#
# A generated agent (CAB_ADAPTERS_DIR) that touches a marker in its workdir
# and then sleeps, and a generated task whose verifier touches a marker and
# then sleeps.  For SIGINT and SIGTERM, in the agent phase and in the verify
# phase: start the cell, wait for the phase's marker (never for a time),
# send the signal, and check that cab exits 128+N with one line on stderr (besides the phase lines, the last naming the phase),
# that no cell.json and no .staging-* is under --out, that no cab-cell-*
# scratch is left in TMPDIR, and that no sandboxed process is left.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

setup_cell_test

M=$(marker sleeper)
at_exit "kill_marker $M"

# The agent: marks that it runs, then waits to be stopped.
test_adapter sleeper "touch {workdir}/.agent-running; sleep 600; : $M" '.builtin = "nop"'
cp "$SRC_DIR/runner/adapters/nop.json" "$CAB_ADAPTERS_DIR/"

# The task: shell-word-count, with a verifier that marks and waits.
TASKS=$T/tasks
mkdir -p "$TASKS/polyglot"
cp -a "$SRC_DIR/tasks/polyglot/shell-word-count" "$TASKS/polyglot/"
jq --arg m "$M" '.scorer.command = ("touch .verify-running; sleep 600; : " + $m) | .scorer.timeout_s = 600' \
  "$SRC_DIR/tasks/polyglot/shell-word-count/task.json" >"$TASKS/polyglot/shell-word-count/task.json"

# phase_seen MARKER-GLOB: a cell's scratch holds the marker (SEEN: its path).
phase_seen() {
  # shellcheck disable=SC2086 # the glob is meant to expand
  seen=$(ls -d $TMPDIR/cab-cell-*/$1 2>/dev/null | head -n1)
  [ -n "$seen" ]
}

# interrupt PHASE SIGNAL TUI MARKER-GLOB
n=0
interrupt() {
  local phase=$1 sig=$2 tui=$3 glob=$4 out pid seen="" rc code
  n=$((n + 1))
  out=$T/out-$n
  code=$((128 + $(kill -l "$sig")))
  say "+ cab run-cell --tui $tui ... &   (SIG$sig in the $phase phase)"
  # Job control: a background job of a script otherwise starts with SIGINT
  # ignored, and a ^C must reach cab as it does from a terminal.
  set -m
  "$CAB" run-cell --tui "$tui" --model cab/none --task polyglot/shell-word-count --host-rootfs \
    --tasks-dir "$TASKS" --sweep-id s --out "$out" >"$T/int-$n.out" 2>"$T/int-$n.err" </dev/null &
  pid=$!
  set +m
  poll_while_alive "$pid" 1200 phase_seen "$glob"
  if [ -z "$seen" ]; then
    fail "$phase/SIG$sig: the $phase phase never started (stderr: $(head -c 300 "$T/int-$n.err" | tr '\n' '|'))"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return
  fi
  pass "$phase/SIG$sig: the $phase phase is running"
  kill -"$sig" "$pid"
  # A cab that does not stop fails the test instead of hanging it.
  (sleep 60 && kill -KILL "$pid") 2>/dev/null &
  local guard=$!
  wait "$pid"
  rc=$?
  kill "$guard" 2>/dev/null
  wait "$guard" 2>/dev/null
  assert_eq "$rc" "$code" "$phase/SIG$sig: run-cell exits 128+N"
  # One line besides the phase lines (run_cell_ux.sh checks those).
  assert_eq "$(grep -vc '^cab: run-cell [^ ]*: [a-z]* [0-9]' "$T/int-$n.err")" 1 "$phase/SIG$sig: one line on stderr"
  assert_match "$(grep '^cab: run-cell ' "$T/int-$n.err" | tail -n1)" ": $phase " "$phase/SIG$sig: the last phase line names the $phase phase"
  assert_match "$(cat "$T/int-$n.err")" "^cab: .*interrupted by SIG$sig.*nothing recorded" \
    "$phase/SIG$sig: stderr says the cell was interrupted"
  assert_eq "$(find "$out" -name cell.json 2>/dev/null | wc -l)" 0 "$phase/SIG$sig: no cell.json under --out"
  assert_eq "$(find "$out" -name '.staging-*' 2>/dev/null | wc -l)" 0 "$phase/SIG$sig: no staging directory left"
  assert_eq "$(find "$TMPDIR" -maxdepth 1 -name 'cab-cell-*' | wc -l)" 0 "$phase/SIG$sig: no cab-cell-* scratch left"
  assert_eq "$(pids_with_marker "$M" | tr '\n' ' ')" "" "$phase/SIG$sig: no sandboxed process left"
}

interrupt agent INT sleeper 'work/.agent-running'
interrupt agent TERM sleeper 'work/.agent-running'
interrupt verify INT nop 'verify/.verify-running'
interrupt verify TERM nop 'verify/.verify-running'

# --- a sweep's run-cell child, interrupted ---------------------------------------------------
# SIGTERM to the child alone (not to the sweep): the child cleans up and
# exits 143 without a record; the sweep counts the cell as not done (a
# runner_error, which --resume runs again), exits 125 saying so, and no
# scratch is left behind.
O=$T/sweep-$M
cat >"$T/plan.json" <<EOF
{
  "sweep_id": "intr",
  "tuis": [{"tui": "sleeper"}],
  "models": [{"model": "cab/none"}],
  "tasks": ["polyglot/shell-word-count"],
  "tasks_dir": "$TASKS",
  "host_rootfs": true,
  "memory": "256M",
  "ramp_up_s": 0,
  "retries": {"infra": 0}
}
EOF
"$CAB" sweep "$T/plan.json" --out "$O" >"$T/sweep.out" 2>"$T/sweep.err" </dev/null &
spid=$!
child="" seen=""
child_in_agent() {
  child=$(pgrep -f -- "run-cell.*$O" | head -n1)
  # shellcheck disable=SC2086
  [ -n "$child" ] && seen=$(ls -d $TMPDIR/cab-cell-$child-*/work/.agent-running 2>/dev/null)
  [ -n "$seen" ]
}
poll_while_alive "$spid" 1200 child_in_agent
if [ -n "$seen" ]; then
  pass "sweep: its run-cell child $child is in the agent phase"
  kill -TERM "$child"
else
  fail "sweep: its run-cell child never reached the agent phase ($(tail -c 300 "$T/sweep.err" | tr '\n' '|'))"
fi
(sleep 60 && kill -KILL "$spid") 2>/dev/null &
guard=$!
wait "$spid"
rc=$?
kill "$guard" 2>/dev/null
assert_eq "$rc" 125 "sweep: exits 125 (a cell has no record)"
J=$O/intr/.sweep/journal.jsonl
assert_eq "$(jq -c 'select(.event == "done") | [.outcome, .exit]' "$J" 2>/dev/null | tr -d '\n')" '["runner_error",143]' \
  "sweep: the journal has the interrupted child as runner_error, exit 143 (not done: --resume runs it again)"
assert_eq "$(find "$O" -name cell.json | wc -l)" 0 "sweep: no cell.json"
assert_eq "$(find "$TMPDIR" -maxdepth 1 -name 'cab-cell-*' | wc -l)" 0 "sweep: the child left no scratch"
assert_eq "$(pids_with_marker "$M" | tr '\n' ' ')" "" "sweep: no sandboxed process left"

finish
