# Shared helpers for cab's integration tests.  Source it, then call setup:
#
#   . "$(dirname "$0")/../lib.sh"
#   setup                       # temp dir $T, rootfs $R, checks for cab/jq
#   run_cab "$T/out" exec --rootfs "$R" -- /usr/bin/probe report
#   assert_eq "$RC" 0 "probe exits 0"
#   assert_json '.hostname' cab "$T/out"
#   finish                      # exit 0, or 1 if any assertion failed
#
# Assertions do not stop the test: every failure is printed as "not ok: ..."
# and counted, and finish() lists them again at the end (the runner shows
# only the last 30 lines of a failing test).  A test exits 0 = pass,
# 77 = skip (after "skip: REASON"), anything else = fail.
# shellcheck shell=bash

set -u
export LC_ALL=C

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CAB_BUILD=${CAB_BUILD:-$(cd "$TESTS_DIR/.." && pwd)/build}
CAB=${CAB:-$CAB_BUILD/cab}
PROBE=${PROBE:-$CAB_BUILD/tests/probe}
# Upper bound for one cab invocation: a hung cab fails the test, it does
# not hang the suite.
CAB_TEST_TIMEOUT=${CAB_TEST_TIMEOUT:-30}
# "root" or "user": which pass of the runner this is.
if [ "$(id -u)" = 0 ]; then CAB_TEST_MODE=root; else CAB_TEST_MODE=user; fi
TEST_NAME=$(basename "$0" .sh)

_failures=()
_checks=0
_cleanups=()

is_root() { [ "$CAB_TEST_MODE" = root ]; }

say() { printf '%s\n' "$*"; }

skip() {
  say "skip: $*"
  exit 77
}

# Fatal: the test cannot go on.
bail() {
  say "not ok: $*"
  _failures+=("$*")
  finish
}

pass() {
  _checks=$((_checks + 1))
  say "ok: $*"
}

fail() {
  _checks=$((_checks + 1))
  _failures+=("$*")
  say "not ok: $*"
}

# assert_eq ACTUAL EXPECTED MESSAGE
assert_eq() {
  if [ "$1" = "$2" ]; then
    pass "$3"
  else
    fail "$3 (expected '$2', got '$1')"
  fi
}

assert_ne() {
  if [ "$1" != "$2" ]; then
    pass "$3"
  else
    fail "$3 (got '$1', which it must not be)"
  fi
}

# assert_match ACTUAL EXTENDED-REGEX MESSAGE
assert_match() {
  if printf '%s' "$1" | grep -Eq -- "$2"; then
    pass "$3"
  else
    fail "$3 ('$1' does not match /$2/)"
  fi
}

assert_no_match() {
  if printf '%s' "$1" | grep -Eq -- "$2"; then
    fail "$3 ('$1' matches /$2/)"
  else
    pass "$3"
  fi
}

# assert_rc EXPECTED MESSAGE: $RC of the last run_cab; a failure quotes its
# stderr.
assert_rc() {
  if [ "$RC" = "$1" ]; then
    pass "$2"
  else
    fail "$2 (expected exit $1, got $RC; stderr: $(head -c 300 "$LAST_OUT.err" 2>/dev/null | tr '\n' '|'))"
  fi
}

# assert_cmp A OP B MESSAGE, OP one of -lt -le -gt -ge -eq -ne (integers)
assert_cmp() {
  if [[ "$1" =~ ^-?[0-9]+$ && "$3" =~ ^-?[0-9]+$ ]] && test "$1" "$2" "$3"; then
    pass "$4 ($1 $2 $3)"
  else
    fail "$4 (expected $1 $2 $3)"
  fi
}

# assert_json EXPR EXPECTED FILE [MESSAGE]: jq -r -c EXPR on FILE must print
# EXPECTED exactly (strings come out raw, objects compact).
assert_json() {
  local expr=$1 expected=$2 file=$3 msg=${4:-$1 == $2} actual
  if ! actual=$(jq -r -c "$expr" "$file" 2>&1); then
    fail "$msg (jq failed on $(basename "$file"): $(head -c 300 "$file" | tr '\n' ' '))"
    return
  fi
  if [ "$actual" = "$expected" ]; then
    pass "$msg"
  else
    fail "$msg (expected '$expected', got '$actual')"
  fi
}

