#!/bin/bash
# --shard K/N and cab merge: three shards of a 24-cell plan (oracle and nop
# x four quick tasks x reruns 3) hold every cell exactly once between them,
# each shard's --dry-run lists exactly what it runs, and the shards merged
# equal the unsharded sweep cell for cell (outcome and pass_rate per cell
# path).  Merging again is a no-op; a cell present twice with different
# cell.json contents is refused with one line and nothing written; the
# merged tree can be --resumed (nothing left to run).  Two shards may share
# one output directory and run at the same time.
# shellcheck disable=SC2016 # jq programs are quoted on purpose
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=../fixtures/sweep/lib.sh
. "$TESTS_DIR/fixtures/sweep/lib.sh"
sweep_setup
quick_plan sharded 3
ALL=$(expected_keys "oracle nop" cab/none "$QUICK_TASK_IDS" 3)

run_cab "$T/full" sweep "$T/plan.json" --out "$T/full-out" -j 2
assert_rc 0 "the unsharded sweep exits 0"
assert_eq "$(cells_in "$T/full-out/sharded")" "$ALL" "the unsharded sweep holds the plan's 24 cells"

: >"$T/listed"
for k in 1 2 3; do
  run_cab "$T/dry$k" sweep "$T/plan.json" --shard "$k/3" --dry-run
  assert_rc 0 "shard $k/3 --dry-run exits 0"
  assert_match "$(tail -n1 "$T/dry$k")" "^[0-9]+ cells \(shard $k/3 of 24\)$" "shard $k/3 --dry-run counts its share"
  grep '/run-' "$T/dry$k" | awk '{print $1}' | sort >"$T/dry$k.keys"
  cat "$T/dry$k.keys" >>"$T/listed"
  run_cab "$T/s$k" sweep "$T/plan.json" --shard "$k/3" --out "$T/shards/s$k" -j 2
  assert_rc 0 "shard $k/3 exits 0"
  assert_eq "$(cells_in "$T/shards/s$k/sharded")" "$(cat "$T/dry$k.keys")" "shard $k/3 ran exactly the cells its --dry-run listed"
  n=$(wc -l <"$T/dry$k.keys")
  assert_cmp "$n" -ge 7 "shard $k/3 has its share of equal cells (24/3 = 8, +-1)"
  assert_cmp "$n" -le 9 "shard $k/3 is not overloaded"
done
assert_eq "$(sort "$T/listed")" "$ALL" "the three shards' cells are the plan's, each in exactly one shard"
run_cab "$T/dry1b" sweep "$T/plan.json" --shard 1/3 --dry-run
assert_eq "$(cat "$T/dry1b")" "$(cat "$T/dry1")" "sharding is deterministic"

# --- merge ---------------------------------------------------------------------------
run_cab "$T/m1" merge "$T/shards/s1" "$T/shards/s2" "$T/shards/s3" --out "$T/merged"
assert_rc 0 "cab merge exits 0"
assert_eq "$(cat "$T/m1")" "merged 24 cells into $T/merged (0 already there or duplicated; $(find "$T/shards" -path '*/run-*/*' -type f -not -path '*/.*' | wc -l) files linked, 0 copied)" \
  "cab merge says what it did (same filesystem: hard links)"
summary_of "$T/full-out" >"$T/full.sum"
summary_of "$T/merged" >"$T/merged.sum"
assert_eq "$(wc -l <"$T/merged.sum")" 24 "the merged tree holds 24 cells"
if cmp -s "$T/full.sum" "$T/merged.sum"; then
  pass "the merged shards equal the unsharded sweep, cell for cell (outcome and pass_rate)"
else
  fail "merged vs unsharded: $(diff "$T/full.sum" "$T/merged.sum" | head -n 6 | tr '\n' '|')"
fi
f=$(find "$T/merged" -name cell.json | head -n1)
assert_cmp "$(stat -c %h "$f")" -ge 2 "merged files are hard links to the shards' (no copy)"
assert_eq "$(jq -r 'select(.event == "done") | .cell' "$T/merged/sharded/.sweep/journal.jsonl" | sort)" "$ALL" \
  "the merged journal ends every cell"
run_cab "$T/mres" sweep "$T/plan.json" --out "$T/merged" --resume --dry-run
assert_eq "$(tail -n1 "$T/mres")" "24 cells, 0 to run" "the merged tree can be resumed: nothing is left to run"

run_cab "$T/m2" merge "$T/shards/s1" "$T/shards/s2" "$T/shards/s3" --out "$T/merged"
assert_rc 0 "merging the same shards again exits 0"
assert_match "$(cat "$T/m2")" "^merged 0 cells into .* \(24 already there or duplicated;" "... and changes nothing"
run_cab "$T/m3" merge "$T/shards/s1" "$T/shards/s1" --out "$T/merged-dup"
assert_rc 0 "an identical duplicate is fine"
assert_eq "$(cells_in "$T/merged-dup/sharded")" "$(cat "$T/dry1.keys")" "... and lands once"

# A conflicting duplicate: the same cell with a different record.
cp -a "$T/shards/s2" "$T/s2-other"
c=$(head -n1 "$T/dry2.keys")
jq '.outcome = "agent_error"' "$T/s2-other/sharded/$c/cell.json" >"$T/x" && mv "$T/x" "$T/s2-other/sharded/$c/cell.json"
run_cab "$T/m4" merge "$T/shards/s1" "$T/shards/s2" "$T/s2-other" --out "$T/merged-bad"
assert_rc 125 "a conflicting duplicate: exit 125"
assert_eq "$(cat "$T/m4.err")" \
  "cab: merge: conflicting cell sharded/$c: $T/shards/s2/sharded/$c/cell.json and $T/s2-other/sharded/$c/cell.json differ (the same cell, run twice with different results; keep one)" \
  "... with one line naming the cell and both records"
[ -e "$T/merged-bad" ] && fail "a refused merge wrote $T/merged-bad" || pass "a refused merge writes nothing"
run_cab "$T/m5" merge "$T/s2-other" --out "$T/merged"
assert_rc 125 "a cell that conflicts with the output directory's: exit 125"
run_cab "$T/m6" merge "$T/nonexistent" --out "$T/merged"
assert_rc 125 "a missing input: exit 125"
assert_eq "$(wc -l <"$T/m6.err")" 1 "... one line"
run_cab "$T/m7" merge "$T/shards/s1"
assert_rc 125 "merge without --out: exit 125"

# --- two shards at once into one directory ------------------------------------------
"$CAB" sweep "$T/plan.json" --shard 1/2 --out "$T/shared" -j 1 >"$T/p1" 2>"$T/p1.err" </dev/null &
p1=$!
"$CAB" sweep "$T/plan.json" --shard 2/2 --out "$T/shared" -j 1 >"$T/p2" 2>"$T/p2.err" </dev/null &
p2=$!
wait "$p1"
r1=$?
wait "$p2"
r2=$?
assert_eq "$r1 $r2" "0 0" "two shards run at once into one output directory ($(head -c 200 "$T/p1.err" "$T/p2.err" | tr '\n' '|'))"
summary_of "$T/shared" >"$T/shared.sum"
if cmp -s "$T/full.sum" "$T/shared.sum"; then
  pass "... together they equal the unsharded sweep"
else
  fail "shared vs unsharded: $(diff "$T/full.sum" "$T/shared.sum" | head -n 6 | tr '\n' '|')"
fi
finish
