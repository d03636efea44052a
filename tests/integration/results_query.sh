#!/bin/bash
# Results you can query and compare, on a tree of real oracle and nop cells
# (tests/fixtures/results/make-tree.sh: 3 tasks x 3 runs each, an infra_error
# cell and an attempt):
#   - cab results ls: a header and aligned columns, one row per cell (not the
#     attempt), each filter (--tui, --model, --task glob, --outcome, --sweep)
#     against the cell.json files, --json;
#   - the index is never written into the tree it reads: it goes to --db FILE
#     or the user's cache, and one stderr line says where; a cached index or
#     cache directory others could write is not trusted; only cab's records
#     (schema cab.cell/*) are indexed;
#   - cab results show: the strip run-cell printed, the outcome, the limits
#     and what enforced them, the artifacts and their sizes; --json;
#   - cab compare: oracle against nop (flips and pass@k recomputed here from
#     the cell.json files), a tree against itself (exit 0), cell against cell;
#   - cab score --all DIR --profile FILE: the leaderboard under a pass-only
#     profile (composite = pass), the cell.json files untouched;
#   - the CLI grammar: --help exits 0, an unknown option is one line with a
#     did-you-mean and exit 125.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=../fixtures/results/make-tree.sh
. "$TESTS_DIR/fixtures/results/make-tree.sh"

results_setup
"$CAB" compare --help >/dev/null 2>&1 || skip "this cab has no compare command yet"
OUT=$T/out
make_results_tree "$OUT" q
sums_before=$(find "$OUT" -name cell.json -exec sha256sum {} + | sort)

# ---- results ls -------------------------------------------------------------
run_cab "$T/ls.txt" results ls "$OUT"
assert_rc 0 "results ls exits 0"
assert_match "$(sed -n 1p "$T/ls.txt")" '^SWEEP +TUI +MODEL +TASK +RUN +OUTCOME +PASS +COMPOSITE +TOKENS +WALL_S +PATH$' "a header line"
n_cells=$(find "$OUT" -name cell.json -not -path '*.attempt-*' | wc -l)
assert_eq "$(tail -n1 "$T/ls.txt")" "$n_cells cells" "it ends with the count ($n_cells: every cell, not the attempt)"
assert_eq "$(grep -c ' q/' "$T/ls.txt")" "$n_cells" "one row per cell"
# Aligned: each row's PATH starts where the header's does.
col=$(sed -n 1p "$T/ls.txt" | awk '{print index($0, "PATH")}')
misaligned=$(grep ' q/' "$T/ls.txt" | awk -v c="$col" '{ if (index($0, $NF) != c) print }' | wc -l)
assert_eq "$misaligned" 0 "every row's PATH column starts under the header's"
[ -e "$OUT/results.db" ] && fail "results ls wrote results.db into the tree it read" || pass "nothing written into the tree"
assert_match "$(cat "$T/ls.txt.err")" "^cab: index: $n_cells cells of $OUT indexed in $T/cache/cab/results/[0-9a-f]{32}\\.db\$" \
  "one stderr line says where the index was built"
run_cab "$T/ls2.txt" results ls "$OUT"
assert_eq "$(cat "$T/ls2.txt.err")" "" "a fresh index is used again, silently"

# A forged index in the cache that others could write is not read: the
# attack is another user rewriting the scores of a tree we rank.
CACHE_DB=$(sed -n 's/^cab: index: [0-9]* cells of .* indexed in //p' "$T/ls.txt.err")
python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("UPDATE cells SET composite = 0.123"); c.commit()' "$CACHE_DB" ||
  bail "could not forge the cached index"
chmod 0666 "$CACHE_DB"
run_cab "$T/forged.json" results ls "$OUT" --json
assert_eq "$(jq '[.cells[] | select(.composite == 0.123)] | length' "$T/forged.json")" 0 \
  "a cached index writable by others is not used (no forged composite)"
assert_match "$(cat "$T/forged.json.err")" "^cab: index: $n_cells cells of $OUT indexed in $CACHE_DB\$" "it is rebuilt in its place"
assert_eq "$(stat -c %a "$CACHE_DB")" 644 "and the new one is 0644"
chmod 0777 "$T/cache/cab/results"
run_cab "$T/opencache.json" results ls "$OUT" --json
assert_rc 0 "a cache directory others can write: still exits 0"
assert_match "$(cat "$T/opencache.json.err")" "^cab: index: $n_cells cells of $OUT indexed in memory \\(.*only it can write.*\\)\$" \
  "the index is built in memory instead, and the line says why"
chmod 0700 "$T/cache/cab/results"

