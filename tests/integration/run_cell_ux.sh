#!/bin/bash
# What `cab run-cell` shows and takes, beyond the cell itself (--host-rootfs
# cells: cab-agent against `cab model-server --script`, the oracle, a
# sleeping test agent):
#   * --dry-run: exit 0, the agent's argv (with --max-turns' args), its env,
#     the limits, the verify command; nothing run or written (no --out tree,
#     no scratch in TMPDIR, no model call reaches the server: it records
#     every request, and only the preflight's GET /models is there); the
#     real key, put in the task's env (a task file that holds it), printed
#     as the placeholder, in the lines and in --json; bad input still 125;
#   * an error before any phase is one line; one found as the agent starts
#     (its command missing) follows the phase lines so far;
#   * --max-turns 2 on a four-turn script: recorded in
#     environment.limits.max_turns and enforced (two model calls);
#   * --json: one JSON object on stdout, the seven axes of the strip, the
#     outcome and the cell's directory;
#   * the phase lines on a pipe: setup, agent, verify, score in that order,
#     the turns and tokens after the agent its calls' (the script's usage);
#     --quiet: none;
#   * on a terminal (script(1)'s pty): one live line, drawn with carriage
#     returns and erased (ESC[K) before the strip is printed;
#   * in an image (busybox, imported): --dry-run names it and its digest;
#     the phase lines start with image;
#   * --timeout 1 on an agent that sleeps: outcome timeout, cell.json
#     records timeout_s 1.
# No assertion on time.
# shellcheck disable=SC2016 # jq programs are quoted on purpose
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=../fixtures/proxy/net_lib.sh
. "$TESTS_DIR/fixtures/proxy/net_lib.sh"

setup_cell_test
need_model_server
"$CAB" run-cell --help 2>/dev/null | grep -q -- '--dry-run' || skip "this cab's run-cell has no --dry-run"
OUT=$T/out
SWEEP=ux
TASK=polyglot/shell-word-count
KEY=sk-cab-ux-$$-SECRET
SCRIPT=$TESTS_DIR/model/cell-solve.json

# A copy of the task whose env holds the key (how a key reaches a task file).
TASKS=$T/tasks
mkdir -p "$TASKS/polyglot"
cp -a "$SRC_DIR/tasks/$TASK" "$TASKS/polyglot/"
jq --arg k "$KEY" '.env = {"LEAKY": $k}' "$SRC_DIR/tasks/$TASK/task.json" >"$TASKS/$TASK/task.json"

# The server records every request it answers (the preflight's GET /models too).
"$CAB" model-server --script "$SCRIPT" --record "$T/served.jsonl" >"$T/ms.out" 2>"$T/ms.err" </dev/null &
MS=$!
at_exit "kill $MS"
for _ in $(seq 100); do
  URL=$(sed -n '1s/^listening on //p' "$T/ms.out")
  [ -n "$URL" ] && break
  kill -0 "$MS" 2>/dev/null || break
  sleep 0.05
done
[ -n "$URL" ] || bail "cab model-server did not start: $(head -c 300 "$T/ms.err")"
model_calls_served() { jq -s '[.[] | select(.request.path != "/v1/models")] | length' "$T/served.jsonl" 2>/dev/null || echo 0; }

export CAB_KEY=$KEY
AGENT=(--tui cab-agent --model scripted/cell-solve --task "$TASK" --host-rootfs --endpoint "$URL"
  --sweep-id "$SWEEP")

# --- --dry-run ----------------------------------------------------------------------
run_cab "$T/dry" run-cell "${AGENT[@]}" --tasks-dir "$TASKS" --out "$T/dry-out" --dry-run --max-turns 3
assert_rc 0 "--dry-run exits 0"
assert_match "$(grep '^argv ' "$T/dry")" '/\.cab/bin/cab-agent .*--max-turns 3' "--dry-run shows the agent's argv, with --max-turns' args"
assert_match "$(cat "$T/dry")" '^  command +sh tests/run\.sh$' "--dry-run shows the verify command"
assert_match "$(cat "$T/dry")" 'OPENAI_BASE_URL=http://169\.254\.77\.1' "--dry-run shows the agent's env"
assert_no_match "$(cat "$T/dry" "$T/dry.err")" "$KEY" "--dry-run never prints the real key"
assert_match "$(cat "$T/dry")" 'LEAKY=cab-placeholder-key' "--dry-run: the key in the task's env is printed as the placeholder"
assert_eq "$([ -e "$T/dry-out" ] && echo written || echo none)" none "--dry-run writes no cell directory"
assert_eq "$(find "$TMPDIR" -mindepth 1 -maxdepth 1 -name 'cab-*' | wc -l)" 0 "--dry-run leaves no scratch (no workdir, no sandbox root)"
assert_eq "$(model_calls_served)" 0 "--dry-run: the model server got no model call"

