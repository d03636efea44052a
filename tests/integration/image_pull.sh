#!/bin/bash
# cab pull from a real registry (Debian's docker-registry on 127.0.0.1):
# by tag and by digest, a wrong or malformed digest refused, the store a
# valid OCI layout that skopeo reads, images/inspect/rmi/gc, and two pulls
# of one image at the same moment.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/registry/registry.sh"
reg_setup
reg_image "$T/layout"
reg_start plain "$T/storage"
reg_push "$T/layout:latest" "$REG_PORT" cab/busybox:latest
R0=127.0.0.1:$REG_PORT/cab/busybox
MDIGEST=$(jq -r '.manifests[0].digest' "$T/layout/index.json")
NLAYERS=$(jq '.layers | length' "$T/layout/blobs/sha256/${MDIGEST#sha256:}")
NBLOBS=$((NLAYERS + 2)) # layers, config, manifest

# --- by tag -------------------------------------------------------------------
run_cab "$T/o" pull --insecure "$R0:latest"
assert_eq "$RC" 0 "pull by tag"
assert_eq "$(cat "$T/o")" "$R0@$MDIGEST" "pull prints the pinned reference"
assert_eq "$(store_blob_count)" "$NBLOBS" "the store holds config, manifest and $NLAYERS layers"
assert_eq "$(store_tmp_count)" 0 "no staging leftovers"
assert_json '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$R0:latest" \
  "$CAB_HOME/oci/index.json" "index.json names the ref"
