/* Scale-out on an existing Slurm cluster rather than a home-made one: an
 * sbatch job array whose task K runs `cab sweep PLAN --shard K/N` on some
 * node (no Docker, no root: the jobs run as the submitting user, in cab's
 * own rootless sandboxes), and a job that depends on the whole array and
 * merges the shards and writes the leaderboard.  Files, under OUT/slurm/:
 *   sweep.sbatch   the array (one shard per task; --resume, so a requeued
 *                  task carries on where it stopped)
 *   merge.sbatch   cab merge of every shard, then cab leaderboard
 *   submit.sh      sbatch the array, then the merge with afterok on it
 *   logs/          where the jobs' output goes */
#ifndef CAB_RUNNER_SWEEP_SLURM_H
#define CAB_RUNNER_SWEEP_SLURM_H

#include <stddef.h>

#include "common/error.h"

struct cab_slurm_request {
  const char *plan;                   /* PLAN.json, as given */
  const char *out;                    /* where shards, merge and scripts go */
  const char *partition, *time, *mem; /* sbatch options, NULL when not given */
  long shards;                        /* array tasks, >= 1 */
  long cpus;                          /* --cpus-per-task (and the shard's -j); 0: not given */
};

/* Check REQ's sbatch values and the plan's sweep_id, and write the scripts
 * into OUT/slurm/ (absolute) whose path goes into DIR.  Returns 0 or -1 with
 * ERR. */
int cab_slurm_write(const struct cab_slurm_request *req, char *dir, size_t dir_size,
                    cab_error *err);

/* Run DIR/submit.sh (sbatch on PATH); the two job ids go to stdout. */
int cab_slurm_submit(const char *dir, cab_error *err);

#endif
