#!/bin/bash
# cab-test-timeout: 1500
# The field-host matrix's fast scenarios, as part of make test: every
# tests/hosts/scenarios/NAME.sh whose header has the line "# hosts: fast"
# boots its own qemu guest (Debian's kernel, pure cgroup v2; see
# tests/hosts/run.sh) and must pass there.  The slower ones (a systemd
# guest) run under make test-hosts only.  Root only: qemu must read every
# host file for the guest's root; each scenario runs cab as a user inside the
# guest as well.
. "$(dirname "$0")/../lib.sh"

is_root || skip "the guests boot as root (each scenario runs cab as a user inside)"
fast=()
for f in "$TESTS_DIR"/hosts/scenarios/*.sh; do
  grep -q '^# hosts: fast$' "$f" && fast+=("$(basename "$f" .sh)")
done
[ ${#fast[@]} -gt 0 ] || bail "no scenario in tests/hosts/scenarios says '# hosts: fast'"

out=$(mktemp /tmp/cab-hosts-matrix.XXXXXX)
at_exit rm -f "$out"
# A guest that hangs fails its scenario after 10 minutes, not the test's.
CAB_HOSTS_TIMEOUT=${CAB_HOSTS_TIMEOUT:-600} bash "$TESTS_DIR/hosts/run.sh" "${fast[@]}" >"$out" 2>&1
rc=$?
cat "$out"
tally=$(tail -n 1 "$out")
if [[ $tally =~ ^0\ passed,\ 0\ failed,\ [0-9]+\ skipped$ ]]; then
  skip "$(sed -n 's/^skip [^:]*: //p' "$out" | head -1)"
fi
assert_eq "$rc" 0 "tests/hosts/run.sh ${fast[*]} exits 0"
assert_match "$tally" "^${#fast[@]} passed, 0 failed, 0 skipped$" "every fast scenario passed"
finish
