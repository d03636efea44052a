#!/bin/bash
# cab's test runner (make test).
#
#   CAB_BUILD=/abs/build bash tests/run.sh [NAME-FILTER]
#
# Runs every unit test binary $CAB_BUILD/tests/test_* once, then every
# tests/integration/*.sh twice: as root and as the unprivileged user
# "cabtest" (created with useradd if missing).  Not started as root, it runs
# the integration tests once, as the current user.  A test exits 0 = pass,
# 77 = skip (printing "skip: REASON"), anything else = fail.
#
# Output: one line per test, "ok NAME [mode]", "skip NAME [mode]: REASON" or
# "FAIL NAME [mode]" followed by the last 30 lines of its output, and then
# exactly one line "N passed, N failed, N skipped".  The exit status is 1 if
# anything failed.
#
# Environment: CAB_BUILD (default ./build), CAB_TEST_USER (default cabtest),
# CAB_TEST_MODES ("root user" by default when root), CAB_TEST_VERBOSE=1 to
# print every test's full output, CAB_TEST_LOGDIR=DIR to keep every log,
# CAB_TEST_ARTIFACTS=DIR (default $CAB_BUILD/test-artifacts) for what tests
# keep for a person to look at, in DIR/<root|user>/<test>/ (tests/lib.sh's
# artifact_dir: screenshots).

set -u
export LC_ALL=C

TESTS_DIR=$(cd "$(dirname "$0")" && pwd)
SRC_DIR=$(dirname "$TESTS_DIR")
CAB_BUILD=${CAB_BUILD:-$SRC_DIR/build}
CAB_BUILD=$(cd "$CAB_BUILD" 2>/dev/null && pwd) || {
  echo "run.sh: build directory ${CAB_BUILD} not found (run make)" >&2
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
}
TEST_USER=${CAB_TEST_USER:-cabtest}
FILTER=${1:-}
# One test script may not take longer than this.
PER_TEST_TIMEOUT=${CAB_PER_TEST_TIMEOUT:-180}

# Each pass writes its artifacts below ARTIFACTS/<root|user>/ (the user
# pass's directory is the test user's: prepare_user).
ARTIFACTS=${CAB_TEST_ARTIFACTS:-$CAB_BUILD/test-artifacts}
mkdir -p "$ARTIFACTS" 2>/dev/null

passed=0 failed=0 skipped=0
WORK=$(mktemp -d /tmp/cab-run.XXXXXX)
chmod 0755 "$WORK"
trap 'rm -rf "$WORK"' EXIT
# Full logs: $WORK/logs, copied to CAB_TEST_LOGDIR at the end if that is set.
LOGS=$WORK/logs
mkdir -p "$LOGS"

# report NAME MODE RC LOGFILE
report() {
  local name=$1 mode=$2 rc=$3 log=$4 label reason
  label=$name${mode:+ [$mode]}
  if [ "${CAB_TEST_VERBOSE:-0}" = 1 ]; then
    sed 's/^/    /' "$log"
  fi
  case $rc in
  0)
    passed=$((passed + 1))
    echo "ok $label"
    ;;
  77)
    skipped=$((skipped + 1))
    reason=$(grep -m1 '^skip: ' "$log" | sed 's/^skip: //')
    echo "skip $label: ${reason:-no reason given}"
    ;;
  *)
    failed=$((failed + 1))
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
      echo "FAIL $label (exit $rc: killed after its time limit?)"
    else
      echo "FAIL $label (exit $rc)"
    fi
    tail -n 30 "$log" | sed 's/^/    /'
    ;;
  esac
}

# --- unit tests --------------------------------------------------------------
for bin in "$CAB_BUILD"/tests/test_*; do
  [ -f "$bin" ] && [ -x "$bin" ] || continue
  name=$(basename "$bin")
  [ -n "$FILTER" ] && [[ $name != *$FILTER* ]] && continue
  log=$LOGS/$name.log
  (cd "$SRC_DIR" && timeout -k 5 "$PER_TEST_TIMEOUT" "$bin") >"$log" 2>&1 </dev/null
  report "$name" "" $? "$log"
done

