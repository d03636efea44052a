#include "sandbox/diskwatch.h"

#include <stdio.h>

#include "common/fsutil.h"

int
cab_disk_budget_check(const struct cab_disk_budget *b, char *reason, size_t size)
{
  int64_t bytes = 0, inodes = 0;
  for (size_t i = 0; i < b->n; i++) {
    struct cab_tree_usage u;
    int64_t left_b = b->max_bytes > 0 ? b->max_bytes - bytes : 0;
    int64_t left_i = b->max_inodes > 0 ? b->max_inodes - inodes : 0;
    /* A spent budget still has to find one more byte or entry to be over. */
    if (b->max_bytes > 0 && left_b < 1)
      left_b = 1;
    if (b->max_inodes > 0 && left_i < 1)
      left_i = 1;
    if (cab_tree_usage(b->paths[i], left_b, left_i, &u) < 0)
      continue; /* not there (yet): nothing written */
    bytes += u.bytes;
    inodes += u.inodes;
    const char *label = b->labels[i] ? b->labels[i] : b->paths[i];
    if (u.too_deep) {
      snprintf(reason, size, "%s over budget: directories nested deeper than %d", label,
               CAB_TREE_USAGE_DEPTH);
      return 1;
    }
    if (u.unreadable) {
      snprintf(reason, size, "%s over budget: a directory in it cannot be read", label);
      return 1;
    }
    if (b->max_bytes > 0 && bytes > b->max_bytes) {
      char have[32], max[32];
      cab_format_bytes(bytes, have, sizeof have);
      cab_format_bytes(b->max_bytes, max, sizeof max);
      snprintf(reason, size, "%s over budget: %s > %s", label, have, max);
      return 1;
    }
    if (b->max_inodes > 0 && inodes > b->max_inodes) {
      snprintf(reason, size, "%s over budget: more than %lld files and directories",
               label, (long long)b->max_inodes);
      return 1;
    }
  }
  return 0;
}

void
cab_disk_budget_describe(const struct cab_disk_budget *b, char *buf, size_t size)
{
  if (b->n == 0) {
    snprintf(buf, size, "none");
    return;
  }
  char max[32];
  cab_format_bytes(b->max_bytes, max, sizeof max);
  snprintf(buf, size, "watchdog (%s, %lld files; poll %d ms)", max, (long long)b->max_inodes,
           b->interval_ms > 0 ? b->interval_ms : CAB_DISK_INTERVAL_MS);
}
