/* Files published whole (common/atomic_file.h). */
#include "common/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/strfmt.h"

int
cab_atomic_open(const char *path, mode_t mode, struct cab_atomic_file *f, cab_error *err)
{
  f->fd = -1;
  f->tmp[0] = '\0';
  if (cab_path_printf(f->path, sizeof f->path, err, "%s", path) < 0)
    return -1;
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", path);
  f->fd = open(dirname(dir), O_TMPFILE | O_WRONLY | O_CLOEXEC, mode & 0777);
  if (f->fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    /* No unnamed files here (an old kernel, some FUSE and network file systems). */
    if (cab_path_printf(f->tmp, sizeof f->tmp, err, "%s.tmp.XXXXXX", path) < 0)
      return -1;
    f->fd = mkostemp(f->tmp, O_CLOEXEC);
    if (f->fd < 0)
      f->tmp[0] = '\0';
  }
  if (f->fd < 0)
    return cab_error_sys(err, "create %s", path);
  if (fchmod(f->fd, mode & 07777) < 0) {
    int saved = errno;
    cab_atomic_abort(f);
    return cab_error_set(err, saved, "chmod %s", path);
  }
  return 0;
}

/* Name the unnamed file F->path, atomically: linkat cannot replace, so
 * link it under a fresh temporary name, then rename that over PATH. */
static int
publish_unnamed(struct cab_atomic_file *f, cab_error *err)
{
  char proc[64], tmp[PATH_MAX];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", f->fd);
  for (int attempt = 0; attempt < 100; attempt++) {
    if (cab_path_printf(tmp, sizeof tmp, err, "%s.tmp.%d.%d", f->path, (int)getpid(), attempt) <
        0)
      return -1;
    if (linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) == 0)
      break;
    if (errno != EEXIST)
      return cab_error_sys(err, "name %s", f->path);
    tmp[0] = '\0';
  }
  if (tmp[0] == '\0')
    return cab_error_set(err, EEXIST, "name %s: no free temporary name", f->path);
  if (rename(tmp, f->path) < 0) {
    int saved = errno;
    unlink(tmp);
    return cab_error_set(err, saved, "rename %s to %s", tmp, f->path);
  }
  return 0;
}

int
cab_atomic_commit(struct cab_atomic_file *f, cab_error *err)
{
  if (f->fd < 0)
    return cab_error_set(err, EBADF, "%s: already committed or dropped", f->path);
  if (fsync(f->fd) < 0) {
    int saved = errno;
    cab_atomic_abort(f);
    return cab_error_set(err, saved, "write %s", f->path);
  }
  int r;
  if (f->tmp[0] == '\0') {
    r = publish_unnamed(f, err);
  } else {
    r = rename(f->tmp, f->path) < 0 ? cab_error_sys(err, "rename %s to %s", f->tmp, f->path) : 0;
    if (r == 0)
      f->tmp[0] = '\0';
  }
  cab_atomic_abort(f);
  return r;
}

void
cab_atomic_abort(struct cab_atomic_file *f)
{
  if (f->fd >= 0) {
    int saved = errno;
    close(f->fd);
    errno = saved;
  }
  f->fd = -1;
  if (f->tmp[0])
    unlink(f->tmp);
  f->tmp[0] = '\0';
}
