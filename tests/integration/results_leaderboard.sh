#!/bin/bash
# cab leaderboard on a tree of real cells (oracle and nop, 3 tasks x 3 runs,
# plus a hand-made infra_error cell with absurd scores and an attempt): the
# numbers, recomputed here from the cell.json files with python3: oracle
# pass@1 1, nop 0; the mean composite and its 95% t interval over per-task
# means (t(0.975, 2) = 4.302652729911275); Ships, Stays and Costs; the Pareto
# marks; the infra_error cell counted and shown apart, in no mean; the
# attempt in no count.  Then the text table and --sweep.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=../fixtures/results/make-tree.sh
. "$TESTS_DIR/fixtures/results/make-tree.sh"

results_setup
OUT=$T/out
make_results_tree "$OUT" lb

run_cab "$T/lb.json" leaderboard "$OUT" --json
assert_rc 0 "leaderboard --json exits 0"
assert_json_valid "$T/lb.json" "the output is JSON"
assert_json '[.schema, .cells, .infra_error, .attempts_not_counted, .unreadable_cells_not_counted]' \
  '["cab.leaderboard/v1",19,1,1,0]' "$T/lb.json" "19 cells, 1 infra_error, the attempt and nothing else left out"
assert_json '[.rows[] | [.rank, .tui, .model]]' '[[1,"oracle","cab/none"],[2,"nop","cab/none"]]' "$T/lb.json" \
  "two rows, oracle first (higher composite)"
assert_json '.rows[] | select(.tui == "oracle") | [.cells, .infra_error, .scored, .tasks, .pass_at_1, .ships, .stays, .stays_tasks]' \
  '[10,1,9,3,1,1,1,3]' "$T/lb.json" "oracle: 10 cells, 1 infra_error apart, pass@1 1, Ships 1, Stays 1 over 3 tasks"
assert_json '.rows[] | select(.tui == "nop") | [.cells, .infra_error, .scored, .tasks, .pass_at_1, .ships, .stays, .attempts_not_counted]' \
  '[9,0,9,3,0,0,1,1]' "$T/lb.json" "nop: 9 cells, pass@1 0, Ships 0, Stays 1; its attempt not counted"
assert_json '[.rows[] | .costs.mean_tokens, .costs.mean_off_plan_files]' '[0,0,0,0]' "$T/lb.json" \
  "Costs: no tokens (no model network) and no off-plan file; the infra cell's 123456 tokens and 3 files are not in them"
assert_json '.method.ci' 't-interval over per-task means, 95%' "$T/lb.json" "the method is named"
assert_jq '.method.infra_error | test("left out of every mean")' "$T/lb.json" "the output says infra_error cells are left out of the means"

# Every number again, from the cell.json files.
python3 - "$OUT" "$T/lb.json" >"$T/recompute" 2>&1 <<'PY'
import glob, json, math, os, statistics, sys
out, lb = sys.argv[1], json.load(open(sys.argv[2]))
T975_DF2 = 4.302652729911275
groups = {}
for path in glob.glob(os.path.join(out, "**", "cell.json"), recursive=True):
    if ".attempt-" in path:
        continue
    c = json.load(open(path))
    groups.setdefault(c["tui"], []).append(c)
rows = {r["tui"]: r for r in lb["rows"]}
def close(a, b, what, eps=1e-9):
    assert a is not None and abs(a - b) <= eps, "%s: %r != %r" % (what, a, b)
for tui, cells in groups.items():
    r = rows[tui]
    scored = [c for c in cells if c["outcome"] != "infra_error"]
    assert r["cells"] == len(cells) and r["scored"] == len(scored), tui
    comp = [c["scorers"]["composite"]["composite"] for c in scored]
    close(r["composite"], statistics.mean(comp), tui + " composite")
    close(r["pass_at_1"], statistics.mean(c["scorers"]["pass_rate"]["pass"] for c in scored), tui + " pass@1")
    tasks = sorted({c["task_id"] for c in scored})
    means = [statistics.mean(c["scorers"]["composite"]["composite"] for c in scored if c["task_id"] == t) for t in tasks]
    half = T975_DF2 * statistics.stdev(means) / math.sqrt(len(means))
    ci = r["composite_ci95"]
    close(ci["mean"], statistics.mean(means), tui + " CI centre")
    close(ci["half_width"], half, tui + " CI half-width")
    close(ci["low"], statistics.mean(means) - half, tui + " CI low")
    assert ci["n"] == 3, ci
    wall = statistics.mean(c["scorers"]["latency"]["wall_clock_ms"] for c in scored)
    close(r["costs"]["mean_wall_clock_ms"], wall, tui + " mean wall", 1e-6)
    ships = statistics.mean(1 if c["scorers"]["pass_rate"]["pass"] == 1 and c["scorers"]["blast_radius"]["blast_radius"] == 0 else 0 for c in scored)
    close(r["ships"], ships, tui + " ships")
