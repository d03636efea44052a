#!/bin/bash
# Scenario "userns-restricted" (issue 11, scenario 5): a user namespace can be
# created but not used, as under Ubuntu 24.04's AppArmor restriction
# (kernel.apparmor_restrict_unprivileged_userns=1: unshare succeeds, the uid
# map write fails).  Emulated without an LSM on the pure v2 guest: cab runs
# where /proc is read-only, so unshare works and the map write fails.  cab
# exec, cab run-cell and cab doctor fail at start, as root and as a user,
# with one line naming the map write, the likely cause and the AppArmor fix;
# nothing half-runs (no cell.json, no cgroup).  Debian's kernel also has
# kernel.unprivileged_userns_clone: with it at 0 a user gets one line naming
# that sysctl.  Last, the cgroup fix doctor prints for a user whose v2
# cgroup is not delegated is followed, and works.
# shellcheck source=../check.sh
. "$(dirname "$0")/../check.sh"
user=${CAB_TEST_USER:-cabtest}

readonly_proc='mount -o remount,bind,ro /proc && exec "$@"'
as_root_restricted() { unshare --mount --propagation private sh -c "$readonly_proc" sh "$@"; }
as_user_restricted() { as_user unshare --user --map-root-user --mount sh -c "$readonly_proc" sh "$@"; }

# expect_one_line NAME RE CMD...: exits non-zero, one line on stderr matching RE.
expect_one_line() {
  local name=$1 re=$2 rc
  shift 2
  "$@" >"$W/out" 2>"$W/err"
  rc=$?
  sed 's/^/    | /' "$W/out" "$W/err"
  check "$name: exits non-zero" test "$rc" != 0
  check "$name: one line on stderr" test "$(wc -l <"$W/err")" = 1
  check "$name: says so" grep -Eq "$re" "$W/err"
}

map_re="cannot write a new user namespace's id maps.*AppArmor.*fix: install cab's AppArmor profile .*sudo apparmor_parser -r /etc/apparmor.d/cab.*sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"
cell=(run-cell --tui oracle --model cab/none --task polyglot/shell-word-count --host-rootfs)
mkdir -p "$W/user" && chown "$user" "$W/user"

section "unrestricted: cab doctor --json passes every required check"
"$cab" doctor --json >"$W/root.json" 2>&1
check_json "root: ok, every required check passes" "$W/root.json" \
  '.ok and ([.checks[] | select(.kind == "required") | .ok] | all)'
check_json "root: the cell cgroup took its limits (cgroup v2)" "$W/root.json" \
  '.checks[] | select(.name == "cgroup") | .ok and (.detail | startswith("cgroup-v2"))'
as_user "$cab" doctor --json >"$W/user/doctor.json" 2>&1
check_json "user: ok, every required check passes" "$W/user/doctor.json" \
  '.ok and ([.checks[] | select(.kind == "required") | .ok] | all)'

for who in root user; do
  section "read-only /proc, as $who"
  if [ $who = root ]; then wrap=as_root_restricted out=$W/results; else wrap=as_user_restricted out=$W/user/results; fi
  expect_one_line "$who: cab exec" "$map_re" $wrap "$cab" exec --host-rootfs --memory 64m -- /bin/true
  expect_one_line "$who: cab run-cell" "$map_re" $wrap env CAB_HOME="$W/user/home" "$cab" "${cell[@]}" --out "$out"
  check "$who: cab run-cell wrote no cell.json" test -z "$(find "$out" -name cell.json 2>/dev/null)"
  $wrap "$cab" doctor >"$W/out" 2>&1
  rc=$?
  sed 's/^/    | /' "$W/out"
  check "$who: cab doctor exits 1" test "$rc" = 1
  check "$who: cab doctor: unshare works" grep -Eq '^ *user namespaces: +yes' "$W/out"
  check "$who: cab doctor: the map write fails with the fix" grep -Eq '^ *uid/gid maps: +no \(cannot write' "$W/out"
  check "$who: cab doctor prints the AppArmor fix" grep -q 'fix: install cab.s AppArmor profile' "$W/out"
  check "$who: no cab cgroup left" no_cab_cgroup
done

