#!/bin/bash
# make install / make uninstall, as a package build does it (DESTDIR staging,
# no root needed) and as a user does it (PREFIX, no DESTDIR).  The installed
# cab runs from cwd / with a clean environment (env -i, no CAB_* variable)
# and finds everything in the installed tree, never in this checkout: the
# version, doctor, the adapters, the tasks, exec, a real oracle cell (tasks,
# adapters and a scoring profile from share/cab) and a cab-agent cell (the
# agent from beside the installed cab, against its model-server); a task
# removed from the install is gone for it although the checkout still has
# it, and an adapter added to the install appears.  The AppArmor profile
# names exactly the installed cab and cab-full; a build-tree layout beside
# the install (PREFIX/tasks, PREFIX/runner/adapters) is not read; a PREFIX
# with an AppArmor pattern character is refused before anything is
# written.  make uninstall leaves no file.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
SRC_DIR=$(cd "$TESTS_DIR/.." && pwd)
command -v make >/dev/null 2>&1 || skip "make is not installed (make deps)"
command -v jq >/dev/null 2>&1 || skip "jq not installed (make deps)"
[ -x "$CAB" ] || bail "cab binary not found at $CAB (run make)"
setup_cab_home
unset CAB_ENDPOINT CAB_KEY CAB_TASKS_DIR CAB_ADAPTERS_DIR CAB_PROFILE_DIR

# mk LOG ARGS...: make in the checkout with this build; nothing is rebuilt
# when the build is up to date (the runner made it), so a user can run it.
mk() {
  local log=$1
  shift
  (cd "$SRC_DIR" && make --no-print-directory BUILD="$CAB_BUILD" "$@") >"$log" 2>&1
}

# --- 1. DESTDIR staging, PREFIX=/usr/local ---------------------------------
STAGE=$T/stage
mk "$T/install.log" install DESTDIR="$STAGE" PREFIX=/usr/local ||
  bail "make install DESTDIR=$STAGE failed (is the build up to date? run make): $(tail -n 3 "$T/install.log" | tr '\n' '|')"
P=$STAGE/usr/local
for b in cab cab-full cab-agent; do
  if [ -x "$P/bin/$b" ] && cmp -s "$P/bin/$b" "$CAB_BUILD/$b"; then
    pass "bin/$b is installed, executable, and the build's"
  else
    fail "bin/$b is not the build's executable"
  fi
done
assert_eq "$(cd "$P/share/cab/adapters" && ls)" "$(cd "$SRC_DIR/runner/adapters" && ls -- *.json)" \
  "share/cab/adapters holds every adapter file and nothing else"
assert_eq "$(cd "$P/share/cab/tasks" && find . | LC_ALL=C sort)" "$(cd "$SRC_DIR/tasks" && find . | LC_ALL=C sort)" \
  "share/cab/tasks is the task tree"
assert_eq "$(cd "$P/share/cab/profiles" && ls -- *.json)" "$(cd "$SRC_DIR/scorers/profiles" && ls -- *.json)" \
  "share/cab/profiles holds the scoring profiles"
assert_eq "$(find "$P/share/cab" \( -perm /022 -o ! -perm -044 \) | head -n 3)" "" \
  "the data files are readable by all and writable by no one but their owner"
if cmp -s "$P/share/man/man1/cab.1" "$SRC_DIR/runner/cli/cab.1"; then pass "share/man/man1/cab.1 is installed"; else fail "cab.1 is not installed"; fi

prof=$STAGE/etc/apparmor.d/cab
[ -r "$prof" ] || bail "the AppArmor profile is not at \$DESTDIR/etc/apparmor.d/cab"
assert_eq "$(grep -E '^[[:space:]]*profile ' "$prof")" "profile cab /usr/local/bin/cab{,-full} flags=(unconfined) {" \
  "the profile attaches to exactly the installed cab and cab-full"
assert_eq "$(grep -cE '^[[:space:]]*userns,' "$prof")" 1 "the profile grants userns"
assert_eq "$(grep -c '@' "$prof")" 0 "no @PLACEHOLDER@ is left in the profile"

