#!/bin/bash
# A cell's disk budget (task.json workdir_budget, default 1 GiB and 100000
# files): a hostile agent or verifier cannot make the runner hash, copy or
# keep more than that, and every output it controls is capped.
#   * an agent that makes a 20 GiB sparse file (one syscall) and waits: the
#     watchdog stops it; the cell is an agent_error "workdir over budget:
#     20.0 GiB > 1.0 GiB", never snapshotted after or verified;
#   * the same file made just before the agent exits: caught by the measure
#     before the snapshot, same outcome;
#   * the same file in a directory made unreadable (chmod 000), or in the
#     workdir itself made unreadable: still seen;
#   * 10000 files against a task budget of 1000: agent_error, over budget;
#   * an agent that prints 12 MiB and writes a 30 MiB text file: agent.log,
#     terminal.cast and diff.patch keep their head and tail with a marker;
#   * a verifier that prints 3 GiB to stderr: verify.log keeps the first and
#     last MiB with a marker line saying how much was cut;
#   * a verifier that makes a 20 GiB sparse file: stopped, the cell fails;
#   * after each cell, nothing large is left in $TMPDIR or the cell.
# Fixtures are generated here: a copy of polyglot/shell-word-count with
# task.json rewritten, and adapters that run one shell line.  Every generator
# is bounded by itself (truncate is instant; head -c 3G ends).
# shellcheck disable=SC2016 # shell lines for the sandbox are quoted on purpose
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

setup_cell_test
CAB_TEST_TIMEOUT=120
SWC=$SRC_DIR/tasks/polyglot/shell-word-count

# task NAME JQ: a tasks dir holding shell-word-count with task.json through JQ.
task() {
  local d=$T/tasks-$1
  mkdir -p "$d/polyglot"
  cp -a "$SWC" "$d/polyglot/"
  jq "$2" "$SWC/task.json" >"$d/polyglot/shell-word-count/task.json"
  TASKS=$d
}

# adapter TUI SHELL-LINE: a TUI that runs SHELL-LINE in the workdir.
adapter() { test_adapter "$1" "$2" '.description = "test: a hostile agent"'; }
export CAB_ADAPTERS_DIR=$T/adapters
mkdir -p "$CAB_ADAPTERS_DIR"
cp "$SRC_DIR"/runner/adapters/nop.json "$CAB_ADAPTERS_DIR/"

# cell NAME TUI: run TUI on $TASKS; CJ is its cell.json, CD its directory.
cell() {
  local name=$1 tui=$2
  run_cab "$T/$name.run" run-cell --tui "$tui" --model none/x --task polyglot/shell-word-count \
    --host-rootfs --tasks-dir "$TASKS" --sweep-id s --out "$T/out-$name"
  CD=$T/out-$name/s/$tui/none/x/polyglot/shell-word-count
  CJ=$CD/cell.json
  # 0 for a measurement, 3 for a cell recorded as infra_error.
  local want=0
  [ "$(jq -r .outcome "$CJ" 2>/dev/null)" = infra_error ] && want=3
  assert_rc "$want" "$name: the cell is recorded (cab exits $want)"
  assert_json_valid "$CJ" "$name: cell.json is written"
}

# small NAME: neither $TMPDIR nor the cell holds more than 8 MiB on disk.
small() {
  local tmp out
  tmp=$(du -sk "$TMPDIR" | cut -f1)
  out=$(du -sk "$CD" | cut -f1)
  assert_cmp "$tmp" -lt 8192 "$1: \$TMPDIR holds little after the cell (${tmp} KiB)"
  assert_cmp "$out" -lt 8192 "$1: the cell directory is small (${out} KiB)"
}

# --- a 20 GiB sparse file, then the agent waits ---------------------------------
task default '.'
adapter sparse-wait 'truncate -s 20G big.sparse && exec sleep 1000'
cell sparse-wait sparse-wait
assert_json '.outcome' agent_error "$CJ" "sparse-wait: outcome agent_error"
assert_json '.outcome_reason' "workdir over budget: 20.0 GiB > 1.0 GiB" "$CJ" \
  "sparse-wait: the reason names the workdir, its size and the budget"