# assert_jq EXPR FILE MESSAGE: the jq boolean expression must be true.
assert_jq() {
  local expr=$1 file=$2 msg=$3 actual
  actual=$(jq -r -c "$expr" "$file" 2>&1)
  if [ "$actual" = true ]; then
    pass "$msg"
  else
    fail "$msg ($expr gave '$actual'; $(head -c 300 "$file" | tr '\n' ' '))"
  fi
}

# assert_errno EXPR ERRNAME FILE [MESSAGE]: EXPR is a probe result ("ok",
# {"errno":N,"name":..} or {"signal":N}); its errno name must be ERRNAME
# (or "ok").
assert_errno() {
  assert_json "$1 | if type == \"object\" then (.name // \"signal \(.signal)\") else . end" \
    "$2" "$3" "${4:-$1 is $2}"
}

# jget EXPR FILE: print one value (raw); empty on any error.
jget() { jq -r -c "$1" "$2" 2>/dev/null; }

# assert_json_valid FILE MESSAGE
assert_json_valid() {
  if jq -e . "$1" >/dev/null 2>&1; then
    pass "$2"
  else
    fail "$2 (not JSON: $(head -c 300 "$1" | tr '\n' ' '))"
  fi
}

# artifact_dir: print the directory where this test keeps what a person
# should look at after it ran (screenshots...), emptied first:
# $CAB_TEST_ARTIFACTS/<root|user>/<test>, by default
# $CAB_BUILD/test-artifacts/<root|user>/<test> (tests/run.sh gives the user
# pass its own <user> directory).  When it cannot be created, $T/artifacts
# (gone at exit), with a note on stderr.
artifact_dir() {
  local d=${CAB_TEST_ARTIFACTS:-$CAB_BUILD/test-artifacts}/$CAB_TEST_MODE/$TEST_NAME
  rm -rf "$d" 2>/dev/null
  if mkdir -p "$d" 2>/dev/null && [ -w "$d" ]; then
    printf '%s\n' "$d"
  else
    say "# note: cannot create $d: artifacts are kept in \$T only" >&2
    mkdir -p "$T/artifacts" && printf '%s\n' "$T/artifacts"
  fi
}

# at_exit CMD...: run CMD (eval'd) when the test exits, before $T goes.
at_exit() { _cleanups+=("$*"); }

_cleanup() {
  local c
  for c in "${_cleanups[@]+"${_cleanups[@]}"}"; do eval "$c" >/dev/null 2>&1 || true; done
  if [ -n "${T:-}" ] && [ -d "$T" ]; then
    chmod -R u+rwX "$T" 2>/dev/null || true
    rm -rf "$T" 2>/dev/null || true
  fi
}

