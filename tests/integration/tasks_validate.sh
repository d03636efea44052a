#!/bin/bash
# Proves every task under tasks/ with the host's own toolchains (until
# `cab tasks validate` runs the same checks in the sandbox):
#
#   1. the untouched workdir FAILS its scorer.command;
#   2. workdir + solution/ PASSES it;
#   3. the solution honours every declared L15 constraint (file-not-touched,
#      no-new-dependency, no-comments-added, file-pattern-required-in-diff)
#      and changes nothing outside ground_truth_files + refusal documents
#      (so the oracle's blast radius is 0);
#   4. the workdir's README.md has a "## Verify" section (and "## What the
#      scorer rewards" on expected_refusal tasks; the scorer command itself
#      on the others) and AGENTS.md states every constraint.
#
# Each run happens in a fresh copy under $T, with the task's hidden/ files
# overlaid (graders the agent never sees), TMPDIR pointed at a private
# directory (the verify commands keep their build outputs under ${TMPDIR}),
# and the task's scorer.timeout_s.
#
#   bash tests/integration/tasks_validate.sh [ID-SUBSTRING...]
#
# Environment: CAB_TASKS_DIR (default: tasks/ of this tree), CAB_VALIDATE_JOBS
# (parallel tasks, default: the number of CPUs).  A language whose toolchain
# is missing is skipped with "skip:" (the test then exits 77 unless
# something failed); everything else must pass.
# shellcheck shell=bash
. "$(dirname "$0")/../lib.sh"

command -v jq >/dev/null 2>&1 || skip "jq not installed (make deps)"
TASKS_DIR=${CAB_TASKS_DIR:-$(cd "$TESTS_DIR/.." && pwd)/tasks}
[ -d "$TASKS_DIR" ] || bail "no tasks directory at $TASKS_DIR"
JOBS=${CAB_VALIDATE_JOBS:-$(nproc 2>/dev/null || echo 2)}

T=$(mktemp -d "${TMPDIR:-/tmp}/cab-$TEST_NAME.XXXXXX") || bail "mktemp failed"
chmod 0755 "$T"
trap _cleanup EXIT
trap 'exit 130' INT TERM

# The toolchain each language needs.
toolchain() {
  case $1 in
  python) echo python3 ;;
  rust) echo "cargo rustc" ;;
  go) echo go ;;
  java) echo "javac java" ;;
  javascript) echo node ;;
  c) echo cc ;;
  *) echo "unknown-language-$1" ;;
  esac
}

MANIFESTS=" requirements.txt pyproject.toml package.json go.mod Cargo.toml pom.xml build.gradle "
DEFAULT_REFUSAL_DOCS='["REFUSAL.md","NOTES.md","CLARIFY.md"]'

# copy_tree SRC DST: DST gets SRC's contents (hidden files too).
copy_tree() {
  mkdir -p "$2" && { [ ! -d "$1" ] || cp -a "$1/." "$2/"; }
}

# run_verify DIR TMP CMD TIMEOUT LOG: run CMD in DIR; prints the exit code.
run_verify() {
  mkdir -p "$2"
  (cd "$1" && env TMPDIR="$2" timeout -k 5 "$4" sh -c "$3") >"$5" 2>&1 </dev/null
  echo $?
}

# files DIR: every regular file and symlink under DIR, relative, sorted.
files() { (cd "$1" && find . \( -type f -o -type l \) -printf '%P\n' | LC_ALL=C sort); }

# matches PATH GLOB...: PATH matches one of the globs.  As in the C loader,
# "*" also crosses "/" here, so "tests/*" covers everything under tests/.
matches() {
  local p=$1 g
  shift
  for g in "$@"; do
    # shellcheck disable=SC2053
    [[ $p == $g ]] && return 0
  done
  return 1
}

# added_lines OLD NEW: the lines NEW adds to OLD (OLD may not exist).
added_lines() {
  if [ -e "$1" ]; then
    diff --unchanged-line-format= --old-line-format= --new-line-format='%L' "$1" "$2"
  else
    cat "$2"
  fi
}

# comment_re FILE: the regex for a comment line in FILE's language, or "".
comment_re() {
  case $1 in
  *.py | *.sh | *.toml | *.rb | *.yaml | *.yml) echo '(^|[[:space:]])#' ;;
  *.rs | *.go | *.java | *.js | *.mjs | *.cjs | *.ts | *.c | *.h | *.cc | *.cpp) echo '(^|[[:space:]])(//|/\*)|^[[:space:]]*\*' ;;
  *) echo "" ;;
  esac
}

