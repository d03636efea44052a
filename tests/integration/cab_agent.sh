#!/bin/bash
# cab-agent, the reference agent, on the host against `cab model-server`
# scripts (tests/model/cab-agent-*.json), without a sandbox: its own unit
# checks (JSON, chunked HTTP, URLs, /etc/hosts, paths), a scripted bug fix
# (list_dir, read_file, write_file, run, finish) with exact token sums and
# the requests it sent, path escapes (.., absolute, symlinks, with and
# without openat2), malformed tool calls, the run tool's limits, max_turns
# (exit 3), transport failures (exit 2: dead endpoint, unknown host, hang,
# HTTP 500), usage errors (exit 1), and that the binary is static.
# shellcheck disable=SC2016 # jq programs and workdir shell code are quoted on purpose
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

SRC_DIR=$(cd "$TESTS_DIR/.." && pwd)
MODELS=$TESTS_DIR/model
command -v jq >/dev/null 2>&1 || skip "jq not installed (make deps)"
[ -x "$CAB" ] || bail "cab binary not found at $CAB (run make)"
"$CAB" model-server --help >/dev/null 2>&1 || skip "this cab has no model-server command yet"

T=$(mktemp -d "${TMPDIR:-/tmp}/cab-$TEST_NAME.XXXXXX") || bail "mktemp failed"
chmod 0755 "$T"
trap _cleanup EXIT
trap 'exit 130' INT TERM
say "# $TEST_NAME as $CAB_TEST_MODE ($(id -un 2>/dev/null || id -u)), T=$T"

# The agent and its unit-check program: from the build, or built here.
AGENT=${CAB_AGENT:-$CAB_BUILD/cab-agent}
JSON_TEST=$CAB_BUILD/tests/cab-agent-json-test
AFLAGS=(-static -O2 -std=gnu11 -Wall -Wextra -Werror -Wshadow -D_GNU_SOURCE)
ALIB=("$SRC_DIR"/agent/cab-agent/{json,util,http,tools}.c)
if [ ! -x "$AGENT" ]; then
  say "# $AGENT not built; building it in $T"
  AGENT=$T/cab-agent
  gcc "${AFLAGS[@]}" -o "$AGENT" "$SRC_DIR/agent/cab-agent/main.c" "${ALIB[@]}" >"$T/build.log" 2>&1 ||
    bail "building cab-agent failed: $(head -c 600 "$T/build.log")"
fi
if [ ! -x "$JSON_TEST" ]; then
  JSON_TEST=$T/cab-agent-json-test
  gcc "${AFLAGS[@]}" -o "$JSON_TEST" "$SRC_DIR/agent/cab-agent/json_test.c" "${ALIB[@]}" >"$T/build.log" 2>&1 ||
    bail "building cab-agent-json-test failed: $(head -c 600 "$T/build.log")"
fi

# --- the binary -------------------------------------------------------------------
if command -v file >/dev/null 2>&1; then
  assert_match "$(file -L "$AGENT")" 'statically linked' "file says cab-agent is statically linked"
fi
if readelf -lW "$AGENT" 2>/dev/null | grep -q 'Requesting program interpreter'; then
  fail "cab-agent has no program interpreter (it does: $(readelf -lW "$AGENT" | grep -m1 interpreter))"
else
  pass "cab-agent has no program interpreter"
fi
assert_eq "$(readelf -dW "$AGENT" 2>/dev/null | grep -c NEEDED)" 0 "cab-agent needs no shared library"

# --- its unit checks -----------------------------------------------------------------
"$JSON_TEST" >"$T/unit.out" 2>&1
rc=$?
grep '^not ok' "$T/unit.out" | head -20 | sed 's/^/  /'
assert_eq "$rc" 0 "the unit checks pass ($(tail -n1 "$T/unit.out"))"

