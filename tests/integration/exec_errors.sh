#!/bin/bash
# Exit codes and signals propagate; cab's own errors are 125/126/127 with a
# one-line message.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
setup

printf '#!/bin/sh\necho should-not-run\n' >"$R/bin/not-executable"
chmod 0644 "$R/bin/not-executable"
mkdir -p "$R/some-dir"

# --- the command's own status ---------------------------------------------------
for n in 0 1 3 42 255; do
  run_cab "$T/o" exec --rootfs "$R" -- /usr/bin/probe exit $n
  assert_rc "$n" "exit $n -> $n"
done
run_cab "$T/o" exec --rootfs "$R" --result "$T/exit3.json" -- /usr/bin/probe exit 3
assert_json '.exit_code' 3 "$T/exit3.json" "--result exit_code 3"
assert_jq '.signal == null or .signal == 0' "$T/exit3.json" "--result has no signal for a normal exit"
assert_json '.timed_out' false "$T/exit3.json" "--result timed_out false for a normal exit"

# --- killed by a signal: 128+N ---------------------------------------------------------
for sig in 9 15 6 1; do
  run_cab "$T/o" exec --rootfs "$R" -- /usr/bin/probe kill $sig
  assert_rc $((128 + sig)) "kill -$sig self -> $((128 + sig))"
done
run_cab "$T/o" exec --rootfs "$R" --result "$T/kill9.json" -- /usr/bin/probe kill 9
assert_json '.signal' 9 "$T/kill9.json" "--result signal 9"
assert_jq '.exit_code == 137 or .exit_code == null' "$T/kill9.json" "--result exit_code for SIGKILL is 137 (or null)"
assert_json '.oom_killed' false "$T/kill9.json" "a self-inflicted SIGKILL is not an OOM kill"
run_cab "$T/o" exec --rootfs "$R" -- /bin/sh -c 'kill -TERM $$'
assert_rc 143 "a shell killing itself with TERM -> 143"

# --- cannot run / not found -----------------------------------------------------------
run_cab "$T/o" exec --rootfs "$R" -- /no/such/command
assert_rc 127 "a missing absolute path -> 127"
assert_cmp "$(wc -l <"$T/o.err")" -ge 1 "a missing command is explained on stderr"
run_cab "$T/o" exec --rootfs "$R" -- no-such-command-anywhere
assert_rc 127 "a name not on PATH -> 127"
run_cab "$T/o" exec --rootfs "$R" -- /bin/not-executable
assert_rc 126 "a file without x bit -> 126"
assert_eq "$(cat "$T/o")" "" "the non-executable file did not run"
run_cab "$T/o" exec --rootfs "$R" -- /some-dir
assert_rc 126 "a directory as the command -> 126"
run_cab "$T/o" exec --rootfs "$R" --result "$T/nf.json" -- /no/such/command
assert_json '.exit_code' 127 "$T/nf.json" "--result exit_code 127 for not found"

# --- cab's own errors: 125 and exactly one line ---------------------------------------
check_125() {
  local what=$1
  shift
  run_cab "$T/o" "$@"
  assert_rc 125 "$what -> 125"
  assert_eq "$(wc -l <"$T/o.err" | tr -d ' ')" 1 "$what: exactly one line on stderr"
  assert_match "$(cat "$T/o.err")" "[a-z]" "$what: the line says something"
}
check_125 "an unknown option" exec --rootfs "$R" --no-such-option -- /bin/true
check_125 "a missing rootfs" exec --rootfs "$T/does-not-exist" -- /bin/true
check_125 "no command" exec --rootfs "$R"
check_125 "no command after --" exec --rootfs "$R" --
check_125 "neither --rootfs nor --host-rootfs" exec -- /bin/true
check_125 "both --rootfs and --host-rootfs" exec --rootfs "$R" --host-rootfs -- /bin/true
check_125 "a bad --memory" exec --rootfs "$R" --memory lots -- /bin/true
check_125 "a bad --pids" exec --rootfs "$R" --pids -3 -- /bin/true
check_125 "a bad --timeout" exec --rootfs "$R" --timeout soon -- /bin/true
check_125 "a bad --user" exec --rootfs "$R" --user nobody:x -- /bin/true
check_125 "a bad --cap-add" exec --rootfs "$R" --cap-add CAP_NOT_A_CAP -- /bin/true
check_125 "a bad --seccomp file" exec --rootfs "$R" --seccomp "$T/no-such-profile.json" -- /bin/true
check_125 "a bind of a missing source" exec --rootfs "$R" --bind "$T/nope:/mnt" -- /bin/true
check_125 "an unknown subcommand" frobnicate

printf '{"defaultAction": ' >"$T/broken.json"
check_125 "a malformed --seccomp file" exec --rootfs "$R" --seccomp "$T/broken.json" -- /bin/true

# A missing --workdir inside the rootfs cannot be entered: cab's error.
run_cab "$T/o" exec --rootfs "$R" --workdir /no/such/dir -- /bin/true
assert_match "$RC" "^12[5-7]$" "a missing --workdir is an error (125-127), got $RC"

finish
