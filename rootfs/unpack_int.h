/* Internals of the layer unpacker, shared by rootfs/unpack*.c only. */
#ifndef CAB_ROOTFS_UNPACK_INT_H
#define CAB_ROOTFS_UNPACK_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "common/error.h"
#include "common/fchmod.h"
#include "rootfs/unpack.h"

struct archive;
struct archive_entry;

/* ---- unpack_path.c: names and in-root resolution --------------------- */

/* Lexically clean RAW into OUT (at least strlen(RAW) + 1 bytes): no leading
 * "/", no "." or empty components, ".." folded.  "" is the root.  Sets
 * *ABSOLUTE when a leading "/" was stripped.  Returns -1 (ERR filled, with
 * WHAT naming the field) when ".." would climb above the root. */
int cab_unpack_clean(const char *raw, const char *what, char *out, bool *absolute,
                     cab_error *err);

/* Split a cleaned, non-empty PATH in place: *LEAF points after the last
 * "/", PATH keeps the parent ("" for the root). */
void cab_unpack_split(char *path, char **leaf);

/* openat2(ROOT, PATH, FLAGS, RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS|
 * RESOLVE_NO_XDEV); "" is the root itself.  Returns an fd or -1 (errno). */
int cab_openat2_in_root(int root_fd, const char *path, int flags);

/* ---- unpack_set.c: the set of paths a layer wrote ---------------------- */

struct cab_pathset {
  char **slots;
  size_t cap, len;
};
/* Add PATH and all its ancestors.  Returns -1 on ENOMEM. */
int cab_pathset_add(struct cab_pathset *s, const char *path);
/* Add PATH alone ("" allowed). */
int cab_pathset_add_one(struct cab_pathset *s, const char *path);
bool cab_pathset_has(const struct cab_pathset *s, const char *path);
void cab_pathset_clear(struct cab_pathset *s);

/* ---- the per-layer state ------------------------------------------------- */

/* Per path, the first kind listed wins. */
enum cab_fixup_kind {
  CAB_FIXUP_ENTRY,    /* a directory entry of this layer: mode + times */
  CAB_FIXUP_IMPLICIT, /* a parent we created: 0755 whatever the umask */
  CAB_FIXUP_RESTORE,  /* a lower directory we changed: its mode and times
                       * back, as umoci does (the earliest record wins) */
};

struct cab_fixup {
  char *path;
  dev_t dev;
  ino_t ino;
  mode_t mode;
  enum cab_fixup_kind kind;
  bool has_times;
  struct timespec times[2];
  uint64_t seq;
};

struct cab_unpack_ctx {
  int root_fd;
  const struct cab_unpack_limits *lim;
  struct cab_unpack_stats *st;
  bool privileged;      /* chown for real; euid 0 and not lim->rootless */
  bool owner_xattr_ok;  /* user.cab.owner still worth trying */
  struct cab_pathset upper;
  struct cab_pathset touched; /* directories with a RESTORE record */
  struct cab_fixup *fixups;
  size_t n_fixups, cap_fixups;
  uint64_t seq;
  /* The last parent directory opened, reused by the next entry in it. */
  char *cache_path;
  int cache_fd;
};

void cab_unpack_ctx_release(struct cab_unpack_ctx *ctx);

/* Drop the parent-directory cache (after anything was removed). */
void cab_unpack_cache_drop(struct cab_unpack_ctx *ctx);

/* Open the directory PATH (cleaned) inside the root as an O_PATH fd, which
 * the caller closes.  With CREATE, missing components are made (0755).
 * Directories the caller cannot search are made u+rwx (restored at the end
 * of the layer).  Sets *FD to -1 (and returns 0) when PATH does not exist
 * and CREATE is false. */
int cab_unpack_open_dir(struct cab_unpack_ctx *ctx, const char *path, bool create, int *fd,
                        cab_error *err);

/* DIRFD (path DIRPATH) refused a change with EACCES: give it u+rwx, to be
 * restored at the end of the layer.  Returns 1 when something changed (retry),
 * 0 when the directory already had u+rwx, -1 on error. */
int cab_unpack_make_writable(struct cab_unpack_ctx *ctx, int dirfd, const char *dirpath,
                             cab_error *err);

/* The names in the directory FD (O_PATH allowed), "." and ".." left out,
 * read in full before anything is removed (removing while reading may skip
 * names).  Free with cab_names_free, also after an error. */
struct cab_names {
  char **v;
  size_t n, cap;
};
int cab_names_list(int fd, struct cab_names *l, cab_error *err);
void cab_names_free(struct cab_names *l);

/* ---- unpack_fixup.c ------------------------------------------------------ */

int cab_unpack_fixup_add(struct cab_unpack_ctx *ctx, const char *path, const struct stat *st,
                         mode_t mode, enum cab_fixup_kind kind, const struct timespec *times,
                         cab_error *err);
/* Apply modes and times, deepest first, re-resolving each path in the root
 * and skipping any whose inode is no longer the one recorded. */
int cab_unpack_fixups_apply(struct cab_unpack_ctx *ctx, cab_error *err);

/* ---- unpack_whiteout.c --------------------------------------------------- */

/* True when LEAF names a whiteout (".wh." prefix). */
bool cab_unpack_is_whiteout(const char *leaf);
/* Apply the whiteout PARENT/LEAF (PATH is "PARENT/LEAF", for messages). */
int cab_unpack_whiteout(struct cab_unpack_ctx *ctx, const char *parent, const char *leaf,
                        cab_error *err);

/* ---- unpack_entry.c ------------------------------------------------------ */

/* Create one non-whiteout entry at PATH (cleaned; "" is the root). */
int cab_unpack_entry(struct cab_unpack_ctx *ctx, struct archive *a, struct archive_entry *e,
                     const char *path, cab_error *err);

#endif
