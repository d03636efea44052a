/* A task's verify command run directly on the host, outside any sandbox:
 * `cab tasks validate --compare-host` checks that it gives the verdict and
 * the test count the sandboxed verifier gave (a sandbox that breaks a
 * toolchain -- /dev/shm, HOME, tmpfs sizes -- shows as a difference).  It
 * runs the task's code as the caller, unconfined: only for suites the
 * caller trusts, and only when asked. */
#ifndef CAB_RUNNER_TASK_VERIFY_HOST_H
#define CAB_RUNNER_TASK_VERIFY_HOST_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "runner/task/task.h"

/* The command's output kept, at most. */
#define CAB_VERIFY_HOST_OUT_MAX (4 << 20)

struct cab_verify_host_result {
  char *out; /* stdout and stderr, interleaved as written (malloc'd) */
  size_t len;
  int exit_code; /* 128+N for a signal */
  bool timed_out;
};

/* In a fresh temporary directory: the pristine workdir (T->dir must be
 * set), the reference solution overlaid when SOLVED, then scorer_command
 * with sh -c there, TMPDIR a private directory beside it, within
 * scorer_timeout_s (its process group killed after).  The directory is
 * removed afterwards. */
int cab_task_verify_on_host(const struct cab_task *t, bool solved,
                            struct cab_verify_host_result *res, cab_error *err);

void cab_verify_host_result_free(struct cab_verify_host_result *res);

#endif