# Filters, against the cell.json files.
want_json() { # JQ-SELECT: the sorted cell paths of the cells it selects
  find "$OUT" -name cell.json -not -path '*.attempt-*' -print0 | xargs -0 jq -r "select($1) | input_filename" |
    sed "s|^$OUT/||; s|/cell.json\$||" | LC_ALL=C sort
}
check_filter() { # MESSAGE JQ-SELECT ARGS...
  local msg=$1 sel=$2
  shift 2
  run_cab "$T/f.json" results ls "$OUT" --json "$@"
  assert_rc 0 "results ls $* --json exits 0"
  assert_eq "$(jq -r '.cells[].cell_path' "$T/f.json" | LC_ALL=C sort)" "$(want_json "$sel")" "$msg"
  assert_eq "$(jq '.count' "$T/f.json")" "$(want_json "$sel" | grep -c . )" "$msg: count"
}
check_filter "--tui nop: the nop cells" '.tui == "nop"' --tui nop
check_filter "--task 'polyglot/*' --outcome pass" '(.task_id | startswith("polyglot/")) and .outcome == "pass"' --task 'polyglot/*' --outcome pass
check_filter "--outcome infra_error: the hand-made one" '.outcome == "infra_error"' --outcome infra_error
check_filter "--model cab/none --sweep q: all" 'true' --model cab/none --sweep q
run_cab "$T/none.txt" results ls "$OUT" --sweep nosuch
assert_rc 0 "no match is not an error"
assert_eq "$(tail -n1 "$T/none.txt")" "0 cells" "no match: 0 cells"
run_cab "$T/ls.json" results ls "$OUT" --json --tui oracle --task polyglot/python-reverse-string
C1=$OUT/q/oracle/cab/none/polyglot/python-reverse-string/run-1
assert_eq "$(jq -c '.cells[0] | [.sweep_id, .tui, .model, .task_id, .run, .outcome, .pass, .composite, .wall_clock_ms]' "$T/ls.json")" \
  "$(jq -c '[.sweep_id, .tui, .model_build_id, .task_id, .run, .outcome, .scorers.pass_rate.pass, .scorers.composite.composite, .scorers.latency.wall_clock_ms]' "$C1/cell.json")" \
  "--json: a cell's fields are its cell.json's"

# --db FILE: the index goes there.
run_cab "$T/db.txt" results ls "$OUT" --db "$T/my.db"
assert_rc 0 "results ls --db exits 0"
[ -f "$T/my.db" ] && pass "--db FILE: the index is built there" || fail "no index at --db FILE"
assert_eq "$(cat "$T/db.txt.err")" "cab: index: $n_cells cells of $OUT indexed in $T/my.db" "and stderr says so"
run_cab "$T/lbdb.txt" leaderboard "$T/my.db"
assert_rc 0 "the leaderboard reads that index"

# Only cab's records: another program's cell.json is not a cell.
mkdir -p "$T/foreign/x/y" && echo '{"schema": "other/v1", "tui": "t", "model_build_id": "m", "task_id": "f/t"}' >"$T/foreign/x/y/cell.json"
run_cab "$T/foreign.txt" leaderboard "$T/foreign"
assert_rc 125 "a tree with no cab cell exits 125"
assert_match "$(tail -n1 "$T/foreign.txt.err")" 'none of its 1 cell.json files could be indexed \(.*not a cab cell record\)$' \
  "it says the cell.json is not cab's"

# ---- results show -------------------------------------------------------------
timeout -k 5 "$CAB_TEST_TIMEOUT" "$CAB" run-cell --tui oracle --model cab/none --task polyglot/shell-word-count \
  --host-rootfs --sweep-id show --out "$T/one" >"$T/strip.out" 2>&1 || bail "run-cell failed: $(tail -c 300 "$T/strip.out")"
CELL=$T/one/show/oracle/cab/none/polyglot/shell-word-count
strip=$(grep ' | outcome ' "$T/strip.out" | sed 's/ | outcome .*//')
run_cab "$T/show.txt" results show "$CELL"
assert_rc 0 "results show exits 0"
assert_eq "$(sed -n 's/^scores      //p' "$T/show.txt")" "$strip" "the strip is the one run-cell printed"
assert_eq "$(sed -n 's/^outcome     //p' "$T/show.txt")" "$(jq -r '"\(.outcome) (\(.outcome_reason))"' "$CELL/cell.json")" "the outcome and why"
assert_match "$(sed -n 's/^limits      //p' "$T/show.txt")" "memory $(jq -r .environment.limits.memory "$CELL/cell.json");.*time supervisor" \
  "the limits and what enforced them"
