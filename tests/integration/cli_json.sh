#!/bin/bash
# --json on the listings and reports a script reads: `cab tasks list`, `cab
# adapters list`, `cab images`, `cab doctor`, `cab sweep` (its summary, and
# its --dry-run listing).  Each output parses with jq, has exactly its
# documented keys (schema first where it is a listing), numbers as numbers,
# and says what the human output says: the same tasks, adapters and images
# in the same order with the same columns; doctor's statuses, advice, limit
# mechanisms, summary line and exit code those of its text; a sweep's rows
# those of its table, with the progress still on stderr and nothing but the
# object on stdout.  A misspelt --json is one line, exit 125.
# shellcheck disable=SC2016 # jq programs are quoted on purpose
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=../fixtures/sweep/lib.sh
. "$TESTS_DIR/fixtures/sweep/lib.sh"
sweep_setup

# keys_are FILE JQ-PATH "k1 k2 ..." MESSAGE: the object(s) at JQ-PATH have
# exactly these keys, in this order.
keys_are() {
  assert_json "[$2 | keys_unsorted | join(\" \")] | unique | join(\"|\")" "$3" "$1" "$4"
}

# --- tasks list -------------------------------------------------------------------
run_cab "$T/tasks.txt" tasks list
assert_rc 0 "tasks list exits 0"
run_cab "$T/tasks.json" tasks list --json
assert_rc 0 "tasks list --json exits 0"
assert_json_valid "$T/tasks.json" "tasks list --json is JSON"
keys_are "$T/tasks.json" . "schema count tasks" "tasks list --json: schema, count, tasks"
assert_json .schema cab.tasks/v1 "$T/tasks.json" "tasks list --json: its schema"
keys_are "$T/tasks.json" '.tasks[]' "task_id family name language max_turns timeout_s expected_refusal" \
  "every task has task_id, family, name, language, max_turns, timeout_s, expected_refusal"
assert_jq '[.tasks[] | (.max_turns | type) == "number" and (.timeout_s | type) == "number"
  and (.expected_refusal | type) == "boolean" and .task_id == "\(.family)/\(.name)"] | all' \
  "$T/tasks.json" "numbers are numbers, expected_refusal a boolean, task_id family/name"
assert_json '.count' "$(($(wc -l <"$T/tasks.txt") - 1))" "$T/tasks.json" "count is the table's rows"
assert_cmp "$(jget .count "$T/tasks.json")" -ge 4 "the bundled tasks are listed"
assert_eq "$(jq -r '.tasks[] | "\(.task_id) \(.language) \(.max_turns) \(.timeout_s)s\(if .expected_refusal then " expected_refusal" else "" end)"' "$T/tasks.json")" \
  "$(tail -n +2 "$T/tasks.txt" | tr -s ' ' | sed 's/ $//')" \
  "the same tasks, in the same order, with the same language, turns, timeout and note"

run_cab "$T/tasks2.json" tasks --json
assert_eq "$(cat "$T/tasks2.json")" "$(cat "$T/tasks.json")" "cab tasks --json is cab tasks list --json (list is the default)"

# --- adapters list ----------------------------------------------------------------
run_cab "$T/adapters.txt" adapters list
assert_rc 0 "adapters list exits 0"
run_cab "$T/adapters.json" adapters list --json
assert_rc 0 "adapters list --json exits 0"
assert_json_valid "$T/adapters.json" "adapters list --json is JSON"
keys_are "$T/adapters.json" . "schema count adapters" "adapters list --json: schema, count, adapters"
assert_json .schema cab.adapters/v1 "$T/adapters.json" "adapters list --json: its schema"
keys_are "$T/adapters.json" '.adapters[]' "tui wire image builtin description file error" \
  "every adapter has tui, wire, image, builtin, description, file, error"
assert_json '.count' "$(wc -l <"$T/adapters.txt")" "$T/adapters.json" "count is the text's lines"
assert_jq '[.adapters[].tui] | index("oracle") != null and index("nop") != null and index("cab-agent") != null' \
  "$T/adapters.json" "the built-in agents are listed"