assert_jq '[.spans[] | select(.kind == "adapter_run") | .attributes.over_budget] | .[0] | test("over budget")' \
  "$CJ" "sparse-wait: the agent was stopped while running (the watchdog), not at its timeout"
assert_json '[.spans[] | select(.kind == "adapter_run") | .attributes.timed_out] | .[0]' null "$CJ" \
  "sparse-wait: the agent did not run into its timeout"
assert_json '.environment.limits.disk' "watchdog (1.0 GiB, 100000 files; poll 200 ms)" "$CJ" \
  "sparse-wait: cell.json records how the disk budget was enforced"
assert_json '[.spans[] | select(.kind == "verify")] | length' 0 "$CJ" "sparse-wait: nothing was verified"
if is_root; then
  assert_match "$(jq -r .environment.limits.memory_enforced "$CJ")" '^cgroup v[12] ' \
    "sparse-wait: cell.json says a cgroup held memory"
else
  assert_match "$(jq -r .environment.limits.memory_enforced "$CJ")" \
    '^watchdog \(anon\+shmem\+memfd\+tmpfs, poll 10 ms\)( and RLIMIT_DATA)?$' \
    "sparse-wait: cell.json says the watchdog held memory, and what it counts"
fi
small sparse-wait

# --- the same file, made as the agent exits ---------------------------------------
adapter sparse-exit 'truncate -s 20G big.sparse'
cell sparse-exit sparse-exit
assert_json '.outcome' agent_error "$CJ" "sparse-exit: outcome agent_error"
assert_json '.outcome_reason' "workdir over budget: 20.0 GiB > 1.0 GiB" "$CJ" "sparse-exit: the reason"
assert_json '[.spans[] | select(.kind == "verify")] | length' 0 "$CJ" "sparse-exit: nothing was verified"
assert_json '.scorers.blast_radius.added | length' 0 "$CJ" "sparse-exit: no snapshot after the agent, no change recorded"
small sparse-exit

# --- the sparse file inside a directory made unreadable (chmod 000) ------------------
adapter hidden 'mkdir hide && truncate -s 20G hide/big.sparse && chmod 000 hide'
cell hidden hidden
assert_json '.outcome' agent_error "$CJ" "hidden: outcome agent_error"
assert_json '.outcome_reason' "workdir over budget: 20.0 GiB > 1.0 GiB" "$CJ" \
  "hidden: an unreadable directory does not hide what it holds"
small hidden

# --- the agent locks its own workdir (chmod 000) after filling it --------------------
adapter locked 'truncate -s 20G big.sparse && chmod 000 .'
cell locked locked
assert_json '.outcome' agent_error "$CJ" "locked: outcome agent_error"
assert_json '.outcome_reason' "workdir over budget: 20.0 GiB > 1.0 GiB" "$CJ" \
  "locked: a workdir made unreadable does not hide what it holds"
small locked

# --- 10000 files against a budget of 1000 ------------------------------------------
task inodes '.workdir_budget = {"inodes": 1000}'
adapter many 'mkdir many && cd many && i=0 && while [ $i -lt 10000 ]; do : >f$i; i=$((i + 1)); done; exec sleep 1000'
cell many many
assert_json '.outcome' agent_error "$CJ" "many: outcome agent_error"
assert_json '.outcome_reason' "workdir over budget: more than 1000 files and directories" "$CJ" "many: the reason"
assert_json '.environment.limits.disk' "watchdog (1.0 GiB, 1000 files; poll 200 ms)" "$CJ" \
  "many: the task's budget is the one enforced"
small many

# A task within its budget is untouched by it (the oracle passes).
cell oracle-within oracle
assert_json '.outcome' pass "$CJ" "oracle within a 1000-file budget: pass"

# --- an agent that prints 12 MiB to its terminal and writes a 30 MiB text file -------
task default '.'
adapter loud 'head -c 12M /dev/zero | tr "\\0" a; echo; echo THE-END; head -c 30M /dev/zero | tr "\\0" a | fold -w 100 >big.txt'
cell loud loud
for f in agent.log terminal.cast diff.patch; do
  say "# $f: $(stat -c %s "$CD/$f") bytes"