# The installed cab from /, with a clean environment: it cannot find the
# checkout through cwd or a CAB_* variable.
icab() { (cd / && env -i PATH="$P/bin:/usr/bin:/bin" LC_ALL=C "$@"); }
assert_eq "$(icab cab --version 2>&1)" "$("$CAB" --version 2>&1)" "the installed cab --version"
icab cab doctor >"$T/doctor" 2>&1
assert_eq "$?" 0 "the installed cab doctor exits 0 ($(head -c 300 "$T/doctor" | tr '\n' '|'))"
icab cab adapters list >"$T/adapters" 2>&1 || fail "cab adapters list failed: $(head -c 300 "$T/adapters")"
assert_eq "$(awk '{ print $1 }' "$T/adapters" | LC_ALL=C sort | tr '\n' ' ')" \
  "$(cd "$SRC_DIR/runner/adapters" && ls -- *.json | sed 's/\.json$//' | LC_ALL=C sort | tr '\n' ' ')" \
  "the installed cab lists every adapter"
assert_eq "$(grep -c broken "$T/adapters")" 0 "no installed adapter is broken"
assert_eq "$(icab cab adapters show nop 2>&1 | awk '$1 == "file" { print $2 }')" \
  "$P/bin/../share/cab/adapters/nop.json" "the installed cab reads its adapters from share/cab"
icab cab tasks list >"$T/tasks" 2>&1 || fail "cab tasks list failed: $(head -c 300 "$T/tasks")"
assert_eq "$(($(wc -l <"$T/tasks") - 1))" "$(find "$SRC_DIR/tasks" -name task.json | wc -l)" "the installed cab lists every task"
icab cab exec --host-rootfs -- /bin/true >"$T/exec" 2>&1
assert_eq "$?" 0 "the installed cab exec --host-rootfs -- /bin/true ($(head -c 300 "$T/exec" | tr '\n' '|'))"

# A real cell: task, oracle adapter and scoring profile all from share/cab.
mkdir -p "$T/home"
(cd / && env -i PATH="$P/bin:/usr/bin:/bin" HOME="$T/home" TMPDIR="$TMPDIR" CAB_HOME="$CAB_HOME" LC_ALL=C \
  timeout -k 5 120 cab run-cell --tui oracle --model cab/none --task polyglot/shell-word-count \
  --host-rootfs --out "$T/out") >"$T/cell" 2>&1
assert_eq "$?" 0 "the installed cab runs an oracle cell ($(tail -c 300 "$T/cell" | tr '\n' '|'))"
cell=$(find "$T/out" -name cell.json | head -n 1)
if [ -n "$cell" ]; then
  assert_json '[.outcome, .environment.scoring_profile] | join(" ")' "pass codingagentbench-v0.1" "$cell" \
    "the installed cab's oracle cell passes, scored with the installed profile"
else
  fail "the oracle cell wrote no cell.json"
fi

# A cab-agent cell: the agent bound in from beside the installed cab, the
# model the installed cab's own model server, scripted to solve the task.
(cd / && exec env -i PATH="$P/bin:/usr/bin:/bin" HOME="$T/home" LC_ALL=C \
  cab model-server --script "$SRC_DIR/runner/demo/solve-shell-word-count.json" --listen 127.0.0.1:0) \
  >"$T/ms.out" 2>"$T/ms.err" &
ms_pid=$!
at_exit "kill $ms_pid"
for _ in $(seq 100); do
  grep -q '^listening on ' "$T/ms.out" 2>/dev/null && break
  sleep 0.05
done
endpoint=$(sed -n 's/^listening on //p' "$T/ms.out")
[ -n "$endpoint" ] || bail "the installed cab model-server did not start: $(head -c 300 "$T/ms.err")"
(cd / && env -i PATH="$P/bin:/usr/bin:/bin" HOME="$T/home" TMPDIR="$TMPDIR" CAB_HOME="$CAB_HOME" LC_ALL=C \
  timeout -k 5 120 cab run-cell --tui cab-agent --model scripted/demo --task polyglot/shell-word-count \
  --host-rootfs --endpoint "$endpoint" --out "$T/out-agent") >"$T/agent-cell" 2>&1
