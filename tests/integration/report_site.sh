#!/bin/bash
# cab report, checked in a real browser: a small results tree of real cells
# (oracle and nop on two tasks, two runs each; the scripted opencode cell
# when /opt/cab-agents has opencode; one real cell with injections appended
# to its agent.log, diff.patch and terminal.cast; and the hostile fixture,
# whose every string is an injection), then `cab report`, then headless
# Chromium from file://:
#   - --dump-dom: the leaderboard has one visible row per TUI x model, and a
#     cell page has every section (by id) with the strip as published;
#   - --screenshot: a PNG of a cell page;
#   - the DevTools protocol (tests/fixtures/report/cdp.py, over
#     --remote-debugging-pipe): no console error, exception, failed load or
#     CSP violation on any page, no dialog (alert) ever opens, no element
#     carries an event-handler attribute; sorting and the filters work; the
#     terminal player's text grows after autoplay and after a click on play;
#     the waterfall's step control moves the highlighted span.
#   - and the detector itself fails on a deliberately broken page.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=../fixtures/proxy/net_lib.sh
. "$TESTS_DIR/fixtures/proxy/net_lib.sh"
CHROMIUM=${CAB_CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || skip "chromium not installed (make deps)"
command -v python3 >/dev/null 2>&1 || skip "python3 not installed (make deps)"
setup --bare
"$CAB" report --help >/dev/null 2>&1 || skip "this cab has no report command"
CDP=$TESTS_DIR/fixtures/report/cdp.py
HOSTILE=$TESTS_DIR/fixtures/report/hostile
export HOME=$T/home
mkdir -p "$HOME"
RES=$T/results
SITE=$T/site
CHROME_FLAGS=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
  --disable-background-networking --disable-component-update --disable-sync)

# chrome ARGS...: one headless run with a fresh profile, its log kept apart.
chrome() {
  local ud
  ud=$(mktemp -d "$T/profile.XXXXXX")
  timeout -k 5 60 "$CHROMIUM" "${CHROME_FLAGS[@]}" --user-data-dir="$ud" "$@" 2>>"$T/chromium.err"
}

# cdp NAME PLAN-JSON: run a DevTools plan; the result in $T/NAME.json.
cdp() {
  local ud
  ud=$(mktemp -d "$T/profile.XXXXXX")
  printf '%s\n' "$2" >"$T/$1.plan.json"
  if ! timeout -k 5 90 python3 "$CDP" "$CHROMIUM" "$ud" "$T/$1.plan.json" >"$T/$1.json" 2>"$T/$1.err"; then
    say "  cdp.py: $(head -c 600 "$T/$1.err") / chromium: $(tail -n 5 "$ud/chromium.log" 2>/dev/null | tr '\n' '|')"
    return 1
  fi
}

# ---- 1. the detector fails on a broken page ---------------------------------------
mkdir -p "$T/broken"
cat >"$T/broken/index.html" <<'EOF'
<!doctype html><html><head><meta charset="utf-8"><title>broken</title>
<script src="missing.js"></script></head><body><p id="p">broken on purpose</p>
<script>console.error("deliberate console error"); alert("deliberate alert"); null.deliberate;</script>
</body></html>
EOF
if cdp broken '[{"open": "file://'"$T"'/broken/index.html"}, {"eval": "document.getElementById(\"p\").textContent", "name": "p"}]'; then
  B=$T/broken.json
  assert_json '.values.p' "broken on purpose" "$B" "detector: the broken page was loaded and read"
  assert_jq '[.errors[].kind] | index("exception") != null' "$B" "detector: an uncaught exception is reported"
  assert_jq '[.errors[].kind] | index("console.error") != null' "$B" "detector: console.error is reported"
  assert_jq '[.errors[] | select(.kind == "log:network" and (.text | test("missing.js")))] | length == 1' "$B" \
    "detector: a resource that fails to load is reported"
  assert_jq '[.dialogs[].message] == ["deliberate alert"]' "$B" "detector: an alert dialog is reported"
else
  fail "detector: cdp.py could not drive chromium"
fi

# ---- 2. a results tree of real cells ---------------------------------------------------
for run in 1 2; do
  for tui in oracle nop; do
    for task in polyglot/python-reverse-string polyglot/shell-word-count; do
      run_cab "$T/cell.out" run-cell --tui "$tui" --model none/x --task "$task" --host-rootfs \
        --sweep-id site --run "$run" --out "$RES"
      assert_rc 0 "run-cell $tui $task run $run"
    done
  done
