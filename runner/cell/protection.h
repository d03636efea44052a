/* A sandbox's protection (runner/record/protection.h), for cells and `cab
 * exec`: predicted before anything starts, from what this host offers, and
 * read from the sandbox's result once it ran.  Linked into the core cab. */
#ifndef CAB_RUNNER_CELL_PROTECTION_H
#define CAB_RUNNER_CELL_PROTECTION_H

#include "common/error.h"
#include "runner/record/protection.h"
#include "sandbox/sandbox.h"

/* What CFG ran under, from RES (NULL: the sandbox did not run): the
 * namespaces, seccomp policy and capabilities it applied, each limit's
 * mechanism (the same cab_limit_mech_name environment.limits records; a
 * limit CFG did not ask for is "unlimited"), the root and the network. */
void cab_protection_of_run(struct cab_protection *p, const struct cab_sandbox_config *cfg,
                           const struct cab_sandbox_result *res);

/* What CFG would run under on this host, found without writing anything:
 * the sandbox's namespaces and CFG's seccomp and capabilities (a sandbox
 * that cannot apply them fails, it never skips them), each limit's
 * mechanism from the cgroup detection the sandbox will use, the root CFG
 * describes (OVERLAY_DIR set: an overlay; ROOT_WRITABLE: a private copy).
 * WHY gets why a limit would not be held by a cgroup ("" when each is). */
void cab_protection_predict(struct cab_protection *p, const struct cab_sandbox_config *cfg,
                            char *why, size_t why_size);

/* -1 with ERR (one line, exit 125: the runner cannot give what was asked;
 * the command never started) when PREDICTED lacks an item of REQUIRED:
 * "COMMAND: --require ITEM: what this host gives here (WHY); the fix, or
 * drop ITEM from --require".  0 when it holds them all. */
int cab_protection_refuse(const char *command, const struct cab_protection *predicted,
                          cab_protection_set required, const struct cab_sandbox_config *cfg,
                          const char *why, cab_error *err);

#endif
