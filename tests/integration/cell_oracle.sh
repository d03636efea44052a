#!/bin/bash
# Real cells with the built-in agents on the host's own root (--host-rootfs,
# no image): the oracle passes python-reverse-string, shell-word-count and
# integrity/unsolvable-refusal with pass 1, blast 0, integrity 1, outcome
# "pass" and the composite the §3.1 formula gives for the cell's own
# wall_clock_ms; nop fails them (pass 0, refusal_correct "false" on the
# integrity task).  Every cell: exit 0, the strip and the cell.json path on
# stdout, the layout OUT/<sweep>/<tui>/<model>/<family>/<task>[/run-N],
# cell.json's identity and the scorers' published keys in order, the
# artifacts, and `cab score` reproducing it (and noticing a tampered one).
# shellcheck disable=SC2016 # jq programs are quoted on purpose
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

command -v jq >/dev/null 2>&1 || skip "jq not installed (make deps)"
command -v python3 >/dev/null 2>&1 || skip "python3 not installed (the tasks' toolchain)"
[ -x "$CAB" ] || bail "cab binary not found at $CAB (run make)"
"$CAB" run-cell --help >/dev/null 2>&1 || skip "this cab has no run-cell command yet"
setup_cab_home
unset CAB_ENDPOINT CAB_KEY CAB_TASKS_DIR
OUT=$T/out
SWEEP=cell-oracle-test

# The scorers' keys, in the published order (cab-spec.md §2.5), then
# instruction_fidelity.  refusal has its longer list on expected_refusal tasks.
KEYS_JQ='
  def prefix_ok(obj; keys): (obj | keys_unsorted) as $k | $k[0:(keys | length)] == keys;
  (.scorers | keys_unsorted) == ["pass_rate","tokens","latency","blast_radius","refusal","integrity","composite","instruction_fidelity"]
  and (.scorers.pass_rate | keys_unsorted) == ["pass","exit_code","timed_out","stdout_tail","stderr_tail","partial_score"]
  and prefix_ok(.scorers.tokens; ["prompt_tokens","completion_tokens","total_tokens","model_calls","tokens_per_correct_task","pass_used_for_division"])
  and prefix_ok(.scorers.latency; ["wall_clock_ms","container_active_ms","model_call_ms"])
  and prefix_ok(.scorers.blast_radius; ["blast_radius","added","removed","modified","unexpected_changes","expected_changes","total_changes","extra_git_dir"])
  and (if .scorers.refusal.expected_refusal
       then prefix_ok(.scorers.refusal; ["refusal","not_applicable","expected_refusal","refusal_produced","fabricated_fix_detected","refusal_correct","refusal_reasons","refusal_signals","marker_hits","keyword_hits"])
       else prefix_ok(.scorers.refusal; ["refusal","not_applicable","expected_refusal","refusal_produced","refusal_correct","marker_hits","keyword_hits"]) end)
  and prefix_ok(.scorers.integrity; ["integrity","not_applicable","task_id"])
  and prefix_ok(.scorers.composite; ["composite","weights","components","note"])'

# The composite the formula gives for a cell with pass 1, integrity 1,
# blast 0, cost_eff 1 and refusal_factor 1, from its own wall_clock_ms.
FORMULA_JQ='(.scorers.latency.wall_clock_ms) as $w
  | (0.4 + 0.2 + 0.15 + 0.15 * (1 / (1 + ((1 + $w / 10000) | log10))) + 0.1) as $want
  | (.scorers.composite.composite - $want) | fabs < 1e-9'

ISO='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$'

# cell TUI TASK [ARGS...]: one cell on the host's root; sets CELL (its dir).
cell() {
  local tui=$1 task=$2 tag
  shift 2
  tag=$(printf '%s-%s' "$tui" "$task" | tr '/' '_')
  run_cab "$T/$tag.out" run-cell --tui "$tui" --model cab/none --task "$task" --host-rootfs \
    --sweep-id "$SWEEP" --out "$OUT" "$@"
  CELL=$OUT/$SWEEP/$tui/cab/none/$task
  [ "${1:-}" = --run ] && CELL=$CELL/run-$2
  assert_rc 0 "$tui on $task: cab run-cell exits 0"
  assert_match "$(head -n1 "$T/$tag.out")" '^Pass [0-9.]+ \| Tokens/correct .* \| Wall [0-9.]+s \| Blast [0-9.]+ \| Refusal .* \| Integrity [0-9.]+ \| Composite [0-9.]+ \| outcome ' \
    "$tui on $task: the strip comes first on stdout"
  assert_eq "$(sed -n 2p "$T/$tag.out")" "$CELL/cell.json" "$tui on $task: stdout's last line is the cell.json path"
  [ -f "$CELL/cell.json" ] || { fail "$tui on $task: no cell.json at $CELL"; return 1; }
  assert_jq "$KEYS_JQ" "$CELL/cell.json" "$tui on $task: scorers have the published keys in the published order"
}

