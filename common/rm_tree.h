/* rm -rf, the one recursive removal: image trees, store caches, cell and
 * results directories, a task's workdir copies. */
#ifndef CAB_COMMON_RM_TREE_H
#define CAB_COMMON_RM_TREE_H

#include "common/error.h"

enum {
  /* NAME must be one plain entry of DIRFD: no '/', not "." or ".." or "".
   * For callers handed a name they did not build. */
  CAB_RM_PLAIN_NAME = 1 << 0,
};

/* Remove DIRFD/NAME (AT_FDCWD allowed) and everything below it; absent is
 * fine.  No symlink is followed; a directory its owner cannot read, write or
 * search (an image's 0555 or 000 directory, rootless) is given u+rwx first;
 * however deep the tree, the number of open fds stays bounded (a subtree
 * deeper than that is first moved up into DIRFD under a temporary name).
 * ERR may be NULL.  When NAME itself cannot be unlinked for another reason
 * than being a directory, ERR's errnum is unlink's (EACCES: the parent is
 * not writable). */
int cab_rm_tree_at(int dirfd, const char *name, unsigned flags, cab_error *err);

#endif
