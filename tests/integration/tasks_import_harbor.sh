#!/bin/bash
# `cab tasks import --format harbor` on the Harbor tasks in
# tests/fixtures/harbor/, then real cells on the busybox image (imported as
# the FROM of their Dockerfiles):
#   greet    one reward (reward.txt); the Dockerfile's WORKDIR /app, ENV and
#            COPY of a file and a directory; [verifier.env], [solution.env],
#            cpus/memory_mb/storage_mb; an unknown key kept.  The oracle
#            (solve.sh) passes, nop fails, and `cab tasks validate` agrees.
#   scores   two rewards (reward.json): both kept in cell.json; the oracle
#            passes, nop fails.
#   planted  the attack: an agent that writes /logs/verifier/reward.txt = 1
#            (and reward.json) without fixing anything, on a task whose
#            test.sh writes its reward only when the tests pass.  cab's
#            verifier gets a fresh /logs/verifier that cab made, so the
#            planted reward is never read: pass 0.  The tests are not in the
#            agent's view (/tests is empty for it).
#   flood    a verifier that makes a 20 GiB file in /logs/verifier: stopped
#            by the task's disk budget, not at its timeout.
#   fifo     a verifier whose reward.txt is a FIFO (and reward.json a
#            symlink to /etc/passwd): not read, no hang, pass 0.
#   sweep    cab sweep (oracle, nop) over greet and scores in their images,
#            and cab leaderboard on it.
#   refused  RUN in the Dockerfile, gpus, compose, a verifier that fetches,
#            [[steps]], Terminal-Bench 1.x, a TOML error, a WORKDIR over
#            /usr/bin, a .dockerignore cab would not apply: each refused with its one line; a suite imports what
#            it can and lists the rest.
# shellcheck disable=SC2016 # jq programs are quoted on purpose
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

setup_cell_test
unset CAB_ENDPOINT CAB_KEY CAB_TASKS_DIR
# The fixtures as kept, plus the hostile and refused ones generated from greet.
FIX=$T/fixtures
cp -a "$SRC_DIR/tests/fixtures/harbor" "$FIX"
bash "$FIX/make-hostile.sh" "$FIX"
TASKS=$T/tasks
OUT=$T/out
SWEEP=harbor

# --- import ----------------------------------------------------------------------------------
run_cab "$T/import" tasks import --format harbor "$FIX" --out "$TASKS"
assert_rc 0 "import of the fixtures' suite exits 0"
assert_eq "$(grep '^imported ' "$T/import" | tr '\n' ' ')" \
  "imported harbor/fifo imported harbor/flood imported harbor/greet imported harbor/planted imported harbor/prebuilt imported harbor/scores " \
  "fifo, flood, greet, planted, prebuilt and scores imported"
assert_match "$(cat "$T/import")" "note harbor/greet: environment/Dockerfile:8: CMD ignored" \
  "  ...a note for what is ignored"
assert_match "$(cat "$T/import")" "note harbor/scores: network_mode public: the agent reaches cab's model proxy and nothing else" \
  "  ...a note for what cab maps differently"
G=$TASKS/harbor/greet
assert_json '[.family, .image, .workdir_path, .env.GREETING, .scorer.kind, .scorer.env.EXPECTED_LINES, .limits.cpus, .limits.memory_mb, .workdir_budget.bytes, .timeout_s, .scorer.timeout_s]' \
  '["harbor","cab-test/busybox:harbor","/app","hello","reward","2",1,512,67108864,120,60]' "$G/task.json" \
  "greet's task.json: image, WORKDIR, ENV, reward scorer, verifier env, limits, timeouts"
assert_json '[.imported.format, .imported.task_toml.metadata.custom_field]' '["harbor","kept in imported.task_toml"]' \
  "$G/task.json" "  ...task.toml kept whole in imported, with its custom key"
if [ -x "$G/workdir/greet.sh" ] && [ -f "$G/workdir/data/names.txt" ] && [ -f "$G/verifier/test.sh" ] &&
  [ -f "$G/solution/solve.sh" ] && [ -f "$G/solution/.cab/oracle.sh" ]; then
  pass "  ...COPY'd files in workdir/, tests in verifier/, solve.sh and the oracle script in solution/"
