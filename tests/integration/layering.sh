#!/bin/bash
# The parts' "never" rules (ARCHITECTURE.md, "The parts"): every grep of the
# block that follows "The rules are checked" must print nothing.  The block
# is read from ARCHITECTURE.md itself, so the written rules and the checked
# ones cannot drift apart; a rule that stops holding fails here, naming the
# include that breaks it.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

SRC_DIR=$(cd "$TESTS_DIR/.." && pwd)
doc=$SRC_DIR/ARCHITECTURE.md
[ -r "$doc" ] || bail "$doc missing"
rules=$(awk '/The rules are checked/ { on = 1 } on && /^```sh/ { inblock = 1; next }
            inblock && /^```/ { exit } inblock { print }' "$doc")
assert_cmp "$(printf '%s\n' "$rules" | grep -c '^grep ')" -ge 6 "ARCHITECTURE.md lists its include rules"
while IFS= read -r rule; do
  [ -n "$rule" ] || continue
  out=$(cd "$SRC_DIR" && bash -c "$rule" 2>&1)
  assert_eq "$out" "" "never-rule holds: $rule"
done <<<"$rules"
finish