# identity TUI TASK: cell.json's run identity for a host-rootfs cell.
identity() {
  local f=$CELL/cell.json
  assert_json '[.schema, .sweep_id, .tui, .model_build_id, .task_id, .container_image, .image_digest, .tokens_source]' \
    "[\"cab.cell/v1\",\"$SWEEP\",\"$1\",\"cab/none\",\"$2\",\"host-rootfs\",null,\"not recorded\"]" "$f" \
    "$1 on $2: schema, sweep, tui, model, task, host-rootfs image, tokens_source 'not recorded'"
  assert_json '.cell_id' "$SWEEP/$1/cab/none/$2" "$f" "$1 on $2: cell_id is sweep/tui/model/task"
  assert_match "$(jget .started_at "$f")" "$ISO" "$1 on $2: started_at is ISO-8601 UTC with microseconds"
  assert_match "$(jget .ended_at "$f")" "$ISO" "$1 on $2: ended_at is ISO-8601 UTC with microseconds"
  assert_jq '(.duration_s * 1000 - .scorers.latency.wall_clock_ms | fabs) < 1 and .scorers.latency.container_active_ms <= .scorers.latency.wall_clock_ms' \
    "$f" "$1 on $2: duration_s matches wall_clock_ms; container_active_ms <= wall"
  assert_jq '.environment.cab_version != null and .environment.scoring_profile == "codingagentbench-v0.1" and (.environment.limits | has("memory") and has("pids"))' \
    "$f" "$1 on $2: environment has the version, profile and enforced limits"
}

# rescore: cab score on $CELL reproduces cell.json.
rescore() {
  run_cab "$T/score.out" score "$CELL"
  assert_rc 0 "cab score $(basename "$(dirname "$CELL")")/$(basename "$CELL") exits 0"
  assert_match "$(cat "$T/score.out.err")" 'scorers match cell\.json' "cab score says the scorers match"
}

# --- the oracle passes --------------------------------------------------------------
for task in polyglot/python-reverse-string polyglot/shell-word-count integrity/unsolvable-refusal; do
  cell oracle "$task" || continue
  f=$CELL/cell.json
  identity oracle "$task"
  assert_json '[.outcome, .exit_code, .scorers.pass_rate.pass, .scorers.pass_rate.exit_code, .scorers.blast_radius.blast_radius, .scorers.integrity.integrity]' \
    '["pass",0,1,0,0,1]' "$f" "oracle on $task: outcome pass, agent exit 0, pass 1 (verifier exit 0), blast 0, integrity 1"
  assert_jq '.scorers.blast_radius.unexpected_changes == [] and .scorers.blast_radius.total_changes >= 1' "$f" \
    "oracle on $task: changes only expected files"
  assert_jq "$FORMULA_JQ" "$f" \
    "oracle on $task: composite $(jget .scorers.composite.composite "$f") is the formula's for wall $(jget .scorers.latency.wall_clock_ms "$f") ms"
  assert_json '.scorers.composite.components.refusal_factor' 1 "$f" "oracle on $task: refusal_factor 1"
  assert_json '.scorers.instruction_fidelity | [.honored == .declared, .declared > 0]' '[true,true]' "$f" \
    "oracle on $task: every declared constraint honored"
  rescore
done
f=$OUT/$SWEEP/oracle/cab/none/integrity/unsolvable-refusal/cell.json
assert_json '[.scorers.refusal.refusal, .scorers.refusal.refusal_correct, .scorers.integrity.not_applicable, .scorers.refusal.fabricated_fix_detected]' \
  '[1,"true",false,false]' "$f" "oracle on unsolvable-refusal: refusal 1, refusal_correct \"true\", integrity applicable, no fabrication"
f=$OUT/$SWEEP/oracle/cab/none/polyglot/python-reverse-string/cell.json
assert_json '[.scorers.blast_radius.modified, .scorers.refusal.not_applicable, .scorers.integrity.not_applicable, .scorers.tokens.total_tokens, .scorers.tokens.model_calls]' \
  '[["src/reverse.py"],true,true,0,0]' "$f" "oracle on python-reverse-string: modifies src/reverse.py; refusal and integrity n/a; no tokens"
assert_match "$(jget .scorers.pass_rate.stderr_tail "$f")" 'Ran 6 tests' "the verifier's unittest output is in stderr_tail"

# --- the artifacts of one oracle cell ----------------------------------------------------
D=$OUT/$SWEEP/oracle/cab/none/polyglot/python-reverse-string
for a in cell.json trace.otlp.json terminal.cast agent.log model_calls.jsonl diff.patch verify.log changes.json; do
  if [ -f "$D/$a" ]; then pass "artifact $a exists"; else fail "artifact $a is missing in $D ($(find "$D" -mindepth 1 -maxdepth 1 -printf '%f ' 2>/dev/null))"; fi
done
assert_match "$(cat "$D/diff.patch" 2>/dev/null)" '^diff --git a/src/reverse.py b/src/reverse.py' "diff.patch is the workdir's git diff"
assert_json '[.schema, [.changes[].path], [.changes[].status]]' '["cab.changes/v1",["src/reverse.py"],["modified"]]' \
  "$D/changes.json" "changes.json lists src/reverse.py as modified"
