#!/bin/bash
# cab model-server over real sockets on 127.0.0.1, queried with curl:
# OpenAI chat (plain, streamed with include_usage, tool calls), completions,
# models, embeddings, Anthropic Messages (plain and streamed), 404/405,
# scripted 429/500/slowness/hang, concurrency past a hanging call, script
# errors, record then replay (byte-identical bodies, recorded timing,
# --replay-speed, a mismatch -> 409 naming the difference), SIGTERM.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

command -v curl >/dev/null 2>&1 || skip "curl not installed (make deps)"
command -v jq >/dev/null 2>&1 || skip "jq not installed (make deps)"
[ -x "$CAB" ] || bail "cab binary not found at $CAB (run make)"
SCRIPTS=$TESTS_DIR/model
T=$(mktemp -d "${TMPDIR:-/tmp}/cab-$TEST_NAME.XXXXXX") || bail "mktemp failed"
trap _cleanup EXIT
trap 'exit 130' INT TERM
say "# $TEST_NAME as $CAB_TEST_MODE ($(id -un 2>/dev/null || id -u)), T=$T"

# start_server NAME ARGS...: run "cab model-server ARGS" in the background;
# sets URL (http://127.0.0.1:PORT/v1) and SRV (its pid).  Logs: $T/NAME.out/.err
start_server() {
  local name=$1 i
  shift
  say "+ cab model-server $* &"
  "$CAB" model-server "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null &
  SRV=$!
  at_exit "kill -9 $SRV"
  URL=""
  for i in $(seq 100); do
    URL=$(sed -n '1s|^listening on ||p' "$T/$name.out")
    [ -n "$URL" ] && break
    kill -0 "$SRV" 2>/dev/null || break
    sleep 0.05
  done
  [ -n "$URL" ] || bail "model-server $name did not say where it listens: $(head -c 300 "$T/$name.err")"
  assert_match "$URL" '^http://127\.0\.0\.1:[0-9]+/v1$' "$name: prints 'listening on http://127.0.0.1:PORT/v1' first"
}

# stop_server: SIGTERM, then it must exit 0 within 5 s.
stop_server() {
  local i rc
  kill -TERM "$SRV" 2>/dev/null
  for i in $(seq 100); do
    kill -0 "$SRV" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$SRV" 2>/dev/null; then
    fail "model-server did not stop within 5 s of SIGTERM"
    kill -9 "$SRV"
  fi
  wait "$SRV"
  rc=$?
  assert_eq "$rc" 0 "model-server exits 0 on SIGTERM"
}

# post PATH BODY OUT [CURL-ARGS...]: body to OUT, headers to OUT.h; HTTP
# status in $CODE, time in $SECS.
post() {
  local path=$1 body=$2 out=$3
  shift 3
  read -r CODE SECS < <(curl -sS -N --max-time 20 -o "$out" -D "$out.h" -w '%{http_code} %{time_total}\n' \
    -H 'Content-Type: application/json' -H 'Authorization: Bearer placeholder' \
    --data-binary "$body" "$@" "$URL$path" 2>"$out.curl")
}

# SSE data lines (without "data: ") of FILE, except [DONE], as a JSON array.
sse_json() { sed -n 's/^data: //p' "$1" | tr -d '\r' | grep -v '^\[DONE\]$' | jq -s -c .; }

ms() { awk -v s="$1" 'BEGIN { printf "%d", s * 1000 }'; }

# --- OpenAI shapes on basic.json ------------------------------------------------------
start_server basic --script "$SCRIPTS/basic.json"
curl -sS --max-time 10 -o "$T/models" "$URL/models"
assert_json '.data[0].id' scripted/basic "$T/models" "GET /v1/models lists the script's model"

post /chat/completions '{"model":"x","messages":[{"role":"user","content":"hi"}]}' "$T/c1"
assert_eq "$CODE" 200 "chat: 200"
assert_match "$(tr -d '\r' <"$T/c1.h")" 'Content-Type: application/json' "chat: application/json"
assert_json '.object' chat.completion "$T/c1"
assert_json '.choices[0].finish_reason' tool_calls "$T/c1" "turn 1: finish_reason tool_calls"
assert_json '.choices[0].message.tool_calls[0] | [.id, .type, .function.name]' \
  '["call_cab1_0","function","write_file"]' "$T/c1" "turn 1: tool_calls[0] {id, type, function.name}"
