#!/bin/bash
# --net model with a Chat Completions endpoint (cab model-server): clients of
# the Responses, Anthropic Messages and Gemini APIs are translated to chat
# and back by cab's proxy, streamed and not; the usage each client sees and
# model_calls.jsonl equal the script's exactly; token counts are answered by
# cab; with --endpoint-wire anthropic, Anthropic calls pass through untouched
# and a Responses call is refused in its own error shape.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=../fixtures/proxy/net_lib.sh
. "$TESTS_DIR/fixtures/proxy/net_lib.sh"
setup
need_model_server
command -v curl >/dev/null || skip "curl is not installed (make deps)"

start_model_server ms '{"model": "scripted/translate", "turns": [
  {"content": "responses plain", "usage": {"prompt_tokens": 101, "completion_tokens": 11}},
  {"tool_calls": [{"name": "write", "arguments": {"filePath": "/work/a.py", "content": "x = 1\n"}}],
   "usage": {"prompt_tokens": 102, "completion_tokens": 12, "cached_tokens": 64}},
  {"tool_calls": [{"name": "apply_patch", "arguments": {"input": "*** Begin Patch\n*** End Patch\n"}}],
   "usage": {"prompt_tokens": 103, "completion_tokens": 13}},
  {"content": "anthropic streamed", "usage": {"prompt_tokens": 104, "completion_tokens": 14, "cached_tokens": 4}},
  {"tool_calls": [{"name": "Write", "arguments": {"file_path": "/work/b.py", "content": "y = 2\n"}}],
   "usage": {"prompt_tokens": 105, "completion_tokens": 15}},
  {"content": "gemini says hi", "usage": {"prompt_tokens": 106, "completion_tokens": 16}},
  {"tool_calls": [{"name": "write_file", "arguments": {"file_path": "c.py", "content": "z = 3\n"}}],
   "usage": {"prompt_tokens": 107, "completion_tokens": 17}},
  {"content": "passthrough", "usage": {"prompt_tokens": 108, "completion_tokens": 18}}]}'
mkdir -p "$T/out"
chmod 0777 "$T/out"

FN_TOOL='{"type":"function","name":"write","parameters":{"type":"object","properties":{"filePath":{"type":"string"},"content":{"type":"string"}}}}'
CUSTOM_TOOL='{"type":"custom","name":"apply_patch","description":"patch files"}'
A_TOOL='{"name":"Write","input_schema":{"type":"object","properties":{"file_path":{"type":"string"},"content":{"type":"string"}}}}'
G_TOOL='{"functionDeclarations":[{"name":"write_file","parameters":{"type":"OBJECT","properties":{"file_path":{"type":"STRING"},"content":{"type":"STRING"}}}}]}'
cat >"$T/inside.sh" <<EOF
cd /out
B=\$CAB_MODEL_BASE_URL
G=\${B%/v1}
post() { # NAME PATH BODY [HEADER]
  curl -sS -N -o "\$1.body" -w '%{http_code} %{content_type}' "\$B\$2" -H 'content-type: application/json' \
    -H "authorization: Bearer \$OPENAI_API_KEY" \${4:+-H "\$4"} -d "\$3" >"\$1.code" 2>"\$1.err"
}
post r1 /responses '{"model":"gpt-x","instructions":"be brief","input":"hi"}'
post r2 /responses '{"model":"gpt-x","input":[{"role":"user","content":[{"type":"input_text","text":"write"}]}],"tools":[$FN_TOOL],"stream":true}'
post r3 /responses '{"model":"gpt-x","input":"patch it","tools":[$CUSTOM_TOOL],"stream":true}'
post a1 /messages '{"model":"claude-x","max_tokens":64,"system":"sys","messages":[{"role":"user","content":"hi"}],"stream":true}' 'anthropic-version: 2023-06-01'
post a2 /messages '{"model":"claude-x","max_tokens":64,"messages":[{"role":"user","content":"write"}],"tools":[$A_TOOL]}' 'anthropic-version: 2023-06-01'
post a3 /messages/count_tokens '{"model":"claude-x","messages":[{"role":"user","content":"count me"}]}' 'anthropic-version: 2023-06-01'
curl -sS -o g1.body -w '%{http_code} %{content_type}' "\$G/v1beta/models/gemini-x:generateContent" \
  -H 'content-type: application/json' -H 'x-goog-api-key: placeholder' \
  -d '{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"systemInstruction":{"parts":[{"text":"sys"}]}}' >g1.code
