# Sourced by tests/hosts/scenarios/*.sh, inside the guest: one line per check,
# "  ok NAME" or "  FAIL NAME: WHY", and finish() exits 0 only if all passed.
# CAB_BUILD is the checkout's build directory (from cab.build= on the command
# line); $W is a scratch directory on the guest's /tmp.
set -u
cab=$CAB_BUILD/cab
probe=$CAB_BUILD/tests/probe
W=$(mktemp -d /tmp/cab-hosts.XXXXXX)
chmod 0755 "$W"
checks_failed=0
checks_passed=0
checks_todo=0

pass() {
  checks_passed=$((checks_passed + 1))
  echo "  ok $1"
}

fail() {
  checks_failed=$((checks_failed + 1))
  echo "  FAIL $1: $2"
}

# section TITLE: starts a group of checks; prints how long the previous took.
section_title=
section_start=
section() {
  local now
  now=$(date +%s)
  [ -n "$section_title" ] && echo "  ($((now - section_start))s)"
  section_title=$1 section_start=$now
  [ -n "$1" ] && echo "== $1"
}

# check NAME COMMAND...: the command's exit status decides.
check() {
  local name=$1
  shift
  if "$@"; then pass "$name"; else fail "$name" "'$*' failed"; fi
}

# check_todo NAME COMMAND...: a check cab does not pass yet (a known gap of
# issue 11): "  todo NAME" when it fails, which fails nothing, and "  ok NAME
# (todo: now passes, make it a check)" when it passes.
check_todo() {
  local name=$1
  shift
  if "$@"; then
    pass "$name (todo: now passes, make it a check)"
  else
    checks_todo=$((checks_todo + 1))
    echo "  todo $name"
  fi
}

# check_json NAME FILE JQ-EXPR: the expression is true in FILE.
check_json() {
  if jq -e "$3" "$2" >/dev/null 2>&1; then
    pass "$1"
  else
    fail "$1" "$3 is not true in $(tr -d '\n\t' <"$2" 2>/dev/null | head -c 600)"
  fi
}

# not CMD...: CMD fails.
not() {
  ! "$@"
}

# no_process PATTERN: no process's command line matches (pgrep -f).  A
# function, not "bash -c", whose own command line would match.
no_process() {
  ! pgrep -f "$1" >/dev/null
}

# no_cab_cgroup: no cab* cgroup is left anywhere near the top of the tree.
no_cab_cgroup() {
  ! find /sys/fs/cgroup -mindepth 1 -maxdepth 3 -type d -name 'cab*' | grep -q .
}

# as_user CMD...: run CMD as the unprivileged test user (CAB_TEST_USER, cabtest).
as_user() {
  setpriv --reuid="${CAB_TEST_USER:-cabtest}" --regid="${CAB_TEST_USER:-cabtest}" --init-groups \
    env HOME=/tmp "$@"
}

finish() {
  section ""
  echo "  $checks_passed checks passed, $checks_failed failed, $checks_todo todo"
  rm -rf "$W"
  [ "$checks_failed" = 0 ]
  exit $?
}
