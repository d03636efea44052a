/* A growable "K=V" environment list where a later setting of K replaces an
 * earlier one; NULL-terminated for execve. */
#ifndef CAB_COMMON_ENVLIST_H
#define CAB_COMMON_ENVLIST_H

#include <stddef.h>

struct cab_envlist {
  char **v;
  size_t n, cap;
};

/* Set "K=V" (copied).  Returns -1 on allocation failure or a missing '='. */
int cab_envlist_put(struct cab_envlist *e, const char *kv);
int cab_envlist_set(struct cab_envlist *e, const char *key, const char *value);
const char *cab_envlist_get(const struct cab_envlist *e, const char *key);
void cab_envlist_free(struct cab_envlist *e);

#endif
