#include "sandbox/preflight.h"

#include <errno.h>
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
