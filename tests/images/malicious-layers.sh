#!/bin/bash
# Generate the malicious-layer corpus: raw tar / tar.gz layer files plus an
# expectation file, for tests/integration/unpack_malicious.sh.
#
#   tests/images/malicious-layers.sh OUTDIR
#
# Tars are written by tests/images/mktar.c (no python needed): taken from
# $MKTAR, else $CAB_BUILD/tests/mktar, else compiled into OUTDIR with cc -lz.
#
# OUTDIR/expectations.txt, one case a line, "|"-separated:
#   NAME|LAYERS|OUTCOME|EXPECT|WHAT MUST HOLD     (no "|" inside a field)
# LAYERS   comma-separated files in OUTDIR, applied in order to one target
# OUTCOME  rejected     the apply fails; EXPECT is an ERE its message matches
#          neutralised  the apply succeeds; EXPECT lists ";"-separated checks
#                       inside the target: f:P d:P p:P (type), l:P=TARGET,
#                       absent:P, content:P=TEXT, mode:P=OCTAL,
#                       stat:KEY=N / stat:KEY>=N (layer-apply --stats),
#                       hostabsent:/ABS (must not exist on the host)
# For every case, also: nothing outside the target changes (the test keeps
# a canary directory beside it and compares it byte for byte), host files
# named by the case stay as they were, and the target stays a directory.
# A "#limits" line gives the layer-apply options used for all cases.
set -euo pipefail
export LC_ALL=C

out=${1:?usage: malicious-layers.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)

mktar=${MKTAR:-}
if [ -z "$mktar" ] && [ -n "${CAB_BUILD:-}" ] && [ -x "$CAB_BUILD/tests/mktar" ]; then
  mktar=$CAB_BUILD/tests/mktar
fi
if [ -z "$mktar" ]; then
  mktar=$out/.mktar
  ${CC:-cc} -O2 -std=gnu11 -D_GNU_SOURCE -o "$mktar" "$here/mktar.c" -lz ||
    { echo "malicious-layers.sh: cannot compile mktar.c (cc and zlib1g-dev needed)" >&2; exit 1; }
fi

exp=$out/expectations.txt
cat >"$exp" <<'EOF'
# name|layers|outcome|expect|what must hold
#limits --max-bytes 1G --max-entries 100000 --max-path 4096
EOF

# layer FILE [-z]: the spec comes on stdin.
layer() { "$mktar" ${2:-} "$out/$1"; }
case_() { printf '%s|%s|%s|%s|%s\n' "$@" >>"$exp"; }

# --- names: .. and absolute --------------------------------------------------
layer dotdot.tar <<'EOF'
file ../../cab-escape-dotdot 0644 pwned
EOF
case_ dotdot dotdot.tar rejected 'climbs above the image root' \
  '../../x is refused, nothing is written anywhere'

layer dotdot-canary.tar <<'EOF'
file ../canary/pwned 0644 pwned
EOF
case_ dotdot-canary dotdot-canary.tar rejected 'climbs above the image root' \
  'the sibling canary directory is not reached'

layer dotdot-inner.tar <<'EOF'
dir a
file a/../../cab-escape-inner 0644 pwned
EOF
case_ dotdot-inner dotdot-inner.tar rejected 'climbs above the image root' \
  'a/../../x climbs too, after lexical cleaning'

layer absolute.tar <<'EOF'
file /etc/cab-escape-absolute 0644 pwned
EOF
case_ absolute absolute.tar neutralised \
  'f:etc/cab-escape-absolute;content:etc/cab-escape-absolute=pwned;hostabsent:/etc/cab-escape-absolute;stat:names_neutralised=1' \
  'the leading / is stripped: the file lands inside the target'

# --- symlinks ------------------------------------------------------------------
layer symlink-root.tar <<'EOF'
symlink link /
file link/etc/passwd 0644 pwned
EOF
case_ symlink-root symlink-root.tar neutralised 'l:link=/;content:etc/passwd=pwned' \
  'link -> / then link/etc/passwd writes the target'"'"'s etc/passwd, not the host'"'"'s'

