#!/bin/bash
# cab_layer_apply on a real multi-layer image (tests/images/busybox-image.sh,
# built with umoci) against the peer tool: "umoci unpack --rootless" of the
# same image must give the same tree: paths, types, modes, symlink targets,
# file contents and mtimes.  Owners are not compared: as root both trees are
# 0:0 (the image's owners); unprivileged, both belong to the invoking user
# (umoci and cab both record other owners in an xattr, and this image has
# none).  Also: the same layers uncompressed and as zstd, diff_id mismatch
# and truncated blobs, and the image's own semantics (whiteouts, opaque
# directory, hardlinks, a 0555 directory written into by a later layer).
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/tools/unpack-lib.sh"

command -v umoci >/dev/null || skip "umoci not installed (make deps)"
command -v jq >/dev/null || skip "jq not installed (make deps)"
T=$(mktemp -d "${TMPDIR:-/tmp}/cab-$TEST_NAME.XXXXXX") || bail "mktemp failed"
chmod 0755 "$T"
trap _cleanup EXIT
export HOME=${HOME:-$T}
say "# $TEST_NAME as $CAB_TEST_MODE ($(id -un 2>/dev/null || id -u)), T=$T"
LA=$(need_tool layer-apply) || bail "cannot build layer-apply"

IMG=$T/img
bash "$TESTS_DIR/images/busybox-image.sh" "$IMG" test >"$T/img.out" 2>&1 ||
  bail "busybox-image.sh failed: $(tail -n 5 "$T/img.out")"
say "# $(cat "$T/img.out")"

# --- cab vs umoci ---------------------------------------------------------------
"$LA" --stats "$T/cab" --layout "$IMG:test" >"$T/stats" 2>"$T/err"
assert_eq "$?" 0 "layer-apply of the image ($(cat "$T/err"))"
umoci unpack --rootless --image "$IMG:test" "$T/umoci" >"$T/umoci.out" 2>&1
assert_eq "$?" 0 "umoci unpack --rootless ($(tail -n 3 "$T/umoci.out"))"
tree_listing "$T/cab" >"$T/cab.list"
tree_listing "$T/umoci/rootfs" >"$T/umoci.list"
if diff -u "$T/umoci.list" "$T/cab.list" >"$T/list.diff"; then
  pass "same paths, types, modes, link targets and contents as umoci ($(wc -l <"$T/cab.list") lines)"
else
  fail "tree differs from umoci's: $(head -c 1500 "$T/list.diff")"
fi
tree_times "$T/cab" >"$T/cab.times"
tree_times "$T/umoci/rootfs" >"$T/umoci.times"
if diff -u "$T/umoci.times" "$T/cab.times" >"$T/times.diff"; then
  pass "same mtimes as umoci"
else
  fail "mtimes differ from umoci's: $(head -c 1500 "$T/times.diff")"
fi
assert_json '.whiteouts' 5 "$T/stats" "5 whiteouts applied (opaque included)"
assert_json '.hardlinks' 2 "$T/stats" "2 hardlinks"
assert_json '.chown_failures' 0 "$T/stats" "every owner is 0:0, so none fails"
if is_root; then
  assert_eq "$(find "$T/cab" ! -user 0 -o ! -group 0 | head -n 3)" "" "as root, everything is 0:0"
else
  assert_eq "$(find "$T/cab" ! -user "$(id -u)" | head -n 3)" "" "rootless, everything is the user's"
fi

# --- the image's own semantics, independently of umoci -----------------------------
R=$T/cab
[ ! -e "$R/etc/deleteme" ] && pass "whiteout removed etc/deleteme" || fail "etc/deleteme survived"
[ ! -e "$R/var/lib/olddir" ] && pass "whiteout removed the directory var/lib/olddir" ||
  fail "var/lib/olddir survived"
assert_eq "$(cd "$R/opq" && find . -mindepth 1 | sort | tr '\n' ' ')" \
  "./new ./sub ./sub/b2 ./sub2 ./sub2/c " "opaque directory holds only the upper layer's content"
assert_eq "$(stat -c %a "$R/usr/local/bin/tool")" 751 "0751 file"
assert_eq "$(stat -c %a "$R/srv/shared")" 2775 "setgid directory"
assert_eq "$(stat -c %a "$R/tmp")" 1777 "sticky /tmp"
assert_eq "$(stat -c %i "$R/bin/busybox")" "$(stat -c %i "$R/usr/sbin/bb-hard")" "hardlink shares the inode"
assert_eq "$(stat -c %h "$R/work/links/one")" 1 "the deleted hardlink twin is gone"
assert_eq "$(readlink "$R/usr/sbin/bb-rel")" ../../bin/busybox "relative symlink"
assert_eq "$(readlink "$R/work/links/readme")" ../README "symlink from the hand-made layer"
assert_eq "$(readlink "$R/srv/replaced")" shared "directory replaced by a symlink"
[ -f "$R/usr/bin/env2" ] && [ ! -L "$R/usr/bin/env2" ] && pass "symlink replaced by a file" ||
  fail "usr/bin/env2 is not a file"
