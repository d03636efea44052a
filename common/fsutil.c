#include "common/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"

int
cab_write_file_at(int dirfd, const char *path, const char *buf, cab_error *err)
{
  cleanup_close int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return cab_error_sys(err, "open %s for writing", path);
  size_t len = strlen(buf);
  ssize_t n = write(fd, buf, len);
  if (n < 0)
    return cab_error_sys(err, "write '%s' to %s", buf, path);
  if ((size_t)n != len)
    return cab_error_set(err, EIO, "short write to %s", path);
  return 0;
}

int
cab_read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len,
                 cab_error *err)
{
  return cab_read_file(dirfd, path, max, 0, out, len, NULL, err);
}

int
cab_read_file(int dirfd, const char *path, size_t max, unsigned flags, char **out,
              size_t *len, bool *truncated, cab_error *err)
{
  /* O_NONBLOCK: opening a FIFO must not wait for a writer before the
   * regular-file check refuses it (no effect on a regular file's reads). */
  int oflags = O_RDONLY | O_CLOEXEC | O_NOCTTY | (flags & CAB_READ_NOFOLLOW ? O_NOFOLLOW : 0) |
               (flags & (CAB_READ_REGULAR | CAB_READ_OWN) ? O_NONBLOCK : 0);
  cleanup_close int fd = openat(dirfd, path, oflags);
  if (fd < 0)
    return cab_error_sys(err, "open %s", path);
  if (flags & (CAB_READ_REGULAR | CAB_READ_OWN)) {
    struct stat st;
    if (fstat(fd, &st) < 0)
      return cab_error_sys(err, "stat %s", path);
    if (!S_ISREG(st.st_mode))
      return cab_error_set(err, EINVAL, "%s is not a regular file", path);
    /* Checked on the descriptor read below, not by name again. */
    if ((flags & CAB_READ_OWN) && (st.st_uid != geteuid() || (st.st_mode & 022) != 0))
      return cab_error_set(err, EPERM, "%s is not ours alone (owner %u, mode %04o)", path,
                           (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
  }
  /* One byte past MAX tells a file of exactly MAX bytes from a longer one;
   * read only when asked (PATH may be a pipe whose writer stays open). */
  size_t limit = truncated || (flags & CAB_READ_WHOLE) ? max + 1 : max;
  size_t cap = 4096 < limit ? 4096 : limit;
  cleanup_free char *buf = malloc(cap + 1);
  if (buf == NULL)
    return cab_error_sys(err, "read %s", path);
  size_t used = 0;
  for (;;) {
    if (used == cap) {
      if (cap >= limit)
        break;
      size_t ncap = cap * 2 < limit ? cap * 2 : limit;
      char *nbuf = realloc(buf, ncap + 1);
      if (nbuf == NULL)
        return cab_error_sys(err, "read %s", path);
      buf = nbuf;
      cap = ncap;
    }
    ssize_t n = read(fd, buf + used, cap - used);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return cab_error_sys(err, "read %s", path);
    }
    if (n == 0)
      break;
    used += (size_t)n;
  }
  bool cut = used > max;
  if (cut && (flags & CAB_READ_WHOLE))
    return cab_error_set(err, EFBIG, "%s is larger than %zu bytes", path, max);
  if (cut)
    used = max;
  buf[used] = '\0';
  if (len)
    *len = used;
  if (truncated)
    *truncated = cut;
  *out = cab_steal_ptr(&buf);
  return 0;
}

int
cab_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                      cab_error *err)
{
  char tmp[PATH_MAX];
  if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp)
    return cab_error_set(err, ENAMETOOLONG, "path too long: %s", path);
  cleanup_close int fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0)
    return cab_error_sys(err, "create temporary file beside %s", path);
  const char *p = data;
  size_t left = len;
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int saved = errno;
      unlink(tmp);
      return cab_error_set(err, saved, "write %s", tmp);
    }
    p += n;
    left -= (size_t)n;
  }
  if (fchmod(fd, mode) < 0 || fsync(fd) < 0) {
    int saved = errno;
    unlink(tmp);
    return cab_error_set(err, saved, "finish %s", tmp);
  }
  if (rename(tmp, path) < 0) {
    int saved = errno;
    unlink(tmp);
    return cab_error_set(err, saved, "rename %s to %s", tmp, path);
  }
  return 0;
}

