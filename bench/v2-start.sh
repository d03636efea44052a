#!/bin/bash
# v2-start: bench/exec-start.sh (cab exec -- /bin/true next to bubblewrap and
# the unshare(1) floor, cgroups off and on) inside a pure cgroup v2 guest,
# where cab starts each sandbox straight into its cgroup (clone3 with
# CLONE_INTO_CGROUP) and kills with cgroup.kill: as root and as an
# unprivileged user.  The guest is tests/hosts/'s (Debian's kernel under
# qemu TCG, the host's userland over 9p), so absolute times are several
# times the host's; the ratios are what carries over.
#
#   bash bench/v2-start.sh              (make bench; needs root, else skips)
#
# 20 runs each (the guest's environment comes from its kernel command line,
# not from this shell).
set -u
SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
export CAB_BUILD=${CAB_BUILD:-$SRC_DIR/build}
if [ "$(id -u)" != 0 ]; then
  echo "v2-start: skip: the guest boots as root (qemu reads the host's / for it)"
  exit 0
fi
logs=$(mktemp -d /tmp/cab-bench-v2.XXXXXX)
trap 'rm -rf "$logs"' EXIT
CAB_HOSTS_LOGDIR=$logs bash "$SRC_DIR/tests/hosts/run.sh" bench/hosts/exec-start-guest.sh >"$logs/run.out" 2>&1
rc=$?
grep -v '^    ' "$logs/run.out"
log=$logs/exec-start-guest.log
[ -f "$log" ] || { echo "v2-start: no console log"; exit 1; }
# Each run's header, means and ratios (hyperfine's progress bars on the
# serial console are left out).
tr -d '\r' <"$log" | sed -n '/^BENCH-BEGIN/,/^BENCH-END/p' |
  grep -E '^(exec-start:|mean ms|cab/|bwrap/)'
exit "$rc"