assert_eq "$?" 0 "the installed cab runs a cab-agent cell ($(tail -c 300 "$T/agent-cell" | tr '\n' '|'))"
cell=$(find "$T/out-agent" -name cell.json | head -n 1)
if [ -n "$cell" ]; then
  assert_json '[.outcome, .scorers.tokens.model_calls] | map(tostring) | join(" ")' "pass 4" "$cell" \
    "the installed cab-agent solved it in the script's 4 model calls"
else
  fail "the cab-agent cell wrote no cell.json"
fi
kill "$ms_pid" 2>/dev/null
wait "$ms_pid" 2>/dev/null

# --- 2. PREFIX without DESTDIR: the profile follows PREFIX; the install is
# what the installed cab reads (not the checkout) ----------------------------
Q=$T/prefix
mk "$T/install2.log" install PREFIX="$Q" APPARMORDIR="$Q/etc/apparmor.d" ||
  bail "make install PREFIX=$Q failed: $(tail -n 3 "$T/install2.log" | tr '\n' '|')"
assert_eq "$(grep -E '^[[:space:]]*profile ' "$Q/etc/apparmor.d/cab")" "profile cab $Q/bin/cab{,-full} flags=(unconfined) {" \
  "with PREFIX=$Q the profile attaches to $Q/bin/cab{,-full}"
rm -rf "$Q/share/cab/tasks/polyglot/shell-word-count"
# A build-tree layout beside the install (PREFIX=$HOME and the user's own
# ~/tasks): the installed cab must not read it.
mkdir -p "$Q/tasks/decoy/task" "$Q/runner/adapters"
cp -R "$SRC_DIR/tasks/polyglot/shell-word-count/." "$Q/tasks/decoy/task/"
jq '.tui = "decoy"' "$SRC_DIR/runner/adapters/nop.json" >"$Q/runner/adapters/decoy.json"
jq '.tui = "install-marker"' "$SRC_DIR/runner/adapters/nop.json" >"$Q/share/cab/adapters/install-marker.json"
qcab() { (cd / && env -i PATH="$Q/bin:/usr/bin:/bin" LC_ALL=C "$@"); }
qcab cab tasks show polyglot/shell-word-count >"$T/gone" 2>&1
assert_ne "$?" 0 "a task removed from the install is gone for the installed cab, though the checkout has it"
qcab cab adapters list >"$T/qlist" 2>&1
assert_match "$(cat "$T/qlist")" '^install-marker ' "an adapter added to the install is listed"
assert_no_match "$(cat "$T/qlist")" '^decoy ' "an adapter in \$PREFIX/runner/adapters (a build-tree layout) is not"
assert_no_match "$(qcab cab tasks list 2>&1)" '^decoy/' "a task in \$PREFIX/tasks (a build-tree layout) is not listed"
rm -rf "$Q/tasks" "$Q/runner"
mk "$T/uninstall2.log" uninstall PREFIX="$Q" APPARMORDIR="$Q/etc/apparmor.d" ||
  fail "make uninstall PREFIX=$Q failed: $(tail -n 3 "$T/uninstall2.log" | tr '\n' '|')"
assert_eq "$(find "$Q" -type f -o -type l)" "" "make uninstall PREFIX=$Q leaves no file"

# --- 3. a PREFIX AppArmor would read as a pattern is refused ----------------
for bad in "$T/p*q" "$T/p{a,b}" "$T/p q"; do
  mk "$T/bad.log" install DESTDIR="$T/bad" PREFIX="$bad"
  rc=$?
  if [ "$rc" != 0 ] && grep -q "make install: PREFIX" "$T/bad.log" && [ ! -e "$T/bad" ]; then
    pass "make install PREFIX='$bad' is refused with one line, before writing anything"
  else
    fail "make install PREFIX='$bad': exit $rc, $(find "$T/bad" -name cab -path '*apparmor*' 2>/dev/null | head -n 1) $(tail -n 2 "$T/bad.log" | tr '\n' '|')"
  fi
  rm -rf "$T/bad"
done

# --- 4. make uninstall ------------------------------------------------------
mk "$T/uninstall.log" uninstall DESTDIR="$STAGE" PREFIX=/usr/local ||
  fail "make uninstall failed: $(tail -n 3 "$T/uninstall.log" | tr '\n' '|')"
assert_eq "$(find "$STAGE" -type f -o -type l)" "" "make uninstall leaves no file behind"
finish
