#!/bin/bash
# Build (or find in the cache) the root file system of the "systemd" guest
# kind: Debian 12 (bookworm) made by debootstrap, with systemd as PID 1, dbus,
# logind and a user manager per user (libpam-systemd, dbus-user-session), the
# runtime libraries this build of cab links against and what the scenarios
# and runner/demo/demo.sh use.  It boots with guest.sh's kernel and initramfs:
# the initramfs mounts this directory (9p, read-only) under a tmpfs overlay,
# as it does the host's / for the plain guest, and switch_roots to systemd.
#
#   bash tests/hosts/guest-systemd.sh CACHE-DIR CAB-BUILD
#
# Prints "rootfs DIR", "packages N" and "built SECONDS" (0 when cached) and
# exits 0; exits 77 with "skip: REASON" when it cannot be built (no
# debootstrap, no network to the mirror).  The key is the mirror, the suite,
# the package list with the versions the host's apt knows for them, and this
# script's hash (which holds the unit that starts the scenario), so a change
# to any of them builds a new rootfs; older ones are removed.
#
# Environment: CAB_HOSTS_MIRROR (http://deb.debian.org/debian),
# CAB_HOSTS_SUITE (bookworm).
set -euo pipefail
export LC_ALL=C
cache=${1:?usage: guest-systemd.sh CACHE-DIR CAB-BUILD}
build=${2:?usage: guest-systemd.sh CACHE-DIR CAB-BUILD}
mirror=${CAB_HOSTS_MIRROR:-http://deb.debian.org/debian}
suite=${CAB_HOSTS_SUITE:-bookworm}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

skip() { echo "skip: $*"; exit 77; }

command -v debootstrap >/dev/null || skip "no debootstrap (make deps)"
command -v dpkg >/dev/null || skip "no dpkg: the guest's libraries are named by Debian's packages"

# systemd as PID 1 and real user sessions; the scenarios' tools (jq, pgrep,
# setpriv, ip); runner/demo/demo.sh's image builder (umoci, busybox-static,
# which guest-pid1.sh also powers off with).
PACKAGES="systemd systemd-sysv dbus libpam-systemd dbus-user-session iproute2 kmod
  bash coreutils util-linux procps findutils grep sed gawk tar gzip jq umoci busybox-static
  ca-certificates"
# The libraries cab and cab-full link against, as packages (cab-agent is static).
# One dpkg -S for all: a library's path with and without /usr (merged /usr).
mapfile -t paths < <(for f in "$build"/cab "$build"/cab-full; do
  [ -f "$f" ] && ldd "$f" 2>/dev/null || true
done | awk '/=> \//{print $3}' | sort -u | xargs -r readlink -f | sed 'p; s|^/usr||')
libs=$( (dpkg -S "${paths[@]}" 2>/dev/null || true) | cut -d: -f1 | sort -u | tr '\n' ' ')
[ -n "$libs" ] || skip "cannot name the packages of $build/cab's libraries (dpkg -S)"
packages=$(echo $PACKAGES $libs | tr ' ' '\n' | sort -u | tr '\n' ' ')

versions=$(apt-cache show --no-all-versions $packages 2>/dev/null | sed -n 's/^\(Package\|Version\): //p' | paste -d= - - | tr '\n' ' ')
key=$( (echo "$mirror $suite $(debootstrap --version 2>/dev/null)"; echo "$versions"; cat "$0") |
  sha256sum | cut -c1-16)
dir=$cache/systemd/$suite-$key
built=0
mkdir -p "$cache/systemd"
# One build at a time (two run.sh at once wait for the first).
exec 9>"$cache/systemd.lock"
flock 9
if [ ! -f "$dir/done" ]; then
  start=$(date +%s)
  curl -fsI "$mirror/dists/$suite/Release" >/dev/null 2>&1 || skip "$mirror/dists/$suite/Release is not reachable"
  for old in "$cache"/systemd/*/; do rm -rf "$old"; done
  mkdir -p "$dir"
  debootstrap --variant=minbase --include="$(echo $packages | tr ' ' ',')" \
    "$suite" "$dir/root" "$mirror" >"$dir/debootstrap.log" 2>&1 || {
    echo "guest-systemd.sh: debootstrap failed, see $dir/debootstrap.log:" >&2
    tail -n 20 "$dir/debootstrap.log" >&2
    exit 1
  }
  root=$dir/root
  chroot "$root" apt-get clean
  rm -rf "$root"/var/lib/apt/lists/*
  # What an installed Debian has and debootstrap leaves out (cab --host-rootfs
  # binds its own over the host's /etc/hosts, which it never creates).
  echo cab-guest >"$root/etc/hostname"
  printf '127.0.0.1\tlocalhost\n127.0.1.1\tcab-guest\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
    >"$root/etc/hosts"
  : >"$root/etc/fstab"
  # The console is the scenario's (its output is what run.sh reads): no
  # getty on it; nothing that would start work of its own during a test.
  for unit in serial-getty@ttyS0.service getty@tty1.service console-getty.service \
    apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service \
    fstrim.timer systemd-timesyncd.service proc-sys-fs-binfmt_misc.automount; do
    ln -sf /dev/null "$root/etc/systemd/system/$unit"
  done
  # The unit that runs the scenario: mount the host's / (9p tag "host",
  # read-only) and run the checkout's guest-systemd-boot.sh, named by
  # cab.boot= on the kernel command line.  Everything else happens there,
  # so that editing it needs no new rootfs.
  cat >"$root/usr/local/sbin/cab-hosts-start" <<'EOF'
#!/bin/sh
boot=
for word in $(cat /proc/cmdline); do
  case $word in cab.boot=*) boot=${word#cab.boot=} ;; esac
done
mkdir -p /mnt/host
if mount -t 9p -o ro,trans=virtio,version=9p2000.L,access=client,msize=512000,cache=loose host /mnt/host &&
  [ -f "/mnt/host$boot" ]; then
  exec bash "/mnt/host$boot"
fi
echo "cab-hosts: cannot run cab.boot=$boot from the host's / (9p tag host)"
echo 125 >/run/cab-hosts/status
echo "CAB-HOSTS-STATUS 125"
systemctl --force --force poweroff
EOF
  chmod 0755 "$root/usr/local/sbin/cab-hosts-start"
  cat >"$root/etc/systemd/system/cab-hosts.service" <<'EOF'
[Unit]
Description=cab field-host scenario (tests/hosts)
Wants=systemd-logind.service dbus.service
After=multi-user.target systemd-logind.service dbus.service systemd-user-sessions.service

[Service]
Type=simple
ExecStart=/usr/local/sbin/cab-hosts-start
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
TTYReset=no
TTYVHangup=no

[Install]
WantedBy=multi-user.target
EOF
  mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
  ln -sf ../cab-hosts.service "$root/etc/systemd/system/multi-user.target.wants/cab-hosts.service"
  echo "$packages" >"$dir/packages"
  built=$(($(date +%s) - start))
  echo "$built" >"$dir/build-seconds"
  touch "$dir/done"
fi
echo "rootfs $dir/root"
echo "packages $(wc -w <"$dir/packages")"
echo "built $built"
