/* Unpacked rootfs trees, cached once per manifest digest under
 * $CAB_HOME/rootfs/<hex>/: N cells of one image unpack it once.  A tree is
 * unpacked into a temporary sibling and renamed into place under an
 * exclusive lock, so concurrent cab processes never see half a tree. */
#ifndef CAB_ROOTFS_ROOTFS_CACHE_H
#define CAB_ROOTFS_ROOTFS_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "rootfs/store.h"
#include "rootfs/unpack.h"

/* Make sure IMG's flattened rootfs exists; PATH receives its directory.
 * CACHED tells whether it was there already; STATS (may be NULL) gets the
 * unpack's figures when it was not. */
int cab_rootfs_ensure(cab_store *s, const cab_image *img, char *path, size_t size, bool *cached,
                      struct cab_unpack_stats *stats, cab_error *err);

/* Apply IMG's layers in order onto the empty directory DIR_FD.  STRIP_SETID:
 * no file keeps a setuid or setgid bit (a tree outside the private store). */
int cab_rootfs_unpack_into(cab_store *s, const cab_image *img, int dir_fd, bool strip_setid,
                           struct cab_unpack_stats *stats, cab_error *err);

#endif
