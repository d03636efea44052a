#!/bin/bash
# cab report without a browser: on real oracle/nop cells in two sweeps,
#   - the leaderboard's numbers are cab leaderboard's (runner/results), row
#     for row;
#   - every link and resource of every page resolves inside the site (so it
#     works from file://), and every page carries the CSP;
#   - --sweep, --base-url, a corrupt cell.json (a warning; the rest kept);
#   - errors: one line each, nothing written (no arguments, a missing or an
#     empty results directory, --out naming a directory cab report did not
#     write);
#   - the results tree is only read; a rebuild swaps the whole site in one
#     rename while a reader keeps finding a complete one, leaving no temp dir.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
command -v python3 >/dev/null 2>&1 || skip "python3 not installed (make deps)"
setup --bare
export XDG_CACHE_HOME=$T/cache # where cab leaderboard builds its index
"$CAB" report --help >/dev/null 2>&1 || skip "this cab has no report command"
SITEPY=$TESTS_DIR/fixtures/report/site.py
RES=$T/results

for sweep in a b; do
  for tui in oracle nop; do
    for task in polyglot/python-reverse-string polyglot/shell-word-count; do
      runs="1"
      [ "$sweep" = a ] && runs="1 2"
      for run in $runs; do
        run_cab "$T/cell.out" run-cell --tui "$tui" --model none/x --task "$task" --host-rootfs \
          --sweep-id "$sweep" --run "$run" --out "$RES"
        assert_rc 0 "run-cell $sweep $tui $task run $run"
      done
    done
  done
done
before=$(cd "$RES" && find . -printf '%p %s %T@\n' | sort)

# ---- the site, and its numbers against cab leaderboard's ---------------------------------
run_cab "$T/r.out" report "$RES" --out "$T/site"
assert_rc 0 "cab report exits 0"
assert_eq "$(cat "$T/r.out")" "wrote $T/site: 12 cells, 2 TUI x model, 2 tasks; open $T/site/index.html" \
  "one line: what it wrote and where to open it"
assert_eq "$(cd "$RES" && find . -printf '%p %s %T@\n' | sort)" "$before" "the results tree is only read"
python3 "$SITEPY" links "$T/site" >"$T/links.json"
assert_eq "$?" 0 "every link resolves inside the site and every page has the CSP ($(head -c 400 "$T/links.json"))"
assert_jq '.pages >= 16 and .links > 100' "$T/links.json" "pages: index, 2 TUI x model, 2 tasks, 12 cells ($(cat "$T/links.json" | head -c 80))"

cp -r "$RES" "$T/copy"
run_cab "$T/lb.json" leaderboard "$T/copy" --json
assert_rc 0 "cab leaderboard --json"
python3 "$SITEPY" board "$T/site" >"$T/board.json"
round='def r3: if . == null then null else (. * 1000 | round) end;'
want=$(jq -c "$round"' [.rows[] | {tui, model, composite: (.composite | r3), pass_at_1: (.pass_at_1 | r3),
  ships: (.ships | r3), stays: (.stays | r3), tokens: .costs.mean_tokens, cells, infra: .infra_error,
  pareto: ((if .pareto.tokens then "T" else "" end) + (if .pareto.tokens and .pareto.wall_clock then " " else "" end)
  + (if .pareto.wall_clock then "W" else "" end))}]' "$T/lb.json")
got=$(jq -c "$round"' [.[] | {tui, model, composite: (.composite | r3), pass_at_1: (.pass_at_1 | r3),
  ships: (.ships | r3), stays: (.stays | r3), tokens, cells: (.cells | floor), infra: (.infra | floor), pareto}]' "$T/board.json")
assert_eq "$got" "$want" "the leaderboard's rows are cab leaderboard's (composite, pass@1, Ships, Stays, Costs, cells, infra, Pareto)"

# ---- --sweep, --base-url ---------------------------------------------------------------------
run_cab "$T/s.out" report "$RES" --out "$T/site-b" --sweep b --base-url https://example.org/cab/ --title "Sweep <b>"
assert_rc 0 "cab report --sweep b"
assert_match "$(cat "$T/s.out")" ': 4 cells, 2 TUI x model' "--sweep b: only sweep b's 4 cells"
assert_eq "$(find "$T/site-b/cell" -name index.html | grep -c '/cell/a/')" 0 "--sweep b: no page for sweep a"
snippet=$(grep -o 'id="embed-md"><code>[^<]*' "$T/site-b/tm/oracle/none/x/index.html")
assert_match "$snippet" 'https://example\.org/cab/badge/oracle/none/x\.svg\)\]\(https://example\.org/cab/tm/oracle/none/x\)' \
  "--base-url: the Markdown snippet links absolutely"
assert_match "$(grep -o '<title>[^<]*' "$T/site-b/index.html")" 'Sweep &lt;b&gt;' "--title is escaped"

