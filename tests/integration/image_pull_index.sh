#!/bin/bash
# Multi-platform images: an OCI index and a Docker manifest list in a real
# registry.  cab pull picks the host's platform (or --platform), pins the
# index digest, records both digests, and refuses a platform the index does
# not offer; the pinned index digest still resolves after export/import.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/registry/registry.sh"
reg_setup
reg_image "$T/layout"

# add_blob LAYOUT FILE: move FILE into LAYOUT's blobs; prints its digest.
add_blob() {
  local d
  d=sha256:$(sha256sum <"$2" | cut -d' ' -f1)
  mv "$2" "$1/blobs/sha256/${d#sha256:}"
  printf '%s' "$d"
}
# blob_size LAYOUT DIGEST
blob_size() { stat -c %s "$1/blobs/sha256/${2#sha256:}"; }
# name_index LAYOUT DIGEST NAME: LAYOUT's index.json names the image index
# DIGEST (a blob in LAYOUT) NAME.
name_index() {
  jq -cn --arg i "$2" --argjson s "$(blob_size "$1" "$2")" --arg n "$3" \
    '{schemaVersion: 2, manifests: [{mediaType: "application/vnd.oci.image.index.v1+json",
      digest: $i, size: $s, annotations: {"org.opencontainers.image.ref.name": $n}}]}' \
    >"$1/index.json"
}

# make_multi LAYOUT: add an arm64/v8 twin of the image and an index over both.
make_multi() {
  local l=$1 m c cb mb idx
  m=$(jq -r '.manifests[0].digest' "$l/index.json")
  c=$(jq -r .config.digest "$l/blobs/sha256/${m#sha256:}")
  jq -c '.architecture = "arm64" | .variant = "v8"' "$l/blobs/sha256/${c#sha256:}" >"$T/cfg-arm64"
  cb=$(add_blob "$l" "$T/cfg-arm64")
  jq -c --arg d "$cb" --argjson s "$(blob_size "$l" "$cb")" \
    '.config.digest = $d | .config.size = $s' "$l/blobs/sha256/${m#sha256:}" >"$T/m-arm64"
  mb=$(add_blob "$l" "$T/m-arm64")
  jq -cn --arg a "$m" --argjson sa "$(blob_size "$l" "$m")" \
    --arg b "$mb" --argjson sb "$(blob_size "$l" "$mb")" \
    '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [
       {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $a, size: $sa,
        platform: {architecture: "amd64", os: "linux"}},
       {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $b, size: $sb,
        platform: {architecture: "arm64", os: "linux", variant: "v8"}}]}' >"$T/idx"
  idx=$(add_blob "$l" "$T/idx")
  name_index "$l" "$idx" multi
  AMD64=$m ARM64=$mb INDEX=$idx
}
chmod -R u+w "$T/layout"
make_multi "$T/layout"
case $(uname -m) in
x86_64) HOST=$AMD64 ;;
aarch64) HOST=$ARM64 ;;
*) HOST= ;;
esac
reg_start plain "$T/storage"
reg_push "$T/layout:multi" "$REG_PORT" cab/multi:oci --all
R=127.0.0.1:$REG_PORT/cab/multi

# --- an OCI index ---------------------------------------------------------------------------
export CAB_HOME=$T/home-oci
run_cab "$T/o" pull --insecure "$R:oci"
if [ -n "$HOST" ]; then
  assert_eq "$RC" 0 "pull an OCI index for this host"
  assert_eq "$(cat "$T/o")" "$R@$INDEX" "the pinned reference is the index digest"
  run_cab "$T/i.json" inspect "$R:oci"
  assert_json '.digest' "$HOST" "$T/i.json" "the host's platform manifest was chosen"
  assert_json '.index_digest' "$INDEX" "$T/i.json" "the index digest is recorded"
