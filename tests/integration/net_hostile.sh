#!/bin/bash
# --net model against a hostile endpoint (issue 10): a python3 server
# (tests/fixtures/proxy/hostile_upstream.py) that logs every request line,
# reflects the credential it gets (headers and body, in several letter
# cases, streams dripped 3 bytes at a time) and reports absurd usage.
# From inside the sandbox: dot-segments, %2e and encoded slashes, other
# paths and methods are refused in the client's error shape and never
# reach the endpoint; the real key reaches no byte the sandbox gets, nor
# model_calls.jsonl; every wire's usage (chat, Responses, Anthropic,
# Gemini; streamed and not) is clamped, flagged and never negative.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
setup
command -v python3 >/dev/null || skip "python3 is not installed (make deps)"
command -v curl >/dev/null || skip "curl is not installed (make deps)"

KEY="sk-Hostile-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
export CAB_TEST_HOSTILE_KEY=$KEY
python3 "$TESTS_DIR/fixtures/proxy/hostile_upstream.py" "$T/up.port" "$T/up.log" 2>"$T/up.err" &
at_exit "kill $!"
for _ in $(seq 100); do [ -s "$T/up.port" ] && break; sleep 0.05; done
[ -s "$T/up.port" ] || bail "the hostile upstream did not start: $(head -c 300 "$T/up.err")"
UP="http://127.0.0.1:$(cat "$T/up.port")/tenant-a/v1"
mkdir -p "$T/out"
chmod 0777 "$T/out"

cat >"$T/inside.sh" <<'EOF'
cd /out
B=$CAB_MODEL_BASE_URL
R=${B%/v1}
get() { # NAME URL [curl args]
  n=$1 u=$2; shift 2
  curl -sS --path-as-is -D "$n.head" -o "$n.body" -w '%{http_code}' "$@" "$u" >"$n.code" 2>"$n.err"
}
post() { # NAME PATH BODY [HEADER]
  curl -sS -N -D "$1.head" -o "$1.body" -w '%{http_code}' "$B$2" -H 'content-type: application/json' \
    -H "authorization: Bearer $OPENAI_API_KEY" ${4:+-H "$4"} -d "$3" >"$1.code" 2>"$1.err"
}
get dots "$R/../../admin"
get dots_v1 "$B/../../admin"
get enc "$R/%2e%2e/%2e%2e/admin"
get enc_upper "$R/%2E%2E/admin"
get enc_slash "$B/models/..%2F..%2Fadmin"
get other "$R/admin"
get files "$B/files"
get delete "$B/models/m" -X DELETE
get anth_dots "$B/messages/../../admin" -X POST -H 'anthropic-version: 2023-06-01' -d '{}'
get models "$B/models"
post chat /chat/completions '{"model":"m","messages":[{"role":"user","content":"hi"}]}'
post chat_s /chat/completions '{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}'
post resp /responses '{"model":"m","input":"hi"}'
post resp_s /responses '{"model":"m","input":"hi","stream":true}'
post anth /messages '{"model":"c","max_tokens":9,"messages":[{"role":"user","content":"hi"}]}' 'anthropic-version: 2023-06-01'
post anth_s /messages '{"model":"c","max_tokens":9,"stream":true,"messages":[{"role":"user","content":"hi"}]}' 'anthropic-version: 2023-06-01'
curl -sS -o gem.body -w '%{http_code}' "$R/v1beta/models/g:generateContent" -H 'content-type: application/json' \
  -d '{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}' >gem.code
curl -sS -N -o gem_s.body -w '%{http_code}' "$R/v1beta/models/g:streamGenerateContent?alt=sse" \
  -H 'content-type: application/json' -d '{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}' >gem_s.code
env >env.txt
EOF
run_cab "$T/x" exec --host-rootfs --net model --endpoint "$UP" --key-env CAB_TEST_HOSTILE_KEY \
  --model-calls "$T/calls.jsonl" --result "$T/result.json" \
  --bind "$T/out:/out" --bind "$T/inside.sh:/tmp/inside.sh:ro" -- /bin/sh /tmp/inside.sh