else
  fail "  ...COPY'd files in workdir/, tests in verifier/, solve.sh and the oracle script in solution/"
fi
if [ -e "$G/workdir/test.sh" ] || [ -e "$G/workdir/tests" ]; then
  fail "  ...a test is in the agent's workdir"
else
  pass "  ...no test in the agent's workdir"
fi
CAB_TASKS_DIR=$TASKS run_cab "$T/show" tasks show harbor/greet
assert_rc 0 "cab tasks show loads the imported task"

# Importing again gives the same task (atomically replaced).
run_cab "$T/import2" tasks import --format harbor "$FIX/greet" --out "$TASKS"
assert_rc 0 "a re-import of one task exits 0"
assert_eq "$(cat "$T/import2" | head -n1)" "imported harbor/greet" "  ...and names it"

# --- refused ---------------------------------------------------------------------------------
refused() { # NAME EXPECTED-LINE-REGEX
  run_cab "$T/ref-$1" tasks import --format harbor "$FIX/refused/$1" --out "$T/refused-out"
  assert_rc 125 "refused $1: exit 125"
  assert_eq "$(wc -l <"$T/ref-$1.err")" 1 "  ...one line"
  assert_match "$(cat "$T/ref-$1.err")" "$2" "  ...naming why"
}
refused run '^cab: harbor/run: environment/Dockerfile:3: RUN: cab builds no image; build it elsewhere'
refused gpus '^cab: harbor/gpus: task.toml: \[environment\] gpus = 1: cab gives a cell no GPU$'
refused compose '^cab: harbor/compose: environment/docker-compose.yaml: compose services \(sidecars\) are not supported'
refused fetch "^cab: harbor/fetch: tests/test.sh:4: 'curl' fetches from the network, and cab's verifier is offline"
refused steps '^cab: harbor/steps: task.toml: \[\[steps\]\]: multi-step tasks are not supported'
refused tb1 'a Terminal-Bench 1.x task \(task.yaml\): cab reads Harbor.s task.toml'
refused toml '^cab: harbor/toml: task.toml:28: table \[agent\] is defined twice; merge the two$'
refused dockerignore '^cab: harbor/dockerignore: environment/.dockerignore: cab does not apply it to the Dockerfile.s COPY'
refused workdir "^cab: harbor/workdir: task.json: workdir_path: /usr/bin is the sandbox's own; choose another directory$"
if [ -e "$T/refused-out/harbor/run" ]; then fail "a refused task left a task behind"; else pass "a refused task leaves nothing behind"; fi
run_cab "$T/ref-suite" tasks import --format harbor "$FIX/refused" --out "$T/refused-out"
assert_rc 0 "a suite of refused tasks exits 0"
assert_eq "$(grep -c '^note refused harbor/' "$T/ref-suite")" 9 "  ...one 'refused' line per task"

# --- cells -----------------------------------------------------------------------------------
IMAGE=cab-test/busybox:harbor
bash "$TESTS_DIR/images/busybox-image.sh" "$T/layout" harbor >"$T/image.out" 2>&1 ||
  bail "busybox-image.sh failed: $(tail -n 5 "$T/image.out" | tr '\n' '|')"
run_cab "$T/cab-import.out" import "$T/layout" --name "$IMAGE"
assert_rc 0 "cab import of the busybox image as the Dockerfiles' FROM"

cell() { # TUI TASK: sets CELL
  run_cab "$T/cell-$1-$2" run-cell --tui "$1" --model cab/none --task "harbor/$2" --tasks-dir "$TASKS" \
    --sweep-id "$SWEEP" --out "$OUT"
  assert_rc 0 "$1 on harbor/$2: run-cell exits 0"
  CELL=$OUT/$SWEEP/$1/cab/none/harbor/$2
}

cell oracle greet
assert_json '[.scorers.pass_rate.pass, .scorers.pass_rate.rewards, .scorers.blast_radius.blast_radius, .outcome]' \
  '[1,{"reward":1},0,"pass"]' "$CELL/cell.json" "oracle on greet: the reward is 1, pass 1, blast 0"
