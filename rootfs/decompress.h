/* A layer's byte source for the unpacker.  Internal to rootfs/.
 *
 * The decoder reads a file descriptor, decompresses it (gzip, possibly
 * multi-member, or zstd, possibly several frames), hashes the decompressed
 * bytes (the diff_id) and fails as soon as their count passes a cap.
 *
 * The layer reader runs a decoder on one worker thread, a few buffers
 * ahead of the tar parser, so that decompression and hashing overlap with
 * writing files (as "tar -xzf" overlaps gzip and tar).  The thread is
 * joined by cab_layer_reader_free, so the process is single-threaded again
 * when cab_layer_apply returns (unshare(CLONE_NEWUSER) needs that). */
#ifndef CAB_ROOTFS_DECOMPRESS_H
#define CAB_ROOTFS_DECOMPRESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "common/sha256.h"
#include "rootfs/unpack.h"

/* ---- decompress.c: single-threaded ---------------------------------------- */

struct cab_decoder;

int cab_decoder_new(int fd, enum cab_layer_compression c, int64_t max_bytes,
                    struct cab_decoder **out, cab_error *err);
void cab_decoder_free(struct cab_decoder *d);

/* Decompress the next bytes into BUF (SIZE bytes at most): their count,
 * 0 at the end of the stream, -1 with ERR filled. */
ssize_t cab_decoder_fill(struct cab_decoder *d, unsigned char *buf, size_t size, cab_error *err);

/* Decompressed bytes so far. */
int64_t cab_decoder_bytes(const struct cab_decoder *d);

/* After the end: "sha256:<hex>" of every decompressed byte; call once. */
void cab_decoder_digest(struct cab_decoder *d, char *out);

/* ---- layer_reader.c: the decoder on a worker thread ------------------------ */

struct cab_layer_reader;

int cab_layer_reader_new(int fd, enum cab_layer_compression c, int64_t max_bytes,
                         struct cab_layer_reader **out, cab_error *err);
/* Stops and joins the worker, wherever it is. */
void cab_layer_reader_free(struct cab_layer_reader *r);

/* Point *BUF at the next decompressed bytes (valid until the next call) and
 * return their count: 0 at the end of the stream, -1 with ERR filled. */
ssize_t cab_layer_reader_read(struct cab_layer_reader *r, const void **buf, cab_error *err);

/* Read (and so hash) whatever is left, to the end of the stream. */
int cab_layer_reader_drain(struct cab_layer_reader *r, cab_error *err);

/* After the end of the stream (read returned 0): the byte count and the
 * digest (OUT holds CAB_DIGEST_LEN + 1 bytes; call once). */
int64_t cab_layer_reader_bytes(struct cab_layer_reader *r);
void cab_layer_reader_digest(struct cab_layer_reader *r, char *out);

#define cleanup_layer_reader __attribute__((cleanup(cab_layer_reader_freep)))
static inline void
cab_layer_reader_freep(struct cab_layer_reader **r)
{
  if (*r)
    cab_layer_reader_free(*r);
}

#endif
