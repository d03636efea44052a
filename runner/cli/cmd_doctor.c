/* cab doctor: what this host supports, probed directly (never by version). */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fsutil.h"
#include "runner/cli/commands.h"
#include "sandbox/cgroup.h"
#include "sandbox/preflight.h"

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#endif
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)

static const char *
yes_no(int ok)
{
  return ok ? "yes" : "no";
}

int
cab_cmd_doctor(int argc, char **argv)
{
  (void)argc;
  (void)argv;
  int problems = 0;
  printf("cab doctor: what this host supports\n");

  cab_error userns_err = {0};
  int userns = cab_check_userns(&userns_err);
  printf("  user namespaces:       %s", yes_no(userns == 0));
  if (userns != 0) {
    char line[2300];
    printf("  (%s)", cab_error_line(&userns_err, line, sizeof line));
    problems++;
  }
  printf("\n");
  printf("  overlay in userns:     %s\n", userns == 0 ? yes_no(cab_probe_overlay()) : "no");

  struct cab_cgroup_host host;
  struct cab_cgroup_paths paths = {0};
  cab_error cgerr = {0};
  if (cab_cgroup_detect(&paths, &host, &cgerr) == 0) {
    printf("  cgroup mode:           %s\n", cab_cgroup_mode_name(host.mode));
    if (host.mode == CAB_CGROUP_MODE_UNIFIED || host.mode == CAB_CGROUP_MODE_HYBRID)
      printf("  cgroup v2:             %s at %s (controllers: %s; writable: %s)\n",
             host.v2_self[0] ? host.v2_self : "/", host.v2_mount,
             host.v2_controllers[0] ? host.v2_controllers : "none", yes_no(host.v2_writable));
    if (host.mode == CAB_CGROUP_MODE_HYBRID || host.mode == CAB_CGROUP_MODE_LEGACY) {
      printf("  cgroup v1 memory:      %s\n", host.v1_memory.mount[0]
                                                 ? (host.v1_memory.writable ? "writable" : "read-only")
                                                 : "absent");
      printf("  cgroup v1 pids:        %s\n", host.v1_pids.mount[0]
                                                 ? (host.v1_pids.writable ? "writable" : "read-only")
                                                 : "absent");
      printf("  cgroup v1 cpu:         %s\n", host.v1_cpu.mount[0]
                                                 ? (host.v1_cpu.writable ? "writable" : "read-only")
                                                 : "absent");
      printf("  cgroup v1 freezer:     %s\n", host.v1_freezer.mount[0]
                                                 ? (host.v1_freezer.writable ? "writable" : "read-only")
                                                 : "absent");
    }
    if (host.reason[0])
      printf("  cgroup limits:         degraded to rlimits: %s\n", host.reason);
  } else {
    char line[2300];
    printf("  cgroup mode:           unknown (%s)\n", cab_error_line(&cgerr, line, sizeof line));
  }

  char *actions = NULL;
  cab_error e = {0};
  int seccomp = prctl(PR_GET_SECCOMP) >= 0;
  if (cab_read_file_at(AT_FDCWD, "/proc/sys/kernel/seccomp/actions_avail", 4096, &actions, NULL,
                       &e) == 0) {
    actions[strcspn(actions, "\n")] = '\0';
    printf("  seccomp filters:       %s (actions: %s)\n", yes_no(seccomp), actions);
    free(actions);
  } else {
    printf("  seccomp filters:       %s\n", yes_no(seccomp));
  }

  struct open_how how = {.flags = O_PATH, .resolve = RESOLVE_IN_ROOT};
  long fd = syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof how);
  printf("  openat2:               %s\n", yes_no(fd >= 0));
  if (fd >= 0)
    close((int)fd);
  else
    problems++;

  long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi > 0)
    printf("  Landlock:              yes (ABI %ld)\n", abi);
  else
    printf("  Landlock:              no (%s)\n", strerror(errno));
  return problems ? 1 : 0;
}
