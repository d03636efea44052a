#!/bin/bash
# Build (or find in the cache) the pieces a field-host guest boots from:
# Debian's own kernel and a small initramfs that mounts the host's root file
# system read-only over 9p (tests/hosts/init).
#
#   bash tests/hosts/guest.sh CACHE-DIR
#
# Prints two lines, "kernel PATH" and "initrd PATH", and exits 0; exits 77
# with "skip: REASON" when a piece cannot be had (no apt, no network to
# Debian's mirror, no busybox-static).  Everything is keyed by versions: the
# kernel package's name and version, busybox's version and the hash of the
# init script and module list, so a new kernel or init rebuilds only what
# changed.  CAB_HOSTS_KERNEL_PKG names the kernel metapackage (default
# linux-image-amd64: the generic kernel, whose 9p modules the cloud kernel lacks).
set -euo pipefail
export LC_ALL=C
HERE=$(cd "$(dirname "$0")" && pwd)
cache=${1:?usage: guest.sh CACHE-DIR}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
meta=${CAB_HOSTS_KERNEL_PKG:-linux-image-amd64}

skip() { echo "skip: $*"; exit 77; }

# The modules the init script loads, with their dependencies; everything else
# cab uses (namespaces, cgroup v2, seccomp, tmpfs) is built into Debian's
# kernel.  dummy: the guest's eth0 (guest-pid1.sh).
MODULES="virtio_pci 9pnet_virtio 9p overlay veth dummy"

command -v apt-cache >/dev/null || skip "no apt-cache: the guest kernel comes from Debian's archive"
{ [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; } ||
  skip "no static /bin/busybox (apt-get install busybox-static)"

# The metapackage names the current ABI's image; its -unsigned twin holds the
# same kernel and modules without the Secure Boot signature.
image=$(apt-cache depends "$meta" 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | head -1) || true
[ -n "$image" ] || skip "apt-cache does not know $meta (apt-get update?)"
pkg=$image-unsigned
apt-cache show --no-all-versions "$pkg" >/dev/null 2>&1 || pkg=$image
version=$(apt-cache show --no-all-versions "$pkg" | sed -n 's/^Version: //p' | head -1)
# Keyed by the module list too: the cache keeps only those modules.
kdir=$cache/kernel/$pkg-$version-$(echo "$MODULES" | sha256sum | cut -c1-8)
if [ ! -f "$kdir/done" ]; then
  rm -rf "$kdir" && mkdir -p "$kdir/x"
  # apt downloads as the _apt user when it can write the directory.
  chmod 0777 "$kdir"
  (cd "$kdir" && apt-get download -q "$pkg=$version" >download.log 2>&1) ||
    skip "apt-get download $pkg=$version failed: $(tail -1 "$kdir/download.log")"
  dpkg-deb -x "$kdir"/*.deb "$kdir/x"
  rm -f "$kdir"/*.deb
  touch "$kdir/done"
fi
kver=$(basename "$(ls -d "$kdir"/x/lib/modules/*/ | head -1)")
vmlinuz=$kdir/x/boot/vmlinuz-$kver
[ -f "$vmlinuz" ] || skip "$pkg $version has no /boot/vmlinuz-$kver"

# Every module with its dependencies first (depends= in the .ko's .modinfo).
mroot=$kdir/x/lib/modules/$kver
declare -A seen=()
order=()
add_module() {
  local name=$1 file dep
  [ -n "${seen[$name]:-}" ] && return
  seen[$name]=1
  file=$(find "$mroot/kernel" -name "$name.ko" -print -quit)
  [ -n "$file" ] || { echo "guest.sh: module $name not in $pkg $version" >&2; exit 1; }
  for dep in $(strings -a "$file" | sed -n 's/^depends=//p' | tr ',' ' '); do
    add_module "$dep"
  done
  order+=("$file")
}
for m in $MODULES; do add_module "$m"; done

# The package unpacks to about 400 MB; the guests need the kernel image and
# the modules above (a few MB).  Other versions and module lists go too.
if [ ! -f "$kdir/pruned" ]; then
  declare -A keep=()
  for f in "${order[@]}"; do keep[$f]=1; done
  while IFS= read -r -d '' f; do
    [ -n "${keep[$f]:-}" ] || rm -f "$f"
  done < <(find "$mroot/kernel" -name '*.ko*' -print0)
  find "$mroot/kernel" -depth -type d -empty -delete
  rm -rf "$kdir/x/usr" "$kdir/x/lib/firmware"
  for d in "$cache"/kernel/*/; do
    [ "${d%/}" = "$kdir" ] || rm -rf "$d"
  done
  touch "$kdir/pruned"
fi

bb_version=$(/bin/busybox 2>&1 | sed -n '1s/^BusyBox \(v[^ ]*\).*/\1/p')
key=$( (echo "$pkg $version $bb_version $MODULES"; cat "$HERE/init") | sha256sum | cut -c1-16)
initrd=$cache/initrd/$kver-$key.cpio.gz
if [ ! -f "$initrd" ]; then
  mkdir -p "$cache/initrd"
  stage=$(mktemp -d "$cache/initrd/stage.XXXXXX")
  trap 'rm -rf "$stage"' EXIT
  mkdir -p "$stage"/{bin,dev,proc,sys,mnt,modules,newroot}
  cp /bin/busybox "$stage/bin/busybox"
  ln -s busybox "$stage/bin/sh"
  cp "$HERE/init" "$stage/init"
  chmod 0755 "$stage/init"
  for f in "${order[@]}"; do
    cp "$f" "$stage/modules/"
    basename "$f" >>"$stage/modules/order"
  done
  (cd "$stage" && find . -print0 | /bin/busybox cpio -0 -o -H newc -R 0:0 2>/dev/null) | gzip -1 >"$initrd.tmp"
  mv "$initrd.tmp" "$initrd"
fi
echo "kernel $vmlinuz"
echo "initrd $initrd"
echo "kver $kver"