layer symlink-up.tar <<'EOF'
symlink up ../../..
file up/cab-escape-up 0644 pwned
EOF
case_ symlink-up symlink-up.tar neutralised 'l:up=../../..;f:cab-escape-up' \
  'up -> ../../.. is clamped at the target root'

layer symlink-chain.tar <<'EOF'
dir sub
symlink sub/parent ..
symlink sub/parent/escapes ..
file sub/parent/escapes/escapes/cab-chain 0644 pwned
EOF
case_ symlink-chain symlink-chain.tar neutralised 'l:sub/parent=..;l:escapes=..;f:cab-chain' \
  'the symlink chain to .. of CVE-2020-27833 stays inside the target'

layer symlink-2layers-a.tar <<'EOF'
dir realetc
symlink etc ../../../../realetc
EOF
layer symlink-2layers-b.tar <<'EOF'
file etc/passwd 0644 pwned
EOF
case_ symlink-2layers symlink-2layers-a.tar,symlink-2layers-b.tar neutralised \
  'l:etc=../../../../realetc;content:realetc/passwd=pwned' \
  'a symlink planted by one layer is resolved inside the target by the next'

layer symlink-leaf.tar <<'EOF'
symlink passwd /etc/passwd
file passwd 0644 pwned
EOF
case_ symlink-leaf symlink-leaf.tar neutralised 'f:passwd;content:passwd=pwned' \
  'a file entry replaces an existing symlink leaf, never writes through it'

layer symlink-loop.tar <<'EOF'
symlink a b
symlink b a
file a/x 0644 pwned
EOF
case_ symlink-loop symlink-loop.tar rejected 'Too many levels of symbolic links' \
  'a symlink loop ends in an error'

# --- hardlinks -----------------------------------------------------------------
layer hardlink-abs.tar <<'EOF'
hardlink pwn /etc/passwd
EOF
case_ hardlink-abs hardlink-abs.tar rejected 'does not exist in the image' \
  'a hardlink to /etc/passwd names the target'"'"'s etc/passwd, which is missing'

layer hardlink-dotdot.tar <<'EOF'
hardlink pwn ../../../etc/passwd
EOF
case_ hardlink-dotdot hardlink-dotdot.tar rejected 'climbs above the image root' \
  'a hardlink to ../../../etc/passwd is refused'

layer hardlink-via-symlink.tar <<'EOF'
dir etc
file etc/passwd 0644 image-passwd
symlink hostetc /etc
hardlink pwn hostetc/passwd
EOF
case_ hardlink-via-symlink hardlink-via-symlink.tar neutralised \
  'content:pwn=image-passwd;l:hostetc=/etc;stat:hardlinks=1' \
  'a hardlink through a symlink to /etc links the target'"'"'s own file'

layer hardlink-overwrite.tar <<'EOF'
file a 0644 orig
hardlink b a
file b 0644 new
EOF
case_ hardlink-overwrite hardlink-overwrite.tar neutralised 'content:a=orig;content:b=new' \
  'a later entry replaces a hardlink, it does not write into the shared inode'

layer hardlink-dir.tar <<'EOF'
dir d
hardlink h d
EOF
case_ hardlink-dir hardlink-dir.tar rejected 'cannot link to' 'no hardlink to a directory'

# --- whiteouts -------------------------------------------------------------------
layer whiteout-dotdot.tar <<'EOF'
file ../.wh.canary 0644
EOF
case_ whiteout-dotdot whiteout-dotdot.tar rejected 'climbs above the image root' \
  '../.wh.canary cannot delete the sibling canary'

layer whiteout-inner.tar <<'EOF'
dir a
file a/../../.wh.canary 0644
EOF
case_ whiteout-inner whiteout-inner.tar rejected 'climbs above the image root' \
  'a/../../.wh.canary cannot either'

layer whiteout-dots.tar <<'EOF'
file .wh... 0644
EOF
case_ whiteout-dots whiteout-dots.tar rejected "names '\\.\\.'" '.wh... (a whiteout of ..) is refused'

layer whiteout-bare.tar <<'EOF'
file .wh. 0644
EOF
case_ whiteout-bare whiteout-bare.tar rejected "bare '\\.wh\\.'" 'a bare .wh. is invalid'

