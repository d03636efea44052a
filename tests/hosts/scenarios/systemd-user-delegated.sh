#!/bin/bash
# guest: systemd
# Scenario "systemd-user-delegated" (issue 11's scenario 2): Debian 12 with
# systemd as PID 1 on a pure cgroup v2 hierarchy, and cab run by a real user
# (useradd, lingering, its user manager running) in a login session, inside
# a scope its user manager delegates to it (systemd-run --user --scope -p
# Delegate=yes cab ..., as the README says).  The same checks as v2-root:
# every limit is enforced by cgroup v2 in a child of that scope, the timeout
# kills the whole tree and leaves no cgroup, and a full demo cell (model
# network, overlay, cab-agent against cab model-server) passes with every
# limit on cgroup v2 in its cell.json.
# shellcheck source=../check.sh
. "$(dirname "$0")/../check.sh"

section "the user's session"
check "useradd, enable-linger, user manager up" user_session_setup
uid=$(id -u "$session_user")
home=$(getent passwd "$session_user" | cut -d: -f6)
user_slice=/sys/fs/cgroup/user.slice/user-$uid.slice
in_session sh -c 'exit 3'
check "in_session returns the command's exit status" test $? = 3
in_session cat /proc/self/cgroup >"$W/session.cg"
check "the session is a logind session scope" grep -Eq "^0::/user.slice/user-$uid.slice/session-[^/]*.scope$" "$W/session.cg"
in_delegated_scope sh -c 'cg=$(cut -d: -f3 /proc/self/cgroup); echo "$cg"; stat -c %U "/sys/fs/cgroup$cg/cgroup.procs"; cat "/sys/fs/cgroup$cg/cgroup.controllers"' >"$W/scope" 2>&1
sed 's/^/    /' "$W/scope"
check "the scope is the user manager's" grep -Eq "^/user.slice/user-$uid.slice/user@$uid.service/.*\.scope$" "$W/scope"
check "the scope is delegated to the user" grep -qx "$session_user" "$W/scope"
check "memory, pids and cpu are delegated" grep -Eq '^(.* )?cpu .*memory pids( .*)?$' "$W/scope"

section "cab doctor"
in_delegated_scope "$cab" doctor >"$W/doctor" 2>&1
rc=$?
sed 's/^/    /' "$W/doctor"
check "cab doctor exits 0" test "$rc" = 0
check "cab doctor: cgroup mode unified" grep -Eq '^ *cgroup mode: +unified' "$W/doctor"
# doctor's cgroup probe makes a real cell: a child of the delegated scope.
check "cab doctor: the cell cgroup is a child of the delegated scope" \
  grep -Eq "user@$uid[.]service/.*[.]scope/cab[.][0-9]+[.]cell-" "$W/doctor"

section "cab exec --memory 64M: a 512 MiB hog"
in_delegated_scope "$cab" exec --host-rootfs --memory 64M --result "$home/hog.json" -- "$probe" hog 512 5 >/dev/null 2>"$W/hog.err"
rc=$?
sed 's/^/    /' "$W/hog.err"
check "the hog exits 137" test "$rc" = 137
check_json "oom_killed" "$home/hog.json" '.oom_killed == true'
check_json "memory enforced by cgroup v2" "$home/hog.json" '.limits.memory == "cgroup-v2" and .cgroup_mode == "unified" and (has("degraded") | not)'
check_json "peak memory within the limit" "$home/hog.json" '.peak_memory_bytes > 32*1048576 and .peak_memory_bytes <= 72*1048576'

section "cab exec --pids 64: a fork bomb"
in_delegated_scope "$cab" exec --host-rootfs --pids 64 --result "$home/fb.json" -- "$probe" forkbomb 3 >"$W/fb.out" 2>"$W/fb.err"
check "the fork bomb's cab exits 0" test $? = 0
check_json "forks capped by --pids 64" "$W/fb.out" '.forks <= 64 and .forks >= 8'
check_json "pids enforced by cgroup v2" "$home/fb.json" '.limits.pids == "cgroup-v2"'

section "cab exec --cpus 0.5: spin 2 s"
in_delegated_scope "$cab" exec --host-rootfs --cpus 0.5 --result "$home/spin.json" -- "$probe" spin 2 >"$W/spin.out" 2>&1
check "spin exits 0" test $? = 0
check_json "cpu enforced by cgroup v2" "$home/spin.json" '.limits.cpu == "cgroup-v2"'

section "cab exec --timeout 2: a setsid'd daemon"
in_delegated_scope "$cab" exec --host-rootfs --timeout 2 --result "$home/dm.json" -- "$probe" daemon cab-hosts-daemon >"$W/dm.out" 2>&1
check_json "timed_out" "$home/dm.json" '.timed_out == true'
check "no daemon left" no_process cab-hosts-daemon
check "no cab cgroup left in the user's slice" no_cab_cgroup_under "$user_slice"

