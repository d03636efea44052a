#include <stdio.h>

#include "common/datadir.h"
#include "runner/task/task.h"

void
cab_task_default_root(char *buf, size_t size)
{
  /* No candidate only when /proc/self/exe is unreadable: name the way out
   * rather than fall back to the current directory. */
  if (cab_datadir_dir(CAB_DATA_TASKS, buf, size) < 0)
    snprintf(buf, size, "(cab cannot tell where it is installed: set %s)",
             cab_datadir_env(CAB_DATA_TASKS));
}
