/* Building the sandbox's filesystem view, in the order the kernel needs it.
 * Every target inside the new root is resolved with openat2(RESOLVE_IN_ROOT)
 * and mounted through its fd (/proc/self/fd/N), never by a path string the
 * rootfs could redirect with a symlink. */
#ifndef CAB_SANDBOX_MOUNTS_H
#define CAB_SANDBOX_MOUNTS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "sandbox/sandbox.h"

/* Host objects opened before anything is mounted over them. */
struct cab_host_fds {
  int rootfs;             /* O_PATH dir: the rootfs, or the host / */
  int overlay;            /* O_PATH dir: cfg->overlay_dir, or -1 */
  int layer_tmpfs;        /* cfg->overlay_in_memory: the layer's tmpfs, opened
                             by cab_mounts_build_root, or -1 */
  int dev[6];             /* O_PATH: null zero full random urandom tty */
  int *bind_src;          /* O_PATH, one per cfg->binds */
};

int cab_host_fds_open(const struct cab_sandbox_config *cfg, struct cab_host_fds *fds,
                      cab_error *err);
void cab_host_fds_close(struct cab_host_fds *fds, size_t n_binds);

/* Assemble the new root under a private staging tmpfs and pivot into it.
 * Runs as pid 1 of the new pid namespace, inside the new mount namespace. */
int cab_mounts_build_root(const struct cab_sandbox_config *cfg, struct cab_host_fds *fds,
                          cab_error *err);

/* mkdir -p PATH below ROOTFD, resolving within the root; the last component
 * becomes a file when AS_FILE.  Returns an O_PATH fd of the result. */
int cab_open_in_root(int rootfd, const char *path, bool create, bool as_file, cab_error *err);

#endif
