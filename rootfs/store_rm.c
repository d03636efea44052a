/* rm -rf for the store's own directories (staging areas, rootfs caches),
 * never following symlinks, restoring write permission where a tree has
 * read-only directories, and with a bounded number of open fds however deep
 * the tree: a subtree deeper than MAX_DEPTH is first moved up beside the
 * top (an image may nest directories thousands deep). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "rootfs/store_internal.h"

#define MAX_DEPTH 48

struct rm_ctx {
  int top;            /* the directory the removal started in */
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

static int
rm_children(struct rm_ctx *c, int fd, int depth, cab_error *err)
{
  int dup_fd = dup(fd);
  if (dup_fd < 0)
    return cab_error_sys(err, "dup");
  cleanup_dir DIR *d = fdopendir(dup_fd);
  if (d == NULL) {
    close(dup_fd);
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
  cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == EACCES) {
    fchmodat(dirfd, name, 0700, 0);
    fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }
  if (fd < 0)
    return errno == ENOENT ? 0 : cab_error_sys(err, "open %s for removal", name);
  struct stat st;
  if (fstat(fd, &st) == 0 && (st.st_mode & 0700) != 0700)
    fchmod(fd, st.st_mode | 0700);
  if (rm_children(c, fd, depth, err) < 0)
    return -1;
  if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return cab_error_sys(err, "remove directory %s", name);
  return 0;
}

int
cab_rm_rf_at(int dirfd, const char *name, cab_error *err)
{
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