assert_json '.choices[0].message.tool_calls[0].function.arguments | fromjson | .path' hello.py "$T/c1" \
  "turn 1: arguments is a JSON string of the script's object"
assert_json '.usage | [.prompt_tokens, .completion_tokens, .total_tokens]' '[120,31,151]' "$T/c1" \
  "turn 1: usage exactly as scripted"

post /chat/completions '{"model":"x","stream":true,"stream_options":{"include_usage":true},"messages":[]}' "$T/c2"
assert_eq "$CODE" 200 "stream: 200"
hdr=$(tr -d '\r' <"$T/c2.h")
assert_match "$hdr" 'Content-Type: text/event-stream' "stream: text/event-stream"
assert_match "$hdr" 'Transfer-Encoding: chunked' "stream: chunked, no Content-Length"
sse_json "$T/c2" >"$T/c2.json"
assert_json '[.[].choices[0].delta.content // empty] | join("")' "I wrote hello.py; it prints a greeting." "$T/c2.json" \
  "stream: content deltas join to the turn's text"
assert_json '.[0].choices[0].delta.role' assistant "$T/c2.json" "stream: the first delta has the role"
assert_json '[.[] | select(.choices[0].finish_reason != null)] | map(.choices[0].finish_reason)' '["stop"]' \
  "$T/c2.json" "stream: one chunk carries finish_reason stop"
assert_json '.[-1] | [(.choices | length), .usage.prompt_tokens, .usage.completion_tokens, .usage.total_tokens, .usage.prompt_tokens_details.cached_tokens]' \
  '[0,180,12,192,100]' "$T/c2.json" "stream: last chunk has empty choices and the scripted usage"
assert_eq "$(tr -d '\r' <"$T/c2" | grep -v '^$' | tail -n1)" "data: [DONE]" "stream: ends with data: [DONE]"
assert_json '[.[0:-1][] | has("usage") and .usage == null] | all' true "$T/c2.json" \
  "stream: the other chunks carry usage null"

post /chat/completions '{"model":"x","messages":[]}' "$T/c3"
assert_json '[.choices[0].message.content, .choices[0].finish_reason]' '["done","stop"]' "$T/c3" \
  "after the last turn: content done, finish_reason stop"

post /completions '{"model":"x","prompt":"p"}' "$T/cp"
assert_json '[.object, .choices[0].text, .usage.total_tokens]' '["text_completion","done",15]' "$T/cp" \
  "POST /v1/completions answers (the done turn: 10 + 5 tokens)"
post /embeddings '{"model":"x","input":["a b c","d"]}' "$T/em"
assert_json '[(.data | length), (.data[0].embedding | length), .usage.prompt_tokens]' '[2,16,4]' "$T/em" \
  "POST /v1/embeddings: one 16-float vector per input"
post /embeddings '{"model":"x","input":["a b c","d"]}' "$T/em2"
assert_eq "$(cmp -s "$T/em" "$T/em2" && echo same)" same "embeddings are deterministic"
post /nope '{}' "$T/nf"
assert_eq "$CODE" 404 "an unknown path gives 404"
assert_json '.error.code' unknown_url "$T/nf" "404 has a JSON error body"
curl -sS -o "$T/405" -w '%{http_code}' "$URL/chat/completions" >"$T/405.code"
assert_eq "$(cat "$T/405.code")" 405 "GET /v1/chat/completions gives 405"
post /chat/completions 'not json' "$T/bad"
assert_eq "$CODE" 400 "a body that is not JSON gives 400"
stop_server

# --- Anthropic Messages -------------------------------------------------------------------
start_server anthropic --script "$SCRIPTS/anthropic.json"
post /messages '{"model":"claude","max_tokens":1024,"messages":[{"role":"user","content":"go"}]}' "$T/a1" \
  -H 'anthropic-version: 2023-06-01' -H 'x-api-key: placeholder'
