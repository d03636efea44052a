#!/bin/bash
# The man page (runner/cli/cab.1) cannot rot: every command "cab --help"
# lists has an entry there that names every --option "cab COMMAND --help"
# prints, and names no option that --help (or a subcommand's, as "cab
# results ls --help") does not list; the exit codes 125, 126, 127, every CAB_* variable the code reads
# (getenv, and the data-file lookup's names in common/datadir.[ch]) and the
# version are in it; and it renders without a warning (groff -man -ww;
# skipped without groff).
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
SRC_DIR=$(cd "$TESTS_DIR/.." && pwd)
MAN=$SRC_DIR/runner/cli/cab.1
[ -x "$CAB" ] || bail "cab binary not found at $CAB (run make)"
[ -r "$MAN" ] || bail "no man page at $MAN"

# The page's text with roff's escapes for '-' and fonts undone: what a
# reader sees, without needing groff.
text=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\e/\\/g' "$MAN")
cmds=$(cab_commands)
[ -n "$cmds" ] || bail "cab --help lists no commands (its format changed?)"
# entry CMD: the COMMANDS section's text from CMD's head line (".B CMD ..."
# right after a ".TP") to the next command's.
entry() {
  printf '%s\n' "$text" | awk -v want="$1" -v list="$cmds" '
    BEGIN { n = split(list, c, /[ \n]+/) }
    /^\.SH / { in_cmds = ($0 == ".SH COMMANDS"); cur = ""; next }
    !in_cmds { prev = $0; next }
    /^\.BR? / && prev == ".TP" {
      w = $2; gsub(/"/, "", w)
      for (i = 1; i <= n; i++) if (c[i] != "" && w == c[i]) cur = c[i]
    }
    { prev = $0 }
    cur == want'
}
for c in $cmds; do
  body=$(entry "$c")
  if [ -n "$body" ]; then
    pass "cab.1 has a COMMANDS entry for '$c'"
  else
    fail "cab.1 has no '.B $c' entry under COMMANDS (cab --help lists it): add it to runner/cli/cab.1"
    continue
  fi
  # Every option its --help prints (some commands print their usage on
  # stderr), in that command's entry.
  opts=$("$CAB" "$c" --help 2>&1 </dev/null | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
  for o in $opts; do
    [ "$o" = --help ] && continue
    if printf '%s\n' "$body" | grep -Eq -- "$o([^a-z0-9-]|$)"; then
      pass "cab.1 names $c $o"
    else
      fail "cab.1's entry for '$c' does not name '$o' ('cab $c --help' prints it): add it to runner/cli/cab.1"
    fi
  done
  # Every option the entry names is one cab takes: its own (--help and
  # --version are everyone's), never a stale one.  Lines naming another
  # command ("as cab exec --cgroup-parent") are that command's.
  taken=$(cab_helps "$c" | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
  named=$(printf '%s\n' "$body" | grep -vE "cab ($(printf '%s' "$cmds" | tr '\n' '|' | sed 's/|$//'))( |\"|$)" |
    grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
  for o in $named; do
    case $o in --help | --version) continue ;; esac
    if printf '%s\n' "$taken" | grep -qxF -- "$o"; then
      pass "cab $c takes $o, which cab.1 names"
    else
      fail "cab.1's entry for '$c' names '$o', which 'cab $c --help' does not list: drop it from runner/cli/cab.1 (or add it to the command)"
    fi
  done
done

assert_eq "$(sed -n 's/^\.TH CAB 1 "[^"]*" "\([^"]*\)".*/\1/p' "$MAN")" "$("$CAB" --version 2>&1)" \
  "cab.1's title line names this version (cab --version)"

exit_section=$(printf '%s\n' "$text" | sed -n '/^\.SH EXIT STATUS/,/^\.SH /p')
for code in 125 126 127; do
  if printf '%s\n' "$exit_section" | grep -q "^\.B $code\$"; then
    pass "cab.1's EXIT STATUS has $code"
  else
    fail "cab.1's EXIT STATUS has no '.B $code' entry"
  fi
done

env_section=$(printf '%s\n' "$text" | sed -n '/^\.SH ENVIRONMENT/,/^\.SH /p')
vars=$( (grep -rhoE 'getenv\("CAB_[A-Z_]+"\)' "$SRC_DIR"/common "$SRC_DIR"/sandbox "$SRC_DIR"/rootfs \
  "$SRC_DIR"/scorers "$SRC_DIR"/runner --include='*.c' | grep -oE 'CAB_[A-Z_]+'
  grep -hoE '"CAB_[A-Z_]+_DIR"' "$SRC_DIR"/common/datadir.[ch] | tr -d '"') | sort -u)
[ -n "$vars" ] || bail "found no CAB_* variable in the sources (layout changed?)"
for v in $vars; do
  if printf '%s\n' "$env_section" | grep -Eq "(^|[^A-Z_])$v([^A-Z_]|$)"; then
    pass "cab.1's ENVIRONMENT names $v"
  else
    fail "cab.1's ENVIRONMENT does not name $v (the code reads it): add it to runner/cli/cab.1"
  fi
done

if command -v groff >/dev/null 2>&1; then
  assert_eq "$(groff -man -ww -z "$MAN" 2>&1)" "" "groff -man -ww renders cab.1 without a warning"
else
  say "skip part: groff is not installed, cab.1 was not rendered"
fi
finish
