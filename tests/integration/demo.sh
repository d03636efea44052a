#!/bin/bash
# runner/demo/demo.sh, as a new user runs it twice and then pastes what it
# printed: both runs import the same image digest (the image is
# reproducible); the second run is a new cell (run-2) and leaves the first
# byte for byte; the replay command the FIRST run printed, run as printed in
# a fresh `env -i` shell after the second run, reproduces that cell offline;
# the printed `cab images` lists the demo image and `cab results ls` both
# runs; the printed file:// report exists.  Without CAB_HOME the image goes
# to the default store of the user (HOME here), and the printout names no
# CAB_HOME.  `make -n demo` builds cab, cab-full and cab-agent, no unit test.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
setup_cell_test
command -v umoci >/dev/null 2>&1 || skip "umoci not installed (make deps)"
command -v busybox >/dev/null 2>&1 || [ -x /bin/busybox ] || skip "busybox-static not installed (make deps)"
[ -x "$CAB_BUILD/cab-agent" ] || bail "cab-agent not found in $CAB_BUILD (run make)"
unset CAB_DEMO_SITE XDG_DATA_HOME

OUT=$T/results
CELLS=$OUT/demo/cab-agent/scripted/demo/polyglot/shell-word-count

# demo N: run demo.sh (from /, as a user could) into $T/demoN.out.
demo() {
  (cd / && CAB_BUILD=$CAB_BUILD CAB_DEMO_OUT=$OUT timeout -k 5 300 bash "$SRC_DIR/runner/demo/demo.sh") \
    >"$T/demo$1.out" 2>&1
}
digest_of() { grep -o 'cab-demo/busybox@sha256:[0-9a-f]\{64\}' "$1" | head -n 1; }
# printed KIND FILE: the command line of the "next" block that does KIND.
printed() {
  sed -n '/^== next/,$p' "$2" | grep -v '^#' | case $1 in
  replay) grep -e ' --replay ' ;;
  images) grep -e ' images$' ;;
  results) grep -e ' results ls ' ;;
  esac
}

demo 1
assert_eq "$?" 0 "the first demo runs ($(tail -n 5 "$T/demo1.out" | tr '\n' '|'))"
d1=$(digest_of "$T/demo1.out")
assert_match "$d1" '@sha256:' "the first demo prints the image pinned by digest"
short=${d1#*@}
short=${short:0:19} # cab images prints sha256: and 12 hex digits
[ -f "$CELLS/run-1/cell.json" ] || bail "the first demo wrote no cell at $CELLS/run-1: $(tail -n 5 "$T/demo1.out" | tr '\n' '|')"
assert_json .outcome pass "$CELLS/run-1/cell.json" "the first demo cell passes"
cp "$CELLS/run-1/cell.json" "$T/cell1.json"
replay1=$(printed replay "$T/demo1.out")
assert_match "$replay1" "^CAB_HOME=$CAB_HOME /.*/cab run-cell .* --image $d1 --replay /" \
  "the first demo prints a replay command with the store, an absolute cab, the digest and the cassette"

demo 2
assert_eq "$?" 0 "the second demo runs ($(tail -n 5 "$T/demo2.out" | tr '\n' '|'))"
assert_eq "$(digest_of "$T/demo2.out")" "$d1" "the second demo imports the same image digest"
assert_json .outcome pass "$CELLS/run-2/cell.json" "the second demo is a new cell, run-2, and passes"
if cmp -s "$CELLS/run-1/cell.json" "$T/cell1.json"; then
  pass "the second demo leaves the first cell as it was"
else
  fail "the second demo changed or removed the first cell"
fi
assert_match "$(cat "$T/demo2.out")" "earlier demo runs .* are kept" "the second demo says the earlier runs are kept"

# The first run's replay, pasted into a new shell with nothing but what the
# printout says.
(cd / && env -i bash --norc --noprofile -c "$replay1") >"$T/replay.out" 2>&1
assert_eq "$?" 0 "the first demo's replay command works after the second demo ($(tail -n 3 "$T/replay.out" | tr '\n' '|'))"
rcell=$OUT/demo-replay/cab-agent/scripted/demo/polyglot/shell-word-count/run-1/cell.json
if [ -f "$rcell" ]; then
  assert_eq "$(jq -c '[.outcome, .scorers.tokens.model_calls, .image_digest]' "$rcell")" \
    "$(jq -c '[.outcome, .scorers.tokens.model_calls, .image_digest]' "$T/cell1.json")" \
    "the replay has the first cell's outcome, model calls and image digest"
  assert_json .model.cassette_replayed "$CELLS/run-1.cassette.jsonl" "$rcell" "the replay read the first run's cassette"
else
  fail "the replay wrote no cell at $rcell"
fi
if cmp -s "$CELLS/run-1/cell.json" "$T/cell1.json"; then
  pass "the replay leaves the first demo cell as it was"
else
  fail "the replay changed or removed the first demo cell"
fi

images=$(cd / && env -i bash --norc --noprofile -c "$(printed images "$T/demo2.out")" 2>&1)
assert_match "$images" "^cab-demo/busybox +1 +$short" "the printed cab images lists the demo image"
ls_out=$(cd / && env -i bash --norc --noprofile -c "$(printed results "$T/demo2.out")" 2>/dev/null)
assert_eq "$(printf '%s\n' "$ls_out" | awk '$1 == "demo" { print $5 }' | sort | tr '\n' ' ')" "1 2 " \
  "the printed cab results ls lists both demo runs"
site=$(sed -n 's|^#   file://||p' "$T/demo2.out")
assert_eq "$site" "$OUT-site/index.html" "the demo prints the report's file:// path"
assert_eq "$(find "$OUT-site" -name cassette.jsonl -size +0 | wc -l | tr -d ' ')" 2 \
  "the report has both demo cells with their recorded model calls (for the page's offline replay)"

# The user's default store: no CAB_HOME, so the image is where a plain
# `cab images` of that user looks, and the printout does not name a store.
(
  unset CAB_HOME
  export HOME=$T/user
  mkdir -p "$HOME"
  OUT=$T/results-default
  demo 3
) || true
assert_match "$(tail -n 3 "$T/demo3.out")" "cab results ls" "the demo runs with the default store ($(tail -n 5 "$T/demo3.out" | tr '\n' '|'))"
assert_eq "$(grep -c 'CAB_HOME=' "$T/demo3.out")" 0 "with the default store the printed commands set no CAB_HOME"
assert_match "$(cd / && env -i HOME="$T/user" "$CAB" images 2>&1)" "^cab-demo/busybox +1 +$short" \
  "the image is in the user's default store ($T/user/.local/share/cab)"

# make demo: the binaries demo.sh runs, nothing else.
plan=$(cd "$SRC_DIR" && make -n --no-print-directory BUILD="$T/b" demo 2>&1)
for b in cab cab-full cab-agent; do
  assert_match "$plan" "-o $T/b/$b( |$)" "make demo builds $b"
done
assert_no_match "$plan" "$T/b/tests/" "make demo builds no unit test or probe"
finish
