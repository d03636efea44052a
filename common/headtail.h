/* A capped capture: the first KEEP bytes and the last KEEP bytes of a
 * stream of any length, in at most 2*KEEP bytes of memory.  For every output
 * a hostile command controls (a verifier's stderr, an agent's terminal): the
 * start says what happened, the end how it ended, and a marker line says how
 * much was cut in between. */
#ifndef CAB_COMMON_HEADTAIL_H
#define CAB_COMMON_HEADTAIL_H

#include <stddef.h>
#include <stdint.h>

struct cab_headtail {
  size_t keep;
  char *head;
  size_t head_len;
  char *ring;           /* the tail, circular; allocated once the head is full */
  size_t ring_len, ring_pos;
  uint64_t total;       /* every byte ever added */
};

void cab_headtail_init(struct cab_headtail *h, size_t keep);
/* Returns -1 (ENOMEM) when a buffer could not be allocated; what was kept
 * stays consistent. */
int cab_headtail_add(struct cab_headtail *h, const char *data, size_t len);
/* Bytes dropped between the head and the tail. */
uint64_t cab_headtail_cut(const struct cab_headtail *h);
/* Head, then (when something was cut) a line "[cab: NAME: N bytes (X MiB)
 * cut here; kept the first K and the last K bytes]", then the tail, NUL-
 * terminated in a malloc'd buffer; *LEN gets its length.  NULL on ENOMEM. */
char *cab_headtail_render(const struct cab_headtail *h, const char *name, size_t *len);
void cab_headtail_free(struct cab_headtail *h);

#endif
