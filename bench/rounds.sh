# shellcheck shell=bash
# Sourced by the benches: hyperfine in rounds, so that commands compared
# side by side see the same machine load.
#
# On a shared host (two cores, several people) the load moves by a factor
# of two within a minute; one hyperfine run measures its commands one after
# the other, so a ratio between its first and last command mostly measures
# the load.  hyperfine_rounds runs BENCH_ROUNDS (default 5) hyperfine runs of
# RUNS/ROUNDS runs each, every round in the same order, and merges their
# per-run times: every command is then sampled across the whole span.
#
#   hyperfine_rounds OUT.json RUNS WARMUP [hyperfine options] -n NAME CMD ...
#
# OUT.json has hyperfine's shape (.results[] with .command, .mean, .median,
# .min, .max, .stddev, .times, .user, .system) over all rounds.  The load at
# the start and end goes to stdout as one line.
hyperfine_rounds() {
  local out=$1 runs=$2 warmup=$3
  shift 3
  local rounds=${BENCH_ROUNDS:-5} per r dir
  [ "$rounds" -ge 1 ] || rounds=1
  per=$(((runs + rounds - 1) / rounds))
  [ "$per" -ge 2 ] || per=2
  dir=$(mktemp -d "${TMPDIR:-/tmp}/cab-rounds.XXXXXX") || return 1
  local load0
  load0=$(cut -d' ' -f1-3 /proc/loadavg)
  for r in $(seq "$rounds"); do
    # The warmup only once: later rounds start on a warm cache anyway.
    local w=$warmup
    [ "$r" -gt 1 ] && w=1
    if ! hyperfine -N --style none --warmup "$w" --runs "$per" --export-json "$dir/$r.json" "$@" \
        >"$dir/$r.out" 2>&1; then
      cat "$dir/$r.out" >&2
      rm -rf "$dir"
      return 1
    fi
  done
  jq -s '
    def mean: add / length;
    def median: sort | if length % 2 == 1 then .[length / 2 | floor]
                       else (.[length / 2 - 1] + .[length / 2]) / 2 end;
    def stddev: mean as $m | (map((. - $m) * (. - $m)) | add / length) | sqrt;
    [ .[] | .results ] as $rounds
    | { results: [ range(0; $rounds[0] | length) as $i
        | ([ $rounds[] | .[$i].times[] ]) as $t
        | { command: $rounds[0][$i].command, times: $t,
            mean: ($t | mean), median: ($t | median), stddev: ($t | stddev),
            min: ($t | min), max: ($t | max),
            user: ([ $rounds[] | .[$i].user ] | mean),
            system: ([ $rounds[] | .[$i].system ] | mean) } ] }
  ' "$dir"/*.json >"$out" || { rm -rf "$dir"; return 1; }
  echo "hyperfine: $rounds rounds of $per runs; load $load0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
  rm -rf "$dir"
}

# Print one line per command of OUT.json: name, mean, median and min in ms,
# and its CPU time (user + system, the mean per run): on a loaded host the
# wall time measures the load too, the CPU time much less.
rounds_table() {
  jq -r '.results[] | "  \(.command): mean \(.mean * 1e4 | round / 10) ms, median \(.median * 1e4 | round / 10), min \(.min * 1e4 | round / 10), cpu \((.user + .system) * 1e4 | round / 10)"' "$1"
}
