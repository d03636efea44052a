#!/bin/bash
# The main job: one real CodingAgentBench cell on the embedded defaults.
#   1. a small demo image (busybox, built with umoci) imported into cab's store;
#   2. cab's built-in model endpoint, scripted to solve the task;
#   3. `cab run-cell` with cab-agent, the reference agent, in that image, on
#      polyglot/shell-word-count: sandbox, model network through cab's proxy,
#      snapshots, a fresh verify sandbox, scoring, cell.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${CAB_BUILD:-build}
cab="$build/cab"
export CAB_HOME=${CAB_HOME:-$PWD/$build/demo-home}
out=${CAB_DEMO_OUT:-results}
work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

echo "== demo image: busybox, 4 layers, built with umoci"
tests/images/busybox-image.sh "$work/layout" demo >/dev/null
"$cab" import "$work/layout" --name cab-demo/busybox:1 >/dev/null
"$cab" images | sed 's/^/   /'

echo "== model endpoint: cab model-server --script runner/demo/solve-shell-word-count.json"
"$cab" model-server --script runner/demo/solve-shell-word-count.json --listen 127.0.0.1:0 \
  >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 100); do
  grep -q '^listening on ' "$work/server.out" 2>/dev/null && break
  sleep 0.05
done
endpoint=$(sed -n 's/^listening on //p' "$work/server.out")
[ -n "$endpoint" ] || { echo "cab: the model server did not start:" >&2; cat "$work/server.err" >&2; exit 125; }
echo "   $endpoint"

echo "== cab run-cell --tui cab-agent --model scripted/demo --task polyglot/shell-word-count --image cab-demo/busybox:1"
"$cab" run-cell --tui cab-agent --model scripted/demo --task polyglot/shell-word-count \
  --image cab-demo/busybox:1 --endpoint "$endpoint" --out "$out"
