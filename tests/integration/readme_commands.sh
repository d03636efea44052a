#!/bin/bash
# README.md's command reference is the commands' own --help:
#   * the generated block (tests/readme-commands.sh) is what --write would
#     write now;
#   * every command `cab help` lists has an entry in it, and every option its
#     --help (or a subcommand's, as `cab results ls --help`) prints is in
#     that entry;
#   * every `cab COMMAND ... --option` the README names anywhere (prose,
#     examples, synopses, their continuation lines) is an option that
#     command's --help lists;
#   * each check fails when it should: a README with one option removed from
#     an entry is stale and misses it; one naming an option cab does not take
#     is caught.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
SRC_DIR=$(cd "$TESTS_DIR/.." && pwd)
README=$SRC_DIR/README.md
GEN=$TESTS_DIR/readme-commands.sh
[ -x "$CAB" ] || bail "cab binary not found at $CAB (run make)"
T=$(mktemp -d "${TMPDIR:-/tmp}/cab-$TEST_NAME.XXXXXX") || bail "mktemp failed"
trap 'rm -rf "$T"' EXIT

cmds=$(cab_commands)
[ -n "$cmds" ] || bail "cab help lists no commands (its format changed?)"

for c in $cmds; do
  cab_helps "$c" >"$T/help.$c"
  grep -oE -- '--[a-z][a-z0-9-]*' "$T/help.$c" | sort -u >"$T/opts.$c"
done

# entry FILE CMD: CMD's entry in FILE's block, from its summary to </details>.
entry() {
  awk -v head="<details><summary><code>cab $2</code>:" '
    index($0, head) == 1 { on = 1 }
    on { print }
    on && $0 == "</details>" { exit }' "$1"
}

# missing_from_entries FILE: "CMD --opt" for each option a command's --help
# prints that its entry in FILE lacks, and "CMD" for a command with none.
missing_from_entries() {
  local c o body
  for c in $cmds; do
    body=$(entry "$1" "$c")
    if [ -z "$body" ]; then
      printf '%s\n' "$c"
      continue
    fi
    while read -r o; do
      printf '%s\n' "$body" | grep -Eq -- "$o([^a-z0-9-]|$)" || printf '%s %s\n' "$c" "$o"
    done <"$T/opts.$c"
  done
}

# named_options FILE: "LINE: CMD --opt" for each option FILE names after
# "cab CMD" (to the end of that command: a pipe, ';', '&&', a quote, a
# closing backquote or parenthesis, the next "cab ", or, in a code block,
# the last indented continuation line).  The generated block is the helps
# themselves: not scanned.
named_options() {
  awk -v list="$cmds" '
    BEGIN { n = split(list, c, /[ \n]+/); for (i = 1; i <= n; i++) if (c[i] != "") is[c[i]] = 1 }
    $0 == "<!-- cab-help:begin -->" { gen = 1 }
    $0 == "<!-- cab-help:end -->" { gen = 0; next }
    gen { next }
    /^```/ { code = !code; cur = ""; next }
    {
      line = $0
      # A continuation of the last line'"'"'s command, in a code block.
      if (code && cur != "" && line ~ /^[ \t]/) { emit(cur, line); if (line !~ /\\$/ && line !~ /^[ \t]+[-\[]/) cur = ""; next }
      cur = ""
      while (match(line, /cab [a-z][a-z-]*/)) {
        cmd = substr(line, RSTART + 4, RLENGTH - 4)
        rest = substr(line, RSTART + RLENGTH)
        line = rest
        if (!(cmd in is)) continue
        seg = rest
        if (match(seg, /[`|;)'"'"'"]|&&|cab [a-z]/)) seg = substr(seg, 1, RSTART - 1)
        else if (code) cur = cmd
        emit(cmd, seg)
      }
    }
    function emit(cmd, seg,   o) {
      while (match(seg, /(^|[ \[])--[a-z][a-z0-9-]*/)) {
        o = substr(seg, RSTART, RLENGTH); sub(/^[ \[]/, "", o)
        print NR ": " cmd " " o
        seg = substr(seg, RSTART + RLENGTH)
      }
    }' "$1"
}

# named_not_taken FILE: "LINE: cab CMD --opt" for each of them that CMD's
# --help does not list.
named_not_taken() {
  named_options "$1" | while read -r ln c o; do
    # every command takes --help
    [ "$o" = --help ] || grep -qxF -- "$o" "$T/opts.$c" || printf '%s cab %s %s\n' "$ln" "$c" "$o"
  done
}

# --- the real README --------------------------------------------------------------
if "$GEN" --check "$README" >"$T/check.out" 2>&1; then
  pass "the README's command reference is what tests/readme-commands.sh --write writes"
else
  fail "the README's command reference is stale: $(head -c 600 "$T/check.out" | tr '\n' '|')"
fi
missing_from_entries "$README" >"$T/missing"
assert_eq "$(cat "$T/missing")" "" "every command cab help lists has an entry, with every option its --help prints"
assert_cmp "$(grep -c '^<details><summary><code>cab ' "$README")" -eq "$(printf '%s\n' "$cmds" | wc -l)" \
  "one entry per command"
named_not_taken "$README" >"$T/stray"
assert_eq "$(cat "$T/stray")" "" "every 'cab COMMAND --option' the README names is one COMMAND's --help lists"
assert_cmp "$(named_options "$README" | wc -l)" -gt 50 \
  "the scan finds the options the README names after commands"

# --- the checks fail when they should ---------------------------------------------
# One option removed from one entry: doctor's --json, wherever the entry
# names it.
awk -v head='<details><summary><code>cab doctor</code>:' '
  index($0, head) == 1 { on = 1 }
  on { gsub(/--json/, "") }
  on && $0 == "</details>" { on = 0 }
  { print }' "$README" >"$T/README.md"
assert_cmp "$(diff "$README" "$T/README.md" | grep -c '^<')" -ge 1 "the copy lacks doctor's --json"
assert_eq "$(entry "$T/README.md" doctor | grep -c -- --json)" 0 "  ...in all of doctor's entry"
if "$GEN" --check "$T/README.md" >"$T/check2.out" 2>&1; then
  fail "a README with doctor's --json removed passes the stale check"
else
  pass "a README with doctor's --json removed is stale"
  assert_match "$(cat "$T/check2.out")" "run tests/readme-commands.sh --write" "  ...and the check says how to fix it"
fi
assert_eq "$(missing_from_entries "$T/README.md")" "doctor --json" "  ...and the entry check names 'doctor --json'"
# An option cab does not take, named in prose and in a code block's
# continuation line.
{
  cat "$README"
  printf '\nRun `cab doctor --jsonl` for CI.\n\n```sh\ncab sweep plan.json \\\n    --no-such-flag\n```\n'
} >"$T/README2.md"
assert_eq "$(named_not_taken "$T/README2.md" | cut -d' ' -f2-)" "$(printf 'cab doctor --jsonl\ncab sweep --no-such-flag')" \
  "options cab does not take are named, in prose and on a continuation line"
finish
