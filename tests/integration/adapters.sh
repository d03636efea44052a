#!/bin/bash
# Adapters are data: every runner/adapters/*.json loads and renders (argv,
# env, config files) with the model network's addresses and the placeholder
# key, JSON config files parse, nothing is written under the workdir; the
# adapters not run against their real binary here (plandex, crush; and
# goose's and openhands' config files) write the config and argv their
# documentation asks for; aider's phone-home switches and workdir layout
# stay as verified; a "json" config value is JSON-escaped; a new data file
# is a new TUI with no code change; an agent missing from the image is an
# agent_error saying "command not found", never a silent fail.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
setup --bare
SRC_DIR=$(dirname "$TESTS_DIR")
"$CAB" adapters list >"$T/list" 2>&1 || bail "cab adapters list failed: $(head -c 300 "$T/list")"
GW=http://169.254.77.1:80/v1
M=openai/gpt-oss-120b

for f in "$SRC_DIR"/runner/adapters/*.json; do
  tui=$(basename "$f" .json)
  run_cab "$T/$tui.json" adapters render "$tui" --model "$M" --max-turns 7
  [ "$RC" = 0 ] || { fail "$tui: cab adapters render failed: $(head -c 300 "$T/$tui.json.err")"; continue; }
  R=$T/$tui.json
  wire=$(jq -r .wire "$R")
  bad=$(jq -r '.files[] | select(.path | endswith(".json")) | .content' "$R" | jq -e . >/dev/null 2>&1 || echo bad)
  if [ -n "$bad" ]; then fail "$tui: a rendered .json config file does not parse"; fi
  assert_eq "$(jq -r --arg w "$(jq -r .workdir "$R")/" '[.files[] | select(.path | startswith($w))] | length' "$R")" 0 \
    "$tui: no config file under the workdir"
  if [ "$wire" != none ]; then
    # Every URL it gives the agent is cab's gateway (a "$schema" is not a
    # destination); none leaves the sandbox's own base-URL variables
    # (OPENAI_BASE_URL, ANTHROPIC_BASE_URL...) pointing elsewhere.
    urls=$(jq -r '.argv[], (.env | to_entries[].value), (.files[].content)' "$R" | grep -v '"\$schema"' |
      grep -oE 'https?://[^"[:space:],}]+' | sort -u | tr '\n' ' ')
    assert_no_match "$urls" 'https?://([^1m]|1[^6]|m[^o])' "$tui: every URL it is given is the gateway ($urls)"
    assert_no_match "$(jq -c . "$R")" 'sk-[A-Za-z0-9]{20}' "$tui: holds no real-looking key"
  fi
done
assert_eq "$(grep -c broken "$T/list")" 0 "cab adapters list: no adapter is broken"
for t in opencode aider codex claude-code goose crush qwen-code gemini-cli copilot pi openhands plandex oracle nop cab-agent; do
  assert_match "$(cat "$T/list")" "^$t " "cab adapters list names $t"
done

# aider (verified, tests/integration/agent_cells.sh): the gateway through
# litellm's openai/ provider; every phone-home switch found in aider-chat
# 0.86.0 and litellm 1.75.0 (version check, analytics, release notes, URL
# scraping, litellm's and aider's model price maps, Hugging Face tokenizers);
# HOME is the workdir and the workdir a git repository, so its ~/.aider
# state and its repo map's cache land there as published.
A=$T/aider.json
assert_eq "$(jq -c '[.argv[0], .argv[3], (.argv | index("--openai-api-base")) as $i | .argv[$i + 1], (.argv | index("--model")) as $j | .argv[$j + 1]]' "$A")" \
  "[\"/bin/sh\",\"aider\",\"$GW\",\"openai/$M\"]" "aider: --openai-api-base is the gateway, the model through litellm's openai/ provider"
assert_match "$(jq -r '.argv[2]' "$A")" '^git init -q && .*git commit .*; exec aider "\$@"$' \
  "aider: a sh preamble commits the task to a new repository (a repo map, as published), then execs aider (whatever git said)"
for flag in --yes-always --no-gitignore --no-auto-commits --no-check-update --analytics-disable --no-show-release-notes --no-detect-urls --message; do
  assert_match "$(jq -r '.argv | join(" ")' "$A")" "(^| )$flag( |$)" "aider: $flag"
done
assert_eq "$(jq -c '[.env.HOME, .env.LITELLM_LOCAL_MODEL_COST_MAP, .env.HF_HUB_OFFLINE]' "$A")" '["/work","True","1"]' \
  "aider: HOME is the workdir; litellm's price map and Hugging Face stay offline"
assert_eq "$(jq -r '(.argv | index("--model-metadata-file")) as $i | .argv[$i + 1] as $f | .files[] | select(.path == $f) | .content' "$A" |
  jq -c --arg m "openai/$M" '.[$m] | length > 0')" true "aider: its model's metadata is a config file in cab's home (no fetch from GitHub)"

# Not yet run against their real binaries here: their config and argv, as
# their documentation asks.
G=$T/goose.json
assert_eq "$(jq -c '[.argv[0], .argv[1], .env.GOOSE_PROVIDER, .env.GOOSE_MODEL, .env.GOOSE_MODE, .env.OPENAI_BASE_PATH, .env.GOOSE_DISABLE_KEYRING]' "$G")" \
  "[\"goose\",\"run\",\"openai\",\"$M\",\"auto\",\"v1/chat/completions\",\"1\"]" "goose: openai provider, auto mode, chat path, no keyring"
assert_match "$(jq -r '.env.OPENAI_HOST' "$G")" '^http://(169\.254\.77\.1|model\.cab\.internal)' "goose: OPENAI_HOST is the gateway"
assert_match "$(jq -r '.files[0].path' "$G")" '^/home/agent/.config/goose/config.yaml$' "goose: config.yaml in its home"
O=$T/openhands.json   # run here (make test-agents); 1.7.0 reads its LLM from agent_settings.json only
assert_eq "$(jq -c '[.argv[0], (.argv | index("--headless") != null), .env.LITELLM_LOCAL_MODEL_COST_MAP]' "$O")" \
  '["openhands",true,"True"]' "openhands: headless, litellm's bundled price map"
assert_eq "$(jq -r '.files[] | select(.path == "/home/agent/.openhands/agent_settings.json") | .content' "$O" |
  jq -c '[.llm.model, .llm.base_url, .llm.api_key, .condenser.llm.base_url]')" \
  "[\"openai/$M\",\"$GW\",\"cab-placeholder-key\",\"$GW\"]" "openhands: agent_settings.json at the gateway with the placeholder key"
P=$T/plandex.json
assert_match "$(jq -r '.argv | join(" ")' "$P")" 'plandex tell --apply --auto-exec' "plandex: tell --apply --auto-exec"
C=$T/crush.json
assert_eq "$(jq -r '.files[] | select(.path | endswith("crush.json")) | .content' "$C" | jq -c --arg m "$M" '[.providers.cab.type, .providers.cab.base_url, (.providers.cab.models | map(.id) | index($m) != null)]')" \
  "[\"openai-compat\",\"$GW\",true]" "crush: an openai-compat provider at the gateway holding the model"
assert_eq "$(jq -r '.env.CRUSH_DISABLE_PROVIDER_AUTO_UPDATE' "$C")" 1 "crush: no provider catalogue fetch"
for t in plandex crush; do
  assert_eq "$(jq -r '.verified' "$SRC_DIR/runner/adapters/$t.json")" false "$t: marked not yet verified against its binary"
done

# A new data file is a new TUI.  Its "json" config value is JSON-escaped
# (a model id with a quote stays valid JSON).
AD=$T/adapters
mkdir -p "$AD"
cat >"$AD/shell-agent.json" <<'EOF'
{
  "schema": "cab.adapter/v1",
  "tui": "shell-agent",
  "description": "test: writes its config and one file with the shell",
  "wire": "none",
  "files": [{"path": "{home}/.config/agent.json", "json": {"model": "{model}", "{model}": {"turns": "{max_turns}"}}}],
  "argv": ["/bin/sh", "-c", "cat {home}/.config/agent.json > /tmp/seen.json; echo done > {workdir}/agent-was-here.txt"]
}
EOF
cat >"$AD/ghost.json" <<'EOF'
{"schema": "cab.adapter/v1", "tui": "ghost", "description": "test: its binary is not installed", "wire": "none",
 "argv": ["no-such-agent-cli", "--yolo"]}
EOF
export CAB_ADAPTERS_DIR=$AD
# An adapter's wire is one of the wire registry's names (or none).
mkdir -p "$T/badwire"
jq '.wire = "grpc"' "$AD/ghost.json" >"$T/badwire/ghost.json"
CAB_ADAPTERS_DIR=$T/badwire run_cab "$T/bw.out" adapters show ghost
assert_rc 125 "an adapter with an unknown wire is refused"
assert_match "$(cat "$T/bw.out.err")" 'wire: "grpc" is not chat, responses, anthropic, gemini or none' \
  "an unknown wire: one line naming the registry's wires"
run_cab "$T/sa.json" adapters render shell-agent --model 'we"ird/model' --max-turns 3
assert_rc 0 "a new adapter file renders"
assert_eq "$(jq -r '.files[0].content' "$T/sa.json" | jq -c .)" '{"model":"we\"ird/model","we\"ird/model":{"turns":"3"}}' \
  "a json config value: placeholders filled in keys and values, JSON-escaped"
run_cab "$T/sa.run" run-cell --tui shell-agent --model none/x --task polyglot/shell-word-count --host-rootfs \
  --sweep-id s --out "$T/out"
assert_rc 0 "cab run-cell --tui shell-agent runs the new TUI"
assert_eq "$(jq -c '.scorers.blast_radius.added' "$T/out/s/shell-agent/none/x/polyglot/shell-word-count/cell.json")" \
  '["agent-was-here.txt"]' "the new TUI's change is scored (its config file in HOME is not)"
run_cab "$T/gh.run" run-cell --tui ghost --model none/x --task polyglot/shell-word-count --host-rootfs \
  --sweep-id s --out "$T/out"
GJ=$T/out/s/ghost/none/x/polyglot/shell-word-count/cell.json
# A setup problem, found before the agent starts: no cell to score.
assert_rc 125 "a missing agent binary: run-cell exits 125"
assert_match "$(cat "$T/gh.run.err")" "the agent's command .* is not in the host's /" "a missing agent binary: one line says so"
[ -e "$GJ" ] && fail "a missing agent binary: no cell.json may be written" || pass "a missing agent binary: no cell.json"

# A crashed agent still gets its workdir scored: what it wrote before it died
# counts, and the verifier runs.
cat >"$AD/crasher.json" <<'EOF'
{"schema": "cab.adapter/v1", "tui": "crasher", "description": "test: writes a file, then dies of SIGSEGV", "wire": "none",
 "argv": ["/bin/sh", "-c", "echo partial > {workdir}/partial.txt; kill -SEGV $$"]}
EOF
run_cab "$T/cr.run" run-cell --tui crasher --model none/x --task polyglot/shell-word-count --host-rootfs \
  --sweep-id s --out "$T/out"
assert_rc 0 "a crashed agent: the cell is recorded"
CJ=$T/out/s/crasher/none/x/polyglot/shell-word-count/cell.json
assert_eq "$(jq -c '[.exit_code, .scorers.blast_radius.added, .scorers.pass_rate.pass, (.verify.exit_code != null)]' "$CJ")" \
  '[139,["partial.txt"],0,true]' "a crashed agent: exit 139, its partial work scored, the verifier ran"
assert_match "$(jq -r .outcome "$CJ")" '^(fail|agent_error)$' "a crashed agent: outcome $(jq -r .outcome "$CJ") (not pass)"

# An agent that stops at an interactive prompt (no one answers it) is caught
# by the task's timeout; the recording shows where it stopped.
cp -a "$SRC_DIR/tasks" "$T/tasks"
jq '.timeout_s = 3' "$SRC_DIR/tasks/polyglot/shell-word-count/task.json" >"$T/tasks/polyglot/shell-word-count/task.json"
cat >"$AD/prompter.json" <<'EOF'
{"schema": "cab.adapter/v1", "tui": "prompter", "description": "test: waits at an interactive prompt", "wire": "none",
 "argv": ["/bin/sh", "-c", "printf 'Overwrite src/wordcount.sh? [y/N] '; read answer; echo got $answer"]}
EOF
run_cab "$T/pr.run" run-cell --tui prompter --model none/x --task polyglot/shell-word-count --host-rootfs \
  --tasks-dir "$T/tasks" --sweep-id s --out "$T/out"
assert_rc 0 "a prompting agent: the cell is recorded"
PJ=$T/out/s/prompter/none/x/polyglot/shell-word-count/cell.json
assert_json '.outcome' timeout "$PJ" "a prompting agent: outcome timeout"
assert_cmp "$MS" -lt 30000 "a prompting agent: the cell ends soon after the 3 s timeout (${MS} ms)"
assert_match "$(tail -n +2 "$(dirname "$PJ")/terminal.cast" | jq -r 'select(.[1] == "o") | .[2]' | tr -d '\r\n')" \
  'Overwrite src/wordcount.sh\? \[y/N\] $' "a prompting agent: terminal.cast ends at the prompt it stopped on"
finish