fi
export CAB_HOME=$T/home-arm64
run_cab "$T/o" pull --insecure --platform linux/arm64 "$R:oci"
assert_eq "$RC" 0 "pull --platform linux/arm64"
run_cab "$T/i.json" inspect "$R:oci"
assert_json '.digest' "$ARM64" "$T/i.json" "--platform linux/arm64 picks the arm64 manifest"
assert_json '.platform.architecture' arm64 "$T/i.json"
assert_json '.platform.variant' v8 "$T/i.json"
run_cab "$T/o" inspect "$R@$INDEX"
assert_eq "$RC" 0 "name@<index digest> resolves"
run_cab "$T/o" inspect "$INDEX"
assert_eq "$RC" 0 "a bare index digest resolves"
run_cab "$T/o" inspect "$ARM64"
assert_eq "$RC" 0 "the platform manifest digest resolves"
assert_cmp "$(store_blob_count)" -ge 3 "blobs stored"
test -f "$CAB_HOME/oci/blobs/sha256/${INDEX#sha256:}" && pass "the index blob is kept" || fail "the index blob is missing"

# pull by the index digest, and a platform the index lacks
export CAB_HOME=$T/home-pinned
run_cab "$T/o" pull --insecure --platform linux/amd64 "$R@$INDEX"
assert_eq "$RC" 0 "pull by index digest"
assert_eq "$(cat "$T/o")" "$R@$INDEX" "  ...pinned to it"
run_cab "$T/i.json" inspect "$R@$INDEX"
assert_json '.digest' "$AMD64" "$T/i.json" "  ...the amd64 manifest"
export CAB_HOME=$T/home-none
run_cab "$T/o" pull --insecure --platform linux/s390x "$R:oci"
assert_eq "$RC" 125 "a platform the index lacks: 125"
assert_match "$(cat "$T/o.err")" "linux/s390x.*linux/amd64, linux/arm64/v8" "the error lists the platforms on offer"
assert_eq "$(store_blob_count)" 0 "nothing stored"
run_cab "$T/o" pull --insecure --platform windows "$R:oci"
assert_eq "$RC" 125 "a malformed --platform: 125"

# --- export and import keep the index digest resolvable ---------------------------------------------
export CAB_HOME=$T/home-arm64
run_cab "$T/o" export "$R:oci" "$T/export"
assert_eq "$RC" 0 "export the arm64 image"
if skopeo --insecure-policy inspect --override-arch arm64 "oci:$T/export:$R:oci" >"$T/sk.json" 2>"$T/sk.err"; then
  assert_json '.Architecture' arm64 "$T/sk.json" "skopeo reads the exported arm64 image"
else
  fail "skopeo inspect of the export: $(head -c 300 "$T/sk.err")"
fi
export CAB_HOME=$T/home-offline
run_cab "$T/o" import "$T/export"
assert_eq "$RC" 0 "import the export"
run_cab "$T/i.json" inspect "$R@$INDEX"
assert_eq "$RC" 0 "the index digest still resolves after export/import"
assert_json '.digest' "$ARM64" "$T/i.json"
# Importing the multi-platform layout itself, with --platform.
export CAB_HOME=$T/home-layout
run_cab "$T/o" import --platform linux/arm64 --name cab/multi:imported "$T/layout"
assert_eq "$RC" 0 "import a layout whose index.json points at an index"
assert_eq "$(cat "$T/o")" "cab/multi@$ARM64" "  ...the requested platform"

# --- a nested index (an index whose entry is itself an index) ----------------------------------------
# nest LAYOUT PLATFORM-JSON: index.json -> an outer index -> the multi index
# (PLATFORM-JSON is the outer entry's platform, or null for none).
nest() {
  local l=$1 outer
  cp -a "$T/layout" "$l"
  jq -cn --arg i "$INDEX" --argjson s "$(blob_size "$l" "$INDEX")" --argjson p "$2" \
    '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [
       ({mediaType: "application/vnd.oci.image.index.v1+json", digest: $i, size: $s} +
        (if $p == null then {} else {platform: $p} end))]}' >"$T/outer"
  outer=$(add_blob "$l" "$T/outer")
  name_index "$l" "$outer" nested
}
for variant in '{"os": "linux", "architecture": "amd64"}' null; do
  export CAB_HOME=$T/home-nested
  rm -rf "$T/nested" "$CAB_HOME"
  nest "$T/nested" "$variant"
  run_cab "$T/o" import --platform linux/amd64 --name cab/nested:1 "$T/nested"
  assert_eq "$RC" 125 "a nested index (entry platform $variant): 125"
  assert_eq "$(wc -l <"$T/o.err")" 1 "  ...one line"
  assert_match "$(cat "$T/o.err")" "entry $INDEX is itself an image index: nested image indexes are not supported" \
    "  ...which says the index is nested and unsupported, naming the inner index"
  assert_no_match "$(cat "$T/o.err")" "no manifest for platform" "  ...not 'no manifest for platform'"
  assert_eq "$(store_ref_count 2>/dev/null || echo 0)" 0 "  ...nothing imported"
