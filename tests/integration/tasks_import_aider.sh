#!/bin/bash
# cab-test-timeout: 900
# `cab tasks import --format aider-polyglot` over tests/fixtures/aider-polyglot
# (exercises written for cab in the benchmark's layout: python, go with one
# stub-passes exception, rust with #[ignore]d tests and one whose reference
# needs a crate (itertools, from the vendored crates in /opt/aider-polyglot),
# cpp with a Catch-like header and EXERCISM_RUN_ALL_TESTS, javascript with
# xtest( and jest 29 from /opt/aider-polyglot, java with @Disabled run by
# javac and JUnit 5's console launcher from /opt/aider-polyglot), then `cab tasks validate
# --compare-host` two-sided with real cells on the host's toolchains: nop
# fails (go/ledger's stub passes, as its task says), the oracle passes with
# blast 0, integrity 1 and the runner's own test count, tests replaced by
# trivially passing ones (the tamper agent) fail with integrity 0, and the
# verify command run outside cab gives the same verdict and count.  The
# attack a verifier that leaves tests skipped: a task whose command runs one
# of its four tests is refused by validate (min_tests), and passes without
# the field.  A sweep of oracle and nop over the Python and Go tasks gives
# per-language pass rates on the report's leaderboard.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

setup_cell_test
for tool in python3 go cargo cmake make g++ javac java; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool not on PATH (the fixtures' toolchains: make deps)"
done
PG=/opt/aider-polyglot
[ -x $PG/javascript/node_modules/.bin/jest ] && [ -f $PG/rust/cargo-config.toml ] && [ -d $PG/java ] && command -v node >/dev/null 2>&1 ||
  skip "no jest, vendored crates and JUnit jars in $PG, or no node (make polyglot-toolchain)"
FIX=$SRC_DIR/tests/fixtures/aider-polyglot
OUT=$T/tasks

# --- import -----------------------------------------------------------------
run_cab "$T/import" tasks import --format aider-polyglot "$FIX" --out "$OUT"
assert_rc 0 "import exits 0"
want="aider-polyglot/cpp-run-length aider-polyglot/go-digit-sum aider-polyglot/go-ledger aider-polyglot/java-two-fer aider-polyglot/javascript-vowel-count aider-polyglot/python-pair-sums aider-polyglot/python-word-tally aider-polyglot/rust-clamp-sum aider-polyglot/rust-pair-products"
assert_eq "$(sed -n 's/^imported //p' "$T/import" | tr '\n' ' ' | sed 's/ $//')" "$want" "one task per exercise, by language then slug"
CAB_TASKS_DIR=$OUT "$CAB" tasks list >"$T/list" 2>&1
assert_eq "$(awk 'NR > 1 {print $1}' "$T/list" | tr '\n' ' ' | sed 's/ $//')" "$want" "cab tasks list loads every imported task"

W=$OUT/aider-polyglot/python-word-tally
assert_eq "$(jq -c .protected_paths "$W/task.json")" '["word_tally_test.py"]' "python: the test file is protected"
assert_eq "$(jq -c .ground_truth_files "$W/task.json")" '["word_tally.py"]' "python: the solution file is the expected change"
assert_eq "$(jq -c '[.scorer.min_tests, .integrity_protected_paths, .language, .family]' "$W/task.json")" '[4,true,"python","aider-polyglot"]' \
  "python: 4 tests declared, tests guarded, language and family"
cmp -s "$W/solution/word_tally.py" "$FIX/python/exercises/practice/word-tally/.meta/example.py"
assert_eq "$?" 0 "python: .meta/example.py is the reference solution at word_tally.py"
assert_eq "$(find "$OUT" -path '*/workdir/.meta*' | wc -l)" 0 "no workdir holds .meta/"
readme=$(cat "$W/workdir/README.md")
assert_match "$readme" 'Count how often each word occurs' "the prompt has the instructions"
assert_match "$readme" 'Punctuation other than the apostrophe' "the prompt has instructions.append.md"
assert_match "$readme" '## Verify' "the prompt has a Verify section"
assert_match "$(cat "$OUT/aider-polyglot/python-pair-sums/workdir/README.md")" 'A cashier wants' "the prompt has introduction.md"
C=$OUT/aider-polyglot/cpp-run-length
assert_eq "$(jq -c .protected_paths "$C/task.json")" '["run_length_test.cpp","CMakeLists.txt","test/*"]' \
  "cpp: the test, the CMakeLists.txt and the vendored test/ are protected"
assert_match "$(jq -r .scorer.command "$C/task.json")" 'EXERCISM_RUN_ALL_TESTS=1' "cpp: the verifier runs all tests"
assert_eq "$(ls "$C/solution" | tr '\n' ' ')" "run_length.cpp run_length.h " "cpp: example.cpp and example.h mapped by extension"
assert_match "$(jq -r .scorer.command "$OUT/aider-polyglot/rust-clamp-sum/task.json")" '--include-ignored' "rust: the verifier runs the ignored tests"
assert_eq "$(jq -c .protected_paths "$OUT/aider-polyglot/go-digit-sum/task.json")" '["digit_sum_test.go","go.mod"]' "go: go.mod (the invalidator) is protected"
assert_match "$(jq -r .stub_passes "$OUT/aider-polyglot/go-ledger/task.json")" 'refactoring' "go/ledger: the stub-passes exception, with its reason"
assert_eq "$(jq -r '.stub_passes // "none"' "$OUT/aider-polyglot/go-digit-sum/task.json")" none "go/digit-sum: no exception"

# Idempotent: the same suite imports to the same bytes.
cp -a "$OUT" "$T/tasks.before"
run_cab "$T/import2" tasks import --format aider-polyglot "$FIX" --out "$OUT"
assert_rc 0 "a second import exits 0"
diff -r "$T/tasks.before" "$OUT" >"$T/diff" 2>&1
assert_eq "$?" 0 "a second import writes the same tree ($(head -c 200 "$T/diff"))"
assert_eq "$(find "$OUT" -maxdepth 1 -name '.import-*' | wc -l)" 0 "no staging directory is left behind"

run_cab "$T/lang" tasks import --format aider-polyglot "$FIX" --lang python --out "$T/py"
assert_eq "$(grep -c '^imported ' "$T/lang")" 2 "--lang python imports the two python exercises"

# Malformed exercises: one line naming the file.
B=$T/bad/python/exercises/practice/word-tally
mkdir -p "$(dirname "$B")"
cp -a "$FIX/python/exercises/practice/word-tally" "$B"
jq 'del(.files.test)' "$FIX/python/exercises/practice/word-tally/.meta/config.json" >"$B/.meta/config.json"
run_cab "$T/bad1" tasks import --format aider-polyglot "$T/bad" --out "$T/badout"
assert_ne "$RC" 0 "an exercise without files.test is refused"
assert_eq "$(wc -l <"$T/bad1.err")" 1 "one error line"
assert_match "$(cat "$T/bad1.err")" "config.json: files.test: must be a non-empty list" "the error names the file and the field"
jq '.files.example = [".meta/missing.py"]' "$FIX/python/exercises/practice/word-tally/.meta/config.json" >"$B/.meta/config.json"
run_cab "$T/bad2" tasks import --format aider-polyglot "$T/bad" --out "$T/badout"
assert_match "$(cat "$T/bad2.err")" "files.example\[0\] '.meta/missing.py': no such file" "a missing reference file is named"
rm "$B/.docs/instructions.md"
cp "$FIX/python/exercises/practice/word-tally/.meta/config.json" "$B/.meta/config.json"
run_cab "$T/bad3" tasks import --format aider-polyglot "$T/bad" --out "$T/badout"
assert_match "$(cat "$T/bad3.err")" "instructions.md" "missing instructions are named"
assert_eq "$(find "$T/badout" -mindepth 1 -maxdepth 2 2>/dev/null | grep -vc '/aider-polyglot$')" 0 "a refused import leaves no task and no staging directory"
# A Rust reference that needs crates (Cargo-example.toml maps onto the
# solution's Cargo.toml): imported, with a note naming the crates.
K=$T/crates/rust/exercises/practice/clamp-sum
mkdir -p "$(dirname "$K")"
cp -a "$FIX/rust/exercises/practice/clamp-sum" "$K"
printf '[package]\nname = "clamp_sum"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n# helpers\nitertools = "0.10"\nregex = { version = "1" }\n' >"$K/.meta/Cargo-example.toml"
jq '.files.example += [".meta/Cargo-example.toml"]' "$FIX/rust/exercises/practice/clamp-sum/.meta/config.json" >"$K/.meta/config.json"
run_cab "$T/crates.out" tasks import --format aider-polyglot "$T/crates" --out "$T/crates-tasks"
assert_rc 0 "a reference needing crates is imported"
assert_match "$(cat "$T/crates.out")" '^note aider-polyglot/rust-clamp-sum: its reference solution needs crates \(itertools, regex\)' "the import notes the crates it needs offline"
cmp -s "$K/.meta/Cargo-example.toml" "$T/crates-tasks/aider-polyglot/rust-clamp-sum/solution/Cargo.toml"
assert_eq "$?" 0 "Cargo-example.toml is the reference's Cargo.toml"

J=$OUT/aider-polyglot/javascript-vowel-count
assert_eq "$(jq -c .protected_paths "$J/task.json")" '["vowel-count.spec.js","package.json","babel.config.js"]' \
  "javascript: the spec, package.json and babel.config.js are protected"
cmp -s "$J/solution/vowel-count.js" "$FIX/javascript/exercises/practice/vowel-count/.meta/proof.ci.js"
assert_eq "$?" 0 "javascript: .meta/proof.ci.js is the reference solution"
V=$OUT/aider-polyglot/java-two-fer
assert_eq "$(jq -c '[.protected_paths, .ground_truth_files]' "$V/task.json")" \
  '[["src/test/java/TwoferTest.java","build.gradle","gradle/*"],["src/main/java/Twofer.java"]]' \
  "java: the test and the Gradle files are protected, the source is the expected change"
assert_match "$(jq -r .scorer.command "$V/task.json")" "junit-platform-console-standalone" "java: without Gradle, JUnit 5's console launcher runs the tests"
P=$OUT/aider-polyglot/rust-pair-products
cmp -s "$P/solution/Cargo.toml" "$FIX/rust/exercises/practice/pair-products/.meta/Cargo-example.toml"
assert_eq "$?" 0 "rust/pair-products: the reference's Cargo.toml declares itertools"
assert_match "$(jq -r .scorer.command "$P/task.json")" "c=$PG/rust/cargo-config.toml; .*cargo test --offline [$]cfg" "rust: the verifier points cargo at the vendored crates"

run_cab "$T/bad4" tasks import --format nosuch "$FIX"
assert_match "$(cat "$T/bad4.err")" "unknown \(known: aider-polyglot" "an unknown format lists the known ones"

# --- validate, two-sided ----------------------------------------------------
CAB_TEST_TIMEOUT=800
export CAB_TASKS_DIR=$OUT
run_cab "$T/validate" tasks validate --host-rootfs --compare-host
say "# cab tasks validate --compare-host: ${MS} ms for 9 tasks"
sed 's/^/  | /' "$T/validate"
assert_rc 0 "validate exits 0"
assert_eq "$(tail -n 1 "$T/validate")" "9 passed, 0 failed" "every imported task validates"
assert_eq "$(grep -c ': tamper: pass 0, integrity 0$' "$T/validate")" 8 "tamper: pass 0 and integrity 0 on the eight whose stub fails"
assert_match "$(cat "$T/validate")" 'go-ledger: tamper: pass 1, integrity 0' "tamper on go/ledger: its stub passes anyway, integrity 0"
assert_match "$(cat "$T/validate")" 'go-ledger: the untouched workdir passes \(expected: a refactoring' "go/ledger: the nop pass is the declared exception"
for t in cpp-run-length:4 go-digit-sum:2 java-two-fer:3 javascript-vowel-count:4 python-word-tally:4 rust-clamp-sum:3 rust-pair-products:3; do
  assert_match "$(cat "$T/validate")" "${t%%:*}: oracle: ${t##*:} tests ran, ${t##*:} passed" "${t%%:*}: the runner counted ${t##*:} tests"
  assert_match "$(cat "$T/validate")" "${t%%:*}: outside cab too: pass 1, ${t##*:} tests ran, ${t##*:} passed" "${t%%:*}: the same verdict and count outside cab"
done

# What the vendored crates do: the same task verified without the cargo
# config fails its oracle (cargo --offline cannot resolve itertools).
N=$OUT/aider-polyglot/rust-no-vendor
cp -a "$OUT/aider-polyglot/rust-pair-products" "$N"
jq '.task_id = "aider-polyglot/rust-no-vendor" | .scorer.command |= sub(" \\$cfg"; "")' "$P/task.json" >"$N/task.json"
assert_eq "$(jq -r .scorer.command "$N/task.json" | grep -c 'cfg --')" 0 "the copy's verifier runs cargo without the config"
run_cab "$T/novendor" tasks validate --host-rootfs aider-polyglot/rust-no-vendor
assert_ne "$RC" 0 "without the vendored crates the crate-needing task does not validate"
assert_match "$(cat "$T/novendor")" 'FAIL aider-polyglot/rust-no-vendor: the reference solution does not pass' "its oracle fails"
rm -rf "$N"

# --sample: N of the tasks, spread over the list.
run_cab "$T/sample" tasks validate --host-rootfs --sample 1
assert_rc 0 "validate --sample 1 exits 0"
assert_match "$(head -n 1 "$T/sample")" '^validating a sample of 1 of 9 tasks$' "--sample says what it samples"
assert_eq "$(tail -n 1 "$T/sample")" "1 passed, 0 failed" "--sample 1 validates one task"

# --- a sweep over the imported tasks: per-language pass rates --------------
cat >"$T/plan.json" <<EOF
{
  "sweep_id": "aider",
  "tuis": [{"tui": "oracle"}, {"tui": "nop"}],
  "models": [{"model": "none/fixture"}],
  "tasks": ["aider-polyglot/python-*", "aider-polyglot/go-*"],
  "host_rootfs": true,
  "memory": "512M",
  "ramp_up_s": 0
}
EOF
run_cab "$T/sweep" sweep "$T/plan.json" -j 2 --out "$T/results"
assert_rc 0 "a sweep of oracle and nop over the Python and Go tasks exits 0"
D=$T/results/aider/oracle/none/fixture/aider-polyglot/go-digit-sum/run-1
assert_eq "$(jq -c '.scorers.pass_rate | [.pass, .tests_ran, .tests_passed, .min_tests]' "$D/cell.json")" "[1,2,2,2]" \
  "cell.json's pass_rate records the tests that ran and passed"
run_cab "$T/index" index "$T/results"
run_cab "$T/report" report "$T/results" --out "$T/site"
assert_rc 0 "cab report over the sweep exits 0"
# The site's leaderboard, filtered per language: PASS@1 is its fifth column.
cat >"$T/rows.py" <<'PY'
import re, sys
h = open(sys.argv[1]).read()
seen = set()
for m in re.finditer(r'<tr[^>]*data-language="([a-z]+)"[^>]*>(.*?)</tr>', h, re.S):
    cells = [re.sub('<[^>]+>', '', c) for c in re.findall(r'<td[^>]*>(.*?)</td>', m.group(2), re.S)]
    row = "%s %s %s" % (m.group(1), cells[0], cells[4])
    if row not in seen:
        seen.add(row)
        print(row)
PY
rows=$(python3 "$T/rows.py" "$T/site/index.html")
say "$rows"
assert_match "$rows" 'python oracle 1\.000' "the leaderboard's python rows: oracle passes all"
assert_match "$rows" 'python nop 0\.000' "the leaderboard's python rows: nop passes none"
assert_match "$rows" 'go nop 0\.500' "the leaderboard's go rows: nop passes go/ledger only (its stub passes)"

# --- the attack: a verify command that leaves tests out ---------------------
S=$OUT/aider-polyglot/python-skips-tests
cp -a "$W" "$S"
jq '.task_id = "aider-polyglot/python-skips-tests" | .scorer.command = "python3 -m unittest word_tally_test.WordTallyTest.test_one_word -v"' \
  "$W/task.json" >"$S/task.json"
run_cab "$T/skips" tasks validate --host-rootfs aider-polyglot/python-skips-tests
assert_ne "$RC" 0 "validate refuses a task whose verifier runs 1 of its 4 tests"
assert_match "$(cat "$T/skips")" 'shows 1 tests, the task declares 4' "it says how many ran and how many are declared"
jq 'del(.scorer.min_tests)' "$S/task.json" >"$S/task.json.new" && mv "$S/task.json.new" "$S/task.json"
run_cab "$T/skips2" tasks validate --host-rootfs aider-polyglot/python-skips-tests
assert_rc 0 "without min_tests the same task validates (what min_tests defends against)"

finish
