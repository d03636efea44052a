/* rm -rf for the store's own directories (staging areas, rootfs caches),
 * never following symlinks and restoring write permission where a tree
 * has read-only directories. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "rootfs/store_internal.h"

static int
rm_children(int fd, int depth, cab_error *err)
{
  if (depth > 512)
    return cab_error_set(err, ELOOP, "directory tree too deep to remove");
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
  while ((errno = 0, de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    if (unlinkat(fd, de->d_name, 0) == 0 || errno == ENOENT)
      continue;
    if (errno != EISDIR && errno != EPERM)
      ret = cab_error_sys(err, "remove %s", de->d_name);
    else if (cab_rm_rf_at(fd, de->d_name, err) < 0)
      ret = -1;
  }
  return ret;
}

int
cab_rm_rf_at(int dirfd, const char *name, cab_error *err)
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
  if (rm_children(fd, 0, err) < 0)
    return -1;
  if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return cab_error_sys(err, "remove directory %s", name);
  return 0;
}
