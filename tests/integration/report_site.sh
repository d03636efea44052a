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
#   - and the detector itself fails on a deliberately broken page;
#   - the site as the published one (issue 15): a one-sweep site (--sweep)
#     serves cell/<tui>/<model>/<family>/<task> (reruns below it, run-N, with
#     a page listing them) and badge/<tui>/<model>/<family>/<task>.svg, its
#     embed snippets absolute with --base-url; a two-sweep site keeps each
#     sweep under its own prefix, with a Sweeps column and a visible note;
#     "Explore with your own model" carries the adapter's command (compared
#     with `cab adapters render`); the downloads (cell.json, trace.otlp.json,
#     terminal.cast, diff.patch) resolve to copies of the cell's files; the
#     task page names no local path; at 800 px every leaderboard column is
#     within the window or inside a scrolling container, the TUI column
#     pinned; every Pareto point has a <title> and keeps clear of the tick
#     labels; every chart label (the first distribution label of a
#     40-character model name too) lies inside its SVG.
# Artifacts: screenshots of the leaderboard and of a cell page at 1400 and
# 800 px (leaderboard-1400.png, cell-1400.png, leaderboard-800.png,
# cell-800.png) in $CAB_TEST_ARTIFACTS/<root|user>/report_site/, by default
# build/test-artifacts/<root|user>/report_site/ (tests/lib.sh's artifact_dir).
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
# A model id of 40 wide letters: the longest label the charts draw.
WIDE=WWWWWWWWWWMMMMMMMMMMWWWWWWWWWWMMMMMMMMMM/wide
run_cab "$T/wide.out" run-cell --tui nop --model "$WIDE" --task polyglot/python-reverse-string \
  --host-rootfs --sweep-id site --out "$RES"
assert_rc 0 "run-cell nop with a 40-letter model id"
groups=$((groups + 1))
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
# the page of a cell: two sweeps (site, and the hostile cell's), so each
# under its own prefix: cell/<sweep>/<tui>/<model>/<family>/<task>[/run-N]
page_of() { printf '%s/cell/%s/index.html' "$SITE" "$1"; }
ORACLE_PAGE=$(page_of site/oracle/none/x/polyglot/python-reverse-string/run-2)
HOSTILE_PAGE=$(find "$SITE/cell" -path '*/hostile___svg_onload=alert_3__/*' -name index.html | head -n 1)
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
for id in scores identity timing scorers trace waterfall terminal reproduce explore spans model-calls diff logs downloads related badge; do
  assert_match "$(grep -c "id=\"$id\"" "$T/cell.dom")" '^[1-9]' "cell page: section #$id"
done
chrome --dump-dom "file://$ORACLE_PAGE" >"$T/oracle.dom"
assert_match "$(cat "$T/oracle.dom")" '<dt>Pass</dt><dd>1\.000</dd>' "oracle cell: Pass 1.000"
assert_match "$(cat "$T/oracle.dom")" '<dt>Wall</dt><dd>[0-9]+\.[0-9]s</dd>' "oracle cell: Wall as 0.1s"
assert_match "$(cat "$T/oracle.dom")" '<dt>Refusal</dt><dd></dd>' "oracle cell: Refusal blank (not applicable)"
assert_match "$(cat "$T/oracle.dom")" '<dt>Tokens/correct</dt><dd></dd>' "oracle cell: Tokens/correct blank (no tokens)"
assert_match "$(tr -d '\n' <"$T/oracle.dom")" 'cab run-cell \\ +--tui oracle \\ +--model none/x \\ +--task polyglot/python-reverse-string \\ +--host-rootfs \\ +--memory [0-9]+[KMGT]? \\ +--pids [0-9]+ \\ +--timeout [0-9]+ \\ +--max-turns [0-9]+</code>' \
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
# ---- 7. the site as the published one ------------------------------------------------------------------
# One sweep (--sweep site): the published layout, and absolute snippets.
BASE=https://codingagentbench.example
SITE1=$T/site1
run_cab "$T/report1.out" report "$RES" --sweep site --out "$SITE1" --base-url "$BASE/"
assert_rc 0 "cab report --sweep site --base-url"
KEY=oracle/none/x/polyglot/python-reverse-string
for f in "cell/$KEY/index.html" "cell/$KEY/run-1/index.html" "cell/$KEY/run-2/index.html" \
  "badge/$KEY.svg" "badge/$KEY/run-2.svg" "badge/oracle/none/x.svg"; do
  [ -f "$SITE1/$f" ] && pass "one sweep: /$f is served" || fail "one sweep: no /$f"
