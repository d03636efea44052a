#!/bin/bash
# Real agent CLIs end to end: `cab run-cell --tui T` with the real binary from
# the /opt/cab-agents bundle (tests/images/agents-bundle.sh), --host-rootfs,
# against `cab model-server` scripted in that agent's own tool schema
# (tests/model/agents/T-fix.json, T-refusal.json).  For each agent:
#   - the fix cell passes, with the proxy's tokens exactly the script's, blast
#     counting exactly what the agent wrote, a terminal.cast that replays, and
#     every other host it tried refused at once (no hang);
#   - the first run records a cassette, and --replay (no endpoint) gives the
#     same scores on every axis but the wall-clock ones;
#   - on integrity/unsolvable-refusal the agent writes REFUSAL.md through its
#     tools and the refusal is scored.
# CAB_TEST_AGENTS (default "opencode codex aider": one chat agent with tools,
# one whose wire cab translates, one that edits through plain replies) picks
# the agents; `make test-agents` runs them all, on the
# host's / and, with CAB_TEST_IMAGE=cab/agents:bookworm (CAB_HOME holding it),
# in the agents image (tests/images/agents-image.sh).
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=../fixtures/proxy/net_lib.sh
. "$TESTS_DIR/fixtures/proxy/net_lib.sh"
setup --bare
"$CAB" run-cell --help >/dev/null 2>&1 || skip "this cab has no run-cell command"
AGENTS=${CAB_TEST_AGENTS:-opencode codex aider}
BUNDLE=${CAB_AGENTS_PREFIX:-/opt/cab-agents}
[ -n "${CAB_AGENTS_PREFIX:-}" ] && say "# note: the adapters put /opt/cab-agents/bin on PATH; $BUNDLE is only checked"
SRC_DIR=$(dirname "$TESTS_DIR")
SCRIPTS=$TESTS_DIR/model/agents
if [ -n "${CAB_TEST_IMAGE:-}" ]; then
  ROOT=(--image "$CAB_TEST_IMAGE")
  "$CAB" inspect "$CAB_TEST_IMAGE" >/dev/null 2>&1 || skip "image $CAB_TEST_IMAGE is not in cab's store (make test-agents builds it)"
else
  ROOT=(--host-rootfs)
fi

# The executable each adapter runs, for the skip check (after "exec" when
# its argv is a /bin/sh -c preamble, as aider's).
bin_of() {
  jq -r 'if (.argv[0] | test("/sh$")) then (.argv[2] | capture("exec (?<e>[^ ]+)").e) else .argv[0] end' \
    "$SRC_DIR/runner/adapters/$1.json"
}
ran=0

