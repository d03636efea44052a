#!/bin/bash
# make test-hosts: cab on field hosts, a matrix of qemu guests.
#
#   CAB_BUILD=/abs/build bash tests/hosts/run.sh [SCENARIO...]
#
# Each scenario (tests/hosts/scenarios/NAME.sh, all of them by default) boots
# its own guest: Debian's kernel and a small initramfs (tests/hosts/guest.sh,
# cached under CAB_HOSTS_CACHE, default $CAB_BUILD/hosts) that runs the
# host's own userland and this checkout's build, read-only over 9p under a
# tmpfs overlay, on a pure cgroup v2 hierarchy.  The scenario runs as the
# guest's PID 1's child, as root; its exit status comes back through a
# writable 9p share.
#
# A scenario whose header has a line "# guest: systemd" boots the systemd
# guest instead (tests/hosts/guest-systemd.sh): the same kernel and
# initramfs, but the root is a cached debootstrap'd Debian 12 whose PID 1 is
# systemd; a unit runs the scenario (guest-systemd-boot.sh) after
# multi-user.target with this checkout and build at their host paths.
#
# Output: one line per scenario, "ok NAME (Ns; its checks' tally)" followed
# by its todo checks (tests/hosts/check.sh), "skip NAME: REASON" or "FAIL
# NAME (Ns, why)" followed by the end of its console; then one line "N
# passed, N failed, N skipped".  Exit 1 if anything failed.
#
# Environment: CAB_HOSTS_ACCEL (tcg; kvm where a probe shows it boots),
# CAB_HOSTS_MEM (2048 MiB), CAB_HOSTS_SMP (2), CAB_HOSTS_TIMEOUT (seconds per
# scenario, 1800), CAB_HOSTS_LOGDIR=DIR to keep every console log,
# CAB_HOSTS_KERNEL_PKG (guest.sh).
set -u
export LC_ALL=C
HERE=$(cd "$(dirname "$0")" && pwd)
SRC_DIR=$(cd "$HERE/../.." && pwd)
build=${CAB_BUILD:-$SRC_DIR/build}
CAB_BUILD=$(cd "$build" 2>/dev/null && pwd) || {
  echo "tests/hosts/run.sh: build directory $build not found (run make)" >&2
  exit 1
}
cache=${CAB_HOSTS_CACHE:-$CAB_BUILD/hosts}
accel=${CAB_HOSTS_ACCEL:-tcg}
limit=${CAB_HOSTS_TIMEOUT:-1800}

if [ $# -gt 0 ]; then
  scenarios=("$@")
else
  scenarios=()
  for f in "$HERE"/scenarios/*.sh; do scenarios+=("$(basename "$f" .sh)"); done
fi

passed=0 failed=0 skipped=0
skip_all() {
  local s
  for s in "${scenarios[@]}"; do echo "skip $s: $1"; done
  echo "0 passed, 0 failed, ${#scenarios[@]} skipped"
  exit 0
}

# The guest sees the host's / except /tmp, /run, /proc, /sys and /dev, which
# it mounts afresh; the checkout and the build must live elsewhere.
for d in "$SRC_DIR" "$CAB_BUILD"; do
  case $d/ in
  /tmp/* | /run/*) skip_all "$d is under /tmp or /run, which the guest mounts afresh" ;;
  esac
done
[ "$(id -u)" = 0 ] || skip_all "not root: qemu must read every host file for the guest's root"
command -v qemu-system-x86_64 >/dev/null || skip_all "no qemu-system-x86_64 (make deps)"
[ -x "$CAB_BUILD/cab" ] || { echo "tests/hosts/run.sh: no $CAB_BUILD/cab (run make)" >&2; exit 1; }

t0=$(date +%s)
guest=$(bash "$HERE/guest.sh" "$cache" 2>&1)
case $? in
0) ;;
77) skip_all "$(sed -n 's/^skip: //p' <<<"$guest" | head -1)" ;;
*) echo "tests/hosts/run.sh: building the guest failed:" >&2; echo "$guest" >&2; exit 1 ;;
esac
kernel=$(sed -n 's/^kernel //p' <<<"$guest")
initrd=$(sed -n 's/^initrd //p' <<<"$guest")
echo "guest: kernel $(sed -n 's/^kver //p' <<<"$guest"), accel $accel, ready in $(($(date +%s) - t0))s"

# NAME is tests/hosts/scenarios/NAME.sh; a path with a slash is a script
# relative to the checkout (bench/hosts/*.sh: measurements, not checks).
scenario_file() {
  case $1 in
  */*) echo "$SRC_DIR/$1" ;;
  *) echo "$HERE/scenarios/$1.sh" ;;
  esac
}
# The guest kind a scenario asks for in its header ("# guest: systemd");
# "plain" (the host's userland, no systemd) by default.
guest_kind() {
  local kind
  kind=$(sed -n '1,30s/^# guest: *\([a-z0-9-]*\).*/\1/p' "$(scenario_file "$1")" 2>/dev/null | head -1)
  echo "${kind:-plain}"
}
# The systemd guest's rootfs, built only when a scenario needs it; when it
# cannot be had, its scenarios skip or fail with the reason.
systemd_rootfs= systemd_skip= systemd_fail=
for s in "${scenarios[@]}"; do
  [ "$(guest_kind "$s")" = systemd ] || continue
  t0=$(date +%s)
  sguest=$(bash "$HERE/guest-systemd.sh" "$cache" "$CAB_BUILD" 2>&1)
  case $? in
  0)
    systemd_rootfs=$(sed -n 's/^rootfs //p' <<<"$sguest")
    echo "guest systemd: $(sed -n 's/^packages //p' <<<"$sguest") packages, rootfs" \
      "$([ "$(sed -n 's/^built //p' <<<"$sguest")" = 0 ] && echo cached || echo built) in $(($(date +%s) - t0))s"
    ;;
  77) systemd_skip=$(sed -n 's/^skip: //p' <<<"$sguest" | head -1) ;;
  *) systemd_fail=$sguest ;;
  esac
  break