run_cab "$T/dryj" run-cell "${AGENT[@]}" --tasks-dir "$TASKS" --out "$T/dry-out" --dry-run --json --timeout 7
assert_rc 0 "--dry-run --json exits 0"
assert_json_valid "$T/dryj" "--dry-run --json is one JSON document"
assert_json '.schema' 'cab.run_cell.dry_run/v1' "$T/dryj" "--dry-run --json: its schema"
assert_json '[.argv[0], .image.name, .limits.timeout_s, .limits.max_turns, .verify.command, .workdir, .cell_dir]' \
  "[\"/.cab/bin/cab-agent\",\"host-rootfs\",7,6,\"sh tests/run.sh\",\"/work\",\"$T/dry-out/$SWEEP/cab-agent/scripted/cell-solve/$TASK\"]" \
  "$T/dryj" "--dry-run --json: argv, image, --timeout, the task's max_turns, verify command, workdir, cell directory"
assert_json '[.env[] | select(startswith("LEAKY="))]' '["LEAKY=cab-placeholder-key"]' "$T/dryj" \
  "--dry-run --json: the key in the env replaced"
assert_no_match "$(cat "$T/dryj")" "$KEY" "--dry-run --json never prints the real key"
run_cab "$T/unknown" run-cell --tui oracle --model cab/none --task polyglot/no-such-task --host-rootfs --out "$T/u"
assert_rc 125 "an unknown task: exit 125"
assert_eq "$(wc -l <"$T/unknown.err")" 1 "an unknown task (found before any phase): one line on stderr, no phase line"
test_adapter ghost '/opt/cab-no-such-dir/agent' '.argv = ["/opt/cab-no-such-dir/agent"]'
run_cab "$T/ghost" run-cell --tui ghost --model cab/none --task "$TASK" --host-rootfs --out "$T/g"
assert_rc 125 "an agent command missing where it runs: exit 125"
assert_eq "$(grep -c '^cab: run-cell ' "$T/ghost.err") $(grep -vc '^cab: run-cell ' "$T/ghost.err")" "2 1" \
  "found as the agent starts: the phase lines so far (setup, agent), then one error line"
assert_rejected "--dry-run on an unknown task" 'polyglot/no-such-task' --tui oracle --model cab/none \
  --task polyglot/no-such-task --host-rootfs --dry-run
assert_rejected "--timeout 0" '--timeout 0' --tui oracle --model cab/none --task "$TASK" --host-rootfs --timeout 0

# --- a cell (the bundled task): --max-turns 2, --json, the phase lines on a pipe -------------
run_cab "$T/cell" run-cell "${AGENT[@]}" --out "$OUT" --max-turns 2 --json
assert_rc 0 "a cab-agent cell with --max-turns 2 --json exits 0"
CELL=$OUT/$SWEEP/cab-agent/scripted/cell-solve/$TASK
assert_json '[.environment.limits.max_turns, .environment.limits.timeout_s, .model.model_calls]' '[2,120,2]' \
  "$CELL/cell.json" "--max-turns 2 is recorded (limits.max_turns 2, the task's timeout_s) and enforced: 2 model calls"
assert_eq "$(model_calls_served)" 2 "the server saw the cell's two model calls (what --dry-run's check would have seen)"
assert_eq "$(jq -s 'length' "$T/cell")" 1 "--json: one JSON document on stdout"
assert_json '.schema' 'cab.run_cell/v1' "$T/cell" "--json: its schema"
assert_json '.axes | keys_unsorted' '["pass_rate","tokens","latency","blast_radius","refusal","integrity","composite"]' \
  "$T/cell" "--json: the strip's seven axes, in the strip's order"
assert_json '[.outcome, .cell_dir, .axes.pass_rate]' "[\"pass\",\"$CELL\",1]" "$T/cell" \
  "--json: the outcome (the script's second turn writes the fix), the cell directory, numbers as numbers"
phases=$(sed -n "s|^cab: run-cell $TASK: \([a-z]*\) .*|\1|p" "$T/cell.err" | tr '\n' ' ')
assert_eq "$phases" "setup agent verify score " "on a pipe: one line per phase, in order"
# The script's usage over its first two turns: 501+37 and 563+151.
assert_match "$(grep ": verify " "$T/cell.err")" ', 2 turns, 1252 tokens$' "the line after the agent counts its turns and tokens"

