#!/bin/bash
# What the sandbox allows, as seen by the probe: namespaces, capabilities,
# no_new_privs, seccomp, /proc masking, /dev, read-only rootfs, network.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
setup

W=$T/work
mkdir -p "$W"
chmod 0777 "$W"

# A host process with a unique command line: it must not be visible inside.
HOSTMARK=$(marker host)
"$PROBE" sleep 60 "$HOSTMARK" &
host_pid=$!
disown
at_exit "kill -9 $host_pid"

run_cab "$T/r.json" exec --rootfs "$R" --bind "$W:/work" --workdir /work -- \
  /usr/bin/probe report --workdir-path /work --rootfs-path /probe-write-test
assert_rc 0 "probe report exits 0"
assert_json_valid "$T/r.json" "probe report is JSON"
J=$T/r.json

# --- pid namespace ---------------------------------------------------------
assert_jq '.pid != 1' "$J" "the command is not pid 1"
assert_jq '.pid < 10' "$J" "the command has a small pid (own pid namespace)"
assert_jq '(.nspid | split("\t") | length) == 1' "$J" "NSpid has one level: /proc is the sandbox's own"
assert_jq '(.visible_pids | length) <= 3' "$J" "only the sandbox's processes are in /proc"
assert_jq '.max_pid_seen < 10' "$J" "no host pid numbers in /proc"
assert_jq '.pid1_comm != "probe"' "$J" "pid 1 is cab's init, not the command"
assert_jq ".pid1_comm != \"$(cat /proc/1/comm)\"" "$J" "pid 1 is not the host's init"
run_cab "$T/ps" exec --rootfs "$R" -- /bin/sh -c 'cat /proc/[0-9]*/cmdline | tr "\0" " "'
assert_rc 0 "reading every cmdline exits 0"
assert_no_match "$(cat "$T/ps")" "$HOSTMARK" "a host process is not visible in /proc"
assert_match "$(cat "$T/ps")" "cmdline" "the sandbox's own processes are visible"

# --- identity and uts ----------------------------------------------------------
assert_json '.uid' 0 "$J" "uid 0 inside"
assert_json '.gid' 0 "$J" "gid 0 inside"
assert_jq ".uid_map | test(\"^ *0 +$(id -u) +1( |\$)\"; \"m\")" "$J" "the caller's uid ($(id -u)) is mapped to 0"
assert_jq ".gid_map | test(\"^ *0 +$(id -g) +1( |\$)\"; \"m\")" "$J" "the caller's gid ($(id -g)) is mapped to 0"
assert_json '.hostname' cab "$J" "hostname is cab"
assert_json '.etc_hostname' cab "$J" "/etc/hostname says cab"
assert_json '.etc_hosts_localhost' true "$J" "/etc/hosts has 127.0.0.1"
assert_json '.etc_resolv_conf' true "$J" "/etc/resolv.conf exists"

# --- cgroup namespace ----------------------------------------------------------
for c in memory pids cpu; do
  own=$(own_cgroup_v1 $c)
  if [ -n "$own" ] && [ "$own" != / ]; then
    assert_jq "[.cgroup[] | select(contains(\"$own\"))] | length == 0" "$J" \
      "the host's $c cgroup path ($own) is hidden (cgroup namespace)"
  fi
done
assert_jq '[.cgroup[] | select(test(":/\\.\\."))] | length == 0' "$J" "no cgroup path escapes the namespace root"

# --- network ------------------------------------------------------------------
assert_json '.interfaces' '["lo"]' "$J" "the only interface is lo"
assert_json '.lo_up' true "$J" "lo is up"
assert_json '.loopback_connect' ok "$J" "TCP over the sandbox's own loopback works"

# A listener on the host's 127.0.0.1 must not be reachable from inside.
"$PROBE" listen 0 20 "$(marker listen)" >"$T/port" &
listen_pid=$!
disown
at_exit "kill -9 $listen_pid"
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
port=$(cat "$T/port")
"$PROBE" connect "$port" >"$T/hostconn"
assert_json '.connect' ok "$T/hostconn" "control: the host can connect to its listener on 127.0.0.1:$port"
run_cab "$T/conn" exec --rootfs "$R" -- /usr/bin/probe connect "$port"
assert_errno '.connect' ECONNREFUSED "$T/conn" "the host's 127.0.0.1:$port is unreachable from inside"