done

WORK=$(mktemp -d /tmp/cab-hosts.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

for s in "${scenarios[@]}"; do
  file=$(scenario_file "$s")
  if [ ! -f "$file" ]; then
    echo "FAIL $s: no ${file#"$SRC_DIR"/}"
    failed=$((failed + 1))
    continue
  fi
  out=$WORK/$(basename "$s" .sh)
  mkdir -p "$out"
  # The plain guest's root is the host's /; the systemd guest's is its
  # rootfs, with the host's / beside it (tag "host") for the checkout.
  case $(guest_kind "$s") in
  plain)
    boot=(-append "console=ttyS0 quiet panic=-1 cgroup_no_v1=all cab.pid1=$HERE/guest-pid1.sh cab.scenario=$s cab.build=$CAB_BUILD"
      -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap)
    ;;
  systemd)
    if [ -n "$systemd_skip" ]; then
      echo "skip $s: $systemd_skip"
      skipped=$((skipped + 1))
      continue
    elif [ -n "$systemd_fail" ] || [ -z "$systemd_rootfs" ]; then
      echo "FAIL $s (building the systemd guest failed)"
      sed 's/^/    /' <<<"$systemd_fail" | tail -n 20
      failed=$((failed + 1))
      continue
    fi
    boot=(-append "console=ttyS0 quiet panic=-1 cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1 cab.pid1=/lib/systemd/systemd cab.boot=$HERE/guest-systemd-boot.sh cab.scenario=$s cab.build=$CAB_BUILD"
      -virtfs "local,path=$systemd_rootfs,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
      -virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap)
    ;;
  *)
    echo "FAIL $s: unknown guest '$(guest_kind "$s")' in its header (plain or systemd)"
    failed=$((failed + 1))
    continue
    ;;
  esac
  start=$(date +%s)
  timeout -k 10 "$limit" qemu-system-x86_64 -accel "$accel" -m "${CAB_HOSTS_MEM:-2048}" -smp "${CAB_HOSTS_SMP:-2}" \
    -nodefaults -no-reboot -display none -monitor none -nic none -serial "file:$out/console.log" \
    -kernel "$kernel" -initrd "$initrd" "${boot[@]}" \
    -virtfs "local,path=$out,mount_tag=out,security_model=none" \
    </dev/null >"$out/qemu.log" 2>&1
  qrc=$?
  took=$(($(date +%s) - start))
  rc=$(cat "$out/status" 2>/dev/null)
  [ -n "${CAB_HOSTS_LOGDIR:-}" ] && mkdir -p "$CAB_HOSTS_LOGDIR" && cp "$out/console.log" "$CAB_HOSTS_LOGDIR/$(basename "$s" .sh).log"
  # The scenario's own tally ("N checks passed, N failed, N todo") and its
  # todo checks, the gaps issue 11 still has to close.
  tally=$(sed -n 's/^  \([0-9]* checks passed, .*\)$/\1/p' "$out/console.log" | tail -1)
  if [ "$rc" = 0 ]; then
    passed=$((passed + 1))
    echo "ok $s (${took}s${tally:+; $tally})"
    grep '^  todo ' "$out/console.log" | sed 's/^  /    /'
  elif [ "$rc" = 77 ]; then
    skipped=$((skipped + 1))
    echo "skip $s: $(sed -n 's/^skip: //p' "$out/console.log" | head -1)"
  else
    failed=$((failed + 1))
    if [ -z "$rc" ]; then
      why="no status: qemu exited $qrc$([ "$qrc" = 124 ] && echo ", killed after ${limit}s")"
    else
      why="exit $rc"
    fi
    echo "FAIL $s (${took}s, $why)"
    grep -v '^\[ *[0-9.]*\] ' "$out/console.log" | tail -n 40 | sed 's/^/    /'
    sed 's/^/    qemu: /' "$out/qemu.log" | tail -n 5
  fi
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
