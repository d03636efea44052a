#!/bin/bash
# The life of one cab exec: SIGINT/SIGTERM forwarded to the command, a kill
# after the grace period (3 s) or at a second signal, cab itself SIGKILLed
# (nothing left on the host; its cgroups removed by the next cab), the
# --cap-add/--cap-drop and --seccomp knobs, and --result for a command that
# is not found.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
setup

# Default kill grace of the supervisor (sandbox/supervisor.c, kill_grace_ms).
GRACE_MS=3000

# start_cab OUT ARGS...: start "cab ARGS..." in the background (directly, not
# under timeout(1), so that our signals reach cab itself); $BG is its pid.
# stdout goes to OUT, stderr to OUT.err.
start_cab() {
  local out=$1
  shift
  LAST_OUT=$out
  say "+ cab $* &"
  "$CAB" "$@" >"$out" 2>"$out.err" </dev/null &
  BG=$!
  at_exit "kill -9 $BG"
}

# running PID: PID exists and is not a zombie.
running() {
  local st
  st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ]
}

# wait_output FILE REGEX [SECONDS]: wait until FILE has a line matching REGEX
# (and $BG still runs); 1 if it never does.
wait_output() {
  local file=$1 re=$2 n=$((${3:-10} * 20))
  while [ "$n" -gt 0 ]; do
    grep -Eq -- "$re" "$file" 2>/dev/null && return 0
    running "$BG" || { grep -Eq -- "$re" "$file" 2>/dev/null; return; }
    sleep 0.05
    n=$((n - 1))
  done
  return 1
}

# signal_cab SIG: send SIG to $BG; $T0 is the time it was sent (ns).
signal_cab() {
  say "+ kill -$1 <cab>"
  T0=$(date +%s%N)
  kill -"$1" "$BG"
}

# reap_cab: wait (at most REAP_S seconds) for $BG to end; $RC
# gets its exit code and $MS the ms since the last signal_cab.  A cab that
# does not end is SIGKILLed and RC is "hung".
REAP_S=15
reap_cab() {
  local n=$((REAP_S * 50))
  while running "$BG" && [ "$n" -gt 0 ]; do
    sleep 0.02
    n=$((n - 1))
  done
  MS=$((($(date +%s%N) - T0) / 1000000))
  if running "$BG"; then
    kill -9 "$BG" 2>/dev/null
    wait "$BG" 2>/dev/null
    RC=hung
    say "  (cab did not end within ${REAP_S}s and was killed)"
  else
    wait "$BG" 2>/dev/null
    RC=$?
  fi
  say "  exit $RC after ${MS} ms; stdout: $(head -c 300 "$LAST_OUT" | tr '\n' '|')"
  if [ -s "$LAST_OUT.err" ]; then
    say "  stderr: $(head -c 600 "$LAST_OUT.err" | tr '\n' '|')"
  fi
}

# gone MARK [SECONDS]: wait until no host process carries MARK.
gone() {
  local n=$((${2:-3} * 20))
  while [ -n "$(pids_with_marker "$1")" ] && [ "$n" -gt 0 ]; do
    sleep 0.05
    n=$((n - 1))
  done
  [ -z "$(pids_with_marker "$1")" ]
}

assert_no_leftover() {
  gone "$1"
  assert_eq "$(pids_with_marker "$1" | tr '\n' ' ')" "" "$2"
}

# --- SIGTERM and SIGINT are forwarded; the command's own code comes back ----------------
for sig in TERM INT; do
  code=$([ $sig = TERM ] && echo 7 || echo 5)
  M=$(marker fwd-$sig)
  at_exit "kill_marker $M"
  start_cab "$T/fwd-$sig" exec --rootfs "$R" --result "$T/fwd-$sig.json" -- /bin/sh -c \
    "trap 'echo got $sig; exit $code' $sig; echo ready; while :; do sleep 0.1; done" "$M"
  if wait_output "$T/fwd-$sig" '^ready$'; then
    pass "the $sig-trapping command started"
  else
    fail "the $sig-trapping command started (stdout: $(head -c 300 "$T/fwd-$sig" | tr '\n' '|'))"
  fi
  signal_cab $sig
  reap_cab
  assert_rc "$code" "SIG$sig to cab: cab returns the command's own exit code $code"
  assert_eq "$(tr '\n' ' ' <"$T/fwd-$sig")" "ready got $sig " "SIG$sig reaches the command's trap"
  assert_cmp "$MS" -lt 2000 "SIG$sig: cab returns as soon as the command exits, before the grace kill"
  assert_json '[.exit_code, .signal]' "[$code,0]" "$T/fwd-$sig.json" "SIG$sig: --result has the command's exit code"
  assert_no_leftover "$M" "SIG$sig: nothing of the sandbox is left on the host"
