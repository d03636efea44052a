#!/bin/bash
# A cell's trace and record as the published cell page has them, on oracle
# cells on the host's root (no image: container_image as named is checked
# in cell_agent.sh, which imports one):
#   * the schema, tests/fixtures/golden/published-trace.json (the published
#     "Trace spans" table): every published span kind is in cell.json's
#     spans with its published name, the published attribute keys first and
#     in order, each of the published JSON type, and the published parent
#     (container and tool_call under adapter_run; the published roots under
#     cab's "cell" span); trace.otlp.json types them as OTLP does;
#   * an attack: the task tree, the adapter files, the scratch and the
#     results all lie below a directory named like a secret; nothing of it
#     (nor of this test's directory, cab's tree or $HOME) reaches
#     trace.otlp.json or cell.json's spans;
#   * the limits the cell ran with are in cell.json beside the mechanisms
#     that enforced them (memory_bytes, cpus, pids_max), the defaults and
#     those of --memory/--cpus/--pids;
#   * the report's "Run it yourself" command carries those limits, and run as
#     printed (with --replay, from the page's directory) reproduces the
#     cell: the same scores but for wall time, the same limits.
# shellcheck disable=SC2016 # jq programs are quoted on purpose
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

SRC_DIR=$(cd "$TESTS_DIR/.." && pwd)
GOLDEN=$TESTS_DIR/fixtures/golden/published-trace.json
command -v jq >/dev/null 2>&1 || skip "jq not installed (make deps)"
command -v python3 >/dev/null 2>&1 || skip "python3 not installed (the tasks' toolchain)"
[ -x "$CAB" ] || bail "cab binary not found at $CAB (run make)"
"$CAB" run-cell --help >/dev/null 2>&1 || skip "this cab has no run-cell command yet"
setup_cab_home
unset CAB_ENDPOINT CAB_KEY CAB_TASKS_DIR CAB_ADAPTERS_DIR
TASK=polyglot/python-reverse-string

# --- the attack: everything of the cell's below a secret-looking directory ----------------------
SECRET_NAME=sk-live-TOPSECRET-7d41e9
SECRET=$T/$SECRET_NAME
mkdir -p "$SECRET/tasks/polyglot" "$SECRET/adapters" "$SECRET/tmp"
cp -a "$SRC_DIR/tasks/$TASK" "$SECRET/tasks/polyglot/"
cp "$SRC_DIR/runner/adapters/oracle.json" "$SECRET/adapters/"
chmod -R a+rX "$T"
OUT=$SECRET/results
TMPDIR=$SECRET/tmp CAB_ADAPTERS_DIR=$SECRET/adapters run_cab "$T/secret.out" run-cell --tui oracle \
  --model cab/none --task "$TASK" --host-rootfs --tasks-dir "$SECRET/tasks" --sweep-id trace --out "$OUT"
assert_rc 0 "the oracle cell below $SECRET_NAME exits 0"
D=$OUT/trace/oracle/cab/none/$TASK
[ -f "$D/cell.json" ] && [ -f "$D/trace.otlp.json" ] || bail "no cell.json or trace.otlp.json in $D"
assert_json .outcome pass "$D/cell.json" "the cell passes"
assert_eq "$(grep -c "$SECRET_NAME" "$D/trace.otlp.json")" 0 "trace.otlp.json never names the secret directory"
assert_eq "$(jq -c .spans "$D/cell.json" | grep -c "$SECRET_NAME")" 0 "cell.json's spans never name the secret directory"
HOST_PATHS='[.. | strings | select(. as $v | any($roots[]; . as $r | $v | contains($r)))]'
for f in "$D/trace.otlp.json" "$D/cell.json"; do
  what=$(basename "$f")
  [ "$what" = cell.json ] && prog=".spans | $HOST_PATHS" || prog=$HOST_PATHS
  leaked=$(jq -c --argjson roots "$(jq -n -c --arg t "$T" --arg s "$SRC_DIR" --arg b "$CAB_BUILD" \
    --arg h "${HOME:-/nonexistent-home}" '[$t, $s, $b, $h] | map(select(length > 1))')" "$prog" "$f")
  assert_eq "$leaked" '[]' "$what: no string holds a host path (this test's directory, cab's tree or \$HOME)"
