/* cab_tree_usage: a du that stops at the budget (see fsutil.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/fsutil.h"

struct walk {
  int64_t max_bytes, max_inodes;
  struct cab_tree_usage *u;
};

static bool
over(const struct walk *w)
{
  return w->u->too_deep || w->u->unreadable || (w->max_bytes > 0 && w->u->bytes > w->max_bytes) ||
         (w->max_inodes > 0 && w->u->inodes > w->max_inodes);
}

static void
charge(struct walk *w, const struct stat *st)
{
  int64_t alloc = (int64_t)st->st_blocks * 512;
  w->u->bytes += st->st_size > alloc ? (int64_t)st->st_size : alloc;
  w->u->inodes++;
}

/* Walk the directory FD (owned: closed here). */
static void
walk_dir(struct walk *w, int fd, int depth)
{
  if (depth > CAB_TREE_USAGE_DEPTH) {
    w->u->too_deep = true;
    close(fd);
    return;
  }
  cleanup_dir DIR *d = fdopendir(fd);
  if (d == NULL) {
    close(fd);
    return;
  }
  struct dirent *e;
  while (!over(w) && (e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    struct stat st;
    if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
      continue; /* gone meanwhile */
    charge(w, &st);
    if (S_ISDIR(st.st_mode) && !over(w)) {
      int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0 && errno == EACCES) {
        /* A directory its owner made unreadable (chmod 000) must not hide
         * what it holds: the trees measured are ours (the sandbox's ids
         * map to ours), so let ourselves in. */
        fchmodat(dirfd(d), e->d_name, (st.st_mode & 07777) | S_IRUSR | S_IXUSR, 0);
        sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      }
      if (sub >= 0)
        walk_dir(w, sub, depth + 1);
      else
        w->u->unreadable = true;
    }
  }
}

int
cab_tree_usage(const char *path, int64_t max_bytes, int64_t max_inodes,
               struct cab_tree_usage *u)
{
  memset(u, 0, sizeof *u);
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 && errno == EACCES && stat(path, &st) == 0) {
    /* The top made unreadable by its owner (the agent can chmod its
     * workdir): as below, let ourselves in. */
    chmod(path, (st.st_mode & 07777) | S_IRUSR | S_IXUSR);
    fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  if (fd < 0 && errno == ENOENT)
    return -1;
  struct walk w = {max_bytes, max_inodes, u};
  if (fd < 0) {
    u->unreadable = true;
    return 1;
  }
  walk_dir(&w, fd, 0);
  return over(&w) ? 1 : 0;
}

int64_t
cab_tree_bytes(const char *parent, const char *name)
{
  char p[PATH_MAX];
  struct cab_tree_usage u = {0};
  if ((size_t)snprintf(p, sizeof p, "%s/%s", parent, name) < sizeof p)
    cab_tree_usage(p, 0, 0, &u);
  return u.bytes;
}

void
cab_format_bytes(int64_t bytes, char *buf, size_t size)
{
  static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) {
    snprintf(buf, size, "%lld B", (long long)bytes);
    return;
  }
  double v = (double)bytes / 1024;
  size_t i = 0;
  while (v >= 1024 && i + 1 < sizeof units / sizeof *units) {
    v /= 1024;
    i++;
  }
  snprintf(buf, size, "%.1f %s", v, units[i]);
}
