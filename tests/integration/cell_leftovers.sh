#!/bin/bash
# What killed runs leave is removed by the next run, never a live run's
# (issue 10, finding 8).
#
# A generated agent (CAB_ADAPTERS_DIR) that sleeps when its task's workdir
# holds .block-agent, and generated tasks in one family: block-agent,
# block-verify (its verifier sleeps) and quick.  SIGKILL of run-cell mid-agent
# and mid-verify leaves a cab-cell-<pid>-* scratch in TMPDIR and a
# .staging-*-<pid>-* beside the cell; with a third run alive (blocked in its
# agent), a quick cell in the same family removes both killed runs' scratch
# and staging and leaves the live run's alone (it then stops cleanly on
# SIGINT); a previous cell a killed publish set aside is put back; one
# more killed run is removed by cab gc, which says what it freed.  Every wait is for a marker file, never for a time.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

setup_cell_test

M=$(marker sleeper)
at_exit "kill_marker $M"

test_adapter sleeper "if [ -e .block-agent ]; then touch .agent-running; sleep 600; : $M; fi"

TASKS=$T/tasks
SWC=$SRC_DIR/tasks/polyglot/shell-word-count
# gen_task NAME JQ: a copy of shell-word-count named polyglot/NAME, task.json through JQ.
gen_task() {
  local d=$TASKS/polyglot/$1
  mkdir -p "$TASKS/polyglot"
  cp -a "$SWC" "$d"
  jq --arg id "polyglot/$1" --arg m "$M" ".task_id = \$id | $2" "$SWC/task.json" >"$d/task.json"
}
gen_task block-agent .
touch "$TASKS/polyglot/block-agent/workdir/.block-agent"
gen_task block-verify '.scorer.command = ("touch .verify-running; sleep 600; : " + $m) | .scorer.timeout_s = 600'
gen_task quick .

OUT=$T/out
PARENT=$OUT/s/sleeper/cab/none/polyglot
cell() { printf '%s\n' run-cell --tui sleeper --model cab/none --task "polyglot/$1" --host-rootfs \
  --tasks-dir "$TASKS" --sweep-id s --out "$OUT"; }

# in_scratch PID MARKER: run-cell PID's own scratch (named after its pid)
# holds MARKER.
in_scratch() {
  # shellcheck disable=SC2086 # the glob is meant to expand
  [ -n "$(ls -d $TMPDIR/cab-cell-$1-*/$2 2>/dev/null)" ]
}

# start TASK MARKER: run-cell in the background ($PID), wait until its own
# scratch holds MARKER.
start() {
  mapfile -t args < <(cell "$1")
  set -m # job control: a background job must not start with SIGINT ignored
  "$CAB" "${args[@]}" >"$T/bg.out" 2>"$T/bg.err" </dev/null &
  PID=$!
  set +m
  poll_while_alive "$PID" 1200 in_scratch "$PID" "$2"
  if in_scratch "$PID" "$2"; then
    pass "$1: run-cell $PID reached $2"
  else
    bail "$1: run-cell never reached $2 (stderr: $(head -c 300 "$T/bg.err" | tr '\n' '|'))"
  fi
}

scratch_of() { find "$TMPDIR" -maxdepth 1 -name "cab-cell-$1-*" | wc -l; }
staging_of() { find "$PARENT" -maxdepth 1 -name ".staging-*-$1-*" 2>/dev/null | wc -l; }

kill9() {
  kill -KILL "$PID"
  wait "$PID" 2>/dev/null
  assert_eq "$(scratch_of "$PID")" 1 "$1: the SIGKILLed run left its scratch in TMPDIR"
  assert_eq "$(staging_of "$PID")" 1 "$1: the SIGKILLed run left its staging directory"
}

start block-agent work/.agent-running
K1=$PID
kill9 "mid-agent"
start block-verify verify/.verify-running
K2=$PID
kill9 "mid-verify"

# A live run, blocked in its agent, beside the leftovers.
start block-agent work/.agent-running
LIVE=$PID
mapfile -t quick < <(cell quick)
run_cab "$T/quick" "${quick[@]}"
assert_rc 0 "a quick cell in the same family runs"
assert_json .outcome fail "$PARENT/quick/cell.json" "the quick cell is recorded"
for k in "$K1" "$K2"; do
  assert_eq "$(scratch_of "$k")" 0 "the next run removed killed run $k's scratch"
  assert_eq "$(staging_of "$k")" 0 "the next run removed killed run $k's staging"
done
assert_eq "$(scratch_of "$LIVE")" 1 "the live run's scratch is untouched"
assert_eq "$(staging_of "$LIVE")" 1 "the live run's staging is untouched"
# shellcheck disable=SC2086
assert_eq "$(ls -d $TMPDIR/cab-cell-$LIVE-*/work/.agent-running 2>/dev/null | wc -l)" 1 \
  "the live run's workdir is intact"
if kill -0 "$LIVE" 2>/dev/null; then pass "the live run still runs"; else fail "the live run died"; fi
kill -INT "$LIVE"
wait "$LIVE"
assert_eq "$?" 130 "the live run, interrupted, exits 130"
assert_eq "$(scratch_of "$LIVE")$(staging_of "$LIVE")" 00 "the interrupted run removed its own scratch and staging"

# A run killed inside its publish, between the two renames, leaves the
# previous cell aside as LEAF.old-PID and none at LEAF (made here by hand,
# with a pid that cannot exist): the next run of that cell puts it back
# before anything else, so a reader sees the previous cell, not none.
sums() { (cd "$1" 2>/dev/null && find . -type f -exec sha256sum {} + | sort -k2); }
sums "$PARENT/quick" >"$T/quick.sums"
mv "$PARENT/quick" "$PARENT/quick.old-4194305"
touch "$TASKS/polyglot/quick/workdir/.block-agent" # the rerun now blocks in its agent
start quick work/.agent-running
if [ "$(sums "$PARENT/quick")" = "$(cat "$T/quick.sums")" ]; then
  pass "the previous cell set aside by a killed publish is back in place, byte for byte"
else
  fail "the previous cell was not restored: $(ls -a "$PARENT" | tr '\n' ' ')"
fi
assert_eq "$(find "$PARENT" -maxdepth 1 -name 'quick.old-*' | wc -l)" 0 "no aside is left"
kill -INT "$PID"
wait "$PID"
assert_eq "$?" 130 "the rerun, interrupted, exits 130"
assert_eq "$(sums "$PARENT/quick")" "$(cat "$T/quick.sums")" "the interrupted rerun left the previous cell as it was"

# cab gc removes a dead run's scratch too, and says how much it freed.
start block-agent work/.agent-running
K3=$PID
kill9 "before gc"
run_cab "$T/gc" gc
assert_rc 0 "cab gc runs"
assert_match "$(cat "$T/gc")" '^gc: freed [0-9.]+ ?[kKMG]?i?B.*, 1 scratch directory of dead runs' \
  "cab gc reports the bytes and the dead run's scratch it freed"
assert_eq "$(scratch_of "$K3")" 0 "cab gc removed the killed run's scratch"
assert_eq "$(pids_with_marker "$M" | tr '\n' ' ')" "" "no sandboxed process is left"

finish
