/* Sharding by greedy longest-processing-time (runner/sweep/shard.h). */
#include "runner/sweep/shard.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

struct order {
  int64_t weight;
  const char *key;
  size_t index;
};

static int
heaviest_first(const void *a, const void *b)
{
  const struct order *x = a, *y = b;
  if (x->weight != y->weight)
    return x->weight > y->weight ? -1 : 1;
  return strcmp(x->key, y->key);
}

int
cab_sweep_shard(const struct cab_sweep_cell *cells, size_t n, unsigned nshards,
                unsigned *shard_of, int64_t *loads, cab_error *err)
{
  if (nshards == 0)
    return cab_error_set(err, 0, "shard: no shards");
  cleanup_free struct order *o = calloc(n ? n : 1, sizeof *o);
  cleanup_free int64_t *load = calloc(nshards, sizeof *load);
  if (o == NULL || load == NULL)
    return cab_error_sys(err, "shard %zu cells: memory", n);
  for (size_t i = 0; i < n; i++)
    o[i] = (struct order){cells[i].weight, cells[i].key, i};
  qsort(o, n, sizeof *o, heaviest_first);
  /* N is small next to the cell count in practice; a linear scan for the
   * least-loaded shard keeps ties simple (the lowest index wins). */
  for (size_t i = 0; i < n; i++) {
    unsigned best = 0;
    for (unsigned s = 1; s < nshards; s++)
      if (load[s] < load[best])
        best = s;
    shard_of[o[i].index] = best;
    load[best] += o[i].weight;
  }
  if (loads)
    memcpy(loads, load, nshards * sizeof *load);
  return 0;
}

int
cab_sweep_parse_shard(const char *text, unsigned *k, unsigned *n, cab_error *err)
{
  char *end = NULL;
  unsigned long a = strtoul(text, &end, 10);
  if (end == text || *end != '/' || text[0] == '-' || text[0] == '+')
    return cab_error_set(err, 0, "--shard %s: expected K/N, e.g. 1/4", text);
  const char *b_text = end + 1;
  unsigned long b = strtoul(b_text, &end, 10);
  if (end == b_text || *end != '\0' || b_text[0] == '-' || b_text[0] == '+' || b == 0 ||
      b > 100000 || a < 1 || a > b)
    return cab_error_set(err, 0, "--shard %s: expected K/N with 1 <= K <= N, e.g. 1/4", text);
  *k = (unsigned)a;
  *n = (unsigned)b;
  return 0;
}
