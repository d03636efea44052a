#!/bin/bash
# cab exec IMAGE: a stored image's cached rootfs under a fresh per-run layer
# (overlay, or a private copy with CAB_NO_OVERLAY=1), with the image config's
# Env, WorkingDir and Cmd; the cache is never written; unpacked once.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
setup --bare
command -v umoci >/dev/null 2>&1 || skip "umoci not installed (make deps)"

export CAB_HOME=$T/home
"$TESTS_DIR/images/busybox-image.sh" "$T/layout" t1 >/dev/null 2>&1 || bail "busybox-image.sh failed"
run_cab "$T/import" import "$T/layout" --name exec-test/bb:1
assert_rc 0 "the test image imports"

run_cab "$T/a" exec exec-test/bb:1 -- /bin/sh -c 'pwd; echo changed > /etc/x; cat /etc/x; echo "PATH=$PATH"'
assert_rc 0 "cab exec IMAGE runs a command"
assert_eq "$(sed -n 1p "$T/a")" /work "the image's WorkingDir is the working directory"
assert_eq "$(sed -n 2p "$T/a")" changed "the root is writable for the run"
assert_match "$(cat "$T/a")" "PATH=/" "the image's Env reaches the command"
roots=$(find "$CAB_HOME/rootfs" -mindepth 1 -maxdepth 1 -type d ! -name '.*' | wc -l)
assert_eq "$roots" 1 "the image is unpacked once into the rootfs cache"
cache=$(find "$CAB_HOME/rootfs" -mindepth 1 -maxdepth 1 -type d ! -name '.*' | head -1)
assert_eq "$(ls "$cache/etc/x" 2>/dev/null)" "" "the run's write did not reach the cache"

run_cab "$T/b" exec exec-test/bb:1 -- /bin/cat /etc/x
assert_ne "$RC" 0 "a second run starts from the image, not from the first run's changes"
assert_eq "$(find "$CAB_HOME/rootfs" -mindepth 1 -maxdepth 1 -type d ! -name '.*' | wc -l)" 1 \
  "the second run reuses the cached rootfs"

# The run's layer is thrown away, so it is mounted "volatile": its unmount
# does not sync the whole upper file system (bench/busy-disk.sh).
run_cab "$T/mi" exec exec-test/bb:1 -- /bin/cat /proc/self/mountinfo
assert_rc 0 "cab exec IMAGE reads its mountinfo"
# (6.6+ shows it as "fsync=volatile".)
assert_match "$(awk '$5 == "/" && $9 == "overlay"' "$T/mi")" "(,|fsync=)volatile(,|$)" \
  "the run's overlay root is mounted volatile"

run_cab "$T/c" exec --workdir / exec-test/bb:1 --env FOO=bar -- /bin/sh -c 'pwd; echo "$FOO"'
assert_rc 0 "options may come before and after IMAGE"
assert_eq "$(tr '\n' ' ' <"$T/c")" "/ bar " "--workdir and --env override the image config"

CAB_NO_OVERLAY=1 run_cab "$T/d" exec exec-test/bb:1 -- /bin/sh -c 'echo copy > /etc/y; cat /etc/y'
assert_rc 0 "without overlay, the run gets a private copy of the rootfs"
assert_eq "$(cat "$T/d")" copy "the copied root is writable"
assert_match "$(cat "$T/d.err")" "copying the image's rootfs" "the copy fallback is said out loud"
assert_eq "$(ls "$cache/etc/y" 2>/dev/null)" "" "the copy fallback leaves the cache untouched"

run_cab "$T/e" exec no-such/image:1 -- /bin/true
assert_rc 125 "a missing image is a cab error"
assert_eq "$(wc -l <"$T/e.err")" 1 "a missing image gives one line"
assert_match "$(cat "$T/e.err")" "cab pull" "the line says how to get the image"

# An image whose config names its user (not numeric ids): one clear error,
# and no per-run layer left behind (every such run used to leak one).
cp -a "$T/layout" "$T/layout-named"
umoci config --image "$T/layout-named:t1" --config.user nobody >/dev/null 2>&1 ||
  bail "umoci config --config.user failed"
run_cab "$T/imp2" import "$T/layout-named" --name exec-test/named-user:1
assert_rc 0 "the named-user image imports"
run_cab "$T/f" exec exec-test/named-user:1 -- /bin/true
assert_rc 125 "an image User that is a name is a cab error"
assert_match "$(cat "$T/f.err")" 'runs as user "nobody".*--user' "the error says to pass --user"