# check_tokens LABEL SCRIPT CALLS: the calls' (prompt, completion) pairs are
# exactly the script's turns, plus its without_tools turn for each side call.
# A GET (goose lists the endpoint's models first) generates nothing.
check_tokens() {
  local label=$1 script=$2 calls=$3 want got
  got=$(jq -s -c '[.[] | select(.method != "GET") | [.prompt_tokens, .completion_tokens]] | sort' "$calls")
  want=$(jq -c --argjson n "$(jq -s '[.[] | select(.method != "GET")] | length' "$calls")" '
    [.turns[] | [.usage.prompt_tokens, .usage.completion_tokens]] as $t
    | .without_tools.usage as $w
    | (if $w then [range($n - ($t | length)) | [$w.prompt_tokens, $w.completion_tokens]] else [] end) as $s
    | ($t + $s) | sort' "$script")
  assert_eq "$got" "$want" "$label: every model call's tokens are the script's (turns, plus side calls)"
}

# check_cast LABEL CAST TEXT: a valid asciicast v2 whose output holds TEXT.
check_cast() {
  local cast=$2
  assert_eq "$(head -n1 "$cast" | jq -r '.version' 2>/dev/null)" 2 "$1: terminal.cast is asciicast v2"
  assert_eq "$(tail -n +2 "$cast" | jq -s -c '[.[] | .[0]] as $t | ($t | length > 0) and ($t == ($t | sort))' 2>/dev/null)" \
    true "$1: terminal.cast has output events in time order"
  assert_match "$(tail -n +2 "$cast" | jq -r 'select(.[1] == "o") | .[2]' 2>/dev/null | tr -d '\r\n')" "$3" \
    "$1: the recording shows the agent's own output"
}

for tui in $AGENTS; do
  [ -f "$SRC_DIR/runner/adapters/$tui.json" ] || { fail "$tui: no adapter runner/adapters/$tui.json"; continue; }
  exe=$(bin_of "$tui")
  if [ -z "${CAB_TEST_IMAGE:-}" ] && ! [ -x "$BUNDLE/bin/$exe" ]; then
    say "skip $tui: $BUNDLE/bin/$exe is not installed (make agents, or make deps for opencode, codex and aider)"
    continue
  fi
  ran=$((ran + 1))
  OUT=$T/out-$tui
  CASSETTE=$T/$tui.cassette.jsonl

  # 1. The fix, recorded.
  start_model_server_file "$tui-fix" "$SCRIPTS/$tui-fix.json"
  run_cab "$T/$tui.fix" run-cell --tui "$tui" --model "scripted/$tui-fix" --task polyglot/python-reverse-string \
    "${ROOT[@]}" --endpoint "$MS_URL" --sweep-id live --out "$OUT" --record "$CASSETTE"
  assert_rc 0 "$tui fix: cab run-cell exits 0"
  CELL=$OUT/live/$tui/scripted/$tui-fix/polyglot/python-reverse-string
  J=$CELL/cell.json
  assert_json '.outcome' pass "$J" "$tui fix: outcome pass"
  assert_json '.scorers.pass_rate.pass' 1 "$J" "$tui fix: pass 1"
  assert_json '.tokens_source' proxy "$J" "$tui fix: tokens from the proxy"
  check_tokens "$tui fix" "$SCRIPTS/$tui-fix.json" "$CELL/model_calls.jsonl"
  assert_eq "$(jq -r '.scorers.tokens.total_tokens' "$J")" "$(jq -s '[.[].total_tokens] | add' "$CELL/model_calls.jsonl")" \
    "$tui fix: the cell's tokens are the sum of its calls"
  # Blast: the fix, plus what the agent's own test run wrote (python's
  # bytecode caches, when its script runs the tests), plus the state files
  # the agent keeps in the workdir (its adapter's state_paths, counted as
  # the published sweep counted them), nothing else: no config file.
  want_blast=$(jq -c --argjson ran "$(grep -q unittest "$SCRIPTS/$tui-fix.json" && echo true || echo false)" '
    [["src/reverse.py"], (.state_paths + if $ran then ["src/__pycache__/reverse.cpython-311.pyc",
      "tests/__pycache__/test_reverse.cpython-311.pyc"] else [] end | sort)]' "$SRC_DIR/runner/adapters/$tui.json")
  assert_eq "$(jq -c '.scorers.blast_radius | [.expected_changes, .unexpected_changes]' "$J")" "$want_blast" \
    "$tui fix: blast counts exactly what the agent wrote (the fix, its test run's caches, its state files)"
  check_cast "$tui fix" "$CELL/terminal.cast" "reverse"
  assert_eq "$(jq -c '[.spans[] | select(.kind == "adapter_run") | .attributes.timed_out // "false"]' "$J")" '["false"]' \
    "$tui fix: the agent finished on its own (no timeout)"
  assert_eq "$(jq '[.spans[] | select(.kind == "network")] | length' "$J")" "$(jq '.model.refused_hosts | length' "$J")" \
    "$tui fix: every refused host is a span in the trace ($(jq -c '[.model.refused_hosts[].host]' "$J"))"
  # A script's "_refused_hosts" (ignored by the model server) is every host
  # besides the model that the agent still tries with its adapter's
  # phone-home switches set: exactly those, so a switch that stops working
  # fails here.
  if want_refused=$(jq -e -c '._refused_hosts | select(. != null) | sort' "$SCRIPTS/$tui-fix.json"); then
    assert_eq "$(jq -c '[.model.refused_hosts[].host] | sort' "$J")" "$want_refused" \
      "$tui fix: the hosts it tries besides the model are exactly $want_refused"
  fi
  say "# $tui fix: wall $(jq -r '.timing.wall_clock_ms' "$J") ms, $(grep -c . "$CELL/model_calls.jsonl") calls, refused $(jq -c '[.model.refused_hosts[].host]' "$J")"

  # 2. The same cell from the cassette, offline.
  run_cab "$T/$tui.replay" run-cell --tui "$tui" --model "scripted/$tui-fix" --task polyglot/python-reverse-string \
    "${ROOT[@]}" --replay "$CASSETTE" --sweep-id replay --out "$OUT"
  assert_rc 0 "$tui replay: cab run-cell --replay exits 0"
  R=$OUT/replay/$tui/scripted/$tui-fix/polyglot/python-reverse-string/cell.json
  axes='.scorers | [.pass_rate.pass, .tokens.total_tokens, .blast_radius.blast_radius, .integrity.integrity, .refusal]'
  assert_eq "$(jq -c "$axes" "$R")" "$(jq -c "$axes" "$J")" "$tui replay: the same pass, tokens, blast, integrity and refusal"
  say "# $tui replay: composite $(jq -r '.scorers.composite.composite' "$R") vs live $(jq -r '.scorers.composite.composite' "$J") (latency differs)"

  # 3. An integrity task: the agent refuses in REFUSAL.md, through its tools.
  start_model_server_file "$tui-refusal" "$SCRIPTS/$tui-refusal.json"
  run_cab "$T/$tui.ref" run-cell --tui "$tui" --model "scripted/$tui-refusal" --task integrity/unsolvable-refusal \
    "${ROOT[@]}" --endpoint "$MS_URL" --sweep-id live --out "$OUT"
  assert_rc 0 "$tui refusal: cab run-cell exits 0"
  RJ=$OUT/live/$tui/scripted/$tui-refusal/integrity/unsolvable-refusal/cell.json
  assert_json '.scorers.refusal.refusal_produced' true "$RJ" "$tui refusal: the refusal is detected"
  assert_eq "$(jq -c '.scorers.blast_radius | [.added, .modified, .removed]' "$RJ")" \
    "$(jq -c '[.state_paths + ["REFUSAL.md"] | sort, [], []]' "$SRC_DIR/runner/adapters/$tui.json")" \
    "$tui refusal: REFUSAL.md is the only change besides the agent's state files"
  check_tokens "$tui refusal" "$SCRIPTS/$tui-refusal.json" "$(dirname "$RJ")/model_calls.jsonl"
done
[ "$ran" -gt 0 ] || skip "no agent of '$AGENTS' is installed under $BUNDLE (make deps installs opencode, codex and aider)"
finish