# ---- a corrupt cell.json among good ones ----------------------------------------------------------
mkdir -p "$T/res2" && cp -r "$RES/b" "$T/res2/"
mkdir -p "$T/res2/b/broken/cell" && echo '{"schema": "cab.cell/v1", ' >"$T/res2/b/broken/cell/cell.json"
mkdir -p "$T/res2/b/other" && echo '{"schema": "something/else"}' >"$T/res2/b/other/cell.json"
mkdir -p "$T/res2/b/x/.staging-1" && cp "$RES/b/oracle/none/x/polyglot/shell-word-count/run-1/cell.json" "$T/res2/b/x/.staging-1/"
run_cab "$T/c.out" report "$T/res2" --out "$T/site-c"
assert_rc 0 "a corrupt cell.json does not stop the report"
assert_eq "$(grep -c '^cab: warning: ' "$T/c.out.err")" 2 "one warning per unreadable cell.json"
assert_match "$(cat "$T/c.out.err")" "^cab: warning: $T/res2/b/broken/cell/cell.json: not JSON; skipped" "the warning names the file"
assert_match "$(cat "$T/c.out")" ': 4 cells, .*some cell.json files skipped' "the other cells are kept; staging is not a cell"

# ---- errors: one line, nothing written ----------------------------------------------------------------
run_cab "$T/e0.out" report
assert_rc 125 "no arguments: exit 125"
assert_eq "$(head -n1 "$T/e0.out.err")" "cab report: give one RESULTS directory and --out SITE" "no arguments: it says what is missing"
run_cab "$T/e1.out" report "$T/nosuch" --out "$T/site-e1"
assert_rc 125 "a missing results directory: exit 125"
assert_match "$(cat "$T/e1.out.err")" "^cab: report: open $T/nosuch .*: No such file or directory$" "one line naming it"
assert_eq "$(wc -l <"$T/e1.out.err")" 1 "one line"
mkdir -p "$T/empty/sweep"
run_cab "$T/e2.out" report "$T/empty" --out "$T/site-e2"
assert_rc 125 "no cells: exit 125"
assert_eq "$(cat "$T/e2.out.err")" "cab: report: no cab cell below $T/empty (cab run-cell --out $T/empty writes them)" "no cells: one line"
mkdir -p "$T/mine" && echo keep >"$T/mine/notes.txt"
run_cab "$T/e3.out" report "$RES" --out "$T/mine"
assert_rc 125 "--out a directory cab report did not write: exit 125"
assert_match "$(cat "$T/e3.out.err")" "^cab: report: --out $T/mine is a directory that cab report did not write" "it says why"
assert_eq "$(ls "$T/mine")" notes.txt "that directory is untouched"
for bad in example.org/cab 'https://example.org/a b' 'https://x/")<script>' https://; do
  run_cab "$T/e5.out" report "$RES" --out "$T/site-e5" --base-url "$bad"
  assert_rc 125 "--base-url '$bad': exit 125"
  assert_match "$(cat "$T/e5.out.err")" "^cab: report: --base-url .*: not an absolute http\(s\) URL.*e\.g\. https://example\.org/cab\$" \
    "--base-url '$bad': one line saying what to give"
done
[ -e "$T/site-e5" ] && fail "a bad --base-url wrote a site" || pass "a bad --base-url writes nothing"
run_cab "$T/e4.out" report "$RES" --out "$RES"
assert_rc 125 "--out the results directory itself: exit 125"
assert_eq "$(ls -d "$T"/.site-e* "$T"/.mine.tmp-* "$T"/.results.tmp-* 2>/dev/null | wc -l)" 0 "no temp directory left by a failure"
[ -e "$T/site-e1" ] || [ -e "$T/site-e2" ] && fail "a failed report created its --out" || pass "a failed report creates nothing"

# ---- a rebuild swaps the site whole, under a reader ------------------------------------------------------
(
  for _ in $(seq 40); do
    [ -f "$T/site/index.html" ] && [ -f "$T/site/.cab-report" ] && [ -f "$T/site/assets/report.js" ] || echo torn
    sleep 0.02
  done
) >"$T/reader.out" &
reader=$!
for _ in 1 2 3; do
  run_cab "$T/rb.out" report "$RES" --out "$T/site"
  assert_rc 0 "rebuild over the previous site"
done
wait "$reader"
assert_eq "$(grep -c torn "$T/reader.out")" 0 "a reader always found a complete site during rebuilds"
assert_eq "$(ls -A "$T" | grep -c '^\.site\.tmp-')" 0 "no temp directory left beside the site"

# ---- --out below missing directories; two reports racing for a new SITE ------------------------------------
run_cab "$T/deep.out" report "$RES" --out "$T/new/deeper/site"
assert_rc 0 "--out below missing directories: they are created"
[ -f "$T/new/deeper/site/index.html" ] && pass "the site is there" || fail "no $T/new/deeper/site/index.html"
"$CAB" report "$RES" --out "$T/race" >"$T/race1.out" 2>&1 &
r1=$!
"$CAB" report "$RES" --out "$T/race" >"$T/race2.out" 2>&1 &
r2=$!
wait "$r1"; rc1=$?
wait "$r2"; rc2=$?
assert_eq "$rc1 $rc2" "0 0" "two reports racing for the same new SITE both succeed ($(cat "$T/race1.out" "$T/race2.out" | tr '\n' '|'))"
[ -f "$T/race/index.html" ] && pass "one complete site is left" || fail "no $T/race/index.html"
assert_eq "$(ls -A "$T" | grep -c '\.tmp-')" 0 "and no temp directory"
finish
