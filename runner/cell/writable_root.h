/* A per-run writable root over a cached, read-only image rootfs: an
 * overlay (the cache is the lower layer, DIR holds the upper one) where the
 * kernel allows it in a user namespace, else a private copy in DIR, said
 * out loud.  Either way the cache is never written.  CAB_NO_OVERLAY=1 in
 * the environment forces the copy. */
#ifndef CAB_RUNNER_WRITABLE_ROOT_H
#define CAB_RUNNER_WRITABLE_ROOT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "sandbox/sandbox.h"

/* DIR: an empty directory owned by the caller (removed by the caller).
 * ROOT_BUF receives the copy's path when copying (must outlive CFG). */
int cab_writable_root(const char *rootfs, const char *dir, bool overlay_ok,
                      struct cab_sandbox_config *cfg, char *root_buf, size_t size,
                      cab_error *err);

#endif
