#!/bin/bash
# Build a small multi-layer OCI image layout from Debian's busybox-static,
# with the real peer tool umoci (init, new, unpack --rootless, modify the
# bundle, repack; one hand-made layer via "umoci raw add-layer").
#
#   tests/images/busybox-image.sh OUTDIR [TAG]      (TAG defaults to "latest")
#
# OUTDIR is replaced by an OCI image layout (oci-layout, index.json,
# blobs/sha256/...) whose index names TAG.  Works as root and as an
# unprivileged user (umoci --rootless; every file is owned by 0:0 in the
# layers either way).  Prints one line: "OUTDIR:TAG N layers".
#
# The layers, in order (all gzip, as umoci writes them):
#   1 base     busybox + relative applet symlinks, an absolute symlink,
#              a hardlink, /etc files, /work/README, files to delete later,
#              opq/ with lower content, a 1777 /tmp
#   2 changes  whiteouts: etc/deleteme (file) and var/lib/olddir (a dir);
#              a 0751 file, a 2775 (setgid) dir, a changed file, new /work
#              content, a 0555 directory with a file, a UTF-8 name
#   3 opaque   hand-made with tar: opq/.wh..wh..opq plus new opq/ content
#              (the directory is emptied of layer-1 content and refilled),
#              a hardlink pair, a symlink to a relative parent path
#   4 types    file -> dir (work/thing), dir -> symlink (srv/replaced),
#              symlink -> file (usr/bin/env2), a file written into the
#              0555 directory, a deleted hardlink twin, an empty file
#
# Interface is stable: other tests (registry/pull, the runner) reuse it.
set -euo pipefail
export LC_ALL=C
umask 022

out=${1:?usage: busybox-image.sh OUTDIR [TAG]}
tag=${2:-latest}
bb=$(command -v busybox 2>/dev/null || echo /bin/busybox)
[ -x "$bb" ] || { echo "busybox-image.sh: busybox not found (apt-get install busybox-static)" >&2; exit 1; }
command -v umoci >/dev/null || { echo "busybox-image.sh: umoci not found (make deps)" >&2; exit 1; }
tar --version 2>/dev/null | grep -q 'GNU tar' || { echo "busybox-image.sh: GNU tar needed" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/cab-bbimage.XXXXXX")
trap 'chmod -R u+rwX "$work" 2>/dev/null; rm -rf "$work"' EXIT
img="$out:$tag"
B=$work/bundle
R=$B/rootfs
layers=0

# Reproducible: the same busybox gives the same digests on every build.
# Every file's mtime, the config's "created" and each history entry's are
# one fixed time (SOURCE_DATE_EPOCH when set, else 2024-01-02 03:04:05 UTC);
# owners are 0:0; umoci and tar write entries in a fixed order and gzip
# headers without a time.  The demo relies on it (runner/demo/demo.sh: the
# image's digest printed by one run must still be in the store after the next).
epoch=${SOURCE_DATE_EPOCH:-1704164645}
case $epoch in ''|*[!0-9]*) echo "busybox-image.sh: SOURCE_DATE_EPOCH must be whole seconds, not '$epoch'" >&2; exit 1;; esac
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
stamp() { find "$@" -exec touch -h -d "@$epoch" {} + ; }

# (chmod first: unprivileged, rm -rf cannot empty the image's 0555 directory)
unpack() { [ ! -d "$B" ] || chmod -R u+rwX "$B"; rm -rf "$B"; umoci unpack --rootless --image "$img" "$B" >/dev/null; }
repack() {
  umoci repack --image "$img" --history.created "$created" --history.created_by "busybox-image.sh: $1" "$B" >/dev/null
  layers=$((layers + 1))
}

