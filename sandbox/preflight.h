/* Why can't we create a user namespace here?  One actionable line. */
#ifndef CAB_SANDBOX_PREFLIGHT_H
#define CAB_SANDBOX_PREFLIGHT_H

#include "common/error.h"

/* Fill ERR with the cause of a failed clone(CLONE_NEWUSER|...) whose errno
 * was ERRNUM, and the fix.  Returns -1. */
int cab_userns_explain(int errnum, cab_error *err);

#endif
