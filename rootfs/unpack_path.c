/* Layer entry names and their resolution inside the root.
 *
 * Names are cleaned lexically first (".." may not climb above the root),
 * then every lookup goes through openat2(RESOLVE_IN_ROOT), so a symlink
 * planted by a layer (etc -> /, x -> ../../..) resolves inside the root as
 * if it were "/".  Leaves are never followed: the entry code operates on
 * (parent fd, leaf name) with O_NOFOLLOW / AT_SYMLINK_NOFOLLOW. */
#include "rootfs/unpack_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"

int
cab_unpack_clean(const char *raw, const char *what, char *out, bool *absolute, cab_error *err)
{
  size_t len = 0;
  const char *p = raw;
  *absolute = *raw == '/';
  while (*p) {
    while (*p == '/')
      p++;
    const char *start = p;
    while (*p && *p != '/')
      p++;
    size_t n = (size_t)(p - start);
    if (n == 0 || (n == 1 && start[0] == '.'))
      continue;
    if (n == 2 && start[0] == '.' && start[1] == '.') {
      if (len == 0)
        return cab_error_set(err, EINVAL,
                             "%s '%.300s' climbs above the image root with '..'; rejected "
                             "(a layer may not reach outside its root)",
                             what, raw);
      while (len > 0 && out[len - 1] != '/')
        len--;
      if (len > 0)
        len--; /* the '/' */
      continue;
    }
    if (len > 0)
      out[len++] = '/';
    memcpy(out + len, start, n);
    len += n;
  }
  out[len] = '\0';
  return 0;
}

void
cab_unpack_split(char *path, char **leaf)
{
  char *slash = strrchr(path, '/');
  if (slash == NULL) {
    memmove(path + 1, path, strlen(path) + 1);
    path[0] = '\0';
    *leaf = path + 1;
    return;
  }
  *slash = '\0';
  *leaf = slash + 1;
}

int
cab_openat2_in_root(int root_fd, const char *path, int flags)
{
  struct open_how how = {
    .flags = (uint64_t)(flags | O_CLOEXEC),
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
  };
  int fd;
  do
    fd = (int)syscall(SYS_openat2, root_fd, *path ? path : ".", &how, sizeof how);
  while (fd < 0 && errno == EAGAIN);
  return fd;
}

int
cab_unpack_make_writable(struct cab_unpack_ctx *ctx, int dirfd, const char *dirpath,
                         cab_error *err)
{
  struct stat st;
  if (fstat(dirfd, &st) < 0)
    return cab_error_sys(err, "stat '/%s'", dirpath);
  if ((st.st_mode & S_IRWXU) == S_IRWXU)
    return 0;
  if (cab_fchmod_any(dirfd, (st.st_mode & 07777) | S_IRWXU) < 0)
    return cab_error_sys(err, "making '/%s' writable for the layer (chmod u+rwx)", dirpath);
  if (cab_unpack_fixup_add(ctx, dirpath, &st, st.st_mode & 07777, CAB_FIXUP_RESTORE, NULL, err)
      < 0)
    return -1;
  return 1;
}

/* Create the directory DIRFD/NAME (path PATH) for a missing parent. */
static int
make_parent(struct cab_unpack_ctx *ctx, int dirfd, const char *dirpath, const char *name,
            const char *path, cab_error *err)
{
  for (int attempt = 0;; attempt++) {
    if (mkdirat(dirfd, name, 0755) == 0)
      break;
    if (errno == EEXIST)
      return cab_error_set(err, ENOTDIR,
                           "'/%s' exists but is not a directory (a dangling symlink?); "
                           "cannot create entries below it",
                           path);
    if (errno != EACCES || attempt > 0)
      return cab_error_sys(err, "creating the parent directory '/%s'", path);
    int r = cab_unpack_make_writable(ctx, dirfd, dirpath, err);
    if (r < 0)
      return -1;
    if (r == 0)
      return cab_error_set(err, EACCES, "creating the parent directory '/%s'", path);
  }
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return cab_error_sys(err, "stat '/%s'", path);
  return cab_unpack_fixup_add(ctx, path, &st, 0755, CAB_FIXUP_IMPLICIT, NULL, err);
}

/* The slow path of open_dir: one component at a time, creating missing
 * ones and making unsearchable ones searchable. */