if [ -e /proc/sys/kernel/unprivileged_userns_clone ]; then
  section "kernel.unprivileged_userns_clone=0"
  sysctl -qw kernel.unprivileged_userns_clone=0
  expect_one_line "user: cab exec" 'kernel\.unprivileged_userns_clone=0.*fix: sudo sysctl -w kernel\.unprivileged_userns_clone=1' \
    as_user "$cab" exec --host-rootfs -- /bin/true
  as_user "$cab" doctor >"$W/out" 2>&1
  rc=$?
  sed 's/^/    | /' "$W/out"
  check "user: cab doctor exits 1" test "$rc" = 1
  check "user: cab doctor names the sysctl" grep -Eq '^ *user namespaces: +no .*kernel\.unprivileged_userns_clone=0' "$W/out"
  check "root is not restricted by it" "$cab" exec --host-rootfs -- /bin/true
  sysctl -qw kernel.unprivileged_userns_clone=1
else
  echo "  (no kernel.unprivileged_userns_clone on this kernel)"
fi

section "a user's v2 cgroup, not delegated: doctor's fix works"
as_user "$cab" doctor >"$W/out" 2>&1
rc=$?
sed 's/^/    | /' "$W/out"
check "user: cab doctor exits 0 (limits degrade, cells run)" test "$rc" = 0
check "user: the cgroup check fails" grep -Eq '^ *cgroup for a cell: +no ' "$W/out"
check "user: the fix is systemd-run" grep -q 'systemd-run --user --scope -p Delegate=yes' "$W/out"
# Without a systemd user manager here, the root-made subtree it prints,
# word for word, with the shell (this one's child) moved into its leaf.
fix=$(sed -n 's/.*without a systemd user manager: \(.*\), then cab exec --cgroup-parent \/cab-\$USER .*/\1/p' "$W/out")
check "user: the fix has the sudo-made subtree" test -n "$fix"
fix=${fix//sudo /}
fix=${fix//\$USER/$user}
echo "    + $fix"
sh -c "$fix >/dev/null && exec setpriv --reuid=$user --regid=$user --init-groups env HOME=/tmp \"\$0\" \"\$@\"" \
  "$cab" doctor --cgroup-parent "/cab-$user" >"$W/out" 2>&1
sed 's/^/    | /' "$W/out"
check "user, after the fix: the cgroup check passes" grep -Eq '^ *cgroup for a cell: +yes \(cgroup-v2' "$W/out"
sh -c "echo \$\$ >/sys/fs/cgroup/cab-$user/shell/cgroup.procs && exec setpriv --reuid=$user --regid=$user --init-groups env HOME=/tmp \"\$0\" \"\$@\"" \
  "$cab" exec --host-rootfs --cgroup-parent "/cab-$user" --memory 64m --pids 64 --result "$W/user/r.json" -- /bin/true
check "user, after the fix: cab exec runs" test -s "$W/user/r.json"
check_json "user, after the fix: memory by cgroup v2" "$W/user/r.json" '.limits.memory == "cgroup-v2" and .limits.pids == "cgroup-v2"'
# A sweep from the same leaf: every cell's cgroups under the subtree too.
mkdir -p "$W/user/sweep" && chown "$user" "$W/user/sweep"
cat >"$W/user/plan.json" <<EOF
{"sweep_id": "subtree", "tuis": [{"tui": "oracle"}], "models": [{"model": "cab/none"}],
 "tasks": ["polyglot/shell-word-count"], "reruns": 2, "host_rootfs": true, "memory": "256M"}
EOF
sh -c "echo \$\$ >/sys/fs/cgroup/cab-$user/shell/cgroup.procs && exec setpriv --reuid=$user --regid=$user --init-groups env HOME=/tmp CAB_HOME=$W/user/sweep/home \"\$0\" \"\$@\"" \
  "$cab" sweep "$W/user/plan.json" -j 2 --cgroup-parent "/cab-$user" --out "$W/user/sweep" >"$W/sweep.out" 2>&1
rc=$?
tail -n 3 "$W/sweep.out" | sed 's/^/    | /'
check "user, after the fix: cab sweep --cgroup-parent exits 0" test "$rc" = 0
cells=$(find "$W/user/sweep" -name cell.json 2>/dev/null)
check "user, after the fix: the sweep wrote 2 cells" test "$(echo "$cells" | grep -c .)" = 2
check "user, after the fix: every cell's memory and pids by cgroup v2" \
  test "$(for c in $cells; do jq -r '.environment.limits.memory + "/" + .environment.limits.pids' "$c"; done | sort -u)" = cgroup-v2/cgroup-v2
rmdir /sys/fs/cgroup/cab-"$user"/shell /sys/fs/cgroup/cab-"$user" 2>/dev/null
finish