done
groups=2
CELL=$RES/site/oracle/none/x/polyglot/python-reverse-string/run-2
OC=""
if [ -x /opt/cab-agents/bin/opencode ]; then
  start_model_server_file opencode-fix "$TESTS_DIR/model/agents/opencode-fix.json"
  run_cab "$T/oc.out" run-cell --tui opencode --model scripted/opencode-fix \
    --task polyglot/python-reverse-string --host-rootfs --endpoint "$MS_URL" --sweep-id site \
    --out "$RES" --record "$T/opencode.cassette.jsonl"
  assert_rc 0 "run-cell opencode (scripted) exits 0"
  OC=site/opencode/scripted/opencode-fix/polyglot/python-reverse-string
  groups=$((groups + 1))
else
  say "# note: /opt/cab-agents/bin/opencode is not installed (make deps): no opencode cell, its checks are skipped"
fi
# A real cell whose agent output, diff and recording carry injections.
P1='<script>window.__pwned=1;alert(1)</script>'
P2='"><img src=x onerror="window.__pwned=2;alert(2)">'
printf 'agent says %s %s\n' "$P1" "$P2" >>"$CELL/agent.log"
printf '+%s\n+%s\n' "$P1" "$P2" >>"$CELL/diff.patch"
jq -cn --arg s "$P1 $P2"$'\r\n' '[0.2, "o", $s]' >>"$CELL/terminal.cast"
# The hostile fixture, in a directory whose name is an injection too.
H="$RES/site/x\"><img src=x onerror=alert(8)>"
mkdir -p "$H" && cp "$HOSTILE"/* "$H/"
groups=$((groups + 1))

# ---- 3. the site --------------------------------------------------------------------------
run_cab "$T/report.out" report "$RES" --out "$SITE"
assert_rc 0 "cab report exits 0"
assert_match "$(cat "$T/report.out")" "^wrote .*: [0-9]+ cells, $groups TUI x model" "cab report says what it wrote"
[ -f "$SITE/index.html" ] || bail "no $SITE/index.html"
# the page of a cell: the rel path, slugged as cab report does
page_of() { printf '%s/cell/%s/index.html' "$SITE" "$1"; }
ORACLE_PAGE=$(page_of site/oracle/none/x/polyglot/python-reverse-string/run-2)
HOSTILE_PAGE=$(page_of 'site/x___img_src=x_onerror=alert_8__')
PLAYER_PAGE=$ORACLE_PAGE
[ -n "$OC" ] && PLAYER_PAGE=$(page_of "$OC")
for p in "$ORACLE_PAGE" "$HOSTILE_PAGE" "$PLAYER_PAGE"; do
  [ -f "$p" ] || fail "cell page $p exists"
done

# ---- 4. --dump-dom: rows and sections ---------------------------------------------------------
chrome --dump-dom "file://$SITE/index.html" >"$T/index.dom"
rows=$(grep -o '<tr class="lb" data-family="" data-language="">' "$T/index.dom" | wc -l)
assert_eq "$rows" "$groups" "leaderboard: one visible row per TUI x model (dumped DOM)"
assert_match "$(grep -c 'id="chart-pareto-tokens"' "$T/index.dom")" '^1$' "index: the Pareto chart is inline"
chrome --dump-dom "file://$PLAYER_PAGE" >"$T/cell.dom"
for id in scores identity timing scorers trace waterfall terminal reproduce spans model-calls diff logs related badge; do
  assert_match "$(grep -c "id=\"$id\"" "$T/cell.dom")" '^[1-9]' "cell page: section #$id"
done
chrome --dump-dom "file://$ORACLE_PAGE" >"$T/oracle.dom"
assert_match "$(cat "$T/oracle.dom")" '<dt>Pass</dt><dd>1\.000</dd>' "oracle cell: Pass 1.000"
assert_match "$(cat "$T/oracle.dom")" '<dt>Wall</dt><dd>[0-9]+\.[0-9]s</dd>' "oracle cell: Wall as 0.1s"
assert_match "$(cat "$T/oracle.dom")" '<dt>Refusal</dt><dd></dd>' "oracle cell: Refusal blank (not applicable)"
assert_match "$(cat "$T/oracle.dom")" '<dt>Tokens/correct</dt><dd></dd>' "oracle cell: Tokens/correct blank (no tokens)"
assert_match "$(tr -d '\n' <"$T/oracle.dom")" 'cab run-cell \\ +--tui oracle \\ +--model none/x \\ +--task polyglot/python-reverse-string \\ +--host-rootfs \\ +--memory [0-9]+[KMGT]? \\ +--pids [0-9]+</code>' \
  "oracle cell: the exact run-cell command, --host-rootfs and the limits it ran with"
assert_match "$(tr -d '\n' <"$T/oracle.dom")" '--replay cassette\.jsonl</code>' "oracle cell: the --replay command"
[ -f "$(dirname "$ORACLE_PAGE")/cassette.jsonl" ] && pass "oracle cell: its (empty) cassette is beside the page" ||
  fail "oracle cell: no cassette.jsonl beside the page"
if [ -n "$OC" ]; then
  assert_eq "$(cmp -s "$T/opencode.cassette.jsonl" "$(dirname "$PLAYER_PAGE")/cassette.jsonl" && echo same)" same \
    "opencode cell: the recorded cassette is copied beside the page"
  calls=$(grep -c . "$RES/$OC/model_calls.jsonl")
  assert_eq "$(grep -o '<h2>Model calls ([0-9]*)</h2>' "$T/cell.dom")" "<h2>Model calls ($calls)</h2>" \
    "opencode cell: one row per model call"
  assert_match "$(cat "$T/cell.dom")" "<dt>total_tokens</dt><dd>$(jq -r '.scorers.tokens.total_tokens' "$RES/$OC/cell.json" |
    sed -E ':a;s/^([0-9]+)([0-9]{3})/\1,\2/;ta')</dd>" "opencode cell: the proxy's tokens in Timing"
fi

# ---- 5. --screenshot ---------------------------------------------------------------------------
chrome --window-size=1280,2400 --screenshot="$T/cell.png" "file://$PLAYER_PAGE" >/dev/null
assert_eq "$(head -c 8 "$T/cell.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')" 89504e470d0a1a0a "screenshot: a PNG of the cell page"
assert_cmp "$(stat -c %s "$T/cell.png" 2>/dev/null || echo 0)" -gt 20000 "screenshot: not blank"
[ -n "${CAB_REPORT_SCREENSHOT:-}" ] && cp "$T/cell.png" "$CAB_REPORT_SCREENSHOT" 2>/dev/null

# ---- 6. the DevTools protocol: console errors, clicks, the player ------------------------------------
TASK_PAGE=$SITE/task/polyglot/python-reverse-string/index.html
GROUP_PAGE=$SITE/tm/oracle/none/x/index.html
SAFE='JSON.stringify({handlers: document.querySelectorAll("[onerror],[onload],[onclick],[onmouseover]").length, pwned: typeof window.__pwned, scripts: Array.from(document.scripts).filter(function(s){return !(s.src && /assets\/report\.js$/.test(s.src)) && s.type !== "application/json";}).length})'
ROWS='document.querySelectorAll("#board tbody tr:not([hidden])").length'
FIRST_COL='Array.from(document.querySelectorAll("#board tbody tr:not([hidden]) td:first-child")).map(function(e){return e.textContent}).join(",")'
TERM_LEN='document.getElementById("term").textContent.length'
PLAN=$(jq -n --arg index "file://$SITE/index.html" --arg player "file://$PLAYER_PAGE" \
  --arg hostile "file://$HOSTILE_PAGE" --arg oracle "file://$ORACLE_PAGE" --arg task "file://$TASK_PAGE" \
  --arg group "file://$GROUP_PAGE" --arg safe "$SAFE" --arg rows "$ROWS" --arg first "$FIRST_COL" \
  --arg term "$TERM_LEN" --arg shot "$T/cdp.png" '[
  {open: $index}, {eval: $rows, name: "rows"}, {eval: $safe, name: "index_safe"},
  {click: "#board thead th:nth-child(1) button"}, {eval: $first, name: "sorted_asc"},
  {click: "#board thead th:nth-child(1) button"}, {eval: $first, name: "sorted_desc"},
  {eval: "var s=document.getElementById(\"filter-family\"); s.value=\"polyglot\"; s.dispatchEvent(new Event(\"change\")); document.querySelectorAll(\"#board tbody tr:not([hidden])\").length", name: "rows_polyglot"},
  {eval: "var s=document.getElementById(\"filter-language\"); s.value=\"sh\"; s.dispatchEvent(new Event(\"change\")); document.querySelectorAll(\"#board tbody tr:not([hidden])\").length", name: "rows_polyglot_sh"},
  {open: ($player + "?autoplay=1&speed=4")}, {eval: $term, name: "auto0"}, {sleep: 1.5}, {eval: $term, name: "auto1"},
  {eval: "var k=document.getElementById(\"term-seek\"); k.value=k.max; k.dispatchEvent(new Event(\"input\")); document.getElementById(\"term\").textContent.length", name: "seek_end"},
  {eval: "var k=document.getElementById(\"term-seek\"); k.value=0; k.dispatchEvent(new Event(\"input\")); document.getElementById(\"term\").textContent.length", name: "seek_start"},
  {open: ($player + "?speed=10")}, {eval: $term, name: "click0"}, {click: "#term-play"}, {sleep: 2}, {eval: $term, name: "click1"},
  {eval: "document.querySelector(\".wf-row.current\").id", name: "wf0"},
  {click: "#wf-next"}, {click: "#wf-next"},
  {eval: "document.querySelector(\".wf-row.current\").id + \" \" + document.querySelectorAll(\".span-detail:not([hidden])\").length + \" \" + document.getElementById(\"span-detail-2\").hidden", name: "wf2"},
  {eval: "document.getElementById(\"wf-time\").textContent", name: "wf_time"},
  {eval: $safe, name: "player_safe"}, {screenshot: $shot},
  {open: ($oracle + "?autoplay=1&speed=10")}, {sleep: 0.8}, {eval: $term, name: "oracle_term"}, {eval: $safe, name: "oracle_safe"},
  {eval: "document.getElementById(\"term\").textContent.indexOf(\"onerror=\") >= 0 && document.getElementById(\"agent-log\").textContent.indexOf(\"<script>\") >= 0", name: "oracle_payload_as_text"},
  {open: ($hostile + "?autoplay=1&speed=10")}, {sleep: 0.8}, {eval: $safe, name: "hostile_safe"},
  {eval: "document.body.textContent.indexOf(\"<script>alert(1)</script>\") >= 0 && document.getElementById(\"term\").textContent.indexOf(\"</script><script>alert(4)\") >= 0", name: "hostile_payload_as_text"},
  {open: $task}, {eval: "[\"prompt\",\"budget\",\"constraints\",\"agents-md\"].filter(function(i){return document.getElementById(i)}).length", name: "task_sections"},
  {eval: "document.getElementById(\"prompt\").textContent.indexOf(\"## Verify\") >= 0", name: "task_prompt"},
  {open: $group}, {eval: "document.querySelectorAll(\"#cells tbody tr\").length", name: "group_cells"}
]')
if cdp site "$PLAN"; then
  S=$T/site.json
  assert_jq '.errors == []' "$S" "no console error, exception, failed load or CSP violation on any page ($(jq -c '.errors[:3]' "$S"))"
  assert_jq '.dialogs == []' "$S" "no dialog ever opened ($(jq -c '.dialogs' "$S"))"
  assert_json '.values.rows' "$groups" "$S" "leaderboard: $groups rows in the browser"
  assert_json '.values.sorted_asc' "$(jq -r '.values.sorted_asc' "$S" | tr ',' '\n' | LC_ALL=C sort -f | paste -sd, -)" "$S" \
    "leaderboard: sorting by TUI ascending"
  assert_json '.values.sorted_desc' "$(jq -r '.values.sorted_asc' "$S" | tr ',' '\n' | tac | paste -sd, -)" "$S" \
    "leaderboard: a second click sorts descending"
  assert_json '.values.rows_polyglot' "$((groups))" "$S" "filter family=polyglot: every group has polyglot cells"
  assert_json '.values.rows_polyglot_sh' 2 "$S" "filter language=sh: only oracle and nop ran shell-word-count"
  assert_json '.values.auto0 < .values.auto1' true "$S" \
    "player: ?autoplay text grows ($(jq -c '[.values.auto0, .values.auto1]' "$S"))"
  assert_json '.values.seek_end >= .values.auto1 and .values.seek_start == 0' true "$S" \
    "player: seeking to the end shows the whole output, back to 0 clears it ($(jq -c '[.values.seek_end, .values.seek_start]' "$S"))"
  assert_json '.values.click0 == 0 and .values.click1 > 0' true "$S" \
    "player: empty until play is clicked, then text ($(jq -c '[.values.click0, .values.click1]' "$S"))"
  assert_json '.values.wf0' wf-row-0 "$S" "waterfall: the first span is highlighted at first"
  assert_json '.values.wf2' "wf-row-2 1 false" "$S" "waterfall: two steps highlight the third span, one detail shown"
  assert_match "$(jq -r '.values.wf_time' "$S")" '^t = [0-9.]+ m?s / [0-9.]+ m?s$' "waterfall: the time cursor is shown"
  for p in index player oracle hostile; do
    assert_json ".values.${p}_safe" '{"handlers":0,"pwned":"undefined","scripts":0}' "$S" \
      "$p page: no event-handler attribute, no foreign script, nothing ran"
  done
  assert_json '.values.oracle_term | length > 0' true "$S" "injected cast: it plays, as text"
  assert_json '.values.oracle_payload_as_text' true "$S" "injected agent.log and cast: payloads shown as text"
  assert_json '.values.hostile_payload_as_text' true "$S" "hostile cell: payloads shown as text"
  assert_json '.values.task_sections' 4 "$S" "task page: prompt, budget, constraints, AGENTS.md"
  assert_json '.values.task_prompt' true "$S" "task page: the prompt is the workdir's README.md"
  assert_json '.values.group_cells' 4 "$S" "TUI x model page: its four cells"
  assert_eq "$(head -c 4 "$T/cdp.png" | od -An -tx1 | tr -d ' \n')" 89504e47 "DevTools screenshot: a PNG"
else
  fail "cdp.py could not drive chromium over the site"
fi
finish
