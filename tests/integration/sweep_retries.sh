#!/bin/bash
# Retries: a cell whose outcome is infra_error (cab-agent against an
# endpoint that answers every call with a 500) runs again, up to retries.infra times,
# after an exponential backoff (backoff_s, then twice that); each failed
# attempt's record is kept as run-N.attempt-K/.  pass and fail are never
# retried.  retries.infra 0 runs each cell once.  A run-cell that writes no
# cell.json at all (an image not in the store) is retried the same way,
# its stderr kept, and the sweep then exits 125 with one line saying how
# many cells have no record.
# shellcheck disable=SC2016 # jq programs are quoted on purpose
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=../fixtures/sweep/lib.sh
. "$TESTS_DIR/fixtures/sweep/lib.sh"
# shellcheck source=../fixtures/proxy/net_lib.sh
. "$TESTS_DIR/fixtures/proxy/net_lib.sh"
sweep_setup
# A dead endpoint is refused before a cell starts (exit 125, no record):
# infra_error cells come from an endpoint that is there but fails.
start_model_server down '{"model": "m", "after_last": "repeat", "turns": [{"status": 500, "error": "down"}]}'

cat >"$T/plan.json" <<EOF
{
  "sweep_id": "retry",
  "tuis": [{"tui": "oracle"}, {"tui": "nop"}, {"tui": "cab-agent"}],
  "models": [{"model": "m", "endpoint": "$MS_URL"}],
  "tasks": ["polyglot/shell-word-count", "polyglot/python-reverse-string"],
  "host_rootfs": true,
  "memory": "256M",
  "ramp_up_s": 0,
  "retries": {"infra": 2, "backoff_s": 0.4}
}
EOF
run_cab "$T/run" sweep "$T/plan.json" --out "$T/out" -j 2
assert_rc 0 "a sweep whose agent cells all end in infra_error still exits 0 (every cell has its record)"
S=$T/out/retry
J=$S/.sweep/journal.jsonl
for c in oracle/m/polyglot/shell-word-count/run-1 nop/m/polyglot/python-reverse-string/run-1; do
  assert_eq "$(jq -c --arg c "$c" 'select(.cell == $c) | [.event, .attempt]' "$J" | tr -d '\n')" \
    '["start",1]["done",1]' "$c (${c%%/*}: $(jq -r .outcome "$S/$c/cell.json")) ran once"
