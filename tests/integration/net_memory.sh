#!/bin/bash
# The model proxy runs in cab, outside the cell's cgroup, so what the
# sandbox can make it hold is bounded per cell (issue 10): 40 connections
# from inside, each declaring a 16 MiB body (tests/fixtures/proxy/
# flood_client.py), all held open at once.  Only the calls that fit the
# 64 MiB budget are let in, the others are refused with 503 in OpenAI's
# error shape before their body is read, and cab's peak RSS (ru_maxrss of
# `cab exec` and everything below it) grows by far less than the 640 MiB
# the bodies add up to (before the bound: 659 MiB).
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=../fixtures/proxy/net_lib.sh
. "$TESTS_DIR/fixtures/proxy/net_lib.sh"
setup
need_model_server
command -v python3 >/dev/null || skip "python3 is not installed (make deps)"

start_model_server ms '{"model": "scripted/flood", "after_last": "repeat",
  "turns": [{"content": "ok", "usage": {"prompt_tokens": 1, "completion_tokens": 1}}]}'
mkdir -p "$T/out"
chmod 0777 "$T/out"
# flood NAME CONNECTIONS MIB: run the client in `cab exec`; sets RC and PEAK_KB
# (ru_maxrss of cab and everything below it) and leaves $T/out/NAME.json.
flood() {
  say "+ cab exec --host-rootfs --net model ... flood_client.py $2 $3 (peak RSS measured)"
  python3 - "$T/rss" timeout -k 5 120 "$CAB" exec --host-rootfs --net model --endpoint "$MS_URL" \
    --model-calls "$T/$1.calls.jsonl" --result "$T/$1.result.json" --bind "$T/out:/out" \
    --bind "$TESTS_DIR/fixtures/proxy/flood_client.py:/tmp/flood.py:ro" \
    -- python3 /tmp/flood.py "/out/$1.json" "$2" "$3" >"$T/$1.x" 2>"$T/$1.x.err" <<'EOF'
import resource, subprocess, sys
rc = subprocess.run(sys.argv[2:]).returncode
with open(sys.argv[1], "w") as f:
    f.write("%d %d\n" % (rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
EOF
  read -r RC PEAK_KB <"$T/rss"
  if [ -s "$T/$1.x.err" ]; then say "  stderr: $(head -c 600 "$T/$1.x.err" | tr '\n' '|')"; fi
}
# The baseline: one small call.  ASan's shadow memory and quarantine (freed
# buffers are kept a while) need more room than the budget alone.
flood base 1 1
assert_eq "$RC" 0 "one small call ran inside the sandbox"
BASE_KB=$PEAK_KB
ROOM_MIB=128
if ldd "$CAB" 2>/dev/null | grep -q libasan; then ROOM_MIB=256; fi
N=40 MIB=16
flood flood "$N" "$MIB"
assert_eq "$RC" 0 "the flood ran inside the sandbox"
C=$T/out/flood.json
admitted=$(jq '[.[] | select(.first == 100)] | length' "$C")
refused=$(jq '[.[] | select(.first == 503)] | length' "$C")
say "# $admitted of $N calls let in, $refused refused; peak RSS $((PEAK_KB / 1024)) MiB, $((BASE_KB / 1024)) MiB for one small call"
assert_eq "$((admitted + refused))" "$N" "every call was let in or refused with 503"
assert_cmp "$admitted" -ge 1 "at least one call was let in"
assert_cmp "$admitted" -le 3 "at most 3 calls of 16 MiB fit the 64 MiB budget at once"
assert_jq '[.[] | select(.first == 100) | .final] | all(. == 200)' "$C" "the calls let in were answered"
assert_jq '[.[] | select(.first == 503) | .refusal | fromjson | .error.type] | all(. == "server_error")' "$C" \
  "each refusal is an OpenAI error body"
assert_jq '[.[] | select(.first == 503) | .refusal | fromjson | .error.message] | all(test("request bodies held for this cell"))' \
  "$C" "each refusal says why"
assert_cmp "$((PEAK_KB - BASE_KB))" -lt $((ROOM_MIB * 1024)) \
  "cab's peak RSS grows by less than $ROOM_MIB MiB over one small call's (the bodies add up to $((N * MIB)) MiB)"
assert_json '[.model.client_errors, .model.busy_refusals]' "[$refused,$refused]" "$T/flood.result.json" \
  "the refusals are counted as the client's errors, and as busy refusals"
finish
