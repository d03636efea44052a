#include <stdio.h>
#include <stdlib.h>

#include "common/fsutil.h"
#include "runner/task/task.h"

void
cab_task_default_root(char *buf, size_t size)
{
  const char *env = getenv("CAB_TASKS_DIR");
  char dir[4096];
  if (env && *env)
    snprintf(buf, size, "%s", env);
  else if (cab_exe_dir(dir, sizeof dir) == 0)
    snprintf(buf, size, "%s/../tasks", dir);
  else
    snprintf(buf, size, "tasks");
}
