/* A disk budget for the directories a sandbox writes to on the host (a
 * cell's workdir, the agent's home, the root's overlay layer): measured
 * while the command runs, and the whole tree killed once over.  The
 * sandbox itself cannot cap these (they are host directories bound in, and
 * an unprivileged user has no quota), so the supervisor watches them. */
#ifndef CAB_SANDBOX_DISKWATCH_H
#define CAB_SANDBOX_DISKWATCH_H

#include <stddef.h>
#include <stdint.h>

#define CAB_DISK_MAX_PATHS 4
#define CAB_DISK_INTERVAL_MS 200

struct cab_disk_budget {
  const char *paths[CAB_DISK_MAX_PATHS];   /* host directories */
  const char *labels[CAB_DISK_MAX_PATHS];  /* for the reason: "workdir" */
  size_t n;                                /* 0: no budget */
  int64_t max_bytes;                       /* over all PATHS together */
  int64_t max_inodes;
  int interval_ms;                         /* 0: CAB_DISK_INTERVAL_MS */
};

/* Measure B's paths (cab_tree_usage: max(apparent, allocated) bytes and
 * entries), stopping at the budget.  Returns 1 when over, with REASON such
 * as "workdir over budget: 20.0 GiB > 1.0 GiB" (naming the path that tipped
 * it), else 0. */
int cab_disk_budget_check(const struct cab_disk_budget *b, char *reason, size_t size);

/* "watchdog (1.0 GiB, 100000 files; poll 200 ms)", for the report. */
void cab_disk_budget_describe(const struct cab_disk_budget *b, char *buf, size_t size);

#endif