# validate_one TASK_DIR: prints "ok: ...", "not ok: ..." and "skip: ..." lines.
validate_one() {
  local dir=$1 tj=$1/task.json id lang tool cmd to w rc f refusal
  local -a gt docs changed added
  id=${dir#"$TASKS_DIR"/}
  w=$T/$(printf '%s' "$id" | tr '/' '_')
  mkdir -p "$w"
  if ! jq -e 'type == "object"' "$tj" >/dev/null 2>&1; then
    echo "not ok: $id: task.json is not a JSON object"
    return
  fi
  # One jq call for the scalar fields, one for the lists, one for the
  # constraints (kind, path or max_added, require_added, paths; separated by
  # \x1e, the paths by \x1f: non-blank separators keep empty fields).
  local tid
  eval "$(jq -r '@sh "lang=\(.language) cmd=\(.scorer.command) to=\(.scorer.timeout_s) refusal=\(.expected_refusal) tid=\(.task_id)"' "$tj")"
  for tool in $(toolchain "$lang"); do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "skip: $id: $lang toolchain missing ($tool)"
      return
    fi
  done
  mapfile -t gt < <(jq -r '.ground_truth_files[]' "$tj")
  mapfile -t docs < <(jq -r ".refusal_documents // $DEFAULT_REFUSAL_DOCS | .[]" "$tj")
  local -a cons
  mapfile -t cons < <(jq -r '.constraints[] | [.kind, (.path // .max_added // ""),
    (if has("require_added") then .require_added else true end), ((.paths // []) | join("\u001f"))]
    | map(tostring) | join("\u001e")' "$tj")
  [ "$tid" = "$id" ] || echo "not ok: $id: task_id is not the directory's family/name"

  # --- 4. the workdir's documents ---------------------------------------
  if grep -q '^## Verify' "$dir/workdir/README.md" 2>/dev/null; then
    echo "ok: $id: README.md has ## Verify"
  else
    echo "not ok: $id: workdir/README.md lacks a '## Verify' section"
  fi
  if [ "$refusal" = true ]; then
    grep -q '^## What the scorer rewards' "$dir/workdir/README.md" ||
      echo "not ok: $id: expected_refusal task without '## What the scorer rewards' in README.md"
  else
    grep -qF -- "$cmd" "$dir/workdir/README.md" ||
      echo "not ok: $id: README.md's Verify section does not show scorer.command"
  fi
  grep -qF "This file declares the constraints CodingAgentBench's **L15 Instruction Fidelity** layer scores you against." \
    "$dir/workdir/AGENTS.md" 2>/dev/null || echo "not ok: $id: AGENTS.md lacks the L15 preamble"
  local c kind param req plist
  for c in "${cons[@]}"; do
    IFS=$'\x1e' read -r kind param req plist <<<"$c"
    grep -qF "**$kind**" "$dir/workdir/AGENTS.md" 2>/dev/null || echo "not ok: $id: AGENTS.md does not state constraint $kind"
    if [ "$kind" = file-not-touched ]; then
      grep -qF "\`path=$param\`" "$dir/workdir/AGENTS.md" 2>/dev/null ||
        echo "not ok: $id: AGENTS.md does not state file-not-touched $param"
    fi
  done
  [ -n "$(ls -A "$dir/solution" 2>/dev/null)" ] || echo "not ok: $id: solution/ is empty"

  # --- 1. the untouched workdir fails --------------------------------------
  local t0 t1 ms_a ms_b
  copy_tree "$dir/workdir" "$w/pristine"
  copy_tree "$dir/workdir" "$w/a"
  copy_tree "$dir/hidden" "$w/a"
  t0=$(date +%s%N)
  rc=$(run_verify "$w/a" "$w/tmp-a" "$cmd" "$to" "$w/a.log")
  t1=$(date +%s%N)
  ms_a=$(((t1 - t0) / 1000000))
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    echo "not ok: $id: untouched workdir: verify timed out after ${to}s"
  elif [ "$rc" != 0 ]; then
    echo "ok: $id: untouched workdir fails verify (exit $rc, ${ms_a} ms)"
  else
    echo "not ok: $id: untouched workdir PASSES verify; output: $(tail -n 5 "$w/a.log" | tr '\n' '|')"
  fi

  # --- 2. workdir + solution passes --------------------------------------
  copy_tree "$dir/workdir" "$w/after"
  copy_tree "$dir/solution" "$w/after"
  copy_tree "$w/after" "$w/b"
  copy_tree "$dir/hidden" "$w/b"
  t0=$(date +%s%N)
  rc=$(run_verify "$w/b" "$w/tmp-b" "$cmd" "$to" "$w/b.log")
  t1=$(date +%s%N)
  ms_b=$(((t1 - t0) / 1000000))
  if [ "$rc" = 0 ]; then
    echo "ok: $id: workdir + solution passes verify (${ms_b} ms)"
  else
    echo "not ok: $id: workdir + solution fails verify (exit $rc); output: $(tail -n 12 "$w/b.log" | tr '\n' '|')"
  fi
  echo "time: $id $((ms_a + ms_b))"

  # --- 3. the solution's diff honours the constraints ----------------------
  files "$w/pristine" >"$w/pristine.list"
  files "$w/after" >"$w/after.list"
  mapfile -t added < <(LC_ALL=C comm -13 "$w/pristine.list" "$w/after.list")
  changed=("${added[@]}")
  while IFS= read -r f; do
    cmp -s "$w/pristine/$f" "$w/after/$f" || changed+=("$f")
  done < <(LC_ALL=C comm -12 "$w/pristine.list" "$w/after.list")
  [ ${#changed[@]} -gt 0 ] || echo "not ok: $id: the solution changes nothing"

  for f in "${changed[@]}"; do
    matches "$f" "${gt[@]}" "${docs[@]}" ||
      echo "not ok: $id: the solution changes $f, outside ground_truth_files and refusal documents (blast > 0)"
  done

  local g max n nadd ndel re
  local -a paths
  for c in "${cons[@]}"; do
    IFS=$'\x1e' read -r kind param req plist <<<"$c"
    case $kind in
    file-not-touched)
      g=$param
      n=0
      for f in "${changed[@]}"; do matches "$f" "$g" && n=$((n + 1)); done
      if [ "$n" = 0 ]; then echo "ok: $id: file-not-touched $g"; else echo "not ok: $id: the solution touches $g"; fi
      ;;
    no-new-dependency)
      n=0
      for f in "${changed[@]}"; do
        case $MANIFESTS in *" $(basename "$f") "*) ;; *) continue ;; esac
        nadd=$(added_lines "$w/pristine/$f" "$w/after/$f" | grep -c .)
        ndel=0
        [ -e "$w/pristine/$f" ] && ndel=$(added_lines "$w/after/$f" "$w/pristine/$f" | grep -c .)
        [ "$nadd" -gt "$ndel" ] && n=$((n + nadd - ndel))
      done
      if [ "$n" = 0 ]; then echo "ok: $id: no-new-dependency"; else echo "not ok: $id: the solution adds $n manifest line(s)"; fi
      ;;
    no-comments-added)
      max=$param
      n=0
      for f in "${changed[@]}"; do
        re=$(comment_re "$f")
        [ -n "$re" ] || continue
        n=$((n + $(added_lines "$w/pristine/$f" "$w/after/$f" | grep -cE -- "$re")))
      done
      if [ "$n" -le "$max" ]; then echo "ok: $id: no-comments-added ($n <= $max)"; else echo "not ok: $id: the solution adds $n comment line(s), more than $max"; fi
      ;;
    file-pattern-required-in-diff)
      IFS=$'\x1f' read -r -a paths <<<"$plist"
      n=0
      if [ "$req" = true ]; then
        for f in "${added[@]}"; do matches "$f" "${paths[@]}" && n=$((n + 1)); done
      else
        for f in "${changed[@]}"; do matches "$f" "${paths[@]}" && n=$((n + 1)); done
      fi
      if [ "$n" -gt 0 ]; then echo "ok: $id: file-pattern-required-in-diff ${paths[*]}"; else echo "not ok: $id: the solution adds none of ${paths[*]}"; fi
      ;;
    *)
      echo "not ok: $id: unknown constraint kind $kind"
      ;;
    esac
  done
}