# --- helpers ------------------------------------------------------------------------
# start_server NAME SCRIPT: cab model-server on a free port, recording every
# request to $T/NAME.jsonl; sets URL and SRV_PID.
start_server() {
  local name=$1 script=$2
  URL=
  "$CAB" model-server --script "$script" --listen 127.0.0.1:0 --record "$T/$name.jsonl" \
    >"$T/$name.srv" 2>"$T/$name.srv.err" </dev/null &
  SRV_PID=$!
  at_exit "kill $SRV_PID"
  for _ in $(seq 100); do
    URL=$(sed -n 's/^listening on //p' "$T/$name.srv")
    [ -n "$URL" ] && break
    kill -0 "$SRV_PID" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$URL" ] || bail "cab model-server --script $script did not start: $(head -c 400 "$T/$name.srv.err")"
}

stop_server() {
  kill "$SRV_PID" 2>/dev/null
  wait "$SRV_PID" 2>/dev/null
}

# run_agent OUT ARGS...: cab-agent with a time bound; stdout to OUT, stderr
# to OUT.err, $RC and $MS.
# shellcheck disable=SC2034 # RC and LAST_OUT are read by lib.sh's assert_rc
run_agent() {
  local out=$1 t0 t1
  shift
  LAST_OUT=$out
  say "+ cab-agent $*"
  t0=$(date +%s%N)
  timeout -k 5 90 "$AGENT" "$@" >"$out" 2>"$out.err" </dev/null
  RC=$?
  t1=$(date +%s%N)
  MS=$(((t1 - t0) / 1000000))
  [ -s "$out.err" ] && say "  stderr: $(head -c 600 "$out.err" | tr '\n' '|')"
}

