#include "rootfs/tree_copy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"

static int
copy_file(int sdir, int ddir, const char *name, const struct stat *st, cab_error *err)
{
  cleanup_close int in = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_close int out =
      openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (in < 0 || out < 0)
    return cab_error_sys(err, "copy %s", name);
  /* Holes stay holes (a sparse file costs its data, not its size). */
  if (cab_copy_fd_sparse(in, out, st->st_size) < 0)
    return cab_error_sys(err, "copy %s", name);
  fchmod(out, st->st_mode & 07777);
  struct timespec ts[2] = {st->st_atim, st->st_mtim};
  futimens(out, ts);
  return 0;
}

static int
copy_dir(int sdir, int ddir, int depth, cab_error *err)
{
  if (depth > 256)
    return cab_error_set(err, ELOOP, "tree copy: directories nested too deep");
  cleanup_close int dup_fd = dup(sdir);
  cleanup_dir DIR *d = dup_fd >= 0 ? fdopendir(cab_steal_fd(&dup_fd)) : NULL;
  if (d == NULL)
    return cab_error_sys(err, "tree copy: list a directory");
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    const char *n = e->d_name;
    if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
      continue;
    struct stat st;
    if (fstatat(sdir, n, &st, AT_SYMLINK_NOFOLLOW) < 0)
      return cab_error_sys(err, "tree copy: stat %s", n);
    if (S_ISDIR(st.st_mode)) {
      if (mkdirat(ddir, n, 0700) < 0)
        return cab_error_sys(err, "tree copy: mkdir %s", n);
      cleanup_close int s2 = openat(sdir, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      cleanup_close int d2 = openat(ddir, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (s2 < 0 || d2 < 0)
        return cab_error_sys(err, "tree copy: open %s", n);
      if (copy_dir(s2, d2, depth + 1, err) < 0)
        return cab_error_prefix(err, "%s", n);
      fchmod(d2, st.st_mode & 07777);
      struct timespec ts[2] = {st.st_atim, st.st_mtim};
      futimens(d2, ts);
    } else if (S_ISLNK(st.st_mode)) {
      char target[PATH_MAX];
      ssize_t len = readlinkat(sdir, n, target, sizeof target - 1);
      if (len < 0)
        return cab_error_sys(err, "tree copy: readlink %s", n);
      target[len] = '\0';
      if (symlinkat(target, ddir, n) < 0)
        return cab_error_sys(err, "tree copy: symlink %s", n);
    } else if (S_ISREG(st.st_mode)) {
      if (copy_file(sdir, ddir, n, &st, err) < 0)
        return -1;
    } else {
      /* Devices and sockets: an empty placeholder, as the unpacker does. */
      int fd = openat(ddir, n, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0000);
      if (fd >= 0)
        close(fd);
    }
  }
  return 0;
}

int
cab_tree_copy(const char *src, const char *dst, cab_error *err)
{
  cleanup_close int s = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int d = open(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (s < 0 || d < 0)
    return cab_error_sys(err, "tree copy %s to %s", src, dst);
  return copy_dir(s, d, 0, err);
}
