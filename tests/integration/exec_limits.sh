#!/bin/bash
# Resource limits: --pids (fork bomb), --memory (hog, oom_killed),
# --timeout (setsid'd daemon), --cpus, the mechanism reported in --result
# (root: cgroup-v1 here; user: rlimit / none), and no cgroup left behind.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
setup

# Which mechanism each limit should use in this pass.  On a cgroup v2 host
# with a delegated subtree root and user would both get cgroup-v2; the
# harness only knows hybrid v1 (no systemd) and plain v2.
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  cg_mech=cgroup-v2
else
  cg_mech=cgroup-v1
fi
if is_root; then
  want_mem=$cg_mech want_pids=$cg_mech want_cpu=$cg_mech
else
  want_mem=rlimit want_pids=rlimit want_cpu=none
fi

# cab.* cgroups under our own cgroup in each v1 hierarchy, as "ctl:name" lines.
list_cab_cgroups() {
  local c own
  for c in memory pids cpu cpuacct freezer blkio; do
    own=$(own_cgroup_v1 $c)
    [ -n "$own" ] && [ -d "/sys/fs/cgroup/$c$own" ] || continue
    find "/sys/fs/cgroup/$c$own" -maxdepth 2 -type d -name 'cab*' 2>/dev/null | sed "s|^|$c:|"
  done
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    own=$(awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup)
    find "/sys/fs/cgroup$own" -maxdepth 3 -type d -name 'cab*' 2>/dev/null
  fi
}
list_cab_cgroups | sort >"$T/cg.before"

# --- fork bomb under --pids 64 -----------------------------------------------
M=$(marker forkbomb)
at_exit "kill_marker $M"
run_cab "$T/fb" exec --rootfs "$R" --pids 64 --result "$T/fb.result" -- \
  /usr/bin/probe forkbomb 3 --leave "$M"
assert_rc 0 "cab returns the fork bomb's exit code (0)"
assert_cmp "$MS" -lt 20000 "cab returns after the fork bomb"
assert_json_valid "$T/fb" "the fork bomb reports"
forks=$(jget .forks "$T/fb")
assert_cmp "${forks:-x}" -le 64 "forks are capped by --pids 64"
assert_cmp "${forks:-x}" -ge 8 "the fork bomb did fork (at least a few times)"
assert_errno '.first_errno' EAGAIN "$T/fb" "fork fails with EAGAIN at the limit"
assert_json '.limits.pids' "$want_pids" "$T/fb.result" "--pids is enforced by $want_pids"
sleep 0.5
left=$(pids_with_marker "$M" | wc -l)
assert_eq "$left" 0 "no fork bomb child is left on the host"
assert_eq "$(/bin/true && echo alive)" alive "the host still forks"

# --- memory hog under --memory 64M ---------------------------------------------
run_cab "$T/hog" exec --rootfs "$R" --memory 64M --result "$T/hog.result" -- \
  /usr/bin/probe hog 512 10
assert_ne "$RC" 0 "a 512 MiB hog under --memory 64M does not exit 0"
assert_cmp "$MS" -lt 20000 "the hog is stopped well before it would have finished holding"
assert_json_valid "$T/hog.result" "--result after the hog is JSON"
assert_json '.oom_killed' true "$T/hog.result" "--result reports oom_killed"
assert_match "$(grep -c 'cab: exec: --memory fired: the command was killed out of memory' "$T/hog.err")" "^1$" \
  "cab says --memory fired (on stderr)"
assert_json '.limits.memory' "$want_mem" "$T/hog.result" "--memory is enforced by $want_mem"
if is_root; then
  assert_rc 137 "the OOM-killed hog exits 137 (SIGKILL)"
  assert_jq '.peak_memory_bytes > 32*1048576 and .peak_memory_bytes <= 72*1048576' "$T/hog.result" \
    "peak_memory_bytes is close to the 64M limit ($(jget .peak_memory_bytes "$T/hog.result"))"
fi

# Control: a small allocation under the same limit is fine.
run_cab "$T/small" exec --rootfs "$R" --memory 64M --result "$T/small.result" -- /usr/bin/probe hog 16 1
assert_rc 0 "a 16 MiB allocation under --memory 64M succeeds"
assert_json '.oom_killed' false "$T/small.result" "no oom_killed for a small allocation"
assert_jq '.peak_memory_bytes >= 16*1048576' "$T/small.result" \
  "peak_memory_bytes counts the 16 MiB held for 1 s ($(jget .peak_memory_bytes "$T/small.result"))"

# --- --timeout on a setsid'd daemon ------------------------------------------------
M=$(marker daemon)
at_exit "kill_marker $M"
run_cab "$T/dm" exec --rootfs "$R" --timeout 2 --result "$T/dm.result" -- /usr/bin/probe daemon "$M"
assert_ne "$RC" 0 "a command stopped by --timeout does not exit 0"
assert_cmp "$MS" -ge 1500 "--timeout 2 waits about 2 s"
assert_cmp "$MS" -lt 6000 "--timeout 2 returns in under 6 s"
assert_json '.timed_out' true "$T/dm.result" "--result reports timed_out"
assert_match "$(cat "$T/dm.err")" "^cab: exec: --timeout 2 s fired: the command was killed \(exit [0-9]+\)$" \
  "cab says the timeout fired (one line on stderr)"
