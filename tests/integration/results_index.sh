#!/bin/bash
# cab index on a tree of real cells (tests/fixtures/results/make-tree.sh:
# oracle and nop on 3 tasks x 3 runs, a hand-made infra_error copy and an
# .attempt-1 copy): one row per cell.json, the attempt in its own table, the
# run identity and scores as cell.json has them; re-indexing is idempotent
# (same rows) and atomic (a new file renamed in; a failed build leaves the
# old index and no temp file); leaderboard and export rebuild a stale index.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=../fixtures/results/make-tree.sh
. "$TESTS_DIR/fixtures/results/make-tree.sh"

results_setup
OUT=$T/out
make_results_tree "$OUT" idx
DB=$OUT/results.db

run_cab "$T/index.out" index "$OUT"
assert_rc 0 "cab index exits 0"
assert_eq "$(sed -n 1p "$T/index.out")" "19 cells, 1 attempt, 0 skipped" "summary: 19 cells, 1 attempt, none skipped"
assert_eq "$(sed -n 2p "$T/index.out")" "$DB" "stdout ends with the path of results.db"
assert_eq "$(cat "$T/index.out.err")" "" "nothing on stderr"
[ -f "$DB" ] || bail "no $DB"

n_json=$(find "$OUT" -name cell.json -not -path '*.attempt-*' | wc -l)
assert_eq "$(db_query "$DB" 'SELECT count(*) FROM cells')" "$n_json" "one row per cell.json ($n_json)"
assert_eq "$(db_query "$DB" 'SELECT count(DISTINCT cell_path) FROM cells')" "$n_json" "cell paths are unique"
assert_eq "$(db_query "$DB" "SELECT attempt, attempt_of, outcome FROM attempts")" \
  "1|idx/nop/cab/none/polyglot/python-reverse-string/run-1|infra_error" \
  "the .attempt-1 copy is an attempt at run-1, not a cell"
assert_eq "$(db_query "$DB" "SELECT count(*) FROM cells WHERE cell_path LIKE '%attempt%'")" 0 \
  "no attempt among the cells"
assert_eq "$(db_query "$DB" "SELECT value FROM meta WHERE key = 'schema'")" "cab.results/v1" "meta: schema"

# The run identity and scores, as cell.json has them.
c=$OUT/idx/oracle/cab/none/polyglot/python-reverse-string/run-2
want=$(jq -r '[.sweep_id, .tui, .model_build_id, .family, .task_id, .run, .container_image, .outcome,
  .scorers.pass_rate.pass, .tokens_source, .scorers.blast_radius.blast_radius] | map(tostring) | join("|")' "$c/cell.json")
