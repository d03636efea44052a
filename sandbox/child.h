/* The sandbox side: pid 1 of the new namespaces (a minimal init), and the
 * command it forks (pid 2), which drops everything and execs. */
#ifndef CAB_SANDBOX_CHILD_H
#define CAB_SANDBOX_CHILD_H

#include <stdbool.h>

#include "sandbox/cgroup.h"
#include "sandbox/mounts.h"
#include "sandbox/sandbox.h"
#include "sandbox/seccomp.h"
#include "sandbox/stdio.h"

struct cab_child_args {
  const struct cab_sandbox_config *cfg;
  struct cab_host_fds *fds;               /* opened by the child, in its namespace */
  int sync_fd;                           /* SOCK_SEQPACKET to the supervisor */
  const struct cab_seccomp_filter *filter; /* NULL: unconfined */
  bool rlimit_pids;                      /* cap processes with RLIMIT_NPROC */
  bool rlimit_memory;                    /* backstop RLIMIT_DATA */
  bool take_mapped_ids;                  /* our host ids are not the mapped
                                            ones (root's host-rootfs sandbox):
                                            switch to them once the host fds
                                            are open */
  const struct cab_stdio *stdio;         /* the command's fds 0-2, as sorted
                                            by the supervisor (sandbox/stdio.h) */
  struct cab_cgroup_join *cgroup_join;   /* v1 cell "tasks" files to join
                                            ourselves by (sandbox/cgroup.h);
                                            n == 0: the supervisor attached us */
};

/* Never returns. */
__attribute__((noreturn)) void cab_child_main(const struct cab_child_args *args);

#endif