assert_eq "$(jq -r '.adapters[] | "\(.tui) wire=\(.wire) \(if .builtin then "(built in)" elif .image then .image else "(no default image)" end)"' "$T/adapters.json")" \
  "$(tr -s ' ' <"$T/adapters.txt")" "the same adapters, in the same order, with the same wire and image"
run_cab "$T/adapters2.json" adapters --json
assert_eq "$(cat "$T/adapters2.json")" "$(cat "$T/adapters.json")" "cab adapters --json is cab adapters list --json"
# A broken adapter file is an entry with its error, as the text's "(broken: ...)".
export CAB_ADAPTERS_DIR=$T/adapters
mkdir -p "$CAB_ADAPTERS_DIR"
printf '{"schema": "cab.adapter/v1", "tui": "broken"' >"$CAB_ADAPTERS_DIR/broken.json"
test_adapter fine 'true'
run_cab "$T/ab.txt" adapters list
run_cab "$T/ab.json" adapters list --json
assert_match "$(cat "$T/ab.txt")" '^broken +\(broken: ' "text: the broken file says so"
assert_jq '.adapters[] | select(.tui == "broken") | (.error | type) == "string" and .wire == null' \
  "$T/ab.json" "--json: the broken file has its error, and no wire"
assert_json '.adapters[] | select(.tui == "fine") | [.wire, .error, .builtin]' '["none",null,false]' \
  "$T/ab.json" "--json: a good file beside it loads"
unset CAB_ADAPTERS_DIR

# --- images -----------------------------------------------------------------------
run_cab "$T/img0.json" images --json
assert_rc 0 "images --json exits 0 on an empty store"
assert_json '[.schema, .count, .images]' '["cab.images/v1",0,[]]' "$T/img0.json" "an empty store: count 0, no images"
if command -v umoci >/dev/null 2>&1 &&
  "$TESTS_DIR/images/busybox-image.sh" "$T/layout" t1 >"$T/layout.log" 2>&1; then
  run_cab "$T/imp" import "$T/layout" --name json-test/bb:1
  assert_rc 0 "an image imports"
  run_cab "$T/imp2" import "$T/layout" --name localhost/other:2
  run_cab "$T/img.txt" images
  run_cab "$T/img.json" images --json
  assert_rc 0 "images --json exits 0"
  keys_are "$T/img.json" . "schema count images" "images --json: schema, count, images"
  keys_are "$T/img.json" '.images[]' \
    "name repository tag digest index_digest media_type platform size short_repository" \
    "every image has name, repository, tag, digest, index_digest, media_type, platform, size, short_repository"
  assert_json '.count' 2 "$T/img.json" "count: the two names"
  assert_jq '[.images[].size | type == "number" and . > 0] | all' "$T/img.json" "size is a number of bytes"
  assert_eq "$(jq -r '.images[] | "\(.short_repository) \(.tag // "<none>") \(.digest[:19]) \(.platform)"' "$T/img.json")" \
    "$(tail -n +2 "$T/img.txt" | awk '{print $1, $2, $3, $4}')" \
    "the same images, in the same order, with the same repository, tag, digest and platform"
else
  say "skip part: umoci is not installed or busybox-image.sh failed: images with content not compared"
fi

# --- doctor -----------------------------------------------------------------------
run_cab "$T/doc.txt" doctor
doc_rc=$RC
run_cab "$T/doc.json" doctor --json
assert_eq "$RC" "$doc_rc" "doctor --json exits as doctor does ($doc_rc)"
assert_json_valid "$T/doc.json" "doctor --json is JSON"
keys_are "$T/doc.json" . "schema ok status summary checks advice limits facts" \
  "doctor --json: schema, ok, status, summary, checks, advice, limits, facts"
keys_are "$T/doc.json" '.checks[]' "name label kind status ok detail fix" \
  "every check has name, label, kind, status, ok, detail, fix"
keys_are "$T/doc.json" .limits "memory pids cpu reason" "limits: memory, pids, cpu, reason"
assert_json .schema cab.doctor/v1 "$T/doc.json" "doctor --json: its schema"
assert_jq '[.checks[].status | IN("ok", "warn", "fail", "skip")] | all' "$T/doc.json" \
  "every status is ok, warn, fail or skip"
# The text's status of each line: yes, or no with its note.
text_status() {
  sed -n 's/^  \([A-Za-z][^:]*\): \{1,\}\(yes\|no\) (.*/\1|\2|&/p' "$1" | while IFS='|' read -r label word line; do
    case $word:$line in
    yes:*) s=ok ;;
    *'[warning: cells still run]') s=warn ;;
    *'[info]' | *'[skipped]') s=skip ;;
    *) s=fail ;;
    esac
    printf '%s %s\n' "$label" "$s"
  done
}
assert_eq "$(jq -r '.checks[] | "\(.label) \(.status)"' "$T/doc.json")" "$(text_status "$T/doc.txt")" \
  "each check's status is its text line's (yes; no with a warning, an info or a skip note; else fail)"
