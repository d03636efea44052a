#include <stdio.h>
#include <stdlib.h>

#include "common/datadir.h"
#include "common/strfmt.h"
#include "runner/task/task.h"

int
cab_task_default_root(char *buf, size_t size, cab_error *err)
{
  /* The datadir lookup leaves out a candidate that does not fit, so an
   * over-long $CAB_TASKS_DIR would quietly become the bundled tasks: the
   * user's word is checked here, before the lookup. */
  const char *var = cab_datadir_env(CAB_DATA_TASKS);
  const char *env = getenv(var);
  if (env && *env && cab_path_printf(buf, size, err, "%s", env) < 0)
    return cab_error_prefix(err, "%s", var);
  /* No candidate only when /proc/self/exe is unreadable: name the way out
   * rather than fall back to the current directory. */
  if (cab_datadir_dir(CAB_DATA_TASKS, buf, size) < 0)
    cab_snprintf_cut(buf, size, "(cab cannot tell where it is installed: set %s)", var);
  return 0;
}
