#!/bin/bash
# guest: systemd
# Scenario "systemd-user-plain" (issue 11's scenario 3): Debian 12 with
# systemd as PID 1 on a pure cgroup v2 hierarchy, and cab run by a real user
# in a plain login session, as after ssh: its cgroup is logind's
# session-N.scope, which root owns, and nothing is delegated.  Cells still
# run; --result and the demo cell's cell.json say which limits no cgroup
# enforced and how they were approximated (memory: a watchdog and
# RLIMIT_DATA; pids: RLIMIT_NPROC; cpu: not at all), and why; cab doctor
# prints the one command that fixes it.
# shellcheck source=../check.sh
. "$(dirname "$0")/../check.sh"

section "the user's session"
check "useradd, enable-linger, user manager up" user_session_setup
uid=$(id -u "$session_user")
home=$(getent passwd "$session_user" | cut -d: -f6)
user_slice=/sys/fs/cgroup/user.slice/user-$uid.slice
in_session sh -c 'exit 3'
check "in_session returns the command's exit status" test $? = 3
in_session sh -c 'cg=$(cut -d: -f3 /proc/self/cgroup); echo "$cg"; stat -c %U "/sys/fs/cgroup$cg/cgroup.procs"' >"$W/session" 2>&1
sed 's/^/    /' "$W/session"
check "the session is a logind session scope" grep -Eq "^/user.slice/user-$uid.slice/session-[^/]*.scope$" "$W/session"
check "root owns it" grep -qx root "$W/session"

section "cab doctor"
in_session "$cab" doctor >"$W/doctor" 2>&1
rc=$?
sed 's/^/    /' "$W/doctor"
echo "    (exit $rc)"
check "cab doctor: cgroup mode unified" grep -Eq '^ *cgroup mode: +unified' "$W/doctor"
# The fix for a v2 cgroup the user cannot write, in cab doctor's words.
check "cab doctor prints the fix: systemd-run --user --scope -p Delegate=yes" \
  grep -qF 'systemd-run --user --scope -p Delegate=yes' "$W/doctor"

section "cab exec --memory 64M: a 512 MiB hog"
in_session "$cab" exec --host-rootfs --memory 64M --result "$home/hog.json" -- "$probe" hog 512 5 >/dev/null 2>"$W/hog.err"
rc=$?
sed 's/^/    /' "$W/hog.err"
check "the hog is stopped (exit $rc)" test "$rc" != 0
check_json "oom_killed" "$home/hog.json" '.oom_killed == true'
check_json "memory: a watchdog and RLIMIT_DATA, not a cgroup" "$home/hog.json" \
  '.limits.memory == "rlimit" and (.enforced.memory | test("^watchdog .*RLIMIT_DATA")) and .cgroup_mode == "unified"'
check_json "--result says why: the session's cgroup is not writable, and the fix" "$home/hog.json" \
  '(.degraded | test("session-[^/]*[.]scope is not writable")) and (.degraded | contains("systemd-run --user --scope -p Delegate=yes"))'
check "one warning line names the fallback" grep -q 'memory by a watchdog' "$W/hog.err"

section "cab exec --pids 64: a fork bomb"
in_session "$cab" exec --host-rootfs --pids 64 --result "$home/fb.json" -- "$probe" forkbomb 3 >"$W/fb.out" 2>"$W/fb.err"
check "the fork bomb's cab exits 0" test $? = 0
check_json "forks capped by --pids 64" "$W/fb.out" '.forks <= 64 and .forks >= 8'
check_json "pids: RLIMIT_NPROC, not a cgroup" "$home/fb.json" '.limits.pids == "rlimit" and (.degraded | contains("pids by RLIMIT_NPROC"))'

section "cab exec --cpus 0.5: spin 2 s"
in_session "$cab" exec --host-rootfs --cpus 0.5 --result "$home/spin.json" -- "$probe" spin 2 >"$W/spin.out" 2>"$W/spin.err"
check "spin exits 0" test $? = 0
check_json "cpu: not enforced, and said so" "$home/spin.json" '.limits.cpu == "none" and (.degraded | contains("cpu NOT enforced"))'
check "one warning line" test "$(wc -l <"$W/spin.err")" = 1

section "cab exec --timeout 2: a setsid'd daemon"
in_session "$cab" exec --host-rootfs --timeout 2 --result "$home/dm.json" -- "$probe" daemon cab-hosts-daemon >"$W/dm.out" 2>&1
check_json "timed_out" "$home/dm.json" '.timed_out == true'
check "no daemon left" no_process cab-hosts-daemon
check "no cab cgroup in the user's slice" no_cab_cgroup_under "$user_slice"

section "runner/demo/demo.sh: a full cell, in the plain session"
in_session env CAB_BUILD="$CAB_BUILD" CAB_HOME="$home/cab-home" CAB_DEMO_OUT="$home/demo-results" \
  bash runner/demo/demo.sh >"$W/demo.out" 2>&1
rc=$?
tail -n 15 "$W/demo.out" | sed 's/^/    /'
check "the demo cell passes" test "$rc" = 0
cell=$(find "$home/demo-results" -name cell.json 2>/dev/null | head -1)
check "the demo wrote a cell.json" test -n "$cell"
[ -n "$cell" ] && jq -c '.environment | {cgroup_mode, limits, degraded}' "$cell" | sed 's/^/    /'
check_json "cell.json: memory by a watchdog and RLIMIT_DATA, pids by RLIMIT_NPROC" "${cell:-/nonexistent}" \
  '.environment.cgroup_mode == "unified" and .environment.limits.memory == "rlimit" and (.environment.limits.memory_enforced | test("^watchdog .*RLIMIT_DATA")) and .environment.limits.pids == "rlimit"'
check_json "cell.json: degraded says why and how" "${cell:-/nonexistent}" \
  '(.environment.degraded | test("session-[^/]*[.]scope is not writable")) and (.environment.degraded | contains("memory by a watchdog")) and (.environment.degraded | contains("pids by RLIMIT_NPROC"))'
check "no cab cgroup in the user's slice" no_cab_cgroup_under "$user_slice"

finish
