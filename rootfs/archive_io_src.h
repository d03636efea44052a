/* Where cab import reads an archive's files from (internal): a directory
 * (opened beneath it, no escape) or a tar whose regular files were staged by
 * digest in one pass. */
#ifndef CAB_ROOTFS_ARCHIVE_IO_SRC_H
#define CAB_ROOTFS_ARCHIVE_IO_SRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/sha256.h"
#include "rootfs/store_write.h"

struct cab_tar_member {
  char *path;   /* normalised: no leading "./" or "/", no "..", no "//" */
  char *link;   /* symlink target or hard link path, else NULL */
  bool hardlink;
  char digest[CAB_DIGEST_LEN + 1]; /* regular files: staged as <hex> */
  int64_t size;
};

struct cab_src {
  int dirfd;    /* the layout directory, or -1 for a tar */
  cab_stage *stage;
  struct cab_tar_member *members;
  size_t n_members;
};

/* Read the tar at PATH (any compression libarchive knows) into ST. */
int cab_src_from_tar(struct cab_src *src, const char *path, cab_stage *st, cab_error *err);
int cab_src_from_dir(struct cab_src *src, const char *path, cab_stage *st, cab_error *err);
void cab_src_free(struct cab_src *src);

/* Open PATH (relative, inside the source) for reading. */
int cab_src_open(const struct cab_src *src, const char *path, int *fd, cab_error *err);
bool cab_src_exists(const struct cab_src *src, const char *path);
/* Read PATH, at most MAX bytes. */
int cab_src_read(const struct cab_src *src, const char *path, size_t max, char **out,
                 size_t *len, cab_error *err);

/* Normalise an archive path in place; -1 when it has ".." or is empty. */
int cab_path_normalise(char *path);

#endif
