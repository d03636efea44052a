#!/bin/bash
# Bad plans and bad command lines: cab sweep exits 125 with exactly one
# line on stderr ("cab: PLAN: key.path: what is wrong"), prints nothing on
# stdout, and writes nothing.  The plans are tests/fixtures/sweep/bad/*.json,
# each with the line it must give in the .err beside it (a trailing '*'
# matches the rest, for messages naming this machine's paths).  Also: the
# environment a plan needs (a key_env that is not set), a second sweep on
# an output directory that already holds the sweep (--resume is needed),
# and a sweep whose directory is locked by another.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=../fixtures/sweep/lib.sh
. "$TESTS_DIR/fixtures/sweep/lib.sh"
sweep_setup
BAD=$TESTS_DIR/fixtures/sweep/bad

# one_line_error NAME EXPECTED: the last run_cab failed as it should.
one_line_error() {
  local want=$2 got
  got=$(cat "$LAST_OUT.err")
  assert_rc 125 "$1: exit 125"
  assert_eq "$(wc -l <"$LAST_OUT.err")" 1 "$1: one line on stderr"
  assert_eq "$(wc -c <"$LAST_OUT")" 0 "$1: nothing on stdout"
  if [ "${want%\*}" != "$want" ]; then
    case $got in "${want%\*}"*) pass "$1: the message" ;; *) fail "$1: expected '$want', got '$got'" ;; esac
  else
    assert_eq "$got" "$want" "$1: the message"
  fi
}

n=0
for plan in "$BAD"/*.json; do
  name=$(basename "$plan" .json)
  cp "$plan" "$T/$name.json"
  LAST_OUT=$T/$name.out
  RC=$(cd "$T" && timeout 30 "$CAB" sweep "$name.json" --out "$T/out-$name" >"$LAST_OUT" 2>"$LAST_OUT.err" </dev/null; echo $?)
  one_line_error "$name" "cab: $name.json: $(cat "${plan%.json}.err")"
  [ -e "$T/out-$name" ] && fail "$name: the output directory was created" || n=$((n + 1))
  # --dry-run checks the plan the same way
  (cd "$T" && timeout 30 "$CAB" sweep "$name.json" --dry-run >"$LAST_OUT" 2>"$LAST_OUT.err" </dev/null)
  RC=$?
  assert_rc 125 "$name: --dry-run rejects it too"
done
assert_cmp "$n" -ge 30 "every bad plan left no output directory"

# --- the command line ---------------------------------------------------------------
cat >"$T/good.json" <<EOF
{"sweep_id": "good", "tuis": [{"tui": "oracle"}], "models": [{"model": "cab/none"}],
 "tasks": ["polyglot/shell-word-count"], "host_rootfs": true, "memory": "256M"}
EOF
run_cab "$T/c1" sweep
one_line_error "no plan" "cab: sweep: usage: cab sweep PLAN.json [OPTIONS]; see 'cab sweep --help'"
run_cab "$T/c2" sweep "$T/good.json" --frobnicate
one_line_error "unknown option" "cab: sweep: unknown option '--frobnicate'; see 'cab sweep --help'"
run_cab "$T/c3" sweep "$T/good.json" -j 0
one_line_error "-j 0" "cab: sweep: -j 0: expected a whole number from 1"
run_cab "$T/c4" sweep "$T/good.json" --shard 3/2
one_line_error "--shard 3/2" "cab: --shard 3/2: expected K/N with 1 <= K <= N, e.g. 1/4"
run_cab "$T/c5" sweep "$T/good.json" --shard half
one_line_error "--shard half" "cab: --shard half: expected K/N, e.g. 1/4"
run_cab "$T/c6" sweep "$T/nonexistent.json"
one_line_error "a missing plan" "cab: open $T/nonexistent.json: No such file or directory"
run_cab "$T/c7" sweep "$T/good.json" "$T/good.json"
one_line_error "two plans" "cab: sweep: usage: cab sweep PLAN.json [OPTIONS]; see 'cab sweep --help'"
run_cab "$T/c8" sweep --help
assert_rc 0 "--help exits 0"
assert_match "$(head -n1 "$T/c8")" '^usage: cab sweep PLAN.json' "--help prints the usage"

# --- what the plan needs from the environment -------------------------------------
cat >"$T/key.json" <<EOF
{"sweep_id": "key", "tuis": [{"tui": "cab-agent"}], "tasks": ["polyglot/shell-word-count"],
 "models": [{"model": "m", "endpoint": "http://127.0.0.1:9/v1", "key_env": "CAB_TEST_NO_SUCH_KEY"}],
 "host_rootfs": true}
EOF
unset CAB_TEST_NO_SUCH_KEY
run_cab "$T/k1" sweep "$T/key.json" --out "$T/out-key"
one_line_error "an unset key_env" "cab: $T/key.json: models[0].key_env: CAB_TEST_NO_SUCH_KEY is not set in this environment"
cat >"$T/noep.json" <<EOF
{"sweep_id": "key", "tuis": [{"tui": "cab-agent"}], "tasks": ["polyglot/shell-word-count"],
 "models": [{"model": "m"}], "host_rootfs": true}
EOF
run_cab "$T/k2" sweep "$T/noep.json" --out "$T/out-key"
one_line_error "an agent without an endpoint" \
  "cab: $T/noep.json: models[0].endpoint: the plan's agents talk to a model: give an endpoint (or a replay cassette, or set \$CAB_ENDPOINT)"
run_cab "$T/k3" sweep "$T/noep.json" --dry-run
assert_rc 0 "--dry-run does not need the endpoint"

# --- a sweep that already ran, and a locked one -----------------------------------
run_cab "$T/g1" sweep "$T/good.json" --out "$T/out"
assert_rc 0 "a one-cell sweep exits 0"
run_cab "$T/g2" sweep "$T/good.json" --out "$T/out"
one_line_error "the same sweep again, without --resume" \
  "cab: $T/out/good already holds 1 cell of this sweep (its journal: $T/out/good/.sweep/journal.jsonl); pass --resume to carry on, or choose another --out or sweep_id"
if command -v flock >/dev/null 2>&1; then
  flock -x "$T/out/good/.sweep/lock" sleep 20 &
  holder=$!
  at_exit "pkill -P $holder sleep; kill $holder"
  sleep 0.3
  run_cab "$T/g3" sweep "$T/good.json" --out "$T/out" --resume
  one_line_error "a locked sweep" \
    "cab: another cab sweep is running on this sweep ($T/out/good/.sweep/lock); wait for it, or stop it and use --resume"
  pkill -P "$holder" sleep 2>/dev/null
  kill "$holder" 2>/dev/null
  wait "$holder" 2>/dev/null
fi
run_cab "$T/g4" sweep "$T/good.json" --out "$T/out" --resume
assert_rc 0 "--resume on a finished sweep exits 0"
assert_eq "$(jq -r 'select(.event == "start")' "$T/out/good/.sweep/journal.jsonl" | grep -c '"start"')" 1 "... and runs nothing again"
finish