# Pareto by brute force.
for axis, key in (("tokens", "mean_tokens"), ("wall_clock", "mean_wall_clock_ms")):
    for r in lb["rows"]:
        dominated = any(o is not r and o["composite"] >= r["composite"] and o["costs"][key] <= r["costs"][key]
                        and (o["composite"] > r["composite"] or o["costs"][key] < r["costs"][key]) for o in lb["rows"])
        assert r["pareto"][axis] == (not dominated), (axis, r["tui"])
assert rows["oracle"]["pareto"]["tokens"] and not rows["nop"]["pareto"]["tokens"], "tokens frontier"
print("recomputed")
PY
assert_eq "$(cat "$T/recompute")" recomputed \
  "composite, pass@1, the t interval, wall time, Ships and Pareto match a recomputation from cell.json"

# The text table.
run_cab "$T/lb.txt" leaderboard "$OUT"
assert_rc 0 "leaderboard (text) exits 0"
assert_match "$(sed -n 1p "$T/lb.txt")" '^TUI +MODEL +CELLS +INFRA +PASS@1 +COMPOSITE +\+/-CI95 +SHIPS +STAYS +TOKENS +WALL_S +OFF-PLAN +PARETO$' \
  "the header names every column"
assert_match "$(sed -n 2p "$T/lb.txt")" '^oracle +cab/none +10 +1 +1\.000 +(0\.9[0-9]{2}|1\.000) +0\.[0-9]{3} +1\.000 +1\.000 +0 +[0-9.]+ +0\.00 +TW?$' \
  "oracle's row: 10 cells, 1 infra, pass@1 1.000, Ships and Stays 1.000, on the tokens frontier"
assert_match "$(sed -n 3p "$T/lb.txt")" '^nop +cab/none +9 +0 +0\.000 +0\.[0-9]{3} +0\.[0-9]{3} +0\.000 +1\.000 +0 ' \
  "nop's row: 9 cells, pass@1 0.000, Ships 0.000"
h1=$(sed -n 1p "$T/lb.txt" | grep -bo 'INFRA' | cut -d: -f1)
assert_eq "$(sed -n 2p "$T/lb.txt" | cut -c$((h1 + 1))-$((h1 + 5)))" "    1" "columns are aligned (INFRA)"
assert_match "$(cat "$T/lb.txt")" '19 cells in 2 TUI x model rows, 1 of them infra_error; not counted: 1 earlier attempt, 0 unreadable' \
  "the footer counts the infra_error cell and the attempt"
assert_match "$(cat "$T/lb.txt")" 'Student t 95% interval over per-task means' "the footer names the CI method"
assert_match "$(cat "$T/lb.txt")" 'infra_error cells are counted in CELLS and shown apart in INFRA, and left out of every mean' \
  "the footer says infra_error cells are not in the means"

# --sweep: another sweep in the same tree is a filter away.
timeout -k 5 "$CAB_TEST_TIMEOUT" "$CAB" run-cell --tui oracle --model cab/other --task polyglot/python-reverse-string \
  --host-rootfs --sweep-id other --out "$OUT" >/dev/null 2>&1 || bail "the other sweep's cell failed"
run_cab "$T/all.json" leaderboard "$OUT" --json
assert_json '[.cells, (.rows | length)]' '[20,3]' "$T/all.json" "without --sweep: both sweeps, 3 rows"
assert_json '.rows[] | select(.model == "cab/other") | [.tasks, .stays, .composite_ci95.half_width, .stays_tasks]' '[1,null,null,0]' "$T/all.json" \
  "one cell of one task: no Stays and no interval (null), not zero"
run_cab "$T/other.json" leaderboard "$OUT" --json --sweep lb
assert_json '[.sweep_id, .cells, (.rows | length)]' '["lb",19,2]' "$T/other.json" "--sweep lb: only that sweep"
run_cab "$T/none.out" leaderboard "$OUT" --sweep nosuch
assert_rc 125 "--sweep with no cells exits 125"
assert_eq "$(cat "$T/none.out.err")" "cab: leaderboard: no cells of sweep 'nosuch' in the index" "one clear line"
run_cab "$T/alias.json" results leaderboard "$OUT" --json --sweep lb
if cmp -s "$T/alias.json" "$T/other.json"; then pass "cab results leaderboard is cab leaderboard"; else fail "the alias differs"; fi

finish
