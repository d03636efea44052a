/* The result of one sandbox run as JSON (cab exec --result FILE): exit,
 * timing, memory, the limits and defences as they held, the host root's
 * masks and ids, and the model network's totals.  Linked into the core cab. */
#ifndef CAB_RUNNER_RUN_RESULT_H
#define CAB_RUNNER_RUN_RESULT_H

#include "common/error.h"
#include "runner/proxy/proxy.h"
#include "runner/record/protection.h"
#include "sandbox/sandbox.h"

/* Write it to PATH (atomically); MODEL NULL: no model network; PROT (the
 * run's protection, runner/cell/protection.h) NULL: not written. */
int cab_run_result_write(const char *path, const struct cab_sandbox_config *cfg,
                         const struct cab_sandbox_result *r, const struct cab_proxy_totals *model,
                         const struct cab_protection *prot, cab_error *err);

#endif
