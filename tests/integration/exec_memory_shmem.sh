#!/bin/bash
# Memory that is in no process's RSS still counts against --memory: a memfd
# held only by its fd, and files written to the sandbox's tmpfs mounts (/tmp,
# /dev/shm) and closed, and detached SysV segments (capped by kernel.shmall).  Without a memory cgroup (the unprivileged pass here,
# and --no-cgroup in both passes) the watchdog must see them; with one (root)
# the cgroup charges them.  Each generator (probe shmfill) writes at most
# 1.5 GiB and exits by itself after a few seconds, whatever happens.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
setup

if [ -f /sys/fs/cgroup/cgroup.controllers ]; then cg_mech=cgroup-v2; else cg_mech=cgroup-v1; fi
if is_root; then default_mech=$cg_mech; else default_mech=rlimit; fi

# fill NAME MECH-EXPECTED CAB-FLAGS... -- TARGET: run probe shmfill TARGET 1536 MiB
# under --memory 64M and check it is killed and reported out of memory.
fill() {
  local name=$1 want=$2 target
  shift 2
  local flags=()
  while [ "$1" != -- ]; do flags+=("$1"); shift; done
  target=$2
  run_cab "$T/$name" exec --rootfs "$R" --memory 64M "${flags[@]}" --result "$T/$name.result" -- \
    /usr/bin/probe shmfill "$target" 1536 5
  assert_rc 137 "$name: the 1.5 GiB $target fill is killed (SIGKILL) under --memory 64M"
  assert_json '.oom_killed' true "$T/$name.result" "$name: reported as out of memory"
  assert_json '.limits.memory' "$want" "$T/$name.result" "$name: memory enforced by $want"
  if [ "$want" = rlimit ]; then
    assert_match "$(jq -r .enforced.memory "$T/$name.result")" \
      '^watchdog \(anon\+shmem\+memfd\+tmpfs, poll 10 ms\)( and RLIMIT_DATA)?$' \
      "$name: the report names the watchdog and what it counts"
  fi
}

fill memfd "$default_mech" -- memfd
fill tmp "$default_mech" -- /tmp/fill
fill shm "$default_mech" -- /dev/shm/fill
# The watchdog alone, in both passes.
fill memfd-watchdog rlimit --no-cgroup -- memfd
fill tmp-watchdog rlimit --no-cgroup -- /tmp/fill

# SysV segments outlive every mapping (no watchdog sees a detached one): the
# sandbox's IPC namespace holds at most the memory budget of them.
run_cab "$T/sysv" exec --rootfs "$R" --memory 64M --no-cgroup -- /usr/bin/probe shmfill sysv 1536 0
assert_rc 0 "the SysV fill runs"
assert_json '.written_mib' 64 "$T/sysv" "at most 64 MiB of SysV shared memory under --memory 64M"
assert_json '.errno' 28 "$T/sysv" "the next segment fails with ENOSPC (kernel.shmall)"

# The sandbox's tmpfs mounts are never larger than the memory budget.
run_cab "$T/df" exec --rootfs "$R" --memory 64M -- /bin/df -k /tmp /dev/shm
assert_rc 0 "df runs"
assert_eq "$(awk 'NR > 1 { print $2 }' "$T/df" | sort -u | tr '\n' ' ')" "65536 " \
  "/tmp and /dev/shm are 64 MiB under --memory 64M"

# Controls: 16 MiB held the same ways is fine under the same limit.
for target in memfd /tmp/fill; do
  run_cab "$T/small" exec --rootfs "$R" --memory 64M --no-cgroup --result "$T/small.result" -- \
    /usr/bin/probe shmfill "$target" 16 1
  assert_rc 0 "16 MiB in $target under --memory 64M (watchdog) is allowed"
  assert_json '.oom_killed' false "$T/small.result" "16 MiB in $target is not out of memory"
  assert_jq '.peak_memory_bytes >= 16*1048576' "$T/small.result" \
    "the watchdog's peak counts the 16 MiB in $target ($(jget .peak_memory_bytes "$T/small.result"))"
done

finish
