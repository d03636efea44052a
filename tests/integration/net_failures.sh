#!/bin/bash
# Upstream failures through a sandbox: an endpoint that is down, one that
# answers 429 and 500, one too slow for --model-timeout; each gives the
# client an error, and a record with class "infra".  With --model-retries, a
# 500 then a 429 are retried until the answer comes.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=../fixtures/proxy/net_lib.sh
. "$TESTS_DIR/fixtures/proxy/net_lib.sh"
setup
need_model_server
mkdir -p "$T/out"
chmod 0777 "$T/out"
CHAT="http://model.cab.internal/v1/chat/completions"
BODY='{"model":"m","messages":[]}'

# --- down ---------------------------------------------------------------------------------
run_cab "$T/down" exec --rootfs "$R" --net model --endpoint "http://127.0.0.1:$(dead_port)/v1" \
  --model-retries 1 --model-calls "$T/down.jsonl" --result "$T/down.result" --bind "$T/out:/out" -- \
  /usr/bin/probe http POST "$CHAT" "$BODY"
assert_rc 1 "the client's call fails (probe exits 1)"
assert_json '.status' 502 "$T/down" "an endpoint that is down: 502 to the client"
assert_match "$(jget .body "$T/down")" 'upstream_unreachable' "the body says what happened"
assert_eq "$(record 1 "$T/down.jsonl" | jq -c '[.status, .class, .attempts, .prompt_tokens]')" \
  '[502,"infra",2,null]' "recorded: 502, infra, 2 attempts (--model-retries 1), no tokens"
assert_match "$(record 1 "$T/down.jsonl" | jq -r .error)" 'connection failed' "the error names the failure"
assert_json '.model.infra_errors' 1 "$T/down.result" "--result counts the infra error"

# --- 429, 500, slow -------------------------------------------------------------------------
start_model_server bad '{"model": "scripted/bad", "turns": [
  {"status": 429, "retry_after": 1}, {"status": 500}, {"content": "too late", "delay_ms": 3000}]}'
run_cab "$T/bad" exec --rootfs "$R" --net model --endpoint "$MS_URL" --model-timeout 1 \
  --model-calls "$T/bad.jsonl" --bind "$T/out:/out" -- /bin/sh -c "
    probe http POST $CHAT '$BODY' >/out/429.json
    probe http POST $CHAT '$BODY' >/out/500.json
    probe http POST $CHAT '$BODY' >/out/slow.json
    true"
assert_rc 0 "the script ran"
assert_json '.status' 429 "$T/out/429.json" "a 429 reaches the client as 429"
assert_json '.status' 500 "$T/out/500.json" "a 500 reaches the client as 500"
assert_json '.status' 504 "$T/out/slow.json" "a silent upstream: 504 after --model-timeout 1"
assert_cmp "$(jget .ms "$T/out/slow.json")" -lt 2900 "the slow call is cut before the upstream answers"
assert_eq "$(record 1 "$T/bad.jsonl" | jq -c '[.status, .class]')" '[429,"infra"]' "429 recorded as infra"
assert_eq "$(record 2 "$T/bad.jsonl" | jq -c '[.status, .class]')" '[500,"infra"]' "500 recorded as infra"
assert_eq "$(record 3 "$T/bad.jsonl" | jq -c '[.status, .class]')" '[504,"infra"]' "the timeout recorded as infra"
assert_match "$(record 3 "$T/bad.jsonl" | jq -r .error)" 'timeout' "its error says timeout"

# --- retried until it works --------------------------------------------------------------------
start_model_server flaky '{"model": "scripted/flaky", "turns": [
  {"status": 500}, {"status": 429},
  {"content": "third time lucky", "usage": {"prompt_tokens": 11, "completion_tokens": 3}}]}'
run_cab "$T/retry" exec --rootfs "$R" --net model --endpoint "$MS_URL" --model-retries 2 \
  --model-calls "$T/retry.jsonl" -- /usr/bin/probe http POST "$CHAT" "$BODY"
assert_rc 0 "with --model-retries 2 the call succeeds"
assert_match "$(jget .body "$T/retry")" 'third time lucky' "the client gets the answer, not the failures"
assert_eq "$(record 1 "$T/retry.jsonl" | jq -c '[.status, .class, .attempts, .prompt_tokens, .completion_tokens]')" \
  '[200,"ok",3,11,3]' "one record: 200, ok, 3 attempts, the answer's tokens"

finish
