/* The decoder: read, decompress, hash and cap, in one pass over a layer
 * blob, single-threaded (rootfs/layer_reader.c runs it on a worker thread). */
#include "rootfs/decompress.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define IN_SIZE (256 * 1024)

struct cab_decoder {
  int fd;
  enum cab_layer_compression c;
  int64_t max_bytes;
  int64_t total;          /* decompressed bytes handed out */
  struct cab_sha256 *hash;
  bool in_eof;            /* the fd returned 0 */
  bool out_eof;           /* the stream ended cleanly */
  bool gz_member_end;     /* between gzip members */
  bool zstd_frame_open;   /* inside a zstd frame */
  bool z_ready;
  z_stream z;
  ZSTD_DCtx *zd;
  size_t in_pos, in_len;  /* unread input is in[in_pos, in_len) */
  unsigned char *in;
  unsigned char *out;     /* the caller's buffer for this fill */
  size_t out_size;
};

static const char *
comp_name(enum cab_layer_compression c)
{
  return c == CAB_LAYER_GZIP ? "gzip" : c == CAB_LAYER_ZSTD ? "zstd" : "tar";
}

int
cab_decoder_new(int fd, enum cab_layer_compression c, int64_t max_bytes, struct cab_decoder **out,
                cab_error *err)
{
  struct cab_decoder *r = calloc(1, sizeof *r);
  if (r == NULL)
    return cab_error_set(err, ENOMEM, "layer reader: out of memory");
  r->fd = fd;
  r->c = c;
  r->max_bytes = max_bytes;
  r->hash = cab_sha256_new();
  r->in = malloc(IN_SIZE);
  if (r->hash == NULL || r->in == NULL) {
    cab_decoder_free(r);
    return cab_error_set(err, ENOMEM, "layer reader: out of memory");
  }
  if (c == CAB_LAYER_GZIP) {
    /* 15 + 16: a gzip header and trailer (CRC32, ISIZE) are required. */
    if (inflateInit2(&r->z, 15 + 16) != Z_OK) {
      cab_decoder_free(r);
      return cab_error_set(err, ENOMEM, "layer reader: inflateInit2 failed");
    }
    r->z_ready = true;
  } else if (c == CAB_LAYER_ZSTD) {
    r->zd = ZSTD_createDCtx();
    if (r->zd == NULL) {
      cab_decoder_free(r);
      return cab_error_set(err, ENOMEM, "layer reader: ZSTD_createDCtx failed");
    }
    /* The default window cap (128 MiB) bounds memory; keep it explicit. */
    ZSTD_DCtx_setParameter(r->zd, ZSTD_d_windowLogMax, 27);
  }
  *out = r;
  return 0;
}

void
cab_decoder_free(struct cab_decoder *r)
{
  if (r == NULL)
    return;
  if (r->hash) {
    char discard[CAB_DIGEST_LEN + 1];
    cab_sha256_final(r->hash, discard);
  }
  if (r->z_ready)
    inflateEnd(&r->z);
  ZSTD_freeDCtx(r->zd);
  free(r->in);
  free(r);
}

/* Make at least one unread input byte available, unless at EOF.  Returns
 * 1 when bytes are available, 0 at EOF, -1 on error. */
static int
fill_input(struct cab_decoder *r, cab_error *err)
{
  if (r->in_pos < r->in_len)
    return 1;
  if (r->in_eof)
    return 0;
  for (;;) {
    ssize_t n = read(r->fd, r->in, IN_SIZE);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return cab_error_sys(err, "layer: reading the %s blob", comp_name(r->c));
    r->in_pos = 0;
    r->in_len = (size_t)n;
    if (n == 0) {
      r->in_eof = true;
      return 0;
    }
    return 1;
  }
}

