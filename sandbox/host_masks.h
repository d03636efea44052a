/* What a sandbox on the host's / must not see: directories hidden under an
 * empty read-only tmpfs.  The list is built on the host side (here) and
 * mounted by the sandbox (mounts.c), before the sandbox's own binds, so a
 * bind whose source or destination lies under a masked tree still appears.
 *
 * Paths are canonical (realpath where cab can resolve them).  "/" and the
 * trees a host-rootfs sandbox needs (/usr, /etc, /bin, /var...) or their
 * ancestors are never masked.  Homes in /etc/passwd inside the
 * distribution's own trees (daemon's /usr/sbin, sync's /bin) are not
 * masked either; an explicit path there (an installed task tree under
 * /usr/share) is. */
#ifndef CAB_SANDBOX_HOST_MASKS_H
#define CAB_SANDBOX_HOST_MASKS_H

#include <stddef.h>

#include "common/error.h"

struct cab_host_masks {
  char **paths;   /* canonical, unique */
  size_t n, cap;
};

/* Add PATH (absolute, or relative to the working directory).  A path that
 * does not exist, "/" and the needed system trees are left out (not an
 * error).  -1 only on ENOMEM. */
int cab_host_masks_add(struct cab_host_masks *m, const char *path, cab_error *err);

/* Every home directory: each one in /etc/passwd that exists, /home, the
 * caller's $HOME, and /root. */
int cab_host_masks_add_homes(struct cab_host_masks *m, cab_error *err);

void cab_host_masks_free(struct cab_host_masks *m);

#endif