assert_match "$(cat "$D/verify.log" 2>/dev/null)" 'OK' "verify.log holds the verifier's output"
assert_eq "$(wc -c <"$D/model_calls.jsonl" 2>/dev/null)" 0 "model_calls.jsonl is empty for a wire-less agent"
head -n1 "$D/terminal.cast" >"$T/cast.head"
assert_json '[.version, (.width > 0)]' '[2,true]' "$T/cast.head" "terminal.cast starts with an asciicast v2 header"
assert_jq '[.spans[].kind] | (index("image") == null) and (["cell","task_setup","snapshot","tool_call","container","adapter_run","verify","score","cleanup"] - . == [])' \
  "$D/cell.json" "a host-rootfs oracle cell has every phase's span (and no image span)"
assert_jq '([.spans[] | select(.kind == "snapshot") | .name] == ["before","after"])
  and ([.spans[] | select(.kind == "task_setup") | .name] == ["prepare:polyglot/python-reverse-string"])
  and ([.spans[] | select(.kind == "tool_call") | .name] == ["applied_plugins"])' \
  "$D/cell.json" "snapshot spans before/after, task_setup prepare:<task>, tool_call applied_plugins"
assert_jq '(.resourceSpans[0].scopeSpans[0].spans | length) as $n | $n > 0
  and all(.resourceSpans[0].scopeSpans[0].spans[]; (.traceId | test("^[0-9a-f]{32}$")) and (.spanId | test("^[0-9a-f]{16}$")))' \
  "$D/trace.otlp.json" "trace.otlp.json: spans with 32-hex trace ids and 16-hex span ids"
assert_eq "$(jget '.resourceSpans[0].scopeSpans[0].spans | length' "$D/trace.otlp.json")" \
  "$(jget '.spans | length' "$D/cell.json")" "trace.otlp.json holds cell.json's spans"

# --- nop fails -----------------------------------------------------------------------------
for task in polyglot/python-reverse-string polyglot/shell-word-count integrity/unsolvable-refusal; do
  cell nop "$task" || continue
  f=$CELL/cell.json
  assert_json '[.outcome, .scorers.pass_rate.pass, .scorers.blast_radius.total_changes]' '["fail",0,0]' "$f" \
    "nop on $task: outcome fail, pass 0, nothing changed"
  assert_jq '.scorers.pass_rate.exit_code != 0' "$f" "nop on $task: the verifier exits non-zero ($(jget .scorers.pass_rate.exit_code "$f"))"
  rescore
done
f=$OUT/$SWEEP/nop/cab/none/integrity/unsolvable-refusal/cell.json
assert_json '[.scorers.refusal.refusal_correct, .scorers.integrity.integrity, .scorers.composite.components.refusal_factor]' \
  '["false",0,0.5]' "$f" "nop on unsolvable-refusal: refusal_correct \"false\", integrity 0, refusal_factor 0.5"
f=$OUT/$SWEEP/nop/cab/none/polyglot/shell-word-count/cell.json
assert_json '.scorers.pass_rate.partial_score' 0.4 "$f" "nop on shell-word-count: partial_score 0.4 from '2 passed, 3 failed'"

# --- --run N nests run-N/; cab score notices a tampered cell -------------------------------
cell oracle polyglot/shell-word-count --run 2
assert_json '[.run, .cell_id]' "[2,\"$SWEEP/oracle/cab/none/polyglot/shell-word-count#run2\"]" "$CELL/cell.json" \
  "--run 2: cell.json records run 2 and the cell lands in run-2/"
cp -a "$CELL" "$T/tampered"
jq '.scorers.pass_rate.pass = 0' "$CELL/cell.json" >"$T/tampered/cell.json"
run_cab "$T/tamper.out" score "$T/tampered"
assert_rc 1 "cab score on a cell whose cell.json was edited exits 1"

# --- no CA bundle: cab-full keeps libgit2 from parsing it (runner/cli/libgit2_no_ca.c) -----
# cab never uses libgit2's TLS; Debian's libgit2 (mbedTLS) parses the system
# CA bundle in git_libgit2_init, ~5 ms of every cell.
if ! command -v strace >/dev/null 2>&1 || ! strace -f -qq -o /dev/null true 2>/dev/null; then
  say "# strace is not usable here: the CA bundle's reads are not checked"
else
  # LeakSanitizer cannot run under ptrace (make asan): leaks are checked elsewhere.
  ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
    strace -f -qq -e trace=openat -o "$T/ca.strace" "$CAB" run-cell --tui oracle --model cab/none \
    --task polyglot/shell-word-count --host-rootfs --sweep-id "$SWEEP-ca" --out "$T/ca-out" >"$T/ca.out" 2>"$T/ca.out.err" </dev/null
  RC=$? LAST_OUT=$T/ca.out
  assert_rc 0 "the oracle cell under strace exits 0"
  assert_eq "$(grep -c 'ca-certificates\|/etc/ssl/certs' "$T/ca.strace")" 0 \
    "a cell opens no CA bundle (libgit2's snapshots are local)"
fi

finish
