#!/bin/bash
# README.md's "Environment variables" table is every variable cab reads, and
# nothing else (issue 15: about nine were undocumented, one of them the fix
# for a copied cab).  Checked against the sources, both ways:
#   - every getenv("NAME") / secure_getenv("NAME") in the C sources of cab
#     and cab-agent, and every "CAB_..." string literal there (the data
#     lookup's table, cab-agent's env_long), is a row;
#   - a getenv whose argument is not a literal is one of the few known
#     indirections (the key --key-env names, cab exec --env NAME, the data
#     lookup's table): a new one fails until it is looked at;
#   - every ${CAB...:-default} a test, image, host, bench or demo script reads is
#     a row;
#   - every row is still read by what its "read by" column names (a C
#     literal for cab and cab-agent, $NAME in the scripts for the others).
# The checker then runs on a planted tree (an undocumented getenv, a row
# nothing reads, a new indirect getenv) and must fail on each.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
SRC_DIR=$(cd "$TESTS_DIR/.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/cab-$TEST_NAME.XXXXXX") || bail "mktemp failed"
trap _cleanup EXIT
say "# $TEST_NAME as $CAB_TEST_MODE, T=$T"

# Variables cab sets for a sandboxed command and never reads itself.
SET_ONLY='CAB_TASK_ID'

# c_files ROOT [agent|cab]: the C sources of cab (not agent/) or cab-agent
# (agent/), without the tests and cab-agent's own unit test.
c_files() {
  local root=$1 which=$2
  if [ "$which" = agent ]; then
    find -L "$root/agent" \( -name '*.c' -o -name '*.h' \) ! -name '*_test.c' 2>/dev/null
  else
    find -L "$root" \( -path "$root/build" -o -path "$root/tests" -o -path "$root/agent" -o -path "$root/.git" \) -prune \
      -o \( -name '*.c' -o -name '*.h' \) -print
  fi
}

# c_names ROOT WHICH: the variable names those sources read by name.
c_names() {
  c_files "$1" "$2" | xargs -r grep -ohE '(secure_)?getenv\("[A-Za-z_][A-Za-z0-9_]*"\)|"CAB_[A-Z0-9_]+"' |
    sed -E 's/.*"([A-Za-z0-9_]+)".*/\1/' | grep -vxF "$SET_ONLY" | LC_ALL=C sort -u
}

# sh_files ROOT READER: the scripts of a "read by" word.
sh_files() {
  local root=$1
  case $2 in
  tests) find -L "$root/tests/run.sh" "$root/tests/lib.sh" "$root/tests/integration" "$root/tests/fixtures" -name '*.sh' 2>/dev/null ;;
  hosts) find -L "$root/tests/hosts" "$root/bench/hosts" -name '*.sh' 2>/dev/null ;;
  images) find -L "$root/tests/images" -name '*.sh' 2>/dev/null ;;
  bench) find -L "$root/bench" -name '*.sh' 2>/dev/null ;;
  demo) find -L "$root/runner/demo" -name '*.sh' 2>/dev/null ;;
  esac
}