done
[ -e "$SITE1/cell/site" ] && fail "one sweep: the sweep id is not in front of the cells" ||
  pass "one sweep: no sweep id in front of the cells (cell/<tui>/...)"
[ -f "$SITE/cell/site/$KEY/run-2/index.html" ] && pass "two sweeps: each under its own prefix (cell/site/...)" ||
  fail "two sweeps: no cell/site/$KEY/run-2"
assert_eq "$(sed -n '/id="runs"/,/<\/section>/p' "$SITE1/cell/$KEY/index.html" | grep -o "$KEY/run-[0-9]*/index.html" | sort -u | paste -sd' ' -)" \
  "$KEY/run-1/index.html $KEY/run-2/index.html" \
  "the published address of a rerun cell lists its two runs"
embed_md() { sed -n 's/.*id="embed-md"><code>\([^<]*\)<.*/\1/p' "$1" | sed 's/&amp;/\&/g'; }
assert_match "$(embed_md "$SITE1/cell/$KEY/run-2/index.html")" \
  "^\[!\[CodingAgentBench: oracle × none/x [0-9]+%\]\($BASE/badge/$KEY/run-2\.svg\)\]\($BASE/cell/$KEY/run-2\)\$" \
  "--base-url: the cell's Markdown snippet is absolute, at the published paths"
assert_match "$(sed -n 's/.*id="embed-html"><code>\([^<]*\)<.*/\1/p' "$SITE1/cell/$KEY/run-2/index.html" | sed 's/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g; s/&amp;/\&/g')" \
  "^<a href=\"$BASE/cell/$KEY/run-2\"><img src=\"$BASE/badge/$KEY/run-2\.svg\" alt=\"CodingAgentBench: oracle × none/x [0-9]+%\" /></a>\$" \
  "--base-url: the HTML snippet is absolute too"
assert_match "$(embed_md "$SITE1/cell/$KEY/index.html")" \
  "^\[!\[CodingAgentBench: oracle × none/x [0-9]+%\]\($BASE/badge/$KEY\.svg\)\]\($BASE/cell/$KEY\)\$" \
  "--base-url: the published address's snippet is /badge/<tui>/<model>/<family>/<task>.svg"
assert_match "$(embed_md "$ORACLE_PAGE")" "^\[!\[[^]]*\]\(badge/site/$KEY/run-2\.svg\)\]\(cell/site/$KEY/run-2/index\.html\)\$" \
  "without --base-url the snippet is relative to the site's root"
EXPLORE_PAGE=""
if [ -n "$OC" ]; then
  OCKEY=opencode/scripted/opencode-fix/polyglot/python-reverse-string
  EXPLORE_PAGE=$SITE1/cell/$OCKEY/index.html
  [ -f "$EXPLORE_PAGE" ] && [ -f "$SITE1/badge/$OCKEY.svg" ] && pass "opencode cell: /cell/$OCKEY and /badge/$OCKEY.svg" ||
    fail "opencode cell: no /cell/$OCKEY or /badge/$OCKEY.svg"
  assert_match "$(embed_md "$EXPLORE_PAGE")" \
    "^\[!\[CodingAgentBench: opencode × scripted/opencode-fix [0-9]+%\]\($BASE/badge/$OCKEY\.svg\)\]\($BASE/cell/$OCKEY\)\$" \
    "opencode cell: the snippet as the published page's"
fi

# Downloads: every link of the section is a copy of the cell's own file.
DL_CELL=$RES/site/$KEY/run-2
DL_PAGE=$SITE1/cell/$KEY/run-2/index.html
if [ -n "$OC" ]; then DL_CELL=$RES/$OC; DL_PAGE=$EXPLORE_PAGE; fi
links=$(sed -n '/id="downloads"/,/<\/section>/p' "$DL_PAGE" | grep -o 'href="[^"]*" download' | sed 's/href="\([^"]*\)".*/\1/' | paste -sd' ' -)
assert_eq "$links" "cell.json trace.otlp.json terminal.cast diff.patch" "downloads: the four artifacts are linked"
for name in $links; do
  cmp -s "$DL_CELL/$name" "$(dirname "$DL_PAGE")/$name" && pass "downloads: $name resolves to the cell's file" ||
    fail "downloads: $name beside the page is not the cell's $name"
done
assert_jq '.resourceSpans | length > 0' "$(dirname "$DL_PAGE")/trace.otlp.json" "downloads: trace.otlp.json is OTLP JSON (resourceSpans)"

