#!/bin/bash
# cab exec's model-network options: every misuse is one clear line and exit
# 125, before any sandbox starts; --net none (the default) has only lo.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=../fixtures/proxy/net_lib.sh
. "$TESTS_DIR/fixtures/proxy/net_lib.sh"
setup

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

# --net none: the default, only lo; no model variables.
run_cab "$T/none" exec --rootfs "$R" -- /usr/bin/probe report
assert_rc 0 "the default sandbox runs"
assert_json '.interfaces' '["lo"]' "$T/none" \
  "--net none (default): no interface but lo"
run_cab "$T/none-env" exec --rootfs "$R" --net none -- /usr/bin/probe env
assert_json '[.OPENAI_BASE_URL, .OPENAI_API_KEY]' '[null,null]' "$T/none-env" "--net none: no model variables"

finish