assert_eq "$(sed -n 's/^timeout     //p' "$T/show.txt")" "$(jq -r .task.timeout_s "$CELL/cell.json") s" "the timeout"
assert_match "$(grep '^  cell.json ' "$T/show.txt")" '^  cell\.json +[0-9.]+ [KMG]?i?B$' "the artifacts with their sizes"
run_cab "$T/show.json" results show "$CELL/cell.json" --json
assert_rc 0 "results show CELL/cell.json --json exits 0"
assert_eq "$(jq -S -c .scorers "$T/show.json")" "$(jq -S -c .scorers "$CELL/cell.json")" "--json: the scorers as recorded"
assert_eq "$(jq -c .limits "$T/show.json")" "$(jq -c .environment.limits "$CELL/cell.json")" "--json: the limits as recorded"
assert_eq "$(jq -r '.artifacts[] | select(.name == "diff.patch") | .bytes' "$T/show.json")" "$(stat -c %s "$CELL/diff.patch")" \
  "--json: an artifact's size is the file's"
assert_eq "$(jq -r .strip "$T/show.json")" "$strip" "--json: the strip"
run_cab "$T/show_bad.txt" results show "$T/foreign/x/y"
assert_rc 125 "show of a foreign cell.json exits 125"
assert_eq "$(cat "$T/show_bad.txt.err")" "cab: results show: $T/foreign/x/y/cell.json: \"schema\" is not cab.cell/*: not a cab cell record" "one line"
run_cab "$T/show_none.txt" results show "$T/nosuch"
assert_rc 125 "show of a missing path exits 125"
assert_eq "$(cat "$T/show_none.txt.err")" "cab: results show: $T/nosuch: No such file or directory" "one line"

# ---- compare ------------------------------------------------------------------
run_cab "$T/cmp.json" compare "$OUT/q/oracle" "$OUT/q/nop" --json
assert_rc 1 "compare oracle nop exits 1 (they differ)"
assert_json '.matched_on' task "$T/cmp.json" "one TUI on each side: matched on the task"
python3 - "$OUT/q" "$T/cmp.json" >"$T/cmp.check" 2>&1 <<'PY'
import glob, json, math, os, sys
root, cmp = sys.argv[1], json.load(open(sys.argv[2]))
def cells(tui):
    out = []
    for p in glob.glob(os.path.join(root, tui, "**", "cell.json"), recursive=True):
        if ".attempt-" not in p:
            c = json.load(open(p))
            if c["outcome"] != "infra_error":
                out.append(c)
    return out
A, B = cells("oracle"), cells("nop")
def pass_at_k(n, c, k):
    return 1.0 if n - c < k else 1.0 - math.comb(n - c, k) / math.comb(n, k)
tasks = {t["task_id"]: t for t in cmp["tasks"]}
assert sorted(tasks) == sorted({c["task_id"] for c in A} | {c["task_id"] for c in B}), sorted(tasks)
for tid, t in tasks.items():
    for side, cs in (("a", A), ("b", B)):
        mine = [c for c in cs if c["task_id"] == tid]
        n, c = len(mine), sum(1 for x in mine if x["scorers"]["pass_rate"]["pass"] == 1)
        s = t[side]
        assert s["scored"] == n and s["passes"] == c, (tid, side, s)
        comp = sum(x["scorers"]["composite"]["composite"] for x in mine) / n
        assert abs(s["composite"] - comp) < 1e-12, (tid, side, s["composite"], comp)
        for k in range(1, n + 1):
            assert abs(s["pass_at_k"][str(k)] - pass_at_k(n, c, k)) < 1e-12, (tid, side, k)
    d = t["delta"]
    assert abs(d["composite"] - (t["b"]["composite"] - t["a"]["composite"])) < 1e-12
flips = sorted((a["task_id"], a["run"]) for a in A for b in B
               if a["task_id"] == b["task_id"] and a["run"] == b["run"]
               and (a["scorers"]["pass_rate"]["pass"] == 1) != (b["scorers"]["pass_rate"]["pass"] == 1))
got = sorted((f["task_id"], int(f["a_cell"].rsplit("run-", 1)[1])) for f in cmp["flipped"])
assert got == flips and len(flips) >= 6, (got, flips)
assert cmp["differ"] is True
print("recomputed %d flips" % len(flips))
PY
assert_match "$(cat "$T/cmp.check")" '^recomputed [0-9]+ flips$' "compare: per-task means, pass@k and the flips match a recomputation from cell.json"
run_cab "$T/cmp.txt" compare "$OUT/q/oracle" "$OUT/q/nop"
assert_rc 1 "the text form exits 1 too"
assert_match "$(grep -c '^  pass -> fail ' "$T/cmp.txt")" '^[0-9]+$' "the text lists the flips"
assert_eq "$(grep -c '^  pass -> fail ' "$T/cmp.txt")" "$(jq '[.flipped[] | select(.from == "pass")] | length' "$T/cmp.json")" \
  "as many pass -> fail lines as the JSON has"
assert_match "$(cat "$T/cmp.txt")" 'A polyglot/python-reverse-string: pass@1 1\.000 pass@2 1\.000 pass@3 1\.000 \(3 of 3 passed\)' \
  "pass@k over the oracle's reruns"
