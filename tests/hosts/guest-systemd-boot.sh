#!/bin/bash
# In the "systemd" guest (tests/hosts/guest-systemd.sh), run as root by the
# rootfs's cab-hosts.service once multi-user.target is up, from the host's /
# (9p tag "host", read-only at /mnt/host).  Puts this checkout and its build
# at the paths they have on the host, writable under a tmpfs overlay as in
# the plain guest, then hands over to guest-pid1.sh, which runs the scenario,
# writes its status to /run/cab-hosts/status and powers the guest off.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
self=$(readlink -f "$0")
src=${self#/mnt/host}
src=${src%/tests/hosts/guest-systemd-boot.sh}
build=
for word in $(cat /proc/cmdline); do
  case $word in cab.build=*) build=${word#cab.build=} ;; esac
done

die() {
  echo "cab-hosts: $*"
  echo 125 >/run/cab-hosts/status
  echo "CAB-HOSTS-STATUS 125"
  systemctl --force --force poweroff
  exit 125
}

# When the scenario starts: the kernel's uptime, and whether systemd thinks
# the boot went well (a failed unit would show here).
echo "cab-hosts: systemd guest up in $(cut -d' ' -f1 /proc/uptime)s," \
  "$(systemctl --version | head -1), system $(systemctl is-system-running)"
systemctl --failed --no-legend --plain | sed 's/^/cab-hosts: failed unit: /'

mkdir -p /run/cab-hosts-rw /mnt/hostrw
mount -t tmpfs -o mode=0755 hostrw /run/cab-hosts-rw || die "tmpfs for the checkout's overlay"
mkdir -p /run/cab-hosts-rw/upper /run/cab-hosts-rw/work
mount -t overlay -o lowerdir=/mnt/host,upperdir=/run/cab-hosts-rw/upper,workdir=/run/cab-hosts-rw/work \
  hostrw /mnt/hostrw || die "overlay over the host's /"
for d in "$src" "$build"; do
  [ -n "$d" ] && [ -d "/mnt/hostrw$d" ] || die "$d is not on the host's / (cab.build=$build)"
  mkdir -p "$d" && mount --bind "/mnt/hostrw$d" "$d" || die "bind $d"
done
exec bash "$src/tests/hosts/guest-pid1.sh"