done
assert_cmp "$(stat -c %s "$CD/agent.log")" -lt $((3 * 1024 * 1024)) "loud: agent.log is capped"
assert_match "$(grep -a -o 'cab: agent.log: [0-9]* bytes ([0-9.]* MiB) cut here' "$CD/agent.log")" '^cab: agent.log: ' \
  "loud: agent.log has a marker line saying how much was cut"
assert_match "$(tail -c 200 "$CD/agent.log")" 'THE-END' "loud: agent.log keeps the end of the output"
assert_cmp "$(stat -c %s "$CD/terminal.cast")" -lt $((11 * 1024 * 1024)) "loud: terminal.cast is capped"
assert_match "$(grep -a -o 'cab: terminal output: [0-9]* bytes ([0-9.]* MiB) cut here' "$CD/terminal.cast")" \
  '^cab: terminal output: ' "loud: terminal.cast has a marker saying how much was cut"
assert_match "$(tail -c 300 "$CD/terminal.cast")" 'THE-END' "loud: terminal.cast keeps the end of the output"
assert_eq "$(jq -e -s 'length > 1' "$CD/terminal.cast" 2>&1)" true "loud: terminal.cast is still valid asciicast (JSON lines)"
assert_cmp "$(stat -c %s "$CD/diff.patch")" -lt $((17 * 1024 * 1024)) "loud: diff.patch is capped"
assert_match "$(grep -a -o 'cab: diff.patch: [0-9]* bytes ([0-9.]* MiB) cut here' "$CD/diff.patch")" '^cab: diff.patch: ' \
  "loud: diff.patch has a marker line"
assert_json '.scorers.blast_radius.added | index("big.txt") != null' true "$CJ" "loud: the change list still names big.txt"

# --- a verifier that prints 3 GiB to stderr ------------------------------------------
task spew '.scorer.command = "head -c 3G /dev/zero >&2; sh tests/run.sh"'
cell spew nop
assert_json '.outcome' fail "$CJ" "spew: the nop agent still fails verification"
size=$(stat -c %s "$CD/verify.log")
assert_cmp "$size" -lt $((3 * 1024 * 1024)) "spew: verify.log is capped (${size} bytes)"
assert_match "$(grep -a -o 'cab: verify stderr: [0-9]* bytes ([0-9.]* GiB) cut here' "$CD/verify.log")" \
  '^cab: verify stderr: 3219128320 bytes \(3\.0 GiB\) cut here$' "spew: a marker line says how much was cut"
assert_match "$(grep -a -c 'passed' "$CD/verify.log")" '^[1-9]' "spew: the verifier's stdout is kept"
small spew

# --- a verifier that makes a 20 GiB sparse file in its copy ------------------------------
task vsparse '.scorer.command = "truncate -s 20G big.sparse && exec sleep 1000"'
cell vsparse oracle
assert_json '.outcome' fail "$CJ" "vsparse: the cell fails"
assert_json '.outcome_reason' "the verifier was stopped: workdir over budget: 20.0 GiB > 1.0 GiB" "$CJ" \
  "vsparse: the reason says the verifier was stopped over budget"
small vsparse

# --- a task whose own workdir is over its budget: the task's fault ---------------------
task tiny '.workdir_budget = {"bytes": 4096}'
cell tiny oracle
assert_json '.outcome' infra_error "$CJ" "tiny: a task over its own budget is an infra_error"
assert_match "$(jq -r .outcome_reason "$CJ")" '^task: the pristine workdir over budget: .*raise workdir_budget' \
  "tiny: the reason blames the task and says what to do"

# --- bad budgets are one-line errors ----------------------------------------------
task badbudget '.workdir_budget = {"bytes": 10}'
run_cab "$T/bad" run-cell --tui nop --model none/x --task polyglot/shell-word-count --host-rootfs \
  --tasks-dir "$TASKS" --out "$T/out-bad"
assert_rc 125 "a 10-byte budget is refused"
assert_match "$(cat "$T/bad.err")" 'task\.json: workdir_budget\.bytes: must be' "the error names the field"

finish