layer whiteout-symlink-a.tar <<'EOF'
dir canary
file canary/keep 0644 in-image
symlink up ../..
EOF
layer whiteout-symlink-b.tar <<'EOF'
file up/.wh.canary 0644
EOF
case_ whiteout-symlink whiteout-symlink-a.tar,whiteout-symlink-b.tar neutralised \
  'absent:canary;l:up=../..;stat:whiteouts=1' \
  'a whiteout through a symlink deletes only inside the target'

# --- the root ----------------------------------------------------------------------
layer root-symlink.tar <<'EOF'
symlink ./ /
file ./cab-root 0644 pwned
EOF
case_ root-symlink root-symlink.tar rejected 'root directory would change its type' \
  'CVE-2021-29136: ./ as a symlink is refused; the target stays a directory'

layer root-slash.tar <<'EOF'
symlink / ..
EOF
case_ root-slash root-slash.tar rejected 'root directory would change its type' \
  '/ as a symlink is refused'

layer root-file.tar <<'EOF'
file . 0644 pwned
EOF
case_ root-file root-file.tar rejected 'root directory would change its type' \
  '. as a regular file is refused'

# --- device nodes ------------------------------------------------------------------
layer devices.tar <<'EOF'
dir dev
char dev/null 1 3
block dev/sda 8 0
fifo dev/fifo
EOF
case_ devices devices.tar neutralised \
  'f:dev/null;mode:dev/null=0;f:dev/sda;mode:dev/sda=0;p:dev/fifo;stat:devices_placeholdered=2' \
  'char and block devices become empty mode-000 files; a FIFO is a FIFO'

# --- duplicates and type changes -------------------------------------------------
layer dup-file.tar <<'EOF'
file dup 0644 first
file dup 0600 second
EOF
case_ dup-file dup-file.tar neutralised 'content:dup=second;mode:dup=600' 'the later entry wins'

layer dup-file-dir.tar <<'EOF'
file x 0644 file
dir x 0755
file x/y 0644 y
EOF
case_ dup-file-dir dup-file-dir.tar neutralised 'd:x;content:x/y=y' 'file then directory: a directory'

layer dup-dir-symlink.tar <<'EOF'
dir d
file d/f 0644 f
symlink d /
file d/cab-through 0644 t
EOF
case_ dup-dir-symlink dup-dir-symlink.tar neutralised 'l:d=/;f:cab-through;absent:f' \
  'directory then symlink: the symlink, and writes through it stay inside'

# --- xattrs ------------------------------------------------------------------------
layer xattrs.tar <<'EOF'
pax SCHILY.xattr.trusted.overlay.opaque=y
pax SCHILY.xattr.security.capability=cap
pax SCHILY.xattr.user.cab.owner=0:0
pax SCHILY.xattr.user.overlay.redirect=/x
pax SCHILY.xattr.user.kept=1
file xf 0644 x
EOF
case_ xattrs xattrs.tar neutralised 'f:xf;stat:xattrs_dropped>=4' \
  'trusted.*, security.*, user.overlay.* and user.cab.* are dropped'

# --- resource exhaustion -------------------------------------------------------------
layer gzip-bomb.tar.gz -z <<'EOF'
zeros bomb 10G
EOF
case_ gzip-bomb gzip-bomb.tar.gz rejected 'apparent size.*past the limit of 1073741824' \
  'a 10 GiB file of zeros (about 10 MB compressed) is refused before it fills the disk'

layer gzip-bomb-stream.tar.gz -z <<'EOF'
file small 0644 small
rawzeros 4G
EOF
case_ gzip-bomb-stream gzip-bomb-stream.tar.gz rejected 'uncompressed stream passes the limit' \
  '4 GiB of zeros after the archive trip the byte cap while streaming'

layer sparse.tar <<'EOF'
sparse huge 1T
EOF
case_ sparse sparse.tar rejected 'apparent size' \
  'a sparse file of 1 TiB counts its apparent size against the limit'

layer long-path.tar <<'EOF'
longfile 5000
EOF
case_ long-path long-path.tar rejected 'more than the limit of 4096' \
  'a 5000-byte name is refused'

echo "$out: $(grep -vc '^#' "$exp") cases"
