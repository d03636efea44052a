/* A growable list of malloc'd strings: task.json's path lists, task ids, a
 * change list's .git directories, the scorers' path sets.  Once anything is
 * pushed, V is NULL-terminated (V[N] == NULL). */
#ifndef CAB_COMMON_STRV_H
#define CAB_COMMON_STRV_H

#include <stdbool.h>
#include <stddef.h>

struct cab_strv {
  char **v;
  size_t n, cap;
};

/* Append a copy of S (of its first LEN bytes).  Returns -1 (errno ENOMEM)
 * when memory runs out; the list is unchanged then. */
int cab_strv_push(struct cab_strv *l, const char *s);
int cab_strv_push_n(struct cab_strv *l, const char *s, size_t len);
/* The same, aborting when memory runs out: for the pure computations (the
 * scorers, the snapshot's diff) where a failed malloc is not a condition
 * to recover from. */
void cab_strv_xpush(struct cab_strv *l, const char *s);
void cab_strv_xpush_n(struct cab_strv *l, const char *s, size_t len);
bool cab_strv_contains(const struct cab_strv *l, const char *s);
/* S is one of the NULL-terminated LIST (a static table of names). */
bool cab_str_in_list(const char *s, const char *const *list);
/* Bytewise (strcmp), as Python's sorted() on str. */
void cab_strv_sort(struct cab_strv *l);
/* Free the strings and the array; L is empty again. */
void cab_strv_free(struct cab_strv *l);

#endif
