/* The cell's fresh workdir: the task's workdir/, or, for a task with
 * workdir_from_image (a prebuilt Harbor image, whose build made its
 * WORKDIR), the image's workdir_path directory with workdir/ over it.
 *
 * The image's directory is found below the unpacked rootfs one component at
 * a time, each a real directory: a symlink in the image (/app -> /etc) would
 * otherwise be resolved on the host.  Below it, the copy follows no
 * symlink (common/copy_tree.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "common/copy_tree.h"
#include "common/strfmt.h"
#include "runner/cell/cell_internal.h"

#define SEED_DEPTH 64

int
cab_cell_workdir_prepare(struct cell *c, cab_error *err)
{
  const struct cab_task *t = c->task;
  if (!t->workdir_from_image)
    return cab_task_copy_workdir(t, c->work, err);
  if (c->o->host_rootfs)
    return cab_error_set(err, 0, "task %s: workdir_from_image needs the task's image, not "
                         "--host-rootfs", t->task_id);
  /* No image (it could not be prepared): the cell is an infra_error. */
  if (c->rootfs == NULL || c->rootfs[0] == '\0')
    return cab_task_copy_workdir(t, c->work, err);
  char src[PATH_MAX];
  if (cab_path_printf(src, sizeof src, err, "%s", c->rootfs) < 0)
    return -1;
  char rel[PATH_MAX];
  snprintf(rel, sizeof rel, "%s", t->workdir_path);
  bool present = true;
  for (char *save = NULL, *part = strtok_r(rel, "/", &save); part && present;
       part = strtok_r(NULL, "/", &save)) {
    size_t n = strlen(src);
    if (cab_path_printf(src + n, sizeof src - n, err, "/%s", part) < 0)
      return -1;
    struct stat st;
    if (lstat(src, &st) < 0 && errno == ENOENT)
      present = false; /* the image has no such directory: an empty start */
    else if (lstat(src, &st) < 0 || !S_ISDIR(st.st_mode))
      return cab_error_set(err, 0, "task %s: %s in the image is not a directory (a symlink?): "
                           "cab copies only a real directory as the workdir", t->task_id,
                           t->workdir_path);
  }
  const struct cab_copy_opts into_empty = {.flags = CAB_COPY_INTO_EMPTY, .max_depth = SEED_DEPTH};
  const struct cab_copy_opts over = {.max_depth = SEED_DEPTH};
  char own[PATH_MAX];
  if (cab_path_printf(own, sizeof own, err, "%s/workdir", t->dir) < 0)
    return -1;
  if (present) {
    if (cab_copy_tree(src, c->work, &into_empty, err) < 0)
      return cab_error_prefix(err, "task %s: the image's %s", t->task_id, t->workdir_path);
    return cab_copy_tree(own, c->work, &over, err);
  }
  return cab_task_copy_workdir(t, c->work, err);
}