# --- capabilities, no_new_privs, seccomp ---------------------------------------------
assert_json '.cap_eff' 00000000a80425fb "$J" "CapEff is Docker's default set"
assert_json '.cap_prm' 00000000a80425fb "$J" "CapPrm is Docker's default set"
assert_json '.cap_bnd' 00000000a80425fb "$J" "CapBnd is Docker's default set"
assert_json '.cap_amb' 0000000000000000 "$J" "no ambient capabilities"
assert_json '.no_new_privs' 1 "$J" "NoNewPrivs is 1"
assert_json '.seccomp' 2 "$J" "Seccomp is 2 (filter)"

for sc in keyctl add_key bpf unshare_newuser clone_newuser; do
  assert_errno ".syscalls.$sc" EPERM "$J" "$sc fails with EPERM"
done
assert_jq '.syscalls.mount_tmpfs != "ok"' "$J" "mounting a tmpfs fails"
assert_jq '.syscalls.mount_proc != "ok"' "$J" "mounting proc fails"
assert_jq '.syscalls.unshare_newns != "ok"' "$J" "unshare(CLONE_NEWNS) fails"
assert_jq '.syscalls.setns != "ok"' "$J" "setns fails"
assert_jq '.syscalls.socket_vsock != "ok"' "$J" "AF_VSOCK sockets are refused"
assert_jq '.syscalls.clone3 == "ok" or .syscalls.clone3.name == "ENOSYS"' "$J" \
  "clone3 works or gives ENOSYS (so libc falls back), never EPERM"
assert_json '.syscalls.socket_inet' ok "$J" "ordinary sockets work"
assert_json '.syscalls.chroot' ok "$J" "chroot works (CAP_SYS_CHROOT is in the default set)"
assert_json '.syscalls.ptrace_attach_child' ok "$J" "ptrace of an own child works"
assert_jq '[.syscalls[] | objects | select(has("signal"))] | length == 0' "$J" "no probe was killed by the filter"

# Controls: the EPERMs come from the filter, and the knobs work.
run_cab "$T/unconf.json" exec --rootfs "$R" --seccomp unconfined -- /usr/bin/probe report
assert_rc 0 "probe under --seccomp unconfined exits 0"
assert_json '.seccomp' 0 "$T/unconf.json" "--seccomp unconfined: Seccomp 0"
assert_json '.syscalls.keyctl' ok "$T/unconf.json" "--seccomp unconfined: keyctl works"
assert_json '.no_new_privs' 1 "$T/unconf.json" "--seccomp unconfined keeps NoNewPrivs 1"

