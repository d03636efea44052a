#!/bin/bash
# Every cell records its protection, and --require refuses to start below it.
#
#   * the host's truth first: `cab exec --host-rootfs --memory --pids
#     --result` says what enforces memory and pids for this user here (as
#     root on a hybrid v1 host: cgroup-v1; as an unprivileged user without a
#     writable cgroup: rlimit, the watchdog);
#   * a real oracle cell on the host's / records environment.protection:
#     its level (host-root or host-root-no-cgroup, from the host's truth),
#     the default required items, the seven namespaces, the agent's and the
#     verifier's seccomp policies, the capabilities, each limit as
#     environment.limits says it, the root (host, with its masks) and the
#     network (none); the report's cell page shows it as a table, and
#     `cab results export` its level (column protection_level);
#   * a cab-agent cell in the busybox image on the model network: root
#     overlay (or copy, as the overlay probe says), network veth+proxy;
#   * --require refuses before anything starts, in one line with exit 125,
#     leaving no cell, staging or scratch: cgroup/memory where no cgroup
#     would hold memory (the unprivileged pass here), image and overlay on
#     --host-rootfs; `cab exec --no-cgroup --require memory`; a sweep whose
#     plan requires what the host cannot give; --require none runs; a bad
#     item is one line naming it and the valid ones;
#   * run-cell --cgroup-parent (root, v1): the cells' cgroups below it;
#   * the defence after the run (root, cgroup v1 cpu): a parent whose
#     cfs quota is below the asked --cpus makes the kernel refuse the cell's
#     quota although the hierarchy is writable (predicted cgroup-v1, ran
#     with none): run-cell --require cpu records infra_error (exit 3, not
#     verified), cab exec --require cpu fails with 125.
# shellcheck disable=SC2016 # jq programs are quoted on purpose
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

setup_cell_test
export XDG_CACHE_HOME=$T/cache # where cab results export builds its index
command -v python3 >/dev/null 2>&1 || skip "python3 not installed (the tasks' toolchain)"
OUT=$T/out
SWEEP=prot
TASK=polyglot/shell-word-count

# --- the host's truth, from the sandbox itself ----------------------------------------
run_cab "$T/host.out" exec --host-rootfs --memory 256M --pids 256 --result "$T/host.json" -- true
assert_rc 0 "cab exec --host-rootfs runs"
MEM=$(jget .limits.memory "$T/host.json")
PIDS=$(jget .limits.pids "$T/host.json")
say "# this host, as $CAB_TEST_MODE: memory by $MEM, pids by $PIDS"
assert_json '.protection | [.limits.memory, .limits.pids, .limits.cpu, .root, .network, .seccomp]' \
  "[\"$MEM\",\"$PIDS\",\"unlimited\",\"host\",\"none\",\"default\"]" "$T/host.json" \
  "exec --result: the protection block says the limits the run reports, the host's root, no network"
case $MEM in cgroup-*) MEM_CG=1 ;; *) MEM_CG=0 ;; esac
case $PIDS in cgroup-*) PIDS_CG=1 ;; *) PIDS_CG=0 ;; esac
if [ "$MEM_CG$PIDS_CG" = 11 ]; then LEVEL=host-root; else LEVEL=host-root-no-cgroup; fi
if ! is_root && [ ! -w "/sys/fs/cgroup/memory$(own_cgroup_v1 memory)" ] && [ -d /sys/fs/cgroup/memory ]; then
  assert_eq "$MEM" rlimit "unprivileged on a v1 host without a writable cgroup: memory by rlimit and the watchdog"
fi

# --- a real cell on the host's / -------------------------------------------------------
run_cab "$T/cell.out" run-cell --tui oracle --model cab/none --task "$TASK" --host-rootfs \
  --sweep-id "$SWEEP" --out "$OUT"
assert_rc 0 "the oracle cell runs with the default --require"
C=$OUT/$SWEEP/oracle/cab/none/$TASK/cell.json
assert_json '.outcome' pass "$C" "the oracle cell passes"
P='.environment.protection'
assert_json "$P.level" "$LEVEL" "$C" "level $LEVEL, from what enforced memory and pids here"
assert_json "$P.required" '["namespaces","seccomp"]' "$C" "required: the default, namespaces and seccomp"
assert_json "$P.namespaces" '["user","mount","pid","net","ipc","uts","cgroup"]' "$C" "the seven namespaces entered"
assert_json "[$P.seccomp, $P.verifier_seccomp]" '["default","verifier"]' "$C" "the agent's policy is Docker's default, the verifier's its own"
assert_jq "$P.capabilities | length > 0 and all(startswith(\"cap_\"))" "$C" "the capabilities kept, by name"
assert_json "$P.limits" "{\"memory\":\"$MEM\",\"pids\":\"$PIDS\",\"cpu\":\"unlimited\",\"time\":\"supervisor\",\"disk\":\"watchdog\"}" \
  "$C" "each limit and what enforced it (cpu not asked for)"