static int
walk_dir(struct cab_unpack_ctx *ctx, const char *path, bool create, int *out, cab_error *err)
{
  size_t len = strlen(path);
  cleanup_free char *prefix = malloc(len + 1);
  if (prefix == NULL)
    return cab_error_set(err, ENOMEM, "out of memory");
  cleanup_close int cur = cab_openat2_in_root(ctx->root_fd, "", O_PATH | O_DIRECTORY);
  if (cur < 0)
    return cab_error_sys(err, "opening the image root");
  size_t pos = 0;
  while (pos < len) {
    size_t end = pos;
    while (end < len && path[end] != '/')
      end++;
    memcpy(prefix, path, end);
    prefix[end] = '\0';
    const char *name = prefix + pos;
    /* The parent of NAME, as a path, for messages and restore records. */
    cleanup_free char *parent = strndup(path, pos > 0 ? pos - 1 : 0);
    if (parent == NULL)
      return cab_error_set(err, ENOMEM, "out of memory");
    int fd = -1, e = 0;
    for (int attempt = 0; attempt < 3; attempt++) {
      fd = cab_openat2_in_root(ctx->root_fd, prefix, O_PATH | O_DIRECTORY);
      if (fd >= 0)
        break;
      e = errno;
      if (e == ENOENT) {
        if (!create) {
          *out = -1;
          return 0;
        }
        if (make_parent(ctx, cur, parent, name, prefix, err) < 0)
          return -1;
      } else if (e == EACCES) {
        int r = cab_unpack_make_writable(ctx, cur, parent, err);
        if (r < 0)
          return -1;
        if (r == 0)
          break;
      } else if (e == ENOTDIR) {
        return cab_error_set(err, ENOTDIR, "'/%s' is not a directory", prefix);
      } else {
        break;
      }
    }
    if (fd < 0)
      return cab_error_set(err, e, "resolving '/%s' inside the image root", prefix);
    close(cur);
    cur = fd;
    pos = end + 1;
  }
  *out = cab_steal_fd(&cur);
  return 0;
}

int
cab_unpack_open_dir(struct cab_unpack_ctx *ctx, const char *path, bool create, int *out,
                    cab_error *err)
{
  if (ctx->cache_fd >= 0 && strcmp(ctx->cache_path, path) == 0) {
    *out = fcntl(ctx->cache_fd, F_DUPFD_CLOEXEC, 3);
    if (*out < 0)
      return cab_error_sys(err, "dup");
    return 0;
  }
  int fd = cab_openat2_in_root(ctx->root_fd, path, O_PATH | O_DIRECTORY);
  if (fd < 0) {
    if (errno != ENOENT && errno != EACCES && errno != ENOTDIR)
      return cab_error_sys(err, "resolving '/%s' inside the image root", path);
    if (walk_dir(ctx, path, create, &fd, err) < 0)
      return -1;
    if (fd < 0) {
      *out = -1;
      return 0;
    }
  }
  /* Entries will change this directory: note its state first, to put its
   * mtime (and mode) back unless the layer has an entry for it. */
  if (!cab_pathset_has(&ctx->touched, path)) {
    struct stat st;
    struct timespec times[2];
    if (fstat(fd, &st) < 0) {
      close(fd);
      return cab_error_sys(err, "stat '/%s'", path);
    }
    times[0] = st.st_atim;
    times[1] = st.st_mtim;
    if (cab_pathset_add_one(&ctx->touched, path) < 0
        || cab_unpack_fixup_add(ctx, path, &st, st.st_mode & 07777, CAB_FIXUP_RESTORE, times,
                                err) < 0) {
      close(fd);
      return cab_error_set(err, ENOMEM, "out of memory");
    }
  }
  /* Remember it: layers list a directory's entries together. */
  char *copy = strdup(path);
  int keep = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (copy != NULL && keep >= 0) {
    cab_unpack_cache_drop(ctx);
    ctx->cache_path = copy;
    ctx->cache_fd = keep;
  } else {
    free(copy);
    if (keep >= 0)
      close(keep);
  }
  *out = fd;
  return 0;
}

void
cab_unpack_cache_drop(struct cab_unpack_ctx *ctx)
{
  if (ctx->cache_fd >= 0)
    close(ctx->cache_fd);
  ctx->cache_fd = -1;
  free(ctx->cache_path);
  ctx->cache_path = NULL;
}
