/* The verifier's read-only harness: every protected path of the verify
 * copy (protected_paths as restored, and hidden/'s graders) bound
 * read-only over itself inside the sandbox, so that the code under test
 * cannot rewrite a script the shell is still reading, or a file a later
 * harness step reads.
 *
 * A directory only the hidden layers have (the harness's own,
 * runner/task/harness_dirs.h) is bound whole, so that nothing can be added
 * beside its graders while they run.
 *
 * A directory whose every entry is protected is bound whole (new files
 * cannot appear in it either: tests/__pycache__ is then skipped by Python,
 * as on any read-only tree).  A directory holding protected and other
 * entries stays writable, its protected files are bound one by one, and it
 * is bound over itself (writable) so it cannot be renamed away and replaced
 * (a mount point cannot be renamed or removed: EBUSY).  Not covered: a
 * protected symlink in such a mixed directory (not bound: it can be
 * replaced), and what a protected file names outside protected paths. */
#ifndef CAB_RUNNER_PROTECTED_BINDS_H
#define CAB_RUNNER_PROTECTED_BINDS_H

#include <stddef.h>

#include "common/error.h"
#include "runner/task/task.h"
#include "sandbox/sandbox.h"

/* More would cost a file descriptor and a mount each per verify: a task
 * protects whole directories instead. */
#define CAB_PROTECTED_BINDS_MAX 256

struct cab_protected_binds {
  struct cab_bind *v; /* in mount order: a directory before what is below it */
  size_t n;
  size_t n_readonly;  /* how many of V are read-only (the rest pin a directory) */
};

/* Binds for the protected paths of VERIFY (the host's verify copy, prepared
 * by cab_task_prepare_verify and not touched since), mounted at DST_ROOT/...
 * inside the sandbox, after the bind of VERIFY on DST_ROOT. */
int cab_protected_binds(const struct cab_task *t, const char *verify, const char *dst_root,
                        struct cab_protected_binds *out, cab_error *err);

void cab_protected_binds_free(struct cab_protected_binds *b);
#define cleanup_protected_binds __attribute__((cleanup(cab_protected_binds_free)))

#endif
