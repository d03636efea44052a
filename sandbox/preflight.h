/* Why can't we create a user namespace here?  One actionable line. */
#ifndef CAB_SANDBOX_PREFLIGHT_H
#define CAB_SANDBOX_PREFLIGHT_H

#include <stdbool.h>

#include "common/error.h"

/* Fill ERR with the cause of a failed clone(CLONE_NEWUSER|...) whose errno
 * was ERRNUM, and the fix.  Returns -1. */
int cab_userns_explain(int errnum, cab_error *err);

/* Probes, each in a forked child inside fresh user and mount namespaces.
 * cab_probe_userns: 0 when a user namespace can be made, else the step
 * that failed (10: unshare, 11: id maps). */
int cab_probe_userns(void);
/* Can overlayfs be mounted in a user namespace (kernel 5.11+ "userxattr")? */
bool cab_probe_overlay(void);

#endif