rm -rf "$out"
umoci init --layout "$out"
umoci new --image "$img"
umoci config --image "$img" --created "$created" --history.created "$created" --config.cmd /bin/sh --config.workingdir /work \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# --- layer 1: base ------------------------------------------------------------
unpack
(
  cd "$R"
  mkdir -p bin sbin usr/bin usr/sbin usr/local/bin proc dev sys etc root home work \
    var/lib/olddir/sub var/tmp opq/sub srv/replaced run tmp
  chmod 0755 bin sbin usr usr/bin usr/sbin usr/local usr/local/bin proc dev sys etc home work \
    var var/lib var/lib/olddir var/lib/olddir/sub opq opq/sub srv srv/replaced run
  chmod 0700 root
  chmod 1777 tmp var/tmp
  cp "$bb" bin/busybox
  chmod 0755 bin/busybox
  for applet in $("$bb" --list); do
    [ "$applet" = busybox ] || ln -s busybox "bin/$applet"
  done
  ln -s /bin/busybox usr/bin/env2             # absolute symlink
  ln -s ../../bin/busybox usr/sbin/bb-rel      # relative symlink with ..
  ln bin/busybox usr/sbin/bb-hard              # hardlink (same inode)
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >etc/passwd
  printf 'root:x:0:\nnogroup:x:65534:\n' >etc/group
  echo 'busybox-image layer 1' >etc/motd
  echo 'delete me in layer 2' >etc/deleteme
  echo x >var/lib/olddir/x
  echo y >var/lib/olddir/sub/y
  echo 'lower a' >opq/a
  echo 'lower b' >opq/sub/b
  echo 'lower keep' >opq/keep
  echo 'a file in srv/replaced' >srv/replaced/f
  printf 'cab test image\n' >work/README
  chmod 0644 etc/passwd etc/group etc/motd etc/deleteme var/lib/olddir/x var/lib/olddir/sub/y \
    opq/a opq/sub/b opq/keep srv/replaced/f work/README
  stamp .
)
repack "layer 1 base"

# --- layer 2: whiteouts and modes --------------------------------------------
unpack
(
  cd "$R"
  rm etc/deleteme
  rm -rf var/lib/olddir
  printf '#!/bin/sh\necho tool\n' >usr/local/bin/tool
  chmod 0751 usr/local/bin/tool
  mkdir -p srv/shared
  chmod 2775 srv/shared
  echo 'in a setgid dir' >srv/shared/file
  chmod 0640 srv/shared/file
  echo 'busybox-image layer 2' >etc/motd
  echo hello >work/hello.txt
  echo 'a file, to become a directory' >work/thing
  printf 'caf\xc3\xa9\n' >"work/caf$(printf '\xc3\xa9').txt"
  mkdir -p usr/share/ro
  echo 'read-only dir content' >usr/share/ro/one
  chmod 0644 work/hello.txt work/thing usr/share/ro/one "work/caf$(printf '\xc3\xa9').txt"
  chmod 0555 usr/share/ro
  stamp .
)
repack "layer 2 whiteouts and modes"

# --- layer 3: an opaque directory, by hand ----------------------------------------
S=$work/stage3
mkdir -p "$S/opq/sub2" "$S/opq/sub" "$S/work/links"
: >"$S/opq/.wh..wh..opq"
echo 'upper new' >"$S/opq/new"
echo 'upper sub b' >"$S/opq/sub/b2"
echo 'upper c' >"$S/opq/sub2/c"
echo 'linked twice' >"$S/work/links/one"
ln "$S/work/links/one" "$S/work/links/two"
ln -s ../README "$S/work/links/readme"
chmod 0755 "$S/opq" "$S/opq/sub" "$S/opq/sub2" "$S/work" "$S/work/links"
chmod 0644 "$S/opq/new" "$S/opq/sub/b2" "$S/opq/sub2/c" "$S/work/links/one" "$S/opq/.wh..wh..opq"
stamp "$S"
# The directory entries come first, then the opaque marker, as in
# image-spec's example; owners are 0:0 as umoci writes them.
(cd "$S" && tar --numeric-owner --owner=0 --group=0 --no-recursion --format=pax \
  --pax-option=delete=atime,delete=ctime -cf "$work/layer3.tar" \
  work work/links work/links/one work/links/two work/links/readme \
  opq opq/.wh..wh..opq opq/new opq/sub opq/sub/b2 opq/sub2 opq/sub2/c)
umoci raw add-layer --image "$img" --history.created "$created" --history.created_by "busybox-image.sh: layer 3 opaque" \
  "$work/layer3.tar" >/dev/null
layers=$((layers + 1))

# --- layer 4: type changes and a write into a 0555 directory -----------------------
unpack
(
  cd "$R"
  rm work/thing
  mkdir work/thing
  echo 'now inside a directory' >work/thing/inside
  rm -rf srv/replaced
  ln -s shared srv/replaced
  rm usr/bin/env2
  echo 'env2 is a file now' >usr/bin/env2
  chmod u+w usr/share/ro
  echo 'written into a 0555 dir' >usr/share/ro/two
  chmod 0555 usr/share/ro
  rm work/links/two
  : >work/empty
  chmod 0644 work/thing/inside usr/bin/env2 usr/share/ro/two work/empty
  chmod 0755 work/thing
  stamp .
)
repack "layer 4 type changes"

echo "$img $layers layers"
