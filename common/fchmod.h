/* chmod without following a symlink, also of an O_PATH fd (a directory
 * opened whatever its mode, to be given u+rwx). */
#ifndef CAB_COMMON_FCHMOD_H
#define CAB_COMMON_FCHMOD_H

#include <sys/types.h>

/* chmod the inode FD refers to (O_PATH allowed), without following.
 * Returns -1 with errno on failure. */
int cab_fchmod_any(int fd, mode_t mode);

/* chmod DIRFD/NAME without following a symlink (FIFOs, placeholders). */
int cab_fchmodat_nofollow(int dirfd, const char *name, mode_t mode);

#endif
