/* Small file helpers shared by every module. */
#ifndef CAB_COMMON_FSUTIL_H
#define CAB_COMMON_FSUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

/* Write BUF to DIRFD/PATH (AT_FDCWD allowed), O_WRONLY|O_CLOEXEC, no create.
 * Used for procfs and cgroupfs knobs. */
int cab_write_file_at(int dirfd, const char *path, const char *buf, cab_error *err);

/* Read at most MAX bytes of DIRFD/PATH into a NUL-terminated malloc'd buffer. */
int cab_read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len,
                     cab_error *err);

/* Write DATA to PATH atomically: temp file in the same directory, fsync,
 * rename.  A reader sees the old file or the new one, never half of one. */
int cab_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                          cab_error *err);

/* Parse "64M", "1.5G", "4096", "512k" (binary units) into bytes. */
int cab_parse_size(const char *text, int64_t *bytes);

/* mkdir -p, with MODE for each created directory. */
int cab_mkdir_p(const char *path, mode_t mode, cab_error *err);

/* mkdir -p PATH with 0700 for each directory created, then make sure PATH
 * itself is 0700: an existing one we own loses its group and other bits
 * (as containerd and Docker keep their state).  For stores and caches
 * whose content must stay out of other local users' reach. */
int cab_mkdir_private(const char *path, cab_error *err);

/* chown PATH and everything below it to UID:GID, following no symlink
 * (lchown semantics).  For trees cab hands to a sandbox that runs as
 * another host id. */
int cab_chown_tree(const char *path, uid_t uid, gid_t gid, cab_error *err);

/* The directory holding the running executable (for files installed
 * beside it).  Returns -1 when /proc/self/exe cannot be read. */
int cab_exe_dir(char *buf, size_t size);

/* Monotonic clock in nanoseconds. */
int64_t cab_now_ns(void);

#endif
