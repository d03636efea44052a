/* Directory modes and times, set once the layer is written (as tar does):
 * a 0555 directory must still receive its entries, and writing an entry
 * changes its directory's mtime.  Each path is resolved again inside the
 * root and must still be the inode recorded, so a directory replaced by a
 * symlink later in the layer never has the symlink's target chmod-ed
 * (libarchive CVE-2021-31566). */
#include "rootfs/unpack_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"

int
cab_unpack_fixup_add(struct cab_unpack_ctx *ctx, const char *path, const struct stat *st,
                     mode_t mode, enum cab_fixup_kind kind, const struct timespec *times,
                     cab_error *err)
{
  if (ctx->n_fixups == ctx->cap_fixups) {
    size_t cap = ctx->cap_fixups ? ctx->cap_fixups * 2 : 256;
    struct cab_fixup *v = realloc(ctx->fixups, cap * sizeof *v);
    if (v == NULL)
      return cab_error_set(err, ENOMEM, "out of memory");
    ctx->fixups = v;
    ctx->cap_fixups = cap;
  }
  struct cab_fixup *f = &ctx->fixups[ctx->n_fixups];
  memset(f, 0, sizeof *f);
  if ((f->path = strdup(path)) == NULL)
    return cab_error_set(err, ENOMEM, "out of memory");
  f->dev = st->st_dev;
  f->ino = st->st_ino;
  f->mode = mode;
  f->kind = kind;
  if (times) {
    f->has_times = true;
    f->times[0] = times[0];
    f->times[1] = times[1];
  }
  f->seq = ctx->seq++;
  ctx->n_fixups++;
  return 0;
}

static int
depth(const char *p)
{
  if (*p == '\0')
    return 0;
  int d = 1;
  for (; *p; p++)
    d += *p == '/';
  return d;
}

/* Deepest first (a parent's restrictive mode must come after its children
 * are done); per path, a layer entry beats an implicit parent beats a
 * restore; the latest entry wins, and the earliest restore (the state
 * before the layer touched the directory). */
static int
cmp_fixup(const void *pa, const void *pb)
{
  const struct cab_fixup *a = pa, *b = pb;
  int da = depth(a->path), db = depth(b->path);
  if (da != db)
    return db - da;
  int c = strcmp(a->path, b->path);
  if (c != 0)
    return c;
  if (a->kind != b->kind)
    return (int)a->kind - (int)b->kind;
  int newest_first = a->seq < b->seq ? 1 : a->seq > b->seq ? -1 : 0;
  return a->kind == CAB_FIXUP_RESTORE ? -newest_first : newest_first;
}

/* 1 when applied, 0 when the path no longer holds the recorded inode. */
static int
apply_one(struct cab_unpack_ctx *ctx, const struct cab_fixup *f, cab_error *err)
{
  cleanup_close int fd = cab_openat2_in_root(ctx->root_fd, f->path,
                                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  struct stat st;
  if (fd < 0) {
    /* Removed or replaced by a non-directory later in the layer. */
    if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
      return 0;
    return cab_error_sys(err, "setting the mode of '/%s'", f->path);
  }
  if (fstat(fd, &st) < 0)
    return cab_error_sys(err, "stat '/%s'", f->path);
  if (st.st_dev != f->dev || st.st_ino != f->ino)
    return 0; /* another directory now: its own record, if any, applies */
  if (f->has_times && futimens(fd, f->times) < 0)
    return cab_error_sys(err, "setting the times of '/%s'", f->path);
  if ((st.st_mode & 07777) != f->mode && fchmod(fd, f->mode) < 0)
    return cab_error_sys(err, "setting the mode of '/%s' to %04o", f->path, (unsigned)f->mode);
  return 1;
}

int
cab_unpack_fixups_apply(struct cab_unpack_ctx *ctx, cab_error *err)
{
  qsort(ctx->fixups, ctx->n_fixups, sizeof *ctx->fixups, cmp_fixup);
  cab_unpack_cache_drop(ctx);
  const char *done = NULL; /* the path whose record was applied last */
  for (size_t i = 0; i < ctx->n_fixups; i++) {
    const struct cab_fixup *f = &ctx->fixups[i];
    if (done != NULL && strcmp(f->path, done) == 0)
      continue;
    int r = apply_one(ctx, f, err);
    if (r < 0)
      return -1;
    if (r > 0)
      done = f->path;
  }
  return 0;
}
