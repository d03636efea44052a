#!/bin/bash
# --record then --replay: a run's model calls are written to a cassette; the
# replay, with no upstream at all, gives the sandbox byte-identical
# responses; a changed request fails with an error naming the difference.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=../fixtures/proxy/net_lib.sh
. "$TESTS_DIR/fixtures/proxy/net_lib.sh"
setup
need_model_server
mkdir -p "$T/out"
chmod 0777 "$T/out"
URL=http://model.cab.internal/v1

start_model_server rec '{"model": "scripted/rec", "turns": [
  {"content": "first answer", "usage": {"prompt_tokens": 21, "completion_tokens": 4}},
  {"content": "a streamed second answer", "usage": {"prompt_tokens": 30, "completion_tokens": 6}}]}'

# calls PREFIX [EXTRA-CALL]: the same three calls, bodies saved under /out.
calls() {
  cat <<EOS
probe http POST $URL/chat/completions '{"model":"m","temperature":0.2,"messages":[{"role":"user","content":"hi"}]}' --out /out/$1-1.body >/out/$1-1.json
probe http POST $URL/chat/completions '{"model":"m","stream":true,"messages":[{"role":"user","content":"more"}]}' --out /out/$1-2.body >/out/$1-2.json
probe http GET $URL/models --out /out/$1-3.body >/out/$1-3.json
${2:-true}
true
EOS
}

run_cab "$T/rec" exec --rootfs "$R" --net model --endpoint "$MS_URL" --record "$T/cassette.jsonl" \
  --model-calls "$T/rec.jsonl" --bind "$T/out:/out" -- /bin/sh -c "$(calls live)"
assert_rc 0 "the recorded run exits 0"
assert_eq "$(grep -c . "$T/cassette.jsonl" 2>/dev/null)" 3 "the cassette holds the three calls"
kill "$MS_PID" 2>/dev/null
wait "$MS_PID" 2>/dev/null

CHANGED="probe http POST $URL/chat/completions '{\"model\":\"m\",\"temperature\":0.7,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}' >/out/changed.json"
run_cab "$T/rep" exec --rootfs "$R" --net model --replay "$T/cassette.jsonl" \
  --model-calls "$T/rep.jsonl" --result "$T/rep.result" --bind "$T/out:/out" -- \
  /bin/sh -c "$(calls replay "$CHANGED")"
assert_rc 0 "the replayed run exits 0 (with no upstream running)"
for i in 1 2 3; do
  assert_json '.status' 200 "$T/out/replay-$i.json" "replayed call $i: 200"
  if [ -s "$T/out/live-$i.body" ] && cmp -s "$T/out/live-$i.body" "$T/out/replay-$i.body"; then
    pass "replayed call $i: byte-identical to the recorded response ($(wc -c <"$T/out/live-$i.body") bytes)"
  else
    fail "replayed call $i differs from the recorded response"
  fi
done
assert_json '.chunked' true "$T/out/replay-2.json" "the replayed stream is streamed"
assert_eq "$(record 2 "$T/rep.jsonl" | jq -c '[.prompt_tokens, .completion_tokens, .replayed]')" \
  '[30,6,true]' "replayed calls are counted like live ones"

assert_json '.status' 400 "$T/out/changed.json" "a changed request fails"
assert_match "$(jget .body "$T/out/changed.json")" 'cab_replay_mismatch' "with a replay-mismatch error"
assert_match "$(jget .body "$T/out/changed.json")" 'recorded .*temperature.*:0\.2, got .*temperature.*:0\.7' \
  "naming the first difference"
assert_eq "$(record 4 "$T/rep.jsonl" | jq -r .class)" client "the mismatch is recorded (class client)"
assert_json '.model.replay_misses' 1 "$T/rep.result" "--result counts the miss"
assert_match "$(cat "$T/rep.err")" '^cab: warning: 1 model call\(s\) did not match the cassette' \
  "cab warns in one line"
assert_eq "$(wc -l <"$T/rep.err")" 1 "one line"

finish
