/* cab sweep: run a plan's cells (tuis x models x tasks x reruns), each as a
 * child `cab-full run-cell`, concurrently within the plan's limits, with
 * retries of infra_error cells, a journal that makes any kill resumable,
 * sharding, and a live progress line and summary table.
 *
 * Output: OUT/<sweep_id>/<tui>/<model>/<family>/<task>/run-N/ (run-cell's
 * own layout); an earlier attempt of a retried cell is kept as
 * run-N.attempt-K/; OUT/<sweep_id>/.sweep/ holds the journal, the lock,
 * the plan as run, run-cell's stderr for cells that printed any, and the
 * cassettes of a model with "record": cassettes/<key>.attempt-N.jsonl. */
#ifndef CAB_RUNNER_SWEEP_SWEEP_H
#define CAB_RUNNER_SWEEP_SWEEP_H

#include <stdbool.h>
#include <stdio.h>

#include "common/error.h"

struct cab_sweep_opts {
  const char *plan_path;
  const char *out_dir;    /* NULL: ./results */
  long jobs;              /* 0: from cores and memory */
  unsigned shard_k, shard_n; /* shard_n 0: the whole plan */
  bool resume, dry_run;
  FILE *out;              /* the dry-run listing and the summary table */
  bool json;              /* ... as one JSON object each (report.c) */
  FILE *progress;         /* progress lines and warnings */
  bool progress_tty;      /* one live line instead of a line every ~10 s */
  double progress_every_s; /* non-TTY period; 0: 10 s */
  bool require_given;     /* --require, in place of the plan's "require" */
  unsigned require;       /* a cab_protection_set (runner/record/protection.h) */
  const char *cgroup_parent; /* --cgroup-parent for every cell, or NULL */
  const char *replay_dir; /* --replay: a recorded sweep (OUT or OUT/<sweep_id>) whose
                             journal names each cell's cassette; its cells are
                             replayed offline from them, or NULL */
};

/* Run (or with dry_run, list) the sweep.  Returns 0 when every cell of the
 * shard has a cell.json (whatever its outcome), and -1 with ERR when the
 * sweep could not run or some cells have none; ERR->exit_code is then 125,
 * or 128+N after signal N (the sweep can be resumed). */
int cab_sweep_run(const struct cab_sweep_opts *o, cab_error *err);

/* cab merge: combine sweep output directories (e.g. shards) into OUT.
 * Every cell directory (a directory holding cell.json) is hard-linked or
 * copied to the same relative path under OUT; a cell present twice must have
 * byte-identical cell.json files, else nothing is written and ERR names the
 * conflict.  Journals are concatenated, so OUT can be --resumed. */
struct cab_merge_summary {
  unsigned long cells, duplicates, linked_files, copied_files;
};
int cab_sweep_merge(char *const *inputs, size_t n, const char *out_dir,
                    struct cab_merge_summary *sum, cab_error *err);

#endif
