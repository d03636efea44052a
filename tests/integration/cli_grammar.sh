#!/bin/bash
# One grammar for every command (runner/cli/cli_args.c):
#   * every command 'cab help' lists takes --help: exit 0, usage on stdout;
#   * an unknown option is exit 125 and one line on stderr, naming the
#     nearest option ("did you mean '--json'? see 'cab images --help'")
#     when one is close; an
#     unknown command or subcommand likewise;
#   * the exit codes: 'cab export' alone prints its usage on stderr, 125;
#     'cab score' exits 1 when its scores differ from cell.json's, under
#     another --profile too; 'tasks validate' on an unknown task id exits
#     125 with one line before any cell runs; 'cab rmi' that fails to untag
#     one reference collects nothing (the blobs stay until 'cab gc');
#   * counts agree with their number, 'tasks list' has a header and aligned
#     columns.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=../registry/registry.sh
. "$TESTS_DIR/registry/registry.sh"
reg_setup
SRC_DIR=$(cd "$TESTS_DIR/.." && pwd)
unset CAB_TASKS_DIR

# one_line RC WHAT: the last run_cab exited RC with exactly one line on stderr.
one_line() {
  assert_rc "$1" "$2: exit $1"
  assert_eq "$(wc -l <"$LAST_OUT.err" | tr -d ' ')" 1 "$2: one line on stderr ($(head -c 200 "$LAST_OUT.err" | tr '\n' '|'))"
}

# --- --help and unknown options, every command ----------------------------------------
cmds=$(cab_commands)
[ -n "$cmds" ] || bail "cab help lists no commands (its format changed?)"
for c in $cmds; do
  run_cab "$T/h" "$c" --help
  assert_rc 0 "cab $c --help exits 0"
  assert_match "$(head -n1 "$T/h")" "^usage: cab $c" "cab $c --help prints its usage on stdout"
  run_cab "$T/u" "$c" --no-such-flag
  one_line 125 "cab $c --no-such-flag"
  assert_match "$(cat "$T/u.err")" "^cab: $c( [a-z]+)?: unknown option '--no-such-flag'" \
    "cab $c --no-such-flag names the option"
done

# did-you-mean: CMD... BAD NEAR
near() {
  local want=$1
  shift
  run_cab "$T/n" "$@"
  one_line 125 "cab $*"
  assert_match "$(cat "$T/n.err")" "did you mean '$want'\?( see 'cab [a-z -]+ --help')?$" "cab $*: did you mean '$want'?"
}
near --json images --jsn
near --json doctor --jsn
near --task run-cell --tui nop --tsk x
near --out merge --ot
near --host-rootfs exec --hst-rootfs -- /bin/true
near --sample tasks validate --sampel 2
near --model adapters render nop --modl m
near --format export --frmat csv
near pull pul
near list tasks lst
near render adapters rendr
run_cab "$T/n" images --json=yes
one_line 125 "images --json=yes"
assert_match "$(cat "$T/n.err")" "'--json' takes no value" "  ...a flag given a value says so"
run_cab "$T/n" gc --wait
one_line 125 "gc --wait"
assert_match "$(cat "$T/n.err")" "'--wait' needs a value" "  ...an option without its value says so"
run_cab "$T/n" tasks list --all
one_line 125 "tasks list --all: unknown options are errors"
run_cab "$T/n" adapters list --all
one_line 125 "adapters list --all: unknown options are errors"
run_cab "$T/n" doctor extra
one_line 125 "doctor with an operand"

# --- exit codes -----------------------------------------------------------------------
run_cab "$T/e" export
assert_rc 125 "cab export alone: 125"
assert_match "$(head -n1 "$T/e.err")" "^usage: cab export" "  ...its usage on stderr"
assert_eq "$(wc -c <"$T/e")" 0 "  ...nothing on stdout"

SEED=$SRC_DIR/tests/fixtures/scorers/seed-cell
run_cab "$T/s" score "$SEED"
assert_rc 0 "cab score on the seed cell: the scores match, 0"
run_cab "$T/s" score "$SEED" --profile cab-v1
assert_rc 1 "cab score --profile cab-v1 (not the recorded profile): the scores differ, 1"
assert_match "$(cat "$T/s.err")" "differ from cell.json in: composite" "  ...and says where"

run_cab "$T/v" tasks validate polyglot/no-such-task --host-rootfs
one_line 125 "tasks validate on an unknown task id"
assert_match "$(cat "$T/v.err")" "polyglot/no-such-task" "  ...naming the id"
assert_eq "$(wc -c <"$T/v")" 0 "  ...before any cell ran (nothing on stdout)"

# --- rmi that fails collects nothing --------------------------------------------------
reg_image "$T/layout"
run_cab "$T/i" import --name cab/grammar:v1 "$T/layout"
assert_rc 0 "import an image to remove"
MDIGEST=$(jq -r '.manifests[0].digest' "$T/layout/index.json")
assert_eq "$(cat "$T/i")" "cab/grammar@$MDIGEST" "import names the image as 'cab images' does"
run_cab "$T/im" images
assert_eq "$(awk 'NR == 2 { print $1 ":" $2 }' "$T/im")" "cab/grammar:v1" "cab images: the same repository, and its tag"
blobs=$(store_blob_count)
run_cab "$T/r" rmi cab/grammar:v1 cab/no-such:ref
one_line 125 "rmi with one unknown reference"
assert_no_match "$(cat "$T/r")" "^gc:" "  ...does not collect after the failure"
assert_eq "$(store_blob_count)" "$blobs" "  ...the blobs stay"
run_cab "$T/g" gc
assert_rc 0 "cab gc then collects them"
assert_cmp "$(store_blob_count)" -lt "$blobs" "  ...fewer blobs"

# --- counts and columns ---------------------------------------------------------------
run_cab "$T/t" tasks list
assert_rc 0 "tasks list"
assert_match "$(head -n1 "$T/t")" '^TASK +LANGUAGE +MAX_TURNS +TIMEOUT +NOTE$' "tasks list has a header"
# Aligned: LANGUAGE starts at the same column on every line.
col=$(awk '{ match($0, /^[^ ]+ +/); print RLENGTH }' "$T/t" | sort -u | wc -l)
assert_eq "$col" 1 "tasks list: the second column is aligned on every line"
nl=$(wc -l <"$T/t")
assert_eq "$((nl - 1))" "$(find "$SRC_DIR/tasks" -name task.json | wc -l)" "tasks list: one line a task after the header"

mkdir -p "$T/one/c"
cp "$SRC_DIR/tests/fixtures/record/cell.json" "$T/one/c/"
run_cab "$T/x" index "$T/one"
assert_rc 0 "index a tree of one cell"
assert_eq "$(head -n1 "$T/x")" "1 cell, 0 attempts, 0 skipped" "one cell is '1 cell'"

finish
