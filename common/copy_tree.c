/* Tree copy by directory fds, relative names only: a symlink planted in the
 * destination (by an agent, in a tree the verifier gets) is replaced, never
 * followed. */
#include "common/copy_tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/dir_iter.h"
#include "common/fsutil.h"
#include "common/rm_tree.h"

/* Open (creating) directory NAME in DIRFD; whatever else is there (a file, a
 * symlink) is removed first. */
static int
open_subdir(int dirfd, const char *name, mode_t mode, cab_error *err)
{
  int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0)
    return fd;
  if (errno != ENOENT && cab_rm_tree_at(dirfd, name, 0, err) < 0)
    return -1;
  if (mkdirat(dirfd, name, mode) < 0 && errno != EEXIST)
    return cab_error_sys(err, "create directory %s", name);
  fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return cab_error_sys(err, "open directory %s", name);
  return fd;
}

static void
copy_times(int fd, const struct stat *st)
{
  struct timespec ts[2] = {st->st_atim, st->st_mtim};
  futimens(fd, ts);
}

static int
copy_file(int sfd_dir, const char *name, int dfd_dir, const struct stat *st, unsigned flags,
          cab_error *err)
{
  cleanup_close int in = openat(sfd_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0)
    return cab_error_sys(err, "open %s", name);
  if (cab_rm_tree_at(dfd_dir, name, 0, err) < 0)
    return -1;
  cleanup_close int out =
      openat(dfd_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0)
    return cab_error_sys(err, "create %s", name);
  /* Holes stay holes: a sparse file costs its data, not its size. */
  if (cab_copy_fd_sparse(in, out, st->st_size) < 0)
    return cab_error_sys(err, "copy %s", name);
  bool meta = flags & CAB_COPY_IMAGE_META;
  if (fchmod(out, st->st_mode & (meta ? 07777 : 0777)) < 0)
    return cab_error_sys(err, "chmod %s", name);
  if (meta)
    copy_times(out, st);
  return 0;
}

static int
copy_link(int sfd_dir, const char *name, int dfd_dir, cab_error *err)
{
  char target[PATH_MAX];
  ssize_t n = readlinkat(sfd_dir, name, target, sizeof target - 1);
  if (n < 0)
    return cab_error_sys(err, "readlink %s", name);
  target[n] = '\0';
  if (cab_rm_tree_at(dfd_dir, name, 0, err) < 0)
    return -1;
  if (symlinkat(target, dfd_dir, name) < 0)
    return cab_error_sys(err, "symlink %s", name);
  return 0;
}

/* A device, FIFO or socket of an image: an empty file in its place. */
static int
copy_placeholder(const char *name, int dfd_dir, cab_error *err)
{
  if (cab_rm_tree_at(dfd_dir, name, 0, err) < 0)
    return -1;
  int fd = openat(dfd_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0000);
  if (fd >= 0)
    close(fd);
  return 0;
}

static int
copy_dir(int sfd, int dfd, const char *rel, const struct cab_copy_opts *o, int depth,
         cab_error *err)
{
  if (depth > o->max_depth)
    return cab_error_set(err, ELOOP, "%s: directories nested too deeply", rel);
  cleanup_dir DIR *d = NULL;
  if (cab_dir_open_fd(sfd, rel, &d, err) < 0)
    return -1;
  bool meta = o->flags & CAB_COPY_IMAGE_META;
  struct dirent *de;
  char sub[PATH_MAX];
  int more;
  while ((more = cab_dir_next(d, rel, &de, sub, sizeof sub, err)) > 0) {
    struct stat st;
    if (fstatat(sfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
      return cab_error_sys(err, "stat %s", sub);
    int r = 0;
    if (S_ISDIR(st.st_mode)) {
      cleanup_close int s2 =
          openat(sfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (s2 < 0)
        return cab_error_sys(err, "open %s", sub);
      /* With a filter, a directory is only created when something in it is
       * copied: probe lazily by creating, and dropping it again if empty. */
      struct stat dst;
      bool existed = fstatat(dfd, de->d_name, &dst, AT_SYMLINK_NOFOLLOW) == 0 &&
                     S_ISDIR(dst.st_mode);
      cleanup_close int d2 = open_subdir(dfd, de->d_name, meta ? 0700 : 0755, err);
      if (d2 < 0)
        return cab_error_prefix(err, "%s", sub);
      if (copy_dir(s2, d2, sub, o, depth + 1, err) < 0)
        return -1;
      if (meta) {
        /* After the content: a read-only directory is filled first. */
        fchmod(d2, st.st_mode & 07777);
        copy_times(d2, &st);
      } else if (!existed && o->filter) {
        unlinkat(dfd, de->d_name, AT_REMOVEDIR); /* fails (ENOTEMPTY) when used */
      } else if (!existed) {
        fchmod(d2, (st.st_mode & 0777) | 0700);
      }
    } else if (o->filter && !o->filter(sub, o->arg)) {
      continue;
    } else if (S_ISREG(st.st_mode)) {
      r = copy_file(sfd, de->d_name, dfd, &st, o->flags, err);
    } else if (S_ISLNK(st.st_mode)) {
      r = copy_link(sfd, de->d_name, dfd, err);
    } else if (meta) {
      r = copy_placeholder(de->d_name, dfd, err);
    }
    if (r < 0)
      return cab_error_prefix(err, "%s", sub);
  }
  return more;
}

static bool
dir_empty(int fd)
{
  int dup_fd = dup(fd);
  if (dup_fd < 0)
    return false;
  cleanup_dir DIR *d = fdopendir(dup_fd);
  if (d == NULL) {
    close(dup_fd);
    return false;
  }
  struct dirent *de;
  while ((de = readdir(d)))
    if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
      return false;
  return true;
}

int
cab_copy_tree(const char *src, const char *dest, const struct cab_copy_opts *o, cab_error *err)
{
  cleanup_close int sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (sfd < 0)
    return cab_error_sys(err, "%s: cannot open", src);
  if (mkdir(dest, 0755) < 0 && errno != EEXIST)
    return cab_error_sys(err, "%s: cannot create", dest);
  cleanup_close int dfd = open(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return cab_error_sys(err, "%s: cannot open", dest);
  if ((o->flags & CAB_COPY_INTO_EMPTY) && !dir_empty(dfd))
    return cab_error_set(err, EEXIST, "%s: not empty", dest);
  if (copy_dir(sfd, dfd, "", o, 0, err) < 0)
    return cab_error_prefix(err, "copy %s to %s", src, dest);
  return 0;
}