/* Fill r->out with some gzip output; returns the byte count, 0 at the end. */
static ssize_t
gzip_step(struct cab_decoder *r, cab_error *err)
{
  uInt size = (uInt)r->out_size;
  r->z.next_out = r->out;
  r->z.avail_out = size;
  while (r->z.avail_out == size) {
    int have = fill_input(r, err);
    if (have < 0)
      return -1;
    if (r->gz_member_end) {
      /* Between members: the end, or another member.  Anything else is
       * trailing garbage, which Go's gzip reader refuses as well. */
      if (have == 0) {
        r->out_eof = true;
        return 0;
      }
      if (r->in[r->in_pos] != 0x1f)
        return cab_error_set(err, EINVAL,
                             "layer: trailing garbage after the gzip data; the blob is corrupt");
      inflateReset(&r->z);
      r->gz_member_end = false;
    } else if (have == 0) {
      if (r->total == 0 && r->z.total_in == 0)
        return cab_error_set(err, EINVAL, "layer: the gzip blob is empty");
      return cab_error_set(err, EINVAL,
                           "layer: the gzip stream is truncated (%lld bytes decompressed); "
                           "the blob is incomplete",
                           (long long)r->total);
    }
    r->z.next_in = r->in + r->in_pos;
    r->z.avail_in = (uInt)(r->in_len - r->in_pos);
    int zr = inflate(&r->z, Z_NO_FLUSH);
    r->in_pos = r->in_len - r->z.avail_in;
    if (zr == Z_STREAM_END)
      r->gz_member_end = true;
    else if (zr == Z_BUF_ERROR && r->in_pos == r->in_len)
      continue; /* needs more input */
    else if (zr != Z_OK)
      return cab_error_set(err, EINVAL, "layer: corrupt gzip data (%s)",
                           r->z.msg ? r->z.msg : zError(zr));
  }
  return (ssize_t)(size - r->z.avail_out);
}

static ssize_t
zstd_step(struct cab_decoder *r, cab_error *err)
{
  ZSTD_outBuffer ob = { r->out, r->out_size, 0 };
  while (ob.pos == 0) {
    int have = fill_input(r, err);
    if (have < 0)
      return -1;
    if (have == 0) {
      if (r->zstd_frame_open)
        return cab_error_set(err, EINVAL,
                             "layer: the zstd stream is truncated (%lld bytes decompressed); "
                             "the blob is incomplete",
                             (long long)r->total);
      if (r->total == 0)
        return cab_error_set(err, EINVAL, "layer: the zstd blob is empty");
      r->out_eof = true;
      return 0;
    }
    ZSTD_inBuffer ib = { r->in, r->in_len, r->in_pos };
    size_t zr = ZSTD_decompressStream(r->zd, &ob, &ib);
    r->in_pos = ib.pos;
    if (ZSTD_isError(zr))
      return cab_error_set(err, EINVAL, "layer: corrupt zstd data (%s)", ZSTD_getErrorName(zr));
    r->zstd_frame_open = zr != 0;
  }
  return (ssize_t)ob.pos;
}

static ssize_t
plain_step(struct cab_decoder *r, cab_error *err)
{
  for (;;) {
    ssize_t n = read(r->fd, r->out, r->out_size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return cab_error_sys(err, "layer: reading the tar blob");
    if (n == 0)
      r->out_eof = true;
    return n;
  }
}

ssize_t
cab_decoder_fill(struct cab_decoder *r, unsigned char *buf, size_t size, cab_error *err)
{
  if (r->out_eof)
    return 0;
  r->out = buf;
  r->out_size = size;
  ssize_t n = r->c == CAB_LAYER_GZIP   ? gzip_step(r, err)
              : r->c == CAB_LAYER_ZSTD ? zstd_step(r, err)
                                       : plain_step(r, err);
  if (n <= 0)
    return n;
  if (r->total + n > r->max_bytes)
    return cab_error_set(err, EFBIG,
                         "layer: the uncompressed stream passes the limit of %lld bytes "
                         "(a decompression bomb?); raise the unpack byte limit if the image "
                         "is genuine",
                         (long long)r->max_bytes);
  r->total += n;
  cab_sha256_update(r->hash, buf, (size_t)n);
  return n;
}

int64_t
cab_decoder_bytes(const struct cab_decoder *r)
{
  return r->total;
}

void
cab_decoder_digest(struct cab_decoder *r, char *out)
{
  cab_sha256_final(r->hash, out);
  r->hash = NULL;
}
