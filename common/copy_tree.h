/* The one directory-tree copy: a task's workdir, solution/ and hidden/
 * overlays, the verifier's copy of the agent's tree, and the private copy
 * of an image's rootfs where overlayfs cannot be mounted. */
#ifndef CAB_COMMON_COPY_TREE_H
#define CAB_COMMON_COPY_TREE_H

#include <stdbool.h>

#include "common/error.h"

enum {
  /* DEST (created when missing) must be empty. */
  CAB_COPY_INTO_EMPTY = 1 << 0,
  /* A faithful copy of an image tree: all mode bits (setuid, sticky),
   * atimes and mtimes, and an empty placeholder for a device, FIFO or socket
   * (as the unpacker makes).  Without it: permission bits only, a new
   * directory gets u+rwx, and special files are skipped. */
  CAB_COPY_IMAGE_META = 1 << 1,
};

struct cab_copy_opts {
  unsigned flags;
  int max_depth;  /* directories nested deeper are an error (ELOOP) */
  /* Which regular files and symlinks are copied, by path relative to SRC
   * (NULL: all); a directory is only created when something in it is. */
  bool (*filter)(const char *rel, void *arg);
  void *arg;
};

/* Copy the tree at SRC onto DEST (created when missing), never following a
 * symlink below either: what DEST already holds is merged (directories) or
 * replaced (anything else, whatever it was).  Holes stay holes; hard links
 * become separate files. */
int cab_copy_tree(const char *src, const char *dest, const struct cab_copy_opts *o,
                  cab_error *err);

#endif
