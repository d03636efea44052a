#!/bin/bash
# Scenario "userns-off": user.max_user_namespaces=0 (RHEL 7-era hosts).
# Proves that cab exec fails fast, as a user and as root, with one line that
# names the sysctl and its fix, that cab doctor exits non-zero with its user
# namespaces line naming the same, and that nothing half-runs (no cgroup left
# behind).  "Fast" is under 5 s: the guest runs under TCG, several times
# slower than the host (cab exec fails in 0.8 s as root, 1.5 s as a user).
# shellcheck source=../check.sh
. "$(dirname "$0")/../check.sh"

sysctl -qw user.max_user_namespaces=0
check "user.max_user_namespaces is 0" test "$(cat /proc/sys/user/max_user_namespaces)" = 0

# expect_fast_fail NAME CMD...: fails within 5 s, with exactly one line on
# stderr naming the sysctl.
expect_fast_fail() {
  local name=$1 start ms rc
  shift
  start=$(date +%s%N)
  "$@" >"$W/out" 2>"$W/err"
  rc=$?
  ms=$((($(date +%s%N) - start) / 1000000))
  sed 's/^/    | /' "$W/out" "$W/err"
  check "$name: exits non-zero" test "$rc" != 0
  check "$name: fails fast (${ms} ms)" test "$ms" -lt 5000
  check "$name: one line on stderr" test "$(wc -l <"$W/err")" = 1
  check "$name: names user.max_user_namespaces" grep -q 'user\.max_user_namespaces' "$W/err"
}

# expect_doctor_says NAME CMD...: exits non-zero, its user namespaces line
# says no and names the sysctl.
expect_doctor_says() {
  local name=$1 rc
  shift
  "$@" >"$W/out" 2>&1
  rc=$?
  sed 's/^/    | /' "$W/out"
  check "$name: exits non-zero" test "$rc" != 0
  check "$name: names user.max_user_namespaces" \
    grep -Eq '^ *user namespaces: +no .*user\.max_user_namespaces=0' "$W/out"
}

echo "== as ${CAB_TEST_USER:-cabtest}"
expect_doctor_says "user: cab doctor" as_user "$cab" doctor
expect_fast_fail "user: cab exec" as_user "$cab" exec --host-rootfs -- /bin/true
echo "== as root"
expect_doctor_says "root: cab doctor" "$cab" doctor
expect_fast_fail "root: cab exec" "$cab" exec --host-rootfs -- /bin/true

check "no cab cgroup left" no_cab_cgroup
finish
