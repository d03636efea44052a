#!/bin/bash
# Code under test cannot forge the verifier's verdict (issue 10, finding 1).
# A generated copy of polyglot/shell-word-count keeps the bug, and its
# src/wordcount.sh starts a hostile helper (tests/tools/forge.c) on its first
# run, as the code under test, inside the verifier's sandbox:
#   ptrace  attaches to the harness and rewrites its write() buffers
#           (FAIL -> pass, "3 failed" -> "0 failed") and its exit_group(1);
#   mem     rewrites the harness's unread script text through /proc/PID/mem;
#   vm      the same through process_vm_writev;
#   out     on a harness that reports by text alone (exits 0) and runs the
#           code once more as a teardown: re-opens the harness's stdout
#           (/proc/PID/fd/1) and rewrites what it printed;
#   steal   on the same harness: re-opens the harness's stdout for reading
#           and races cab for what it prints, re-printing it whitewashed.
# On a cab without the defences each variant turns the cell into a pass.
# With them: each step is refused (EPERM from the verifier's seccomp
# profile, EROFS from its read-only /proc, ENXIO from the append-only
# output relay's sockets), the cell fails, and cell.json records which verifier defences
# held.  The nop agent changes nothing, on
# --host-rootfs and on the busybox rootfs as an image-less root.
# shellcheck disable=SC2016 # jq programs are quoted on purpose
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

command -v jq >/dev/null 2>&1 || skip "jq not installed (make deps)"
[ -x "$CAB" ] || bail "cab binary not found at $CAB (run make)"
FORGE=$CAB_BUILD/tests/forge
[ -x "$FORGE" ] || bail "forge helper not found at $FORGE (run make)"
setup_cab_home
unset CAB_ENDPOINT CAB_KEY CAB_TASKS_DIR
SRC_DIR=$(dirname "$TESTS_DIR")
OUT=$T/out
SWEEP=verify-forge

# task MODE: tasks/polyglot/forge-MODE, shell-word-count with the bug left in
# and the helper started by the code under test.
task() {
  local d=$T/tasks/polyglot/forge-$1
  mkdir -p "$T/tasks/polyglot"
  cp -r "$SRC_DIR/tasks/polyglot/shell-word-count" "$d"
  jq --arg id "polyglot/forge-$1" '.task_id = $id' "$SRC_DIR/tasks/polyglot/shell-word-count/task.json" >"$d/task.json"
  cp "$FORGE" "$d/workdir/src/forge"
  if [ "$1" = steal ]; then
    # The same text-only harness; the code starts the thief on its first
    # run, before the harness prints any result.
    sed '$d' "$SRC_DIR/tasks/polyglot/shell-word-count/workdir/tests/run.sh" >"$d/workdir/tests/run.sh"
    echo 'exit 0' >>"$d/workdir/tests/run.sh"
    cat >"$d/workdir/src/wordcount.sh" <<'EOF'
#!/bin/sh
# Print how many words standard input holds.
[ -e /tmp/.forged ] || { : >/tmp/.forged; src/forge steal </dev/null >/dev/null; }
wc -l | tr -d ' '
EOF
  elif [ "$1" = out ]; then
    # A harness that reports by text alone (it exits 0) and runs the code
    # once more after its summary, as a teardown: the code then rewrites
    # what the harness printed.
    sed '$d' "$SRC_DIR/tasks/polyglot/shell-word-count/workdir/tests/run.sh" >"$d/workdir/tests/run.sh"
    printf 'sh src/wordcount.sh --teardown </dev/null >/dev/null\nexit 0\n' >>"$d/workdir/tests/run.sh"
    cat >"$d/workdir/src/wordcount.sh" <<'EOF'
#!/bin/sh
# Print how many words standard input holds.
[ "${1:-}" = --teardown ] && exec src/forge out
wc -l | tr -d ' '
EOF
  else
    cat >"$d/workdir/src/wordcount.sh" <<EOF
#!/bin/sh
# Print how many words standard input holds.
[ -e /tmp/.forged ] || { : >/tmp/.forged; src/forge $1 </dev/null >/dev/null; }
wc -l | tr -d ' '
EOF
  fi
  chmod -R a+rX "$T/tasks"
}

# cell MODE ROOT-ARGS...: the nop agent on forge-MODE; sets F (cell.json).
cell() {
  local m=$1
  shift
  run_cab "$T/$m.out" run-cell --tui nop --model cab/none --task "polyglot/forge-$m" \
    --tasks-dir "$T/tasks" --sweep-id "$SWEEP" --out "$OUT/$m" "$@"
  assert_rc 0 "forge $m: cab run-cell exits 0"
  F=$OUT/$m/$SWEEP/nop/cab/none/polyglot/forge-$m/cell.json
  [ -f "$F" ] || { fail "forge $m: no cell.json"; return 1; }
}

# Which defence refuses which variant.
declare -A WANT=([ptrace]=EPERM [mem]=EROFS [vm]=EPERM [out]=ENXIO [steal]=ENXIO)

# check MODE WHERE: the cell failed, the helper was refused, and cell.json
# says which defences held.
check() {
  local m=$1 where=$2 log
  log=$(dirname "$F")/verify.log
  assert_json '[.outcome, .scorers.pass_rate.pass]' '["fail",0]' "$F" \
    "forge $m ($where): the broken code still fails (outcome fail, pass 0)"
  assert_match "$(cat "$log")" "forge $m: denied: ${WANT[$m]}" \
    "forge $m ($where): the helper was refused with ${WANT[$m]} ($(grep -a 'forge ' "$log" | head -n1))"
  assert_json '.environment.verifier | [.seccomp, .proc, .output, (.refused_syscalls | index("ptrace") != null), (.refused_syscalls | index("process_vm_writev") != null)]' \
    '["verifier","read-only","append-only",true,true]' "$F" "forge $m ($where): cell.json records the verifier's seccomp profile, read-only /proc and append-only output"
}

# The ptrace variant's register rewriting is x86_64 only.
MODES="mem vm out steal"
[ "$(uname -m)" = x86_64 ] && MODES="ptrace $MODES"
for m in $MODES; do
  task "$m"
  cell "$m" --host-rootfs && check "$m" host-rootfs
done

# The same in a busybox image (ash as the harness's shell, an overlay root).
if command -v umoci >/dev/null 2>&1; then
  IMAGE=cab-test/busybox:forge
  bash "$TESTS_DIR/images/busybox-image.sh" "$T/layout" forge >"$T/image.out" 2>&1 ||
    bail "busybox-image.sh failed: $(tail -n 5 "$T/image.out" | tr '\n' '|')"
  run_cab "$T/import.out" import "$T/layout" --name "$IMAGE"
  assert_rc 0 "cab import of the busybox image"
  for m in $MODES; do
    cell "$m" --image "$IMAGE" && check "$m" "busybox image"
  done
else
  say "# umoci not installed: the busybox-image variant is not run"
fi

finish
