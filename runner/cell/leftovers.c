#include "runner/cell/leftovers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/rm_tree.h"

const char *const cab_scratch_prefixes[] = {CAB_SCRATCH_CELL, CAB_SCRATCH_EXEC, NULL};

const char *
cab_scratch_parent(void)
{
  const char *tmp = getenv("TMPDIR");
  return tmp && *tmp ? tmp : "/tmp";
}

int
cab_owned_dir_lock(const char *path)
{
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return -1;
  if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int
cab_owned_dir_make(const char *parent, const char *prefix, char *path, size_t size, int *lock,
                   cab_error *err)
{
  *lock = -1;
  if ((size_t)snprintf(path, size, "%s/%s%ld-XXXXXX", parent, prefix, (long)getpid()) >= size)
    return cab_error_set(err, ENAMETOOLONG, "scratch directory in %s: path too long", parent);
  if (mkdtemp(path) == NULL)
    return cab_error_sys(err, "create a scratch directory in %s", parent);
  /* Between mkdtemp and the lock our pid is alive: a reaper skips it. */
  *lock = cab_owned_dir_lock(path);
  if (*lock < 0)
    return cab_error_sys(err, "lock the scratch directory %s", path);
  return 0;
}

void
cab_owned_dir_remove_behind(const char *path, int lock)
{
  pid_t child = fork();
  if (child == 0) {
    /* A grandchild does the work, so that nobody has to reap it; it keeps
     * only the lock (no pipe of the caller's stays open, so whoever waits
     * for the caller's output or exit does not wait for this). */
    if (fork() != 0)
      _exit(0);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int fd = 0; null >= 0 && fd < 3; fd++)
      dup2(null, fd);
    /* Every other descriptor but the lock (>= 3: stdio was open when the
     * lock was taken). */
    if (lock > 3)
      syscall(SYS_close_range, 3u, (unsigned)lock - 1, 0u);
    syscall(SYS_close_range, lock >= 3 ? (unsigned)lock + 1 : 3u, ~0u, 0u);
    cab_rm_tree_at(AT_FDCWD, path, 0, NULL);
    _exit(0);
  }
  if (child < 0)
    cab_rm_tree_at(AT_FDCWD, path, 0, NULL);
  else
    waitpid(child, NULL, 0);
  if (lock >= 0)
    close(lock);
}

/* The pid in NAME = ...-<pid>-XXXXXX, or 0. */
static pid_t
owner_pid(const char *name)
{
  const char *last = strrchr(name, '-');
  if (last == NULL || strlen(last + 1) != 6 || last == name)
    return 0;
  const char *p = last;
  while (p > name && p[-1] >= '0' && p[-1] <= '9')
    p--;
  if (p == last || p == name || p[-1] != '-')
    return 0;
  long pid = strtol(p, NULL, 10);
  return pid > 1 && pid <= INT32_MAX ? (pid_t)pid : 0;
}

static bool
pid_alive(pid_t pid)
{
  return pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH;
}

void
cab_owned_dirs_reap(const char *parent, const char *const *prefixes, bool count_bytes,
                    struct cab_reaped *r)
{
  cleanup_dir DIR *d = opendir(parent);
  if (d == NULL)
    return;
  int dfd = dirfd(d);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    bool match = false;
    for (const char *const *p = prefixes; *p && !match; p++)
      match = strncmp(de->d_name, *p, strlen(*p)) == 0;
    pid_t pid = match ? owner_pid(de->d_name) : 0;
    if (pid == 0 || pid_alive(pid))
      continue;
    struct stat st;
    if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode) ||
        st.st_uid != geteuid())
      continue;
    /* Held while we remove it: a run in another pid namespace (its pid
     * means nothing here) still holds its lock. */
    cleanup_close int lock =
        openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0)
      continue;
    int64_t bytes = count_bytes ? cab_tree_bytes(parent, de->d_name) : 0;
    cab_error ignored = {0};
    if (cab_rm_tree_at(dfd, de->d_name, CAB_RM_PLAIN_NAME, &ignored) == 0 && r) {
      r->entries++;
      r->bytes += bytes;
    }
  }
}