assert_json '.imageLayoutVersion' 1.0.0 "$CAB_HOME/oci/oci-layout"
# every blob's name is its sha256
bad=0
for f in "$CAB_HOME"/oci/blobs/sha256/*; do
  [ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$(basename "$f")" ] || bad=$((bad + 1))
done
assert_eq "$bad" 0 "every stored blob hashes to its name"

# The store is an OCI layout other tools read.
if skopeo --insecure-policy inspect "oci:$CAB_HOME/oci:$R0:latest" >"$T/skopeo.json" 2>"$T/skopeo.err"; then
  assert_json '.Digest' "$MDIGEST" "$T/skopeo.json" "skopeo inspect oci:\$CAB_HOME/oci reads the image"
else
  fail "skopeo inspect oci:\$CAB_HOME/oci failed: $(head -c 300 "$T/skopeo.err")"
fi
if skopeo --insecure-policy copy -q "oci:$CAB_HOME/oci:$R0:latest" "oci:$T/copied:x" 2>"$T/skopeo.err"; then
  pass "skopeo copy oci:\$CAB_HOME/oci:NAME reads every blob"
  assert_eq "$(jq -r '.manifests[0].digest' "$T/copied/index.json")" "$MDIGEST" "skopeo's copy keeps the digest"
else
  fail "skopeo copy from the store failed: $(head -c 300 "$T/skopeo.err")"
fi

# images / inspect
run_cab "$T/images.json" images --json
assert_eq "$RC" 0 "images --json"
assert_json '.images[0].name' "$R0:latest" "$T/images.json"
assert_json '.images[0].digest' "$MDIGEST" "$T/images.json"
assert_json '.images[0].tag' latest "$T/images.json"
run_cab "$T/images.txt" images
assert_match "$(cat "$T/images.txt")" "cab/busybox +latest +sha256:" "images lists it"
run_cab "$T/inspect.json" inspect "$R0"
assert_eq "$RC" 0 "inspect by name"
assert_json '.digest' "$MDIGEST" "$T/inspect.json"
assert_json '.layers | length' "$NLAYERS" "$T/inspect.json"
assert_json '.config.WorkingDir' /work "$T/inspect.json" "inspect shows the config"
assert_json '.config.Cmd[0]' /bin/sh "$T/inspect.json"
assert_jq '[.layers[] | (.diff_id | test("^sha256:[0-9a-f]{64}$"))] | all' "$T/inspect.json" "layers carry diff_ids"
assert_json '.platform.os' linux "$T/inspect.json"
run_cab "$T/o" inspect "$MDIGEST"
assert_eq "$RC" 0 "inspect by bare digest"

# A second pull needs no layer again (the registry log would show them; the
# store just stays the same).
run_cab "$T/o" pull --insecure "$R0:latest"
assert_eq "$RC" 0 "pull again"
assert_eq "$(store_blob_count)" "$NBLOBS" "no blob stored twice"
assert_eq "$(store_ref_count)" 1 "one ref for one name"

# --- by digest -------------------------------------------------------------------
export CAB_HOME=$T/home-digest
run_cab "$T/o" pull --insecure "$R0@$MDIGEST"
assert_eq "$RC" 0 "pull by digest"
assert_eq "$(cat "$T/o")" "$R0@$MDIGEST" "pinned reference for a digest pull"
assert_json '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$R0@$MDIGEST" \
  "$CAB_HOME/oci/index.json" "a digest pull is stored under name@digest"
run_cab "$T/o" pull --insecure "$R0:latest@$MDIGEST"
assert_eq "$RC" 0 "pull by tag and digest"
run_cab "$T/o" inspect "$R0@$MDIGEST"
assert_eq "$RC" 0 "inspect name@digest"

# --- wrong digests ---------------------------------------------------------------------
export CAB_HOME=$T/home-wrong
WRONG=sha256:$(printf 'not this image' | sha256sum | cut -d' ' -f1)
run_cab "$T/o" pull --insecure "$R0@$WRONG"
assert_eq "$RC" 125 "a digest the registry does not have: 125"
assert_one_line_error "$T/o.err" "wrong digest"
assert_match "$(cat "$T/o.err")" "$R0@$WRONG" "the error names the ref"
assert_eq "$(store_blob_count)" 0 "nothing stored for a wrong digest"
# The layer digest as a manifest digest: the registry serves a blob, not a
# manifest, or refuses; either way cab must not accept it.
CONFIG=$(jq -r '.config.digest' "$T/layout/blobs/sha256/${MDIGEST#sha256:}")
run_cab "$T/o" pull --insecure "$R0@$CONFIG"
assert_eq "$RC" 125 "a config digest as a manifest digest: 125"
assert_eq "$(store_blob_count)" 0 "nothing stored"

# Malformed digests never reach a URL or a path (CVE-2024-3727).
for bad in "sha256:../../../../etc/passwd" "sha256:${MDIGEST#sha256:}/../x" "sha256:abc" \
  "sha256:$(echo "${MDIGEST#sha256:}" | tr a-f A-F)" "sha512:${MDIGEST#sha256:}${MDIGEST#sha256:}" \
  "md5:d41d8cd98f00b204e9800998ecf8427e"; do
  run_cab "$T/o" pull --insecure "$R0@$bad"
  assert_eq "$RC" 125 "malformed digest '$bad' refused"
  assert_match "$(cat "$T/o.err")" "invalid digest" "  ...as an invalid digest"
done
for bad in "127.0.0.1:$REG_PORT/../etc:x" "127.0.0.1:$REG_PORT/UPPER" "127.0.0.1:$REG_PORT/x:bad/tag"; do
  run_cab "$T/o" pull --insecure "$bad"
  assert_eq "$RC" 125 "malformed reference '$bad' refused"
done
run_cab "$T/o" pull --insecure "127.0.0.1:$REG_PORT/cab/nosuch:latest"
assert_eq "$RC" 125 "an unknown repository: 125"
assert_match "$(cat "$T/o.err")" "MANIFEST_UNKNOWN|NAME_UNKNOWN|404" "the registry's answer is named"
# Without --insecure, cab speaks https (and the plain-http registry fails).
run_cab "$T/o" pull "$R0:latest"
assert_eq "$RC" 125 "https to a plain-http registry fails"
assert_eq "$(store_blob_count)" 0 "nothing stored by failed pulls"
assert_eq "$(store_tmp_count)" 0 "no staging leftovers after failures"
# CAB_INSECURE_REGISTRIES allows plain http per host.
CAB_INSECURE_REGISTRIES="example.org,127.0.0.1:$REG_PORT" run_cab "$T/o" pull "$R0:latest"
assert_eq "$RC" 0 "CAB_INSECURE_REGISTRIES lists the test registry"

# --- two pulls of the same image at the same moment ---------------------------------------
export CAB_HOME=$T/home-concurrent
pids=()
for i in 1 2 3; do
  timeout 60 "$CAB" pull --insecure "$R0:latest" >"$T/c$i.out" 2>"$T/c$i.err" &
  pids+=($!)
done
for i in 1 2 3; do
  wait "${pids[$((i - 1))]}"
  assert_eq "$?" 0 "concurrent pull $i succeeds"
  assert_eq "$(cat "$T/c$i.out")" "$R0@$MDIGEST" "concurrent pull $i pins the image"
done
assert_eq "$(store_blob_count)" "$NBLOBS" "concurrent pulls store each blob once"
assert_eq "$(store_ref_count)" 1 "concurrent pulls leave one ref"
assert_eq "$(store_tmp_count)" 0 "concurrent pulls leave no staging"
run_cab "$T/o" inspect "$R0:latest"
assert_eq "$RC" 0 "the concurrently pulled image resolves"

# --- rmi and gc ---------------------------------------------------------------------------
mkdir -p "$CAB_HOME/rootfs/${MDIGEST#sha256:}/etc" "$CAB_HOME/rootfs/$(printf x | sha256sum | cut -d' ' -f1)/etc"
run_cab "$T/o" gc
assert_eq "$RC" 0 "gc"
assert_eq "$(store_blob_count)" "$NBLOBS" "gc keeps what a ref needs"
assert_eq "$(ls "$CAB_HOME/rootfs" | grep -c '^[0-9a-f]\{64\}$')" 1 "gc drops the unreferenced rootfs cache"
assert_eq "$(ls "$CAB_HOME/rootfs")" "${MDIGEST#sha256:}" "gc keeps the referenced rootfs cache"
run_cab "$T/o" rmi "$R0:latest"
assert_eq "$RC" 0 "rmi"
assert_eq "$(store_ref_count)" 0 "rmi removes the ref"
assert_eq "$(store_blob_count)" 0 "rmi frees the blobs"
assert_eq "$(ls "$CAB_HOME/rootfs" | wc -l)" 0 "rmi drops the rootfs cache"
run_cab "$T/o" inspect "$R0:latest"
assert_eq "$RC" 125 "inspect after rmi: 125"
assert_match "$(cat "$T/o.err")" "not in the store" "  ...not in the store"
run_cab "$T/o" rmi "$R0:latest"
assert_eq "$RC" 125 "rmi of a missing image: 125"
# --- pull --all: every image a sweep plan's cells need, for an offline host ----------------
export CAB_HOME=$T/home-plan
cat >"$T/plan.json" <<EOF
{"sweep_id": "pull-all", "tuis": [{"tui": "cab-agent", "image": "$R0:latest"}, {"tui": "oracle", "image": "$R0:latest"}],
 "models": [{"model": "m", "endpoint": "http://127.0.0.1:9/v1"}],
 "tasks": ["polyglot/shell-word-count", "polyglot/python-reverse-string"]}
EOF
run_cab "$T/o" pull --insecure --all "$T/plan.json"
assert_eq "$RC" 0 "pull --all PLAN"
assert_eq "$(cat "$T/o")" "$R0@$MDIGEST" "pull --all pulls each image the plan's cells need once and pins it"
run_cab "$T/o" inspect "$R0:latest"
assert_eq "$RC" 0 "the plan's image is in the store"
echo '{"sweep_id": "bad"}' >"$T/bad-plan.json"
run_cab "$T/o" pull --insecure --all "$T/bad-plan.json"
assert_eq "$RC" 125 "pull --all with a bad plan: 125"
assert_match "$(cat "$T/o.err")" 'bad-plan.json: ' "  ...one line naming the plan"
finish
