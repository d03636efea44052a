#!/bin/bash
# The man page (runner/cli/cab.1) cannot rot: every command "cab --help"
# lists and every --option "cab COMMAND --help" prints is in it, so are the
# exit codes 125, 126, 127, every CAB_* variable the code reads (getenv, and
# the data-file lookup's table in common/datadir.c) and the version; and it
# renders without a warning (groff -man -ww; skipped without groff).
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
SRC_DIR=$(cd "$TESTS_DIR/.." && pwd)
MAN=$SRC_DIR/runner/cli/cab.1
[ -x "$CAB" ] || bail "cab binary not found at $CAB (run make)"
[ -r "$MAN" ] || bail "no man page at $MAN"

# The page's text with roff's escapes for '-' and fonts undone: what a
# reader sees, without needing groff.
text=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\e/\\/g' "$MAN")
# Lines that name a command: ".B cmd ...", ".BR cmd ...", as the COMMANDS
# section writes each.
heads=$(printf '%s\n' "$text" | grep -E '^\.BR? ')

cmds=$("$CAB" --help 2>&1 | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
[ -n "$cmds" ] || bail "cab --help lists no commands (its format changed?)"
for c in $cmds; do
  if printf '%s\n' "$heads" | grep -Eq "^\.BR? \"?$c([^a-z-]|$)"; then
    pass "cab.1 has a COMMANDS entry for '$c'"
  else
    fail "cab.1 has no '.B $c' entry (cab --help lists it): add it to runner/cli/cab.1"
  fi
  # Every option its --help prints (some commands print their usage on
  # stderr).
  opts=$("$CAB" "$c" --help 2>&1 </dev/null | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
  for o in $opts; do
    [ "$o" = --help ] && continue
    if printf '%s\n' "$text" | grep -Eq -- "$o([^a-z0-9-]|$)"; then
      pass "cab.1 names $c $o"
    else
      fail "cab.1 does not name '$o' ('cab $c --help' prints it): add it to runner/cli/cab.1"
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
  grep -oE '"CAB_[A-Z_]+_DIR"' "$SRC_DIR"/common/datadir.c | tr -d '"') | sort -u)
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