# The usage line the agent must print for SCRIPT's first N turns: the
# script's figures (per-turn or top-level), 10/5 where it gives none, and
# turns that answer with an HTTP status do not count.
expected_usage() {
  jq -r --argjson n "$2" '
    [.turns as $t | (.usage // []) as $u | range(0; $t | length) as $i
     | select(($t[$i].status // 200) == 200)
     | ($t[$i].usage // $u[$i] // {prompt_tokens: 10, completion_tokens: 5})] | .[0:$n]
    | "cab-agent: turns=\(length) prompt_tokens=\(map(.prompt_tokens) | add // 0) completion_tokens=\(map(.completion_tokens) | add // 0) total_tokens=\(map(.total_tokens // (.prompt_tokens + .completion_tokens)) | add // 0)"' "$1"
}

# facts NAME JQ-PROGRAM: run the program once (jq is slow to start) over
# the array of request bodies the server NAME recorded; it prints
# "key<TAB>value" lines (values with newlines escaped as \n), read back by
# fact KEY.
facts() {
  FACTS=$(jq -rs "[.[] | .request.body | fromjson] as \$reqs | $2 | .[] | \"\\(.[0])\\t\\(.[1] | tostring | gsub(\"\\n\"; \"\\\\n\"))\"" \
    "$T/$1.jsonl" 2>&1) || fail "jq over $1.jsonl failed: $FACTS"
}
fact() { awk -F'\t' -v k="$1" '$1 == k { sub(/^[^\t]*\t/, ""); gsub(/\\n/, "\n"); print; exit }' <<<"$FACTS"; }

# A workdir with a one-line bug and its test.
make_workdir() {
  rm -rf "$1" && mkdir -p "$1"
  printf 'add() { echo $(($1 - $2)); }\n' >"$1/lib.sh"
  printf '. ./lib.sh\nr=$(add 2 3)\nif [ "$r" = 5 ]; then echo PASS; else echo "FAIL: add 2 3 = $r"; exit 1; fi\n' >"$1/test.sh"
}
printf 'lib.sh has a bug: add 2 3 prints -1. Fix it; `sh test.sh` must print PASS.\n' >"$T/prompt.md"

# --- a scripted bug fix ------------------------------------------------------------
S=$MODELS/cab-agent-fix.json
W=$T/fix/work
make_workdir "$W"
start_server fix "$S"
run_agent "$T/fix.out" --endpoint "$URL" --model scripted/cab-agent-fix --prompt-file "$T/prompt.md" \
  --workdir "$W" --max-turns 10 --key sk-placeholder
stop_server
assert_rc 0 "the fix run exits 0 (finish)"
assert_eq "$(cat "$W/lib.sh")" 'add() { echo $(($1 + $2)); }' "write_file wrote the fix"
assert_eq "$(cd "$W" && sh test.sh)" PASS "the fixed workdir passes its test"
out=$(cat "$T/fix.out")
assert_match "$out" '> list_dir \.' "the transcript shows list_dir"
assert_match "$out" 'ok: 2 entries: lib.sh test.sh' "list_dir's one-line result"
assert_match "$out" '> read_file lib\.sh' "the transcript shows read_file"
assert_match "$out" '> write_file lib\.sh \(29 bytes\)' "the transcript shows write_file"
assert_match "$out" '> run: sh test\.sh' "the transcript shows run"
assert_match "$out" 'exit code 0, 5 bytes of output in [0-9.]+ s: PASS' "run's result line"
assert_match "$out" 'finish: add\(\) in lib.sh now adds' "the transcript shows finish and its summary"
assert_match "$out" "assistant: add\\(\\) subtracts" "the transcript shows the assistant's text"
want=$(expected_usage "$S" 99)
assert_eq "$want" "cab-agent: turns=5 prompt_tokens=3110 completion_tokens=340 total_tokens=3450" \
  "the script's usage sums (computed with jq)"
assert_eq "$(tail -n1 "$T/fix.out")" "$want" "the last line is the usage line, summing the script exactly"
assert_eq "$(wc -c <"$T/fix.out.err" | tr -d ' ')" 0 "nothing on stderr"
# What the agent sent.
facts fix '($reqs[0]) as $f | ($reqs[-1]) as $l | [
  ["calls", ($reqs | length)],
  ["model", $f.model], ["stream", $f.stream],
  ["roles0", ([$f.messages[].role] | join(","))],
  ["system", $f.messages[0].content], ["user", $f.messages[1].content],
  ["tools", ([$f.tools[].function.name] | join(","))],
  ["tool_form", ([$f.tools[] | .type == "function" and .function.parameters.type == "object"] | all)],
  ["roles", ([$l.messages[].role] | join(","))],
  ["read_result", ($l.messages[] | select(.tool_call_id == "call_read") | .content)],
  ["ids_match", ([$l.messages[] | select(.role == "assistant") | .tool_calls[].id]
                 == [$l.messages[] | select(.role == "tool") | .tool_call_id])],
  ["last_content", $l.messages[-1].content]]'
assert_eq "$(fact calls)" 5 "five model calls were made"
assert_eq "$(fact model)" scripted/cab-agent-fix "the request names the model"
assert_eq "$(fact stream)" false "the request is non-streaming"
assert_eq "$(fact roles0)" system,user "the first request: system + user"
assert_eq "$(fact user)" "$(cat "$T/prompt.md")" "the user message is the prompt file"
assert_match "$(fact system)" "coding agent.*$W.*finish" "the system message names the workdir and finish"
assert_eq "$(fact tools)" read_file,write_file,list_dir,run,finish "the five tools are offered"
assert_eq "$(fact tool_form)" true "tools are in function-calling form"
assert_eq "$(fact roles)" "system,user,assistant,tool,assistant,tool,assistant,tool,assistant,tool" \
  "the conversation grows turn by turn"
assert_eq "$(fact read_result)" 'add() { echo $(($1 - $2)); }' "read_file's result goes back under the model's tool_call_id"
assert_eq "$(fact ids_match)" true "every tool result answers the assistant's call ids, in order"
assert_match "$(fact last_content)" '^exit code 0' "run's result reports the exit code"

# --- paths outside the workdir, malformed calls ----------------------------------------
S=$MODELS/cab-agent-escape.json
for variant in openat2 no-openat2; do
  W=$T/esc-$variant/work
  make_workdir "$W"
  mkdir -p "$T/esc-$variant/outside" "$W/sub"
  echo TOPSECRET >"$T/esc-$variant/outside/secret.txt"
  ln -s ../outside "$W/out"
  start_server "esc-$variant" "$S"
  if [ $variant = no-openat2 ]; then export CAB_AGENT_NO_OPENAT2=1; fi
  run_agent "$T/esc-$variant.out" --endpoint "$URL" --model scripted/cab-agent-escape \
    --prompt-file "$T/prompt.md" --workdir "$W"
  unset CAB_AGENT_NO_OPENAT2
  stop_server
  v="[$variant]"
  assert_rc 0 "$v a model that stops without a tool call: exit 0"
  out=$(cat "$T/esc-$variant.out")
  assert_match "$out" "error: read_file refused: '\.\./x' leads outside the working directory" "$v ../x is refused"
  assert_match "$out" "error: read_file refused: '/etc/passwd' is an absolute path" "$v /etc/passwd is refused"
  assert_match "$out" "error: write_file refused: '\.\./escaped.txt' leads outside" "$v write_file ../ is refused"
  assert_match "$out" "error: write_file refused: 'sub/\.\./\.\./escaped2.txt' leads outside" "$v sub/../../ is refused"
  assert_match "$out" "error: list_dir refused: '\.\.' leads outside" "$v list_dir .. is refused"
  assert_match "$out" "error: read_file out/secret.txt: it (leads outside the working directory|goes through a symlink)" \
    "$v reading through a symlink out is refused"
  assert_match "$out" "error: write_file out/planted.txt: .*(leads outside|goes through a symlink)" \
    "$v writing through a symlink out is refused"
  assert_match "$out" "error: list_dir out: it (leads outside|goes through a symlink)" "$v listing through a symlink out is refused"
  assert_match "$out" 'error: the arguments of write_file are not valid JSON' "$v arguments that are not JSON: an error result"
  assert_match "$out" 'error: unknown tool "delete_everything"' "$v an unknown tool: an error result"
  assert_match "$out" 'error: read_file needs a string argument "path"' "$v a missing argument: an error result"
  assert_match "$out" 'ok: wrote 7 bytes to nested/dir/ok.txt' "$v write_file creates parent directories"
  assert_eq "$(cat "$W/nested/dir/ok.txt" 2>/dev/null)" inside "$v the nested file was written"
  assert_eq "$(ls "$T/esc-$variant/outside")" secret.txt "$v nothing was planted outside"
  assert_eq "$(find "$T" -maxdepth 3 -name 'escaped*' | wc -l | tr -d ' ')" 0 "$v no escaped file anywhere"
  assert_eq "$(grep -c TOPSECRET "$T/esc-$variant.jsonl")" 0 "$v the secret never reached the model"
  assert_eq "$(grep -c '^root:' "$T/esc-$variant.jsonl")" 0 "$v /etc/passwd never reached the model"
  facts "esc-$variant" '[$reqs[-1].messages[] | select(.role == "tool") | .content] as $t | [
    ["first5", ($t[0:5] | map(startswith("error: ")) | all)],
    ["symlinks", ($t[5:8] | map(startswith("error: ")) | all)],
    ["turn3", ($t[8:12] | map(startswith("error: ")) | join(","))],
    ["n", ($t | length)]]'
  assert_eq "$(fact n)" 12 "$v twelve tool results went back to the model"
  assert_eq "$(fact first5)" true "$v the five escapes come back to the model as errors"
  assert_eq "$(fact symlinks)" true "$v the three symlink escapes come back as errors"
  assert_eq "$(fact turn3)" true,true,true,false "$v bad JSON, unknown tool, missing argument: errors; the good write: not"
  assert_eq "$(wc -l <"$T/esc-$variant.out.err" | tr -d ' ')" 0 "$v nothing on stderr"
done

# --- the run tool: exit codes, the output cap, the time limit, background jobs ---------
S=$MODELS/cab-agent-run.json
W=$T/run/work
make_workdir "$W"
start_server run "$S"
CAB_AGENT_RUN_TIMEOUT=2 run_agent "$T/run.out" --endpoint "$URL" --model scripted/cab-agent-run \
  --prompt-file "$T/prompt.md" --workdir "$W"
stop_server
assert_rc 0 "the run-tool script exits 0"
assert_cmp "$MS" -lt 15000 "a background job holding the output open does not stall the agent"
out=$(cat "$T/run.out")
assert_match "$out" 'HTTP 429: Rate limit reached for requests; retrying in 1 s' "a 429 is retried after Retry-After"
assert_match "$out" 'ok: exit code 7, 10 bytes of output .*: to-stderr' "a failing command: exit code and stderr"
assert_match "$out" 'error: timed out after 2 s and was killed, 13 bytes of output in 2\.[0-9] s: before-sleep' \
  "a command over the time limit is killed"
assert_match "$out" 'ok: exit code 0, 19 bytes of output in [0-9.]+ s: started-background' "a backgrounding command returns"
assert_eq "$(tail -n1 "$T/run.out")" "$(expected_usage "$S" 99)" "usage sums (an explicit total_tokens is taken as is)"
assert_eq "$(tail -n1 "$T/run.out")" "cab-agent: turns=2 prompt_tokens=24 completion_tokens=5 total_tokens=33" \
  "usage: the 429 is not a turn"
facts run '[$reqs[-1].messages[] | select(.role == "tool") | .content] as $t | [
  ["big", ($t[] | select(startswith("exit code 0") and contains("line-0-")))],
  ["bigbytes", ($t[] | select(startswith("exit code 0") and contains("line-0-")) | utf8bytelength)],
  ["failing", ($t[] | select(startswith("exit code 7")))]]'
big=$(fact big)
assert_match "$big" 'bytes of output omitted' "long output is cut, with a note"
assert_match "$big" 'line-2999-x+$' "the output's tail is kept"
assert_cmp "$(fact bigbytes)" -le 16600 "the output sent is about 16 KiB"
assert_match "$(fact failing)" 'to-stderr' "stderr is part of the output sent"
sleep 0.3
left=0
for p in $(pgrep -x sleep 2>/dev/null); do
  [ "$(readlink "/proc/$p/cwd" 2>/dev/null)" = "$W" ] && left=$((left + 1))
done
assert_eq "$left" 0 "no process started by run is left behind"

# --- max_turns ---------------------------------------------------------------------
S=$MODELS/cab-agent-loop.json
W=$T/loop/work
make_workdir "$W"
start_server loop "$S"
run_agent "$T/loop.out" --endpoint "$URL" --model scripted/cab-agent-loop --prompt-file "$T/prompt.md" \
  --workdir "$W" --max-turns 3
stop_server
assert_rc 3 "a model that never finishes: exit 3 at --max-turns"
assert_eq "$(tail -n1 "$T/loop.out")" "cab-agent: turns=3 prompt_tokens=300 completion_tokens=21 total_tokens=321" \
  "three turns are counted and summed"
assert_match "$(cat "$T/loop.out")" 'budget of 3 model calls \(--max-turns\) is used up' "the transcript says why it stopped"
assert_eq "$(wc -l <"$T/loop.jsonl" | tr -d ' ')" 3 "exactly three model calls were made"

# A name from the hosts file (the sandbox maps model.cab.internal there).
start_server hosts "$S"
port=${URL##*:}
port=${port%%/*}
printf '# test\n127.0.0.1\tlocalhost\n127.0.0.1 gateway model.cab.internal\n' >"$T/hosts"
CAB_AGENT_HOSTS_FILE=$T/hosts run_agent "$T/hosts.out" --endpoint "http://model.cab.internal:$port/v1" \
  --model scripted/cab-agent-loop --prompt-file "$T/prompt.md" --workdir "$W" --max-turns 1
stop_server
assert_rc 3 "model.cab.internal resolves through the hosts file"
assert_match "$(tail -n1 "$T/hosts.out")" 'turns=1 ' "one call went through"

# --- transport failures: exit 2 and one line -------------------------------------------
run_agent "$T/dead.out" --endpoint http://127.0.0.1:1/v1 --model m --prompt-file "$T/prompt.md" --workdir "$W"
assert_rc 2 "a dead endpoint: exit 2"
assert_cmp "$MS" -lt 5000 "a dead endpoint fails fast"
assert_eq "$(wc -l <"$T/dead.out.err" | tr -d ' ')" 1 "a dead endpoint: one line on stderr"
assert_match "$(cat "$T/dead.out.err")" '^cab-agent: error: cannot connect to 127\.0\.0\.1:1 \(http://127\.0\.0\.1:1/v1\): Connection refused$' \
  "the line says what and where"
assert_eq "$(tail -n1 "$T/dead.out")" "cab-agent: turns=0 prompt_tokens=0 completion_tokens=0 total_tokens=0" \
  "the usage line is printed even so"

run_agent "$T/nohost.out" --endpoint http://no-such-host.invalid:8080/v1 --model m --prompt-file "$T/prompt.md" --workdir "$W"
assert_rc 2 "an unknown host: exit 2"
assert_match "$(cat "$T/nohost.out.err")" "cannot resolve 'no-such-host.invalid'" "an unknown host: the line says so"

printf '{"model": "scripted/hang", "turns": [{"hang": true}]}\n' >"$T/hang.json"
start_server hang "$T/hang.json"
CAB_AGENT_TIMEOUT=2 run_agent "$T/hang.out" --endpoint "$URL" --model m --prompt-file "$T/prompt.md" --workdir "$W"
stop_server
assert_rc 2 "a model that never answers: exit 2 after CAB_AGENT_TIMEOUT"
assert_cmp "$MS" -lt 6000 "the hang is cut at about 2 s"
assert_match "$(cat "$T/hang.out.err")" 'no reply from 127\.0\.0\.1:[0-9]+/v1/chat/completions within 2 s' "the hang: one clear line"

printf '{"model": "scripted/500", "turns": [{"status": 500, "error": "upstream exploded"}]}\n' >"$T/500.json"
start_server e500 "$T/500.json"
run_agent "$T/500.out" --endpoint "$URL" --model m --prompt-file "$T/prompt.md" --workdir "$W"
stop_server
assert_rc 2 "an HTTP 500: exit 2"
assert_match "$(cat "$T/500.out.err")" 'answered HTTP 500: upstream exploded$' "an HTTP 500: status and message"
assert_eq "$(wc -l <"$T/500.out.err" | tr -d ' ')" 1 "an HTTP 500: one line"

# A reply that is not Chat Completions JSON at all.
printf '{"model": "scripted/weird", "turns": [{"content": "x"}]}\n' >"$T/weird.json"
start_server weird "$T/weird.json"
run_agent "$T/weird.out" --endpoint "${URL%/v1}/nowhere" --model m --prompt-file "$T/prompt.md" --workdir "$W"
stop_server
assert_rc 2 "a wrong endpoint path: exit 2"
assert_eq "$(wc -l <"$T/weird.out.err" | tr -d ' ')" 1 "a wrong endpoint path: one line"

# --- usage errors: exit 1 -------------------------------------------------------------
run_agent "$T/u1.out"
assert_rc 1 "no arguments: exit 1"
assert_match "$(cat "$T/u1.out.err")" 'endpoint is required' "no arguments: says what is missing"
run_agent "$T/u2.out" --endpoint http://127.0.0.1:1/v1 --model m --prompt-file "$T/prompt.md" --workdir "$W" --max-turns 0
assert_rc 1 "--max-turns 0: exit 1"
run_agent "$T/u3.out" --endpoint https://127.0.0.1/v1 --model m --prompt-file "$T/prompt.md" --workdir "$W"
assert_rc 1 "https: exit 1"
assert_match "$(cat "$T/u3.out.err")" 'https is not supported' "https: says so"
run_agent "$T/u4.out" --endpoint http://127.0.0.1:1/v1 --model m --prompt-file "$T/nope.md" --workdir "$W"
assert_rc 1 "a missing prompt file: exit 1"
run_agent "$T/u5.out" --endpoint http://127.0.0.1:1/v1 --model m --prompt-file "$T/prompt.md" --workdir "$T/nope"
assert_rc 1 "a missing workdir: exit 1"
run_agent "$T/u6.out" --endpoint http://127.0.0.1:1/v1 --bogus
assert_rc 1 "an unknown option: exit 1"
run_agent "$T/help.out" --help
assert_rc 0 "--help: exit 0"
assert_match "$(cat "$T/help.out")" '^usage: cab-agent' "--help prints the usage"

finish