curl -sS -N -o g2.body -w '%{http_code} %{content_type}' "\$G/v1beta/models/gemini-x:streamGenerateContent?alt=sse" \
  -H 'content-type: application/json' -H 'x-goog-api-key: placeholder' \
  -d '{"contents":[{"role":"user","parts":[{"text":"write"}]}],"tools":[$G_TOOL]}' >g2.code
curl -sS -o g3.body -w '%{http_code} %{content_type}' "\$G/v1beta/models/gemini-x:embedContent" \
  -H 'content-type: application/json' -d '{}' >g3.code
post bad /messages '{"model":"claude-x","max_tokens":64,"messages":"not a list"}' 'anthropic-version: 2023-06-01'
EOF
run_cab "$T/x" exec --host-rootfs --net model --endpoint "$MS_URL" --model-calls "$T/calls.jsonl" \
  --bind "$T/out:/out" --bind "$T/inside.sh:/tmp/inside.sh:ro" -- /bin/sh /tmp/inside.sh
assert_rc 0 "the clients ran inside the sandbox"
O=$T/out
code() { cat "$O/$1.code" 2>/dev/null; }
sse_data() { sed -n 's/^data: //p' "$O/$1.body" | tr -d '\r'; }

# Responses, plain: one message item, the script's usage.
assert_eq "$(code r1)" "200 application/json" "responses plain: 200 JSON"
assert_eq "$(jq -c '[.object, .status, .output[0].content[0].text, .usage.input_tokens, .usage.output_tokens, .usage.total_tokens]' "$O/r1.body")" \
  '["response","completed","responses plain",101,11,112]' "responses plain: a completed response with the script's usage"
# Responses, streamed function call.
assert_match "$(code r2)" '^200 text/event-stream' "responses stream: 200 SSE"
assert_eq "$(sse_data r2 | jq -c 'select(.type == "response.completed") | [.response.output[0].type, .response.output[0].name, (.response.output[0].arguments | fromjson | .filePath), .response.usage.input_tokens, .response.usage.output_tokens, .response.usage.input_tokens_details.cached_tokens]')" \
  '["function_call","write","/work/a.py",102,12,64]' "responses stream: function_call write with its arguments, exact usage"
# Responses, a custom (free-form) tool comes back as custom_tool_call with raw input.
assert_eq "$(sse_data r3 | jq -c 'select(.type == "response.completed") | [.response.output[0].type, .response.output[0].name, .response.output[0].input]')" \
  '["custom_tool_call","apply_patch","*** Begin Patch\n*** End Patch\n"]' "responses stream: apply_patch as a custom_tool_call with its raw input"
# Anthropic, streamed text.
assert_match "$(code a1)" '^200 text/event-stream' "anthropic stream: 200 SSE"
assert_eq "$(grep '^event: ' "$O/a1.body" | sed 's/^event: //' | tr -d '\r' | awk '!seen[$0]++' | tr '\n' ' ')" \
  "message_start content_block_start content_block_delta content_block_stop message_delta message_stop " \
  "anthropic stream: the Messages event sequence"
assert_eq "$(sse_data a1 | jq -r 'select(.type == "content_block_delta") | .delta.text' | tr -d '\n')" "anthropic streamed" \
  "anthropic stream: the text"
assert_eq "$(sse_data a1 | jq -c 'select(.type == "message_delta") | [.delta.stop_reason, .usage.input_tokens, .usage.cache_read_input_tokens, .usage.output_tokens]')" \
  '["end_turn",100,4,14]' "anthropic stream: stop_reason and usage (input + cache reads = the prompt)"
# Anthropic, a tool_use block with a parsed input object.
assert_eq "$(jq -c '[.type, .stop_reason, .content[0].type, .content[0].name, .content[0].input.file_path, .usage.input_tokens, .usage.output_tokens]' "$O/a2.body")" \
  '["message","tool_use","tool_use","Write","/work/b.py",105,15]' "anthropic: tool_use Write with its input, exact usage"
assert_eq "$(jq -c 'keys' "$O/a3.body")" '["input_tokens"]' "anthropic count_tokens: answered by cab"
# Gemini, plain and streamed.
assert_eq "$(jq -c '[.candidates[0].content.parts[0].text, .candidates[0].finishReason, .usageMetadata.promptTokenCount, .usageMetadata.candidatesTokenCount, .usageMetadata.totalTokenCount]' "$O/g1.body")" \
  '["gemini says hi","STOP",106,16,122]' "gemini generateContent: text, STOP, usageMetadata"