# The task page names the task, never where the tasks were on this machine.
SRC_ROOT=$(cd "$TESTS_DIR/.." && pwd)
assert_eq "$(grep -c -F -e "$SRC_ROOT" -e "/../tasks" -e "$T" "$SITE/task/polyglot/python-reverse-string/index.html")" 0 \
  "task page: no local path"
assert_match "$(cat "$SITE/task/polyglot/python-reverse-string/index.html")" '<code>polyglot/python-reverse-string/task\.json</code>' \
  "task page: the task's own relative path"

# Explore with your own model: the adapter's command, as cab adapters render has it.
if [ -n "$EXPLORE_PAGE" ]; then
  run_cab "$T/render.json" adapters render opencode --model MODEL_ID_HERE
  assert_rc 0 "cab adapters render opencode"
  cmdtext=$(sed -n '/id="explore-cmd"/,/<\/pre>/p' "$EXPLORE_PAGE" | sed 's/<[^>]*>//g; s/&quot;/"/g; s/&#39;/'"'"'/g; s/&amp;/\&/g')
  missing=""
  while IFS= read -r arg; do
    case $arg in *MODEL_ID_HERE* | *169.254.* | *cab-placeholder-key* | "Fix the failing tests.") continue ;; esac
    grep -qF -- "$arg" <<<"$cmdtext" || missing="$missing [$arg]"
  done < <(jq -r '.argv[]' "$T/render.json")
  assert_eq "$missing" "" "explore: every literal argument of the rendered adapter is in the command"
  assert_match "$cmdtext" '^opencode run( |$)' "explore: the command is the agent's own (opencode run)"
  assert_match "$cmdtext" '-m "cab/\$YOUR_MODEL_ID"' "explore: the model is the user's (\$YOUR_MODEL_ID)"
  assert_match "$cmdtext" '"\$\(cat README\.md\)"' "explore: the prompt is the task's README.md"
  assert_match "$(sed -n '/id="explore-file-0"/,/<\/pre>/p' "$EXPLORE_PAGE")" '&quot;baseURL&quot;: &quot;\$YOUR_ENDPOINT&quot;' \
    "explore: opencode's config file points at \$YOUR_ENDPOINT"
else
  say "# note: no opencode cell: the Explore command is not compared with cab adapters render"
fi
assert_match "$(sed -n '/id="explore"/,/<\/section>/p' "$ORACLE_PAGE")" 'makes no model calls' \
  "explore: the oracle says it has no endpoint to substitute"

# In the browser: 800 px, the charts, the sweeps; screenshots as artifacts.
ART=$(artifact_dir)
say "# artifacts: $ART"
FIT='(function(){var vw=document.documentElement.clientWidth, bad=[];
 function scroller(e){for(var p=e.parentElement;p;p=p.parentElement){var o=getComputedStyle(p).overflowX; if((o=="auto"||o=="scroll")&&p.scrollWidth>p.clientWidth) return p;} return null;}
 var key=[], ths=Array.from(document.querySelectorAll("#board thead th"));
 ths.forEach(function(th){var r=th.getBoundingClientRect(); if(r.right<=vw+0.5) return; var s=scroller(th); if(!s||s.getBoundingClientRect().right>vw+0.5) bad.push(th.textContent.trim());});
 ths.forEach(function(th){var n=th.textContent.trim(); if(["TUI","Model","Composite"].indexOf(n)>=0&&th.getBoundingClientRect().right>vw+0.5) key.push(n);});
 return JSON.stringify({vw: vw, offscreen: bad, key_offscreen: key});})()'
PINNED='(function(){var w=document.getElementById("board").parentElement; if(w.scrollWidth<=w.clientWidth) return "fits"; w.scrollLeft=w.scrollWidth;
 var k=document.querySelector("#board thead th.key").getBoundingClientRect(), b=w.getBoundingClientRect(); var ok=w.scrollLeft>0&&k.left>=b.left-0.5&&k.right<=b.right+0.5; w.scrollLeft=0; return ok?"pinned":"hidden";})()'
POINTS='(function(){var out={points:0,untitled:0,near_ticks:[]};
 ["chart-pareto-tokens","chart-pareto-wall"].forEach(function(id){var svg=document.getElementById(id);
  var ticks=Array.from(svg.querySelectorAll("text.tick")).map(function(t){return [t.textContent,t.getBBox()];});
  Array.from(svg.querySelectorAll("circle.point")).forEach(function(c){out.points++;
   var t=c.querySelector("title"); if(!t||!t.textContent.trim()) out.untitled++;
   var cx=+c.getAttribute("cx"), cy=+c.getAttribute("cy"), r=+c.getAttribute("r");
   ticks.forEach(function(k){var b=k[1], dx=Math.max(b.x-(cx+r),(cx-r)-(b.x+b.width),0), dy=Math.max(b.y-(cy+r),(cy-r)-(b.y+b.height),0);
    if(Math.max(dx,dy)<4) out.near_ticks.push(id+":"+k[0]);});});});
 return JSON.stringify(out);})()'
