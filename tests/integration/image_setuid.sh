#!/bin/bash
# A rootful store must not hand out setuid root.  The test builds an image
# (umoci) holding a setuid-root copy of a tiny program that prints a file,
# imports it and runs it once (so its rootfs is cached), then:
#  - every directory of $CAB_HOME is 0700, and an older store with 0755
#    directories is tightened when cab next opens it (the seccomp filter
#    cache too);
#  - as root: another local user (cabtest, else nobody) can neither reach
#    nor run the cached setuid binary, so a root-only file stays unreadable;
#  - cab unpack REF DIR leaves no setuid/setgid file and says so in one
#    line; with --keep-setuid (as root) the bit stays;
#  - cab exec IMAGE still works.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
command -v umoci >/dev/null 2>&1 || skip "umoci not installed (make deps)"
command -v gcc >/dev/null 2>&1 || skip "gcc not installed (make deps)"
setup --bare
export CAB_HOME=$T/home

# --- the fixture: an image with a setuid-root reader ---------------------------
cat >"$T/suidcat.c" <<'EOF'
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
/* Print euid, then the first bytes of argv[1]. */
int main(int argc, char **argv) {
  printf("euid=%d\n", (int)geteuid());
  if (argc < 2) return 0;
  int fd = open(argv[1], O_RDONLY);
  if (fd < 0) { perror(argv[1]); return 3; }
  char buf[64];
  ssize_t n = read(fd, buf, sizeof buf);
  if (n > 0) fwrite(buf, 1, (size_t)n, stdout);
  return 0;
}
EOF
gcc -static -O1 -o "$T/suidcat" "$T/suidcat.c" 2>"$T/gcc.err" || bail "gcc: $(head -c 300 "$T/gcc.err")"
L=$T/layout
B=$T/bundle
ROOTLESS=()
is_root || ROOTLESS=(--rootless)
{
  umoci init --layout "$L" &&
    umoci new --image "$L:t" &&
    umoci config --image "$L:t" --config.cmd /bin/sh &&
    umoci unpack "${ROOTLESS[@]}" --image "$L:t" "$B"
} >"$T/umoci.out" 2>&1 || bail "umoci: $(tail -n 3 "$T/umoci.out")"
mkdir -p "$B/rootfs/bin" "$B/rootfs/usr/bin" "$B/rootfs/tmp" "$B/rootfs/etc"
cp "$(command -v busybox || echo /bin/busybox)" "$B/rootfs/bin/busybox"
ln -s busybox "$B/rootfs/bin/sh"
ln -s busybox "$B/rootfs/bin/true"
cp "$T/suidcat" "$B/rootfs/usr/bin/suidcat"
chmod 4755 "$B/rootfs/usr/bin/suidcat"
cp "$T/suidcat" "$B/rootfs/usr/bin/sgidcat"
chmod 2755 "$B/rootfs/usr/bin/sgidcat"
umoci repack --image "$L:t" "$B" >"$T/repack.out" 2>&1 || bail "umoci repack: $(tail -n 3 "$T/repack.out")"
chmod -R u+rwX "$B"
rm -rf "$B"

run_cab "$T/import" import "$L" --name suid/img:1
assert_rc 0 "the setuid image imports"
run_cab "$T/run" exec suid/img:1 -- /usr/bin/suidcat
assert_rc 0 "cab exec IMAGE runs the image's program"
assert_match "$(cat "$T/run")" "^euid=" "the program ran in the sandbox"

# --- the store is private ------------------------------------------------------
CACHE=$(find "$CAB_HOME/rootfs" -mindepth 1 -maxdepth 1 -type d ! -name '.*' | head -n 1)
[ -n "$CACHE" ] || bail "no cached rootfs under $CAB_HOME/rootfs"
for d in "$CAB_HOME" "$CAB_HOME/oci" "$CAB_HOME/oci/blobs" "$CAB_HOME/oci/blobs/sha256" \
  "$CAB_HOME/rootfs" "$CAB_HOME/tmp" "$CAB_HOME/locks"; do
  assert_eq "$(stat -c %a "$d")" 700 "${d#"$T"/} is 0700"
done

# An older store (0755 everywhere) is tightened when cab opens it.
chmod 0755 "$CAB_HOME" "$CAB_HOME/oci" "$CAB_HOME/oci/blobs" "$CAB_HOME/oci/blobs/sha256" \
  "$CAB_HOME/rootfs" "$CAB_HOME/tmp" "$CAB_HOME/locks"