done

# --- a command that ignores SIGTERM is killed after the grace period ------------------
M=$(marker ignore-term)
at_exit "kill_marker $M"
start_cab "$T/ign" exec --rootfs "$R" --result "$T/ign.json" -- /bin/sh -c \
  "trap 'echo got TERM, ignoring' TERM; echo ready; while :; do sleep 0.1; done" "$M"
wait_output "$T/ign" '^ready$' || fail "the TERM-ignoring command started"
signal_cab TERM
reap_cab
assert_rc 137 "a command that ignores SIGTERM is SIGKILLed: 137"
assert_match "$(cat "$T/ign")" "got TERM, ignoring" "the ignored SIGTERM was forwarded to the command"
assert_cmp "$MS" -ge $((GRACE_MS - 500)) "the kill waits for the grace period (${GRACE_MS} ms)"
assert_cmp "$MS" -lt $((GRACE_MS + 2000)) "the kill comes within the grace period + 2 s"
assert_json '[.exit_code, .signal]' '[137,9]' "$T/ign.json" "--result: exit_code 137, signal 9 after the grace kill"
assert_no_leftover "$M" "after the grace kill nothing of the sandbox is left on the host"

# --- a second SIGINT kills at once ----------------------------------------------------
M=$(marker second-int)
at_exit "kill_marker $M"
start_cab "$T/int2" exec --rootfs "$R" -- /bin/sh -c \
  "trap 'echo got INT' INT; echo ready; while :; do sleep 0.1; done" "$M"
wait_output "$T/int2" '^ready$' || fail "the INT-ignoring command started"
signal_cab INT
T_FIRST=$T0
if wait_output "$T/int2" '^got INT$' 2; then
  pass "the first SIGINT is forwarded (the command's trap ran)"
else
  fail "the first SIGINT is forwarded (stdout: $(head -c 300 "$T/int2" | tr '\n' '|'))"
fi
assert_eq "$(running "$BG" && echo running)" running "after one SIGINT cab still waits for the command"
signal_cab INT
reap_cab
assert_rc 137 "a second SIGINT kills the command: 137"
# (The bound leaves room for a slow cab exit, e.g. under ASan/LSan, while
# staying well below the grace period.)
assert_cmp "$MS" -lt $((GRACE_MS - 1000)) "the second SIGINT kills at once, without the grace period"
assert_cmp $((($(date +%s%N) - T_FIRST) / 1000000)) -lt $((GRACE_MS - 500)) \
  "two SIGINTs end cab well before the grace period"
assert_no_leftover "$M" "after the second SIGINT nothing of the sandbox is left on the host"

# --- cab itself SIGKILLed while a daemon runs -------------------------------------------------
# The cab.<pid>.* cgroup directories of cab PID in every v1 hierarchy (and
# under our own v2 cgroup on a unified host).
cab_cgroups_of() {
  local pid=$1 c own
  for c in memory pids cpu cpuacct freezer blkio; do
    own=$(own_cgroup_v1 $c)
    [ -n "$own" ] && [ -d "/sys/fs/cgroup/$c$own" ] || continue
    find "/sys/fs/cgroup/$c$own" -maxdepth 1 -type d -name "cab.$pid.*" 2>/dev/null
  done
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    own=$(awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup)
    find "/sys/fs/cgroup${own%/}" /sys/fs/cgroup/cab -maxdepth 3 -type d -name "cab.$pid.*" 2>/dev/null
  fi
}

