#!/bin/bash
# Scenario "userns-off": user.max_user_namespaces=0 (RHEL 7-era hosts).
# Proves that cab exec fails fast, as a user and as root, with one line that
# names the sysctl and its fix, that cab doctor exits non-zero with its user
# namespaces line naming the same, and that no cgroup is left behind.  "Fast"
# is under 5 s: the guest runs under TCG, several times slower than the host
# (cab exec fails in 0.8 s as root, 1.5 s as a user).  cab run-cell fails
# too, naming the sysctl, before any cell starts: no cell.json, no copied
# rootfs, no warning that blames overlayfs.
# hosts: fast
# shellcheck source=../check.sh
. "$(dirname "$0")/../check.sh"

# Before the sysctl: an image to run a cell in, and a model endpoint.
tests/images/busybox-image.sh "$W/layout" demo >/dev/null
CAB_HOME=$W/home "$cab" import "$W/layout" --name cab-demo/busybox:1 >/dev/null
"$cab" model-server --script runner/demo/solve-shell-word-count.json --listen 127.0.0.1:0 \
  >"$W/ms.out" 2>"$W/ms.err" &
server_pid=$!
for _ in $(seq 200); do
  grep -q '^listening on ' "$W/ms.out" && break
  sleep 0.1
done
endpoint=$(sed -n 's/^listening on //p' "$W/ms.out")
check "the model server listens" test -n "$endpoint"

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

section "as ${CAB_TEST_USER:-cabtest}"
expect_doctor_says "user: cab doctor" as_user "$cab" doctor
expect_fast_fail "user: cab exec" as_user "$cab" exec --host-rootfs -- /bin/true
section "as root"
expect_doctor_says "root: cab doctor" "$cab" doctor
expect_fast_fail "root: cab exec" "$cab" exec --host-rootfs -- /bin/true

# expect_cell_refused NAME OUTDIR ARGS...: cab run-cell ARGS fails, naming
# the sysctl, before any cell starts.
expect_cell_refused() {
  local name=$1 results=$2 rc
  shift 2
  "$@" >"$W/out" 2>"$W/err"
  rc=$?
  sed 's/^/    | /' "$W/out" "$W/err"
  check "$name: exits non-zero" test "$rc" != 0
  check "$name: names user.max_user_namespaces" grep -q 'user\.max_user_namespaces=0' "$W/err"
  check "$name: refused before the cell starts (no cell.json)" \
    test -z "$(find "$results" -name cell.json 2>/dev/null)"
}

section "cab run-cell as root, in an image"
expect_cell_refused "root: cab run-cell" "$W/results" env CAB_HOME="$W/home" \
  "$cab" run-cell --tui cab-agent --model scripted/demo --task polyglot/shell-word-count \
  --image cab-demo/busybox:1 --endpoint "$endpoint" --out "$W/results"
check "root: cab run-cell: no warning that blames overlayfs" not grep -q 'overlayfs cannot be mounted' "$W/err"
section "cab run-cell as ${CAB_TEST_USER:-cabtest}, on the host's /"
mkdir -p "$W/user" && chown "${CAB_TEST_USER:-cabtest}" "$W/user"
expect_cell_refused "user: cab run-cell" "$W/user/results" as_user env CAB_HOME="$W/user/home" \
  "$cab" run-cell --tui cab-agent --model scripted/demo --task polyglot/shell-word-count --host-rootfs \
  --endpoint "$endpoint" --out "$W/user/results"

section "leftovers"
kill "$server_pid" 2>/dev/null
check "no cab cgroup left" no_cab_cgroup
finish
