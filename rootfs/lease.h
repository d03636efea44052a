/* A run's hold on an image's rootfs, neutral about what runs on it: the
 * cached tree (the lower directory, never written), the shared lock that
 * keeps gc from removing it while the run lasts, the image's config, and,
 * once made writable, either an overlay directory (the lower one stays the
 * lower layer; upper/ and work/ go in it) or a private copy.  Mapping a
 * lease to a sandbox is the composer's job (runner/cell/run_spec.h). */
#ifndef CAB_ROOTFS_LEASE_H
#define CAB_ROOTFS_LEASE_H

#include <limits.h>
#include <stdbool.h>

#include "common/error.h"
#include "rootfs/store.h"
#include "rootfs/unpack.h"

struct cab_rootfs_lease {
  char lower[PATH_MAX];           /* the cached rootfs */
  int lock;                       /* the cache entry's shared lock, -1 when none */
  const cab_image_config *config; /* the image's (owned by the image), or NULL */
  char overlay_dir[PATH_MAX];     /* writable as an overlay: its directory, or "" */
  bool in_memory;                 /* writable as an overlay whose upper layer is in
                                     memory (the sandbox's own tmpfs): no directory */
  char copy[PATH_MAX + 8];        /* writable as a copy: its root, or "" */
};

/* An empty lease (no lock): safe to release.  Inline: the core cab (exec's
 * fast start, runner/cli/core.h) declares one without linking rootfs/. */
static inline void
cab_rootfs_lease_init(struct cab_rootfs_lease *l)
{
  *l = (struct cab_rootfs_lease){.lock = -1};
}

/* Unpack IMG once per manifest digest (CACHED: it was there already;
 * STATS, may be NULL: the unpack's figures), then lock it for the run; the
 * store's use lock is dropped (the rootfs lock holds the tree now). */
int cab_rootfs_lease_take(cab_store *s, const cab_image *img, struct cab_rootfs_lease *l,
                          bool *cached, struct cab_unpack_stats *stats, cab_error *err);

/* Whether IMG's rootfs is unpacked in the store's cache already.  Hold the
 * store's use lock from this answer to the lease: gc waits for it. */
bool cab_rootfs_lease_ready(const cab_store *s, const cab_image *img);

/* cab_rootfs_lease_take for an image whose rootfs is unpacked already:
 * 0 when taken, 1 when it is not unpacked (nothing held: take the lease
 * with cab_rootfs_lease_take, which unpacks), -1 on error.  Links none of
 * the unpacker (the core cab runs an unpacked image itself). */
int cab_rootfs_lease_take_unpacked(cab_store *s, const cab_image *img, struct cab_rootfs_lease *l,
                                   cab_error *err);

/* The lease's last step, for an unpacked rootfs at L->lower: lock it for
 * the run, drop the store's use lock, keep IMG's config.  0 or -1. */
int cab_rootfs_lease_hold(cab_store *s, const cab_image *img, struct cab_rootfs_lease *l,
                          cab_error *err);

/* Make the lease writable in DIR (an empty directory the caller owns and
 * removes): an overlay where the kernel mounts one in a user namespace
 * (OVERLAY_OK, the caller's probe), else a private copy in DIR/root, said
 * out loud on stderr.  DIR NULL (with OVERLAY_OK, the caller's probe of an
 * in-memory layer): an overlay whose layer is in memory.  Either way the
 * cache is never written.  CAB_NO_OVERLAY=1 in the environment forces the
 * copy (the caller then gives a DIR). */
int cab_rootfs_lease_writable(struct cab_rootfs_lease *l, const char *dir, bool overlay_ok,
                              cab_error *err);

/* Drop the lock (the writable layer is the caller's to remove). */
void cab_rootfs_lease_release(struct cab_rootfs_lease *l);

#endif