# demo.sh's bash and its cab model-server share the scope with cab run-cell:
# cab moves them into the scope's cab.leaf to enable the controllers there.
section "runner/demo/demo.sh: a full cell, in one delegated scope"
in_delegated_scope env CAB_BUILD="$CAB_BUILD" CAB_HOME="$home/cab-home" CAB_DEMO_OUT="$home/demo-results" \
  bash runner/demo/demo.sh >"$W/demo.out" 2>&1
rc=$?
tail -n 15 "$W/demo.out" | sed 's/^/    /'
check "the demo cell passes" test "$rc" = 0
cell=$(find "$home/demo-results" -name cell.json 2>/dev/null | head -1)
check "the demo wrote a cell.json" test -n "$cell"
[ -n "$cell" ] && jq -c .environment.limits "$cell" | sed 's/^/    /'
# A cell asks for no cpu limit by default (runner/task/limits.c): "none".
check_json "cell.json: memory and pids enforced by cgroup v2, nothing degraded" "${cell:-/nonexistent}" \
  '.environment.cgroup_mode == "unified" and .environment.limits.memory == "cgroup-v2" and .environment.limits.pids == "cgroup-v2" and .environment.limits.cpu == "none" and (.environment | has("degraded") | not)'
check "no cab cgroup left in the user's slice" no_cab_cgroup_under "$user_slice"

# A sweep in one delegated scope: the sweep and its run-cell children share
# the scope, two cells at a time; each cell must still get its cgroup.
section "cab sweep -j 2 in one delegated scope"
cat >"$home/plan.json" <<EOF
{"sweep_id": "scope", "tuis": [{"tui": "oracle"}, {"tui": "nop"}], "models": [{"model": "cab/none"}],
 "tasks": ["polyglot/shell-word-count"], "reruns": 2, "host_rootfs": true, "memory": "512M"}
EOF
chown "$session_user" "$home/plan.json"
in_delegated_scope env CAB_HOME="$home/cab-home" "$cab" sweep "$home/plan.json" -j 2 --out "$home/sweep" \
  >"$W/sweep.out" 2>&1
rc=$?
tail -n 5 "$W/sweep.out" | sed 's/^/    /'
check "the sweep exits 0" test "$rc" = 0
cells=$(find "$home/sweep" -name cell.json 2>/dev/null)
check "the sweep wrote 4 cells" test "$(echo "$cells" | grep -c .)" = 4
check "the oracle's two cells pass" \
  test "$(for c in $cells; do jq -r 'select(.tui == "oracle") | .outcome' "$c"; done | sort | uniq -c | tr -s ' ')" = " 2 pass"
for c in $cells; do jq -c '[.tui, .environment.limits.memory, .environment.limits.pids]' "$c" | sed 's/^/    /'; done
check "every cell's memory and pids by cgroup v2" \
  test "$(for c in $cells; do jq -r '.environment.limits.memory + "/" + .environment.limits.pids' "$c"; done | sort -u)" = cgroup-v2/cgroup-v2
check "no cab cgroup left in the user's slice after the sweep" no_cab_cgroup_under "$user_slice"

# Root writes every cgroup: cab moves a script's processes into cab.leaf
# only where systemd marked the cgroup delegated (trusted.delegate), not in a
# service's own cgroup, where the cell goes to <mount>/cab instead.
section "as root: a script sharing a scope, with and without Delegate=yes"
share_script='sleep 300 & "$0" exec --host-rootfs --memory 64M --result "$1" -- true; cut -d: -f3 /proc/$!/cgroup; kill $!'
systemd-run --scope -p Delegate=yes --quiet -- bash -c "$share_script" "$cab" "$W/root-scope.json" >"$W/root-scope" 2>&1
sed 's/^/    /' "$W/root-scope"
check "delegated: the script's sleep moved into cab.leaf" grep -Eq '^/system.slice/run-[^/]*[.]scope/cab[.]leaf$' "$W/root-scope"
check_json "delegated: memory by cgroup v2" "$W/root-scope.json" '.limits.memory == "cgroup-v2"'
systemd-run --wait --pipe --quiet --collect -- bash -c "$share_script" "$cab" "$W/root-service.json" >"$W/root-service" 2>&1
sed 's/^/    /' "$W/root-service"
check "a service without Delegate=: its sleep stays in the service's cgroup" grep -Eq '^/system.slice/run-[^/]*[.]service$' "$W/root-service"
check_json "a service without Delegate=: memory by cgroup v2 (<mount>/cab)" "$W/root-service.json" '.limits.memory == "cgroup-v2"'

finish
