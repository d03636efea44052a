/* Why can't we create a user namespace here?  One actionable line. */
#ifndef CAB_SANDBOX_PREFLIGHT_H
#define CAB_SANDBOX_PREFLIGHT_H

#include <stdbool.h>

#include "common/error.h"

/* Fill ERR with the cause of a failed clone(CLONE_NEWUSER|...) whose errno
 * was ERRNUM, and the fix.  Returns -1. */
int cab_userns_explain(int errnum, cab_error *err);

/* Probes, each in a forked child inside fresh user and mount namespaces.
 * cab_check_userns: 0 when a user namespace can be made and its id maps
 * written, else -1 with ERR saying why (cab_userns_explain, with the errno
 * the kernel gave the child) and the fix. */
int cab_check_userns(cab_error *err);
/* Can overlayfs be mounted in a user namespace (kernel 5.11+ "userxattr")? */
bool cab_probe_overlay(void);

#endif
