/* A set of paths (open addressing, FNV-1a): what the current layer wrote,
 * with every ancestor, so that its own whiteouts spare it (umoci's
 * upperPaths; image-spec: "files that are present in the same layer as a
 * whiteout file can only be hidden by whiteout files in subsequent
 * layers"). */
#include "rootfs/unpack_int.h"

#include <stdlib.h>
#include <string.h>

static uint64_t
hash_n(const char *s, size_t n)
{
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= 1099511628211ULL;
  }
  return h;
}

/* The slot holding S[0..N), or the empty slot where it would go. */
static size_t
find(char **slots, size_t cap, const char *s, size_t n)
{
  size_t i = (size_t)hash_n(s, n) & (cap - 1);
  while (slots[i] != NULL && !(strncmp(slots[i], s, n) == 0 && slots[i][n] == '\0'))
    i = (i + 1) & (cap - 1);
  return i;
}

static int
grow(struct cab_pathset *s)
{
  size_t cap = s->cap ? s->cap * 2 : 1024;
  char **slots = calloc(cap, sizeof *slots);
  if (slots == NULL)
    return -1;
  for (size_t i = 0; i < s->cap; i++)
    if (s->slots[i])
      slots[find(slots, cap, s->slots[i], strlen(s->slots[i]))] = s->slots[i];
  free(s->slots);
  s->slots = slots;
  s->cap = cap;
  return 0;
}

/* Insert PATH[0..N); 1 when added, 0 when present, -1 on ENOMEM. */
static int
insert(struct cab_pathset *s, const char *path, size_t n)
{
  if ((s->len + 1) * 2 > s->cap && grow(s) < 0)
    return -1;
  size_t i = find(s->slots, s->cap, path, n);
  if (s->slots[i] != NULL)
    return 0;
  s->slots[i] = strndup(path, n);
  if (s->slots[i] == NULL)
    return -1;
  s->len++;
  return 1;
}

int
cab_pathset_add(struct cab_pathset *s, const char *path)
{
  size_t n = strlen(path);
  while (n > 0) {
    int r = insert(s, path, n);
    if (r < 0)
      return -1;
    if (r == 0)
      return 0; /* present, so are its ancestors */
    while (n > 0 && path[n - 1] != '/')
      n--;
    if (n > 0)
      n--;
  }
  return 0;
}

int
cab_pathset_add_one(struct cab_pathset *s, const char *path)
{
  return insert(s, path, strlen(path)) < 0 ? -1 : 0;
}

bool
cab_pathset_has(const struct cab_pathset *s, const char *path)
{
  if (s->cap == 0)
    return false;
  return s->slots[find(s->slots, s->cap, path, strlen(path))] != NULL;
}

void
cab_pathset_clear(struct cab_pathset *s)
{
  for (size_t i = 0; i < s->cap; i++)
    free(s->slots[i]);
  free(s->slots);
  s->slots = NULL;
  s->cap = s->len = 0;
}
