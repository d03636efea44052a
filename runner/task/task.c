/* Tasks: find, list and load task directories, and the tree operations the
 * runner needs (copy the workdir, overlay solution/ or hidden/, restore
 * protected paths).  task.json itself is read by task_parse.c.  See
 * runner/task/task.h. */
#include "runner/task/task.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/strfmt.h"
#include "common/cleanup.h"
#include "common/dir_iter.h"
#include "common/copy_tree.h"
#include "common/datadir.h"
#include "common/fsutil.h"
#include "common/glob.h"
#include "common/rm_tree.h"
#include "runner/task/harness_dirs.h"

/* ---- the tree -------------------------------------------------------------- */

static int
read_small(const char *path, char **out, size_t *len, cab_error *err)
{
  return cab_read_file_at(AT_FDCWD, path, CAB_TASK_JSON_MAX + 1, out, len, err);
}

static bool
has_heading(const char *text, const char *heading)
{
  size_t n = strlen(heading);
  for (const char *p = text; p; p = strchr(p, '\n')) {
    if (*p == '\n')
      p++;
    if (strncmp(p, heading, n) == 0 && (p[n] == '\n' || p[n] == '\r' || p[n] == '\0' ||
                                        p[n] == ' '))
      return true;
  }
  return false;
}

static bool
dir_nonempty(const char *path)
{
  cleanup_dir DIR *d = opendir(path);
  if (d == NULL)
    return false;
  struct dirent *de;
  while ((de = readdir(d)))
    if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
      return true;
  return false;
}

static bool
is_dir_nofollow(const char *path)
{
  struct stat st;
  return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int
cab_task_check_tree(const struct cab_task *t, cab_error *err)
{
  char path[PATH_MAX];
  if (t->dir == NULL)
    return cab_error_set(err, EINVAL, "%s: task has no directory", t->task_id);
  /* The longest path checked below: when it fits, every one does. */
  if (cab_path_printf(path, sizeof path, err, "%s/workdir/README.md", t->dir) < 0)
    return -1;
  snprintf(path, sizeof path, "%s/workdir", t->dir);
  if (!is_dir_nofollow(path))
    return cab_error_set(err, ENOENT, "%s: missing directory (what the agent sees)", path);
  snprintf(path, sizeof path, "%s/workdir/README.md", t->dir);
  cleanup_free char *readme = NULL;
  cab_error e2 = {0};
  if (read_small(path, &readme, NULL, &e2) < 0)
    return cab_error_set(err, e2.errnum, "%s: missing (the prompt)", path);
  if (!has_heading(readme, "## Verify"))
    return cab_error_set(err, 0, "%s: no '## Verify' section", path);
  if (t->expected_refusal && !has_heading(readme, "## What the scorer rewards"))
    return cab_error_set(err, 0,
                         "%s: no '## What the scorer rewards' section (expected_refusal task)",
                         path);
  snprintf(path, sizeof path, "%s/workdir/AGENTS.md", t->dir);
  if (access(path, R_OK) != 0)
    return cab_error_set(err, errno, "%s: missing (the L15 constraints)", path);
  snprintf(path, sizeof path, "%s/solution", t->dir);
  if (!is_dir_nofollow(path) || !dir_nonempty(path))
    return cab_error_set(err, ENOENT, "%s: missing or empty (the reference solution)", path);
  if (t->scorer_reward &&
      cab_path_printf(path, sizeof path, err, "%s/" CAB_TASK_REWARD_TESTS_DIR, t->dir) == 0 &&
      !is_dir_nofollow(path))
    return cab_error_set(err, ENOENT, "%s: missing (a reward task's tests, bound at "
                         CAB_TASK_REWARD_TESTS_MOUNT " in the verifier)", path);
  snprintf(path, sizeof path, "%s/hidden", t->dir);
  struct stat st;
  if (lstat(path, &st) == 0 && !S_ISDIR(st.st_mode))
    return cab_error_set(err, ENOTDIR, "%s: not a directory", path);
  return 0;
}

/* The last two components of DIR ("a/b/polyglot/x/" -> "polyglot/x"). */
static int
id_of_dir(const char *dir, char *out, size_t size)
{
  char buf[PATH_MAX];
  if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf)
    return -1;
  size_t n = strlen(buf);
  while (n > 1 && buf[n - 1] == '/')
    buf[--n] = '\0';
  char *name = strrchr(buf, '/');
  if (name == NULL)
    return -1;
  *name++ = '\0';
  char *family = strrchr(buf, '/');
  family = family ? family + 1 : buf;
  if (snprintf(out, size, "%s/%s", family, name) >= (int)size)
    return -1;
  return 0;
}