assert_eq "$CODE" 200 "messages: 200"
assert_json '[.type, .role, .content[0].type, .content[1].type, .content[1].name, .content[1].input.file_path, .stop_reason]' \
  '["message","assistant","text","tool_use","Write","/work/hello.py","tool_use"]' "$T/a1" \
  "messages: text and tool_use blocks, stop_reason tool_use"
assert_json '.usage | [.input_tokens, .cache_read_input_tokens, .output_tokens]' '[600,1024,89]' "$T/a1" \
  "messages: usage input 1624 - 1024 cached, cache_read 1024, output 89"
post /messages '{"model":"claude","max_tokens":1024,"stream":true,"messages":[]}' "$T/a2" \
  -H 'anthropic-version: 2023-06-01'
assert_eq "$(tr -d '\r' <"$T/a2" | sed -n 's/^event: //p' | tr '\n' ' ')" \
  "message_start content_block_start ping content_block_delta content_block_delta content_block_stop message_delta message_stop " \
  "messages stream: the event sequence"
sse_json "$T/a2" >"$T/a2.json"
assert_json '[.[] | select(.type == "content_block_delta") | .delta.text] | join("")' "Created /work/hello.py." \
  "$T/a2.json" "messages stream: text deltas join to the turn's text"
assert_json '[(.[0].message.usage.input_tokens), (.[] | select(.type == "message_delta") | .usage.output_tokens, .delta.stop_reason)]' \
  '[1750,9,"end_turn"]' "$T/a2.json" "messages stream: input in message_start, output in message_delta"
curl -sS -o "$T/am" -H 'anthropic-version: 2023-06-01' "$URL/models"
assert_json '.data[0] | [.type, .id]' '["model","claude-sonnet-4-20250514"]' "$T/am" \
  "GET /v1/models in Anthropic's shape for an Anthropic client"
stop_server

# --- failures, slowness, hang ---------------------------------------------------------------
start_server flaky --script "$SCRIPTS/failures.json"
post /chat/completions '{"messages":[]}' "$T/f1"
assert_eq "$CODE" 429 "turn 1: 429"
assert_match "$(tr -d '\r' <"$T/f1.h")" 'Retry-After: 1' "429 carries Retry-After"
assert_json '.error.code' rate_limit_exceeded "$T/f1"
post /messages '{"messages":[]}' "$T/f2"
assert_eq "$CODE" 500 "turn 2: 500 (turns are shared by every chat endpoint)"
assert_json '[.type, .error.type]' '["error","api_error"]' "$T/f2" "a /v1/messages failure is in Anthropic's error shape"
post /chat/completions '{"messages":[]}' "$T/f3"
assert_eq "$CODE" 200 "turn 3: 200"
assert_cmp "$(ms "$SECS")" -ge 280 "turn 3: delay_ms 300 slows the answer"
stop_server

start_server hang --script "$SCRIPTS/hang.json"
curl -sS --max-time 30 -o "$T/h1" -w '%{http_code}' -H 'Content-Type: application/json' \
  -d '{"messages":[]}' "$URL/chat/completions" >"$T/h1.code" 2>"$T/h1.err" &
hang_curl=$!
at_exit "kill -9 $hang_curl"
sleep 0.3
post /chat/completions '{"messages":[]}' "$T/h2"
assert_json '.choices[0].message.content' back "$T/h2" "a hanging call does not hold the next one"
assert_cmp "$(ms "$SECS")" -lt 2000 "the next call is answered at once"
kill -0 "$hang_curl" 2>/dev/null && still=yes || still=no
assert_eq "$still" yes "the hanging call is still waiting"
t0=$(date +%s%N)
stop_server
assert_cmp $((($(date +%s%N) - t0) / 1000000)) -lt 3000 "SIGTERM stops the server promptly despite the hanging call"
wait "$hang_curl"
assert_ne "$(cat "$T/h1.code")" 200 "the hanging call gets no answer"

# --- script errors ---------------------------------------------------------------------------
printf '{"model":"m","turns":[{"content":"a"},{"tool_calls":[{"arguments":{}}]}]}' >"$T/bad.json"
run_cab "$T/bad" model-server --script "$T/bad.json"
assert_rc 125 "a bad script: exit 125"
assert_eq "$(cat "$T/bad.err")" "cab: script $T/bad.json: turns[1].tool_calls[0]: missing \"name\"" \
  "a bad script: one line naming the place"
