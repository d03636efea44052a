#!/bin/bash
# cab exec's model-network options: every misuse is one clear line and exit
# 125, before any sandbox starts.  (That --net none, the default, leaves
# only lo is exec_isolation's.)
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# No sandbox starts here, so no rootfs is built (lib.sh's setup would).
command -v jq >/dev/null 2>&1 || skip "jq not installed (make deps)"
[ -x "$CAB" ] || bail "cab binary not found at $CAB (run make)"
T=$(mktemp -d "${TMPDIR:-/tmp}/cab-$TEST_NAME.XXXXXX") || bail "mktemp failed"
trap _cleanup EXIT
R=$T/rootfs-never-used

# expect_error NAME REGEX ARGS...: cab exits 125 with one line matching REGEX.
expect_error() {
  local name=$1 regex=$2
  shift 2
  run_cab "$T/$name" exec --rootfs "$R" "$@" -- /bin/true
  assert_rc 125 "$name: exit 125"
  assert_eq "$(wc -l <"$T/$name.err")" 1 "$name: one line"
  assert_match "$(cat "$T/$name.err")" "$regex" "$name: says what and what to do"
}

expect_error no-endpoint '^cab: exec: --net model needs --endpoint URL \(or --replay FILE' --net model
expect_error bad-net '^cab: --net bridge: expected none or model' --net bridge
expect_error endpoint-alone '^cab: exec: --endpoint needs --net model' --endpoint http://127.0.0.1:1/v1
expect_error key-unset '^cab: exec: --key-env CAB_NO_SUCH_KEY_VAR: that variable is not set .*export it' \
  --net model --endpoint http://127.0.0.1:1/v1 --key-env CAB_NO_SUCH_KEY_VAR
expect_error bad-url '^cab: exec --net model: --endpoint ftp://x: the scheme must be http or https' \
  --net model --endpoint ftp://x
expect_error url-creds 'credentials do not belong in the URL.*--key-env' \
  --net model --endpoint https://u:p@api.example.com/v1
expect_error record-replay '^cab: exec: --record and --replay exclude each other' \
  --net model --endpoint http://127.0.0.1:1 --record "$T/a" --replay "$T/b"
expect_error replay-missing "^cab: exec --net model: --replay $T/none.jsonl" \
  --net model --replay "$T/none.jsonl"
expect_error retries '^cab: --model-retries many: expected a whole number' \
  --net model --endpoint http://127.0.0.1:1 --model-retries many
export CAB_TEST_LEAK_KEY=sk-cabtest-leak-0123456789
expect_error key-via-env '^cab: exec: --env LEAK would put the --key-env CAB_TEST_LEAK_KEY key into the sandbox' \
  --net model --endpoint http://127.0.0.1:1 --key-env CAB_TEST_LEAK_KEY --env LEAK=sk-cabtest-leak-0123456789
expect_error calls-unwritable "^cab: exec --net model: --model-calls /nonexistent/calls.jsonl: cannot open it" \
  --net model --endpoint http://127.0.0.1:1 --model-calls /nonexistent/calls.jsonl

finish
