/* The proxy's byte queue (byteq.h). */
#include "runner/proxy/byteq.h"

#include <stdlib.h>
#include <string.h>

int
cab_byteq_put(struct cab_byteq *q, const char *data, size_t n)
{
  if (q->off > 0 && q->off == q->len)
    q->off = q->len = 0;
  if (q->len + n + 1 > q->cap) {
    if (q->off > 0) {
      memmove(q->data, q->data + q->off, q->len - q->off);
      q->len -= q->off;
      q->off = 0;
    }
    size_t cap = q->cap ? q->cap : 4096;
    while (cap < q->len + n + 1)
      cap *= 2;
    char *d = realloc(q->data, cap);
    if (d == NULL)
      return -1;
    q->data = d;
    q->cap = cap;
  }
  if (n)
    memcpy(q->data + q->len, data, n);
  q->len += n;
  q->data[q->len] = '\0';
  return 0;
}

int
cab_byteq_sink(void *q, const char *data, size_t n)
{
  return cab_byteq_put(q, data, n);
}

size_t
cab_byteq_take(struct cab_byteq *q, char *buf, size_t max)
{
  size_t n = q->len - q->off;
  if (n > max)
    n = max;
  if (n == 0)
    return 0; /* nothing pending: DATA may still be NULL (memcpy's arguments must not be) */
  memcpy(buf, q->data + q->off, n);
  q->off += n;
  return n;
}

void
cab_byteq_reset(struct cab_byteq *q)
{
  q->len = q->off = 0;
}

void
cab_byteq_clear(struct cab_byteq *q)
{
  free(q->data);
  memset(q, 0, sizeof *q);
}