run_cab "$T/none" model-server --script "$T/nonexistent.json"
assert_rc 125 "a missing script: exit 125"
assert_eq "$(wc -l <"$T/none.err")" 1 "a missing script: one line"
run_cab "$T/both" model-server
assert_rc 125 "neither --script nor --replay: exit 125"

# --- record, then replay ----------------------------------------------------------------------
printf '%s' '{"model":"scripted/timed","stream_chunk_delay_ms":60,"turns":[
  {"content":"one two three four five six","usage":{"prompt_tokens":11,"completion_tokens":6}},
  {"tool_calls":[{"name":"bash","arguments":{"command":"ls -la"}}],"usage":{"prompt_tokens":20,"completion_tokens":9}},
  {"content":"fin","usage":{"prompt_tokens":30,"completion_tokens":1}}]}' >"$T/timed.json"
B1='{"model":"m","stream":true,"stream_options":{"include_usage":true},"temperature":0.2,"messages":[{"role":"user","content":"a"}]}'
B2='{"model":"m","temperature":0.2,"messages":[{"role":"user","content":"b"}]}'
B3='{"model":"m","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"c"}]}'
start_server record --script "$T/timed.json" --record "$T/cassette.jsonl"
post /chat/completions "$B1" "$T/r1"
rec_ms=$(ms "$SECS")
post /chat/completions "$B2" "$T/r2"
post /messages "$B3" "$T/r3"
curl -sS -o "$T/r4" "$URL/models"
stop_server
assert_eq "$(wc -l <"$T/cassette.jsonl")" 4 "--record wrote one line per call"
assert_eq "$(jq -c -s 'map(.seq)' "$T/cassette.jsonl")" '[1,2,3,4]' "cassette lines are numbered 1..4"
assert_jq '.request.sha256 | test("^sha256:[0-9a-f]{64}$")' <(head -n1 "$T/cassette.jsonl") "each line has the request's sha256"
assert_cmp "$rec_ms" -ge 400 "the recorded stream took its scripted time (9 events x 60 ms)"

start_server replay --replay "$T/cassette.jsonl"
post /chat/completions "$B2" "$T/p2" # out of order: matched by hash
post /chat/completions "$B1" "$T/p1"
play_ms=$(ms "$SECS")
post /messages "$B3" "$T/p3"
curl -sS -o "$T/p4" "$URL/models"
for i in 1 2 3 4; do
  assert_eq "$(cmp "$T/r$i" "$T/p$i" 2>&1 && echo identical)" identical "replay: call $i is byte-identical to the recording"
done
assert_match "$(tr -d '\r' <"$T/p1.h")" 'Content-Type: text/event-stream' "replay: the stream keeps its content type"
assert_cmp "$play_ms" -ge 400 "replay: the stream keeps its recorded timing (${rec_ms} ms recorded)"
post /chat/completions "${B2/0.2/0.7}" "$T/mm"
assert_eq "$CODE" 409 "replay: a changed request gives 409"
assert_json '.error.message | test("body: at byte [0-9]+: recorded \"temperature\":0.2, got \"temperature\":0.7")' true "$T/mm" \
  "replay: the error names the first difference"
assert_eq "$(grep -c 'replay:' "$T/replay.err")" 1 "replay: the mismatch is one line on stderr"
stop_server

start_server fast --replay "$T/cassette.jsonl" --replay-speed 0
post /chat/completions "$B1" "$T/q1"
assert_eq "$(cmp "$T/r1" "$T/q1" 2>&1 && echo identical)" identical "--replay-speed 0: same bytes"
assert_cmp "$(ms "$SECS")" -lt 300 "--replay-speed 0: no waiting"
stop_server

start_server order --replay "$T/cassette.jsonl" --replay-match order
post /chat/completions '{"volatile":"x"}' "$T/o1"
assert_eq "$(cmp "$T/r1" "$T/o1" 2>&1 && echo identical)" identical "--replay-match order: the next recorded answer"
stop_server

finish
