/* The lease that unpacks the image first when it is not cached yet. */
#include "rootfs/lease.h"

#include "rootfs/rootfs_cache.h"

int
cab_rootfs_lease_take(cab_store *s, const cab_image *img, struct cab_rootfs_lease *l,
                      bool *cached, struct cab_unpack_stats *stats, cab_error *err)
{
  if (cab_rootfs_ensure(s, img, l->lower, sizeof l->lower, cached, stats, err) < 0)
    return -1;
  return cab_rootfs_lease_hold(s, img, l, err);
}

