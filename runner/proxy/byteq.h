/* A byte queue: bytes put at the end, taken from the front.  The buffer
 * grows by doubling and reclaims its taken front before it grows, so bytes
 * passed through cost about what is pending, not all that went by.  The
 * pending bytes are always followed by a NUL (a body buffered whole can be
 * parsed in place).  The proxy's buffers between upstream, translation,
 * redaction and the client are all one of these. */
#ifndef CAB_PROXY_BYTEQ_H
#define CAB_PROXY_BYTEQ_H

#include <stddef.h>

struct cab_byteq {
  char *data; /* NULL until the first byte */
  size_t len; /* bytes in DATA, taken ones included */
  size_t off; /* bytes taken from the front */
  size_t cap;
};

/* Append N bytes of DATA: 0, or -1 out of memory (Q unchanged). */
int cab_byteq_put(struct cab_byteq *q, const char *data, size_t n);
/* cab_byteq_put for a callback that takes a void * (a cab_redact_sink). */
int cab_byteq_sink(void *q, const char *data, size_t n);
/* Up to MAX pending bytes into BUF; 0 when none are pending. */
size_t cab_byteq_take(struct cab_byteq *q, char *buf, size_t max);
/* Forget the pending bytes and keep the buffer (a retried transfer). */
void cab_byteq_reset(struct cab_byteq *q);
void cab_byteq_clear(struct cab_byteq *q);

#endif
