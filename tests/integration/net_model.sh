#!/bin/bash
# --net model: the sandbox reaches `cab model-server` through the proxy
# (busybox wget and the probe's C client), by address and by name; DNS
# answers the endpoint's name and model.cab.internal and nothing else, at
# once; nothing else is reachable (the host's 127.0.0.1 and LAN address, raw
# sockets, AF_PACKET); the real key is in no file, environment or process
# memory inside; model_calls.jsonl and --result count the tokens exactly.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=../fixtures/proxy/net_lib.sh
. "$TESTS_DIR/fixtures/proxy/net_lib.sh"
setup
need_model_server

start_model_server ms '{"model": "scripted/net", "turns": [
  {"content": "hello from the model", "usage": {"prompt_tokens": 123, "completion_tokens": 45}},
  {"content": "streamed reply", "usage": {"prompt_tokens": 7, "completion_tokens": 9}},
  {"content": "anthropic plain", "usage": {"prompt_tokens": 50, "completion_tokens": 20, "cached_tokens": 10}},
  {"content": "anthropic streamed", "usage": {"prompt_tokens": 33, "completion_tokens": 11}},
  {"content": "legacy", "usage": {"prompt_tokens": 5, "completion_tokens": 6}}]}'
# curl resolves any *.localhost name to the loopback itself, so this name
# needs no host configuration; inside, cab's DNS answers it.
ENDPOINT_HOST=upstream.cab-test.localhost
ENDPOINT="http://$ENDPOINT_HOST:$MS_PORT/v1"

