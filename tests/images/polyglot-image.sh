#!/bin/bash
# The toolchain image plus one layer with /opt/aider-polyglot (jest 29 and
# babel for the JavaScript exercises, the vendored crates for the Rust
# references): the image the imported Aider polyglot tasks verify offline in.
#
#   tests/images/polyglot-image.sh OUTDIR [TAG]      (TAG defaults to bookworm)
#
# Layers: toolchain-image.sh's two (cached), then a third appended with
# `umoci raw add-layer`, a tar of the tree polyglot-toolchain.sh builds
# (owned by root, world-readable), so the base is never unpacked.  The tree
# is cached under ${CAB_IMAGE_CACHE:-/var/tmp/cab-images}/aider-polyglot
# (polyglot-toolchain.sh's own key).  Root only, like toolchain-image.sh:
# as another user it prints "skip: ..." and exits 77.
#
#   tests/images/polyglot-image.sh build/polyglot-image
#   cab import build/polyglot-image --name cab/polyglot:bookworm
#   CAB_TASKS_DIR=~/aider-tasks cab tasks validate --image cab/polyglot:bookworm
set -euo pipefail
export LC_ALL=C

usage="usage: polyglot-image.sh OUTDIR [TAG]"
out=${1:?$usage}
tag=${2:-bookworm}
suite=${CAB_DEBIAN_SUITE:-bookworm}
if [ "$(id -u)" -ne 0 ]; then
  echo "skip: polyglot-image.sh needs root (it builds on toolchain-image.sh)"
  exit 77
fi
for tool in umoci tar; do
  command -v "$tool" >/dev/null || { echo "polyglot-image.sh: $tool not found" >&2; exit 1; }
done
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
cache_root=${CAB_IMAGE_CACHE:-/var/tmp/cab-images}

work=$(mktemp -d "${TMPDIR:-/tmp}/polyglot-image.XXXXXX")
trap 'rm -rf --one-file-system "$work"' EXIT

bash "$here/toolchain-image.sh" "$work/base" "$suite" >&2
tree=$cache_root/aider-polyglot
mkdir -p "$tree/opt"
chmod 0755 "$tree" "$tree/opt"
bash "$here/polyglot-toolchain.sh" "$tree/opt/aider-polyglot" /opt/aider-polyglot >&2

# One layer: opt/ and opt/aider-polyglot/..., root-owned, in a stable order.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
  --exclude=opt/.aider-polyglot.lock -C "$tree" -cf "$work/layer.tar" opt
key=$(cat "$tree/opt/aider-polyglot/.cab-key")
umoci raw add-layer --image "$work/base:$suite" \
  --history.created_by "polyglot-image.sh: /opt/aider-polyglot (polyglot-toolchain.sh, key $key)" \
  "$work/layer.tar"
umoci config --image "$work/base:$suite" \
  --config.label "org.codingagentbench.cab.image=aider-polyglot" \
  --config.label "org.codingagentbench.cab.aider-polyglot-key=$key"
umoci gc --layout "$work/base"

# shellcheck source=tests/images/lib.sh
. "$here/lib.sh"
oci_layout_copy "$work/base" "$out" "$suite" "$tag"
echo "$out:$tag toolchain + /opt/aider-polyglot ($(du -sm --apparent-size "$tree/opt/aider-polyglot" | cut -f1) MiB unpacked)," \
  "$(du -sbL "$out/blobs/sha256" | awk '{print int($1 / 1048576)}') MiB compressed"
