#!/bin/bash
# cab doctor performs what a cell needs and says so, one line per operation:
#   * text: every check's line, "cells can run here", exit 0 on this host as
#     root and as a user (a user's cgroup v1 is a warning, not a failure);
#   * --json parses, has every check with name/kind/ok/detail/fix, ok true,
#     every required check ok, and the facts (cgroup mode, seccomp actions,
#     the data directories: the build tree's here);
#   * the cgroup probe removes what it made (its cell cgroup is gone);
#   * as a user on cgroup v1 the cgroup check fails with a fix, ok stays true;
#     as root it passes (a cell cgroup took the limits);
#   * where unshare works but the map write fails (a read-only /proc, as in
#     userns_restricted.sh), exit 1 and the idmap check carries the AppArmor
#     fix; bad options are one line, exit 125.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

setup_cell_test

checks="userns idmap tmpfs netns_lo veth overlay cgroup seccomp openat2 landlock"
labels=("user namespaces" "uid/gid maps" "tmpfs in userns" "lo in a netns" "veth pair"
  "overlay in userns" "cgroup for a cell" "seccomp filter" "openat2" "Landlock")

# --- text --------------------------------------------------------------------------
run_cab "$T/text" doctor
sed 's/^/    | /' "$T/text"
assert_rc 0 "doctor exits 0 here"
for l in "${labels[@]}"; do
  assert_match "$(cat "$T/text")" "^  $l: +(yes|no) \(" "a line for '$l'"
done
assert_match "$(tail -1 "$T/text")" "^cab doctor: cells can run here" "the last line says cells can run"
assert_match "$(cat "$T/text")" "cgroup mode: +(hybrid|unified|legacy)" "the cgroup mode is printed"
assert_match "$(cat "$T/text")" "^  adapters: +/.*/\.\./runner/adapters\$" "the adapters' directory is printed"

# --- --json ------------------------------------------------------------------------
run_cab "$T/json" doctor --json
assert_rc 0 "doctor --json exits 0 here"
assert_json_valid "$T/json" "doctor --json is JSON"
assert_json '[.checks[].name] | join(" ")' "$checks" "$T/json" "every check, in order"
assert_jq '[.checks[] | has("name") and has("kind") and has("ok") and has("detail") and has("fix")] | all' \
  "$T/json" "every check has name, kind, ok, detail, fix"
assert_json '.ok' true "$T/json" "ok is true"
assert_jq '[.checks[] | select(.kind == "required") | .ok] | all' "$T/json" "every required check passes"
assert_jq '[.checks[] | select(.ok | not) | .fix | type == "string"] | all' "$T/json" "every failed check has a fix"
assert_jq '.facts.cgroup_mode | test("^(hybrid|unified|legacy)$")' "$T/json" "facts: the cgroup mode"
assert_jq '.facts.seccomp_actions | index("errno") != null' "$T/json" "facts: the seccomp actions"
assert_jq '.facts.data | [.adapters, .tasks, .profiles] | map(.dir != null and .missing == null) | all' "$T/json" \
  "facts: the data directories, all found"

# The cgroup probe's cell cgroup, named in its detail, is gone.
made=$(jq -r '.checks[] | select(.name == "cgroup") | .detail' "$T/json" | grep -o '/sys/fs/cgroup/[^ ]*cab\.[0-9]*\.cell-[0-9a-f]*')
if [ -n "$made" ]; then
  assert_eq "$(test -e "$made" && echo left)" "" "the probe's cell cgroup $made is removed"
fi
mode=$(jq -r '.facts.cgroup_mode' "$T/json")
if is_root; then
  assert_json '.checks[] | select(.name == "cgroup") | .ok' true "$T/json" "root: a cell cgroup took the limits"
  assert_ne "$made" "" "root: the cgroup detail names the cell cgroup it made"
elif [ "$mode" != unified ]; then
  assert_json '.checks[] | select(.name == "cgroup") | .ok' false "$T/json" "user on cgroup v1: the cgroup check fails"
  assert_jq '.checks[] | select(.name == "cgroup") | .fix | test("run cab as root")' "$T/json" \
    "user on cgroup v1: the fix says v1 needs root"
fi

# --- a namespace that cannot be used: the AppArmor fix -----------------------------
readonly_proc='mount -o remount,bind,ro /proc && exec "$@"'
if is_root; then
  restricted=(unshare --mount --propagation private sh -c "$readonly_proc" sh)
else
  restricted=(unshare --user --map-root-user --mount sh -c "$readonly_proc" sh)
fi
if "${restricted[@]}" true 2>/dev/null; then
  "${restricted[@]}" "$CAB" doctor --json >"$T/r.json" 2>"$T/r.err"
  RC=$? LAST_OUT=$T/r.json
  assert_rc 1 "restricted: exit 1"
  assert_json '.ok' false "$T/r.json" "restricted: ok is false"
  assert_json '.checks[] | select(.name == "userns") | .ok' true "$T/r.json" "restricted: unshare works"
  assert_jq '.checks[] | select(.name == "idmap") | .ok == false and (.fix | test("sudo apparmor_parser -r /etc/apparmor.d/cab"))' \
    "$T/r.json" "restricted: the map check fails with the AppArmor fix"
else
  say "# cannot make /proc read-only here: the restricted case is not checked"
fi

# --- bad options -------------------------------------------------------------------
run_cab "$T/bad" doctor --no-such-option
assert_rc 125 "an unknown option: exit 125"
assert_eq "$(wc -l <"$T/bad.err")" 1 "an unknown option: one line"
run_cab "$T/help" doctor --help
assert_rc 0 "--help exits 0"
finish