assert_jq "$P.limits.memory == .environment.limits.memory and $P.limits.pids == .environment.limits.pids" \
  "$C" "the block says what environment.limits says"
assert_json "[$P.root, $P.network, ($P.masked_paths > 0)]" '["host","none",true]' "$C" "root: the host's /, masked; network none"
assert_jq '(.environment | keys_unsorted | .[-1]) == "protection" and (.environment.limits | keys_unsorted) == ["memory","pids","cpu","time","memory_enforced","disk","memory_bytes","cpus","pids_max","timeout_s","max_turns"]' \
  "$C" "protection comes last in environment; environment.limits keeps its keys"

# The report's cell page shows it.
run_cab "$T/report.out" report "$OUT" --out "$T/site"
assert_rc 0 "cab report"
PAGE=$(grep -rl 'id="protection"' "$T/site/cell" | head -n1)
if [ -n "$PAGE" ]; then
  assert_match "$(tr -d '\n' <"$PAGE")" "<th scope=\"row\">level</th><td>$LEVEL</td>" "the cell page's protection table shows the level"
  assert_match "$(tr -d '\n' <"$PAGE")" "<th scope=\"row\">memory limit</th><td>$MEM</td>" "... and what enforced memory"
else
  fail "the report's cell page has no protection section"
fi

# ... and the results index has it as a column.
run_cab "$T/index.out" index "$OUT"
assert_rc 0 "cab index"
run_cab "$T/export.jsonl" results export "$OUT" --format jsonl
assert_eq "$(jq -r "select(.cell_id == \"$SWEEP/oracle/cab/none/$TASK\") | .protection_level" "$T/export.jsonl")" "$LEVEL" \
  "cab results export: protection_level is the cell's level"

# --- refusals, before anything starts ---------------------------------------------------
# refused NAME RE ARGS...: run-cell refuses with exit 125, one line matching RE,
# and leaves no cell, staging or scratch behind.
refused() {
  local name=$1 re=$2
  shift 2
  run_cab "$T/$name.out" run-cell --tui oracle --model cab/none --task "$TASK" \
    --sweep-id "refused-$name" --out "$OUT" "$@"
  assert_rc 125 "$name: refused with exit 125"
  assert_eq "$(wc -l <"$T/$name.out.err")" 1 "$name: one line"
  assert_match "$(cat "$T/$name.out.err")" "$re" "$name: says what is required, what this host gives, and the fix"
  [ -e "$OUT/refused-$name" ] && fail "$name: something was written under --out" || pass "$name: no cell written"
  assert_eq "$(find "$TMPDIR" -mindepth 1 -maxdepth 1 -name 'cab-*' | wc -l)" 0 "$name: no scratch left"
}
refused image '--require image: the root would be the host.s /; run in an image .*, or drop image from --require$' \
  --host-rootfs --require namespaces,image
refused overlay '--require overlay: the root would be the host.s /; .*, or drop overlay from --require$' \
  --host-rootfs --require overlay
if [ "$MEM_CG" = 0 ]; then
  refused cgroup "--require cgroup: memory would be enforced by rlimit\\+watchdog here \\(.*\\); .*, or drop cgroup from --require\$" \
    --host-rootfs --require cgroup
  refused memory "--require memory: memory would be enforced by rlimit\\+watchdog here" --host-rootfs --require memory
else
  run_cab "$T/cg.out" run-cell --tui oracle --model cab/none --task "$TASK" --host-rootfs \
    --sweep-id cg --out "$OUT" --require cgroup,memory,pids
  assert_rc 0 "memory and pids by a cgroup here: --require cgroup,memory,pids runs"
  assert_json '.environment.protection.required' '["cgroup","memory","pids"]' \
    "$OUT/cg/oracle/cab/none/$TASK/cell.json" "... and records what was required"
fi
refused cpu '--require cpu: cpu would not be limited at all; pass --cpus N, or drop cpu from --require$' \
  --host-rootfs --require cpu
run_cab "$T/none.out" run-cell --tui nop --model cab/none --task "$TASK" --host-rootfs \
  --sweep-id none --out "$OUT" --require none
