#!/bin/bash
# vs-docker: cab next to the container engines its users would otherwise
# run, on the same rootfs: one layer tar (tests/images/busybox-image.sh's)
# imported into cab's store and into each engine, so every store holds the
# same diff_id (printed).  Four flows, each a ratio cab/engine:
#
#   exec        run /bin/true in the image and remove the container
#   workdir     a writable layer plus a mounted host workdir: write a file
#               to / and one to the workdir
#   cell        a cell-like flow: copy a task workdir, an "agent" writes
#               into it in one container, a "verifier" checks it read-only
#               in a fresh one
#   import      import the layer tar and run /bin/true once (the store and
#               the engine's image removed before every run)
#
# Optional: each engine is used only when its client reaches a running
# engine ("docker info" / "podman info" succeeds: a docker client without an
# engine counts as absent); with none, one "skip:" line and exit 0.  Installs
# nothing and pulls nothing: the image is built locally.
#
#   bash bench/vs-docker.sh
#   BENCH_RUNS=20 BENCH_JSON=out.json bash bench/vs-docker.sh
#
# Environment: CAB_BUILD (default ./build), BENCH_RUNS (default 10),
# BENCH_WARMUP (default 2), BENCH_ROUNDS (bench/rounds.sh), BENCH_JSON,
# BENCH_CAB_ONLY=1 (no engine: time cab's side alone, to check the flows).
set -eu

SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
export CAB_BUILD=${CAB_BUILD:-$SRC_DIR/build}
CAB=${CAB:-$CAB_BUILD/cab}
RUNS=${BENCH_RUNS:-10}
WARMUP=${BENCH_WARMUP:-2}
# shellcheck source=rounds.sh
. "$SRC_DIR/bench/rounds.sh"

ENGINES=()
for e in docker podman; do
  command -v "$e" >/dev/null 2>&1 && timeout 20 "$e" info >/dev/null 2>&1 && ENGINES+=("$e")
done
if [ "${#ENGINES[@]}" = 0 ] && [ -z "${BENCH_CAB_ONLY:-}" ]; then
  echo "skip: vs-docker: neither docker nor podman reaches a running engine here ('docker info' and 'podman info' fail or are absent)"
  exit 0
fi
for tool in hyperfine jq tar; do
  command -v "$tool" >/dev/null || { echo "vs-docker: $tool not installed (make deps)" >&2; exit 1; }
