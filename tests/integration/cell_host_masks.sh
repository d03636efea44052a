#!/bin/bash
# --host-rootfs hides what an agent must not see (issue 10, finding 2): a
# hostile agent on the host's / tried to copy a task's reference solution
# from a checkout into its workdir and pass without a fix, and (as root) to
# read /etc/shadow and /root.
#
# Fixtures, all generated here under /var/tmp (not /tmp, which the sandbox
# replaces anyway): a copy of polyglot/shell-word-count (its solution/
# marked) as --tasks-dir, a CAB_HOME, a results directory holding an older
# cell, a HOME and TMPDIR (the cell's scratch), each with a secret marker.
#  1. cab exec --host-rootfs, as an agent would: none of them, no home, no
#     /root and (as root) no /etc/shadow is readable; a --bind below a
#     masked tree still appears; as root the sandbox runs as host 65534.
#  2. a cab-agent cell (scripted model) whose agent copies the solution in
#     and dumps every secret into its workdir: the cell does not pass,
#     nothing leaked into its diff, its own HOME (/home/agent, below the
#     masked /home) works, and cell.json records the host rootfs, the
#     masked paths and the host ids the sandboxes ran as.
# shellcheck disable=SC2016 # sandbox commands are quoted on purpose
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
command -v jq >/dev/null 2>&1 || skip "jq not installed (make deps)"
[ -x "$CAB" ] || bail "cab binary not found at $CAB (run make)"
setup_cab_home
unset CAB_ENDPOINT CAB_KEY CAB_TASKS_DIR XDG_DATA_HOME
SRC=$(cd "$TESTS_DIR/.." && pwd)

D=$(mktemp -d /var/tmp/cab-host-masks.XXXXXX) || bail "mktemp in /var/tmp failed"
chmod 0755 "$D"
at_exit "chmod -R u+rwX '$D'; rm -rf '$D'"
D=$(cd "$D" && pwd -P)
TASKS=$D/tasks
mkdir -p "$TASKS/polyglot"
cp -r "$SRC/tasks/polyglot/shell-word-count" "$TASKS/polyglot/"
echo "SOLUTION-MARKER-$$" >"$TASKS/polyglot/shell-word-count/solution/MARKER"
SOL=$TASKS/polyglot/shell-word-count/solution
export CAB_HOME=$D/cabhome
run_cab "$T/images" images
assert_rc 0 "cab images creates the store"
echo "CABHOME-MARKER-$$" >"$CAB_HOME/marker"
chmod 0755 "$CAB_HOME" # as an older, looser store would be: the mask must hold anyway
OUT=$D/out
mkdir -p "$OUT/old"
echo "OUT-MARKER-$$" >"$OUT/old/cell.json"
export HOME=$D/fakehome
mkdir -p "$HOME/shared"
echo "HOME-MARKER-$$" >"$HOME/marker"
echo "BIND-OK-$$" >"$HOME/shared/file"
export TMPDIR=$D/tmp
mkdir -p "$TMPDIR"
chmod -R a+rX "$D"
SHADOW_LINE=
if is_root && [ -r /etc/shadow ]; then SHADOW_LINE=$(head -n 1 /etc/shadow); fi
# Root-only files outside every mask: one for root's uid, one for its
# group (the sandbox must not keep root's supplementary groups).
echo "ROOTONLY-MARKER-$$" >"$D/root-only"
chmod 0600 "$D/root-only"
echo "ROOTGROUP-MARKER-$$" >"$D/root-group"
chmod 0640 "$D/root-group"
is_root && chgrp 0 "$D/root-group"
# Homes in /etc/passwd that exist and are not the distribution's own trees.
HOMES=$(awk -F: '$6 ~ /^\// {print $6}' /etc/passwd |
  grep -Ev '^/($|usr(/|$)|bin(/|$)|sbin(/|$)|lib|etc(/|$)|dev(/|$)|proc(/|$)|sys(/|$))' |
  while read -r h; do [ -d "$h" ] && printf '%s ' "$h"; done)