assert_rc 0 "--require none runs"
assert_json '.environment.protection.required' '[]' "$OUT/none/nop/cab/none/$TASK/cell.json" "--require none: nothing required"
run_cab "$T/bad.out" run-cell --tui nop --model cab/none --task "$TASK" --host-rootfs --require seccomp,cgroups
assert_rc 125 "a bad --require item is refused"
assert_eq "$(cat "$T/bad.out.err")" "cab: run-cell: --require seccomp,cgroups: 'cgroups' is no protection item; expected a comma-separated list of namespaces,seccomp,cgroup,memory,pids,cpu,image,overlay, or none" \
  "a bad item: one line naming it and the valid ones"

run_cab "$T/exec-nocg.out" exec --host-rootfs --no-cgroup --memory 64M --require memory -- /bin/echo ran
assert_rc 125 "exec --no-cgroup --require memory is refused"
assert_eq "$(cat "$T/exec-nocg.out")" "" "... before the command ran"
assert_match "$(cat "$T/exec-nocg.out.err")" '^cab: exec: --require memory: memory would be enforced by rlimit\+watchdog here \(cgroups not used, as --no-cgroup asked\); drop --no-cgroup, or drop memory from --require$' \
  "... in one line with the fix"
run_cab "$T/exec-unconf.out" exec --host-rootfs --seccomp unconfined --require namespaces,seccomp -- /bin/echo ran
assert_rc 125 "exec --seccomp unconfined is refused by an explicit --require seccomp"
assert_eq "$(cat "$T/exec-unconf.out")" "" "... before the command ran"
run_cab "$T/exec-unconf2.out" exec --host-rootfs --seccomp unconfined --result "$T/unconf.json" -- /bin/echo ran
assert_rc 0 "an explicit --seccomp unconfined lowers only the default --require: it runs"
assert_json '.protection | [.level, .seccomp]' '["no-seccomp","unconfined"]' "$T/unconf.json" "... recorded as level no-seccomp, seccomp unconfined"

# A sweep checks its cells' --require before any starts.
cat >"$T/plan.json" <<EOF
{"sweep_id": "psweep", "tuis": [{"tui": "oracle"}, {"tui": "nop"}], "models": [{"model": "cab/none"}],
 "tasks": ["$TASK"], "host_rootfs": true, "require": "namespaces,seccomp,image"}
EOF
run_cab "$T/sweep.out" sweep "$T/plan.json" --out "$T/sweep"
assert_rc 125 "a sweep whose plan requires an image root, on the host's /, is refused"
assert_match "$(tail -n1 "$T/sweep.out.err")" '^cab: sweep: cell psweep/oracle/cab/none/polyglot/shell-word-count#run1: run-cell: --require image: ' \
  "... naming the first cell and the missing item"
[ -e "$T/sweep" ] && fail "the refused sweep created its --out" || pass "... before any cell ran: nothing written, not even --out"
run_cab "$T/sweep2.out" sweep "$T/plan.json" --out "$T/sweep" --require none
assert_rc 0 "sweep --require none overrides the plan"
assert_json '.environment.protection.required' '[]' "$T/sweep/psweep/oracle/cab/none/$TASK/run-1/cell.json" "... and each cell records it"

# --- a cell in an image, on the model network ---------------------------------------------
if command -v umoci >/dev/null 2>&1; then
  IMAGE=cab-test/busybox:prot
  bash "$TESTS_DIR/images/busybox-image.sh" "$T/layout" prot >"$T/image.out" 2>&1 ||
    bail "busybox-image.sh failed: $(tail -n 5 "$T/image.out" | tr '\n' '|')"
  run_cab "$T/import.out" import "$T/layout" --name "$IMAGE"
  assert_rc 0 "cab import of the busybox image"
  "$CAB" model-server --script "$TESTS_DIR/model/cell-solve.json" --listen 127.0.0.1:0 >"$T/srv" 2>"$T/srv.err" </dev/null &
  SRV=$!
  at_exit "kill $SRV"
  URL=
  for _ in $(seq 100); do
    URL=$(sed -n '1s/^listening on //p' "$T/srv")
    [ -n "$URL" ] && break
    sleep 0.05
  done
  [ -n "$URL" ] || bail "cab model-server did not start: $(head -c 400 "$T/srv.err")"
  run_cab "$T/img.out" run-cell --tui cab-agent --model scripted/cell-solve --task "$TASK" \
    --image "$IMAGE" --endpoint "$URL" --sweep-id img --out "$OUT"
  assert_rc 0 "a cab-agent cell in the image"
  kill "$SRV" 2>/dev/null
  I=$OUT/img/cab-agent/scripted/cell-solve/$TASK/cell.json
  ROOT=copy
  "$CAB" doctor 2>/dev/null | grep -q '^  overlay in userns: *yes' && ROOT=overlay
  if [ "$MEM_CG$PIDS_CG" = 11 ]; then ILEVEL=full; else ILEVEL=no-cgroup; fi
  assert_json "[$P.level, $P.root, $P.network]" "[\"$ILEVEL\",\"$ROOT\",\"veth+proxy\"]" "$I" \
    "in the image: level $ILEVEL, root $ROOT, the model network through the proxy"
  assert_jq "$P | has(\"masked_paths\") | not" "$I" "no masked paths off the host's /"
