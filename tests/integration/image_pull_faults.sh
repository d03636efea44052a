#!/bin/bash
# cab pull against a broken or hostile registry: a blob corrupted in the
# registry's storage, a connection cut in the middle of a blob (resumed with
# Range), and manifests that must be refused (manifest/index confusion,
# mediaType vs Content-Type, schema1, foreign layers, bad digest strings,
# bytes that do not match the pinned digest).  Every failure: exit 125, one
# error line naming the ref, nothing left in the store.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/registry/registry.sh"
reg_setup
reg_tools
reg_image "$T/layout"
reg_start plain "$T/storage"
reg_push "$T/layout:latest" "$REG_PORT" cab/busybox:latest
GOOD_PORT=$REG_PORT
MDIGEST=$(jq -r '.manifests[0].digest' "$T/layout/index.json")
MANIFEST=$T/layout/blobs/sha256/${MDIGEST#sha256:}
BIG=$(jq -r '.layers | max_by(.size) | .digest' "$MANIFEST")
BIGSIZE=$(jq -r '.layers | max_by(.size) | .size' "$MANIFEST")

expect_clean_failure() { # MESSAGE PATTERN
  assert_eq "$RC" 125 "$1: exit 125"
  assert_one_line_error "$T/o.err" "$1"
  assert_match "$(cat "$T/o.err")" "$2" "$1: the error says why"
  assert_eq "$(store_blob_count)" 0 "$1: no blob in the store"
  assert_eq "$(store_tmp_count)" 0 "$1: no partial file in the store"
  assert_eq "$(store_ref_count)" 0 "$1: no ref"
}

# --- a blob corrupted in the registry's storage ----------------------------------
cp -a "$T/storage" "$T/storage-bad"
data=$T/storage-bad/docker/registry/v2/blobs/sha256/${BIG:7:2}/${BIG#sha256:}/data
[ -f "$data" ] || bail "registry blob file $data not found"
printf 'CORRUPTED-BY-THE-TEST' | dd of="$data" bs=1 seek=$((BIGSIZE / 2)) conv=notrunc status=none
reg_start bad "$T/storage-bad"
export CAB_HOME=$T/home-corrupt
run_cab "$T/o" pull --insecure "127.0.0.1:$REG_PORT/cab/busybox:latest"
expect_clean_failure "corrupted blob" "digest mismatch"
assert_match "$(cat "$T/o.err")" "127.0.0.1:$REG_PORT/cab/busybox:latest" "corrupted blob: the error names the ref"
assert_match "$(cat "$T/o.err")" "blob $BIG" "corrupted blob: the error names the blob"
# A truncated blob (shorter than its descriptor) fails too, after retries.
cp -a "$T/storage" "$T/storage-short"
data=$T/storage-short/docker/registry/v2/blobs/sha256/${BIG:7:2}/${BIG#sha256:}/data
truncate -s $((BIGSIZE / 3)) "$data"
reg_start short "$T/storage-short"
export CAB_HOME=$T/home-short
CAB_PULL_ATTEMPTS=2 run_cab "$T/o" pull --insecure "127.0.0.1:$REG_PORT/cab/busybox:latest"
expect_clean_failure "truncated blob" "blob $BIG"

# --- a connection cut in the middle of a blob, resumed -------------------------------------
export CAB_HOME=$T/home-resume
reg_proxy "$GOOD_PORT" "$T/cut.log" --cut-after $((BIGSIZE / 2))
run_cab "$T/o" pull --insecure "127.0.0.1:$PROXY_PORT/cab/busybox:latest"
assert_eq "$RC" 0 "a pull survives a connection cut mid-blob"
assert_eq "$(cat "$T/o")" "127.0.0.1:$PROXY_PORT/cab/busybox@$MDIGEST" "  ...and pins the image"
assert_match "$(cat "$T/cut.log")" "cut /v2/cab/busybox/blobs/$BIG at" "the proxy cut the big layer"
resumed=$(grep "GET /v2/cab/busybox/blobs/$BIG .*range=bytes=[1-9][0-9]*-" "$T/cut.log" | head -n1)
assert_ne "$resumed" "" "the retry asked for the rest with Range (not from byte 0)"
say "# $resumed"
f=$CAB_HOME/oci/blobs/sha256/${BIG#sha256:}
assert_eq "sha256:$(sha256sum <"$f" | cut -d' ' -f1)" "$BIG" "the resumed blob is intact"
assert_eq "$(stat -c %s "$f")" "$BIGSIZE" "  ...and complete"

# --- hostile manifests (served by the proxy instead of the registry's) ---------------------------
H=$(printf 'x' | sha256sum | cut -d' ' -f1)
CFG=$(jq -c '.config' "$MANIFEST")
LAYERS=$(jq -c '.layers' "$MANIFEST")
OCI_M=application/vnd.oci.image.manifest.v1+json
OCI_I=application/vnd.oci.image.index.v1+json
DOCKER_M=application/vnd.docker.distribution.manifest.v2+json
serve() { # NAME CONTENT-TYPE JSON...: a proxy serving that manifest; sets PROXY_PORT
  printf '%s' "$3" >"$T/$1.json"
  reg_proxy "$GOOD_PORT" "$T/$1.log" --manifest "$T/$1.json" --content-type "$2"
}
hostile() { # NAME CONTENT-TYPE JSON PATTERN [REF-SUFFIX]
  serve "$1" "$2" "$3"
  export CAB_HOME=$T/home-$1
  run_cab "$T/o" pull --insecure "127.0.0.1:$PROXY_PORT/cab/busybox${5:-:latest}"
  expect_clean_failure "$1" "$4"
  assert_no_match "$(cat "$T/$1.log")" "/blobs/" "$1: no blob was even requested"
}
idx_entry="{\"mediaType\":\"$OCI_M\",\"digest\":\"$MDIGEST\",\"size\":$(stat -c %s "$MANIFEST"),\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}"
hostile confusion "$OCI_M" \
  "{\"schemaVersion\":2,\"mediaType\":\"$OCI_M\",\"config\":$CFG,\"layers\":$LAYERS,\"manifests\":[$idx_entry]}" \
  "CVE-2021-41190"
hostile confusion-index "$OCI_I" \
  "{\"schemaVersion\":2,\"mediaType\":\"$OCI_I\",\"config\":$CFG,\"manifests\":[$idx_entry]}" \
  "CVE-2021-41190"
hostile mediatype-mismatch "$OCI_I" "$(cat "$MANIFEST")" "Content-Type.*CVE-2021-41190"
hostile schema1 application/vnd.docker.distribution.manifest.v1+prettyjws \
  '{"schemaVersion":1,"name":"cab/busybox","tag":"latest","architecture":"amd64","fsLayers":[],"history":[]}' \
  "schema1"
hostile foreign-urls "$OCI_M" \
  "{\"schemaVersion\":2,\"mediaType\":\"$OCI_M\",\"config\":$CFG,\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$H\",\"size\":10,\"urls\":[\"http://127.0.0.1:9/evil\"]}]}" \
  "foreign"
for bad in "sha256:../../../../etc/passwd" "sha256:$H/../../x" "sha256:${H:0:10}" "sha256:$(echo "$H" | tr a-f A-F)" "sha384:$H"; do
  hostile "bad-layer-digest" "$OCI_M" \
    "{\"schemaVersion\":2,\"mediaType\":\"$OCI_M\",\"config\":$CFG,\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"$bad\",\"size\":10}]}" \
    "invalid digest"
  hostile "bad-config-digest" "$OCI_M" \
    "{\"schemaVersion\":2,\"mediaType\":\"$OCI_M\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"$bad\",\"size\":10},\"layers\":[]}" \
    "invalid digest"
  hostile "bad-index-digest" "$OCI_I" \
    "{\"schemaVersion\":2,\"mediaType\":\"$OCI_I\",\"manifests\":[{\"mediaType\":\"$OCI_M\",\"digest\":\"$bad\",\"size\":10,\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}]}" \
    "invalid digest"
done
# Bytes that do not hash to the digest in the reference.
hostile pinned-mismatch "$OCI_M" \
  "{\"schemaVersion\":2,\"mediaType\":\"$OCI_M\",\"config\":$CFG,\"layers\":$LAYERS}" \
  "digest mismatch" "@$MDIGEST"
# A Docker manifest whose Content-Type is OCI's.
hostile docker-as-oci "$OCI_M" \
  "{\"schemaVersion\":2,\"mediaType\":\"$DOCKER_M\",\"config\":$CFG,\"layers\":$LAYERS}" \
  "does not match its Content-Type"
finish
