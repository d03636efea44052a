#!/bin/bash
# Scale-out on a real engine: a private single-node Slurm cluster (Debian's
# slurm-wlm and munge, started by this test), `cab slurm PLAN --shards 2
# --submit` run by an unprivileged user (the jobs are that user's: no root,
# no Docker), the array's two shards and the dependent merge job; the merged
# result equals the same plan run locally with `cab sweep`, cell for cell.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
setup --bare
SRC_DIR=$(dirname "$TESTS_DIR")
is_root || skip "starting slurmctld and slurmd needs root (the root run of this test covers it)"
for t in slurmctld slurmd munged sbatch squeue sinfo; do
  command -v "$t" >/dev/null || skip "$t is not installed (make deps installs slurm-wlm and munge)"
done
"$CAB" sweep --help >/dev/null 2>&1 || skip "this cab has no sweep command yet"
USER_NAME=${CAB_TEST_USER:-cabtest}
id "$USER_NAME" >/dev/null 2>&1 || skip "the unprivileged test user $USER_NAME does not exist"
# The user must be able to run cab itself.
setpriv --reuid="$USER_NAME" --regid="$USER_NAME" --init-groups test -x "$CAB" ||
  skip "$USER_NAME cannot run $CAB (check the permissions of its parent directories)"
. "$TESTS_DIR/fixtures/slurm/cluster.sh"
slurm_cluster_start "$T/slurm" || bail "the single-node Slurm cluster did not start"
pass "a single-node Slurm cluster is up ($(sinfo -h -o '%P %T %N' | tr '\n' ' '))"

W=$T/work
mkdir -p "$W"
chmod 0777 "$W"
cat >"$W/plan.json" <<'EOF'
{
  "sweep_id": "slurm-test",
  "scoring": "codingagentbench-v0.1",
  "reruns": 1,
  "tuis": [{"tui": "oracle"}, {"tui": "nop"}],
  "models": [{"model": "cab/none"}],
  "tasks": ["polyglot/shell-word-count", "polyglot/python-reverse-string", "mutations/python-swapped-args"],
  "host_rootfs": true,
  "max_concurrency": 2
}
EOF
chmod 0644 "$W/plan.json"
as_user() {
  setpriv --reuid="$USER_NAME" --regid="$USER_NAME" --init-groups \
    env -i PATH="$PATH" HOME="$W" USER="$USER_NAME" LOGNAME="$USER_NAME" SLURM_CONF="$SLURM_CONF" "$@"
}

# Submitted by the user: two array tasks, then the merge.
as_user "$CAB" slurm "$W/plan.json" --shards 2 --out "$W/cluster" --submit >"$T/submit.out" 2>"$T/submit.err"
RC=$?
assert_rc 0 "cab slurm --submit, as $USER_NAME, exits 0 ($(head -c 300 "$T/submit.err"))"
read -r ARRAY MERGE <"$T/submit.out"
assert_match "$ARRAY $MERGE" '^[0-9]+ [0-9]+$' "cab slurm prints the array's and the merge's job ids"
slurm_wait_job "$MERGE" 240 || fail "the merge job did not finish within 240 s ($(squeue -h 2>&1 | head -n 5 | tr '\n' '|'))"
for k in 1 2; do
  say "# shard $k log: $(tail -n 3 "$W/cluster/slurm/logs/shard-$k.log" 2>/dev/null | tr '\n' '|')"
done
say "# merge log: $(tail -n 5 "$W/cluster/slurm/logs/merge.log" 2>/dev/null | tr '\n' '|')"
assert_eq "$(find "$W/cluster/shards" -name cell.json | wc -l)" 6 "the two shards hold the plan's 6 cells between them"
assert_eq "$(find "$W/cluster/shards/shard-1" -name cell.json | wc -l | awk '$1 > 0 { print "some" }')" some \
  "shard 1 ran cells"
assert_eq "$(find "$W/cluster/shards/shard-2" -name cell.json | wc -l | awk '$1 > 0 { print "some" }')" some \
  "shard 2 ran cells"
assert_eq "$(stat -c %U "$(find "$W/cluster/shards" -name cell.json | head -n1)")" "$USER_NAME" \
  "the cells were written by the user's jobs, not by root"

# The same plan, locally.
as_user "$CAB" sweep "$W/plan.json" --out "$W/local" >"$T/local.out" 2>"$T/local.err"
RC=$?
assert_rc 0 "cab sweep (local) exits 0 ($(head -c 300 "$T/local.err"))"
summary() { # DIR: "path outcome pass blast" per cell, sorted
  (cd "$1" && find . -name cell.json | sort | while read -r f; do
    printf '%s %s\n' "$(dirname "$f")" "$(jq -c '[.outcome, .scorers.pass_rate.pass, .scorers.blast_radius.blast_radius]' "$f")"
  done)
}
summary "$W/cluster/merged" >"$T/cluster.sum"
summary "$W/local" >"$T/local.sum"
assert_eq "$(wc -l <"$T/local.sum")" 6 "the local sweep holds 6 cells"
if cmp -s "$T/cluster.sum" "$T/local.sum"; then
  pass "the merged cluster result equals the local run, cell for cell"
else
  fail "merged vs local differ: $(diff "$T/cluster.sum" "$T/local.sum" | head -n 8 | tr '\n' '|')"
fi
finish