done

# --- the published schema ------------------------------------------------------------------------
# Each published span: present, named as published (its TUI and task ours),
# the published keys first and in order, of the published types, under the
# published parent ("cell" for the published roots).
SCHEMA_JQ='
  (.spans | map({key: .span_id, value: .}) | from_entries) as $by
  | ($pub.spans | map({key: .span_id, value: .}) | from_entries) as $pby
  | [ $pub.spans[] as $p
      | ([.spans[] | select(.kind == $p.kind)][0]) as $s
      | ($p.attributes | keys_unsorted) as $keys
      | if $s == null then "\($p.kind): missing"
        elif $s.name != ($p.name | gsub("opencode"; "oracle") | gsub("polyglot/rust-owner-borrow-fix"; $task))
          then "\($p.kind): named \($s.name)"
        elif ($s.attributes | keys_unsorted)[0:($keys | length)] != $keys
          then "\($p.kind): keys \($s.attributes | keys_unsorted)"
        elif [$keys[] as $k | $s.attributes[$k] | type] != [$keys[] as $k | $p.attributes[$k] | type]
          then "\($p.kind): types \([$keys[] as $k | $s.attributes[$k] | type])"
        elif ($by[$s.parent_id // ""].kind // null) != (if $p.parent_id then $pby[$p.parent_id].kind else "cell" end)
          then "\($p.kind): parent \($by[$s.parent_id // ""].kind // null)"
        else empty end ]'
if jq -e . "$GOLDEN" >/dev/null 2>&1; then
  assert_eq "$(jq -c --slurpfile pub "$GOLDEN" --arg task "$TASK" "\$pub[0] as \$pub | $SCHEMA_JQ" "$D/cell.json")" '[]' \
    "cell.json's spans match the published trace: names, attribute keys in order, types, parents"
else
  fail "the golden $GOLDEN is not JSON"
fi
assert_json '[.spans[] | select(.kind == "task_setup")][0].attributes | [.workdir, .task_category, .plugin_stack, .behavior_mode]' \
  '["/work","polyglot",[],"factory"]' "$D/cell.json" \
  "task_setup: the workdir as the agent sees it (not the host's scratch), the family, no plugins, factory mode"
assert_json '[.spans[] | select(.kind == "container")][0].attributes | [.image, .model, .base_url, .exit_code, .timed_out, .image_digest, (.duration_s > 0)]' \
  '["host-rootfs","cab/none","",0,false,"",true]' "$D/cell.json" \
  "container: host-rootfs, the model, no endpoint (a wire-less agent), exit 0, not timed out, no digest, a duration"
assert_json '[.spans[] | select(.kind == "adapter_run")][0].attributes | [.timeout_s, .exit_code]' \
  "[$(jq .timeout_s "$SRC_DIR/tasks/$TASK/task.json"),0]" "$D/cell.json" "adapter_run: the task's timeout_s and the agent's exit code"
# OTLP/JSON's typed values (Jaeger and Tempo read these).
OTLP_JQ='[.resourceSpans[0].scopeSpans[0].spans[]
          | {kind: (.attributes[] | select(.key == "cab.span.kind") | .value.stringValue),
             attrs: (.attributes | map({key: .key, value: (.value | keys[0])}) | from_entries)}]
  | ([.[] | select(.kind == "container")][0].attrs | [.exit_code, .duration_s, .timed_out, .image])
    + ([.[] | select(.kind == "task_setup")][0].attrs | [.plugin_stack, .workdir])
    + ([.[] | select(.kind == "adapter_run")][0].attrs | [.timeout_s])'
assert_json "$OTLP_JQ" '["intValue","doubleValue","boolValue","stringValue","arrayValue","stringValue","intValue"]' \
  "$D/trace.otlp.json" "trace.otlp.json: intValue, doubleValue, boolValue, arrayValue as OTLP types them"

# --- the limits, recorded ---------------------------------------------------------------------
assert_json '.environment.limits | [.memory_bytes, .cpus, .pids_max, (.memory | type), (.pids | type)]' \
  '[4294967296,null,4096,"string","string"]' "$D/cell.json" \
  "cell.json: the default limits' values (4 GiB, no cpu limit, 4096 pids) beside their mechanisms"
OUT2=$T/out
run_cab "$T/limits.out" run-cell --tui oracle --model cab/none --task polyglot/shell-word-count --host-rootfs \
  --memory 512M --cpus 1.5 --pids 300 --timeout 97 --sweep-id limits --out "$OUT2"
assert_rc 0 "an oracle cell with --memory 512M --cpus 1.5 --pids 300 --timeout 97 exits 0"
L=$OUT2/limits/oracle/cab/none/polyglot/shell-word-count
assert_json '.environment.limits | [.memory_bytes, .cpus, .pids_max, .timeout_s]' '[536870912,1.5,300,97]' "$L/cell.json" \
  "cell.json: the limits --memory, --cpus, --pids and --timeout gave"

# --- "Run it yourself", run as printed ---------------------------------------------------------
run_cab "$T/report.out" report "$OUT2" --out "$T/site"
assert_rc 0 "cab report on the limits cell"
PAGE=$(grep -rl 'id="cmd-replay"' "$T/site" 2>/dev/null | grep shell-word-count | head -n1)
[ -n "$PAGE" ] || bail "no cell page with a replay command under $T/site"
python3 - "$PAGE" >"$T/replay.cmd" <<'EOF'
import html, re, sys
text = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r'<pre class="cmd" id="cmd-replay"><code>(.*?)</code></pre>', text, re.S)
print(html.unescape(m.group(1)) if m else "")
EOF
CMD=$(cat "$T/replay.cmd")
assert_match "$(tr -d '\n' <"$T/replay.cmd")" '^cab run-cell .*--host-rootfs \\ +--memory 512M \\ +--cpus 1\.5 \\ +--pids 300 \\ +--timeout 97 \\ +--max-turns [0-9]+ \\ +--replay cassette\.jsonl$' \
  "the page's reproduce command carries --memory 512M --cpus 1.5 --pids 300 --timeout 97 and the max turns it ran with"
