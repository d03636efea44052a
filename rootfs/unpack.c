/* Layer application: the tar read loop (libarchive's reader only, fed by
 * our own decompress-hash-cap source), limits, whiteouts vs. entries, the
 * directory fixups and the diff_id check.  See unpack.h for the policy. */
#include "rootfs/unpack.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/lazy_archive.h"
#include "common/stopsig.h"
#include "rootfs/decompress.h"
#include "common/sha256.h"
#include "rootfs/unpack_int.h"

void
cab_unpack_limits_default(struct cab_unpack_limits *lim)
{
  lim->max_total_bytes = CAB_UNPACK_DEFAULT_MAX_BYTES;
  lim->max_entries = CAB_UNPACK_DEFAULT_MAX_ENTRIES;
  lim->max_path_len = CAB_UNPACK_DEFAULT_MAX_PATH;
  lim->rootless = geteuid() != 0;
  lim->strip_setid = false;
}

int
cab_layer_compression_from_media_type(const char *media_type, enum cab_layer_compression *out,
                                      cab_error *err)
{
  static const struct {
    const char *type;
    enum cab_layer_compression c;
  } known[] = {
    { "application/vnd.oci.image.layer.v1.tar", CAB_LAYER_TAR },
    { "application/vnd.oci.image.layer.v1.tar+gzip", CAB_LAYER_GZIP },
    { "application/vnd.oci.image.layer.v1.tar+zstd", CAB_LAYER_ZSTD },
    { "application/vnd.docker.image.rootfs.diff.tar", CAB_LAYER_TAR },
    { "application/vnd.docker.image.rootfs.diff.tar.gzip", CAB_LAYER_GZIP },
    { "application/vnd.docker.image.rootfs.diff.tar.zstd", CAB_LAYER_ZSTD },
  };
  if (media_type == NULL)
    return cab_error_set(err, EINVAL, "layer has no media type");
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
    if (strcmp(media_type, known[i].type) == 0) {
      *out = known[i].c;
      return 0;
    }
  if (strstr(media_type, "foreign") || strstr(media_type, "nondistributable"))
    return cab_error_set(err, ENOTSUP,
                         "layer media type '%.128s' is a foreign (non-distributable) layer; "
                         "cab cannot use such images",
                         media_type);
  return cab_error_set(err, ENOTSUP,
                       "unknown layer media type '%.128s'; expected an OCI or Docker tar, "
                       "tar+gzip or tar+zstd layer",
                       media_type);
}

/* The libarchive client data: our byte source and where its error goes. */
struct source {
  struct cab_layer_reader *reader;
  cab_error err;
  bool failed;
};

static la_ssize_t
source_read(struct archive *a, void *data, const void **buf)
{
  struct source *s = data;
  ssize_t n = cab_layer_reader_read(s->reader, buf, &s->err);
  if (n < 0) {
    s->failed = true;
    archive_set_error(a, s->err.errnum ? s->err.errnum : EIO, "%s", s->err.message);
  }
  return n;
}

static void
archive_freep(struct archive **a)
{
  if (*a)
    archive_read_free(*a);
}

void
cab_unpack_ctx_release(struct cab_unpack_ctx *ctx)
{
  cab_unpack_cache_drop(ctx);
  cab_pathset_clear(&ctx->upper);
  cab_pathset_clear(&ctx->touched);
  for (size_t i = 0; i < ctx->n_fixups; i++)
    free(ctx->fixups[i].path);
  free(ctx->fixups);
  ctx->fixups = NULL;
  ctx->n_fixups = ctx->cap_fixups = 0;
}

/* Report a libarchive failure, preferring our source's own error. */
static int
archive_failure(struct archive *a, struct source *src, const char *when, cab_error *err)
{
  if (src->failed) {
    *err = src->err;
    return -1;
  }
  return cab_error_set(err, archive_errno(a) > 0 ? archive_errno(a) : EINVAL,
                       "layer: %s: %s (not a valid tar stream?)", when,
                       archive_error_string(a) ? archive_error_string(a) : "unknown error");
}