assert_jq '.daemon_pid > 0' "$T/dm" "the daemon started (printed its pid)"
sleep 0.3
left=$(pids_with_marker "$M")
assert_eq "$(printf %s "$left" | tr '\n' ' ')" "" "no daemon process is left on the host"

# --- --cpus ------------------------------------------------------------------------
run_cab "$T/spin" exec --rootfs "$R" --cpus 0.5 --result "$T/spin.result" -- /usr/bin/probe spin 2
assert_rc 0 "spin under --cpus 0.5 exits 0"
assert_json '.limits.cpu' "$want_cpu" "$T/spin.result" "--cpus is enforced by $want_cpu"
if [ "$want_cpu" != none ]; then
  assert_jq '.cpu_ms < 1500' "$T/spin" "--cpus 0.5 holds 2 s of spinning under 1.5 s of CPU"
else
  assert_eq "$(wc -l <"$T/spin.err")" 1 "an unenforced --cpus gives a one-line warning"
fi

# --- mechanisms for all three at once; no limit -> none -------------------------------
run_cab "$T/all" exec --rootfs "$R" --memory 128M --pids 100 --cpus 1 --result "$T/all.result" -- /bin/true
assert_rc 0 "/bin/true with all limits exits 0"
assert_json '[.limits.memory, .limits.pids, .limits.cpu]' "[\"$want_mem\",\"$want_pids\",\"$want_cpu\"]" \
  "$T/all.result" "limits are enforced by memory=$want_mem pids=$want_pids cpu=$want_cpu"
if ! is_root; then
  assert_eq "$(wc -l <"$T/all.err")" 1 \
    "unprivileged limits give exactly one warning line"
fi
# On v1 the sandbox joins its cgroups itself through "tasks" files opened
# by cab (root's credentials): none of them may reach the command.
run_cab "$T/fds" exec --rootfs "$R" --memory 128M --pids 100 --cpus 1 -- \
  /bin/sh -c 'ls -l /proc/$$/fd/'
assert_rc 0 "a shell under all limits lists its fds"
assert_match "$(cat "$T/fds")" " 0 -> " "control: the listing shows where fd 0 points"
assert_eq "$(grep -c -e cgroup -e tasks "$T/fds")" 0 \
  "the command holds no cgroup file under limits ($(grep -o -e '-> .*' "$T/fds" | tr '\n' ' '))"
run_cab "$T/none" exec --rootfs "$R" --result "$T/none.result" -- /bin/true
assert_json '[.limits.memory, .limits.pids, .limits.cpu]' '["none","none","none"]' "$T/none.result" \
  "no limits asked: none"
assert_eq "$(cat "$T/none.err")" "" "no limits asked: no warning"

# --- no cgroup left behind -------------------------------------------------------------
if is_root; then
  # Control: while a limited cab runs, its cgroup is where we look.
  say "+ cab exec --rootfs R --memory 64M --pids 64 --cpus 1 -- probe sleep 3 &"
  timeout -k 5 "$CAB_TEST_TIMEOUT" "$CAB" exec --rootfs "$R" --memory 64M --pids 64 --cpus 1 -- \
    /usr/bin/probe sleep 3 >/dev/null 2>&1 </dev/null &
  bg=$!
  # v1: a "memory:" line; v2 (tests/hosts): the cgroup's path.
  if [ "$cg_mech" = cgroup-v2 ]; then
    want_found="^/sys/fs/cgroup/.*cab" own_cg="cgroup v2 cgroup"
  else
    want_found="memory:.*cab" own_cg="memory cgroup"
  fi
  found=""
  for _ in $(seq 40); do
    list_cab_cgroups | sort >"$T/cg.during"
    found=$(comm -13 "$T/cg.before" "$T/cg.during" | tr '\n' ' ')
    printf '%s' "$found" | grep -Eq -- "$want_found" && break
    sleep 0.05
  done
  assert_match "$found" "$want_found" "control: a running cab has a cab* cgroup under our own $own_cg ($found)"
  wait "$bg"
fi
# A cgroup cab left is one whose cab (its name is cab.PID.…) has exited: a
# live cab's is another run's (other tests may share the host's hierarchy).
owner_gone() {
  local line pid
  while read -r line; do
    pid=$(printf '%s' "${line##*/}" | sed -n 's/^cab\.\([0-9]*\)\..*/\1/p')
    [ -n "$pid" ] && [ -d "/proc/$pid" ] && continue
    printf '%s\n' "$line"
  done
}
list_cab_cgroups | sort >"$T/cg.after"
assert_eq "$(comm -13 "$T/cg.before" "$T/cg.after" | owner_gone | tr '\n' ' ')" "" "cab leaves no cgroup behind"

finish