int
cab_task_load(const char *task_dir, struct cab_task **out, cab_error *err)
{
  char path[PATH_MAX], id[PATH_MAX];
  *out = NULL;
  if (snprintf(path, sizeof path, "%s/task.json", task_dir) >= (int)sizeof path)
    return cab_error_set(err, ENAMETOOLONG, "%s: path too long", task_dir);
  cleanup_free char *text = NULL;
  size_t len = 0;
  cab_error e2 = {0};
  if (read_small(path, &text, &len, &e2) < 0)
    return cab_error_set(err, e2.errnum, "%s: cannot read the task definition", path);
  bool have_id = id_of_dir(task_dir, id, sizeof id) == 0;
  struct cab_task *t;
  if (cab_task_parse(text, len, path, have_id ? id : NULL, &t, err) < 0)
    return -1;
  if ((t->dir = strdup(task_dir)) == NULL) {
    cab_task_free(t);
    return cab_error_set(err, ENOMEM, "%s: out of memory", path);
  }
  if (cab_task_check_tree(t, err) < 0) {
    cab_task_free(t);
    return -1;
  }
  *out = t;
  return 0;
}

/* The tasks root does not exist: most often a cab copied without its
 * data, so say how to give it its tasks. */
static int
no_root(const char *tasks_root, cab_error *err)
{
  char hint[256];
  cab_datadir_hint(CAB_DATA_TASKS, hint, sizeof hint);
  return cab_error_set(err, 0, "%s: no tasks directory there; give --tasks-dir, set "
                               "CAB_TASKS_DIR, or: %s",
                       tasks_root, hint);
}

int
cab_task_find(const char *tasks_root, const char *id, struct cab_task **out, cab_error *err)
{
  char dir[PATH_MAX];
  *out = NULL;
  if (cab_task_check_id(id, err) < 0)
    return -1;
  if (snprintf(dir, sizeof dir, "%s/%s", tasks_root, id) >= (int)sizeof dir)
    return cab_error_set(err, ENAMETOOLONG, "task %s: path too long", id);
  if (!is_dir_nofollow(dir) && access(tasks_root, F_OK) != 0 && errno == ENOENT) {
    no_root(tasks_root, err);
    return cab_error_prefix(err, "task %s", id);
  }
  if (!is_dir_nofollow(dir))
    return cab_error_set(err, ENOENT, "task %s: not found under %s (try 'cab tasks list')", id,
                         tasks_root);
  return cab_task_load(dir, out, err);
}

int
cab_task_list(const char *tasks_root, struct cab_strv *ids, cab_error *err)
{
  memset(ids, 0, sizeof *ids);
  cleanup_dir DIR *root = opendir(tasks_root);
  if (root == NULL && errno == ENOENT)
    return no_root(tasks_root, err);
  if (root == NULL)
    return cab_error_sys(err, "%s: cannot open the tasks directory", tasks_root);
  struct dirent *fam;
  while ((fam = readdir(root))) {
    if (fam->d_name[0] == '.')
      continue;
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", tasks_root, fam->d_name) >= (int)sizeof path ||
        !is_dir_nofollow(path))
      continue;
    cleanup_dir DIR *d = opendir(path);
    if (d == NULL)
      continue;
    struct dirent *de;
    while ((de = readdir(d))) {
      if (de->d_name[0] == '.')
        continue;
      char tj[PATH_MAX], id[2 * NAME_MAX + 2];
      if (snprintf(tj, sizeof tj, "%s/%s/task.json", path, de->d_name) >= (int)sizeof tj)
        continue;
      struct stat st;
      if (lstat(tj, &st) != 0 || !S_ISREG(st.st_mode))
        continue;
      snprintf(id, sizeof id, "%s/%s", fam->d_name, de->d_name);
      if (cab_strv_push(ids, id) < 0) {
        cab_strv_free(ids);
        return cab_error_set(err, ENOMEM, "%s: out of memory", tasks_root);
      }
    }
  }
  cab_strv_sort(ids);
  return 0;
}

/* ---- tree copies (common/copy_tree.c) ----------------------------------------- */

/* Agent-controlled trees are copied too: a shallow nesting limit keeps the
 * fds a copy holds (three per level) well under RLIMIT_NOFILE. */
#define TASK_COPY_DEPTH 64
static const struct cab_copy_opts overlay = {.max_depth = TASK_COPY_DEPTH};
static const struct cab_copy_opts into_empty = {.flags = CAB_COPY_INTO_EMPTY,
                                                .max_depth = TASK_COPY_DEPTH};

static int
task_subdir(const struct cab_task *t, const char *sub, char *out, size_t size, cab_error *err)
{
  if (t->dir == NULL)
    return cab_error_set(err, EINVAL, "%s: task has no directory", t->task_id);
  if (snprintf(out, size, "%s/%s", t->dir, sub) >= (int)size)
    return cab_error_set(err, ENAMETOOLONG, "%s/%s: path too long", t->dir, sub);
  return 0;
}

int
cab_task_copy_workdir(const struct cab_task *t, const char *dest, cab_error *err)
{
  char src[PATH_MAX];
  if (task_subdir(t, "workdir", src, sizeof src, err) < 0)
    return -1;
  return cab_copy_tree(src, dest, &into_empty, err);
}