M=$(marker killed-cab)
at_exit "kill_marker $M"
start_cab "$T/kc" exec --rootfs "$R" --memory 64M --pids 64 --cpus 1 -- /usr/bin/probe daemon "$M"
wait_output "$T/kc" 'daemon_pid' || fail "the daemon started"
assert_jq '.daemon_pid > 0' "$T/kc" "the daemon printed its pid"
# Control: the daemon and its parent are on the host, besides cab itself.
n=$(pids_with_marker "$M" | grep -cvx "$BG")
assert_cmp "$n" -ge 2 "control: the daemon and its parent run on the host"
killed_pid=$BG
cgs_before=$(cab_cgroups_of "$killed_pid" | sort | tr '\n' ' ')
if is_root; then
  assert_match "$cgs_before" "cab\\.$killed_pid\\." "control: the running cab has cab.$killed_pid.* cgroups"
fi
signal_cab KILL
reap_cab
assert_rc 137 "cab itself was SIGKILLed"
assert_no_leftover "$M" "SIGKILL to cab: no daemon (or other sandbox process) is left on the host"
if is_root; then
  # The dead cab could not remove its own cgroups.  (Only "at least one":
  # a concurrent cab elsewhere on the host may already have cleaned those
  # in the hierarchies where its cgroup and ours share a parent.)
  cgs_after=$(cab_cgroups_of "$killed_pid" | sort | tr '\n' ' ')
  say "  left by the dead cab: $cgs_after"
  assert_match "$cgs_after" "cab\\.$killed_pid\\." "control: the SIGKILLed cab's cgroups are still there"
  # The next cab with limits removes them.
  run_cab "$T/next" exec --rootfs "$R" --memory 64M --pids 64 --cpus 1 -- /bin/true
  assert_rc 0 "the next cab exec with limits runs"
  assert_eq "$(cab_cgroups_of "$killed_pid" | tr '\n' ' ')" "" \
    "the next cab exec with limits removes the dead cab's cgroups"
else
  say "# $CAB_TEST_MODE: no writable cgroup, so no stale cgroups to check"
fi

