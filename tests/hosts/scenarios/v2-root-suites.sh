#!/bin/bash
# Scenario "v2-root-suites": the integration tests nearest to cgroup v2 and
# the sandbox (exec_limits, exec_isolation with tests/probe, net_model) on
# the same pure cgroup v2 guest as v2-root, as root.  About 3.5 min under
# TCG, so make test-hosts runs it and make test does not.
# shellcheck source=../check.sh
. "$(dirname "$0")/../check.sh"

# As root only (a user's side is the systemd scenarios'); TCG is several
# times slower than the host, hence the longer per-test timeout.
for t in exec_limits exec_isolation net_model; do
  section "tests/run.sh $t (root)"
  CAB_PER_TEST_TIMEOUT=900 CAB_TEST_MODES=root bash tests/run.sh "$t" >"$W/run.out" 2>&1
  rc=$?
  sed 's/^/    /' "$W/run.out"
  check "$t passes" test "$rc" = 0
done

finish
