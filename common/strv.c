#include "common/strv.h"

#include <stdlib.h>
#include <string.h>

int
cab_strv_push_n(struct cab_strv *l, const char *s, size_t len)
{
  if (l->n + 2 > l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 8;
    char **v = realloc(l->v, cap * sizeof *v);
    if (v == NULL)
      return -1;
    l->v = v;
    l->cap = cap;
  }
  if ((l->v[l->n] = strndup(s, len)) == NULL)
    return -1;
  l->v[++l->n] = NULL;
  return 0;
}

int
cab_strv_push(struct cab_strv *l, const char *s)
{
  return cab_strv_push_n(l, s, strlen(s));
}

bool
cab_strv_contains(const struct cab_strv *l, const char *s)
{
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->v[i], s) == 0)
      return true;
  return false;
}

bool
cab_str_in_list(const char *s, const char *const *list)
{
  for (size_t i = 0; list[i]; i++)
    if (strcmp(s, list[i]) == 0)
      return true;
  return false;
}

static int
cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

void
cab_strv_sort(struct cab_strv *l)
{
  if (l->n > 1)
    qsort(l->v, l->n, sizeof *l->v, cmp_str);
}

void
cab_strv_free(struct cab_strv *l)
{
  for (size_t i = 0; i < l->n; i++)
    free(l->v[i]);
  free(l->v);
  l->v = NULL;
  l->n = l->cap = 0;
}

void
cab_strv_xpush_n(struct cab_strv *l, const char *s, size_t len)
{
  if (cab_strv_push_n(l, s, len) < 0)
    abort();
}

void
cab_strv_xpush(struct cab_strv *l, const char *s)
{
  cab_strv_xpush_n(l, s, strlen(s));
}
