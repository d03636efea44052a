#include "rootfs/lease.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/copy_tree.h"
#include "common/strfmt.h"
#include "rootfs/rootfs_cache.h"

int
cab_rootfs_lease_take(cab_store *s, const cab_image *img, struct cab_rootfs_lease *l,
                      bool *cached, struct cab_unpack_stats *stats, cab_error *err)
{
  if (cab_rootfs_ensure(s, img, l->lower, sizeof l->lower, cached, stats, err) < 0)
    return -1;
  l->lock = cab_store_rootfs_lock(s, img->digest, err);
  if (l->lock < 0)
    return -1;
  cab_store_unuse(s);
  l->config = img->config;
  return 0;
}

int
cab_rootfs_lease_writable(struct cab_rootfs_lease *l, const char *dir, bool overlay_ok,
                          cab_error *err)
{
  /* CAB_NO_OVERLAY=1 takes the fallback on purpose (tests, odd kernels). */
  const char *no = getenv("CAB_NO_OVERLAY");
  if (overlay_ok && !(no && *no && *no != '0')) {
    return cab_path_printf(l->overlay_dir, sizeof l->overlay_dir, err, "%s", dir);
  }
  if (cab_path_printf(l->copy, sizeof l->copy, err, "%s/root", dir) < 0)
    return -1;
  if (mkdir(l->copy, 0755) < 0 && errno != EEXIST)
    return cab_error_sys(err, "create %s", l->copy);
  fprintf(stderr, "cab: warning: %s; copying the image's rootfs for this run instead\n",
          overlay_ok ? "CAB_NO_OVERLAY is set"
                     : "overlayfs cannot be mounted in a user namespace here (kernel 5.11+ "
                       "needed)");
  /* Hard links become separate files: fine for a per-run root. */
  static const struct cab_copy_opts image = {.flags = CAB_COPY_IMAGE_META, .max_depth = 256};
  if (cab_copy_tree(l->lower, l->copy, &image, err) < 0)
    return cab_error_prefix(err, "copy the rootfs");
  return 0;
}

void
cab_rootfs_lease_release(struct cab_rootfs_lease *l)
{
  if (l->lock >= 0)
    close(l->lock);
  l->lock = -1;
}
