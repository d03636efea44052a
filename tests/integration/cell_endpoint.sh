#!/bin/bash
# The model endpoint, checked before the agent starts and watched while it
# runs (issue 10, finding 12):
#   * an endpoint that refuses connections, or whose host does not resolve:
#     exit 125 before any cell is written, one line naming the endpoint;
#   * an endpoint that answers the check and then goes away (a generated
#     one-shot server: it answers one request, then its port is closed),
#     with a generated agent that retries model calls forever and a task
#     timeout of 600 s: cab gives up after 3 unreachable calls in a row,
#     stops the agent and records infra_error (exit 3) instead of waiting
#     out the timeout.  No time is measured: the test's guard kills a cab
#     that waits, which then fails the checks.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=../fixtures/proxy/net_lib.sh
. "$TESTS_DIR/fixtures/proxy/net_lib.sh"

command -v python3 >/dev/null 2>&1 || skip "python3 not installed"
setup_cell_test

AGENT=(--tui cab-agent --model scripted/x --task polyglot/shell-word-count --host-rootfs)
port=$(dead_port)
assert_rejected "an endpoint that refuses connections" \
  "--endpoint http://127.0.0.1:$port/v1: the model endpoint cannot be reached \\(GET http://127.0.0.1:$port/v1/models: " \
  "${AGENT[@]}" --endpoint "http://127.0.0.1:$port/v1"
assert_rejected "an endpoint whose host does not resolve" \
  "--endpoint http://cab-no-such-host.invalid/v1: the model endpoint cannot be reached" \
  "${AGENT[@]}" --endpoint "http://cab-no-such-host.invalid/v1"

# --- an endpoint that goes away after the check ------------------------------------------------
command -v curl >/dev/null 2>&1 || { say "# no curl on the host: the give-up check is not run"; finish; }
M=$(marker hammer)
at_exit "kill_marker $M"
export CAB_ADAPTERS_DIR=$T/adapters
mkdir -p "$CAB_ADAPTERS_DIR"
# An agent that retries its model call forever, as some real ones do (the
# body's braces are printf escapes: {...} is the adapter's template syntax).
cat >"$T/hammer.sh" <<'SH'
body=$(printf '\173"model":"x","messages":[\173"role":"user","content":"hi"\175]\175')
while :; do
  curl -s -o /dev/null -X POST -H "Content-Type: application/json" --data-binary "$body" "$1/chat/completions"
  sleep 0.2
done
SH
jq -n --arg m "$M" --rawfile sh "$T/hammer.sh" '{schema: "cab.adapter/v1", tui: "hammer", wire: "chat",
  argv: ["/bin/sh", "-c", $sh, $m, "{endpoint}"]}' >"$CAB_ADAPTERS_DIR/hammer.json"
TASKS=$T/tasks
mkdir -p "$TASKS/polyglot"
cp -a "$SRC_DIR/tasks/polyglot/shell-word-count" "$TASKS/polyglot/"
jq '.timeout_s = 600' "$SRC_DIR/tasks/polyglot/shell-word-count/task.json" \
  >"$TASKS/polyglot/shell-word-count/task.json"

# The one-shot endpoint: answers one request (cab's check) and closes its port.
python3 - "$T/oneshot.port" <<'PY' &
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
c, _ = s.accept()
data = b""
while b"\r\n\r\n" not in data:
    chunk = c.recv(4096)
    if not chunk:
        break
    data += chunk
c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 27\r\nConnection: close\r\n\r\n{\"object\":\"list\",\"data\":[]}")
c.close()
s.close()
PY
oneshot=$!
at_exit "kill $oneshot"
for i in $(seq 200); do [ -s "$T/oneshot.port" ] && break; sleep 0.05; done
[ -s "$T/oneshot.port" ] || bail "the one-shot endpoint did not start"
URL=http://127.0.0.1:$(cat "$T/oneshot.port")/v1
OUT=$T/gone
CAB_TEST_TIMEOUT=120 run_cab "$T/gone.out" run-cell --tui hammer --model scripted/x --task polyglot/shell-word-count \
  --host-rootfs --tasks-dir "$TASKS" --endpoint "$URL" --sweep-id s --out "$OUT"
wait "$oneshot"
assert_eq "$?" 0 "the one-shot endpoint answered cab's check"
assert_rc 3 "an endpoint gone mid-cell: the cell is recorded as infra_error (exit 3)"
f=$OUT/s/hammer/scripted/x/polyglot/shell-word-count/cell.json
assert_json .outcome infra_error "$f" "  ...outcome infra_error"
assert_match "$(jget .outcome_reason "$f")" 'could not be reached for 3 calls in a row; cab stopped the agent' \
  "  ...the reason says cab gave up on the endpoint and stopped the agent"
assert_json .exit_code 137 "$f" "  ...the agent was killed by cab (SIGKILL), before its 600 s timeout"
assert_jq '.model.infra_errors >= 3 and .model.ok == 0' "$f" "  ...the proxy counted the unreachable calls"
assert_json .environment.endpoint_give_up_after 3 "$f" "  ...cell.json's environment says the endpoint was watched"
assert_eq "$(pids_with_marker "$M" | tr '\n' ' ')" "" "no agent process is left"
finish
