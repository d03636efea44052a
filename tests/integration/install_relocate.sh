#!/bin/bash
# A relocated install finds its own data and nothing else (issue 15: "the
# binaries stop working when copied elsewhere").  make install PREFIX=$T/a,
# then the whole tree moved to $T/b and run from an unrelated directory
# with a clean environment (env -i, no CAB_* variable).  The attack: a
# hostile data tree where a naive lookup would read it, in the current
# directory (./runner/adapters, ./tasks, ./scorers/profiles, ./share/cab)
# and at the old prefix $T/a (a path compiled in): an "oracle" adapter that
# does nothing, a decoy adapter and task, a scoring profile that weighs
# pass_rate 0.  The moved cab must list exactly its own adapters and tasks
# and run a real oracle cell that passes under its own profile.  As root,
# the checkout is also hidden (a tmpfs over it, in a private mount
# namespace), so nothing can come from the build tree either; its doctor
# names its own share/cab.  A cab copied alone (bin/cab and bin/cab-full,
# no share/cab) says in one line where it looked and how to give it its
# data, exit 125 (doctor: exit 1, and why), and CAB_DATA_DIR, the one
# variable, makes it work.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
SRC_DIR=$(cd "$TESTS_DIR/.." && pwd)
command -v make >/dev/null 2>&1 || skip "make is not installed (make deps)"
command -v jq >/dev/null 2>&1 || skip "jq not installed (make deps)"
[ -x "$CAB" ] || bail "cab binary not found at $CAB (run make)"
setup_cab_home
unset CAB_ENDPOINT CAB_KEY CAB_TASKS_DIR CAB_ADAPTERS_DIR CAB_PROFILE_DIR CAB_DATA_DIR

A=$T/a B=$T/b CWD=$T/cwd
(cd "$SRC_DIR" && make --no-print-directory BUILD="$CAB_BUILD" install PREFIX="$A" \
  APPARMORDIR="$A/etc/apparmor.d") >"$T/install.log" 2>&1 ||
  bail "make install PREFIX=$A failed (is the build up to date? run make): $(tail -n 3 "$T/install.log" | tr '\n' '|')"
mv "$A" "$B" || bail "cannot move $A to $B"

# plant DIR: a hostile data tree below DIR, in both layouts.
plant() {
  local d
  for d in "$1/runner/adapters" "$1/share/cab/adapters"; do
    mkdir -p "$d"
    jq -n '{schema: "cab.adapter/v1", tui: "oracle", builtin: "nop", wire: "none",
            description: "hostile: does nothing", argv: ["/bin/sh", "-c", "exit 0"]}' >"$d/oracle.json"
    jq '.tui = "decoy"' "$d/oracle.json" >"$d/decoy.json"
  done
  for d in "$1/tasks" "$1/share/cab/tasks"; do
    mkdir -p "$d/decoy/task"
    cp -R "$SRC_DIR/tasks/polyglot/shell-word-count/." "$d/decoy/task/"
    jq '.task_id = "decoy/task"' "$SRC_DIR/tasks/polyglot/shell-word-count/task.json" >"$d/decoy/task/task.json"
  done
  for d in "$1/scorers/profiles" "$1/share/cab/profiles"; do
    mkdir -p "$d"
    jq '.weights.pass_rate = 0 | .weights.integrity = 0.6' \
      "$SRC_DIR/scorers/profiles/codingagentbench-v0.1.json" >"$d/codingagentbench-v0.1.json"
  done
}
plant "$CWD"
plant "$A"
mkdir -p "$T/home"

# bcab ARGS...: the moved cab from the hostile cwd, clean environment; as
# root with the checkout hidden under a tmpfs.
hide_src=()
if is_root && command -v unshare >/dev/null 2>&1 && [ "${T#"$SRC_DIR"/}" = "$T" ] &&
  unshare -m --propagation private sh -c 'mount -t tmpfs -o size=1m cab-hide "$1" && [ ! -e "$1/Makefile" ]' _ "$SRC_DIR"; then
  hide_src=(unshare -m --propagation private sh -c 'mount -t tmpfs -o size=1m cab-hide "$0" && exec "$@"' "$SRC_DIR")
  say "# the checkout $SRC_DIR is hidden under a tmpfs for the moved cab"
fi
bcab() {
  (cd "$CWD" && exec "${hide_src[@]}" env -i PATH="$B/bin:/usr/bin:/bin" HOME="$T/home" \
    TMPDIR="$TMPDIR" CAB_HOME="$CAB_HOME" LC_ALL=C timeout -k 5 120 "$@")
}

bcab cab adapters list >"$T/adapters" 2>&1
assert_eq "$?" 0 "the moved cab: adapters list exits 0 ($(head -c 300 "$T/adapters" | tr '\n' '|'))"
assert_eq "$(awk '{ print $1 }' "$T/adapters" | LC_ALL=C sort | tr '\n' ' ')" \
  "$(cd "$SRC_DIR/runner/adapters" && ls -- *.json | sed 's/\.json$//' | LC_ALL=C sort | tr '\n' ' ')" \
  "the moved cab lists exactly its own adapters (no decoy from the cwd or the old prefix)"
assert_eq "$(bcab cab adapters show oracle 2>&1 | awk '$1 == "file" { print $2 }')" \
  "$B/bin/../share/cab/adapters/oracle.json" "the moved cab reads the oracle from its own share/cab"
