/* Recursive removal relative to a directory fd.  Each directory is opened
 * O_PATH (whatever its mode), given u+rwx when it lacks it, then read and
 * emptied while the entries are read, so that only two fds per level stay
 * open; a subtree deeper than MAX_DEPTH is moved up beside the top and
 * removed from there (an image may nest directories thousands deep, deeper
 * than PATH_MAX allows as a path). */
#include "common/rm_tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fchmod.h"

#define MAX_DEPTH 48

struct rm_ctx {
  int top;             /* the directory the removal started in */
  char (*pending)[48]; /* subtrees moved up into TOP, still to remove */
  size_t n, cap;
  unsigned counter;
};

static int rm_tree(struct rm_ctx *c, int dirfd, const char *name, int depth, cab_error *err);

/* Move DIRFD/NAME up to TOP under a fresh name, to be removed from there. */
static int
defer(struct rm_ctx *c, int dirfd, const char *name, cab_error *err)
{
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 16;
    void *nv = realloc(c->pending, cap * sizeof *c->pending);
    if (nv == NULL)
      return cab_error_sys(err, "allocate");
    c->pending = nv;
    c->cap = cap;
  }
  for (;;) {
    snprintf(c->pending[c->n], sizeof c->pending[0], ".cab-rm-%d-%u", (int)getpid(), c->counter++);
    if (renameat(dirfd, name, c->top, c->pending[c->n]) == 0)
      break;
    if (errno != EEXIST && errno != ENOTEMPTY)
      return cab_error_sys(err, "move deep directory %s up for removal", name);
  }
  c->n++;
  return 0;
}

/* Empty the directory FD (O_PATH).  An entry that cannot be removed does not
 * stop the others: as much as possible goes. */
static int
rm_children(struct rm_ctx *c, int fd, int depth, cab_error *err)
{
  int list_fd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (list_fd < 0)
    return cab_error_sys(err, "open a directory to empty it");
  cleanup_dir DIR *d = fdopendir(list_fd);
  if (d == NULL) {
    close(list_fd);
    return cab_error_sys(err, "opendir");
  }
  struct dirent *de;
  int ret = 0;
  while ((de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    if (unlinkat(fd, de->d_name, 0) == 0 || errno == ENOENT)
      continue;
    if (errno != EISDIR && errno != EPERM)
      ret = cab_error_sys(err, "remove %s", de->d_name);
    else if (depth >= MAX_DEPTH ? defer(c, fd, de->d_name, err) < 0
                                : rm_tree(c, fd, de->d_name, depth + 1, err) < 0)
      ret = -1;
  }
  return ret;
}

static int
rm_tree(struct rm_ctx *c, int dirfd, const char *name, int depth, cab_error *err)
{
  if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
    return 0;
  if (errno != EISDIR && errno != EPERM)
    return cab_error_sys(err, "remove %s", name);
  cleanup_close int fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? 0 : cab_error_sys(err, "open %s for removal", name);
  struct stat st;
  if (fstat(fd, &st) < 0)
    return cab_error_sys(err, "stat %s for removal", name);
  if ((st.st_mode & S_IRWXU) != S_IRWXU && cab_fchmod_any(fd, S_IRWXU) < 0)
    return cab_error_sys(err, "remove %s: chmod u+rwx", name);
  /* Entries removed while the directory is read may make readdir skip a
   * name on some file systems: a directory still not empty is read again. */
  for (int pass = 0;; pass++) {
    if (rm_children(c, fd, depth, err) < 0)
      return -1;
    if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
      return 0;
    if (errno != ENOTEMPTY || pass == 2)
      return cab_error_sys(err, "remove directory %s", name);
  }
}

int
cab_rm_tree_at(int dirfd, const char *name, unsigned flags, cab_error *err)
{
  if ((flags & CAB_RM_PLAIN_NAME) && (strchr(name, '/') != NULL || strcmp(name, ".") == 0 ||
                                      strcmp(name, "..") == 0 || *name == '\0'))
    return cab_error_set(err, EINVAL, "remove '%s': not a plain name", name);
  struct rm_ctx c = {.top = dirfd};
  int r = rm_tree(&c, dirfd, name, 0, err);
  while (r == 0 && c.n > 0) {
    char next[48];
    memcpy(next, c.pending[--c.n], sizeof next);
    r = rm_tree(&c, dirfd, next, 0, err);
  }
  free(c.pending);
  return r;
}
