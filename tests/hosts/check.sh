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

# no_cab_cgroup_under DIR: no cab.* cgroup is left anywhere below DIR (a
# user's cells sit deep in user.slice, below no_cab_cgroup's reach).
no_cab_cgroup_under() {
  ! find "$1" -mindepth 1 -type d -name 'cab.*' 2>/dev/null | grep -q .
}

# The systemd guest's scenarios (tests/hosts/guest-systemd.sh): a real user
# (CAB_TEST_USER, cabtest) and its login sessions.
session_user=${CAB_TEST_USER:-cabtest}

# user_session_setup: create the user (useradd -m), let it linger and wait
# for its user manager, user@UID.service (systemctl start returns once it is
# up), as after the user's first login.
user_session_setup() {
  id "$session_user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$session_user" || return 1
  loginctl enable-linger "$session_user" &&
    systemctl start "user@$(id -u "$session_user").service"
}

# in_session CMD...: CMD as the user in a login session of its own, as after
# ssh: PAMName=login has pam_systemd register it with logind, which puts it
# in user.slice/user-UID.slice/session-N.scope (owned by root) and sets
# XDG_RUNTIME_DIR and the user bus.  In the current directory (the
# checkout); stdin, stdout and stderr are ours; the exit status is CMD's.
in_session() {
  systemd-run --quiet --wait --pipe --collect -p PAMName=login -p User="$session_user" \
    -p WorkingDirectory="$PWD" -- "$@"
}

# in_delegated_scope CMD...: CMD in such a session, inside a scope of the
# user's manager that is delegated to the user: README's way to run cab as a
# user on systemd.
in_delegated_scope() {
  in_session systemd-run --user --scope -p Delegate=yes --quiet -- "$@"
}