run_cab "$T/quiet" run-cell --tui oracle --model cab/none --task "$TASK" --host-rootfs --out "$OUT" --quiet
assert_rc 0 "an oracle cell with --quiet exits 0"
assert_eq "$(grep -c 'cab: run-cell' "$T/quiet.err")" 0 "--quiet: no phase line"
assert_match "$(cat "$T/quiet")" '^Pass 1\.000 .*outcome pass' "without --json: the strip as before"

# --- on a terminal: one live line --------------------------------------------------------
if command -v script >/dev/null 2>&1; then
  script -qec "$(printf '%q ' "$CAB" run-cell --tui oracle --model cab/none --task "$TASK" --host-rootfs \
    --out "$OUT" --sweep-id tty)" /dev/null </dev/null >"$T/tty" 2>&1
  assert_eq "$?" 0 "an oracle cell on a pty exits 0"
  tty_text=$(cat -v "$T/tty")
  assert_match "$tty_text" "\^Mcab: run-cell $TASK: agent [^^]*\^\[\[K" "on a terminal: the live line, redrawn with a carriage return"
  assert_match "$tty_text" '\^M\^\[\[KPass 1\.000' "on a terminal: the line erased before the strip"
  assert_eq "$(grep -c "^cab: run-cell $TASK: [a-z]* [^\r]*\$" "$T/tty")" 0 "on a terminal: no phase line of its own"
else
  say "skip: script(1) (util-linux) is not installed: the live line is not checked"
fi

# --- in an image: its name and digest in --dry-run, the image phase first -----------------
if command -v umoci >/dev/null 2>&1; then
  IMAGE=cab-test/busybox:ux
  bash "$TESTS_DIR/images/busybox-image.sh" "$T/layout" ux >"$T/image.out" 2>&1 ||
    bail "busybox-image.sh failed: $(tail -n 5 "$T/image.out" | tr '\n' '|')"
  run_cab "$T/import" import "$T/layout" --name "$IMAGE"
  DIGEST=$(sed -n 's/.*@\(sha256:[0-9a-f]\{64\}\)$/\1/p' "$T/import")
  [ -n "$DIGEST" ] || bail "cab import printed no digest: $(cat "$T/import")"
  run_cab "$T/idry" run-cell --tui oracle --model cab/none --task "$TASK" --image "$IMAGE" --out "$T/i" --dry-run --json
  assert_rc 0 "--dry-run in an image exits 0"
  assert_json '[(.image.name | test("cab-test/busybox:ux$")), .image.digest]' "[true,\"$DIGEST\"]" "$T/idry" \
    "--dry-run shows the image's name and the digest it resolves to"
  run_cab "$T/icell" run-cell --tui oracle --model cab/none --task "$TASK" --image "$IMAGE" --out "$T/i"
  assert_rc 0 "an oracle cell in the image exits 0"
  phases=$(sed -n "s|^cab: run-cell $TASK: \([a-z]*\) .*|\1|p" "$T/icell.err" | tr '\n' ' ')
  assert_eq "$phases" "image setup agent verify score " "in an image: the image phase first, then the others in order"
  # A warning while the live line is up (CAB_NO_OVERLAY: the rootfs is copied)
  # erases the line first, so nothing of the longer line is left after it.
  if command -v script >/dev/null 2>&1; then
    CAB_NO_OVERLAY=1 script -qec "$(printf '%q ' "$CAB" run-cell --tui oracle --model cab/none --task "$TASK" \
      --image "$IMAGE" --out "$T/i" --sweep-id warn)" /dev/null </dev/null >"$T/iwarn" 2>&1
    assert_eq "$?" 0 "an oracle cell in the image with CAB_NO_OVERLAY on a pty exits 0"
    assert_match "$(cat -v "$T/iwarn")" '\^M\^\[\[Kcab: warning: CAB_NO_OVERLAY is set' \
      "on a terminal: a warning erases the live line before it is printed (common/ttyline's cab_warn)"
  fi
else
  say "skip: umoci is not installed (make deps): no image to check the image phase with"
fi

# --- --timeout 1 on an agent that sleeps ---------------------------------------------------
test_adapter sleeper 'sleep 60'
run_cab "$T/slow" run-cell --tui sleeper --model cab/none --task "$TASK" --host-rootfs --out "$OUT" --timeout 1 --quiet
assert_rc 0 "a timed-out cell exits 0 (a measurement)"
f=$OUT/local-$(date -u +%Y%m%d)/sleeper/cab/none/$TASK/cell.json
[ -f "$f" ] || f=$(find "$OUT" -path "*/sleeper/*" -name cell.json | head -n1)
assert_json '[.outcome, .environment.limits.timeout_s]' '["timeout",1]' "$f" "--timeout 1: outcome timeout, limits.timeout_s 1"
assert_match "$(jq -r .outcome_reason "$f")" '--timeout 1s' "the reason names --timeout"

finish