assert_eq "$(jq -r '.advice[]' "$T/doc.json")" "$(sed -n 's/^ \{25\}fix: //p' "$T/doc.txt")" \
  "advice: the fix lines the text prints, in order"
assert_json '.summary' "$(tail -n 1 "$T/doc.txt")" "$T/doc.json" "summary: the text's last line"
assert_json '"  cell limits by:        memory=\(.limits.memory) pids=\(.limits.pids) cpu=\(.limits.cpu)"' \
  "$(grep '^  cell limits by:' "$T/doc.txt")" "$T/doc.json" "limits: the mechanisms the text names"
assert_json '[.ok, .status == "fail"] | .[0] != .[1]' true "$T/doc.json" "ok is status != fail"
# Where the map write fails (a read-only /proc, as doctor.sh makes it): the
# failed and the untried checks agree too, and so does the exit code.
readonly_proc='mount -o remount,bind,ro /proc && exec "$@"'
if is_root; then
  restricted=(unshare --mount --propagation private sh -c "$readonly_proc" sh)
else
  restricted=(unshare --user --map-root-user --mount sh -c "$readonly_proc" sh)
fi
if "${restricted[@]}" true 2>/dev/null; then
  "${restricted[@]}" "$CAB" doctor >"$T/rdoc.txt" 2>&1
  rdoc_rc=$?
  "${restricted[@]}" "$CAB" doctor --json >"$T/rdoc.json" 2>/dev/null
  assert_eq "$?:$rdoc_rc" "1:1" "restricted: doctor and doctor --json exit 1"
  assert_eq "$(jq -r '.checks[] | "\(.label) \(.status)"' "$T/rdoc.json")" "$(text_status "$T/rdoc.txt")" \
    "restricted: each check's status is its text line's"
  assert_jq '[.checks[].status] | index("fail") != null' "$T/rdoc.json" "restricted: a check fails"
  assert_json '[.ok, .status]' '[false,"fail"]' "$T/rdoc.json" "restricted: ok false, status fail"
  assert_eq "$(jq -r '.advice[]' "$T/rdoc.json")" "$(sed -n 's/^ \{25\}fix: //p' "$T/rdoc.txt")" \
    "restricted: advice is the fix lines printed"
  assert_json '.summary' "$(tail -n 1 "$T/rdoc.txt")" "$T/rdoc.json" "restricted: summary is the last line"
else
  say "skip part: cannot make /proc read-only here: the failing doctor is not compared"
fi
if is_root; then
  assert_jq '.limits | [.memory, .pids, .cpu] | all(startswith("cgroup-"))' "$T/doc.json" \
    "root: a cgroup holds memory, pids and cpu"
  assert_json '.limits.reason' null "$T/doc.json" "root: no reason (every limit by a cgroup)"
elif [ "$(jget .facts.cgroup_mode "$T/doc.json")" != unified ]; then
  assert_json '[.status, .limits.memory, .limits.pids]' '["warn","rlimit","rlimit"]' "$T/doc.json" \
    "user on cgroup v1: a warning; memory and pids by rlimits"
  assert_jq '(.limits.reason | type) == "string" and (.advice | length) >= 1' "$T/doc.json" \
    "user on cgroup v1: the reason, and the advice the text prints"
fi

# --- sweep ------------------------------------------------------------------------
quick_plan jsonsweep 1
run_cab "$T/dry.txt" sweep "$T/plan.json" --dry-run --out "$T/out"
run_cab "$T/dry.json" sweep "$T/plan.json" --dry-run --json --out "$T/out"
assert_rc 0 "sweep --dry-run --json exits 0"
keys_are "$T/dry.json" . "schema sweep_id shard count to_run cells images" \
  "sweep --dry-run --json: schema, sweep_id, shard, count, to_run, cells, images"