run_cab "$T/same.json" compare "$OUT" "$OUT" --json
assert_rc 0 "a tree against itself exits 0"
assert_json '[.differ, (.flipped | length)]' '[false,0]' "$T/same.json" "no difference, no flip"
run_cab "$T/cc.json" compare "$C1" "$OUT/q/nop/cab/none/polyglot/python-reverse-string/run-1/cell.json" --json
assert_rc 1 "cell against cell (a directory and a cell.json) exits 1"
assert_json '[.flipped[] | [.from, .to, .task_id]]' '[["pass","fail","polyglot/python-reverse-string"]]' "$T/cc.json" \
  "the one flip"
run_cab "$T/cmp_bad.txt" compare "$OUT" "$T/nosuch"
assert_rc 125 "compare with a missing side exits 125"
assert_eq "$(cat "$T/cmp_bad.txt.err")" "cab: compare: $T/nosuch: No such file or directory" "one line"

# ---- score --all --profile ---------------------------------------------------------
cat >"$T/pass-only.json" <<'EOF'
{"schema": "cab.scoring-profile/v1", "name": "pass-only", "methodology_version": "test",
 "weights": {"pass_rate": 1, "integrity": 0, "cost": 0, "latency": 0, "blast_radius": 0},
 "cost_efficiency": {"formula": "constant", "value": 1},
 "latency_efficiency": {"formula": "inv-log10", "scale_ms": 10000},
 "refusal_factor": 0.5, "note": "a test profile: the composite is the pass rate"}
EOF
run_cab "$T/sa.json" score --all "$OUT" --profile "$T/pass-only.json" --json --db "$T/pass-only.db"
assert_rc 0 "score --all --profile FILE exits 0"
assert_json '[.rows[] | [.tui, .composite == .pass_at_1]]' '[["oracle",true],["nop",true]]' "$T/sa.json" \
  "under the pass-only profile each row's composite is its pass@1"
run_cab "$T/lb_recorded.json" leaderboard "$OUT" --json
assert_json '[.rows[] | select(.tui == "nop") | .composite > 0]' '[true]' "$T/lb_recorded.json" \
  "while the recorded scores still rank nop above 0"
assert_eq "$(db_query "$T/pass-only.db" 'SELECT DISTINCT scoring_profile FROM cells')" pass-only "the re-scored rows name the profile"
run_cab "$T/sa2.json" leaderboard "$T/pass-only.db" --json
assert_eq "$(jq -c .rows "$T/sa2.json")" "$(jq -c .rows "$T/sa.json")" "cab leaderboard FILE prints the re-scored leaderboard again"
assert_eq "$(find "$OUT" -name cell.json -exec sha256sum {} + | sort)" "$sums_before" "no cell.json was changed"
run_cab "$T/sa_np.txt" score --all "$OUT"
assert_rc 125 "score --all without --profile exits 125"
assert_eq "$(wc -l <"$T/sa_np.txt.err")" 1 "one line"

# ---- the CLI grammar ----------------------------------------------------------------
for cmd in "results ls" "results show" "compare" "leaderboard" "index" "results export" "score"; do
  # shellcheck disable=SC2086
  run_cab "$T/help.txt" $cmd --help
  assert_rc 0 "cab $cmd --help exits 0"
done
run_cab "$T/typo.txt" results ls "$OUT" --outcme pass
assert_rc 125 "an unknown option exits 125"
assert_eq "$(cat "$T/typo.txt.err")" "cab: results ls: unknown option '--outcme'; did you mean '--outcome'? see 'cab results ls --help'" \
  "one line with a suggestion"
run_cab "$T/typo2.txt" compare "$OUT" "$OUT" --jsn
assert_eq "$(cat "$T/typo2.txt.err")" "cab: compare: unknown option '--jsn'; did you mean '--json'? see 'cab compare --help'" "compare too"
run_cab "$T/typo3.txt" leaderboard "$OUT" --frobnicate
assert_eq "$(cat "$T/typo3.txt.err")" "cab: leaderboard: unknown option '--frobnicate'; see 'cab leaderboard --help'" \
  "no suggestion when nothing is near"
run_cab "$T/sub.txt" results shw "$CELL"
assert_rc 125 "an unknown results command exits 125"
assert_eq "$(cat "$T/sub.txt.err")" "cab: results: unknown command 'shw'; did you mean 'show'? see 'cab results --help'" \
  "one line with a suggestion"
run_cab "$T/noval.txt" results ls "$OUT" --tui
assert_rc 125 "a missing value exits 125"
assert_eq "$(cat "$T/noval.txt.err")" "cab: results ls: option '--tui' needs a value; see 'cab results ls --help'" "one line"

finish
