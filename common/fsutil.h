/* Small file helpers shared by every module. */
#ifndef CAB_COMMON_FSUTIL_H
#define CAB_COMMON_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

/* Write BUF to DIRFD/PATH (AT_FDCWD allowed), O_WRONLY|O_CLOEXEC, no create.
 * Used for procfs and cgroupfs knobs. */
int cab_write_file_at(int dirfd, const char *path, const char *buf, cab_error *err);

/* Read at most MAX bytes of DIRFD/PATH into a NUL-terminated malloc'd buffer
 * (what is past MAX is left out). */
int cab_read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len,
                     cab_error *err);

enum {
  CAB_READ_NOFOLLOW = 1 << 0, /* PATH's last component must not be a symlink */
  CAB_READ_REGULAR = 1 << 1,  /* only a regular file: no FIFO that blocks, no device */
  CAB_READ_WHOLE = 1 << 2,    /* a file longer than MAX is an error (EFBIG), not cut */
  CAB_READ_OWN = 1 << 3,      /* a regular file owned by our effective uid and
                                 writable by no one else (EPERM otherwise): a
                                 cache whose content is trusted */
};

/* The one whole-file reader: cab_read_file_at with FLAGS; *TRUNCATED (may be
 * NULL) says whether the file went on past MAX. */
int cab_read_file(int dirfd, const char *path, size_t max, unsigned flags, char **out,
                  size_t *len, bool *truncated, cab_error *err);

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

/* What a directory tree costs on disk: BYTES sums, per entry (directories
 * included, hard links counted per name), the larger of the apparent size
 * and the allocated blocks, so that neither a sparse file (which a snapshot
 * would hash in full) nor preallocated blocks (which fill the disk) slip
 * through; INODES counts the entries.  No symlink is followed. */
struct cab_tree_usage {
  int64_t bytes;
  int64_t inodes;
  bool too_deep;      /* nested deeper than CAB_TREE_USAGE_DEPTH */
  bool unreadable;    /* a directory could not be opened even after
                         granting ourselves u+rx: counts as over */
};
#define CAB_TREE_USAGE_DEPTH 256

/* Measure the tree at PATH into U, stopping as soon as it exceeds MAX_BYTES
 * or MAX_INODES (0: no limit), so an over-budget tree costs no more than the
 * budget to measure.  Returns 1 when over (U then holds what was counted so
 * far, at least one past the limit; a tree nested too deep, or holding a
 * directory that cannot be opened, is over: what cannot be measured cannot
 * be within budget), 0 when
 * within, -1 when PATH does not exist.  Entries that vanish while walking
 * are skipped. */
int cab_tree_usage(const char *path, int64_t max_bytes, int64_t max_inodes,
                   struct cab_tree_usage *u);

/* What PARENT/NAME takes on disk (cab_tree_usage, no limit), 0 when it
 * cannot be measured: for reports of what a clean-up freed. */
int64_t cab_tree_bytes(const char *parent, const char *name);

/* Copy SIZE bytes of IN to OUT (both at offset 0, OUT empty) keeping holes:
 * only the data ranges (SEEK_DATA/SEEK_HOLE) are copied, with
 * copy_file_range (read/write where the kernel refuses it), then OUT is
 * sized to SIZE.  A 20 GiB sparse file costs a few syscalls, not 20 GiB of
 * zeros.  Returns -1 with errno on failure. */
int cab_copy_fd_sparse(int in, int out, off_t size);

/* "1.5 GiB", "300.0 MiB", "12 KiB", "17 B": for messages. */
void cab_format_bytes(int64_t bytes, char *buf, size_t size);

/* Monotonic clock in nanoseconds. */
int64_t cab_now_ns(void);

#endif
