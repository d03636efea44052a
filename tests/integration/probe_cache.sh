#!/bin/bash
# The host probes' cache (sandbox/probe_cache.h): a run forks the user
# namespace probe (and an image run the overlay probe) once per boot; later
# runs find the success in $XDG_RUNTIME_DIR/cab/host-probes (0600, ours).
# The attack: a cache file someone else could have written (world-writable,
# or, as root, owned by another user) claiming the probes succeeded; it is
# ignored and the probes run again (seen with strace: the probe child's
# unshare(CLONE_NEWNS|CLONE_NEWUSER)).  A failed probe is not cached.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
setup --bare

export XDG_RUNTIME_DIR=$T/run
mkdir -p "$XDG_RUNTIME_DIR" && chmod 0700 "$XDG_RUNTIME_DIR"
CACHE=$XDG_RUNTIME_DIR/cab/host-probes

run_cab "$T/a" exec --rootfs "$R" -- /bin/true
assert_rc 0 "a first run works"
assert_eq "$(stat -c '%a %u' "$CACHE" 2>/dev/null)" "600 $(id -u)" \
  "the cache file is the user's own, mode 0600"
assert_match "$(cat "$CACHE")" "^userns boot=$(cat /proc/sys/kernel/random/boot_id) kernel=$(uname -r) uid=$(id -u) " \
  "the user namespace probe's success is cached with its boot, kernel and uid"

# probes OUT: how many probe children the run "cab exec --rootfs R" forked.
probes() {
  strace -f -qq -e trace=unshare -o "$T/strace" "$CAB" exec --rootfs "$R" -- /bin/true >/dev/null 2>&1
  grep -c 'unshare(CLONE_NEWNS|CLONE_NEWUSER)' "$T/strace"
}
if ! command -v strace >/dev/null 2>&1 || ! strace -f -qq -o /dev/null true 2>/dev/null; then
  say "# strace is not usable here: which runs probe is not checked"
else
  assert_eq "$(probes)" 0 "a later run forks no probe child"

  cp "$CACHE" "$T/good"
  chmod 0666 "$CACHE"
  assert_eq "$(probes)" 1 "a world-writable cache (anyone could have planted it) is ignored"
  assert_eq "$(stat -c '%a %u' "$CACHE")" "600 $(id -u)" "and replaced by the user's own"
  assert_eq "$(probes)" 0 "the replaced cache is trusted"

  if is_root; then
    chown 65534:65534 "$CACHE"
    assert_eq "$(probes)" 1 "a cache owned by another user is ignored"
    rm -f "$CACHE"
    ln -s "$T/good" "$CACHE"
    assert_eq "$(probes)" 1 "a cache that is a symlink is not followed"
  fi
fi

# A failed probe is not cached: a run where the user namespace cannot be
# used (/proc read-only, as userns_restricted.sh emulates) adds nothing.
readonly_proc='mount -o remount,bind,ro /proc && exec "$@"'
if is_root; then
  restricted=(unshare --mount --propagation private sh -c "$readonly_proc" sh)
else
  restricted=(unshare --user --map-root-user --mount sh -c "$readonly_proc" sh)
fi
if "${restricted[@]}" sh -c '! echo "0 0 1" >/proc/self/uid_map' 2>/dev/null; then
  before=$(cat "$CACHE")
  "${restricted[@]}" "$CAB" exec --rootfs "$R" -- /bin/true >/dev/null 2>"$T/r.err"
  assert_ne "$?" 0 "a run whose user namespace cannot be used fails"
  assert_eq "$(cat "$CACHE")" "$before" "the failure is not cached"
else
  say "# cannot emulate a restricted user namespace here: the failure case is not checked"
fi
finish