int
cab_parse_size(const char *text, int64_t *bytes)
{
  if (text == NULL || *text == '\0')
    return -1;
  char *end = NULL;
  errno = 0;
  double v = strtod(text, &end);
  if (errno != 0 || end == text || v < 0)
    return -1;
  double mult = 1;
  switch (*end) {
  case '\0': break;
  case 'k': case 'K': mult = 1024.0; end++; break;
  case 'm': case 'M': mult = 1024.0 * 1024; end++; break;
  case 'g': case 'G': mult = 1024.0 * 1024 * 1024; end++; break;
  case 't': case 'T': mult = 1024.0 * 1024 * 1024 * 1024; end++; break;
  default: return -1;
  }
  if (*end == 'i' && mult > 1)
    end++;
  if (*end == 'b' || *end == 'B')
    end++;
  if (*end != '\0')
    return -1;
  double r = v * mult;
  if (r > (double)INT64_MAX)
    return -1;
  *bytes = (int64_t)r;
  return 0;
}

int
cab_mkdir_p(const char *path, mode_t mode, cab_error *err)
{
  char buf[PATH_MAX];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
    return cab_error_set(err, ENAMETOOLONG, "path too long: %s", path);
  /* Mostly the whole path is there already (the store, opened on every
   * run): one mkdir says so, and only a missing parent walks them all. */
  if (mkdir(buf, mode) == 0 || errno == EEXIST)
    return 0;
  if (errno != ENOENT)
    return cab_error_sys(err, "mkdir %s", buf);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(buf, mode) < 0 && errno != EEXIST)
      return cab_error_sys(err, "mkdir %s", buf);
    *p = '/';
  }
  if (mkdir(buf, mode) < 0 && errno != EEXIST)
    return cab_error_sys(err, "mkdir %s", buf);
  return 0;
}

int
cab_mkdir_private(const char *path, cab_error *err)
{
  if (cab_mkdir_p(path, 0700, err) < 0)
    return -1;
  /* A symlinked store ($CAB_HOME -> elsewhere) is followed: what is
   * tightened is the directory opened, and only when it is ours. */
  cleanup_close int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0)
    return cab_error_sys(err, "open %s", path);
  /* Someone else's directory (a store shared on purpose) is left alone. */
  if (st.st_uid != geteuid() || (st.st_mode & 077) == 0)
    return 0;
  if (fchmod(fd, st.st_mode & 07700) < 0)
    return cab_error_sys(err, "chmod go-rwx %s", path);
  return 0;
}

/* DIRFD/NAME and, for a directory, its entries; DEPTH bounds the
 * recursion (a workdir is never that deep). */
static int
chown_at(int parent, const char *name, uid_t uid, gid_t gid, int depth, cab_error *err)
{
  struct stat st;
  if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return cab_error_sys(err, "stat %s", name);
  if (fchownat(parent, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
    return cab_error_sys(err, "chown %s to %u:%u", name, (unsigned)uid, (unsigned)gid);
  if (!S_ISDIR(st.st_mode))
    return 0;
  if (depth > 512)
    return cab_error_set(err, ELOOP, "chown %s: the tree is too deep", name);
  int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return cab_error_sys(err, "open %s", name);
  cleanup_dir DIR *d = fdopendir(fd);
  if (d == NULL) {
    close(fd);
    return cab_error_sys(err, "list %s", name);
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    if (chown_at(dirfd(d), e->d_name, uid, gid, depth + 1, err) < 0)
      return cab_error_prefix(err, "%s", name);
  }
  return 0;
}

int
cab_chown_tree(const char *path, uid_t uid, gid_t gid, cab_error *err)
{
  return chown_at(AT_FDCWD, path, uid, gid, 0, err);
}

int64_t
cab_now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int
cab_exe_dir(char *buf, size_t size)
{
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0)
    return -1;
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  if (slash == NULL)
    return -1;
  *slash = '\0';
  snprintf(buf, size, "%s", exe[0] ? exe : "/");
  return 0;
}