assert_json '.source' 'reward.txt' "$CELL/verify-reward.json" "  ...read from reward.txt"
run_cab "$T/rescore" score "$CELL"
assert_rc 0 "  ...cab score reproduces it"
cell nop greet
assert_json '[.scorers.pass_rate.pass, .scorers.pass_rate.rewards, .outcome]' '[0,{"reward":0},"fail"]' \
  "$CELL/cell.json" "nop on greet: reward 0, pass 0"

cell oracle scores
assert_json '[.scorers.pass_rate.pass, .scorers.pass_rate.rewards, .scorers.pass_rate.partial_score]' \
  '[1,{"correctness":1,"notes":1},1]' "$CELL/cell.json" "oracle on scores: both rewards 1, pass 1"
cell nop scores
assert_json '[.scorers.pass_rate.pass, .scorers.pass_rate.rewards]' '[0,{"correctness":0,"notes":0}]' \
  "$CELL/cell.json" "nop on scores: both rewards 0 (kept), pass 0"

# The attack: the agent plants rewards and a look at /tests.
export CAB_ADAPTERS_DIR=$T/adapters
mkdir -p "$CAB_ADAPTERS_DIR"
cp "$SRC_DIR/runner/adapters/oracle.json" "$SRC_DIR/runner/adapters/nop.json" "$CAB_ADAPTERS_DIR/"
cat >"$CAB_ADAPTERS_DIR/planter.json" <<'EOF'
{"schema": "cab.adapter/v1", "tui": "planter", "wire": "none",
 "argv": ["/bin/sh", "-c", "mkdir -p /logs/verifier && echo 1 >/logs/verifier/reward.txt && printf '\\173\"reward\": 1\\175' >/logs/verifier/reward.json && ls -A /tests >tests-seen.txt 2>&1; true"]}
EOF
cell planter planted
assert_json '[.scorers.pass_rate.pass, .scorers.pass_rate.rewards, .outcome]' '[0,null,"fail"]' "$CELL/cell.json" \
  "planted reward: the agent's /logs/verifier/reward.txt is never read, pass 0"
assert_json '.error' "the verifier wrote no reward.txt or reward.json in /logs/verifier" "$CELL/verify-reward.json" \
  "  ...cab's own /logs/verifier held nothing"
assert_match "$(cat "$CELL/diff.patch")" '\+\+\+ b/tests-seen.txt' "  ...its listing is in the diff"
if grep -q 'test.sh' "$CELL/diff.patch"; then fail "  ...the agent saw the tests in /tests"; else pass "  ...the tests were not in the agent's /tests"; fi
cell oracle planted
assert_json '.scorers.pass_rate.pass' 1 "$CELL/cell.json" "oracle on planted: pass 1 (the task can pass)"
unset CAB_ADAPTERS_DIR

# A hostile verifier's reward files: a FIFO and a symlink, never read.
cell oracle fifo
assert_json '[.scorers.pass_rate.pass, .scorers.pass_rate.reward_error]' \
  '[0,"reward.txt: not a regular file of at most 65536 bytes"]' "$CELL/cell.json" \
  "fifo: a FIFO reward.txt is not read (no hang), pass 0"

# A prebuilt docker_image, made here as Harbor's users make theirs (built
# elsewhere: umoci adds the build context's files under /app): its /app
# seeds the workdir; its Dockerfile's RUN and stages are not refused.
assert_json '[.image, .workdir_path, .workdir_from_image]' '["cab-test/busybox:harbor-prebuilt","/app",true]' \
  "$TASKS/harbor/prebuilt/task.json" "prebuilt: docker_image, the last stage's WORKDIR, seeded from the image"