done
assert_eq "$(find "$S/oracle" "$S/nop" -type d -name '*.attempt-*' | wc -l)" 0 "pass and fail are never retried"
for c in cab-agent/m/polyglot/shell-word-count/run-1 cab-agent/m/polyglot/python-reverse-string/run-1; do
  if run_cell_race "$S/$c/cell.json"; then
    # run-cell scored an attempt as if its failed model call had not
    # happened (tests/fixtures/sweep/lib.sh): that attempt is a capability
    # outcome, rightly not retried; the attempts before it were.
    seq=$(jq -c --arg c "$c" 'select(.cell == $c and .event == "done") | .outcome' "$J" | tr -d '\n')
    say "# note: $c hit run-cell's uncounted-502 race: $seq"
    assert_match "$seq" '^("infra_error")*"(fail|agent_error|timeout)"$' "$c: infra errors retried until a non-infra outcome"
    continue
  fi
  assert_eq "$(jq -c --arg c "$c" 'select(.cell == $c and .event == "done") | [.attempt, .outcome]' "$J" | tr -d '\n')" \
    '[1,"infra_error"][2,"infra_error"][3,"infra_error"]' "$c: three attempts, each infra_error"
  for k in 1 2; do
    assert_json .outcome infra_error "$S/$c.attempt-$k/cell.json" "$c: attempt $k's record is kept in run-1.attempt-$k/"
  done
  [ -e "$S/$c.attempt-3" ] && fail "$c: the final attempt must stay in run-1/" || pass "$c: the final attempt is the cell itself"
  assert_json .outcome infra_error "$S/$c/cell.json" "$c: the cell is the last attempt"
  a1=$(jq -r .started_at "$S/$c.attempt-1/cell.json")
  a2=$(jq -r .started_at "$S/$c.attempt-2/cell.json")
  a3=$(jq -r .started_at "$S/$c/cell.json")
  assert_eq "$([ "$a1" \< "$a2" ] && [ "$a2" \< "$a3" ] && echo ordered)" ordered "$c: three distinct runs, in order"
  # The waits between an attempt's end and the next one's start.
  gaps=$(jq -rs --arg c "$c" '
    def secs: sub("Z$"; "") | split(".") as $p | ($p[0] + "Z" | fromdateiso8601) + ($p[1] | tonumber) / 1000000;
    [.[] | select(.cell == $c)] as $e
    | [range(1; 3) as $k
       | (($e[] | select(.event == "start" and .attempt == $k + 1) | .time | secs)
          - ($e[] | select(.event == "done" and .attempt == $k) | .time | secs))]
    | map(. * 100 | floor) | map(tostring) | join(" ")' "$J")
  read -r g1 g2 <<<"$gaps"
  assert_cmp "$g1" -ge 40 "$c: backoff before attempt 2 >= backoff_s (0.4 s; waited ${g1}0 ms)"
  assert_cmp "$g2" -ge 80 "$c: backoff before attempt 3 >= 2 x backoff_s (0.8 s; waited ${g2}0 ms)"
  assert_cmp "$g2" -lt 400 "$c: ... and not much more"
done
race=0
for c in "$S"/cab-agent/m/polyglot/*/run-1/cell.json; do run_cell_race "$c" && race=$((race + 1)); done
assert_match "$(grep '^cab-agent ' "$T/run" | tr -s ' ')" "^cab-agent m 2 0 $race 0 0 $((2 - race)) " "the summary counts the cells (not the attempts): 2 infra_error"
assert_match "$(grep '^oracle ' "$T/run" | tr -s ' ')" '^oracle m 2 2 0 0 0 0 ' "the summary: oracle 2 pass"
assert_eq "$(grep -c "warning: sweep retry: $((2 - race)) cells ended in infra_error after 2 retries each" "$T/run.err")" $((race < 2)) \
  "a warning line says how many cells stayed infra_error"

# retries.infra 0: once.
sed -e 's/"retry"/"noretry"/' -e 's/"infra": 2/"infra": 0/' "$T/plan.json" >"$T/none.json"
run_cab "$T/none" sweep "$T/none.json" --out "$T/out" -j 2
assert_rc 0 "retries.infra 0: exits 0"
assert_eq "$(grep -c '"start"' "$T/out/noretry/.sweep/journal.jsonl")" 6 "retries.infra 0: each of the 6 cells runs once"
assert_eq "$(find "$T/out/noretry" -type d -name '*.attempt-*' | wc -l)" 0 "retries.infra 0: no attempts kept"

# run-cell fails without a record: an image that is not in the store.
cat >"$T/noimg.json" <<EOF
{
  "sweep_id": "noimage",
  "tuis": [{"tui": "oracle", "image": "cab-test/no-such-image:1"}],
  "models": [{"model": "m"}],
  "tasks": ["polyglot/shell-word-count"],
  "memory": "256M",
  "retries": {"infra": 1, "backoff_s": 0.1}
}
EOF
run_cab "$T/noimg" sweep "$T/noimg.json" --out "$T/out"
assert_rc 125 "cells with no record: exit 125"
assert_eq "$(tail -n1 "$T/noimg.err")" \
  "cab: sweep noimage: 1 of 1 cells have no cell.json (run-cell failed; its stderr is in $T/out/noimage/.sweep/logs); run again with --resume" \
  "... ending with one line that says so"
assert_eq "$(grep -c '^cab: warning: cell oracle/m/polyglot/shell-word-count/run-1: run-cell exited 125 and wrote no cell.json: cab: .*image cab-test/no-such-image:1 is not in the store' "$T/noimg.err")" 2 \
  "each failed attempt is a warning quoting run-cell's own error"
assert_eq "$(jq -c 'select(.event == "done") | [.attempt, .outcome, .exit]' "$T/out/noimage/.sweep/journal.jsonl" | tr -d '\n')" \
  '[1,"runner_error",125][2,"runner_error",125]' "the journal records both attempts as runner_error, exit 125"
assert_eq "$(ls "$T/out/noimage/.sweep/logs" | tr '\n' ' ')" \
  "oracle%2Fm%2Fpolyglot%2Fshell-word-count%2Frun-1.attempt-1.log oracle%2Fm%2Fpolyglot%2Fshell-word-count%2Frun-1.attempt-2.log " \
  "run-cell's stderr is kept per attempt"
assert_eq "$(find "$T/out/noimage" -name cell.json | wc -l)" 0 "no cell.json was written"
finish