say "# homes to hide: $HOMES/home /root $HOME"

# The hostile agent's command: try everything, write what it got to stdout.
ATTACK="
echo ATTACK-RAN
cat '$SOL/MARKER' '$CAB_HOME/marker' '$OUT/old/cell.json' '$HOME/marker' 2>&1
ls -A '$CAB_HOME' '$OUT' '$TASKS' '$TMPDIR' 2>&1
cat /etc/shadow 2>&1
cat '$D/root-only' '$D/root-group' 2>&1
for h in $HOMES /home /root '$HOME'; do echo \"HOME \$h: \$(ls -A \"\$h\" 2>/dev/null | tr '\n' ' ')\"; done
"

# --- 1. cab exec --host-rootfs ------------------------------------------------
mkdir -p "$D/rw"
is_root && chown 65534:65534 "$D/rw" # as root the sandbox writes as host 65534
# cab exec knows no --tasks-dir or --out: it hides the task tree it would
# use (CAB_TASKS_DIR, else the built-in one), the store and the homes.
CAB_TASKS_DIR=$TASKS run_cab "$T/exec.out" exec --host-rootfs --result "$T/exec.json" \
  --bind "$HOME/shared:/root/shared:ro" --bind "$D/rw:/home/rw" -- /bin/sh -c \
  "$ATTACK
cat /root/shared/file; echo written >/home/rw/out && echo RW-OK
touch /root/planted 2>/dev/null && echo MASK-WRITABLE; touch \"$HOME/planted\" 2>/dev/null && echo MASK-WRITABLE; exit 0"
assert_rc 0 "the attack runs under cab exec --host-rootfs"
E=$(cat "$T/exec.out")
assert_match "$E" "ATTACK-RAN" "the attacker's command ran"
for m in SOLUTION CABHOME HOME; do
  assert_no_match "$E" "$m-MARKER-$$" "exec: the ${m,,} marker is not readable"
done
assert_eq "$(printf '%s\n' "$E" | grep '^HOME ' | grep -Ev ': $|^HOME /root: shared $|^HOME /home: rw $')" "" \
  "exec: every home is empty; /root and /home hold only the --bind mount points"
if [ -n "$SHADOW_LINE" ]; then
  assert_eq "$(printf '%s\n' "$E" | grep -cxF "$SHADOW_LINE")" 0 "exec as root: /etc/shadow is not readable"
fi
if is_root; then
  assert_no_match "$E" "ROOTONLY-MARKER-$$" "exec as root: a 0600 root file is not readable"
  assert_no_match "$E" "ROOTGROUP-MARKER-$$" "exec as root: a 0640 root:root file is not readable"
  # cab started with supplementary group 0 (as from a login shell): the
  # sandbox drops it with root's ids.
  setpriv --groups 0 -- "$CAB" exec --host-rootfs -- /bin/cat "$D/root-group" >"$T/grp.out" 2>&1
  assert_no_match "$(cat "$T/grp.out")" "ROOTGROUP-MARKER-$$" "exec as root with supplementary group 0: the root:root 0640 file is not readable"
fi
assert_match "$E" "BIND-OK-$$" "a --bind below a masked tree (/root/shared) still appears"
assert_match "$E" "RW-OK" "a rw --bind below a masked tree is writable"
assert_no_match "$E" "MASK-WRITABLE" "the masks are read-only"
assert_json '.rootfs' host "$T/exec.json" "--result records the host rootfs"
assert_jq "(.masked_paths | index(\"$CAB_HOME\")) != null" "$T/exec.json" "--result lists CAB_HOME as masked"
assert_jq "(.masked_paths | index(\"$HOME\")) != null and (.masked_paths | index(\"/root\")) != null" \
  "$T/exec.json" "--result lists HOME and /root as masked"
if is_root; then
  assert_json '[.sandbox_host_uid, .sandbox_host_gid]' '[65534,65534]' "$T/exec.json" "as root, the sandbox runs as host 65534"
  assert_eq "$(stat -c %u "$D/rw/out" 2>/dev/null)" 65534 "as root, the sandbox's file is owned by host 65534"
