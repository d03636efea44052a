/* Safe OCI layer unpacking.
 *
 * cab_layer_apply() extracts one layer tar (plain, gzip or zstd) onto a
 * directory, applying OCI whiteouts, and verifies the layer's diff_id (the
 * sha256 of the uncompressed tar stream, read to its very end) in the same
 * pass.  Every path is resolved with openat2(RESOLVE_IN_ROOT) relative to
 * the root fd; no entry can create, change or delete anything outside it.
 *
 * Policy, in short (details in unpack.c):
 *  - names: a leading "/" is stripped (neutralised); ".." that would climb
 *    above the root rejects the layer; "." may only be a directory.
 *  - hardlink targets are resolved inside the root; symlinks are created,
 *    never followed; an existing leaf is replaced, never written through.
 *  - char/block devices become empty mode-000 regular files (always, root
 *    or not); FIFOs are made.  xattrs: only user.* is kept (user.overlay.*
 *    and user.cab.* are dropped too).
 *  - owners: as root, chown (EPERM/EINVAL, e.g. ids unmapped in a user
 *    namespace, are tolerated).  Rootless (euid != 0, or lim->rootless):
 *    no chown at all; 0:0 means the invoking user, any other owner is
 *    counted (chown_failures) and recorded as "uid:gid" in the
 *    user.cab.owner xattr when the filesystem has user xattrs.  setuid and
 *    setgid bits of non-directories are kept only when the owner really
 *    was applied (so: stripped rootless), and never with lim->strip_setid.  Directories their owner cannot
 *    write or search (0555, 000) get u+rwx while the layer needs them and
 *    their mode back at its end.
 *  - directory modes and mtimes are set after the layer (deepest first,
 *    re-resolved, inode-checked); a lower directory the layer changed
 *    without listing it gets its mode and mtime back, as umoci does.
 *  - errors: "layer entry N 'NAME': ..." or "layer: ..."; a diff_id
 *    mismatch reads "layer: diff_id mismatch: got X expected Y"; callers
 *    prefix the blob digest.
 *  - limits: the uncompressed stream, the sum of regular files' apparent
 *    sizes, the entry count and the path length are capped; the byte cap
 *    trips while decompressing (a bomb ends in an error, not a full disk).
 *
 * On failure the root directory is left half-written: the caller deletes
 * it, e.g. with cab_rm_tree_at (common/rm_tree.h; cab never repairs a partial tree).
 * Decompression and hashing run on one worker thread, joined before
 * cab_layer_apply returns; rootfs/ starts no process. */
#ifndef CAB_ROOTFS_UNPACK_H
#define CAB_ROOTFS_UNPACK_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

#define CAB_UNPACK_DEFAULT_MAX_BYTES (16LL << 30) /* 16 GiB */
#define CAB_UNPACK_DEFAULT_MAX_ENTRIES 2000000LL
#define CAB_UNPACK_DEFAULT_MAX_PATH 4096

struct cab_unpack_limits {
  int64_t max_total_bytes; /* uncompressed tar bytes; also sum of file sizes */
  int64_t max_entries;     /* tar entries, whiteouts included */
  int max_path_len;        /* bytes of an entry name or link target */
  bool rootless;           /* behave as unprivileged even when euid is 0 */
  bool strip_setid;        /* drop setuid/setgid of every non-directory, even
                              as root (cab unpack without --keep-setuid) */
};

struct cab_unpack_stats {
  int64_t entries;               /* tar entries read */
  int64_t bytes;                 /* apparent bytes of regular files */
  int64_t stream_bytes;          /* uncompressed tar stream bytes */
  int64_t whiteouts;             /* .wh. entries applied (opaque included) */
  int64_t hardlinks;
  int64_t devices_placeholdered; /* char/block devices made empty 000 files */
  int64_t chown_failures;        /* owners not applied (recorded if possible) */
  int64_t owners_recorded;       /* user.cab.owner xattrs written */
  int64_t xattrs_dropped;        /* filtered or refused xattrs */
  int64_t setid_stripped;        /* setuid/setgid bits removed (rootless, or
                                    lim->strip_setid) */
  int64_t names_neutralised;     /* absolute names made relative */
};

/* The owner xattr written when a chown could not be done: "uid:gid". */
#define CAB_UNPACK_OWNER_XATTR "user.cab.owner"

enum cab_layer_compression { CAB_LAYER_TAR, CAB_LAYER_GZIP, CAB_LAYER_ZSTD };

/* Defaults: 16 GiB, 2M entries, 4096 bytes, rootless iff euid != 0. */
void cab_unpack_limits_default(struct cab_unpack_limits *lim);

/* Map an OCI/Docker layer media type to its compression.  Foreign and
 * unknown types are errors. */
int cab_layer_compression_from_media_type(const char *media_type,
                                          enum cab_layer_compression *out, cab_error *err);

/* Apply one layer, read from LAYER_FD (any readable fd, read sequentially to
 * EOF), onto the directory ROOT_FD.  EXPECTED_DIFF_ID is "sha256:<hex>" or
 * NULL to skip the check.  LIM NULL means the defaults; STATS may be NULL
 * and is added to (zero it first).  Returns 0, or -1 with ERR filled. */
int cab_layer_apply(int root_fd, int layer_fd, enum cab_layer_compression c,
                    const char *expected_diff_id, const struct cab_unpack_limits *lim,
                    struct cab_unpack_stats *stats, cab_error *err);

#endif