assert_rc 0 "the clients ran inside the sandbox"
O=$T/out
code() { cat "$O/$1.code" 2>/dev/null; }

# --- no open relay -------------------------------------------------------------------
for n in dots dots_v1 enc enc_upper enc_slash anth_dots; do
  assert_eq "$(code $n)" 400 "$n: a target with dot-segments or encoded . / is refused (400)"
done
assert_eq "$(code other) $(code files) $(code delete)" "404 404 405" "other paths 404, other methods 405"
assert_json '.error.type' invalid_request_error "$O/dots.body" "a refusal is in OpenAI's error shape"
assert_json '.type' error "$O/anth_dots.body" "an Anthropic client's refusal is in Anthropic's shape"
assert_eq "$(code models)" 200 "GET /v1/models goes through"
assert_eq "$(cat "$T/up.log" 2>/dev/null | grep -ci 'admin\|%2e\|%2f\|files\|DELETE')" 0 \
  "no refused target reached the endpoint"
assert_eq "$(grep -c '^GET /tenant-a/v1/models$' "$T/up.log")" 1 "the endpoint saw GET /v1/models under its prefix"
assert_eq "$(grep -vc '^GET /tenant-a/v1/models$\|^POST /tenant-a/v1/chat/completions$' "$T/up.log")" 0 \
  "the endpoint saw nothing but model calls under its prefix"

# --- the key never comes back ---------------------------------------------------------
assert_eq "$(grep -rilF "$KEY" "$O" "$T/calls.jsonl" "$T/result.json" "$T/x" "$T/x.err" | wc -l)" 0 \
  "no file the sandbox wrote, no record holds the key (any case)"
assert_match "$(cat "$O/models.head")" 'X-Echo-Authorization: Bearer cab-placeholder-key' \
  "a reflected Authorization header carries the placeholder"
assert_no_match "$(cat "$O/models.head")" 'X-Debug-' "a header named after the key is dropped"
assert_eq "$(grep -o 'cab-placeholder-key' "$O/chat_s.body" | wc -l)" 3 \
  "a stream dripped 3 bytes at a time: the key in three letter cases, each replaced"
assert_match "$(cat "$O/chat.body")" 'reflected Bearer cab-placeholder-key' "a reflected body gets the placeholder"
assert_json '.model.key_reflected' 9 "$T/result.json" "--result counts the 9 answers that held the key"
assert_eq "$(jq -s '[.[] | select(.key_redacted > 0)] | length' "$T/calls.jsonl")" 9 \
  "each of them says key_redacted in its record"

# --- usage: clamped on every wire, never negative -------------------------------------
assert_eq "$(wc -l <"$T/calls.jsonl")" 18 "one record per request, the 9 refused ones too"
assert_eq "$(jq -s '[.[] | select(.class == "ok")] | length' "$T/calls.jsonl")" 9 \
  "nine calls answered: GET /v1/models and eight model calls"
assert_eq "$(jq -s -c '[.[] | select(.path != "/v1/models" and .class == "ok") | [.completion_tokens, .usage_clamped]] | unique' "$T/calls.jsonl")" \
  '[[4294967295,true]]' "every wire, streamed or not: completion 2^63-1 counted as 2^32-1, flagged"
assert_eq "$(jq -s '[.[] | (.prompt_tokens, .completion_tokens, .total_tokens) | select(. != null and . < 0)] | length' "$T/calls.jsonl")" 0 \
  "no negative count in any record"
assert_jq '.model.total_tokens > 0 and .model.completion_tokens == 8 * 4294967295 and .model.usage_clamped == 8' \
  "$T/result.json" "--result: totals positive, 8 clamped calls"
assert_jq '.usage.output_tokens == 4294967295' "$O/resp.body" "a translated Responses answer carries the clamped count"
finish