assert_match "$(code g2)" '^200 text/event-stream' "gemini stream (alt=sse): 200 SSE"
assert_eq "$(sse_data g2 | jq -c 'select(.candidates[0].finishReason != null) | [.candidates[0].content.parts[0].functionCall.name, .candidates[0].content.parts[0].functionCall.args.file_path, .usageMetadata.promptTokenCount, .usageMetadata.candidatesTokenCount]')" \
  '["write_file","c.py",107,17]' "gemini stream: the functionCall whole in the final chunk, with usageMetadata"
assert_match "$(code g3)" '^404 ' "gemini embedContent: not a model call cab translates (404)"
assert_eq "$(jq -r '.error.status' "$O/g3.body")" "NOT_FOUND" "gemini embedContent: in Gemini's error shape"
assert_match "$(code bad)" '^400 ' "anthropic with messages not a list: 400"
assert_eq "$(jq -r '.type' "$O/bad.body")" "error" "anthropic 400: in Anthropic's error shape"
assert_match "$(jq -r '.error.message' "$O/bad.body")" 'messages' "anthropic 400: the message names the field"

# The records: exact tokens, the wire each call was translated from.
C=$T/calls.jsonl
assert_eq "$(jq -s -c '[.[] | select(.answered_by == null and .status == 200) | .prompt_tokens] | sort' "$C")" \
  '[101,102,103,104,105,106,107]' "every translated model call is recorded with the script's prompt tokens"
assert_eq "$(jq -s -c '[.[] | select(.status == 200 and .answered_by == null) | .completion_tokens] | add' "$C")" \
  "$((11 + 12 + 13 + 14 + 15 + 16 + 17))" "and its completion tokens"
assert_eq "$(jq -s -c '[.[] | .translated_from] | unique' "$C")" '["anthropic","gemini","responses"]' \
  "each record names the wire cab translated from"
assert_eq "$(jq -s -c '[.[] | select(.answered_by == "cab") | .path]' "$C")" '["/v1/messages/count_tokens"]' \
  "the token count is recorded as answered by cab"

# --endpoint-wire anthropic: the model-server speaks Messages too, so an
# Anthropic call passes through untouched; a Responses call is refused.
cat >"$T/inside2.sh" <<EOF
cd /out
B=\$CAB_MODEL_BASE_URL
curl -sS -o p1.body -w '%{http_code}' "\$B/messages" -H 'content-type: application/json' \
  -H 'anthropic-version: 2023-06-01' -d '{"model":"claude-x","max_tokens":64,"messages":[]}' >p1.code
curl -sS -o p2.body -w '%{http_code}' "\$B/responses" -H 'content-type: application/json' \
  -d '{"model":"gpt-x","input":"hi"}' >p2.code
EOF
run_cab "$T/x2" exec --host-rootfs --net model --endpoint "$MS_URL" --endpoint-wire anthropic \
  --model-calls "$T/calls2.jsonl" --bind "$T/out:/out" --bind "$T/inside2.sh:/tmp/inside2.sh:ro" -- /bin/sh /tmp/inside2.sh
assert_rc 0 "the passthrough clients ran"
assert_eq "$(code p1)" 200 "--endpoint-wire anthropic: an Anthropic call (even an empty one) passes through"
assert_eq "$(jq -c '[.type, .content[0].text, .usage.input_tokens]' "$O/p1.body")" '["message","passthrough",108]' \
  "--endpoint-wire anthropic: the model-server's own Messages answer"
assert_eq "$(record 1 "$T/calls2.jsonl" | jq -r '.translated_from // "none"')" none "the passthrough call is not marked translated"
assert_eq "$(code p2)" 501 "--endpoint-wire anthropic: a Responses call is refused (501)"
assert_match "$(jq -r '.error.message' "$O/p2.body")" 'endpoint-wire chat' "the refusal says what to do"

run_cab "$T/bad" exec --host-rootfs --net model --endpoint "$MS_URL" --endpoint-wire gemini -- /bin/true
assert_rc 125 "--endpoint-wire gemini is a usage error (125)"
assert_match "$(cat "$T/bad.err")" 'endpoint-wire gemini: expected chat, responses or anthropic' "with one clear line"

finish