cat >"$T/profile.json" <<'EOF'
{
  "defaultAction": "SCMP_ACT_ALLOW",
  "syscalls": [
    { "names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38 }
  ]
}
EOF
run_cab "$T/file.json" exec --rootfs "$R" --seccomp "$T/profile.json" -- /usr/bin/probe report
assert_rc 0 "probe under --seccomp FILE exits 0"
assert_json '.seccomp' 2 "$T/file.json" "--seccomp FILE: Seccomp 2"
assert_errno '.syscalls.keyctl' ENOSYS "$T/file.json" "--seccomp FILE: its keyctl rule (ENOSYS) applies"
assert_json '.syscalls.add_key' ok "$T/file.json" "--seccomp FILE: its default action (allow) applies"

run_cab "$T/drop.json" exec --rootfs "$R" --cap-drop ALL -- /usr/bin/probe report
assert_json '.cap_eff' 0000000000000000 "$T/drop.json" "--cap-drop ALL: CapEff 0"
assert_json '.cap_bnd' 0000000000000000 "$T/drop.json" "--cap-drop ALL: CapBnd 0"
assert_jq '.syscalls.chroot != "ok"' "$T/drop.json" "--cap-drop ALL: chroot fails"

run_cab "$T/adj.json" exec --rootfs "$R" --cap-drop NET_RAW --cap-add CAP_SYS_PTRACE -- /usr/bin/probe report
assert_json '.cap_eff' 00000000a80c05fb "$T/adj.json" "--cap-drop NET_RAW --cap-add CAP_SYS_PTRACE"

# --- /proc ---------------------------------------------------------------------
assert_json '.proc_is_procfs' true "$J" "/proc is a procfs"
assert_json '.proc_kcore.masked' true "$J" "/proc/kcore is masked"
[ -e /proc/kcore ] || say "note: the host has no /proc/kcore; checking the other masked paths"
for p in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug /proc/acpi /proc/scsi \
  /proc/latency_stats /proc/timer_stats /proc/asound; do
  if [ -e "$p" ]; then
    assert_json ".masked_paths[\"$p\"].masked" true "$J" "$p is masked"
  fi
done
if is_root; then
  assert_errno '.proc_sys_writable' EROFS "$J" "/proc/sys/kernel/hostname cannot be opened for writing"
else
  # Unprivileged, the file's owner (host root) is unmapped, so the
  # permission check (EACCES) comes before the read-only one; the
  # read-only mount itself is checked through statvfs below.
  assert_jq '.proc_sys_writable.name == "EROFS" or .proc_sys_writable.name == "EACCES"' "$J" \
    "/proc/sys/kernel/hostname cannot be opened for writing"
fi
for p in /proc/sys /proc/sysrq-trigger /proc/irq /proc/bus /proc/fs; do
  if [ -e "$p" ]; then
    assert_json ".readonly_paths[\"$p\"]" true "$J" "$p is read-only"
  fi
done

# --- /dev ----------------------------------------------------------------------
assert_json '.dev.null' "chr 1:3" "$J" "/dev/null"
assert_json '.dev.zero' "chr 1:5" "$J" "/dev/zero"
assert_json '.dev.full' "chr 1:7" "$J" "/dev/full"
assert_json '.dev.random' "chr 1:8" "$J" "/dev/random"
assert_json '.dev.urandom' "chr 1:9" "$J" "/dev/urandom"
assert_json '.dev.tty' "chr 5:0" "$J" "/dev/tty"
assert_jq '.dev.ptmx == "chr 5:2" or .dev.ptmx == "link:pts/ptmx" or .dev.ptmx == "link:/dev/pts/ptmx"' "$J" "/dev/ptmx"
assert_json '.dev.pts' dir "$J" "/dev/pts"
assert_json '.dev.shm' dir "$J" "/dev/shm"
assert_json '.dev.fd' link:/proc/self/fd "$J" "/dev/fd"
assert_json '.dev.stdin' link:/proc/self/fd/0 "$J" "/dev/stdin"
assert_json '.dev.stdout' link:/proc/self/fd/1 "$J" "/dev/stdout"
assert_json '.dev.stderr' link:/proc/self/fd/2 "$J" "/dev/stderr"
assert_json '.dev_other' '[]' "$J" "no other device nodes in /dev"
assert_json '.dev_zero_reads_zero' true "$J" "/dev/zero reads zeros"
assert_json '.dev_null_writable' true "$J" "/dev/null is writable"
assert_json '.dev_ptmx_open' ok "$J" "/dev/ptmx can be opened"

# --- filesystem ------------------------------------------------------------------
assert_errno '.rootfs_write' EROFS "$J" "writing to the rootfs fails with EROFS"
assert_json '.rootfs_readonly' true "$J" "/ is mounted read-only"
assert_eq "$(find "$R" -maxdepth 1 -name 'probe-write*' | wc -l)" 0 "nothing was written into the rootfs on the host"
assert_json '.workdir_write' ok "$J" "the bind-mounted workdir is writable"
assert_json '.cwd' /work "$J" "the command starts in --workdir"
assert_json '.tmp_writable' ok "$J" "/tmp is writable"
assert_json '.tmp_is_tmpfs' true "$J" "/tmp is a tmpfs"

# --- environment ---------------------------------------------------------------
assert_json '.env | sort' '["HOME","PATH","TERM"]' "$J" "the environment is PATH, HOME, TERM"

finish