# --- capabilities ------------------------------------------------------------------------------
CAP_SYS_ADMIN=$((1 << 21))
CAP_NET_RAW=$((1 << 13))
run_cab "$T/def.json" exec --rootfs "$R" -- /usr/bin/probe report
assert_rc 0 "probe report (default capabilities) exits 0"
def_eff=$((16#$(jget .cap_eff "$T/def.json")))
assert_eq $((def_eff & CAP_SYS_ADMIN)) 0 "control: the default set lacks CAP_SYS_ADMIN (bit 21)"
assert_ne $((def_eff & CAP_NET_RAW)) 0 "control: the default set has CAP_NET_RAW (bit 13)"

run_cab "$T/dropall.json" exec --rootfs "$R" --cap-drop ALL -- /usr/bin/probe report
assert_rc 0 "probe under --cap-drop ALL exits 0"
assert_json '[.cap_eff, .cap_prm, .cap_bnd]' '["0000000000000000","0000000000000000","0000000000000000"]' \
  "$T/dropall.json" "--cap-drop ALL: CapEff, CapPrm and CapBnd are 0"

for spelling in SYS_ADMIN CAP_SYS_ADMIN; do
  run_cab "$T/sa.json" exec --rootfs "$R" --cap-add $spelling -- /usr/bin/probe report
  assert_rc 0 "probe under --cap-add $spelling exits 0"
  want=$(printf '%016x' $((def_eff | CAP_SYS_ADMIN)))
  assert_json '[.cap_eff, .cap_bnd]' "[\"$want\",\"$want\"]" "$T/sa.json" \
    "--cap-add $spelling: CapEff and CapBnd are the default set plus bit 21"
done

run_cab "$T/nr.json" exec --rootfs "$R" --cap-drop NET_RAW -- /usr/bin/probe report
assert_rc 0 "probe under --cap-drop NET_RAW exits 0"
want=$(printf '%016x' $((def_eff & ~CAP_NET_RAW)))
assert_json '[.cap_eff, .cap_bnd]' "[\"$want\",\"$want\"]" "$T/nr.json" \
  "--cap-drop NET_RAW: CapEff and CapBnd are the default set minus bit 13"

for opt in --cap-add --cap-drop; do
  run_cab "$T/badcap" exec --rootfs "$R" $opt NOT_A_CAP -- /usr/bin/probe exit 0
  assert_rc 125 "$opt NOT_A_CAP -> 125"
  assert_eq "$(wc -l <"$T/badcap.err" | tr -d ' ')" 1 "$opt NOT_A_CAP: exactly one line on stderr"
  assert_match "$(cat "$T/badcap.err")" "NOT_A_CAP" "$opt NOT_A_CAP: the line names the capability"
done

# --- seccomp -------------------------------------------------------------------------------------
run_cab "$T/unconf" exec --rootfs "$R" --seccomp unconfined -- /bin/sh -c 'grep "^Seccomp:" /proc/self/status'
assert_rc 0 "--seccomp unconfined runs"
assert_match "$(cat "$T/unconf")" "^Seccomp:[[:space:]]+0$" "--seccomp unconfined: Seccomp 0 in /proc/self/status"

cat >"$T/deny.json" <<'EOF'
{
  "defaultAction": "SCMP_ACT_ALLOW",
  "syscalls": [
    { "names": ["uname", "mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1 }
  ]
}
EOF
# busybox uname -n prints nothing if uname(2) fails; mkdir reports the errno.
# shellcheck disable=SC2016 # expanded inside the sandbox
script='grep "^Seccomp:" /proc/self/status; echo "uname=$(uname -n)"; mkdir /tmp/d 2>&1; echo "mkdir=$?"; echo end'
run_cab "$T/ctl" exec --rootfs "$R" -- /bin/sh -c "$script"
assert_rc 0 "control: the script runs under the default policy"
assert_match "$(cat "$T/ctl")" "uname=cab" "control: uname works under the default policy"
assert_match "$(cat "$T/ctl")" "mkdir=0" "control: mkdir works under the default policy"

run_cab "$T/deny" exec --rootfs "$R" --seccomp "$T/deny.json" -- /bin/sh -c "$script"
assert_rc 0 "the script runs under --seccomp FILE"
out=$(cat "$T/deny")
assert_match "$out" "^Seccomp:[[:space:]]+2" "--seccomp FILE: Seccomp 2"
assert_eq "$(grep '^uname=' "$T/deny")" "uname=" "--seccomp FILE: uname is denied (uname -n prints nothing)"
assert_match "$out" "Operation not permitted" "--seccomp FILE: mkdir fails with errnoRet 1 (EPERM)"
assert_match "$out" "mkdir=1" "--seccomp FILE: mkdir exits 1"
assert_match "$out" "end$" "--seccomp FILE: everything else (default SCMP_ACT_ALLOW) works"

check_bad_profile() {
  local what=$1 file=$2
  run_cab "$T/bad" exec --rootfs "$R" --seccomp "$file" -- /usr/bin/probe exit 0
  assert_rc 125 "$what -> 125"
  assert_eq "$(wc -l <"$T/bad.err" | tr -d ' ')" 1 "$what: exactly one line on stderr"
  assert_match "$(cat "$T/bad.err")" "$(basename "$file")" "$what: the line names the file"
}
printf '{"defaultAction": ' >"$T/truncated.json"
check_bad_profile "a truncated --seccomp FILE" "$T/truncated.json"
printf '{"defaultAction": "SCMP_ACT_BOGUS"}\n' >"$T/badaction.json"
check_bad_profile "a --seccomp FILE with an unknown action" "$T/badaction.json"
printf '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["uname"], "action": "SCMP_ACT_ERRNO", "errnoRet": "one"}]}\n' \
  >"$T/badrule.json"
check_bad_profile "a --seccomp FILE with a bad errnoRet" "$T/badrule.json"
check_bad_profile "a missing --seccomp FILE" "$T/missing-profile.json"

# --- --result for a command that is not found ---------------------------------------------------
for cmd in /no/such/command no-such-command-on-path; do
  rm -f "$T/nf.json"
  run_cab "$T/nf" exec --rootfs "$R" --result "$T/nf.json" -- $cmd
  assert_rc 127 "$cmd: not found -> 127"
  assert_json_valid "$T/nf.json" "$cmd: --result is written and is JSON"
  assert_json '.exit_code' 127 "$T/nf.json" "$cmd: --result exit_code 127"
  assert_json '[ "exit_code","signal","timed_out","oom_killed","wall_ms","limits" ] - keys' '[]' \
    "$T/nf.json" "$cmd: --result has the usual keys"
done

finish