# --- integration tests -----------------------------------------------------------
# Prepare the unprivileged user: it must exist, have a home, and be able to
# reach the build directory and the test scripts.
user_ready=""
user_problem=""
prepare_user() {
  if ! id "$TEST_USER" >/dev/null 2>&1; then
    if ! useradd --no-create-home --shell /bin/sh --comment "cab tests" "$TEST_USER" 2>"$WORK/useradd.err"; then
      user_problem="useradd $TEST_USER failed: $(head -n1 "$WORK/useradd.err")"
      return 1
    fi
  fi
  USER_HOME=$WORK/home-$TEST_USER
  mkdir -p "$USER_HOME" && chown "$TEST_USER:" "$USER_HOME" && chmod 0700 "$USER_HOME"
  mkdir -p "$ARTIFACTS/user" 2>/dev/null && chown "$TEST_USER:" "$ARTIFACTS/user" 2>/dev/null
  local path
  for path in "${CAB:-$CAB_BUILD/cab}" "$CAB_BUILD/tests/probe" "$TESTS_DIR/lib.sh"; do
    if ! setpriv --reuid="$TEST_USER" --regid="$TEST_USER" --init-groups test -r "$path" 2>/dev/null; then
      user_problem="$TEST_USER cannot read $path (check the permissions of its parent directories)"
      return 1
    fi
  done
  user_ready=1
}

# A test may ask for a longer limit than PER_TEST_TIMEOUT with a header line
# "# cab-test-timeout: SECONDS" (tests that boot qemu guests); the larger of
# the two holds.
test_timeout() {
  local want
  want=$(sed -n '1,20s/^# cab-test-timeout: *\([0-9][0-9]*\)$/\1/p' "$1" | head -1)
  if [ -n "$want" ] && [ "$want" -gt "$PER_TEST_TIMEOUT" ]; then echo "$want"; else echo "$PER_TEST_TIMEOUT"; fi
}

# run_as MODE LOG SCRIPT: run one integration test in MODE (root|user|self).
run_as() {
  local mode=$1 log=$2 script=$3 limit
  limit=$(test_timeout "$script")
  local -a envv=(
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    "TERM=${TERM:-dumb}"
    "CAB_BUILD=$CAB_BUILD"
    "CAB=${CAB:-$CAB_BUILD/cab}"
    "PROBE=$CAB_BUILD/tests/probe"
    "LC_ALL=C"
    "CAB_TEST_AGENTS=${CAB_TEST_AGENTS:-}"
    "CAB_AGENTS_PREFIX=${CAB_AGENTS_PREFIX:-}"
    "CAB_TEST_IMAGE=${CAB_TEST_IMAGE:-}"
    "CAB_TEST_REAL_MODEL_AGENTS=${CAB_TEST_REAL_MODEL_AGENTS:-}"
    "CAB_REAL_MODEL_PREFIX=${CAB_REAL_MODEL_PREFIX:-}"
    "CAB_TEST_ARTIFACTS=$ARTIFACTS"
  )
  # A longer per-command limit from the caller (make test-agents' first cell
  # unpacks a 1.4 GiB image).
  [ -n "${CAB_TEST_TIMEOUT:-}" ] && envv+=("CAB_TEST_TIMEOUT=$CAB_TEST_TIMEOUT")
  # A store given by the caller (make test-agents' image) is used as is.
  [ -n "${CAB_HOME:-}" ] && envv+=("CAB_HOME=$CAB_HOME")
  if [ "$mode" = user ]; then
    env -i "${envv[@]}" HOME="$USER_HOME" USER="$TEST_USER" LOGNAME="$TEST_USER" TMPDIR=/tmp \
      setpriv --reuid="$TEST_USER" --regid="$TEST_USER" --init-groups \
      timeout -k 10 "$limit" bash "$script" >"$log" 2>&1 </dev/null
  else
    env -i "${envv[@]}" HOME="${HOME:-/root}" USER="$(id -un)" TMPDIR="${TMPDIR:-/tmp}" \
      timeout -k 10 "$limit" bash "$script" >"$log" 2>&1 </dev/null
  fi
}

if [ "$(id -u)" = 0 ]; then
  modes=${CAB_TEST_MODES:-root user}
else
  modes=${CAB_TEST_MODES:-self}
fi
case " $modes " in *" user "*) prepare_user ;; esac

for script in "$TESTS_DIR"/integration/*.sh; do
  [ -f "$script" ] || continue
  name=$(basename "$script" .sh)
  [ -n "$FILTER" ] && [[ $name != *$FILTER* ]] && continue
  for mode in $modes; do
    log=$LOGS/$name.$mode.log
    label=$mode
    [ "$mode" = self ] && label=user
    if [ "$mode" = user ] && [ -z "$user_ready" ]; then
      echo "skip: $user_problem" >"$log"
      report "$name" "$label" 77 "$log"
      continue
    fi
    run_as "$mode" "$log" "$script"
    report "$name" "$label" $? "$log"
  done
done

if [ -n "${CAB_TEST_LOGDIR:-}" ]; then
  mkdir -p "$CAB_TEST_LOGDIR" && cp "$LOGS"/*.log "$CAB_TEST_LOGDIR"/ 2>/dev/null
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
