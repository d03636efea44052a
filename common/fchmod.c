/* chmod by fd or by name without following a symlink: fchmodat2 (Linux
 * 6.6) where the kernel has it, the fd's /proc magic link before. */
#include "common/fchmod.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

int
cab_fchmod_any(int fd, mode_t mode)
{
  if (syscall(SYS_fchmodat2, fd, "", mode, AT_EMPTY_PATH) == 0)
    return 0;
  if (errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
    return -1;
  /* Before Linux 6.6: chmod through the fd's magic link, which names this
   * very inode and is not followed any further. */
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  return chmod(proc, mode);
}

int
cab_fchmodat_nofollow(int dirfd, const char *name, mode_t mode)
{
  if (syscall(SYS_fchmodat2, dirfd, name, mode, AT_SYMLINK_NOFOLLOW) == 0)
    return 0;
  if (errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
    return -1;
  cleanup_close int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0)
    return -1;
  if (S_ISLNK(st.st_mode)) {
    errno = ELOOP;
    return -1;
  }
  return cab_fchmod_any(fd, mode);
}
