#!/bin/bash
# Inside a field-host guest (pure cgroup v2, booted by bench/v2-start.sh
# through tests/hosts/run.sh): bench/exec-start.sh as root, then as the test
# user, each between "BENCH-BEGIN WHO" and "BENCH-END WHO" on the console.
set -u
export LC_ALL=C
cd "$(dirname "$0")/../.." || exit 1
user=${CAB_TEST_USER:-cabtest}
rc=0
echo "BENCH-BEGIN root"
BENCH_RUNS=${BENCH_RUNS:-20} bash bench/exec-start.sh 2>&1 || rc=1
echo "BENCH-END root"
if id "$user" >/dev/null 2>&1; then
  echo "BENCH-BEGIN $user"
  # The guest's /tmp is its own tmpfs; the user reads the build over 9p.
  setpriv --reuid="$user" --regid="$user" --init-groups env HOME=/tmp CAB_BUILD="$CAB_BUILD" \
    BENCH_RUNS="${BENCH_RUNS:-20}" bash bench/exec-start.sh 2>&1 || rc=1
  echo "BENCH-END $user"
fi
exit "$rc"
