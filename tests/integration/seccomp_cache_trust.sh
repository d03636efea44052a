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
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
setup
command -v python3 >/dev/null || skip "python3 not installed"
export XDG_CACHE_HOME=$T/cache
run_cab "$T/first.json" exec --rootfs "$R" -- /usr/bin/probe report
assert_rc 0 "a first run fills the cache"
assert_errno '.syscalls.keyctl' EPERM "$T/first.json" "the default policy refuses keyctl"
entry=$(find "$XDG_CACHE_HOME/cab/seccomp" -name '*.bpf' | head -1)
[ -n "$entry" ] || bail "no cache entry under $XDG_CACHE_HOME/cab/seccomp"
[ "$(find "$XDG_CACHE_HOME/cab/seccomp" -name '*.bpf' | wc -l)" = 1 ] || bail "more than one cache entry"

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

plant "$entry"
if is_root; then
  chown 65534:65534 "$entry" && chmod 0644 "$entry"
  how="owned by nobody"
else
  chmod 0666 "$entry"
  how="world-writable"
fi
run_cab "$T/foreign.json" exec --rootfs "$R" -- /usr/bin/probe report
assert_rc 0 "a run with a planted entry $how exits 0"
assert_errno '.syscalls.keyctl' EPERM "$T/foreign.json" "a planted filter $how is not loaded: keyctl stays refused"

# The control: the same filter in a file that is ours alone is trusted.
rm -f "$entry"
run_cab "$T/again.json" exec --rootfs "$R" -- /usr/bin/probe report
entry=$(find "$XDG_CACHE_HOME/cab/seccomp" -name '*.bpf' | head -1)
plant "$entry"
chmod 0600 "$entry"
run_cab "$T/own.json" exec --rootfs "$R" -- /usr/bin/probe report
assert_json '.syscalls.keyctl' ok "$T/own.json" "control: the planted filter in our own 0600 file is loaded (keyctl works)"
finish