run_cab "$T/images" images
assert_rc 0 "cab images on the older store"
for d in "$CAB_HOME" "$CAB_HOME/oci/blobs/sha256" "$CAB_HOME/rootfs"; do
  assert_eq "$(stat -c %a "$d")" 700 "${d#"$T"/} is tightened to 0700 on open"
done

# The seccomp filter cache too (XDG_CACHE_HOME/cab/seccomp): an older one is
# tightened when cab next uses it.
mkdir -p "$T/cache/cab/seccomp"
chmod 0755 "$T/cache/cab" "$T/cache/cab/seccomp"
XDG_CACHE_HOME=$T/cache run_cab "$T/sc" exec suid/img:1 -- /bin/true
assert_rc 0 "cab exec IMAGE with an older seccomp cache"
assert_eq "$(stat -c %a "$T/cache/cab/seccomp")" 700 "the seccomp cache is tightened to 0700"

# --- as root: the cached setuid binary is out of other users' reach -------------
if is_root; then
  assert_eq "$(stat -c '%a %u' "$CACHE/usr/bin/suidcat")" "4755 0" \
    "the cache keeps the image's setuid-root binary (the store is what protects it)"
  OTHER=cabtest
  id "$OTHER" >/dev/null 2>&1 || OTHER=nobody
  SECRET=$T/secret
  echo "root-only-secret" >"$SECRET"
  chmod 0600 "$SECRET"
  # as_other CMD...: a login-like shell of that user runs CMD (setpriv
  # itself still holds root's capabilities while it looks CMD up).
  as_other() { setpriv --reuid="$OTHER" --regid="$(id -g "$OTHER")" --clear-groups /bin/sh -c '"$@"' sh "$@"; }
  as_other "$CACHE/usr/bin/suidcat" "$SECRET" >"$T/other.out" 2>&1
  other_rc=$?
  assert_ne "$other_rc" 0 "$OTHER cannot run the cached setuid binary"
  assert_no_match "$(cat "$T/other.out")" "root-only-secret" "$OTHER did not read the root-only file"
  assert_no_match "$(cat "$T/other.out")" "euid=0" "$OTHER never ran as euid 0"
  as_other ls "$CAB_HOME/rootfs" >"$T/other.ls" 2>&1
  assert_ne "$?" 0 "$OTHER cannot list \$CAB_HOME/rootfs"
fi

# --- cab unpack: no setuid/setgid unless asked -------------------------------------
run_cab "$T/u1" unpack suid/img:1 "$T/plain"
assert_rc 0 "cab unpack exits 0"
assert_eq "$(find "$T/plain" -type f -perm /6000 | wc -l)" 0 "cab unpack leaves no setuid/setgid file"
assert_eq "$(stat -c %a "$T/plain/usr/bin/suidcat")" 755 "the setuid binary is 0755"
assert_eq "$(stat -c %a "$T/plain/usr/bin/sgidcat")" 755 "the setgid binary is 0755"
assert_eq "$(grep -c 'setuid/setgid' "$T/u1.err")" 1 "one line says the bits were removed"
assert_match "$(cat "$T/u1.err")" "removed the setuid/setgid bits of 2 files.*--keep-setuid" \
  "the line counts them and names --keep-setuid"

run_cab "$T/u2" unpack --keep-setuid suid/img:1 "$T/kept"
assert_rc 0 "cab unpack --keep-setuid exits 0"
if is_root; then
  assert_eq "$(stat -c '%a %u' "$T/kept/usr/bin/suidcat")" "4755 0" "--keep-setuid keeps setuid root"
  assert_eq "$(stat -c %a "$T/kept/usr/bin/sgidcat")" 2755 "--keep-setuid keeps setgid"
  assert_eq "$(grep -c 'setuid/setgid' "$T/u2.err")" 0 "nothing is said when nothing was removed"
  rm -rf "$T/kept"
else
  # Rootless, the owner is the caller: the bit would not be root's anyway.
  assert_eq "$(find "$T/kept" -type f -perm /6000 | wc -l)" 0 "rootless, --keep-setuid still drops bits whose owner is not applied"
fi
run_cab "$T/u3" unpack suid/img:1
assert_rc 125 "a missing DIR is a usage error"
assert_match "$(cat "$T/u3.err")" "usage: cab unpack \[--keep-setuid\] REF DIR" "the usage names --keep-setuid"

finish