else
  say "# umoci not installed: the image cell is not run"
fi

# --- --cgroup-parent: a cgroup made for cab (as root here, the v1 hierarchies) ---------------
MEM_V1=$(awk '$9 == "cgroup" && $NF ~ /(^|,)memory(,|$)/ {print $5; exit}' /proc/self/mountinfo)
PIDS_V1=$(awk '$9 == "cgroup" && $NF ~ /(^|,)pids(,|$)/ {print $5; exit}' /proc/self/mountinfo)
if is_root && [ -n "$MEM_V1" ] && [ -n "$PIDS_V1" ]; then
  for h in "$MEM_V1" "$PIDS_V1"; do
    mkdir "$h/cab-test-parent-$$" && at_exit "rmdir '$h/cab-test-parent-$$'"
  done
  run_cab "$T/parent.out" run-cell --tui oracle --model cab/none --task "$TASK" --host-rootfs \
    --sweep-id parent --out "$OUT" --cgroup-parent "/cab-test-parent-$$" --require cgroup,memory,pids
  assert_rc 0 "run-cell --cgroup-parent with --require cgroup,memory,pids runs"
  assert_json '.environment.protection | [.level, .limits.memory, .limits.pids]' '["host-root","cgroup-v1","cgroup-v1"]' \
    "$OUT/parent/oracle/cab/none/$TASK/cell.json" "... memory and pids by cgroup v1 below the given parent"
fi

# --- the defence after the run: predicted cgroup, ran without --------------------------
# As root on a v1 cpu hierarchy: cab's own cgroup gets a cfs quota of half a
# CPU; the cell cgroup cab makes below it is writable (so cpu by cgroup-v1
# is predicted), but the kernel refuses a child's quota above its
# parent's (EINVAL), so --cpus 1 ends up enforced by nothing.
CPU_V1=$(awk '$9 == "cgroup" && $NF ~ /(^|,)cpu(,|$)/ {print $5; exit}' /proc/self/mountinfo)
if is_root && [ -n "$CPU_V1" ] && [ -w "$CPU_V1" ]; then
  G=$CPU_V1/cab-test-prot-$$
  mkdir "$G" && at_exit "rmdir '$G'"
  echo 100000 >"$G/cpu.cfs_period_us"
  echo 50000 >"$G/cpu.cfs_quota_us"
  # in_quota ARGS...: cab, from a shell inside the quota'd cgroup.
  in_quota() {
    (echo "$BASHPID" >"$G/cgroup.procs" && exec timeout -k 5 "$CAB_TEST_TIMEOUT" "$CAB" "$@") </dev/null
  }
  in_quota run-cell --tui oracle --model cab/none --task "$TASK" --host-rootfs --sweep-id below \
    --out "$OUT" --cpus 1 --require cpu >"$T/below.out" 2>"$T/below.err"
  rc=$?
  say "  stderr: $(tr '\n' '|' <"$T/below.err")"
  assert_eq "$rc" 3 "run-cell --cpus 1 --require cpu under a 0.5-CPU parent: recorded as infra_error (exit 3)"
  B=$OUT/below/oracle/cab/none/$TASK/cell.json
  assert_json '.outcome' infra_error "$B" "... outcome infra_error: no scored result"
  assert_match "$(jget .outcome_reason "$B")" '^protection: --require cpu: cpu was enforced by nothing, below what this host was predicted to give$' \
    "... the reason names the item and what it got"
  assert_json '[.environment.protection.limits.cpu, .environment.protection.verifier_seccomp, .verify.exit_code]' \
    '["none",null,125]' "$B" "... cpu recorded as enforced by nothing; the verifier never ran"
  in_quota exec --host-rootfs --cpus 1 --require cpu -- /bin/true >"$T/below-exec.out" 2>"$T/below-exec.err"
  rc=$?
  assert_eq "$rc" 125 "exec --cpus 1 --require cpu under the same parent fails with 125"
  assert_match "$(tail -n1 "$T/below-exec.err")" '^cab: exec: --require cpu: cpu was enforced by nothing, below what was predicted$' \
    "... saying what fell short"
else
  say "# not root on a writable cgroup v1 cpu hierarchy: the after-the-run check is not exercised here"
fi

finish
