#include "runner/cell/writable_root.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "common/copy_tree.h"

int
cab_writable_root(const char *rootfs, const char *dir, bool overlay_ok,
                  struct cab_sandbox_config *cfg, char *root_buf, size_t size, cab_error *err)
{
  /* CAB_NO_OVERLAY=1 takes the fallback on purpose (tests, odd kernels). */
  const char *no = getenv("CAB_NO_OVERLAY");
  if (overlay_ok && !(no && *no && *no != '0')) {
    cfg->rootfs = rootfs;
    cfg->overlay_dir = dir;
    return 0;
  }
  snprintf(root_buf, size, "%s/root", dir);
  if (mkdir(root_buf, 0755) < 0 && errno != EEXIST)
    return cab_error_sys(err, "create %s", root_buf);
  fprintf(stderr, "cab: warning: %s; copying the image's rootfs for this run instead\n",
          overlay_ok ? "CAB_NO_OVERLAY is set"
                     : "overlayfs cannot be mounted in a user namespace here (kernel 5.11+ "
                       "needed)");
  /* Hard links become separate files: fine for a per-run root. */
  static const struct cab_copy_opts image = {.flags = CAB_COPY_IMAGE_META, .max_depth = 256};
  if (cab_copy_tree(rootfs, root_buf, &image, err) < 0)
    return cab_error_prefix(err, "copy the rootfs");
  cfg->rootfs = root_buf;
  cfg->root_writable = true;
  return 0;
}