LABELS='(function(){function out(t){var b=t.getBoundingClientRect(), s=t.ownerSVGElement.getBoundingClientRect(); return b.left<s.left-0.5||b.right>s.right+0.5||b.top<s.top-0.5||b.bottom>s.bottom+0.5;}
 var first=document.querySelector("#chart-distribution text.label"), b=first.getBoundingClientRect(), s=first.ownerSVGElement.getBoundingClientRect();
 return JSON.stringify({first: first.textContent, left: b.left-s.left, right: b.right-s.left, width: s.width, inside: !out(first),
  outside: Array.from(document.querySelectorAll("svg.chart text")).filter(out).map(function(t){return t.textContent;})});})()'
SWEEPS='JSON.stringify({column: Array.from(document.querySelectorAll("#board thead th")).map(function(t){return t.textContent.trim();}).indexOf("Sweeps")>=0,
 cell: (document.querySelector("#board tbody tr:not([hidden]) td.sweeps")||{}).textContent||null,
 note: !!document.getElementById("sweeps-note") && document.getElementById("sweeps-note").offsetHeight>0})'
PLAN7=$(jq -n --arg index "file://$SITE/index.html" --arg index1 "file://$SITE1/index.html" --arg cell "file://$PLAYER_PAGE" \
  --arg fit "$FIT" --arg pinned "$PINNED" --arg points "$POINTS" --arg labels "$LABELS" --arg sweeps "$SWEEPS" --arg art "$ART" '[
  {viewport: [1400, 2400]}, {open: $index}, {screenshot: ($art + "/leaderboard-1400.png")},
  {eval: $points, name: "points"}, {eval: $labels, name: "labels"}, {eval: $sweeps, name: "sweeps2"},
  {open: $cell}, {screenshot: ($art + "/cell-1400.png")},
  {viewport: [800, 2400]}, {open: $index}, {eval: $fit, name: "fit800"}, {eval: $pinned, name: "pinned800"},
  {screenshot: ($art + "/leaderboard-800.png")},
  {open: $cell}, {screenshot: ($art + "/cell-800.png")},
  {open: $index1}, {eval: $fit, name: "fit800_one"}, {eval: $sweeps, name: "sweeps1"}
]')
if cdp published "$PLAN7"; then
  P=$T/published.json
  assert_jq '.errors == []' "$P" "published checks: no console error ($(jq -c '.errors[:3]' "$P"))"
  assert_jq '.values.fit800 | fromjson | .offscreen == []' "$P" \
    "800 px: every leaderboard column is in the window or inside a scrolling container ($(jq -r '.values.fit800' "$P"))"
  assert_jq '.values.fit800_one | fromjson | .offscreen == []' "$P" "800 px, one sweep: the same"
  assert_jq '.values.fit800 | fromjson | .key_offscreen == []' "$P" "800 px: TUI, Model and Composite are in the window unscrolled"
  assert_json '.values.pinned800' pinned "$P" "800 px: scrolled to its right end, the leaderboard keeps the TUI column in view"
  assert_jq '.values.points | fromjson | .points >= 2 and .untitled == 0' "$P" \
    "Pareto: every point has a <title> ($(jq -r '.values.points' "$P"))"
  assert_jq '.values.points | fromjson | .near_ticks == []' "$P" "Pareto: no point sits on a tick label (the axes are padded)"
  assert_jq '.values.labels | fromjson | .inside' "$P" \
    "distribution chart: the first label lies inside the SVG ($(jq -r '.values.labels' "$P" | head -c 300))"
  assert_jq '.values.labels | fromjson | .outside == []' "$P" "charts: no text runs outside its SVG"
  assert_jq '.values.sweeps2 | fromjson | .column and .note and (.cell | test("site"))' "$P" \
    "two sweeps: a Sweeps column and a visible note ($(jq -r '.values.sweeps2' "$P"))"
  assert_jq '.values.sweeps1 | fromjson | (.column or .note) | not' "$P" "one sweep: no Sweeps column, no note"
  for shot in leaderboard-1400 cell-1400 leaderboard-800 cell-800; do
    assert_eq "$(head -c 8 "$ART/$shot.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')" 89504e470d0a1a0a "artifact: $shot.png is a PNG"
  done
else
  fail "cdp.py could not drive chromium over the published checks"
fi
finish
