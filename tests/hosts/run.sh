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

WORK=$(mktemp -d /tmp/cab-hosts.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

for s in "${scenarios[@]}"; do
  # NAME is tests/hosts/scenarios/NAME.sh; a path with a slash is a script
  # relative to the checkout (bench/hosts/*.sh: measurements, not checks).
  case $s in
  */*) file=$SRC_DIR/$s ;;
  *) file=$HERE/scenarios/$s.sh ;;
  esac
  if [ ! -f "$file" ]; then
    echo "FAIL $s: no ${file#"$SRC_DIR"/}"
    failed=$((failed + 1))
    continue
  fi
  out=$WORK/$(basename "$s" .sh)
  mkdir -p "$out"
  start=$(date +%s)
  timeout -k 10 "$limit" qemu-system-x86_64 -accel "$accel" -m "${CAB_HOSTS_MEM:-2048}" -smp "${CAB_HOSTS_SMP:-2}" \
    -nodefaults -no-reboot -display none -monitor none -nic none -serial "file:$out/console.log" \
    -kernel "$kernel" -initrd "$initrd" \
    -append "console=ttyS0 quiet panic=-1 cgroup_no_v1=all cab.pid1=$HERE/guest-pid1.sh cab.scenario=$s cab.build=$CAB_BUILD" \
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
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