assert_json '[.schema, .count, .shard, .to_run]' '["cab.sweep.dry_run/v1",8,null,null]' "$T/dry.json" \
  "the dry run: its schema, 8 cells, no shard, to_run only with --resume"
assert_eq "$(jq -r '.cells[] | "\(.key) \(.image)"' "$T/dry.json")" \
  "$(grep '/run-1 ' "$T/dry.txt" | tr -s ' ')" "the dry run: the same cells and images as the listing"
assert_json '.images' '[{"image":"host-rootfs","cells":8}]' "$T/dry.json" "the dry run: the images and their cells"

CAB_TEST_TIMEOUT=300 run_cab "$T/sw.json" sweep "$T/plan.json" -j 2 --json --out "$T/out"
assert_rc 0 "sweep --json exits 0"
assert_json_valid "$T/sw.json" "sweep --json: stdout is one JSON object"
assert_eq "$(jq -s length "$T/sw.json")" 1 "  ...and nothing else"
assert_match "$(tail -n 1 "$T/sw.json.err")" '^cab: sweep jsonsweep: 8/8 done \(4 pass, 4 fail, 0 error\)' \
  "the progress stays on stderr"
keys_are "$T/sw.json" . "schema sweep_id sweep_dir shard cells done pass fail error elapsed_s rows" \
  "sweep --json: schema, sweep_id, sweep_dir, shard, cells, done, pass, fail, error, elapsed_s, rows"
keys_are "$T/sw.json" '.rows[]' "tui model cells pass fail timeout agent_error infra_error no_record composite" \
  "every row: tui, model, cells, pass, fail, timeout, agent_error, infra_error, no_record, composite"
assert_json '[.schema, .sweep_id, .cells, .done, .pass, .fail, .error]' \
  '["cab.sweep.summary/v1","jsonsweep",8,8,4,4,0]' "$T/sw.json" "the counts: 8 cells, 4 pass, 4 fail"
assert_jq '.sweep_dir | endswith("/out/jsonsweep")' "$T/sw.json" "sweep_dir: where the cells are"
assert_jq '(.elapsed_s | type) == "number" and ([.rows[].composite | type == "number"] | all)' \
  "$T/sw.json" "elapsed_s and each row's composite are numbers"
# The same sweep again with --resume runs nothing and prints the table.
run_cab "$T/sw.txt" sweep "$T/plan.json" --resume --out "$T/out"
assert_rc 0 "the sweep resumed, as text, exits 0"
assert_eq "$(jq -r '.rows[] | "\(.tui) \(.model) \(.cells) \(.pass) \(.fail) \(.timeout) \(.agent_error) \(.infra_error) \(.composite)"' "$T/sw.json" |
  awk '{ $NF = sprintf("%.3f", $NF); print }')" \
  "$(tail -n +2 "$T/sw.txt" | tr -s ' ')" "the rows are the table's: tui, model, counts and mean composite"
assert_eq "$(jq -r '"\(.cells) \(.pass) \(.fail)"' "$T/sw.json")" \
  "$(find "$T/out/jsonsweep" -name cell.json -not -path '*/.*' | wc -l) $(find "$T/out/jsonsweep" -name cell.json -not -path '*/.*' -exec jq -r .outcome {} + | grep -c '^pass$') $(find "$T/out/jsonsweep" -name cell.json -not -path '*/.*' -exec jq -r .outcome {} + | grep -c '^fail$')" \
  "cells, pass and fail are the cells' own records"

# --- a misspelt --json ------------------------------------------------------------
for cmd in "tasks list" "adapters list" images doctor; do
  # shellcheck disable=SC2086 # the subcommand splits on purpose
  run_cab "$T/bad" $cmd --jsn
  assert_eq "$RC:$(wc -l <"$T/bad.err")" "125:1" "$cmd --jsn: one line, exit 125"
  assert_match "$(cat "$T/bad.err")" "did you mean '--json'" "$cmd --jsn: did you mean --json"
done
finish