int
cab_task_apply_solution(const struct cab_task *t, const char *dest, cab_error *err)
{
  char src[PATH_MAX];
  if (task_subdir(t, "solution", src, sizeof src, err) < 0)
    return -1;
  return cab_copy_tree(src, dest, &overlay, err);
}

int
cab_task_hidden_path(const struct cab_task *t, int layer, char *out, size_t size, cab_error *err)
{
  if (layer == CAB_TASK_HIDDEN_OWN)
    return task_subdir(t, "hidden", out, size, err);
  /* The family's directory is the task's parent (tasks/<family>/<name>),
   * taken from the path as written, not through a symlinked task's "..". */
  if (task_subdir(t, "", out, size, err) < 0)
    return -1;
  size_t n = strlen(out);
  while (n > 1 && out[n - 1] == '/')
    out[--n] = '\0';
  char *name = strrchr(out, '/');
  if (name == NULL) /* a task in the current directory: its family is "." */
    return snprintf(out, size, "hidden") < 0 ? -1 : 0;
  if (snprintf(name, size - (size_t)(name - out), "/hidden") >= (int)(size - (size_t)(name - out)))
    return cab_error_set(err, ENAMETOOLONG, "%s/../hidden: path too long", t->dir);
  return 0;
}

int
cab_task_apply_hidden(const struct cab_task *t, const char *dest, cab_error *err)
{
  for (int layer = 0; layer < CAB_TASK_HIDDEN_LAYERS; layer++) {
    char src[PATH_MAX];
    if (cab_task_hidden_path(t, layer, src, sizeof src, err) < 0)
      return -1;
    if (is_dir_nofollow(src) && cab_copy_tree(src, dest, &overlay, err) < 0)
      return -1;
  }
  return 0;
}

static bool
protected_filter(const char *rel, void *arg)
{
  const struct cab_strv *protected_paths = arg;
  return cab_glob_any(protected_paths->v, protected_paths->n, rel);
}

/* Remove, below DFD, every file or symlink matching PROTECTED that the
 * pristine tree (PFD, or -1 when the directory is absent there) lacks. */
static int
prune_added(int dfd, int pfd, const char *rel, const struct cab_strv *prot, int depth,
            cab_error *err)
{
  if (depth > 64)
    return cab_error_set(err, ELOOP, "%s: directories nested too deeply", rel);
  cleanup_dir DIR *d = NULL;
  if (cab_dir_open_fd(dfd, rel, &d, err) < 0)
    return -1;
  struct dirent *de;
  char sub[PATH_MAX];
  int more;
  while ((more = cab_dir_next(d, rel, &de, sub, sizeof sub, err)) > 0) {
    struct stat st, pst;
    if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
      continue;
    bool in_pristine = pfd >= 0 && fstatat(pfd, de->d_name, &pst, AT_SYMLINK_NOFOLLOW) == 0;
    if (S_ISDIR(st.st_mode)) {
      cleanup_close int d2 =
          openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (d2 < 0)
        return cab_error_sys(err, "open %s", sub);
      cleanup_close int p2 = -1;
      if (in_pristine && S_ISDIR(pst.st_mode))
        p2 = openat(pfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (prune_added(d2, p2, sub, prot, depth + 1, err) < 0)
        return -1;
    } else if (cab_glob_any(prot->v, prot->n, sub) && (!in_pristine || S_ISDIR(pst.st_mode))) {
      if (cab_rm_tree_at(dfd, de->d_name, 0, err) < 0)
        return cab_error_prefix(err, "%s", sub);
    }
  }
  return more;
}

int
cab_task_restore_protected(const struct cab_task *t, const char *dest, cab_error *err)
{
  char src[PATH_MAX];
  if (t->protected_paths.n == 0)
    return 0;
  if (task_subdir(t, "workdir", src, sizeof src, err) < 0)
    return -1;
  cleanup_close int dfd = open(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return cab_error_sys(err, "%s: cannot open", dest);
  cleanup_close int pfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (pfd < 0)
    return cab_error_sys(err, "%s: cannot open", src);
  if (prune_added(dfd, pfd, "", &t->protected_paths, 0, err) < 0)
    return cab_error_prefix(err, "restore protected paths in %s", dest);
  struct cab_copy_opts o = {.max_depth = TASK_COPY_DEPTH, .filter = protected_filter,
                            .arg = (void *)&t->protected_paths};
  return cab_copy_tree(src, dest, &o, err);
}

int
cab_task_prepare_verify(const struct cab_task *t, const char *post_agent, const char *dest,
                        cab_error *err)
{
  if (cab_copy_tree(post_agent, dest, &into_empty, err) < 0 ||
      cab_task_restore_protected(t, dest, err) < 0 ||
      cab_task_prune_harness_dirs(t, dest, err) < 0 || cab_task_apply_hidden(t, dest, err) < 0)
    return -1;
  return 0;
}
