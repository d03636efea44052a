# Sourced, not run: many_cells OUT N makes N real cells in OUT/b without running
# N cells: one oracle and one nop cell are run on the host's root, then copied
# N/2 times each as reruns (run-1 ... run-N/2) with their cell.json's run,
# sweep_id and cell_id set. What a results query or a report reads is then a
# tree of real records. Needs $CAB, $T (a scratch directory) and python3.
many_cells() {
  local out=$1 n=$2 tui
  for tui in oracle nop; do
    "$CAB" run-cell --tui "$tui" --model cab/none --task polyglot/python-reverse-string --host-rootfs \
      --sweep-id seed --out "$T/seed" >/dev/null
  done
  python3 - "$T/seed/seed" "$out/b" "$n" <<'PY'
import json, os, shutil, sys
seed, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for tui in ("oracle", "nop"):
    src = os.path.join(seed, tui, "cab/none/polyglot/python-reverse-string")
    cell = json.load(open(os.path.join(src, "cell.json")))
    for run in range(1, n // 2 + 1):
        dst = os.path.join(out, tui, "cab/none/polyglot/python-reverse-string", "run-%d" % run)
        shutil.copytree(src, dst)
        cell.update(run=run, sweep_id="b", cell_id="b/%s/cab/none/polyglot/python-reverse-string#run%d" % (tui, run))
        json.dump(cell, open(os.path.join(dst, "cell.json"), "w"), indent=2)
PY
}
