#!/bin/sh
# Assemble a minimal rootfs from Debian's busybox-static: the demo's root and
# the tests' default.  Usage: rootfs/busybox-rootfs.sh DIR [EXTRA_BINARY...]
set -eu
dir=${1:?usage: busybox-rootfs.sh DIR [EXTRA_BINARY...]}
shift
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "busybox-rootfs.sh: $busybox missing; install busybox-static" >&2; exit 1; }
"$busybox" --help 2>&1 | grep -q 'static' || file -L "$busybox" 2>/dev/null | grep -q static ||
  echo "busybox-rootfs.sh: warning: $busybox may not be static" >&2
rm -rf "$dir"
mkdir -p "$dir"/bin "$dir"/usr/bin "$dir"/sbin "$dir"/proc "$dir"/dev "$dir"/sys "$dir"/tmp \
         "$dir"/etc "$dir"/root "$dir"/home "$dir"/work "$dir"/var/tmp
cp "$busybox" "$dir"/bin/busybox
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$dir/bin/$applet"
done
for extra in "$@"; do cp "$extra" "$dir/usr/bin/"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$dir"/etc/passwd
printf 'root:x:0:\nnogroup:x:65534:\n' > "$dir"/etc/group
: > "$dir"/etc/hosts
: > "$dir"/etc/hostname
: > "$dir"/etc/resolv.conf
chmod -R a+rX "$dir"