bcab cab doctor >"$T/doctor" 2>&1
assert_eq "$?" 0 "the moved cab: doctor exits 0 ($(tail -n 3 "$T/doctor" | tr '\n' '|'))"
assert_match "$(cat "$T/doctor")" "^  adapters: +$B/bin/\.\./share/cab/adapters\$" "doctor names the moved install's adapters"
bcab cab tasks list >"$T/tasks" 2>&1
assert_eq "$?" 0 "the moved cab: tasks list exits 0 ($(head -c 300 "$T/tasks" | tr '\n' '|'))"
assert_eq "$(($(wc -l <"$T/tasks") - 1))" "$(find "$SRC_DIR/tasks" -name task.json | wc -l)" \
  "the moved cab lists every task of its own"
assert_no_match "$(cat "$T/tasks")" 'decoy/' "no decoy task from the cwd or the old prefix"

bcab cab run-cell --tui oracle --model cab/none --task polyglot/shell-word-count --host-rootfs \
  --out "$T/out" >"$T/cell" 2>&1
assert_eq "$?" 0 "the moved cab runs an oracle cell ($(tail -c 300 "$T/cell" | tr '\n' '|'))"
cell=$(find "$T/out" -name cell.json | head -n 1)
if [ -n "$cell" ]; then
  assert_json '[.outcome, .environment.scoring_profile, .scorers.composite.weights.pass_rate] | map(tostring) | join(" ")' \
    "pass codingagentbench-v0.1 0.4" "$cell" \
    "the oracle cell passes (its own oracle, not the hostile one) under its own profile (pass_rate weighs 0.4)"
else
  fail "the moved cab's oracle cell wrote no cell.json"
fi

# --- a cab copied alone: one line, then one variable ----------------------
L=$T/lone
mkdir -p "$L/bin"
cp "$B/bin/cab" "$B/bin/cab-full" "$L/bin/"
lcab() {
  (cd "$CWD" && exec "${hide_src[@]}" env -i PATH="$L/bin:/usr/bin:/bin" HOME="$T/home" \
    TMPDIR="$TMPDIR" CAB_HOME="$CAB_HOME" LC_ALL=C "$@" timeout -k 5 120 cab "${args[@]}")
}
args=(adapters list)
lcab >"$T/lone.out" 2>"$T/lone.err"
assert_eq "$?" 125 "a cab copied alone: adapters list exits 125, not an empty list"
assert_eq "$(wc -l <"$T/lone.out") $(wc -l <"$T/lone.err")" "0 1" "it prints one line, on stderr"
assert_match "$(cat "$T/lone.err")" "cab has no adapters \\(looked in $L/bin/\\.\\./runner/adapters, $L/bin/\\.\\./share/cab/adapters\\); 'make install PREFIX=DIR' .*CAB_DATA_DIR" \
  "the line says where cab looked and the two ways to give it its adapters"
args=(doctor)
lcab >"$T/lone-doctor" 2>&1
assert_eq "$?" 1 "a cab copied alone: doctor exits 1"
assert_match "$(tail -n 1 "$T/lone-doctor")" '^cab doctor: a cell cannot run with this cab: it has no adapters and no tasks' \
  "doctor's verdict says why"
assert_match "$(cat "$T/lone-doctor")" '^  adapters: +none: cab has no adapters \(looked in ' "doctor says where it looked"
args=(run-cell --tui oracle --model cab/none --task polyglot/shell-word-count --host-rootfs --out "$T/out-lone")
lcab >"$T/lone-cell" 2>&1
assert_eq "$?" 125 "a cab copied alone: run-cell --tui oracle exits 125"
assert_no_match "$(cat "$T/lone-cell")" 'unknown agent' "and does not call the oracle an unknown agent"
assert_match "$(cat "$T/lone-cell")" 'cab has no adapters' "it says cab has no adapters"
args=(tasks list)
lcab >/dev/null 2>"$T/lone-tasks"
assert_eq "$?" 125 "a cab copied alone: tasks list exits 125"
assert_match "$(cat "$T/lone-tasks")" "no tasks directory there; .*make install PREFIX=DIR.*CAB_DATA_DIR" \
  "and says how to give it its tasks"

args=(adapters list)
lcab env CAB_DATA_DIR="$B/share/cab" >"$T/lone-data" 2>&1
assert_eq "$(awk '{ print $1 }' "$T/lone-data" | LC_ALL=C sort | tr '\n' ' ')" \
  "$(awk '{ print $1 }' "$T/adapters" | LC_ALL=C sort | tr '\n' ' ')" \
  "CAB_DATA_DIR=<share/cab> gives a lone cab every adapter"
args=(run-cell --tui oracle --model cab/none --task polyglot/shell-word-count --host-rootfs --out "$T/out-data")
lcab env CAB_DATA_DIR="$B/share/cab" >"$T/lone-data-cell" 2>&1
assert_eq "$?" 0 "with CAB_DATA_DIR a lone cab runs the oracle cell ($(tail -c 300 "$T/lone-data-cell" | tr '\n' '|'))"
cell=$(find "$T/out-data" -name cell.json | head -n 1)
[ -n "$cell" ] && assert_json '.outcome' pass "$cell" "and it passes"
finish