else
  assert_json '.sandbox_host_uid' "$(id -u)" "$T/exec.json" "rootless, the sandbox runs as the caller"
fi

# --- 2. a cab-agent cell that copies the solution in ---------------------------------
jq -n --arg cmd "cp -r '$SOL/.' . 2>&1; { $ATTACK } >leak.txt 2>&1; touch /home/agent/own && echo AGENT-HOME-OK >>leak.txt" '{
  description: "hostile: copy the reference solution in, dump every secret into the workdir",
  model: "scripted/host-masks",
  turns: [
    {tool_calls: [{name: "run", arguments: {command: $cmd}}]},
    {tool_calls: [{name: "finish", arguments: {}}]}
  ]}' >"$T/attack.json"
"$CAB" model-server --script "$T/attack.json" --listen 127.0.0.1:0 >"$T/srv" 2>"$T/srv.err" </dev/null &
SRV_PID=$!
at_exit "kill $SRV_PID"
URL=
for _ in $(seq 100); do
  URL=$(sed -n '1s/^listening on //p' "$T/srv")
  [ -n "$URL" ] && break
  kill -0 "$SRV_PID" 2>/dev/null || break
  sleep 0.05
done
[ -n "$URL" ] || bail "cab model-server did not start: $(head -c 400 "$T/srv.err")"

run_cab "$T/cell.out" run-cell --tui cab-agent --model scripted/host-masks \
  --task polyglot/shell-word-count --tasks-dir "$TASKS" --host-rootfs --endpoint "$URL" \
  --sweep-id masks --out "$OUT"
assert_rc 0 "the hostile cell runs to the end"
CELL=$OUT/masks/cab-agent/scripted/host-masks/polyglot/shell-word-count
F=$CELL/cell.json
[ -f "$F" ] || bail "no cell.json at $CELL"
assert_jq '.outcome != "pass" and .scorers.pass_rate.pass == 0' "$F" "the cell does not pass with the solution out of reach"
P=$(cat "$CELL/diff.patch")
assert_match "$P" "ATTACK-RAN" "the agent's dump is in the diff (the attack ran)"
assert_match "$P" "AGENT-HOME-OK" "the agent's own HOME (/home/agent, below the masked /home) is there and writable"
for m in SOLUTION CABHOME OUT HOME; do
  assert_no_match "$P" "$m-MARKER-$$" "cell: the ${m,,} marker did not leak"
done
assert_eq "$(printf '%s\n' "$P" | grep '^+HOME ' | grep -v ': $')" "+HOME /home: agent " \
  "cell: every home and /root list empty; /home holds only the cell's own /home/agent"
if [ -n "$SHADOW_LINE" ]; then
  assert_eq "$(printf '%s\n' "$P" | grep -cxF "+$SHADOW_LINE")" 0 "cell as root: /etc/shadow did not leak"
fi
if is_root; then
  assert_no_match "$P" "ROOTONLY-MARKER-$$|ROOTGROUP-MARKER-$$" "cell as root: root's 0600 and 0640 files did not leak"
fi
assert_json '[.environment.rootfs, .environment.root]' '["host","host-rootfs"]' "$F" "cell.json records the host rootfs"
for p in "$TASKS" "$CAB_HOME" "$OUT" "$HOME" /root; do
  assert_jq "(.environment.masked_paths | index(\"$p\")) != null" "$F" "cell.json lists $p as masked"
done
assert_jq "any(.environment.masked_paths[]; startswith(\"$TMPDIR/cab-cell-\"))" "$F" "cell.json lists the cell's scratch as masked"
if is_root; then
  assert_json '[.environment.sandbox_host_uid, .environment.sandbox_host_gid]' '[65534,65534]' "$F" "as root, the cell's sandboxes ran as host 65534"
else
  assert_json '.environment.sandbox_host_uid' "$(id -u)" "$F" "rootless, the cell's sandboxes ran as the caller"
fi
finish