done

# --- a Docker manifest list (schema2) -----------------------------------------------------------------
if skopeo --insecure-policy copy -q --all --format v2s2 --dest-tls-verify=false "oci:$T/layout:multi" \
  "docker://127.0.0.1:$REG_PORT/cab/multi:docker" >"$T/push2.log" 2>&1; then
  skopeo --insecure-policy inspect --raw --tls-verify=false "docker://127.0.0.1:$REG_PORT/cab/multi:docker" >"$T/list.json"
  assert_json '.mediaType' application/vnd.docker.distribution.manifest.list.v2+json "$T/list.json" \
    "the registry serves a Docker manifest list"
  LIST=sha256:$(sha256sum <"$T/list.json" | cut -d' ' -f1)
  export CAB_HOME=$T/home-docker
  run_cab "$T/o" pull --insecure --platform linux/arm64/v8 "$R:docker"
  assert_eq "$RC" 0 "pull a Docker manifest list"
  assert_eq "$(cat "$T/o")" "$R@$LIST" "  ...pinned to the list's digest"
  run_cab "$T/i.json" inspect "$R:docker"
  assert_json '.media_type' application/vnd.docker.distribution.manifest.v2+json "$T/i.json" \
    "  ...and its Docker schema2 manifest"
  assert_json '.platform.architecture' arm64 "$T/i.json"
  assert_jq '[.layers[].media_type == "application/vnd.docker.image.rootfs.diff.tar.gzip"] | all' \
    "$T/i.json" "  ...with Docker layer types"
  if skopeo --insecure-policy inspect --override-arch arm64 "oci:$CAB_HOME/oci:$R:docker" >"$T/sk.json" 2>"$T/sk.err"; then
    pass "skopeo reads a Docker schema2 image from the store"
  else
    fail "skopeo inspect of a schema2 image in the store: $(head -c 300 "$T/sk.err")"
  fi
  DOCKER_M=$(jq -r .digest "$T/i.json")
  run_cab "$T/o" export "$R:docker" "$T/export-docker"
  assert_eq "$RC" 0 "export a Docker schema2 image"
  if skopeo --insecure-policy inspect --override-arch arm64 "oci:$T/export-docker:$R:docker" >"$T/sk.json" 2>"$T/sk.err"; then
    pass "skopeo reads the exported schema2 image (through its OCI twin)"
  else
    fail "skopeo inspect of the exported schema2 image: $(head -c 300 "$T/sk.err")"
  fi
  export CAB_HOME=$T/home-docker-offline
  run_cab "$T/o" import "$T/export-docker"
  assert_eq "$RC" 0 "import the exported schema2 image"
  assert_eq "$(cat "$T/o")" "$R@$DOCKER_M" "  ...it keeps its Docker manifest digest"
  run_cab "$T/o" images --json
  assert_json '.count' 1 "$T/o" "  ...one image (the twin is not listed)"
  run_cab "$T/o" inspect "$R@$LIST"
  assert_eq "$RC" 0 "  ...and the list digest still resolves"
  run_cab "$T/o" rmi "$R:docker"
  assert_eq "$(store_ref_count)" 0 "rmi removes the image and its twin"
  assert_eq "$(store_blob_count)" 0 "  ...and gc their blobs"
else
  say "# skopeo could not convert to v2s2 here: $(tail -n 1 "$T/push2.log")"
fi
finish
