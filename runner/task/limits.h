/* The limits a cell runs under, and their defaults: the one place that
 * says how much a cell may use when nobody says otherwise.
 *
 * Who sets what (a field at 0 is unset; a later source wins):
 *   cab_cell_limits_default (below)
 *   the task: timeout_s (the agent), scorer.timeout_s (the verifier),
 *             workdir_budget {bytes, inodes}
 *   the command line: run-cell --memory, --pids, --cpus (a sweep plan's
 *             memory and cpus reach run-cell as those flags)
 * An adapter sets no limit today; its place would be the adapter's
 * "sandbox" field, filled the same way. */
#ifndef CAB_RUNNER_TASK_LIMITS_H
#define CAB_RUNNER_TASK_LIMITS_H

#include <stdint.h>

struct cab_cell_limits {
  int64_t memory_bytes; /* the sandbox's cgroup memory.max */
  int64_t pids;         /* pids.max */
  double cpus;          /* cpu.max in CPUs; the default 0 is no limit */
  long timeout_s;       /* wall clock of the agent (or the verifier) */
  long budget_bytes;    /* what the workdir may hold (task.json's workdir_budget) */
  long budget_inodes;
};

/* 4 GiB, 4096 pids, no cpu limit, 600 s, a 1 GiB and 100000-entry workdir. */
extern const struct cab_cell_limits cab_cell_limits_default;

/* Every unset (0) field of L takes FROM's value. */
void cab_cell_limits_fill(struct cab_cell_limits *l, const struct cab_cell_limits *from);

#endif
