#!/bin/bash
# --host-rootfs: the host's / read-only, with the sandbox's own /proc, /dev
# and /tmp, and the same isolation as --rootfs.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
setup

W=$T/work
mkdir -p "$W"
# As root, a --host-rootfs sandbox runs as host uid 65534 (root-only host
# files stay unreadable): a rw bind must be writable by it.
is_root && chown 65534:65534 "$W"
HOSTTMP=$(mktemp "${TMPDIR:-/tmp}/cab-host-marker.XXXXXX")
at_exit "rm -f '$HOSTTMP'"
# A path on the host's real filesystem (not /tmp, which is replaced) where
# a write must fail: next to the probe, which we know exists.
PROBE_DIR=$(dirname "$PROBE")
WRITE_PATH=$PROBE_DIR/.cab-host-write-test-$$
# A checkout under /tmp (a CI clone) is hidden by the sandbox's own /tmp,
# and one in a home by the host-rootfs masks: bind the probe's directory
# back, read-only, at the same path.
PROBE_BIND=()
case $PROBE_DIR in
/tmp/* | "${TMPDIR:-/tmp}"/* | /home/* | /root/* | "${HOME:-/nonexistent}"/*)
  PROBE_BIND=(--bind "$PROBE_DIR:$PROBE_DIR:ro") ;;
esac
at_exit "rm -f '$WRITE_PATH'"

# The bind goes under /tmp: that is the sandbox's own tmpfs, so its mount
# point can be made without touching the host.
run_cab "$T/r.json" exec --host-rootfs "${PROBE_BIND[@]}" --bind "$W:/tmp/work-rw" -- \
  "$PROBE" report --rootfs-path "$WRITE_PATH" --workdir-path /tmp/work-rw
assert_rc 0 "probe report under --host-rootfs exits 0"
assert_json_valid "$T/r.json" "probe report is JSON"
J=$T/r.json

assert_errno '.rootfs_write' EROFS "$J" "writing next to the probe ($PROBE_DIR) fails with EROFS"
assert_eq "$(find "$PROBE_DIR" -maxdepth 1 -name '.cab-host-write-test*' | wc -l)" 0 "nothing was written on the host"
assert_json '.rootfs_readonly' true "$J" "/ is read-only"
assert_json '.workdir_write' ok "$J" "a rw bind is writable under --host-rootfs"

assert_jq '.pid != 1 and .pid < 10' "$J" "own pid namespace, command not pid 1"
assert_jq '.max_pid_seen < 10' "$J" "no host pids in /proc"
assert_json '.interfaces' '["lo"]' "$J" "only lo"
assert_json '.hostname' cab "$J" "hostname cab"
assert_json '.cap_eff' 00000000a80425fb "$J" "CapEff is Docker's default set"
assert_json '.no_new_privs' 1 "$J" "NoNewPrivs 1"
assert_json '.seccomp' 2 "$J" "Seccomp 2"
assert_errno '.syscalls.keyctl' EPERM "$J" "keyctl EPERM"
assert_errno '.syscalls.unshare_newuser' EPERM "$J" "unshare(CLONE_NEWUSER) EPERM"
assert_jq '.syscalls.mount_tmpfs != "ok"' "$J" "mount fails"
assert_json '.readonly_paths["/proc/sys"]' true "$J" "/proc/sys is read-only"
for p in /proc/kcore /proc/keys /proc/timer_list /proc/acpi /proc/scsi; do
  if [ -e "$p" ]; then
    assert_json ".masked_paths[\"$p\"].masked" true "$J" "$p is masked"
  fi
done
assert_json '.dev_other' '[]' "$J" "the host's /dev is not visible (own /dev)"
assert_json '.dev.null' "chr 1:3" "$J" "/dev/null"
assert_json '.tmp_is_tmpfs' true "$J" "/tmp is a tmpfs"
assert_json '.tmp_writable' ok "$J" "/tmp is writable"
assert_json '.env | sort' '["HOME","PATH","TERM"]' "$J" "env is PATH HOME TERM"

# The host's /tmp is not what the sandbox sees.
run_cab "$T/ls" exec --host-rootfs -- /bin/ls -A /tmp
assert_rc 0 "ls /tmp exits 0"
assert_no_match "$(cat "$T/ls")" "$(basename "$HOSTTMP")" "the host's /tmp is replaced by a fresh tmpfs"

# The host's files are there, read-only.
run_cab "$T/os" exec --host-rootfs -- /bin/cat /etc/os-release
assert_rc 0 "reading a host file exits 0"
assert_eq "$(cat "$T/os")" "$(cat /etc/os-release)" "host files are visible"
run_cab "$T/w" exec --host-rootfs "${PROBE_BIND[@]}" -- "$PROBE" write /etc/cab-write-test
assert_errno '.result' EROFS "$T/w" "writing to host /etc fails with EROFS"
[ -e /etc/cab-write-test ] && { fail "a file appeared in the host's /etc"; rm -f /etc/cab-write-test; }

# Unprivileged: host files the caller cannot read stay unreadable (root on
# the host maps to nobody inside, so uid 0 inside gains nothing).
if ! is_root && [ -e /etc/shadow ] && ! [ -r /etc/shadow ]; then
  run_cab "$T/sh" exec --host-rootfs -- /bin/cat /etc/shadow
  assert_ne "$RC" 0 "an unprivileged caller still cannot read /etc/shadow"
  assert_eq "$(wc -c <"$T/sh")" 0 "nothing of /etc/shadow was printed"
fi

# Root: the sandbox's root maps to host 65534, so root-only host files stay
# unreadable (finding: an agent read /etc/shadow and /root).
if is_root && [ -e /etc/shadow ]; then
  run_cab "$T/sh" exec --host-rootfs -- /bin/cat /etc/shadow
  assert_ne "$RC" 0 "as root, the sandbox still cannot read /etc/shadow"
  assert_eq "$(wc -c <"$T/sh")" 0 "nothing of /etc/shadow was printed"
fi

# A --bind destination the host lacks is never created in the host's /
# (as root, cab once made it there): one clear error, nothing on the host.
MISSING=/var/lib/cab-bind-missing-$$
at_exit "rmdir '$MISSING'"
run_cab "$T/miss" exec --host-rootfs --bind "$W:$MISSING" -- /bin/true
assert_rc 125 "a --bind to a destination missing on the host is a cab error"
assert_match "$(cat "$T/miss.err")" "missing on the host.*never writes" "the error says the host's / is not written"
assert_eq "$(wc -l <"$T/miss.err")" 1 "the error is one line"
[ -e "$MISSING" ] && fail "cab created $MISSING in the host's /" || pass "nothing was created in the host's /var/lib"

# Exit codes are the same as with --rootfs.
run_cab "$T/o" exec --host-rootfs -- /bin/sh -c 'exit 7'
assert_rc 7 "exit 7 under --host-rootfs"

finish
