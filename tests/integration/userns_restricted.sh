#!/bin/bash
# Scenario 5 of issue 11 on this host: a user namespace can be created but
# not used, as under Ubuntu 24.04's AppArmor restriction
# (kernel.apparmor_restrict_unprivileged_userns=1: unshare succeeds, the
# uid map write fails).  Emulated without an LSM: cab runs in a mount
# namespace whose /proc is read-only, so unshare(CLONE_NEWUSER) works and
# the write to /proc/self/uid_map fails (EROFS where AppArmor gives EPERM).
# (`unshare --user` without a map is not this case: there the kernel
# refuses the nested unshare itself; checked last, it gets its own line.)
#
# cab exec, cab run-cell and cab doctor each fail at start: exit 125 (doctor
# 1), one line on stderr naming the map write, the likely cause (an LSM
# such as AppArmor's restriction) and the fix (cab's AppArmor profile or
# the sysctl); nothing half-runs: no --result file, no cell.json, no cgroup
# named after the cab process.  As root the emulation is a private mount
# namespace; as a user, a user namespace mapping the user to root (mount(8)
# wants uid 0) with its own mount namespace.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

setup_cell_test
command -v unshare >/dev/null 2>&1 || skip "no unshare(1)"

# restricted CMD...: CMD with /proc read-only (so no uid_map can be written).
readonly_proc='mount -o remount,bind,ro /proc && exec "$@"'
if is_root; then
  restricted=(unshare --mount --propagation private sh -c "$readonly_proc" sh)
else
  restricted=(unshare --user --map-root-user --mount sh -c "$readonly_proc" sh)
fi
"${restricted[@]}" true 2>/dev/null || skip "cannot make /proc read-only in a new mount namespace here"
"${restricted[@]}" sh -c '! echo "0 0 1" >/proc/self/uid_map' 2>/dev/null ||
  skip "the emulation does not hold: /proc/self/uid_map is still writable"

# run_in WRAPPER OUT ARGS...: cab ARGS under the command prefix in the array
# named WRAPPER, its pid in OUT.pid (the shell execs cab), RC, OUT, OUT.err.
run_in() {
  local -n wrap=$1
  local out=$2
  shift 2
  LAST_OUT=$out
  say "+ [${!wrap}] cab $*"
  timeout -k 5 "$CAB_TEST_TIMEOUT" "${wrap[@]}" sh -c 'echo $$ >"$0"; exec "$@"' "$out.pid" "$CAB" "$@" \
    >"$out" 2>"$out.err" </dev/null
  RC=$?
  sed 's/^/    | /' "$out" "$out.err"
}

# no_cgroup_of OUT: no cgroup anywhere is named after the cab of OUT.pid.
no_cgroup_of() {
  local pid
  pid=$(cat "$1.pid" 2>/dev/null)
  [ -n "$pid" ] && ! find /sys/fs/cgroup -maxdepth 6 -type d -name "cab.$pid.*" 2>/dev/null | grep -q .
}

# one_line_with_fix NAME OUT: exactly one line on stderr that names the
# map write, the likely cause and both fixes.
one_line_with_fix() {
  local err
  err=$(cat "$2.err")
  assert_eq "$(wc -l <"$2.err")" 1 "$1: exactly one line on stderr"
  assert_match "$err" "^cab: (cell [^ ]*: )?cannot write a new user namespace's id maps \(/proc/self/uid_map" \
    "$1: says the map write failed"
  assert_match "$err" "AppArmor's restriction of unprivileged user namespaces" "$1: names the likely cause"
  assert_match "$err" "fix: install cab's AppArmor profile \(make install puts it at /etc/apparmor\.d/cab; then sudo apparmor_parser -r /etc/apparmor\.d/cab\)" \
    "$1: the AppArmor profile fix"
  assert_match "$err" "sudo sysctl -w kernel\.apparmor_restrict_unprivileged_userns=0" "$1: the sysctl fix"
}

# --- cab exec -------------------------------------------------------------------------
run_in restricted "$T/exec" exec --host-rootfs --memory 64m --pids 64 --result "$T/exec.json" -- /bin/echo ran
assert_rc 125 "exec: exit 125"
one_line_with_fix exec "$T/exec"
assert_eq "$(cat "$T/exec")" "" "exec: the command did not run"
assert_eq "$(test -e "$T/exec.json" && echo written)" "" "exec: no --result file"
if no_cgroup_of "$T/exec"; then pass "exec: no cgroup left"; else fail "exec: a cgroup of cab $(cat "$T/exec.pid") is left"; fi

# --- cab run-cell ---------------------------------------------------------------------
run_in restricted "$T/cell" run-cell --tui oracle --model cab/none --task polyglot/shell-word-count \
  --host-rootfs --out "$T/results"
assert_rc 125 "run-cell: exit 125"
one_line_with_fix run-cell "$T/cell"
assert_eq "$(find "$T/results" -name cell.json 2>/dev/null | wc -l)" 0 "run-cell: no cell.json"
assert_eq "$(find "$T/results" -mindepth 1 2>/dev/null | wc -l)" 0 "run-cell: nothing under --out"
if no_cgroup_of "$T/cell"; then pass "run-cell: no cgroup left"; else fail "run-cell: a cgroup is left"; fi

# --- cab doctor -----------------------------------------------------------------------
run_in restricted "$T/doc" doctor
assert_rc 1 "doctor: exit 1"
assert_match "$(cat "$T/doc")" "user namespaces: +yes" "doctor: creating the namespace works"
assert_match "$(cat "$T/doc")" "uid/gid maps: +no \(cannot write a new user namespace's id maps" "doctor: the map write fails"
assert_match "$(cat "$T/doc")" "fix: install cab's AppArmor profile" "doctor: prints the AppArmor fix"
run_in restricted "$T/docj" doctor --json
assert_rc 1 "doctor --json: exit 1"
assert_json '.ok' false "$T/docj" "doctor --json: ok is false"
assert_json '.checks[] | select(.name == "userns") | .ok' true "$T/docj" "doctor --json: userns ok"
assert_json '.checks[] | select(.name == "idmap") | .ok' false "$T/docj" "doctor --json: idmap fails"
assert_jq '.checks[] | select(.name == "idmap") | .fix | test("apparmor_parser -r /etc/apparmor.d/cab")' "$T/docj" \
  "doctor --json: idmap's fix is the AppArmor profile"

# --- `unshare --user` without a map: the nested unshare itself is refused ---------------
if unshare --user true 2>/dev/null; then
  unmapped=(unshare --user)
  run_in unmapped "$T/um" exec --host-rootfs -- /bin/true
  assert_rc 125 "unmapped: exec exits 125"
  assert_eq "$(wc -l <"$T/um.err")" 1 "unmapped: exactly one line on stderr"
  assert_match "$(cat "$T/um.err")" "in a user namespace without a uid map.*fix: give that namespace a map: unshare --user --map-current-user" \
    "unmapped: names the missing map and the fix"
else
  say "# unshare --user is refused here: the unmapped case is not checked"
fi
finish
