#include "runner/task/limits.h"

const struct cab_cell_limits cab_cell_limits_default = {
    .memory_bytes = (int64_t)4 << 30,
    .pids = 4096,
    .cpus = 0,
    .timeout_s = 600,
    .budget_bytes = (long)1 << 30,
    .budget_inodes = 100000,
};

void
cab_cell_limits_fill(struct cab_cell_limits *l, const struct cab_cell_limits *from)
{
  if (l->memory_bytes <= 0)
    l->memory_bytes = from->memory_bytes;
  if (l->pids <= 0)
    l->pids = from->pids;
  if (l->cpus <= 0)
    l->cpus = from->cpus;
  if (l->timeout_s <= 0)
    l->timeout_s = from->timeout_s;
  if (l->budget_bytes <= 0)
    l->budget_bytes = from->budget_bytes;
  if (l->budget_inodes <= 0)
    l->budget_inodes = from->budget_inodes;
}