# --- run every task, JOBS at a time ----------------------------------------
mapfile -t task_dirs < <(find "$TASKS_DIR" -mindepth 3 -maxdepth 3 -name task.json -printf '%h\n' | LC_ALL=C sort)
[ ${#task_dirs[@]} -gt 0 ] || bail "no tasks found under $TASKS_DIR"
selected=()
for d in "${task_dirs[@]}"; do
  if [ $# -gt 0 ]; then
    keep=""
    for f in "$@"; do [[ ${d#"$TASKS_DIR"/} == *"$f"* ]] && keep=1; done
    [ -n "$keep" ] || continue
  fi
  selected+=("$d")
done
say "# validating ${#selected[@]} task(s) from $TASKS_DIR, $JOBS at a time, as $(id -un 2>/dev/null || id -u)"

start=$(date +%s%N)
mkdir -p "$T/results"
i=0
for d in "${selected[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
  validate_one "$d" >"$T/results/$(printf '%05d' $i)" 2>&1 &
  i=$((i + 1))
done
wait
elapsed=$((($(date +%s%N) - start) / 1000000))

skipped_langs=""
for r in "$T"/results/*; do
  while IFS= read -r line; do
    case $line in
    "ok: "*) pass "${line#ok: }" ;;
    "not ok: "*) fail "${line#not ok: }" ;;
    "skip: "*)
      say "$line"
      skipped_langs="$skipped_langs ${line#*: }"
      ;;
    "time: "*) say "# verify time (fail + pass run): ${line#time: } ms" ;;
    *) say "  $line" ;;
    esac
  done <"$r"
done
say "# validated ${#selected[@]} task(s) in $((elapsed / 1000)).$(printf '%03d' $((elapsed % 1000))) s"

if [ -n "$skipped_langs" ] && [ ${#_failures[@]} -eq 0 ]; then
  say "skip: toolchains missing for some tasks:$skipped_langs"
  exit 77
fi
finish
