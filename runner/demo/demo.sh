#!/bin/bash
# The main job: one real CodingAgentBench cell on the embedded defaults.
#   1. a small demo image (busybox, built with umoci, reproducible: the same
#      digest on every run) imported into the user's own store, $CAB_HOME or
#      cab's default, so that `cab images` lists it afterwards;
#   2. cab's built-in model endpoint, scripted to solve the task;
#   3. `cab run-cell` with cab-agent, the reference agent, in that image, on
#      polyglot/shell-word-count: sandbox, model network through cab's proxy,
#      snapshots, a fresh verify sandbox, scoring, cell.json.  Each demo is a
#      new run (OUT/demo/.../run-N/, N one more than the last), never
#      replacing an earlier one, and its model calls are recorded beside it
#      (run-N.cassette.jsonl) for an offline replay;
#   4. `cab report` over the demo's cells;
# then the next commands, each as it works pasted into a new shell: absolute
# paths, and CAB_HOME when the store is not the default one.
#
# Environment: CAB_BUILD (default build), CAB_HOME (the store), CAB_DEMO_OUT
# (the results tree, default results), CAB_DEMO_SITE (the report, default
# OUT-site); relative paths are taken from the caller's directory.
set -euo pipefail
caller=$PWD
src=$(cd "$(dirname "$0")/../.." && pwd)
abs() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$caller/$1" ;; esac; }

build=$(abs "${CAB_BUILD:-$src/build}")
cab=$build/cab
[ -x "$cab" ] && [ -x "$build/cab-agent" ] ||
  { echo "cab demo: $build has no cab or cab-agent: run 'make demo' in $src" >&2; exit 125; }
out=$(abs "${CAB_DEMO_OUT:-$src/results}")
site=$(abs "${CAB_DEMO_SITE:-$out-site}")

# The store: the one cab uses by default (rootfs/store_home.c), named here
# only to say where the image went.  A store the caller chose is spelled out
# in every printed command, since a new shell would not have it.
store_env=
if [ -n "${CAB_HOME:-}" ]; then
  export CAB_HOME
  CAB_HOME=$(abs "$CAB_HOME")
  store=$CAB_HOME
  store_env="CAB_HOME=$(printf '%q' "$CAB_HOME") "
elif [[ ${XDG_DATA_HOME:-} == /* ]]; then
  store="$XDG_DATA_HOME/cab (cab's default: \$XDG_DATA_HOME/cab)"
else
  store="${HOME:-~$(id -un)}/.local/share/cab (cab's default)"
fi

work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

image=cab-demo/busybox:1
echo "== demo image: busybox, 4 layers, built with umoci (reproducible)"
bash "$src/tests/images/busybox-image.sh" "$work/layout" demo >/dev/null
pinned=$("$cab" import "$work/layout" --name "$image")
"$cab" images | sed 's/^/   /'
echo "   $pinned, in $store"

echo "== model endpoint: cab model-server --script runner/demo/solve-shell-word-count.json"
"$cab" model-server --script "$src/runner/demo/solve-shell-word-count.json" --listen 127.0.0.1:0 \
  >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 100); do
  grep -q '^listening on ' "$work/server.out" 2>/dev/null && break
  sleep 0.05
done
endpoint=$(sed -n 's/^listening on //p' "$work/server.out")
[ -n "$endpoint" ] || { echo "cab demo: the model server did not start:" >&2; cat "$work/server.err" >&2; exit 125; }
echo "   $endpoint"

# A new run each time: one more than the highest run-N (a cell or a cassette).
sweep=demo
cells=$out/$sweep/cab-agent/scripted/demo/polyglot/shell-word-count
mkdir -p "$cells"
run=1
for entry in "$cells"/run-*; do
  name=${entry##*/run-}
  name=${name%.cassette.jsonl}
  [[ $name =~ ^[0-9]+$ ]] && ((10#$name >= run)) && run=$((10#$name + 1))
done
cassette=$cells/run-$run.cassette.jsonl
cell=$cells/run-$run

cell_args=(--tui cab-agent --model scripted/demo --task polyglot/shell-word-count)
echo "== cab run-cell ${cell_args[*]} --image $image --sweep-id $sweep --run $run"
[ "$run" = 1 ] || echo "   a new cell: the earlier demo runs below $cells are kept"
rc=0
"$cab" run-cell "${cell_args[@]}" --image "$image" --endpoint "$endpoint" \
  --out "$out" --sweep-id "$sweep" --run "$run" --record "$cassette" || rc=$?
[ -f "$cell/cell.json" ] || exit "$rc"

echo "== cab report $out --sweep $sweep"
"$cab" report "$out" --out "$site" --sweep "$sweep" | sed 's/^/   /'

q() { printf '%q' "$1"; }
cat <<EOF
== next: each command works pasted into a new shell
# open the report (the leaderboard; the cell's page has "Run it yourself"):
#   file://$site/index.html
# replay this cell offline from its recorded model calls (no endpoint; the
# same image by digest; a new cell in sweep $sweep-replay):
${store_env}$(q "$cab") run-cell ${cell_args[*]} --image $pinned --replay $(q "$cassette") --out $(q "$out") --sweep-id $sweep-replay --run $run
# the demo image in your store, and the cells of the results tree:
${store_env}$(q "$cab") images
$(q "$cab") results ls $(q "$out")
EOF
exit "$rc"
