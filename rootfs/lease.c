/* A lease on a rootfs that is unpacked already, and making it writable:
 * what the core cab (runner/cli/core.h) links; the lease that unpacks
 * first is lease_take.c (libarchive, zstd: cab-full only). */
#include "rootfs/lease.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/copy_tree.h"
#include "common/strfmt.h"
#include "common/ttyline.h"
#include "rootfs/store_write.h"

bool
cab_rootfs_lease_ready(const cab_store *s, const cab_image *img)
{
  char path[PATH_MAX];
  struct stat st;
  /* A tree appears at its final name only by rename, once complete. */
  return cab_store_rootfs_path(s, img->digest, path, sizeof path, NULL) == 0 &&
         stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int
cab_rootfs_lease_take_unpacked(cab_store *s, const cab_image *img, struct cab_rootfs_lease *l,
                               cab_error *err)
{
  /* What killed unpacks left goes on every run, as cab_rootfs_ensure does. */
  cab_error ignored = {0};
  cab_store_reap_unpacks(s, &ignored);
  if (!cab_rootfs_lease_ready(s, img))
    return 1;
  if (cab_store_rootfs_path(s, img->digest, l->lower, sizeof l->lower, err) < 0)
    return -1;
  return cab_rootfs_lease_hold(s, img, l, err);
}

int
cab_rootfs_lease_hold(cab_store *s, const cab_image *img, struct cab_rootfs_lease *l,
                      cab_error *err)
{
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
  if (dir == NULL) {
    l->in_memory = true;
    return 0;
  }
  if (overlay_ok && !(no && *no && *no != '0')) {
    return cab_path_printf(l->overlay_dir, sizeof l->overlay_dir, err, "%s", dir);
  }
  if (cab_path_printf(l->copy, sizeof l->copy, err, "%s/root", dir) < 0)
    return -1;
  if (mkdir(l->copy, 0755) < 0 && errno != EEXIST)
    return cab_error_sys(err, "create %s", l->copy);
  cab_warn(stderr, "%s; copying the image's rootfs for this run instead",
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
