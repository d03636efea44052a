/* A plain copy of a directory tree (files, directories, symlinks, modes,
 * mtimes; hardlinks become separate files): the fallback for a per-run
 * writable root where overlayfs cannot be mounted. */
#ifndef CAB_ROOTFS_TREE_COPY_H
#define CAB_ROOTFS_TREE_COPY_H

#include "common/error.h"

/* Copy SRC into DST, which must exist and be empty. */
int cab_tree_copy(const char *src, const char *dst, cab_error *err);

#endif