finish() {
  local f
  if [ ${#_failures[@]} -gt 0 ]; then
    say ""
    say "$TEST_NAME [$CAB_TEST_MODE]: ${#_failures[@]} of $_checks checks failed:"
    for f in "${_failures[@]}"; do say "  - $f"; done
    exit 1
  fi
  say "$TEST_NAME [$CAB_TEST_MODE]: all $_checks checks passed"
  exit 0
}

# make_busybox_rootfs DIR [--bare]
# A minimal rootfs: Debian's busybox-static with symlinks for its applets,
# the usual top-level directories, and the probe as /usr/bin/probe.  Without
# --bare, /etc also gets passwd/group and sentinel hosts/hostname/resolv.conf
# files, so that a test can tell cab's generated ones from the rootfs's own.
make_busybox_rootfs() {
  local dir=$1 bare=${2:-} bb applet
  bb=$(command -v busybox 2>/dev/null) || bb=/bin/busybox
  [ -x "$bb" ] || { say "busybox not found (apt-get install busybox-static)"; return 1; }
  mkdir -p "$dir" && chmod 0755 "$dir" || return 1
  (
    cd "$dir" || exit 1
    mkdir -p bin sbin usr/bin usr/sbin proc dev sys tmp etc work home root run var/tmp
    chmod 0755 bin sbin usr usr/bin usr/sbin proc dev sys etc work home run var
    chmod 1777 tmp var/tmp
    chmod 0700 root
    cp "$bb" bin/busybox || exit 1
    chmod 0755 bin/busybox
    # busybox --install -s, by hand: every applet as a symlink in /bin.
    for applet in $("$bb" --list); do
      [ "$applet" = busybox ] && continue
      ln -sf busybox "bin/$applet"
    done
    cp "$PROBE" usr/bin/probe || exit 1
    chmod 0755 usr/bin/probe
    if [ "$bare" != --bare ]; then
      printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >etc/passwd
      printf 'root:x:0:\nnogroup:x:65534:\n' >etc/group
      echo rootfs-sentinel >etc/hostname
      echo '# rootfs-sentinel' >etc/hosts
      echo '# rootfs-sentinel' >etc/resolv.conf
    fi
  )
}

# cab_commands: the commands "cab help" lists, one a line.
cab_commands() {
  "$CAB" help 2>&1 </dev/null | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }'
}

# cab_helps CMD: CMD's --help and, when its usage is "cab CMD COMMAND", each
# subcommand's that has a usage of its own (as tests/readme-commands.sh
# takes them).
cab_helps() {
  "$CAB" "$1" --help 2>&1 </dev/null
  if "$CAB" "$1" --help 2>&1 | head -n 1 | grep -q "^usage: cab $1 COMMAND"; then
    local w
    for w in $("$CAB" "$1" --help 2>&1 | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p'); do
      "$CAB" "$1" "$w" --help 2>/dev/null </dev/null | head -n 1 | grep -q "^usage: cab $1 $w\b" &&
        "$CAB" "$1" "$w" --help 2>&1 </dev/null
    done
  fi
}

# run_cab OUT ARGS...: run "cab ARGS..." with a time bound.  stdout goes to
# OUT, stderr to OUT.err; $RC gets the exit code and $MS the wall time.
run_cab() {
  local out=$1 t0 t1
  shift
  LAST_OUT=$out
  say "+ cab $*"
  t0=$(date +%s%N)
  timeout -k 5 "$CAB_TEST_TIMEOUT" "$CAB" "$@" >"$out" 2>"$out.err" </dev/null
  RC=$?
  t1=$(date +%s%N)
  MS=$(((t1 - t0) / 1000000))
  if [ "$RC" = 124 ] || { [ "$RC" = 137 ] && [ "$MS" -ge $((CAB_TEST_TIMEOUT * 1000)) ]; }; then
    say "  (cab did not return within ${CAB_TEST_TIMEOUT}s and was killed)"
  fi
  if [ -s "$out.err" ]; then
    say "  stderr: $(head -c 600 "$out.err" | tr '\n' '|')"
  fi
}

# Our own cgroup path in a v1 hierarchy (memory, pids, cpu...), or "".
own_cgroup_v1() {
  awk -F: -v c="$1" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' /proc/self/cgroup
}

# setup [--bare]: temp dir $T (removed at exit), busybox rootfs $R, checks.
setup() {
  command -v jq >/dev/null 2>&1 || skip "jq not installed (make deps)"
  command -v busybox >/dev/null 2>&1 || [ -x /bin/busybox ] || skip "busybox-static not installed (make deps)"
  [ -x "$CAB" ] || bail "cab binary not found at $CAB (run make)"
  [ -x "$PROBE" ] || bail "probe not found at $PROBE (run make)"
  # cab needs user namespaces; without them there is nothing to test.
  if command -v unshare >/dev/null 2>&1 && ! unshare -Ur true 2>/dev/null; then
    skip "user namespaces are not available to $(id -un 2>/dev/null || id -u) (unshare -Ur fails)"
  fi
  T=$(mktemp -d "${TMPDIR:-/tmp}/cab-$TEST_NAME.XXXXXX") || bail "mktemp failed"
  chmod 0755 "$T"
  trap _cleanup EXIT
  trap 'exit 130' INT TERM
  R=$T/rootfs
  make_busybox_rootfs "$R" "${1:-}" || bail "could not build the busybox rootfs"
  say "# $TEST_NAME as $CAB_TEST_MODE ($(id -un 2>/dev/null || id -u)), T=$T"
}

# setup_cab_home: what setup() does without the rootfs, for tests that run
# real cells: skip without user namespaces, then $T (removed at exit) with a
# private CAB_HOME and TMPDIR inside it.  The caller unsets what it must.
setup_cab_home() {
  if command -v unshare >/dev/null 2>&1 && ! unshare -Ur true 2>/dev/null; then
    skip "user namespaces are not available (unshare -Ur fails)"
  fi
  T=$(mktemp -d "${TMPDIR:-/tmp}/cab-$TEST_NAME.XXXXXX") || bail "mktemp failed"
  chmod 0755 "$T"
  trap _cleanup EXIT
  trap 'exit 130' INT TERM
  say "# $TEST_NAME as $CAB_TEST_MODE ($(id -un 2>/dev/null || id -u)), T=$T"
  export CAB_HOME=$T/home TMPDIR=$T/tmp
  mkdir -p "$TMPDIR"
}

# setup_cell_test: the preamble of a test that runs real cells with the cab
# binary: SRC_DIR (the source tree), jq and the binary present, then
# setup_cab_home, with no endpoint, key or tasks dir from the caller's
# environment.
setup_cell_test() {
  SRC_DIR=$(cd "$TESTS_DIR/.." && pwd)
  command -v jq >/dev/null 2>&1 || skip "jq not installed (make deps)"
  [ -x "$CAB" ] || bail "cab binary not found at $CAB (run make)"
  setup_cab_home
  unset CAB_ENDPOINT CAB_KEY CAB_TASKS_DIR
}

# test_adapter TUI SHELL-LINE [JQ]: an adapter TUI in $T/adapters (exported
# as CAB_ADAPTERS_DIR) whose agent runs SHELL-LINE in the workdir and talks
# to no model; JQ, if given, edits the adapter (e.g. '.builtin = "nop"').
test_adapter() {
  export CAB_ADAPTERS_DIR=$T/adapters
  mkdir -p "$CAB_ADAPTERS_DIR"
  jq -n --arg tui "$1" --arg line "$2" \
    '{schema: "cab.adapter/v1", tui: $tui, wire: "none", argv: ["/bin/sh", "-c", $line]}'" | ${3:-.}" \
    >"$CAB_ADAPTERS_DIR/$1.json"
}

# assert_rejected LABEL STDERR-REGEX ARGS...: cab run-cell ARGS (with a
# fresh --out, and --quiet: a setup problem found as the agent starts
# follows the phase lines, which run_cell_ux.sh checks) exits 125 with one
# stderr line matching the regex, nothing on stdout, and writes no cell.
_rejected_n=0
assert_rejected() {
  local label=$1 re=$2 out n
  shift 2
  _rejected_n=$((_rejected_n + 1))
  n=$_rejected_n
  out=$T/out-$n
  run_cab "$T/rej-$n" run-cell --out "$out" --quiet "$@"
  assert_rc 125 "$label: exit 125"
  assert_eq "$(wc -l <"$T/rej-$n.err")" 1 "$label: exactly one line on stderr"
  assert_match "$(cat "$T/rej-$n.err")" "^cab: .*$re" "$label: stderr says what is wrong"
  assert_eq "$(wc -c <"$T/rej-$n")" 0 "$label: nothing on stdout"
  assert_eq "$(find "$out" -name cell.json 2>/dev/null | wc -l)" 0 "$label: no cell.json written"
}

# poll_while_alive PID TRIES CMD...: run CMD every 50 ms until it succeeds
# (0), PID has ended or CMD has run TRIES times (1).  It waits for a state,
# never for a time: TRIES only bounds a hang.  POLLED is how often CMD ran.
poll_while_alive() {
  local pid=$1 tries=$2
  shift 2
  for POLLED in $(seq "$tries"); do
    "$@" && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# A unique marker for command lines, so leftovers can be found on the host.
marker() { printf 'cabmark-%s-%s-%s' "$TEST_NAME" "$$" "$1"; }

# Host processes whose command line contains MARK (never ourselves).
pids_with_marker() { pgrep -f -- "$1" 2>/dev/null | grep -vx "$$" || true; }

# Kill (by pid) whatever host processes still carry MARK.
kill_marker() {
  local p
  for p in $(pids_with_marker "$1"); do kill -9 "$p" 2>/dev/null; done
}