# As printed, from the page's directory (where its cassette is), with cab on PATH.
mkdir -p "$T/bin"
ln -sf "$CAB" "$T/bin/cab"
(cd "$(dirname "$PAGE")" && PATH=$T/bin:$PATH timeout -k 5 "$CAB_TEST_TIMEOUT" bash -c "$CMD") \
  >"$T/replay.out" 2>"$T/replay.out.err" </dev/null
RC=$? LAST_OUT=$T/replay.out
assert_rc 0 "the reproduce command, run as printed, exits 0"
R=$(sed -n '$p' "$T/replay.out")
case $R in /*) ;; *) R=$(dirname "$PAGE")/$R ;; esac
if [ -f "$R" ]; then
  WALL_FREE='.scorers | del(.latency) | del(.composite.composite, .composite.components.wall_clock_ms, .composite.components.latency_efficiency)'
  assert_eq "$(jq -S -c "$WALL_FREE" "$R")" "$(jq -S -c "$WALL_FREE" "$L/cell.json")" \
    "the reproduced cell's scores equal the original's (but for wall time)"
  assert_eq "$(jq -c .environment.limits "$R")" "$(jq -c .environment.limits "$L/cell.json")" \
    "the reproduced cell ran with the same limits"
else
  fail "the reproduce command printed no cell.json path ($(tail -n 3 "$T/replay.out" "$T/replay.out.err" | tr '\n' '|'))"
fi

finish