# Outside: a TCP server on the host's loopback, a UDP catcher on every host
# address, and the host's own address as a target.
HOSTPORT=$(dead_port)
"$PROBE" listen "$HOSTPORT" 30 >"$T/listen.out" 2>&1 &
at_exit "kill $!"
"$PROBE" udplisten "$HOSTPORT" 60 >"$T/udp.out" 2>&1 &
UDP_PID=$!
at_exit "kill $UDP_PID"
HOSTIP=$(ip -4 route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p')
[ -n "$HOSTIP" ] || HOSTIP=$(hostname -I 2>/dev/null | awk '{print $1}')
[ -n "$HOSTIP" ] || HOSTIP=192.0.2.2
sleep 0.1
# Control: one datagram from the host itself is counted.
echo control >"/dev/udp/$HOSTIP/$HOSTPORT"

KEY="sk-cabtest-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
CONTROL="cabctl-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
export CAB_TEST_KEY=$KEY
mkdir -p "$T/out"
chmod 0777 "$T/out"

cat >"$T/inside.sh" <<EOF
cd /out
wget -q -O wget.json --header 'Content-Type: application/json' \
  --post-data '{"model":"m","messages":[{"role":"user","content":"hi"}]}' \
  http://169.254.77.1/v1/chat/completions
echo "wget=\$?" >wget.rc
probe http POST http://$ENDPOINT_HOST/v1/chat/completions \
  '{"model":"m","stream":true,"messages":[]}' >http.json
probe http POST http://model.cab.internal/v1/messages \
  '{"model":"claude","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}' --header 'anthropic-version: 2023-06-01' >msg.json
probe http POST http://model.cab.internal/v1/messages \
  '{"model":"claude","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}' \
  --header 'anthropic-version: 2023-06-01' >msg-stream.json
probe http POST http://model.cab.internal/v1/completions '{"model":"m","prompt":"x"}' >compl.json
probe dns model.cab.internal >dns-model.json
probe dns $ENDPOINT_HOST >dns-endpoint.json
probe dns model.cab.internal AAAA >dns-aaaa.json
probe dns example.com >dns-other.json
probe dns api.openai.com >dns-other2.json
probe escape $HOSTIP $HOSTPORT cab-escape-test >escape.json
probe escape 127.0.0.1 $HOSTPORT cab-escape-test >escape-lo.json
env >env.txt
cat /etc/hosts >hosts.txt
probe sleep 20 &
sleep 0.2
probe memgrep $(hex "$KEY") >memgrep-key.json
probe memgrep $(hex "$CONTROL") >memgrep-control.json
kill %1
EOF

run_cab "$T/run" exec --rootfs "$R" --net model --endpoint "$ENDPOINT" --key-env CAB_TEST_KEY \
  --model-calls "$T/calls.jsonl" --result "$T/result.json" --cap-add SYS_PTRACE \
  --env "CAB_CONTROL=$CONTROL" --bind "$T/out:/out" -- /bin/sh -c "$(cat "$T/inside.sh")"
assert_rc 0 "the sandboxed script exits 0"
O=$T/out

# --- reaching the model -------------------------------------------------------------
assert_eq "$(cat "$O/wget.rc" 2>/dev/null)" "wget=0" "busybox wget reaches the model through the proxy"
assert_json '.choices[0].message.content' "hello from the model" "$O/wget.json" \
  "wget gets the model-server's reply"
assert_json '.status' 200 "$O/http.json" "the C client reaches the model by the endpoint's name"
assert_match "$(jget .body "$O/http.json")" "\"content\":\"streamed\"" "the streamed reply comes through"
assert_json '.chunked' true "$O/http.json" "the stream comes chunked (not buffered into one body)"

# --- DNS ----------------------------------------------------------------------------------
assert_json '[.rcode, .answers]' '[0,["169.254.77.1"]]' "$O/dns-model.json" \
  "model.cab.internal resolves to the gateway"
assert_json '[.rcode, .answers]' '[0,["169.254.77.1"]]' "$O/dns-endpoint.json" \
  "the endpoint's name ($ENDPOINT_HOST) resolves to the gateway"
assert_json '[.rcode, .answers]' '[0,[]]' "$O/dns-aaaa.json" "AAAA for a known name: no record, NOERROR"
for f in dns-other dns-other2; do
  assert_json '.rcode' 3 "$O/$f.json" "$(jget .name "$O/$f.json") is NXDOMAIN"
  assert_cmp "$(jget .ms "$O/$f.json")" -lt 100 "$(jget .name "$O/$f.json") fails in under 100 ms"
done
assert_match "$(cat "$O/hosts.txt")" "169\.254\.77\.1 model\.cab\.internal $ENDPOINT_HOST" \
  "/etc/hosts names the gateway"

# --- nothing else ----------------------------------------------------------------------------
assert_errno '.tcp' ENETUNREACH "$O/escape.json" "TCP to the host's address $HOSTIP: no route"
assert_errno '.tcp_loopback' ECONNREFUSED "$O/escape.json" \
  "the host's 127.0.0.1:$HOSTPORT (listening) is not reachable: inside, 127.0.0.1 is the sandbox's own"
assert_errno '.tcp_gateway_other_port' ECONNREFUSED "$O/escape.json" "the gateway has nothing on other ports"
assert_errno '.udp' ENETUNREACH "$O/escape.json" "UDP to the host: no route"
assert_jq '.raw_icmp | (. == "ok") | not' "$O/escape.json" "a raw ICMP socket reaches nothing ($(jget .raw_icmp "$O/escape.json"))"
assert_jq '.raw_ip_udp | (. == "ok") | not' "$O/escape.json" "a raw IP socket reaches nothing ($(jget .raw_ip_udp "$O/escape.json"))"
kill -TERM "$UDP_PID" 2>/dev/null
wait "$UDP_PID" 2>/dev/null
assert_jq '.packet.eth0 != null' "$O/escape.json" "AF_PACKET frames were tried on eth0 ($(jget .packet "$O/escape.json"))"
assert_json '.datagrams' 1 "$T/udp.out" \
  "no UDP, raw or AF_PACKET datagram from inside reached the host (only the host's own control)"
assert_errno '.tcp' ECONNREFUSED "$O/escape-lo.json" "127.0.0.1 inside refuses (the host's listener is not there)"
assert_eq "$(grep -c . "$T/listen.out")" 1 "the host's listener printed only its port (no connection from inside)"

# --- the key stays outside ---------------------------------------------------------------------
assert_match "$(cat "$O/env.txt")" 'OPENAI_BASE_URL=http://169\.254\.77\.1:80/v1' "OPENAI_BASE_URL points at the proxy"
assert_match "$(cat "$O/env.txt")" 'CAB_MODEL_BASE_URL=http://169\.254\.77\.1:80/v1' "CAB_MODEL_BASE_URL too"
assert_match "$(cat "$O/env.txt")" 'OPENAI_API_KEY=cab-placeholder-key' "OPENAI_API_KEY is a placeholder"
assert_match "$(cat "$O/env.txt")" 'CAB_KEY=cab-placeholder-key' "CAB_KEY is a placeholder"
assert_eq "$(grep -c -- "$KEY" "$O/env.txt")" 0 "the key is not in the environment"
assert_json '.hits' 0 "$O/memgrep-key.json" \
  "the key is in no file, environ, cmdline or process memory inside ($(jget '.found' "$O/memgrep-key.json"))"
assert_jq ".files >= 5" "$O/memgrep-key.json" "memgrep read the files ($(jget .files "$O/memgrep-key.json"))"
assert_jq '[.processes[] | select(.pid != 1) | .mem_readable] | length >= 2 and all' \
  "$O/memgrep-key.json" "memgrep read the memory of every process but init ($(jget '[.processes[] | {pid, mem_readable}]' "$O/memgrep-key.json"))"
# Control: the same search finds a marker that is there (in the environment).
assert_jq '.hits >= 1' "$O/memgrep-control.json" \
  "control: memgrep finds a marker passed with --env ($(jget .found "$O/memgrep-control.json"))"
assert_jq '[.found[]?, (.processes[].found[]?)] | map(select(test("/mem@"))) | length >= 1' \
  "$O/memgrep-control.json" "control: and finds it in process memory"

# --- accounting: OpenAI and Anthropic shapes, plain and streamed ------------------------------------
for f in msg msg-stream compl; do
  assert_json '.status' 200 "$O/$f.json" "$f: 200 through the proxy"
done
assert_eq "$(grep -c . "$T/calls.jsonl" 2>/dev/null)" 5 "five calls recorded"
assert_eq "$(record 1 "$T/calls.jsonl" | jq -c '[.prompt_tokens, .completion_tokens, .total_tokens, .stream, .class]')" \
  '[123,45,168,false,"ok"]' "the plain call's tokens are the script's"
assert_eq "$(record 2 "$T/calls.jsonl" | jq -c '[.prompt_tokens, .completion_tokens, .total_tokens, .stream, .usage_injected]')" \
  '[7,9,16,true,true]' "the streamed call's tokens are the script's (usage injected)"
# The endpoint speaks chat (the default --endpoint-wire), so cab translated
# the Anthropic calls; the client still sees its own wire's exact figures.
assert_eq "$(record 3 "$T/calls.jsonl" | jq -c '[.path, .prompt_tokens, .completion_tokens, .total_tokens, .cached_tokens, .finish_reason, .translated_from]')" \
  '["/v1/messages",50,20,70,10,"end_turn","anthropic"]' "Anthropic's plain call (translated to chat): exact, cache reads counted in the prompt"
assert_eq "$(record 4 "$T/calls.jsonl" | jq -c '[.prompt_tokens, .completion_tokens, .total_tokens, .stream, .usage_injected]')" \
  '[33,11,44,true,null]' "Anthropic's stream (translated): exact, nothing injected"
assert_eq "$(record 5 "$T/calls.jsonl" | jq -c '[.path, .prompt_tokens, .completion_tokens]')" \
  '["/v1/completions",5,6]' "legacy completions: exact"
assert_json '.model | [.model_calls, .prompt_tokens, .completion_tokens, .total_tokens]' '[5,218,91,309]' \
  "$T/result.json" "--result holds the totals under \"model\""
assert_jq '.model.model_call_ms >= 0' "$T/result.json" "--result has model_call_ms"


# A key of a few characters would be "redacted" out of the model's ordinary
# answers: refused before anything runs, in one line.
export CAB_TEST_SHORT_KEY=abc
run_cab "$T/short" exec --rootfs "$R" --net model --endpoint "$ENDPOINT" --key-env CAB_TEST_SHORT_KEY -- /bin/true
assert_rc 125 "a 3-character key: exit 125"
assert_eq "$(wc -l <"$T/short.err")" 1 "a 3-character key: one line on stderr"
assert_match "$(cat "$T/short.err")" "the key is 3 characters long.*use a longer key" "a 3-character key: the line says why"
finish
