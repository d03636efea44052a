#include "common/envlist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
cab_envlist_put(struct cab_envlist *e, const char *kv)
{
  const char *eq = strchr(kv, '=');
  if (eq == NULL || eq == kv)
    return -1;
  size_t klen = (size_t)(eq - kv);
  char *copy = strdup(kv);
  if (copy == NULL)
    return -1;
  for (size_t i = 0; i < e->n; i++)
    if (strncmp(e->v[i], kv, klen + 1) == 0) {
      free(e->v[i]);
      e->v[i] = copy;
      return 0;
    }
  if (e->n + 2 > e->cap) {
    size_t ncap = e->cap ? e->cap * 2 : 32;
    char **nv = realloc(e->v, ncap * sizeof *nv);
    if (nv == NULL) {
      free(copy);
      return -1;
    }
    e->v = nv;
    e->cap = ncap;
  }
  e->v[e->n++] = copy;
  e->v[e->n] = NULL;
  return 0;
}

int
cab_envlist_set(struct cab_envlist *e, const char *key, const char *value)
{
  char *kv;
  if (asprintf(&kv, "%s=%s", key, value) < 0)
    return -1;
  int rc = cab_envlist_put(e, kv);
  free(kv);
  return rc;
}

const char *
cab_envlist_get(const struct cab_envlist *e, const char *key)
{
  size_t klen = strlen(key);
  for (size_t i = 0; i < e->n; i++)
    if (strncmp(e->v[i], key, klen) == 0 && e->v[i][klen] == '=')
      return e->v[i] + klen + 1;
  return NULL;
}

void
cab_envlist_free(struct cab_envlist *e)
{
  for (size_t i = 0; i < e->n; i++)
    free(e->v[i]);
  free(e->v);
  e->v = NULL;
  e->n = e->cap = 0;
}
