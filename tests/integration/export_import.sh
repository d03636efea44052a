#!/bin/bash
# cab export REF -o FILE.tar: the oci-archive that cab import reads.  Round
# trip: export, rmi, import on the same store and on an empty one, then exec:
# the same manifest digest, the image runs.  skopeo reads it as
# oci-archive:.  Two exports are byte-identical (fixed order, times,
# owners).  An export killed half-way (RLIMIT_FSIZE: SIGXFSZ at 64 KiB, a
# kill at a fixed point, no timing) leaves no FILE.tar, no temporary file,
# and an existing FILE.tar whole.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
setup --bare
command -v umoci >/dev/null 2>&1 || skip "umoci not installed (make deps)"
export CAB_HOME=$T/home
bash "$TESTS_DIR/images/busybox-image.sh" "$T/layout" v1 >"$T/image.log" 2>&1 ||
  bail "busybox-image.sh failed: $(tail -n 3 "$T/image.log" | tr '\n' ' ')"
run_cab "$T/o" import "$T/layout" --name cab-test/exp:v1
assert_rc 0 "the test image imports"
DIGEST=$(sed -n 's/.*@\(sha256:[0-9a-f]\{64\}\)$/\1/p' "$T/o")
[ -n "$DIGEST" ] || bail "cab import printed no digest: $(cat "$T/o")"

# --- export -o ----------------------------------------------------------------------------
mkdir -p "$T/x"
run_cab "$T/o" export cab-test/exp:v1 -o "$T/x/img.tar"
assert_rc 0 "export -o FILE.tar exits 0"
assert_eq "$(cat "$T/o")" "exported cab-test/exp:v1 to $T/x/img.tar (an oci-archive tar: 'cab import $T/x/img.tar' reads it)" \
  "export says what it wrote, in one line"
assert_eq "$(ls -A "$T/x")" img.tar "nothing but FILE.tar is left beside it"
assert_eq "$(tar -tf "$T/x/img.tar" | head -n 2 | tr '\n' ' ')" "oci-layout index.json " "the tar holds an OCI layout"
assert_json '.manifests[0].digest' "$DIGEST" <(tar -xOf "$T/x/img.tar" index.json) "its index names the image's manifest"
assert_json '.manifests[0].annotations["org.opencontainers.image.ref.name"]' docker.io/cab-test/exp:v1 \
  <(tar -xOf "$T/x/img.tar" index.json) "... under the image's name"
run_cab "$T/o" export --output "$T/x/again.tar" cab-test/exp:v1
assert_rc 0 "export --output (before REF)"
assert_eq "$(cmp -s "$T/x/img.tar" "$T/x/again.tar" && echo same)" same "two exports are byte-identical"
if command -v skopeo >/dev/null 2>&1; then
  if skopeo --insecure-policy inspect "oci-archive:$T/x/img.tar" >"$T/sk.json" 2>"$T/sk.err"; then
    assert_json '.Digest' "$DIGEST" "$T/sk.json" "skopeo reads the export as oci-archive:, same digest"
  else
    fail "skopeo inspect oci-archive:$T/x/img.tar: $(head -c 300 "$T/sk.err")"
  fi
else
  say "# skopeo not installed: the oci-archive is not checked against it"
fi

# --- round trip: rmi, import, exec --------------------------------------------------------
run_cab "$T/o" rmi cab-test/exp:v1
assert_rc 0 "rmi the image"
run_cab "$T/o" inspect cab-test/exp:v1
assert_rc 125 "... it is gone"
run_cab "$T/o" import "$T/x/img.tar"
assert_rc 0 "import FILE.tar"
assert_eq "$(cat "$T/o")" "cab-test/exp@$DIGEST" "it comes back under its name, with the same manifest digest"
run_cab "$T/o" exec cab-test/exp:v1 -- /bin/sh -c 'echo ran in $(pwd)'
assert_rc 0 "exec the re-imported image"
assert_eq "$(cat "$T/o")" "ran in /work" "... it runs, in the image's WorkingDir"
# On an empty store (the offline host).
export CAB_HOME=$T/home-offline
run_cab "$T/o" import "$T/x/img.tar"
assert_rc 0 "import FILE.tar into an empty store"
assert_eq "$(cat "$T/o")" "cab-test/exp@$DIGEST" "... the same digest"
run_cab "$T/o" exec cab-test/exp:v1 -- /bin/true
assert_rc 0 "... and it runs"
export CAB_HOME=$T/home

# --- killed half-way ----------------------------------------------------------------------
size=$(stat -c %s "$T/x/img.tar")
assert_cmp "$size" -gt $((256 * 1024)) "the tar is larger than the 64 KiB the next export may write"
echo old >"$T/x/old.tar"
kill_export() { # FILE: cab export with RLIMIT_FSIZE 64 KiB, killed by SIGXFSZ
  { (ulimit -f 64 && exec "$CAB" export cab-test/exp:v1 -o "$1") >"$T/k.out" 2>"$T/k.err" </dev/null; } 2>/dev/null
  RC=$?
}
kill_export "$T/x/new.tar"
assert_eq "$RC" $((128 + 25)) "the export was killed mid-way by SIGXFSZ"
[ -e "$T/x/new.tar" ] && fail "a half-written new.tar is left ($(stat -c %s "$T/x/new.tar") bytes)" ||
  pass "a half-written export leaves no FILE.tar"
kill_export "$T/x/old.tar"
assert_eq "$RC" $((128 + 25)) "an export over an existing file, killed mid-way"
assert_eq "$(cat "$T/x/old.tar")" old "... the existing FILE.tar is untouched"
assert_eq "$(ls -A "$T/x" | tr '\n' ' ')" "again.tar img.tar old.tar " "... and no temporary file is left"

# --- errors ---------------------------------------------------------------------------------
run_cab "$T/o" export cab-test/none:v1 -o "$T/x/none.tar"
assert_rc 125 "export of an image not in the store: 125"
assert_eq "$(wc -l <"$T/o.err")" 1 "... one line"
[ -e "$T/x/none.tar" ] && fail "a failed export left none.tar" || pass "... and no file"
run_cab "$T/o" export cab-test/exp:v1 -o "$T/nodir/img.tar"
assert_rc 125 "export into a directory that does not exist: 125"
assert_match "$(cat "$T/o.err")" "^cab: export cab-test/exp:v1 to $T/nodir/img.tar: " "... naming what and where"
run_cab "$T/o" export cab-test/exp:v1 "$T/x/dir" -o "$T/x/both.tar"
assert_rc 125 "a DIR and -o together: 125"
assert_eq "$(cat "$T/o.err")" "cab: export: with -o FILE.tar give only the image (REF), no DIR; see 'cab export --help'" "... in one line"
finish