[ -d "$R/work/thing" ] && pass "file replaced by a directory" || fail "work/thing is not a directory"
assert_eq "$(stat -c %a "$R/usr/share/ro")" 555 "0555 directory keeps its mode"
assert_eq "$(cat "$R/usr/share/ro/two" 2>/dev/null)" "written into a 0555 dir" \
  "a later layer wrote into the 0555 directory"
assert_eq "$(cat "$R/work/caf$(printf '\xc3\xa9').txt" 2>/dev/null)" "café" "UTF-8 file name"
assert_eq "$("$R/bin/busybox" echo works 2>/dev/null)" works "the unpacked busybox runs"

# --- same layers, uncompressed and zstd ----------------------------------------------
M=$(jq -r '.manifests[0].digest' "$IMG/index.json" | cut -d: -f2)
CFG=$(jq -r '.config.digest' "$IMG/blobs/sha256/$M" | cut -d: -f2)
mapfile -t LAYERS < <(jq -r '.layers[].digest' "$IMG/blobs/sha256/$M" | cut -d: -f2)
mapfile -t DIFFS < <(jq -r '.rootfs.diff_ids[]' "$IMG/blobs/sha256/$CFG")
assert_eq "${#LAYERS[@]}" 4 "4 layers"
args_tar=() args_zst=()
for i in "${!LAYERS[@]}"; do
  gzip -dc "$IMG/blobs/sha256/${LAYERS[$i]}" >"$T/l$i.tar"
  args_tar+=(--diff-id "${DIFFS[$i]}" "$T/l$i.tar")
  if command -v zstd >/dev/null; then
    zstd -q -3 -f "$T/l$i.tar" -o "$T/l$i.tar.zst"
    args_zst+=(--diff-id "${DIFFS[$i]}" "$T/l$i.tar.zst")
  fi
done
"$LA" "$T/plain" "${args_tar[@]}" 2>"$T/err"
assert_eq "$?" 0 "uncompressed layers apply ($(cat "$T/err"))"
assert_eq "$(tree_listing "$T/plain")" "$(cat "$T/cab.list")" "uncompressed layers give the same tree"
if [ ${#args_zst[@]} -gt 0 ]; then
  "$LA" "$T/zstd" "${args_zst[@]}" 2>"$T/err"
  assert_eq "$?" 0 "zstd layers apply ($(cat "$T/err"))"
  assert_eq "$(tree_listing "$T/zstd")" "$(cat "$T/cab.list")" "zstd layers give the same tree"
else
  say "# zstd not installed: zstd layers are covered by test_unpack only"
fi

# --- integrity ---------------------------------------------------------------------
wrong=sha256:$(printf '%064d' 0)
"$LA" "$T/bad" --diff-id "$wrong" "$IMG/blobs/sha256/${LAYERS[0]}" 2>"$T/err"
assert_ne "$?" 0 "a wrong diff_id fails"
assert_match "$(cat "$T/err")" "diff_id mismatch: got ${DIFFS[0]} expected $wrong" "mismatch message"
# The same tar with garbage after its end-of-archive blocks: libarchive stops
# at the end marker, the hash must not.
{ cat "$T/l1.tar"; printf 'trailing bytes'; } >"$T/trail.tar"
"$LA" "$T/trail" --diff-id "${DIFFS[1]}" "$T/trail.tar" 2>"$T/err"
assert_ne "$?" 0 "bytes after the end of the archive are hashed too"
assert_match "$(cat "$T/err")" "diff_id mismatch" "trailing bytes change the diff_id"
size=$(stat -c %s "$IMG/blobs/sha256/${LAYERS[0]}")
head -c $((size / 2)) "$IMG/blobs/sha256/${LAYERS[0]}" >"$T/trunc.gz"
"$LA" "$T/trunc" "$T/trunc.gz" 2>"$T/err"
assert_ne "$?" 0 "a truncated gzip layer fails"
assert_match "$(cat "$T/err")" "truncated" "truncation message"
rm_tree "$T/trunc"
rm_tree "$T/bad"

finish