prebuilt_image() { # TAG LAYER-DIR: the busybox layout plus LAYER-DIR as one layer, imported as TAG
  rm -rf "$T/layout-$1"
  cp -r "$T/layout" "$T/layout-$1"
  tar --owner=0 --group=0 --numeric-owner -C "$2" -cf "$T/layer-$1.tar" . &&
    umoci raw add-layer --image "$T/layout-$1:harbor" --tag "$1" "$T/layer-$1.tar" &&
    umoci config --image "$T/layout-$1:$1" --config.env GREETING=hello &&
    umoci rm --image "$T/layout-$1:harbor" || bail "umoci could not make the $1 image"
  run_cab "$T/import-$1" import "$T/layout-$1" --name "cab-test/busybox:$1"
  assert_rc 0 "cab import of the $1 image"
}
mkdir -p "$T/ctx/app"
cp -r "$FIX/prebuilt/environment/greet.sh" "$FIX/prebuilt/environment/data" "$T/ctx/app/"
prebuilt_image harbor-prebuilt "$T/ctx"
cell oracle prebuilt
assert_json '[.scorers.pass_rate.pass, .scorers.blast_radius.total_changes]' '[1,1]' "$CELL/cell.json" \
  "oracle on prebuilt: pass 1, one change (greet.sh: the image's files were there before)"
cell nop prebuilt
assert_json '.scorers.pass_rate.pass' 0 "$CELL/cell.json" "nop on prebuilt: pass 0"
# An image whose /app is a symlink to /etc: never followed on the host.
mkdir -p "$T/ctx-link"
ln -s /etc "$T/ctx-link/app"
prebuilt_image harbor-prebuilt-link "$T/ctx-link"
jq '.image = "cab-test/busybox:harbor-prebuilt-link"' "$TASKS/harbor/prebuilt/task.json" >"$T/tj" &&
  cp "$T/tj" "$TASKS/harbor/prebuilt/task.json"
run_cab "$T/cell-link" run-cell --tui nop --model cab/none --task harbor/prebuilt --tasks-dir "$TASKS" \
  --sweep-id link --out "$OUT"
assert_rc 125 "an image whose WORKDIR is a symlink: no cell"
assert_match "$(cat "$T/cell-link.err")" "/app in the image is not a directory \(a symlink\?\)" "  ...one line saying why"
if [ -e "$OUT/link/nop/cab/none/harbor/prebuilt/cell.json" ]; then fail "  ...a cell was recorded"; else pass "  ...and nothing recorded"; fi

# A verifier that fills /logs/verifier: it counts in the disk budget.
cell nop flood
assert_json '[.outcome, .outcome_reason]' '["fail","the verifier was stopped: /logs/verifier over budget: 20.0 GiB > 64.0 MiB"]' \
  "$CELL/cell.json" "flood: a 20 GiB file in /logs/verifier stops the verifier (the disk budget)"
assert_json '.verify.timed_out' false "$CELL/cell.json" "  ...by the watchdog, not at its timeout"

# cab tasks validate: nop fails, the oracle passes.
CAB_TASKS_DIR=$TASKS run_cab "$T/validate" tasks validate harbor/greet harbor/scores --image "$IMAGE"
assert_rc 0 "cab tasks validate on the imported tasks exits 0"
assert_eq "$(tail -n1 "$T/validate")" "2 passed, 0 failed" "  ...both proven"

# cab sweep over the imported tasks, in their images, and the leaderboard.
printf '%s\n' '{"sweep_id": "hsweep", "reruns": 1, "tuis": [{"tui": "oracle"}, {"tui": "nop"}],' \
  ' "models": [{"model": "cab/none"}], "tasks": ["harbor/greet", "harbor/scores"], "ramp_up_s": 0}' >"$T/plan.json"
CAB_TASKS_DIR=$TASKS run_cab "$T/sweep" sweep "$T/plan.json" -j 2 --out "$T/sweep-out"
assert_rc 0 "cab sweep over imported Harbor tasks exits 0"
assert_match "$(grep '^oracle ' "$T/sweep" | tr -s ' ')" '^oracle cab/none 2 2 0 0 0 0 ' "  ...the oracle passes both"
assert_match "$(grep '^nop ' "$T/sweep" | tr -s ' ')" '^nop cab/none 2 0 2 0 0 0 ' "  ...nop fails both"
CAB_TASKS_DIR=$TASKS run_cab "$T/lb" leaderboard "$T/sweep-out"
assert_rc 0 "cab leaderboard reads the sweep"
assert_match "$(grep '^oracle ' "$T/lb" | tr -s ' ')" '^oracle cab/none 2 0 1\.000 ' "  ...oracle PASS@1 1.000"

finish
