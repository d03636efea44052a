/* The harness's own directories of a verify copy: see harness_dirs.h. */
#include "runner/task/harness_dirs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/dir_iter.h"
#include "common/rm_tree.h"

/* Hidden layers are small, hand-written trees. */
#define HARNESS_DEPTH 64
#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* FD of directory PATH, -1 when it is absent or not a directory. */
static int
open_tree(const char *path, int *fd, cab_error *err)
{
  *fd = open(path, DIR_FLAGS);
  if (*fd < 0 && errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
    return cab_error_sys(err, "%s: cannot open", path);
  return 0;
}

int
cab_task_layers_open(const struct cab_task *t, struct cab_task_layers *out, cab_error *err)
{
  out->pristine = -1;
  for (int i = 0; i < CAB_TASK_HIDDEN_LAYERS; i++)
    out->hidden[i] = -1;
  if (t->dir == NULL)
    return 0;
  char path[PATH_MAX];
  for (int i = 0; i < CAB_TASK_HIDDEN_LAYERS; i++)
    if (cab_task_hidden_path(t, i, path, sizeof path, err) < 0 ||
        open_tree(path, &out->hidden[i], err) < 0)
      goto fail;
  if (snprintf(path, sizeof path, "%s/workdir", t->dir) >= (int)sizeof path) {
    cab_error_set(err, ENAMETOOLONG, "%s/workdir: path too long", t->dir);
    goto fail;
  }
  if (open_tree(path, &out->pristine, err) < 0)
    goto fail;
  return 0;
fail:
  cab_task_layers_close(out);
  return -1;
}

void
cab_task_layers_close(struct cab_task_layers *l)
{
  for (int i = 0; i < CAB_TASK_HIDDEN_LAYERS; i++)
    if (l->hidden[i] >= 0)
      close(l->hidden[i]);
  if (l->pristine >= 0)
    close(l->pristine);
  l->pristine = -1;
  for (int i = 0; i < CAB_TASK_HIDDEN_LAYERS; i++)
    l->hidden[i] = -1;
}

bool
cab_task_layers_any_hidden(const struct cab_task_layers *l)
{
  for (int i = 0; i < CAB_TASK_HIDDEN_LAYERS; i++)
    if (l->hidden[i] >= 0)
      return true;
  return false;
}

static bool
dir_at(int dfd, const char *rel)
{
  struct stat st;
  return dfd >= 0 && fstatat(dfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

bool
cab_task_harness_dir(const struct cab_task_layers *l, const char *rel)
{
  if (dir_at(l->pristine, rel))
    return false;
  for (int i = 0; i < CAB_TASK_HIDDEN_LAYERS; i++)
    if (dir_at(l->hidden[i], rel))
      return true;
  return false;
}

/* Below DEST (the verify copy's directory REL), remove every directory of
 * the hidden layer's directory LAYER that the pristine one (PRISTINE, -1
 * when it has none) lacks. */
static int
prune_below(int layer, int pristine, int dest, const char *rel, int depth, cab_error *err)
{
  if (depth > HARNESS_DEPTH)
    return cab_error_set(err, ELOOP, "%s: directories nested too deeply", rel);
  cleanup_dir DIR *d = NULL;
  if (cab_dir_open_fd(layer, rel, &d, err) < 0)
    return -1;
  struct dirent *de;
  char sub[PATH_MAX];
  int more;
  while ((more = cab_dir_next(d, rel, &de, sub, sizeof sub, err)) > 0) {
    if (!dir_at(layer, de->d_name))
      continue;
    if (!dir_at(pristine, de->d_name)) {
      if (cab_rm_tree_at(dest, de->d_name, CAB_RM_PLAIN_NAME, err) < 0)
        return cab_error_prefix(err, "%s", sub);
      continue;
    }
    /* Mixed: look below it for harness directories.  Where the copy has
     * no directory (the agent removed it or left a symlink), the overlay
     * replaces what is there, and nothing of the agent's is below. */
    cleanup_close int d2 = openat(dest, de->d_name, DIR_FLAGS);
    if (d2 < 0)
      continue;
    cleanup_close int l2 = openat(layer, de->d_name, DIR_FLAGS);
    cleanup_close int p2 = openat(pristine, de->d_name, DIR_FLAGS);
    if (l2 < 0 || p2 < 0)
      return cab_error_sys(err, "open %s", sub);
    if (prune_below(l2, p2, d2, sub, depth + 1, err) < 0)
      return -1;
  }
  return more;
}

int
cab_task_prune_harness_dirs(const struct cab_task *t, const char *dest, cab_error *err)
{
  struct cab_task_layers l;
  if (cab_task_layers_open(t, &l, err) < 0)
    return -1;
  int r = 0;
  cleanup_close int dfd = -1;
  if (cab_task_layers_any_hidden(&l)) {
    dfd = open(dest, DIR_FLAGS);
    if (dfd < 0)
      r = cab_error_sys(err, "%s: cannot open", dest);
  }
  /* Every layer before any is overlaid: the family's .cab/ is then removed
   * once, not after the task's own has added files to it. */
  for (int i = 0; r == 0 && i < CAB_TASK_HIDDEN_LAYERS; i++)
    if (l.hidden[i] >= 0 && prune_below(l.hidden[i], l.pristine, dfd, "", 0, err) < 0)
      r = cab_error_prefix(err, "remove the harness's directories from %s", dest);
  cab_task_layers_close(&l);
  return r;
}