# A run's layer on disk is removed behind it by a process that holds the
# layer's lock (runner/cell/leftovers.h): wait_layers DIR waits for ours in
# DIR (made since the import) by taking each one's lock in turn.
wait_layers() {
  find "$1" -maxdepth 1 -name 'cab-exec-*' -user "$(id -u)" -newer "$T/import" \
    -exec flock {} true \; 2>/dev/null
  return 0
}
wait_layers "${TMPDIR:-/tmp}"
leftover=$(find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'cab-exec-*' -user "$(id -u)" -newer "$T/import" 2>/dev/null | wc -l)
assert_eq "$leftover" 0 "no per-run overlay directory is left behind"

# A killed unpack's tree (.tmp-<manifest hex>-<pid>, its unpack lock free) is
# removed by the next run that may unpack, whatever image it runs.
fake=$CAB_HOME/rootfs/.tmp-$(printf '%064d' 7)-99999
mkdir -p "$fake/usr/bin" && head -c 65536 /dev/zero >"$fake/usr/bin/big"
run_cab "$T/g" exec exec-test/bb:1 -- /bin/true
assert_rc 0 "cab exec IMAGE runs beside a killed unpack's leftovers"
assert_eq "$(ls -d "$fake" 2>/dev/null)" "" "the killed unpack's tree is removed"

# The run's layer: in memory where the kernel's overlay works on a tmpfs in
# a user namespace (a tmpfs of the sandbox's own: nothing in TMPDIR), else a
# cab-exec-* directory in TMPDIR.  A run with --memory keeps it in TMPDIR:
# in memory, writes to / would go around the watchdog's count (no cgroup) or
# eat the budget, where on disk they do neither (the defence: without the
# --memory condition the layer below is in memory and the check fails).
mkdir -p "$T/tmpdir"
TMPDIR=$T/tmpdir run_cab "$T/l" exec --bind "$T/tmpdir:/hosttmp" exec-test/bb:1 -- /bin/sh -c \
  'rm -rf /opq && mkdir /opq && ls -A /opq; ls /hosttmp'
assert_rc 0 "an image run with TMPDIR set works"
if [ ! -s "$T/l" ]; then
  pass "the layer is in memory: no directory in TMPDIR during the run, and a directory of the image removed and made again is empty"
else
  say "# (the kernel does not keep an overlay's layer on a tmpfs here: disk layers only)"
  assert_match "$(cat "$T/l")" "^cab-exec-" "on disk, the layer is a cab-exec-* directory in TMPDIR"
fi
TMPDIR=$T/tmpdir run_cab "$T/m" exec --no-cgroup --memory 512M --bind "$T/tmpdir:/hosttmp" \
  exec-test/bb:1 -- /bin/sh -c 'rm -rf /opq && mkdir /opq && ls -A /opq; ls /hosttmp'
assert_rc 0 "an image run with --memory works"
assert_match "$(cat "$T/m")" "^cab-exec-" "with --memory the layer is a directory in TMPDIR, not memory"
wait_layers "$T/tmpdir"
assert_eq "$(ls "$T/tmpdir")" "" "the disk layer is removed after the run"

# The core cab runs an image whose rootfs is unpacked by itself, without
# cab-full's libraries (libarchive, curl, libgit2...): a copy of build/cab
# alone in a directory runs it; an image still to unpack needs cab-full.
mkdir -p "$T/core" && cp "$CAB" "$T/core/cab"
heavy=$(readelf -dW "$CAB" 2>/dev/null | grep NEEDED | grep -Eo 'lib(archive|crypto|ssl|curl|git2|sqlite3|microhttpd|zstd|z)\.so[^]]*' | tr '\n' ' ')
assert_eq "$heavy" "" "the core cab links none of cab-full's heavy libraries"
CAB=$T/core/cab run_cab "$T/h" exec exec-test/bb:1 -- /bin/sh -c 'echo core; cat /etc/x'
assert_rc 1 "the core cab alone runs an unpacked image (and its root starts from the image)"
assert_eq "$(cat "$T/h")" core "the core cab's image run prints"
assert_eq "$(cat "$T/h.err")" "cat: can't open '/etc/x': No such file or directory" \
  "the core cab runs the image with nothing of its own on stderr"
run_cab "$T/imp3" import "$T/layout" --name exec-test/bb-again:1
# (Moved, not removed: as a user, rm cannot empty the image's 0555 dirs.)
mv "$cache" "$T/unpacked-before"
CAB=$T/core/cab run_cab "$T/i" exec exec-test/bb-again:1 -- /bin/true
assert_rc 125 "an image still to unpack goes to cab-full (absent here)"
assert_match "$(cat "$T/i.err")" "needs .*cab-full" "the core says it needs cab-full to unpack"
run_cab "$T/j" exec exec-test/bb-again:1 -- /bin/true
assert_rc 0 "with cab-full beside it, cab unpacks the image again and runs it"
finish
