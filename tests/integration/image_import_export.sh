#!/bin/bash
# cab import (offline) from an OCI layout directory, an OCI layout tar, a
# skopeo docker-archive tar, the legacy docker save form (<id>/layer.tar)
# and Docker 25's form (an OCI layout plus manifest.json); cab export to an
# OCI layout that skopeo reads and cab imports again.  Broken or hostile
# archives are refused with nothing stored and nothing written outside.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/registry/registry.sh"
reg_setup
reg_image "$T/layout"
MDIGEST=$(jq -r '.manifests[0].digest' "$T/layout/index.json")
MANIFEST=$T/layout/blobs/sha256/${MDIGEST#sha256:}
CONFIG=$(jq -r '.config.digest' "$MANIFEST")
NLAYERS=$(jq '.layers | length' "$MANIFEST")
mkdir -p "$T/canary" && echo canary >"$T/canary/file"
fresh() { export CAB_HOME=$T/home-$1; }

# --- an OCI layout directory (umoci) --------------------------------------------------
fresh dir
run_cab "$T/o" import "$T/layout"
assert_eq "$RC" 0 "import a layout directory"
assert_eq "$(cat "$T/o")" "localhost/layout@$MDIGEST" "a bare tag becomes localhost/<dir>:<tag>"
run_cab "$T/i.json" inspect localhost/layout:latest
assert_json '.digest' "$MDIGEST" "$T/i.json" "the imported manifest keeps its digest"
assert_json '.config.WorkingDir' /work "$T/i.json"
assert_eq "$(store_blob_count)" $((NLAYERS + 2)) "layers, config and manifest stored"
run_cab "$T/o" import --name cab/bb:v1 "$T/layout"
assert_eq "$RC" 0 "import --name"
assert_eq "$(cat "$T/o")" "cab/bb@$MDIGEST" "--name NAME:TAG names it"
run_cab "$T/o" import --name cab/bb2 "$T/layout"
run_cab "$T/o" inspect cab/bb2:latest
assert_eq "$RC" 0 "--name without a tag keeps the layout's tag"
assert_eq "$(store_blob_count)" $((NLAYERS + 2)) "importing again stores nothing twice"

# --- a tar of the layout -----------------------------------------------------------------------
fresh tar
tar -C "$T/layout" -cf "$T/layout.tar" .
run_cab "$T/o" import --name cab/fromtar:t "$T/layout.tar"
assert_eq "$RC" 0 "import an OCI layout tar"
assert_eq "$(cat "$T/o")" "cab/fromtar@$MDIGEST" "  ...same digest"
tar -C "$T/layout" -czf "$T/layout.tar.gz" .
run_cab "$T/o" import --name cab/fromtgz:t "$T/layout.tar.gz"
assert_eq "$RC" 0 "import a gzipped OCI layout tar"
assert_eq "$(store_tmp_count)" 0 "no staging leftovers"

# --- skopeo docker-archive ------------------------------------------------------------------------
fresh docker-archive
skopeo --insecure-policy copy -q "oci:$T/layout:latest" "docker-archive:$T/da.tar:cab/docker:v2" \
  >"$T/skopeo.log" 2>&1 || bail "skopeo docker-archive failed: $(tail -n 2 "$T/skopeo.log")"
run_cab "$T/o" import "$T/da.tar"
assert_eq "$RC" 0 "import a skopeo docker-archive tar"
DA_DIGEST=$(sed 's/.*@//' "$T/o")
assert_match "$(cat "$T/o")" "^cab/docker@sha256:[0-9a-f]{64}$" "RepoTags name the image"
run_cab "$T/da.json" inspect cab/docker:v2
assert_json '.config_digest' "$CONFIG" "$T/da.json" "the config is the same blob"
assert_json '.layers | length' "$NLAYERS" "$T/da.json"
assert_jq '[.layers[] | .digest == .diff_id] | all' "$T/da.json" "uncompressed layers: digest == diff_id"
assert_jq '[.layers[] | .media_type == "application/vnd.oci.image.layer.v1.tar"] | all' "$T/da.json" \
  "layers are plain tar"
assert_json '.config.Cmd[0]' /bin/sh "$T/da.json"

# --- the legacy docker save form: Layers ["<id>/layer.tar"], real files ----------------------------
fresh legacy
mkdir -p "$T/legacy"
tar -C "$T/legacy" -xf "$T/da.tar"
(
  cd "$T/legacy" || exit 1
  layers=()
  for l in $(jq -r '.[0].Layers[]' manifest.json); do
    id=$(grep -l "" */layer.tar | while read -r f; do [ "$(readlink "$f")" = "../$l" ] && dirname "$f"; done | head -n1)
    [ -n "$id" ] || exit 1
    rm "$id/layer.tar" && mv "$l" "$id/layer.tar"
    layers+=("$id/layer.tar")
  done
  jq --argjson L "$(printf '%s\n' "${layers[@]}" | jq -R . | jq -s .)" '.[0].Layers = $L | .[0].RepoTags = ["legacy:old"]' \
    manifest.json >m.json && mv m.json manifest.json
  tar -cf "$T/legacy.tar" ./*
) || bail "could not build the legacy docker save tar"
assert_match "$(tar -xOf "$T/legacy.tar" ./manifest.json)" '/layer.tar"' "the legacy tar lists <id>/layer.tar"
run_cab "$T/o" import "$T/legacy.tar"
assert_eq "$RC" 0 "import a legacy docker save tar"
assert_eq "$(sed 's/.*@//' "$T/o")" "$DA_DIGEST" "the same image as the docker-archive"
run_cab "$T/o" inspect legacy:old
assert_eq "$RC" 0 "legacy RepoTags name it (docker.io/library/legacy:old)"
# A layer that does not match its diff_id is refused.
fresh legacy-bad
mkdir -p "$T/legacy-bad" && tar -C "$T/legacy-bad" -xf "$T/legacy.tar"
first=$(tar -xOf "$T/legacy.tar" ./manifest.json | jq -r '.[0].Layers[1]')
chmod u+w "$T/legacy-bad/$first"
printf 'garbage' >>"$T/legacy-bad/$first"
tar -C "$T/legacy-bad" -cf "$T/legacy-bad.tar" .
run_cab "$T/o" import "$T/legacy-bad.tar"
assert_eq "$RC" 125 "a layer.tar that is not its diff_id: 125"
assert_match "$(cat "$T/o.err")" "diff_id" "  ...named as a diff_id mismatch"
assert_eq "$(store_blob_count)" 0 "  ...nothing stored"
assert_eq "$(store_tmp_count)" 0 "  ...no staging leftovers"

# --- Docker 25: an OCI layout plus manifest.json -----------------------------------------------------
fresh docker25
cp -a "$T/layout" "$T/d25"
jq -n --arg c "blobs/sha256/${CONFIG#sha256:}" --argjson l "$(jq '[.layers[].digest | "blobs/sha256/" + ltrimstr("sha256:")]' "$MANIFEST")" \
  '[{Config: $c, RepoTags: ["cab/d25:new"], Layers: $l}]' >"$T/d25/manifest.json"
jq '.manifests[0].annotations["io.containerd.image.name"] = "docker.io/cab/d25:new"' "$T/layout/index.json" >"$T/d25/index.json"
tar -C "$T/d25" -cf "$T/d25.tar" .
run_cab "$T/o" import "$T/d25.tar"
assert_eq "$RC" 0 "import a Docker 25 docker save tar"
assert_eq "$(cat "$T/o")" "cab/d25@$MDIGEST" "  ...via its OCI index, named by io.containerd.image.name"
# Only manifest.json (compressed layers named by digest): the diff_ids are checked by decompressing.
fresh docker25-manifest-only
rm "$T/d25/index.json"
tar -C "$T/d25" -cf "$T/d25m.tar" .
run_cab "$T/o" import "$T/d25m.tar"
assert_eq "$RC" 0 "import by manifest.json over gzip blobs"
run_cab "$T/d25.json" inspect cab/d25:new
assert_jq '[.layers[] | .media_type == "application/vnd.oci.image.layer.v1.tar+gzip"] | all' "$T/d25.json" \
  "gzip layers keep their blobs and type"

# --- broken and hostile archives ---------------------------------------------------------------------
fresh corrupt
cp -a "$T/layout" "$T/corrupt"
BIG=$(jq -r '.layers | max_by(.size) | .digest' "$MANIFEST")
chmod u+w "$T/corrupt/blobs/sha256/${BIG#sha256:}"
printf 'X' | dd of="$T/corrupt/blobs/sha256/${BIG#sha256:}" bs=1 seek=1000 conv=notrunc status=none
run_cab "$T/o" import "$T/corrupt"
assert_eq "$RC" 125 "a corrupted layer in a layout: 125"
assert_one_line_error "$T/o.err" "corrupted layout"
assert_match "$(cat "$T/o.err")" "import $T/corrupt: .*$BIG.*digest mismatch" "  ...naming the path, the blob and the cause"
assert_eq "$(store_blob_count)" 0 "  ...nothing stored (not even the good blobs)"
assert_eq "$(store_ref_count)" 0 "  ...no ref"
# A layer blob that is a symlink out of the layout.
fresh symlink
cp -a "$T/layout" "$T/evil"
rm -f "$T/evil/blobs/sha256/${BIG#sha256:}"
ln -s "$T/canary/file" "$T/evil/blobs/sha256/${BIG#sha256:}"
run_cab "$T/o" import "$T/evil"
assert_eq "$RC" 125 "a blob symlinked outside the layout: 125"
assert_eq "$(store_blob_count)" 0 "  ...nothing stored"
# A tar with traversal names, absolute names and a symlinked blob.
mkdir -p "$T/evil-tar/blobs/sha256" "$T/evil-root"
cp "$T/layout/index.json" "$T/layout/oci-layout" "$T/evil-tar/"
cp "$T/layout"/blobs/sha256/* "$T/evil-tar/blobs/sha256/"
chmod -R u+w "$T/evil-tar"
rm "$T/evil-tar/blobs/sha256/${BIG#sha256:}"
ln -s "../../../canary/file" "$T/evil-tar/blobs/sha256/${BIG#sha256:}"
echo pwned >"$T/evil-root/escaped"
(cd "$T/evil-tar" && tar -cf "$T/evil.tar" . && tar -rf "$T/evil.tar" -P "$T/evil-root/escaped" &&
  tar -rf "$T/evil.tar" -P --transform 's|^|../../../../|' -C "$T/evil-root" escaped) ||
  bail "could not build the hostile tar"
rm -f "$T/evil-root/escaped"
fresh evil-tar
run_cab "$T/o" import "$T/evil.tar"
assert_eq "$RC" 125 "a tar whose blob is a symlink out: 125"
assert_match "$(cat "$T/o.err")" "not in the archive|is not" "  ...the blob is missing, not followed"
assert_eq "$(store_blob_count)" 0 "  ...nothing stored"
assert_match "$(tar -tPf "$T/evil.tar" | tr '\n' ' ')" "\.\./\.\./\.\./\.\./escaped" "the tar has a ../ member"
assert_eq "$(find "$T" /tmp "$PWD" -maxdepth 4 -name escaped 2>/dev/null | wc -l)" 0 \
  "  ...no member was written by its name anywhere"
assert_eq "$(cat "$T/canary/file")" canary "the canary is untouched"
for bad in "$T/nonexistent" "$T/canary"; do
  run_cab "$T/o" import "$bad"
  assert_eq "$RC" 125 "import $(basename "$bad"): 125"
done
printf 'not a tar' >"$T/junk.tar"
run_cab "$T/o" import "$T/junk.tar"
assert_eq "$RC" 125 "import of a junk file: 125"

# --- export ------------------------------------------------------------------------------------------
fresh export
run_cab "$T/o" import --name cab/exp:v1 "$T/layout"
run_cab "$T/o" export cab/exp:v1 "$T/out"
assert_eq "$(cat "$T/o")" "exported cab/exp:v1 to $T/out (an OCI image layout: 'cab import $T/out' reads it)" "export says what it wrote, in one line"
assert_eq "$RC" 0 "export to a new directory"
assert_json '.imageLayoutVersion' 1.0.0 "$T/out/oci-layout"
if skopeo --insecure-policy inspect "oci:$T/out:docker.io/cab/exp:v1" >"$T/sk.json" 2>"$T/sk.err"; then
  assert_json '.Digest' "$MDIGEST" "$T/sk.json" "skopeo inspect reads the export"
else
  fail "skopeo inspect oci:$T/out failed: $(head -c 300 "$T/sk.err")"
fi
skopeo --insecure-policy copy -q "oci:$T/out:docker.io/cab/exp:v1" "oci:$T/out-copy:x" 2>"$T/sk.err" &&
  pass "skopeo copies every blob of the export" || fail "skopeo copy of the export: $(head -c 300 "$T/sk.err")"
run_cab "$T/o" export "$T/layout/../layout" "$T/out" # a path is not a ref
assert_eq "$RC" 125 "export of something not in the store: 125"
run_cab "$T/o" import --name cab/exp2:v2 "$T/da.tar"
run_cab "$T/o" export cab/exp2:v2 "$T/out"
assert_eq "$RC" 0 "export a second image into the same layout"
assert_json '.manifests | length' 2 "$T/out/index.json" "the layout now holds two images"
run_cab "$T/o" export cab/exp:v1 "$T/canary"
assert_eq "$RC" 125 "export into a non-empty directory that is not a layout: 125"
assert_eq "$(ls "$T/canary")" file "  ...and it is left alone"
# Re-import into an empty store (the offline host).
fresh offline
run_cab "$T/o" import "$T/out"
assert_eq "$RC" 0 "import the export on the 'offline host'"
assert_eq "$(sort "$T/o" | tr '\n' ' ')" "cab/exp2@$DA_DIGEST cab/exp@$MDIGEST " \
  "both images arrive with their names and digests"
run_cab "$T/o" inspect cab/exp:v1
assert_eq "$RC" 0 "the re-imported image resolves"
assert_eq "$(cat "$T/canary/file")" canary "the canary is untouched"
finish
