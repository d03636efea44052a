#!/bin/bash
# The compiled seccomp filter cache (sandbox/seccomp_cache.c) is loaded as it
# is, so a filter planted there must never be: cab reads an entry only when
# it is a regular file owned by its own uid and writable by no one else.
# The attack: the cache entry of the default policy rewritten into an
# allow-everything filter, owned by someone else (as root: nobody, as with
# root's cab and a user's HOME) or world-writable (as a user).  keyctl,
# refused by the default policy, must stay refused.  The control: the same
# planted filter in a file that is ours alone is loaded (keyctl works),
# which shows the planted filter would take effect without the check.
#
# Both places the cache can be: $XDG_CACHE_HOME/cab/seccomp, and, for a user
# without a usable HOME (a CI or HPC service account whose home does not
# exist: here HOME is a regular file), $CAB_HOME/cache/seccomp beside the
# store (common/userdir.c).  There a second run must hit the cache: its entry
# is the same file afterwards (a miss rewrites it through a temp file and a
# rename, a new inode); without the fallback there is no entry at all.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
setup
command -v python3 >/dev/null || skip "python3 not installed"

# plant FILE: its instructions become one "return ALLOW" (the header and the
# key stay, so the entry still matches).
plant() {
  python3 - "$1" <<'PY'
import struct, sys
p = sys.argv[1]
d = open(p, 'rb').read()
off = 8  # "CABBPF1\0"
klen = struct.unpack_from('<I', d, off)[0]
off += 4 + klen
allow = struct.pack('<HBBI', 0x06, 0, 0, 0x7fff0000)  # BPF_RET|BPF_K, SECCOMP_RET_ALLOW
open(p, 'wb').write(d[:off] + struct.pack('<I', 1) + allow)
PY
}

# check_cache WHERE DIR: the trust checks on the cache in DIR, which the
# current environment makes cab use.
check_cache() {
  local where=$1 dir=$2 entry how
  run_cab "$T/$where-first.json" exec --rootfs "$R" -- /usr/bin/probe report
  assert_rc 0 "$where: a first run fills the cache"
  assert_errno '.syscalls.keyctl' EPERM "$T/$where-first.json" "$where: the default policy refuses keyctl"
  entry=$(find "$dir" -name '*.bpf' 2>/dev/null | head -1)
  [ -n "$entry" ] || bail "$where: no cache entry under $dir"
  [ "$(find "$dir" -name '*.bpf' | wc -l)" = 1 ] || bail "$where: more than one cache entry"
  local before
  before=$(stat -c '%i %y' "$entry")
  run_cab "$T/$where-second.json" exec --rootfs "$R" -- /usr/bin/probe report
  assert_rc 0 "$where: a second run exits 0"
  assert_eq "$(stat -c '%i %y' "$entry")" "$before" "$where: the second run loads the entry (not rewritten)"

  plant "$entry"
  if is_root; then
    chown 65534:65534 "$entry" && chmod 0644 "$entry"
    how="owned by nobody"
  else
    chmod 0666 "$entry"
    how="world-writable"
  fi
  run_cab "$T/$where-foreign.json" exec --rootfs "$R" -- /usr/bin/probe report
  assert_rc 0 "$where: a run with a planted entry $how exits 0"
  assert_errno '.syscalls.keyctl' EPERM "$T/$where-foreign.json" "$where: a planted filter $how is not loaded: keyctl stays refused"

  # The control: the same filter in a file that is ours alone is trusted.
  rm -f "$entry"
  run_cab "$T/$where-again.json" exec --rootfs "$R" -- /usr/bin/probe report
  entry=$(find "$dir" -name '*.bpf' | head -1)
  plant "$entry"
  chmod 0600 "$entry"
  run_cab "$T/$where-own.json" exec --rootfs "$R" -- /usr/bin/probe report
  assert_json '.syscalls.keyctl' ok "$T/$where-own.json" "$where: control: the planted filter in our own 0600 file is loaded (keyctl works)"
}

export XDG_CACHE_HOME=$T/cache
check_cache xdg "$XDG_CACHE_HOME/cab/seccomp"

# No usable HOME (a file, so that not even root can make ~/.cache under it)
# and no XDG_CACHE_HOME: the cache is beside the store.
unset XDG_CACHE_HOME
touch "$T/no-home"
export HOME=$T/no-home CAB_HOME=$T/store
check_cache no-home "$CAB_HOME/cache/seccomp"
finish
