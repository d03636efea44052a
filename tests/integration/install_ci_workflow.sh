#!/bin/bash
# .github/workflows/ci.yml, the README's locked-down CI made concrete, says
# what the README says: on ubuntu-24.04, "make deps" then the three fixes in
# their order (cab's AppArmor profile where make install puts it, the
# sysctl, a cgroup subtree owned by the runner user) then "make test"; a
# "cab sweep --shard K/N" matrix whose K run over 1..N of a plan that cab
# accepts, and a merge job after it (cab merge, leaderboard, report).  Then
# actionlint, pinned, when it is installed (skipped otherwise:
# go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12).
# GitHub Actions itself cannot run here.
# shellcheck disable=SC2016 # ${{ }} and $(...) are the workflow's, not ours
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
SRC_DIR=$(cd "$TESTS_DIR/.." && pwd)
WF=$SRC_DIR/.github/workflows/ci.yml
[ -r "$WF" ] || bail "no workflow at $WF"
[ -x "$CAB" ] || bail "cab binary not found at $CAB (run make)"

# job NAME: the lines of one job (from "  NAME:" to the next job).
job() {
  awk -v j="  $1:" '/^jobs:/ { in_jobs = 1; next }
    in_jobs && /^  [A-Za-z0-9_-]+:[[:space:]]*$/ { on = ($0 == j) }
    in_jobs && on' "$WF"
}
# line_of JOB-TEXT FIXED-STRING: the first line number holding it (0: none).
line_of() {
  local n
  n=$(printf '%s\n' "$1" | grep -nF -- "$2" | head -n 1 | cut -d: -f1)
  echo "${n:-0}"
}

test_job=$(job test)
[ -n "$test_job" ] || bail "the workflow has no job 'test'"
for j in test shard merge; do
  assert_match "$(job "$j")" 'runs-on: ubuntu-24\.04' "job $j runs on ubuntu-24.04"
done

deps=$(line_of "$test_job" "sudo make deps")
a=$(line_of "$test_job" "sudo apparmor_parser -r /etc/apparmor.d/cab")
inst=$(line_of "$test_job" "sudo make install")
b=$(line_of "$test_job" "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0")
c=$(line_of "$test_job" 'sudo chown -R "$USER" "/sys/fs/cgroup/cab-$USER"')
t=$(printf '%s\n' "$test_job" | grep -nE '^ +sudo ([A-Z_]+=[^ ]+ )*make test$' | head -n 1 | cut -d: -f1)
t=${t:-0}
for v in deps a inst b c t; do
  assert_cmp "${!v}" -gt 0 "the test job has its '$v' step"
done
assert_cmp "$deps" -lt "$inst" "make deps comes before make install"
assert_cmp "$inst" -lt "$a" "fix (a): make install, then the profile is loaded"
assert_cmp "$a" -lt "$b" "fix (a), the profile, comes before fix (b), the sysctl"
assert_cmp "$b" -lt "$c" "fix (b) comes before fix (c), the cgroup subtree"
assert_cmp "$c" -lt "$t" "the fixes come before make test"
# The profile the workflow loads is the one make install writes.
assert_eq "$(sed -n 's/^APPARMORDIR *?= *//p' "$SRC_DIR/Makefile")/cab" /etc/apparmor.d/cab \
  "make install's profile is the /etc/apparmor.d/cab the workflow loads"

shard_job=$(job shard)
[ -n "$shard_job" ] || bail "the workflow has no job 'shard'"
run=$(printf '%s\n' "$shard_job" | grep -E 'cab sweep [^ ]+ --shard' | head -n 1)
assert_match "$run" '--shard "\$\{\{ matrix\.shard \}\}/[0-9]+"' "the shard job runs cab sweep --shard K/N with K from the matrix"
n=$(printf '%s' "$run" | sed -E 's|.*matrix\.shard \}\}/([0-9]+).*|\1|')
ks=$(printf '%s\n' "$shard_job" | sed -nE 's/^ *shard: \[([0-9, ]+)\].*/\1/p' | tr -d ' ')
assert_eq "$ks" "$(seq -s, 1 "${n:-0}")" "the matrix's shards are 1..$n, each once"
plan=$(printf '%s' "$run" | awk '{ for (i = 1; i < NF; i++) if ($i == "sweep") { print $(i + 1); exit } }')
[ -r "$SRC_DIR/$plan" ] || bail "the shard job's plan $plan is not in the checkout"
total=0
for k in $(seq 1 "${n:-0}"); do
  out=$(cd "$SRC_DIR" && CAB_HOME=/nonexistent-cab-home "$CAB" sweep "$plan" --shard "$k/$n" --dry-run 2>&1 | tail -n 1)
  cells=$(printf '%s' "$out" | sed -nE 's/^([0-9]+) cells \(shard.*/\1/p')
  assert_cmp "${cells:-0}" -gt 0 "cab sweep $plan --shard $k/$n --dry-run accepts the plan and has cells ($out)"
  total=$((total + ${cells:-0}))
done
all=$(cd "$SRC_DIR" && CAB_HOME=/nonexistent-cab-home "$CAB" sweep "$plan" --dry-run 2>&1 | tail -n 1)
assert_eq "$total cells" "$all" "the shards hold the plan's cells between them"

merge_job=$(job merge)
assert_match "$merge_job" 'needs: shard' "the merge job waits for every shard"
assert_match "$merge_job" 'cab merge shards/shard-\* --out merged' "the merge job runs cab merge over the shards"
assert_match "$merge_job" 'cab report merged --out site' "the merge job writes the site"
assert_match "$(job shard)" 'include-hidden-files: true' "the shards' upload keeps .sweep/ (the journal)"

if [ ${#_failures[@]} -gt 0 ]; then finish; fi
command -v actionlint >/dev/null 2>&1 ||
  skip "actionlint is not installed (go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12); the checks above passed"
if out=$(actionlint -no-color "$WF" 2>&1); then
  pass "actionlint $(actionlint -version 2>/dev/null | head -n 1) finds nothing"
else
  fail "actionlint: $(printf '%s' "$out" | head -n 10 | tr '\n' '|')"
fi
finish
