# Shell functions shared by the image scripts (sourced, not run).
# shellcheck shell=bash

# oci_layout_copy LAYOUT OUTDIR FROM_TAG TAG
# Replace OUTDIR by a copy of the OCI image layout LAYOUT (a cached build):
# its blobs hardlinked when LAYOUT is on the same filesystem, else copied;
# FROM_TAG renamed to TAG when they differ.
oci_layout_copy() {
  local layout=$1 out=$2 from_tag=$3 tag=$4
  rm -rf "$out"
  mkdir -p "$out/blobs"
  cp -al "$layout/blobs/sha256" "$out/blobs/" 2>/dev/null || {
    rm -rf "$out/blobs/sha256"
    cp -a "$layout/blobs/sha256" "$out/blobs/"
  }
  cp "$layout/oci-layout" "$layout/index.json" "$out/"
  if [ "$tag" != "$from_tag" ]; then
    umoci tag --image "$out:$from_tag" "$tag"
    umoci rm --image "$out:$from_tag"
  fi
}