done
[ -x "$CAB" ] || { echo "vs-docker: $CAB not found (run make)" >&2; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/cab-bench-docker.XXXXXX")
chmod 0755 "$T"
TAG=cab-bench/vs-docker:1
cleanup() {
  for e in ${ENGINES[@]+"${ENGINES[@]}"}; do
    "$e" rmi -f "$TAG" "$TAG-imp" >/dev/null 2>&1 || true
  done
  chmod -R u+rwX "$T" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
export CAB_HOME=$T/home

# --- one layer, in every store ----------------------------------------------------
bash "$SRC_DIR/tests/images/busybox-image.sh" "$T/layout" bench >/dev/null
M=$(jq -r '.manifests[0].digest' "$T/layout/index.json" | cut -d: -f2)
LAYER=$T/layout/blobs/sha256/$(jq -r '.layers[0].digest' "$T/layout/blobs/sha256/$M" | cut -d: -f2)
# The uncompressed tar: its sha256 is the layer's diff_id in every store.
if gzip -t "$LAYER" 2>/dev/null; then gzip -dc "$LAYER" >"$T/layer.tar"; else cp "$LAYER" "$T/layer.tar"; fi
want=sha256:$(sha256sum "$T/layer.tar" | cut -d' ' -f1)
"$CAB" import "$T/layout" --name "$TAG" >/dev/null
diff_ids="cab $(jq -r '.rootfs.diff_ids[0]' "$T/layout/blobs/sha256/$(jq -r .config.digest "$T/layout/blobs/sha256/$M" | cut -d: -f2)")"
for e in ${ENGINES[@]+"${ENGINES[@]}"}; do
  "$e" import "$T/layer.tar" "$TAG" >/dev/null
  diff_ids+=", $e $("$e" image inspect -f '{{index .RootFS.Layers 0}}' "$TAG")"
done
echo "vs-docker: layer diff_id $want; in the stores: $diff_ids"

# --- the flows ------------------------------------------------------------------------
mkdir -p "$T/task/src"
echo 'hello' >"$T/task/src/in.txt"
W=$T/w
AGENT='echo changed >/work/out.txt'
VERIFY='grep -qx changed /work/out.txt'
cab_exec="$CAB exec $TAG -- /bin/true"
cab_workdir="$CAB exec --bind $W:/work $TAG -- /bin/sh -c 'echo x >/layer.txt && echo y >/work/y.txt'"
cab_cell="sh -c 'rm -rf $W && cp -a $T/task $W && $CAB exec --bind $W:/work $TAG -- /bin/sh -c \"$AGENT\" && $CAB exec --bind $W:/work:ro $TAG -- /bin/sh -c \"$VERIFY\"'"
cab_import="sh -c '$CAB import $T/layout --name $TAG-imp >/dev/null && $CAB exec $TAG-imp -- /bin/true'"
cab_import_prep="sh -c 'rm -rf $T/imp-home'"
cab_import="env CAB_HOME=$T/imp-home $cab_import"
# hyperfine takes one --prepare per command, or none.
args=(-n cab-exec --prepare true "$cab_exec" -n cab-workdir --prepare "mkdir -p $W" "$cab_workdir"
      -n cab-cell --prepare true "$cab_cell"
      -n cab-import --prepare "$cab_import_prep" "$cab_import")
for e in ${ENGINES[@]+"${ENGINES[@]}"}; do
  run="$e run --rm --network none"
  args+=(-n "$e-exec" --prepare true "$run $TAG /bin/true"
         -n "$e-workdir" --prepare "mkdir -p $W" "$run -v $W:/work $TAG /bin/sh -c 'echo x >/layer.txt && echo y >/work/y.txt'"
         -n "$e-cell" --prepare true "sh -c 'rm -rf $W && cp -a $T/task $W && $run -v $W:/work $TAG /bin/sh -c \"$AGENT\" && $run -v $W:/work:ro $TAG /bin/sh -c \"$VERIFY\"'"
         -n "$e-import" --prepare "sh -c '$e rmi -f $TAG-imp >/dev/null 2>&1; true'"
            "sh -c '$e import $T/layer.tar $TAG-imp >/dev/null && $run $TAG-imp /bin/true'")
done
mkdir -p "$W"
# Check each command once: a failing command would be timed as a fast one.
# (hyperfine -N splits a command on spaces and honours quotes, as eval does.)
for ((i = 0; i < ${#args[@]}; i++)); do
  case ${args[i]} in
  -n) name=${args[i + 1]}; i=$((i + 1)) ;;
  --prepare) eval "${args[i + 1]}"; i=$((i + 1)) ;;
  *)
    if ! eval "${args[i]}" >"$T/check.out" 2>&1; then
      echo "vs-docker: '$name' does not work here:" >&2
      sed 's/^/  /' "$T/check.out" >&2
      exit 1
    fi
    ;;
  esac
done

echo "vs-docker: $(uname -r), $(nproc) CPUs, as $(id -un), load $(cut -d' ' -f1-3 /proc/loadavg), engines: ${ENGINES[*]:-none}"
hyperfine_rounds "$T/hyperfine.json" "$RUNS" "$WARMUP" "${args[@]}"
[ -n "${BENCH_JSON:-}" ] && cp "$T/hyperfine.json" "$BENCH_JSON"
rounds_table "$T/hyperfine.json"
echo
for e in ${ENGINES[@]+"${ENGINES[@]}"}; do
  jq -r --arg e "$e" '
    (.results | map({(.command): .mean}) | add) as $m
    | def r(f): ($m["cab-" + f] / $m[$e + "-" + f] * 1000 | round / 1000);
    "cab/\($e): exec \(r("exec")), workdir \(r("workdir")), cell \(r("cell")), import + first run \(r("import"))"' \
    "$T/hyperfine.json"
done