static int
apply_entries(struct cab_unpack_ctx *ctx, struct archive *a, struct source *src, cab_error *err)
{
  struct archive_entry *e;
  for (;;) {
    int r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF)
      return 0;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) /* RETRY: a damaged header */
      return archive_failure(a, src, "reading an entry header", err);
    /* A run-cell that blocks stop signals (^C) gives up a long unpack
     * early; its partial tree is removed like any failed unpack's. */
    if ((ctx->st->entries & 255) == 255 && cab_stopsig_pending())
      return cab_error_set(err, EINTR, "layer: unpack stopped by a signal");
    if (++ctx->st->entries > ctx->lim->max_entries)
      return cab_error_set(err, E2BIG,
                           "layer: more than %lld entries; rejected (raise the unpack entry "
                           "limit if the image is genuine)",
                           (long long)ctx->lim->max_entries);
    const char *raw = archive_entry_pathname(e);
    if (raw == NULL)
      raw = archive_entry_pathname_utf8(e);
    if (raw == NULL || *raw == '\0')
      return cab_error_set(err, EINVAL, "layer entry %lld has no name; rejected",
                           (long long)ctx->st->entries);
    size_t len = strlen(raw);
    if (len > (size_t)ctx->lim->max_path_len)
      return cab_error_set(err, ENAMETOOLONG,
                           "layer entry %lld: its name is %zu bytes long, more than the limit "
                           "of %d; rejected ('%.80s...')",
                           (long long)ctx->st->entries, len, ctx->lim->max_path_len, raw);
    cleanup_free char *path = malloc(len + 2);
    if (path == NULL)
      return cab_error_set(err, ENOMEM, "out of memory");
    bool absolute;
    if (cab_unpack_clean(raw, "name", path, &absolute, err) < 0)
      return cab_error_prefix(err, "layer entry %lld", (long long)ctx->st->entries);
    if (absolute)
      ctx->st->names_neutralised++;

    const char *slash = strrchr(path, '/');
    const char *leaf = slash ? slash + 1 : path;
    if (cab_unpack_is_whiteout(leaf)) {
      size_t plen = (size_t)(leaf - path);
      cleanup_free char *parent = strndup(path, plen > 0 ? plen - 1 : 0);
      if (parent == NULL)
        return cab_error_set(err, ENOMEM, "out of memory");
      r = cab_unpack_whiteout(ctx, parent, leaf, err);
    } else {
      r = cab_unpack_entry(ctx, a, e, path, err);
    }
    if (r < 0) {
      if (src->failed) /* the stream broke while reading the entry's data */
        *err = src->err;
      return cab_error_prefix(err, "layer entry %lld '%.300s'", (long long)ctx->st->entries,
                              raw);
    }
  }
}

int
cab_layer_apply(int root_fd, int layer_fd, enum cab_layer_compression c,
                const char *expected_diff_id, const struct cab_unpack_limits *lim,
                struct cab_unpack_stats *stats, cab_error *err)
{
  struct cab_unpack_limits deflim;
  struct cab_unpack_stats dummy = { 0 };
  if (lim == NULL) {
    cab_unpack_limits_default(&deflim);
    lim = &deflim;
  }
  if (stats == NULL)
    stats = &dummy;
  if (expected_diff_id && cab_digest_check(expected_diff_id, "layer diff_id", err) < 0)
    return -1;
  if (lim->max_total_bytes <= 0 || lim->max_entries <= 0 || lim->max_path_len <= 0)
    return cab_error_set(err, EINVAL, "unpack limits must be positive");
  struct stat st;
  if (fstat(root_fd, &st) < 0 || !S_ISDIR(st.st_mode))
    return cab_error_set(err, ENOTDIR, "layer: the unpack target is not a directory");

  cleanup_layer_reader struct cab_layer_reader *reader = NULL;
  if (cab_layer_reader_new(layer_fd, c, lim->max_total_bytes, &reader, err) < 0)
    return -1;
  struct source src = { .reader = reader };
  if (cab_archive_load(err) < 0)
    return -1;
  __attribute__((cleanup(archive_freep))) struct archive *a = archive_read_new();
  if (a == NULL)
    return cab_error_set(err, ENOMEM, "archive_read_new failed");
  /* tar in all its dialects (ustar, pax, GNU), no filter: we decompress. */
  archive_read_support_format_tar(a);
  if (archive_read_open(a, &src, NULL, source_read, NULL) != ARCHIVE_OK)
    return archive_failure(a, &src, "opening the tar stream", err);

  __attribute__((cleanup(cab_unpack_ctx_release))) struct cab_unpack_ctx ctx = {
    .root_fd = root_fd,
    .lim = lim,
    .st = stats,
    .privileged = geteuid() == 0 && !lim->rootless,
    .owner_xattr_ok = true,
    .cache_fd = -1,
  };
  if (apply_entries(&ctx, a, &src, err) < 0)
    return -1;
  /* The diff_id covers the whole stream, also past the end-of-archive
   * blocks, and a bomb of trailing zeros still meets the byte cap. */
  if (cab_layer_reader_drain(reader, err) < 0)
    return -1;
  stats->stream_bytes += cab_layer_reader_bytes(reader);
  char got[CAB_DIGEST_LEN + 1];
  cab_layer_reader_digest(reader, got);
  if (expected_diff_id && strcmp(got, expected_diff_id) != 0)
    return cab_error_set(err, EILSEQ,
                         "layer: diff_id mismatch: got %s expected %s (the blob does not "
                         "match the image config: corrupt or tampered)",
                         got, expected_diff_id);
  return cab_unpack_fixups_apply(&ctx, err);
}
