/* OCI whiteouts (image-spec layer.md): ".wh.NAME" removes NAME from the
 * lower layers, ".wh..wh..opq" empties its directory of lower content.
 * What the current layer wrote itself (ctx->upper) is spared, whatever the
 * order of entries, as umoci does.  Other ".wh..wh." names (aufs metadata)
 * are ignored; a bare ".wh." and ".wh.." / ".wh..." are rejected. */
#include "rootfs/unpack_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/rm_tree.h"

#define WH_PREFIX ".wh."
#define WH_META ".wh..wh."
#define WH_OPAQUE ".wh..wh..opq"

bool
cab_unpack_is_whiteout(const char *leaf)
{
  return strncmp(leaf, WH_PREFIX, sizeof WH_PREFIX - 1) == 0;
}

static int remove_lower(struct cab_unpack_ctx *ctx, int dirfd, const char *dirpath,
                        const char *name, cab_error *err);

/* Remove the lower-layer content of the directory DFD (O_PATH; path PATH). */
static int
clear_lower(struct cab_unpack_ctx *ctx, int dfd, const char *path, cab_error *err)
{
  struct cab_names l = { 0 };
  int r = cab_names_list(dfd, &l, err);
  if (r < 0 && err->errnum == EACCES) {
    cab_names_free(&l);
    l = (struct cab_names){ 0 };
    r = cab_unpack_make_writable(ctx, dfd, path, err);
    if (r > 0)
      r = cab_names_list(dfd, &l, err);
    else if (r == 0)
      r = cab_error_set(err, EACCES, "reading '/%s'", path);
  }
  for (size_t i = 0; r == 0 && i < l.n; i++)
    r = remove_lower(ctx, dfd, path, l.v[i], err);
  cab_names_free(&l);
  return r;
}

/* Remove DIRFD/NAME unless this layer wrote it; in a directory this layer
 * wrote (or wrote below), remove only the lower content. */
static int
remove_lower(struct cab_unpack_ctx *ctx, int dirfd, const char *dirpath, const char *name,
             cab_error *err)
{
  cleanup_free char *path = NULL;
  if (asprintf(&path, "%s%s%s", dirpath, *dirpath ? "/" : "", name) < 0)
    return cab_error_set(err, ENOMEM, "out of memory");
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : cab_error_sys(err, "stat '/%s'", path);
  if (cab_pathset_has(&ctx->upper, path)) {
    if (!S_ISDIR(st.st_mode))
      return 0;
    cleanup_close int fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
      return cab_error_sys(err, "opening '/%s'", path);
    return clear_lower(ctx, fd, path, err);
  }
  for (int attempt = 0;; attempt++) {
    if (cab_rm_tree_at(dirfd, name, 0, err) == 0)
      return 0;
    if (err->errnum != EACCES || attempt > 0)
      return cab_error_prefix(err, "whiteout of '/%s'", path);
    int r = cab_unpack_make_writable(ctx, dirfd, dirpath, err);
    if (r <= 0)
      return r < 0 ? -1 : cab_error_set(err, EACCES, "whiteout of '/%s'", path);
  }
}

int
cab_unpack_whiteout(struct cab_unpack_ctx *ctx, const char *parent, const char *leaf,
                    cab_error *err)
{
  bool opaque = strcmp(leaf, WH_OPAQUE) == 0;
  const char *name = leaf + sizeof WH_PREFIX - 1;
  if (!opaque && strncmp(leaf, WH_META, sizeof WH_META - 1) == 0)
    return 0; /* aufs metadata (.wh..wh.plnk, .wh..wh.aufs): not content */
  if (*name == '\0')
    return cab_error_set(err, EINVAL, "a bare '.wh.' whiteout is invalid (image-spec); rejected");
  if (!opaque && (strcmp(name, ".") == 0 || strcmp(name, "..") == 0))
    return cab_error_set(err, EINVAL, "whiteout '%s' names '%s'; rejected", leaf, name);

  /* Removing anything may invalidate the cached parent directory. */
  cab_unpack_cache_drop(ctx);
  int dirfd = -1;
  if (cab_unpack_open_dir(ctx, parent, false, &dirfd, err) < 0)
    return -1;
  cleanup_close int dfd = dirfd;
  cab_unpack_cache_drop(ctx);
  if (dfd < 0)
    return 0; /* nothing below a missing directory to hide */
  ctx->st->whiteouts++;
  if (opaque)
    return clear_lower(ctx, dfd, parent, err); /* the directory itself stays */
  return remove_lower(ctx, dfd, parent, name, err);
}
