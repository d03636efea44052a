/* What every importer shares: staging a task and publishing it atomically. */
#include "runner/task/import.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fsutil.h"
#include "common/rm_tree.h"
#include "common/strfmt.h"

void
cab_import_report_free(struct cab_import_report *rep)
{
  cab_strv_free(&rep->imported);
  cab_strv_free(&rep->notes);
}

int
cab_import_stage(const char *out, char *stage, size_t size, cab_error *err)
{
  if (cab_mkdir_p(out, 0755, err) < 0)
    return -1;
  if (cab_path_printf(stage, size, err, "%s/.import-XXXXXX", out) < 0)
    return -1;
  if (mkdtemp(stage) == NULL)
    return cab_error_sys(err, "%s: create a staging directory", out);
  /* mkdtemp makes it 0700: a task is read by whoever runs cells */
  if (chmod(stage, 0755) < 0)
    return cab_error_sys(err, "%s: chmod", stage);
  return 0;
}

int
cab_import_publish(const char *stage, const char *out, const char *task_id, cab_error *err)
{
  char dest[PATH_MAX], family[PATH_MAX];
  const char *slash = strchr(task_id, '/');
  if (slash == NULL)
    return cab_error_set(err, EINVAL, "task id '%s': must be <family>/<name>", task_id);
  if (cab_path_printf(dest, sizeof dest, err, "%s/%s", out, task_id) < 0 ||
      cab_path_printf(family, sizeof family, err, "%s/%.*s", out, (int)(slash - task_id),
                      task_id) < 0 ||
      cab_mkdir_p(family, 0755, err) < 0)
    goto fail;
  if (renameat2(AT_FDCWD, stage, AT_FDCWD, dest, RENAME_EXCHANGE) == 0) {
    /* STAGE now holds the old task */
    if (cab_rm_tree_at(AT_FDCWD, stage, 0, err) < 0)
      return -1;
    return 0;
  }
  if (errno != ENOENT && errno != EINVAL && errno != ENOSYS) {
    cab_error_sys(err, "%s: replace with the imported task", dest);
    goto fail;
  }
  if (rename(stage, dest) < 0) {
    cab_error_sys(err, "%s: put the imported task in place", dest);
    goto fail;
  }
  return 0;
fail:
  cab_rm_tree_at(AT_FDCWD, stage, 0, NULL);
  return -1;
}
