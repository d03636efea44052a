#!/bin/bash
# Bad input to cab index / leaderboard / results export: one clear error line
# each, and nothing written.  A directory with no cells, a missing one, a file
# that is not an index; a corrupt cell.json among good ones is a warning line
# naming it (the rest indexed, the file listed in table skipped and counted in
# the leaderboard's footer), or an error with --strict; a tree of corrupt cells
# only is an error; a read-only tree is indexed in the user's cache, and in
# memory when the cache cannot be written.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=../fixtures/results/make-tree.sh
. "$TESTS_DIR/fixtures/results/make-tree.sh"

results_setup

# No cells.
mkdir -p "$T/empty/sweep/tui"
run_cab "$T/e1.out" index "$T/empty"
assert_rc 125 "index of a directory with no cells exits 125"
assert_eq "$(cat "$T/e1.out.err")" \
  "cab: index: $T/empty: no cell.json below it (cells are DIR/<sweep>/<tui>/<model>/<family>/<task>/[run-N/]cell.json)" \
  "one line that says what a cell path looks like"
[ -e "$T/empty/results.db" ] && fail "results.db written for no cells" || pass "no results.db written"
assert_eq "$(find "$T/empty" -name '.results.db.tmp-*' | wc -l)" 0 "no temp file left"
run_cab "$T/e2.out" leaderboard "$T/empty"
assert_rc 125 "leaderboard of no cells exits 125"
assert_eq "$(wc -l <"$T/e2.out.err")" 1 "one line"
assert_match "$(cat "$T/e2.out.err")" '^cab: leaderboard: .*/empty: no cell.json below it' "it says there are no cells"
run_cab "$T/e3.out" results export "$T/empty"
assert_rc 125 "export of no cells exits 125"
assert_eq "$(wc -l <"$T/e3.out.err")" 1 "one line"

# A missing directory, a file that is not an index, no argument.
run_cab "$T/m.out" index "$T/nosuch"
assert_rc 125 "index of a missing directory exits 125"
assert_eq "$(cat "$T/m.out.err")" "cab: index: $T/nosuch: No such file or directory" "one line with the path and the reason"
echo "not a database" >"$T/fake.db"
run_cab "$T/f.out" leaderboard "$T/fake.db"
assert_rc 125 "leaderboard of a file that is not an index exits 125"
assert_eq "$(wc -l <"$T/f.out.err")" 1 "one line"
assert_match "$(cat "$T/f.out.err")" "^cab: leaderboard: $T/fake.db: " "naming the file"
run_cab "$T/n.out" index
assert_rc 125 "index without a directory exits 125"
assert_eq "$(cat "$T/n.out.err")" "cab: index: give exactly one results directory; see 'cab index --help'" "one line"
run_cab "$T/o.out" leaderboard "$T/empty" --frob
assert_rc 125 "an unknown option exits 125"
assert_eq "$(wc -l <"$T/o.out.err")" 1 "one line"

# One corrupt cell among good ones: a warning naming it; the rest indexed.
OUT=$T/out
for run in 1 2; do
  timeout -k 5 "$CAB_TEST_TIMEOUT" "$CAB" run-cell --tui oracle --model cab/none --task polyglot/python-reverse-string \
    --host-rootfs --sweep-id err --out "$OUT" --run "$run" >/dev/null 2>&1 || bail "run-cell failed"
