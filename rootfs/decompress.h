/* A layer's byte source for the unpacker: reads a file descriptor,
 * decompresses it (gzip, possibly multi-member, or zstd, possibly several
 * frames), hashes the decompressed bytes (the diff_id) and stops with an
 * error as soon as their count passes a cap.  Internal to rootfs/. */
#ifndef CAB_ROOTFS_DECOMPRESS_H
#define CAB_ROOTFS_DECOMPRESS_H

#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "rootfs/digest.h"
#include "rootfs/unpack.h"

struct cab_layer_reader;

int cab_layer_reader_new(int fd, enum cab_layer_compression c, int64_t max_bytes,
                         struct cab_layer_reader **out, cab_error *err);
void cab_layer_reader_free(struct cab_layer_reader *r);

/* Point *BUF at the next decompressed bytes (valid until the next call) and
 * return their count: 0 at the end of the stream, -1 with ERR filled. */
ssize_t cab_layer_reader_read(struct cab_layer_reader *r, const void **buf, cab_error *err);

/* Read (and hash) whatever is left, to the end of the stream. */
int cab_layer_reader_drain(struct cab_layer_reader *r, cab_error *err);

/* Decompressed bytes so far. */
int64_t cab_layer_reader_bytes(const struct cab_layer_reader *r);

/* After the end of the stream: "sha256:<hex>" of every decompressed byte.
 * OUT holds CAB_DIGEST_LEN + 1 bytes.  Call once. */
void cab_layer_reader_digest(struct cab_layer_reader *r, char *out);

#define cleanup_layer_reader __attribute__((cleanup(cab_layer_reader_freep)))
static inline void
cab_layer_reader_freep(struct cab_layer_reader **r)
{
  if (*r)
    cab_layer_reader_free(*r);
}

#endif