# check ROOT: one line per problem on stdout; nothing when the table is true.
check() {
  local root=$1 table rows name readers r
  table=$(awk '/^## Environment variables$/ { on = 1; next } on && /^## / { exit } on && /^\| `/' "$root/README.md")
  [ -n "$table" ] || { echo "README.md has no '## Environment variables' table"; return; }
  rows=$(printf '%s\n' "$table" | sed -E 's/^\| `([A-Za-z0-9_]+)` \| ([^|]*) \|.*/\1 \2/' | tr -d ',')
  local documented
  documented=$(printf '%s\n' "$rows" | awk '{ print $1 }' | LC_ALL=C sort -u)

  # 1. every variable the C sources read by name is a row
  for name in $( (c_names "$root" cab; c_names "$root" agent) | LC_ALL=C sort -u); do
    grep -qxF "$name" <<<"$documented" || echo "$name: read in the C sources, not in README.md's table"
  done
  # 2. every indirect getenv is a known one
  c_files "$root" cab | xargs -r grep -nE '\b(secure_)?getenv\(' | grep -vE 'getenv\("[A-Za-z_][A-Za-z0-9_]*"\)' |
    grep -vE 'getenv\((([a-z_]+(->|\.))*key_env|kv|var|KINDS\[kind\]\.env|CAB_DATADIR_ENV)\)' |
    sed 's/^/an indirect getenv nobody checked (document the variable, then list the expression in env_table.sh): /'
  c_files "$root" agent | xargs -r grep -nE '\b(secure_)?getenv\(' | grep -vE 'getenv\("[A-Za-z_][A-Za-z0-9_]*"\)' |
    grep -vE 'getenv\(name\)' |
    sed 's/^/an indirect getenv nobody checked (document the variable, then list the expression in env_table.sh): /'
  # 3. every ${CAB...:-default} of a script is a row
  for name in $( (for r in tests hosts images bench demo; do sh_files "$root" $r; done) | xargs -r grep -ohE '\$\{CAB(_[A-Z0-9_]+)?:?-' |
    sed -E 's/^\$\{//; s/:?-$//' | LC_ALL=C sort -u); do
    grep -qxF "$name" <<<"$documented" || echo "$name: a script's setting (\${$name:-...}), not in README.md's table"
  done
  # 4. every row is still read by its readers
  while read -r name readers; do
    for r in $readers; do
      case $r in
      cab | cab-agent)
        local which=cab
        [ "$r" = cab-agent ] && which=agent
        c_names "$root" $which | grep -qxF "$name" || echo "$name: the table says $r reads it; its C sources do not"
        ;;
      tests | hosts | images | bench | demo)
        sh_files "$root" "$r" | xargs -r grep -qE "\\\$\\{?$name([^A-Z0-9_]|\$)" ||
          echo "$name: the table says $r read it; no script there does"
        ;;
      *) echo "$name: unknown reader '$r' in the table's 'read by' column" ;;
      esac
    done
  done <<<"$rows"
}

check "$SRC_DIR" >"$T/problems"
assert_eq "$(cat "$T/problems")" "" "README.md's environment table matches every variable the sources read"
n=$(awk '/^## Environment variables$/ { on = 1; next } on && /^## / { exit } on && /^\| `/' "$SRC_DIR/README.md" | wc -l)
[ "$n" -ge 20 ] && pass "the table has $n rows" || fail "the table has only $n rows"

# The checker can fail: a tree of links to this one, with one change each.
plant_root() {
  local p=$1 f
  mkdir -p "$p"
  for f in "$SRC_DIR"/*; do
    case $(basename "$f") in README.md | runner | build) ;; *) ln -s "$f" "$p/" ;; esac
  done
  mkdir -p "$p/runner"
  for f in "$SRC_DIR"/runner/*; do ln -s "$f" "$p/runner/"; done
  cp "$SRC_DIR/README.md" "$p/README.md"
}
P=$T/undocumented
plant_root "$P"
mkdir -p "$P/runner/zz"
printf '#include <stdlib.h>\nconst char *zz(void) { return getenv("CAB_SOMETHING_NEW"); }\n' >"$P/runner/zz/zz.c"
assert_match "$(check "$P")" '^CAB_SOMETHING_NEW: read in the C sources, not in README.md' \
  "a getenv(\"CAB_SOMETHING_NEW\") the table lacks fails the check"
P=$T/stale
plant_root "$P"
sed -i 's/^| `CAB_PULL_ATTEMPTS` |/| `CAB_PULL_RETRIES` |/' "$P/README.md"
out=$(check "$P")
assert_match "$out" 'CAB_PULL_RETRIES: the table says cab reads it' "a row no source reads fails the check"
assert_match "$out" 'CAB_PULL_ATTEMPTS: read in the C sources' "and the variable it stood for is then undocumented"
P=$T/indirect
plant_root "$P"
mkdir -p "$P/runner/zz"
printf '#include <stdlib.h>\nconst char *zz(const char *n) { return getenv(n); }\n' >"$P/runner/zz/zz.c"
assert_match "$(check "$P")" '^an indirect getenv nobody checked .*zz\.c:2:' "a new indirect getenv fails the check"
P=$T/script
plant_root "$P"
rm "$P/bench" && mkdir -p "$P/bench" && printf 'x=${%s:-1}\n' CAB_BENCH_NEW >"$P/bench/new.sh"
assert_match "$(check "$P")" 'CAB_BENCH_NEW: a script' "a script's undocumented \${CAB_...:-} fails the check"
finish
