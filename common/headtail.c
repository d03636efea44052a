#include "common/headtail.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"

void
cab_headtail_init(struct cab_headtail *h, size_t keep)
{
  memset(h, 0, sizeof *h);
  h->keep = keep;
}

int
cab_headtail_add(struct cab_headtail *h, const char *data, size_t len)
{
  h->total += len;
  if (h->head_len < h->keep) {
    size_t n = len < h->keep - h->head_len ? len : h->keep - h->head_len;
    if (h->head == NULL && (h->head = malloc(h->keep)) == NULL)
      return -1;
    memcpy(h->head + h->head_len, data, n);
    h->head_len += n;
    data += n;
    len -= n;
  }
  if (len == 0)
    return 0;
  if (h->ring == NULL && (h->ring = malloc(h->keep)) == NULL)
    return -1;
  if (len >= h->keep) {
    /* Only the last KEEP bytes of this chunk can survive. */
    memcpy(h->ring, data + len - h->keep, h->keep);
    h->ring_pos = 0;
    h->ring_len = h->keep;
    return 0;
  }
  size_t first = h->keep - h->ring_pos < len ? h->keep - h->ring_pos : len;
  memcpy(h->ring + h->ring_pos, data, first);
  memcpy(h->ring, data + first, len - first);
  h->ring_pos = (h->ring_pos + len) % h->keep;
  h->ring_len = h->ring_len + len > h->keep ? h->keep : h->ring_len + len;
  return 0;
}

uint64_t
cab_headtail_cut(const struct cab_headtail *h)
{
  return h->total - h->head_len - h->ring_len;
}

char *
cab_headtail_render(const struct cab_headtail *h, const char *name, size_t *len)
{
  char marker[300] = "";
  uint64_t cut = cab_headtail_cut(h);
  if (cut > 0) {
    char human[32], kept[32];
    cab_format_bytes((int64_t)cut, human, sizeof human);
    cab_format_bytes((int64_t)h->keep, kept, sizeof kept);
    snprintf(marker, sizeof marker,
             "\n[cab: %s: %llu bytes (%s) cut here; kept the first %s and the last %s]\n", name,
             (unsigned long long)cut, human, kept, kept);
  }
  size_t ml = strlen(marker);
  char *out = malloc(h->head_len + ml + h->ring_len + 1);
  if (out == NULL)
    return NULL;
  size_t o = 0;
  if (h->head_len)
    memcpy(out, h->head, h->head_len);
  o += h->head_len;
  memcpy(out + o, marker, ml);
  o += ml;
  if (h->ring_len) {
    /* The ring's oldest byte is at ring_pos once it has wrapped. */
    size_t start = h->ring_len < h->keep ? 0 : h->ring_pos;
    size_t first = h->ring_len < h->keep ? h->ring_len : h->keep - start;
    memcpy(out + o, h->ring + start, first);
    memcpy(out + o + first, h->ring, h->ring_len - first);
    o += h->ring_len;
  }
  out[o] = '\0';
  if (len)
    *len = o;
  return out;
}

void
cab_headtail_free(struct cab_headtail *h)
{
  free(h->head);
  free(h->ring);
  h->head = h->ring = NULL;
}