got=$(db_query "$DB" "SELECT sweep_id, tui, model_build_id, family, task_id, run, container_image, outcome,
  CAST(pass AS INTEGER), tokens_source, CAST(blast_radius AS INTEGER) FROM cells
  WHERE cell_path = 'idx/oracle/cab/none/polyglot/python-reverse-string/run-2'")
assert_eq "$got" "$want" "run identity, outcome, pass, tokens_source and blast as in cell.json"
assert_eq "$(db_query "$DB" "SELECT image_digest IS NULL, total_tokens, unexpected_changes FROM cells
  WHERE cell_path = 'idx/oracle/cab/none/polyglot/python-reverse-string/run-2'")" "1|0|0" \
  "host-rootfs: no image digest; no model network: 0 tokens; no off-plan file"
for col in composite wall_clock_ms; do
  want=$(jq -r "if \"$col\" == \"composite\" then .scorers.composite.composite else .scorers.latency.wall_clock_ms end" "$c/cell.json")
  got=$(db_query "$DB" "SELECT $col FROM cells WHERE cell_path = 'idx/oracle/cab/none/polyglot/python-reverse-string/run-2'")
  assert_eq "$(python3 -c "print(abs($got - $want) < 1e-12)")" True "$col is cell.json's ($want)"
done
assert_eq "$(db_query "$DB" "SELECT outcome, run FROM cells WHERE cell_path LIKE '%shell-word-count/run-4'")" \
  "infra_error|4" "the hand-made infra_error cell is a cell"
assert_eq "$(db_query "$DB" "SELECT count(*) FROM cells WHERE length(prompt_sha256) = 64 AND
  length(agent_log_sha256) = 64 AND length(verify_log_sha256) = 64 AND length(cell_json_sha256) = 64")" \
  "$n_json" "every row has the three provenance hashes (and cell.json's)"

# Idempotent: the same rows again; atomic: a new file renamed into place.
db_query "$DB" "SELECT * FROM cells ORDER BY cell_path" >"$T/rows1"
ino1=$(stat -c %i "$DB")
run_cab "$T/index2.out" index "$OUT"
assert_rc 0 "re-index exits 0"
db_query "$DB" "SELECT * FROM cells ORDER BY cell_path" >"$T/rows2"
if cmp -s "$T/rows1" "$T/rows2"; then pass "re-index gives the same rows"; else fail "re-index changed rows: $(diff "$T/rows1" "$T/rows2" | head -5)"; fi
assert_ne "$(stat -c %i "$DB")" "$ino1" "the new index is a new file renamed into place"
assert_eq "$(find "$OUT" -maxdepth 1 -name '.results.db.tmp-*' | wc -l)" 0 "no temp file left"
assert_eq "$(db_query "$DB" "PRAGMA integrity_check")" ok "sqlite integrity_check: ok"

# A reader keeps the old index while a new one replaces it.
exec 7<"$DB"
run_cab "$T/index3.out" index "$OUT"
assert_rc 0 "re-index with the old index open"
cat <&7 >"$T/old.db"
exec 7<&-
assert_eq "$(db_query "$T/old.db" 'SELECT count(*) FROM cells')" "$n_json" "the old file stays whole for its reader"

# Two indexers at once: both succeed, the result is one whole index.
"$CAB" index "$OUT" >"$T/p1.out" 2>&1 & p1=$!
"$CAB" index "$OUT" >"$T/p2.out" 2>&1 & p2=$!
wait "$p1"; r1=$?
wait "$p2"; r2=$?
assert_eq "$r1$r2" 00 "two concurrent cab index both exit 0"
assert_eq "$(db_query "$DB" 'SELECT count(*) FROM cells')" "$n_json" "and leave a whole index"

# A failed build (--strict with a corrupt cell) leaves the old index as it was.
sum_before=$(sha256sum "$DB" | cut -d' ' -f1)
mkdir -p "$OUT/idx/nop/cab/none/polyglot/broken/run-1"
printf '{"schema": "cab.cell/v1", "tui": ' >"$OUT/idx/nop/cab/none/polyglot/broken/run-1/cell.json"
run_cab "$T/strict.out" index "$OUT" --strict
assert_rc 125 "--strict with a corrupt cell.json exits 125"
assert_eq "$(wc -l <"$T/strict.out.err")" 1 "one error line"
assert_match "$(cat "$T/strict.out.err")" '^cab: index: .*broken/run-1/cell.json: not valid JSON.*--strict: nothing indexed' \
  "it names the file and says nothing was indexed"
assert_eq "$(sha256sum "$DB" | cut -d' ' -f1)" "$sum_before" "the old results.db is untouched"
assert_eq "$(find "$OUT" -maxdepth 1 -name '.results.db.tmp-*' | wc -l)" 0 "no temp file left after a failure"
rm -r "$OUT/idx/nop/cab/none/polyglot/broken"

# A stale index is rebuilt by leaderboard and export: one more cell appears.
timeout -k 5 "$CAB_TEST_TIMEOUT" "$CAB" run-cell --tui nop --model cab/none --task polyglot/python-reverse-string \
  --host-rootfs --sweep-id idx --out "$OUT" --run 4 >/dev/null 2>&1 || bail "one more cell failed"
run_cab "$T/lb.json" leaderboard "$OUT" --json
assert_rc 0 "leaderboard on a stale index exits 0"
assert_json '.rows[] | select(.tui == "nop") | .cells' 10 "$T/lb.json" "the new nop cell is counted (10)"
assert_eq "$(db_query "$DB" 'SELECT count(*) FROM cells')" "$n_json" "the tree's own results.db is not rewritten"
CACHE_DB=$(sed -n 's/^cab: index: [0-9]* cells of .* indexed in //p' "$T/lb.json.err")
assert_eq "$(db_query "$CACHE_DB" 'SELECT count(*) FROM cells')" "$((n_json + 1))" "the fresh index was built in the user's cache ($CACHE_DB)"
ino2=$(stat -c %i "$CACHE_DB")
run_cab "$T/lb2.json" leaderboard "$OUT" --json
assert_eq "$(stat -c %i "$CACHE_DB")" "$ino2" "a fresh index is used as is, not rebuilt"
assert_eq "$(cat "$T/lb2.json.err")" "" "and nothing is said"
run_cab "$T/alias.out" results index "$OUT"
assert_rc 0 "cab results index is cab index"
assert_eq "$(sed -n 1p "$T/alias.out")" "20 cells, 1 attempt, 0 skipped" "cab results index: the same summary"

finish