done
BAD=$OUT/err/oracle/cab/none/polyglot/python-reverse-string/run-3
cp -r "$OUT/err/oracle/cab/none/polyglot/python-reverse-string/run-2" "$BAD"
head -c 100 "$BAD/cell.json" >"$BAD/cell.json.cut" && mv "$BAD/cell.json.cut" "$BAD/cell.json"
ODD=$OUT/err/oracle/cab/none/polyglot/python-reverse-string/run-4
mkdir -p "$ODD" && echo '{"schema": "cab.cell/v1", "hello": 1}' >"$ODD/cell.json"
run_cab "$T/c.out" index "$OUT"
assert_rc 0 "a corrupt cell among good ones: index exits 0"
assert_eq "$(sed -n 1p "$T/c.out")" "2 cells, 0 attempts, 2 skipped" "the good cells are indexed, the bad ones skipped"
assert_eq "$(wc -l <"$T/c.out.err")" 2 "one warning line per bad cell"
assert_match "$(sed -n 1p "$T/c.out.err")" "^cab: warning: $BAD/cell.json: not valid JSON \\(near byte [0-9]+\\); not indexed$" \
  "the warning names the truncated file"
assert_match "$(sed -n 2p "$T/c.out.err")" "^cab: warning: $ODD/cell.json: no \"tui\" string: not a cell record; not indexed$" \
  "and the JSON that is not a cell"
assert_eq "$(db_query "$OUT/results.db" 'SELECT path FROM skipped ORDER BY path' | tr '\n' ' ')" \
  "err/oracle/cab/none/polyglot/python-reverse-string/run-3 err/oracle/cab/none/polyglot/python-reverse-string/run-4 " \
  "table skipped lists both"
run_cab "$T/c.lb" leaderboard "$OUT"
assert_rc 0 "leaderboard with skipped cells exits 0"
assert_match "$(cat "$T/c.lb")" "not counted: 0 earlier attempts, 2 unreadable cell.json files" "its footer counts them"
run_cab "$T/s.out" index "$OUT" --strict
assert_rc 125 "--strict exits 125"
assert_eq "$(wc -l <"$T/s.out.err")" 1 "one error line"

# Only corrupt cells: an error, not an empty index.
mkdir -p "$T/allbad/s/t/m/f/x"
echo '[' >"$T/allbad/s/t/m/f/x/cell.json"
run_cab "$T/a.out" index "$T/allbad"
assert_rc 125 "a tree of corrupt cells only exits 125"
assert_match "$(tail -n1 "$T/a.out.err")" "^cab: index: $T/allbad: none of its 1 cell.json files could be indexed \\(.*not valid JSON" \
  "its last line says none could be indexed, and why"
[ -e "$T/allbad/results.db" ] && fail "results.db written" || pass "no results.db written"

# A read-only tree (a published dataset): indexed in memory, with a warning.
if is_root; then
  say "# (root ignores directory permissions: the read-only case runs as the user)"
else
  rm -rf "$T/ro" && mkdir -p "$T/ro" && cp -r "$OUT/err" "$T/ro/" && rm -rf "$T/ro/err/oracle/cab/none/polyglot/python-reverse-string/run-3" \
    "$T/ro/err/oracle/cab/none/polyglot/python-reverse-string/run-4"
  chmod a-w "$T/ro"
  run_cab "$T/ro.json" leaderboard "$T/ro" --json
  assert_rc 0 "leaderboard of a read-only tree exits 0"
  assert_json '.cells' 2 "$T/ro.json" "both cells counted"
  assert_match "$(cat "$T/ro.json.err")" "^cab: index: 2 cells of $T/ro indexed in $T/cache/cab/results/[0-9a-f]{32}\\.db\$" "one line says where"
  [ -e "$T/ro/results.db" ] && fail "results.db written into a read-only tree" || pass "nothing written"
  mkdir -p "$T/rocache" && chmod a-w "$T/rocache"
  XDG_CACHE_HOME=$T/rocache run_cab "$T/ro2.json" leaderboard "$T/ro" --json
  assert_rc 0 "leaderboard with a cache it cannot write exits 0"
  assert_json '.cells' 2 "$T/ro2.json" "both cells counted"
  assert_match "$(cat "$T/ro2.json.err")" "^cab: index: 2 cells of $T/ro indexed in memory \\(.*Permission denied\\)\$" "one line: in memory, and why"
  chmod u+w "$T/ro" "$T/rocache"
fi

finish
