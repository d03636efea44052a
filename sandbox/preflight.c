#include "sandbox/preflight.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/fsutil.h"

static long
read_long(const char *path, long fallback)
{
  cleanup_fclose FILE *f = fopen(path, "re");
  long v;
  if (f == NULL || fscanf(f, "%ld", &v) != 1)
    return fallback;
  return v;
}

/* Are we inside a container whose seccomp profile blocks CLONE_NEWUSER?
 * Docker's default profile does; /proc/self/status then shows Seccomp: 2. */
static int
seccomp_mode(void)
{
  cleanup_fclose FILE *f = fopen("/proc/self/status", "re");
  char line[256];
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "Seccomp:", 8) == 0)
      return atoi(line + 8);
  return 0;
}

int
cab_userns_explain(int errnum, cab_error *err)
{
  if (read_long("/proc/sys/kernel/unprivileged_userns_clone", 1) == 0)
    return cab_error_set(err, errnum,
                         "cannot create a user namespace: kernel.unprivileged_userns_clone=0; "
                         "fix: sudo sysctl -w kernel.unprivileged_userns_clone=1");
  if (read_long("/proc/sys/user/max_user_namespaces", 1) == 0)
    return cab_error_set(err, errnum,
                         "cannot create a user namespace: user.max_user_namespaces=0; "
                         "fix: sudo sysctl -w user.max_user_namespaces=15000");
  if (read_long("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", 0) == 1)
    return cab_error_set(
        err, errnum,
        "cannot create a user namespace: AppArmor restricts them "
        "(kernel.apparmor_restrict_unprivileged_userns=1, Ubuntu 23.10+); fix: sudo sysctl -w "
        "kernel.apparmor_restrict_unprivileged_userns=0, or install an AppArmor profile "
        "granting 'userns,' to cab (see README, 'Locked-down hosts')");
  if (errnum == ENOSPC)
    return cab_error_set(err, errnum,
                         "cannot create a user namespace: the per-user limit is reached "
                         "(user.max_user_namespaces); raise it or end other sandboxes");
  if (seccomp_mode() == 2)
    return cab_error_set(err, errnum,
                         "cannot create a user namespace: cab runs under a seccomp filter "
                         "that blocks CLONE_NEWUSER (a container's default profile?); run the "
                         "outer container with --security-opt seccomp=unconfined");
  return cab_error_set(err, errnum,
                       "cannot create the sandbox's namespaces (user, mount, pid, net, uts, "
                       "ipc); run 'cab doctor' to see what this host supports");
}

static int
map_self(uid_t uid, gid_t gid)
{
  char m[64];
  cab_error e = {0};
  snprintf(m, sizeof m, "0 %u 1", uid);
  if (cab_write_file_at(AT_FDCWD, "/proc/self/uid_map", m, &e) < 0)
    return -1;
  cab_write_file_at(AT_FDCWD, "/proc/self/setgroups", "deny", &e);
  snprintf(m, sizeof m, "0 %u 1", gid);
  return cab_write_file_at(AT_FDCWD, "/proc/self/gid_map", m, &e);
}

/* Run PROBE (NULL: none) in a forked child inside fresh user and mount
 * namespaces; returns its exit code: 10 when unshare failed, 11 when the id
 * maps could not be written, with the kernel's errno in *ERRNUM (sent back
 * through a pipe: the explanation depends on it, ENOSPC being the per-user
 * limit and EPERM a sysctl, an LSM or seccomp). */
static int
in_userns(int (*probe)(void), int *errnum)
{
  int fds[2];
  *errnum = 0;
  if (pipe2(fds, O_CLOEXEC) < 0)
    return *errnum = errno, 99;
  uid_t uid = geteuid();
  gid_t gid = getegid();
  pid_t pid = fork();
  if (pid < 0) {
    *errnum = errno;
    close(fds[0]);
    close(fds[1]);
    return 99;
  }
  if (pid == 0) {
    int step = 0;
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
      step = 10;
    else if (map_self(uid, gid) < 0)
      step = 11;
    int e = errno;
    if (step != 0)
      _exit(write(fds[1], &e, sizeof e) == (ssize_t)sizeof e ? step : 12);
    _exit(probe ? probe() : 0);
  }
  close(fds[1]);
  if (read(fds[0], errnum, sizeof *errnum) != (ssize_t)sizeof *errnum)
    *errnum = EPERM;
  close(fds[0]);
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
    ;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 99;
}

static int
overlay_probe(void)
{
  /* Everything on a private tmpfs: nothing on the host is touched. */
  if (mount("tmpfs", "/tmp", "tmpfs", 0, "size=1m") < 0)
    return 20;
  const char *dirs[4] = {"/tmp/l", "/tmp/u", "/tmp/w", "/tmp/m"};
  for (int i = 0; i < 4; i++)
    if (mkdir(dirs[i], 0755) < 0)
      return 21;
  return mount("overlay", "/tmp/m", "overlay", 0,
               "lowerdir=/tmp/l,upperdir=/tmp/u,workdir=/tmp/w,userxattr") == 0 ? 0 : 22;
}

int
cab_check_userns(cab_error *err)
{
  int e;
  int step = in_userns(NULL, &e);
  if (step == 0)
    return 0;
  /* The namespace was made but its id maps could not be written: what
   * Ubuntu's AppArmor restriction does; cab_userns_explain names that
   * sysctl when it is on, this says the step when nothing names a cause. */
  if (step == 11 && read_long("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", 0) != 1)
    return cab_error_set(err, e, "cannot write a user namespace's id maps (an LSM policy?); "
                                 "run 'cab doctor' to see what this host supports");
  return cab_userns_explain(e, err);
}

bool
cab_probe_overlay(void)
{
  int e;
  return in_userns(overlay_probe, &e) == 0;
}
