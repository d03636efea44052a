#!/bin/bash
# Scenario "v2-root": a pure cgroup v2 kernel (cgroup_no_v1=all, cgroup2
# alone at /sys/fs/cgroup, no systemd) and cab run as root.  Proves that
# every limit is enforced by cgroup v2 (memory with OOM kill, pids against a
# fork bomb, cpu, timeout killing the whole tree) and that a full demo cell
# (model network: veth, gateway netns, proxy; overlay; cab-agent against cab
# model-server) passes.  The integration tests nearest to it run in the
# slower scenario v2-root-suites (make test-hosts only).
# hosts: fast
# shellcheck source=../check.sh
. "$(dirname "$0")/../check.sh"

section "cab doctor"
"$cab" doctor >"$W/doctor" 2>&1
rc=$?
sed 's/^/    /' "$W/doctor"
check "cab doctor exits 0" test "$rc" = 0
check "cab doctor: cgroup mode unified" grep -Eq '^ *cgroup mode: +unified' "$W/doctor"
check "cab doctor: no cgroup v1 controller" not grep -q 'cgroup v1' "$W/doctor"

section "cab exec --memory 64M: a 512 MiB hog"
"$cab" exec --host-rootfs --memory 64M --result "$W/hog.json" -- "$probe" hog 512 5 >/dev/null 2>"$W/hog.err"
rc=$?
check "the hog exits 137" test "$rc" = 137
check_json "oom_killed" "$W/hog.json" '.oom_killed == true'
check_json "memory enforced by cgroup v2" "$W/hog.json" '.limits.memory == "cgroup-v2" and .cgroup_mode == "unified"'
check_json "peak memory within the limit" "$W/hog.json" '.peak_memory_bytes > 32*1048576 and .peak_memory_bytes <= 72*1048576'

section "cab exec --pids 64: a fork bomb"
"$cab" exec --host-rootfs --pids 64 --result "$W/fb.json" -- "$probe" forkbomb 3 >"$W/fb.out" 2>"$W/fb.err"
check "the fork bomb's cab exits 0" test $? = 0
check_json "forks capped by --pids 64" "$W/fb.out" '.forks <= 64 and .forks >= 8'
check_json "pids enforced by cgroup v2" "$W/fb.json" '.limits.pids == "cgroup-v2"'

section "cab exec --cpus 0.5: spin 2 s"
"$cab" exec --host-rootfs --cpus 0.5 --result "$W/spin.json" -- "$probe" spin 2 >"$W/spin.out" 2>&1
check "spin exits 0" test $? = 0
check_json "cpu enforced by cgroup v2" "$W/spin.json" '.limits.cpu == "cgroup-v2"'

section "cab exec --timeout 2: a setsid'd daemon"
start=$(date +%s%N)
"$cab" exec --host-rootfs --timeout 2 --result "$W/dm.json" -- "$probe" daemon cab-hosts-daemon >"$W/dm.out" 2>&1
ms=$((($(date +%s%N) - start) / 1000000))
check "--timeout 2 returns in under 8 s (${ms} ms)" test "$ms" -lt 8000
check_json "timed_out" "$W/dm.json" '.timed_out == true'
sleep 0.5
check "no daemon left" no_process cab-hosts-daemon
check "no cab cgroup left" no_cab_cgroup
# cab kills a v2 cell with cgroup.kill where the kernel has it (5.14+).
mkdir /sys/fs/cgroup/hosts-probe
check "the kernel offers cgroup.kill" test -f /sys/fs/cgroup/hosts-probe/cgroup.kill
rmdir /sys/fs/cgroup/hosts-probe

section "a user's --cgroup-parent outside the cgroup cab runs in"
# The user owns the cgroup but was not started in it: the kernel refuses to
# start the sandbox there (moving a process needs the common ancestor's
# cgroup.procs).  One line saying so, and a result that claims no limit.
mkdir /sys/fs/cgroup/cab-outside "$W/outside" &&
  chown -R "${CAB_TEST_USER:-cabtest}" /sys/fs/cgroup/cab-outside "$W/outside"
as_user "$cab" exec --host-rootfs --cgroup-parent /cab-outside --memory 64M --result "$W/outside/r.json" \
  -- /bin/true >"$W/outside.out" 2>"$W/outside.err"
rc=$?
sed 's/^/    | /' "$W/outside.err"
check "exits 125" test "$rc" = 125
check "one line naming the cgroup, not the namespaces" \
  test "$(grep -c 'cannot start the sandbox inside its cgroup' "$W/outside.err")/$(wc -l <"$W/outside.err")" = 1/1
check_json "the result claims no limit" "$W/outside/r.json" '.limits.memory == "none"'
check "no cgroup left under it" test -z "$(find /sys/fs/cgroup/cab-outside -mindepth 1 -type d)"
find /sys/fs/cgroup/cab-outside -depth -type d -exec rmdir {} + 2>/dev/null

section "a host without /etc/hosts (the guest's / is a tmpfs overlay)"
mv /etc/hosts /etc/hosts.cab-hosts
"$cab" exec --host-rootfs -- /bin/sh -c 'test ! -e /etc/hosts && cat /etc/hostname' >"$W/nohosts.out" 2>"$W/nohosts.err"
rc=$?
sed 's/^/    | /' "$W/nohosts.err"
check "cab exec --host-rootfs runs without the host's /etc/hosts" test "$rc" = 0
check "... and still gets its generated /etc/hostname" grep -qx cab "$W/nohosts.out"
mv /etc/hosts.cab-hosts /etc/hosts

section "runner/demo/demo.sh: a full cell"
CAB_HOME=$W/demo-home CAB_DEMO_OUT=$W/demo-results bash runner/demo/demo.sh >"$W/demo.out" 2>&1
rc=$?
tail -n 15 "$W/demo.out" | sed 's/^/    /'
check "the demo cell passes" test "$rc" = 0
cell=$(find "$W/demo-results" -name cell.json 2>/dev/null | head -1)
check "the demo wrote a cell.json" test -n "$cell"
check_json "the cell's limits were enforced by cgroup v2" "${cell:-/nonexistent}" \
  '.environment.cgroup_mode == "unified" and .environment.limits.memory == "cgroup-v2" and .environment.limits.pids == "cgroup-v2"'

finish
